//! Health checks raised by modules, in the shapes of `ceph health [detail]`.

use expect_test::expect;
use serde_json::json;

use crate::harness::guests::{HELLO, KVPROBE};
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
