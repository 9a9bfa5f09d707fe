//! What a module learns without being granted anything.

use std::time::{Duration, Instant};

use super::{caps, host, json_of};
use crate::harness::Modules;
use crate::harness::guests::{HELLO, INTRUDER};

/// Reading cluster data takes a `get:` grant, and "nothing that reaches outside the module"
/// is free. But a module that subscribes to the `clog` notification is handed every cluster
/// log entry as its notify id, with no grant and nothing in the ledger: the audit channel
/// included, which quotes every command an operator or another module runs on the cluster,
/// with its arguments.
#[test]
fn a_module_without_grants_does_not_hear_the_operators_cluster_commands() {
    let host = host(Modules::new(&[INTRUDER, HELLO]), true, true);
    assert_eq!(
        caps(&host, "intruder")["capabilities"],
        serde_json::json!([])
    );
    host.ok(&["osd", "pool", "create", "payroll-archive", "8"]);

    let started = Instant::now();
    let mut heard = Vec::new();
    while started.elapsed() < Duration::from_secs(3) {
        let entries = json_of(&host.ok(&["intruder", "heard"]));
        heard = entries
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e.as_str())
            .filter(|e| e.contains("payroll-archive"))
            .map(str::to_owned)
            .collect();
        if !heard.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        heard.is_empty(),
        "a module granted nothing heard the operator's command: {heard:#?}"
    );
}
