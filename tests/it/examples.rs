//! The example modules on the embedded snapshot: each answers, and `poolmgr` exercises both
//! forms of send_command (the snapshot takes no commands, so the reply is its refusal).

use std::time::Duration;

use serde_json::Value;

use crate::harness::guests::{IOSTAT, OSDWATCH, POOLMGR};
use crate::harness::{Host, wait_until};

#[test]
fn iostat_prints_the_cluster_io_rates() {
    let host = Host::start(&[IOSTAT]);
    let table = host.ok(&["iostat"]);
    assert!(table.starts_with('|') && table.contains("B/s"), "{table}");
    let reply = host.request(&["iostat"], Some("json"), "");
    let rates: Value = serde_json::from_str(&reply.stdout).unwrap();
    assert!(rates["total_op_per_sec"].is_u64(), "{rates}");
    assert_eq!(host.module_info("iostat")["commands"][0]["poll"], true);
}

#[test]
fn osdwatch_reports_no_osd_down_on_the_snapshot() {
    let host = Host::start(&[OSDWATCH]);
    let status: Value = serde_json::from_str(&host.ok(&["osdwatch", "status"])).unwrap();
    assert_eq!(status["down"], serde_json::json!([]), "{status}");
    assert_eq!(host.ok(&["health"]), "HEALTH_OK\n");
}

#[test]
fn a_command_sent_with_a_tag_comes_back_through_notify() {
    let host = Host::start(&[POOLMGR]);
    assert_eq!(host.ok(&["poolmgr", "create", "foo"]), "queued");
    // The reply arrives as notify(command, tag); poolmgr records it.
    let mut last = Value::Null;
    wait_until("poolmgr's reply", Duration::from_secs(10), || {
        let reply = host.run(&["poolmgr", "last"]);
        if reply.retval == 0 {
            last = serde_json::from_str(&reply.stdout).unwrap();
        }
        reply.retval == 0
    });
    assert_eq!(last["via"], "send", "{last}");
    assert_eq!(last["retval"], -95, "{last}");
    assert!(
        last["outs"].as_str().unwrap().contains("takes no commands"),
        "{last}"
    );
    // The blocking form answers in the call.
    let err = host.fails(&["poolmgr", "create-now", "foo"], 95);
    assert!(err.contains("takes no commands"), "{err}");
}
