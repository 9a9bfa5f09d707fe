//! Declarations: what a module declares in `describe` is bounded (arguments, goodchars,
//! options), checking it does not stall other modules, and a legal goodchars class checks a
//! huge argument quickly.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{assert_failed_naming, assert_hello_answers};
use crate::harness::Host;
use crate::harness::guests::{HELLO, ROGUE};

/// A liveness bound for one call: generous, for a loaded machine.
const ANSWERS_WITHIN: Duration = Duration::from_secs(5);

/// Load rogue with `script` on a thread of its own while `hello` is called; the enable's
/// retval.
fn load_while_hello_answers(host: &Host, script: &Value) -> i32 {
    host.set_script("rogue", script);
    let _ = host.run(&["module", "disable", "rogue"]);
    let (enable, latencies) = std::thread::scope(|s| {
        let enable = s.spawn(|| host.run(&["module", "enable", "rogue"]));
        let mut latencies = Vec::new();
        while !enable.is_finished() {
            let started = Instant::now();
            assert_hello_answers(host);
            latencies.push(started.elapsed());
            std::thread::sleep(Duration::from_millis(10));
        }
        (enable.join().unwrap(), latencies)
    });
    let slowest = latencies.iter().max().copied().unwrap_or_default();
    eprintln!(
        "hello answered {} times while rogue loaded, the slowest in {slowest:?}",
        latencies.len()
    );
    assert!(
        slowest < ANSWERS_WITHIN,
        "hello took {slowest:?} while rogue loaded"
    );
    enable.retval
}

#[test]
fn a_command_of_forty_thousand_arguments_fails_to_load_without_stalling_other_modules() {
    let host = Host::start(&[ROGUE, HELLO]);
    let script = json!({"commands": [{"prefix": "rogue echo", "extra_args": 40_000}]});
    let retval = load_while_hello_answers(&host, &script);
    assert_ne!(retval, 0);
    assert_failed_naming(&host, "rogue", "arguments");
    assert_hello_answers(&host);
}

#[test]
fn goodchars_of_100_kib_fail_to_load() {
    let host = Host::start(&[ROGUE, HELLO]);
    let script = json!({"commands": [{
        "prefix": "rogue check",
        "action": "echo",
        "args": [{"name": "word", "type": "str", "goodchars": {"repeat": "a", "times": 100 << 10}}],
    }]});
    let retval = load_while_hello_answers(&host, &script);
    assert_ne!(retval, 0);
    assert_failed_naming(&host, "rogue", "goodchars");
    assert_hello_answers(&host);
}

#[test]
fn twenty_thousand_options_fail_to_load() {
    let host = Host::start(&[ROGUE, HELLO]);
    let retval = load_while_hello_answers(&host, &json!({"extra_options": 20_000}));
    assert_ne!(retval, 0);
    assert_failed_naming(&host, "rogue", "options");
    assert_hello_answers(&host);
}

#[test]
fn goodchars_check_a_mebibyte_argument_quickly() {
    let host = Host::start(&[ROGUE, HELLO]);
    let script = json!({"commands": [{
        "prefix": "rogue check",
        "action": "echo",
        "args": [{"name": "word", "type": "str", "goodchars": "[A-Za-z0-9]"}],
    }]});
    let enable = host.load_script("rogue", &script);
    assert_eq!(enable.retval, 0, "{enable:#?}");

    let good = "a".repeat(1 << 20);
    let bad = format!("{good}!");
    let started = Instant::now();
    host.fails(&["rogue", "check", &bad], 22);
    let refused = started.elapsed();
    let started = Instant::now();
    host.ok(&["rogue", "check", &good]);
    let accepted = started.elapsed();
    eprintln!("a 1 MiB argument: refused in {refused:?}, accepted in {accepted:?}");
    assert!(refused < ANSWERS_WITHIN, "refusing took {refused:?}");
    assert!(accepted < ANSWERS_WITHIN, "accepting took {accepted:?}");
    assert_hello_answers(&host);
}
