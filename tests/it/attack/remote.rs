//! Module-to-module calls: the caller's `remote:MODULE.METHOD` and the target's
//! `expose:METHOD`, with names stretched every way the check might not expect.

use super::{host, json_of, run};
use crate::harness::guests::{HELLO, INTRUDER, PONGER};
use crate::harness::{Host, Modules};

fn served(host: &Host) -> u64 {
    json_of(&host.ok(&["ponger", "stats"]))["served"]
        .as_u64()
        .unwrap()
}

/// Granted `remote:ponger.ping` only, the intruder reaches `ping` and nothing else: not
/// `relay` (which would call anything on ponger's grants, the confused deputy), not by
/// moving the dot between module and method, by case, by trailing bytes, by look-alike
/// letters or by a long name.
#[test]
fn a_remote_grant_for_one_method_reaches_that_method_only() {
    let host = host(
        Modules::new(&[INTRUDER, PONGER, HELLO])
            .manifest(INTRUDER, "[requests]\nremote = [\"ponger.ping\"]\n"),
        false,
        true,
    );
    host.ok(&["intruder", "remote", "ponger", "ping"]);
    assert_eq!(served(&host), 1);
    let long = "p".repeat(65);
    for (module, method) in [
        ("ponger", "relay"),
        ("ponger", "fail"),
        ("ponger.ping", ""),
        ("ponger.ping", "relay"),
        ("pong", "er.ping"),
        ("ponger", "ping.relay"),
        ("ponger", "ping "),
        ("ponger", "PING"),
        ("ponger", "p\u{131}ng"),
        ("ponger", "ping\u{0}"),
        ("Ponger", "ping"),
        ("ponger", ""),
        ("", "ponger.ping"),
        ("ponger", long.as_str()),
        ("intruder", "ping"),
    ] {
        let reply = run(&host, &["intruder", "remote", module, method]);
        assert_ne!(reply.retval, 0, "{module:?}.{method:?}: {reply:#?}");
    }
    assert_eq!(served(&host), 1, "a refused call reached ponger");
}

/// The target answers only the methods it was granted to expose: granted `remote:ponger.*`,
/// the intruder still cannot call `relay` when ponger holds no `expose:relay`.
#[test]
fn the_target_answers_only_methods_granted_to_it_to_expose() {
    let host = host(
        Modules::new(&[INTRUDER, PONGER, HELLO])
            .manifest(INTRUDER, "[requests]\nremote = [\"ponger.*\"]\n")
            .manifest(
                PONGER,
                "[requests]\nremote = [\"*\"]\n[optional]\nexpose = [\"ping\", \"fail\", \"relay\"]\n",
            ),
        false,
        false,
    );
    host.ok(&["module", "grant", "intruder", "remote:ponger.*"]);
    host.ok(&["module", "grant", "ponger", "remote:*", "expose:ping"]);
    host.ok(&["intruder", "remote", "ponger", "ping"]);
    let relay = run(&host, &["intruder", "remote", "ponger", "relay"]);
    assert_ne!(relay.retval, 0, "{relay:#?}");
    assert!(relay.stderr.contains("access denied"), "{relay:#?}");
    assert_eq!(served(&host), 1);
    // Revoked while running: the next call is refused at once.
    host.ok(&["module", "revoke", "ponger", "expose:ping"]);
    let ping = run(&host, &["intruder", "remote", "ponger", "ping"]);
    assert_ne!(ping.retval, 0, "{ping:#?}");
    assert_eq!(served(&host), 1);
}
