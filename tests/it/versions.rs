//! WIT evolution: a component built against wasmgr:mgr@0.1.0 loads and answers next to modules
//! built against the current version.

use crate::harness::Host;
use crate::harness::guests::{HELLO, LEGACY, PINGER, PONGER};

#[test]
fn a_component_built_against_0_1_0_answers_beside_current_ones() {
    let host = Host::start(&[LEGACY, HELLO, PINGER, PONGER]);
    assert_eq!(host.module_row("legacy")["state"], "running");
    assert_eq!(host.ok(&["legacy", "hello"]), "hello from 0.1.0");
    assert_eq!(host.ok(&["hello"]), "Hello, world!");
    assert_eq!(
        host.ok(&["pinger", "ping", "ponger"]),
        r#"{"pong":["pinger"]}"#
    );
    // It serves no remote methods and has no ticks: it lacks those exports.
    let err = host.fails(&["pinger", "ping", "legacy"], 38);
    assert!(
        err.contains("has no remote method 'ping'; it serves: none"),
        "{err}"
    );
}
