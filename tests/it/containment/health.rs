//! Health checks: a module cannot make the health board huge, overflow its counts, raise the
//! host's own checks, or pass its checks off as someone else's.

use serde_json::{Value, json};

use super::assert_hello_answers_daemon;
use crate::harness::guests::{HELLO, ROGUE};
use crate::harness::{Daemon, DaemonOptions, Host, Modules};

const MIB: usize = 1 << 20;

/// `<module> health` with `checks` as the input file, through the daemon's CLI.
fn raise(daemon: &Daemon, module: &str, checks: &Value) -> crate::harness::Out {
    daemon.run_with_stdin(&[module, "health", "-i", "-"], Some(&checks.to_string()))
}

/// A check with a 20 MiB summary.
fn huge_summary() -> Value {
    json!([{
        "code": "ROGUE_BIG",
        "severity": "warning",
        "summary": {"repeat": "x", "times": 20 * MIB},
        "count": 1,
    }])
}

/// A check with 100,000 detail lines.
fn many_details() -> Value {
    json!([{
        "code": "ROGUE_LINES",
        "severity": "error",
        "summary": "many lines",
        "count": 1,
        "detail": ["a detail line"],
        "detail_times": 100_000,
    }])
}

#[test]
fn a_health_check_with_a_huge_summary_is_refused() {
    let host = Host::start(&[ROGUE, HELLO]);
    let reply = host.request(&["rogue", "health"], None, &huge_summary().to_string());
    assert_eq!(reply.retval, -7, "{}", reply.stderr);
    assert_eq!(host.ok(&["health"]), "HEALTH_OK\n");
    super::assert_hello_answers(&host);
}

#[test]
fn a_health_check_with_a_hundred_thousand_detail_lines_is_refused() {
    let host = Host::start(&[ROGUE, HELLO]);
    let reply = host.request(&["rogue", "health"], None, &many_details().to_string());
    assert_eq!(reply.retval, -7, "{}", reply.stderr);
    assert_eq!(host.ok(&["health"]), "HEALTH_OK\n");
}

#[test]
fn the_hosts_module_error_code_is_reserved() {
    let host = Host::start(&[ROGUE, HELLO]);
    let checks = json!([{
        "code": "MGR_MODULE_ERROR",
        "severity": "error",
        "summary": "Module 'hello' has failed: it was framed",
        "count": 1,
    }]);
    let reply = host.request(&["rogue", "health"], None, &checks.to_string());
    assert_eq!(reply.retval, -22, "{reply:#?}");
    assert!(reply.stderr.contains("reserved"), "{}", reply.stderr);
    assert_eq!(host.ok(&["health"]), "HEALTH_OK\n");
}

#[test]
fn counts_at_u64_max_do_not_break_health_or_status() {
    let daemon = Daemon::with(
        Modules::new(&[ROGUE, HELLO]).named(ROGUE, "rogue2"),
        DaemonOptions::default(),
    );
    daemon
        .load_script("rogue2", &json!({"name": "rogue2"}))
        .ok();
    let check = |count: u64| json!({"code": "ROGUE_COUNT", "severity": "warning", "summary": "counted", "count": count});
    // Two checks of one module whose counts add up past u64::MAX (the host may refuse the
    // duplicate code; either way it must keep answering).
    let out = raise(&daemon, "rogue", &json!([check(u64::MAX), check(1)]));
    eprintln!("two checks of one module: exit {} {}", out.code, out.stderr);
    for words in [&["health"][..], &["health", "detail"], &["status"]] {
        daemon.run(words).ok();
        daemon.run(&[words, &["-f", "json"][..]].concat()).ok();
    }
    // Two modules raising the same code with count u64::MAX: the second is refused (the code
    // is rogue's), so nothing adds up past u64::MAX.
    raise(&daemon, "rogue", &json!([check(u64::MAX)])).ok();
    raise(&daemon, "rogue2", &json!([check(u64::MAX)])).fails(17);
    let counted = daemon.run(&["health", "detail", "-f", "json"]).json();
    assert_eq!(
        counted["checks"]["ROGUE_COUNT"]["summary"]["count"],
        u64::MAX
    );
    for words in [&["health"][..], &["health", "detail"], &["status"]] {
        daemon.run(words).ok();
        daemon.run(&[words, &["-f", "json"][..]].concat()).ok();
    }
    assert_hello_answers_daemon(&daemon);
}

