//! Health checks raised by modules, in the shapes of `ceph health [detail]`.

use expect_test::expect;
use serde_json::json;

use crate::harness::guests::{HELLO, KVPROBE, ROGUE};
use crate::harness::{Daemon, Host};

#[test]
fn a_module_health_check_shows_in_health_detail_in_cephs_shape() {
    let daemon = Daemon::start(&[KVPROBE, HELLO]);
    assert_eq!(daemon.ok(&["health"]), "HEALTH_OK\n");
    daemon.ok(&["kvprobe", "health", "set", "MY_CHECK", "something is off"]);

    assert_eq!(
        daemon.run(&["health", "detail", "-f", "json"]).json(),
        json!({
            "status": "HEALTH_WARN",
            "checks": {
                "MY_CHECK": {
                    "severity": "HEALTH_WARN",
                    "summary": {"message": "something is off", "count": 1},
                    "detail": [{"message": "raised by kvprobe"}],
                    "muted": false,
                    "modules": ["kvprobe"]
                }
            },
            "mutes": []
        })
    );
    // Without detail, there are no detail lines.
    assert_eq!(
        daemon.run(&["health", "-f", "json"]).json()["checks"]["MY_CHECK"],
        json!({
            "severity": "HEALTH_WARN",
            "summary": {"message": "something is off", "count": 1},
            "muted": false,
            "modules": ["kvprobe"]
        })
    );
    expect![[r#"
        HEALTH_WARN something is off
        [WRN] MY_CHECK (module kvprobe): something is off
            raised by kvprobe
    "#]]
    .assert_eq(&daemon.ok(&["health", "detail"]));
    assert_eq!(daemon.ok(&["health"]), "HEALTH_WARN something is off\n");
    assert_eq!(
        daemon.run(&["status", "-f", "json"]).json()["health"],
        "HEALTH_WARN"
    );

    daemon.ok(&["kvprobe", "health", "clear"]);
    assert_eq!(daemon.ok(&["health"]), "HEALTH_OK\n");
    assert_eq!(
        daemon.run(&["health", "detail", "-f", "json"]).json(),
        json!({"status": "HEALTH_OK", "checks": {}, "mutes": []})
    );
}

#[test]
fn disabling_a_module_removes_its_health_checks() {
    let host = Host::start(&[KVPROBE]);
    host.ok(&["kvprobe", "health", "set", "MY_CHECK", "something"]);
    assert_eq!(host.manager.health_status(), "HEALTH_WARN");
    host.ok(&["module", "disable", "kvprobe"]);
    assert_eq!(host.ok(&["health"]), "HEALTH_OK\n");
    // Enabling it again does not bring them back: the module raises them again if it must.
    host.ok(&["module", "enable", "kvprobe"]);
    assert_eq!(host.ok(&["health"]), "HEALTH_OK\n");
}

#[test]
fn a_module_that_cannot_run_is_a_dependency_warning_not_an_error() {
    let host = Host::start(&[ROGUE, HELLO]);
    let reply = host.load_script(
        "rogue",
        &serde_json::json!({"name": "rogue", "can_run": false, "error_string": "needs the foo library"}),
    );
    assert_eq!(reply.retval, -95, "{reply:#?}");
    let health = host.request(&["health", "detail"], Some("json"), "");
    let health: serde_json::Value = serde_json::from_str(&health.stdout).unwrap();
    assert_eq!(health["status"], "HEALTH_WARN", "{health}");
    let check = &health["checks"]["MGR_MODULE_DEPENDENCY"];
    assert_eq!(
        check["summary"]["message"], "Module 'rogue' has failed dependency: needs the foo library",
        "{health}"
    );
    assert!(health["checks"]["MGR_MODULE_ERROR"].is_null(), "{health}");
}
