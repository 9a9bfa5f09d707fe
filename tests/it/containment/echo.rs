//! Echoed input: an error about a huge name (a data name, an option, a command word) does not
//! repeat it whole.

use serde_json::json;

use super::json_of;
use crate::harness::guests::{HELLO, ROGUE};
use crate::harness::{Daemon, Host};

const KIB: usize = 1 << 10;

/// The start of a long message, for a failure report.
fn head(text: &str) -> String {
    text.chars().take(200).collect()
}

#[test]
fn a_cluster_get_of_a_huge_name_answers_a_short_error() {
    let host = Host::start(&[ROGUE, HELLO]);
    let name = json!({"name": {"repeat": "a", "times": 20 << 20}});
    let reply = host.request(&["rogue", "get"], None, &name.to_string());
    assert_eq!(reply.retval, 0, "{reply:#?}");
    let out = json_of(&reply.stdout);
    assert_eq!(out["errno"], 2, "{out}");
    let bytes = out["message_bytes"].as_u64().unwrap();
    assert!(bytes < KIB as u64, "a message of {bytes} bytes: {out}");
}

#[test]
fn a_config_get_of_a_huge_option_name_answers_a_short_error() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    let key = format!("mgr/rogue/{}", "o".repeat(20 * KIB));
    let out = daemon.run(&["config", "get", &key]);
    assert_ne!(out.code, 0, "{out:#?}");
    assert!(
        out.stderr.len() < KIB,
        "an error of {} bytes: {}…",
        out.stderr.len(),
        head(&out.stderr)
    );
}

/// In-process: one argument of the CLI may not be 1 MiB long (Linux's `MAX_ARG_STRLEN` is
/// 128 KiB), but a client of the admin API can send one.
#[test]
fn a_command_with_a_huge_unknown_word_answers_a_short_error() {
    let host = Host::start(&[ROGUE, HELLO]);
    let word = "w".repeat(1 << 20);
    let reply = host.run(&[&word]);
    assert_eq!(reply.retval, -22, "retval {}", reply.retval);
    assert!(
        reply.stderr.len() < KIB,
        "an error of {} bytes: {}…",
        reply.stderr.len(),
        head(&reply.stderr)
    );
    let reply = host.run(&["rogue", &word]);
    assert!(reply.retval < 0, "retval {}", reply.retval);
    assert!(
        reply.stderr.len() < KIB,
        "an error of {} bytes: {}…",
        reply.stderr.len(),
        head(&reply.stderr)
    );
}