#[test]
fn health_detail_stays_small_and_shows_whose_check_it_is() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    raise(&daemon, "rogue", &huge_summary()).fails(7);
    raise(&daemon, "rogue", &many_details()).fails(7);
    // The most a module may raise at once: many checks of many long detail lines. The host
    // may refuse it or cut it; `health detail` stays small either way.
    let most: Vec<Value> = (0..64)
        .map(|i| {
            json!({
                "code": format!("ROGUE_MANY_{i}"),
                "severity": "warning",
                "summary": {"repeat": "s", "times": 4096},
                "count": 1,
                "detail": [{"repeat": "d", "times": 4096}],
                "detail_times": 256,
            })
        })
        .collect();
    let out = raise(&daemon, "rogue", &Value::Array(most));
    eprintln!(
        "the largest set of checks: exit {} {}",
        out.code, out.stderr
    );
    for words in [
        &["health", "detail"][..],
        &["health", "detail", "-f", "json"],
    ] {
        let detail = daemon.ok(words);
        assert!(
            detail.len() < MIB,
            "{words:?} printed {} bytes",
            detail.len()
        );
    }

    // A check that says nothing of its origin is shown as rogue's.
    let checks = json!([{
        "code": "OSD_FULL",
        "severity": "error",
        "summary": "1 full osd(s)",
        "count": 1,
        "detail": ["osd.0 is full"],
    }]);
    raise(&daemon, "rogue", &checks).ok();
    let detail = daemon.ok(&["health", "detail"]);
    assert!(
        detail.len() < MIB,
        "health detail printed {} bytes",
        detail.len()
    );
    assert!(detail.contains("OSD_FULL"), "{detail}");
    assert!(
        detail.contains("rogue"),
        "the check is not shown as rogue's:\n{detail}"
    );
    assert_hello_answers_daemon(&daemon);
}

#[test]
fn a_module_cannot_take_over_another_modules_health_check_code() {
    let host = Host::with(Modules::new(&[ROGUE, HELLO]).named(ROGUE, "aaa"));
    let enable = host.load_script("aaa", &json!({"name": "aaa"}));
    assert_eq!(enable.retval, 0, "{enable:#?}");
    let disk_full = |summary: &str, count: u64| {
        json!([{
            "code": "ROGUE_DISK_FULL",
            "severity": "error",
            "summary": summary,
            "count": count,
        }])
        .to_string()
    };
    let reply = host.request(&["rogue", "health"], None, &disk_full("disk 99% full", 1));
    assert_eq!(reply.retval, 0, "{reply:#?}");

    // `aaa` sorts before `rogue`: merged by code, its summary would have been the one shown.
    let reply = host.request(&["aaa", "health"], None, &disk_full("disk fine", 1000));
    assert_eq!(reply.retval, -17, "{reply:#?}");
    assert!(
        reply.stderr.contains("module 'rogue'"),
        "the refusal does not name the code's module: {}",
        reply.stderr
    );

    let detail = host.request(&["health", "detail"], Some("json"), "");
    assert_eq!(detail.retval, 0, "{detail:#?}");
    let detail: Value = serde_json::from_str(&detail.stdout).unwrap();
    assert_eq!(
        detail["checks"]["ROGUE_DISK_FULL"],
        json!({
            "severity": "HEALTH_ERR",
            "summary": {"message": "disk 99% full", "count": 1},
            "detail": [],
            "muted": false,
            "modules": ["rogue"],
        }),
        "{detail}"
    );
    let plain = host.ok(&["health", "detail"]);
    assert!(
        plain.contains("[ERR] ROGUE_DISK_FULL (module rogue): disk 99% full")
            && !plain.contains("disk fine"),
        "{plain}"
    );
    super::assert_hello_answers(&host);
}
