//! The simulated cluster behind the daemon: `status` as `ceph -s`, the cluster's commands with
//! real effects, and its changes reaching the modules subscribed to them, and only those.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use wasmgr_runtime::cluster::SimSource;

use crate::harness::guests::{COUNTER, HELLO, KVPROBE, OSDWATCH, POOLMGR};
use crate::harness::{Daemon, DaemonOptions, Host, Modules, wait_until};

/// A small simulated cluster with no spontaneous failures.
const SIM: &str = "sim:osds=6,seed=3,pace=200,failures=0,downtime=5";

fn daemon(guests: &[&str]) -> Daemon {
    Daemon::with(
        Modules::new(guests),
        DaemonOptions {
            args: vec!["--cluster".into(), SIM.into()],
            ..DaemonOptions::default()
        },
    )
}

#[test]
fn status_looks_like_ceph_s_on_the_simulated_cluster() {
    let daemon = daemon(&[HELLO]);
    let status = daemon.ok(&["status"]);
    for part in [
        "  cluster:",
        "    health: ",
        "  services:",
        "    osd: 6 osds: 6 up",
        "  data:",
        "    pools:",
        "    pgs:",
        "  wasmgr:",
    ] {
        assert!(status.contains(part), "no {part:?} in:\n{status}");
    }
    let json = daemon.run(&["status", "-f", "json"]).json();
    assert!(json["fsid"].is_string(), "{json}");
    assert_eq!(json["osdmap"]["num_osds"], 6, "{json}");
    assert!(json["health"]["status"].is_string(), "{json}");
}

#[test]
fn an_osd_marked_down_raises_the_example_check_within_two_seconds_and_it_clears() {
    let daemon = daemon(&[OSDWATCH, HELLO]);
    assert!(
        !daemon
            .ok(&["health", "detail"])
            .contains("OSDWATCH_OSD_DOWN")
    );
    daemon.ok(&["osd", "down", "1"]);
    let marked = Instant::now();
    wait_until("osdwatch's check", Duration::from_secs(2), || {
        daemon
            .ok(&["health", "detail"])
            .contains("OSDWATCH_OSD_DOWN")
    });
    eprintln!(
        "osdwatch raised its check {:?} after osd down",
        marked.elapsed()
    );
    let detail = daemon.ok(&["health", "detail"]);
    assert!(detail.contains("osd.1 is down"), "{detail}");
    assert!(detail.contains("[WRN] OSD_DOWN: 1 osds down"), "{detail}");
    // The OSD comes back by itself (as a real one re-asserts itself), and the check clears.
    wait_until("osd.1 back up", Duration::from_secs(60), || {
        !daemon
            .ok(&["health", "detail"])
            .contains("OSDWATCH_OSD_DOWN")
    });
    assert!(daemon.ok(&["log", "last", "50"]).contains("osd.1"));
}

#[test]
fn a_pool_created_by_the_cli_or_by_a_module_appears_in_the_maps() {
    let daemon = daemon(&[POOLMGR, KVPROBE, HELLO]);
    assert_eq!(daemon.ok(&["osd", "pool", "create", "foo", "16"]), "");
    // Both forms of send_command.
    assert_eq!(daemon.ok(&["poolmgr", "create", "bar"]), "queued\n");
    daemon.ok(&["poolmgr", "create-now", "baz"]);
    wait_until("bar's reply", Duration::from_secs(10), || {
        daemon.run(&["poolmgr", "last"]).code == 0
    });
    let pools = daemon.ok(&["osd", "pool", "ls"]);
    for pool in ["foo", "bar", "baz"] {
        assert!(pools.lines().any(|l| l == pool), "no {pool} in {pools}");
    }
    // The mon's view, and what modules read: get("osd_map") and get("osd_pool_stats").
    let views = [
        (
            "osd dump",
            daemon.run(&["osd", "dump", "-f", "json"]).json(),
            "pools",
        ),
        (
            "get(osd_map)",
            daemon.run(&["kvprobe", "get_data", "osd_map"]).json(),
            "pools",
        ),
        (
            "get(osd_pool_stats)",
            daemon
                .run(&["kvprobe", "get_data", "osd_pool_stats"])
                .json(),
            "pool_stats",
        ),
    ];
    for (what, doc, key) in &views {
        let names: Vec<&str> = doc[*key]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["pool_name"].as_str())
            .collect();
        for pool in ["foo", "bar", "baz"] {
            assert!(names.contains(&pool), "no {pool} in {what}: {names:?}");
        }
    }
    // A wrong argument type is the mon's EINVAL, caught before the cluster sees it.
    daemon
        .run(&["osd", "pool", "create", "qux", "many"])
        .fails(22);
}

#[test]
fn a_module_gets_only_the_notifies_it_subscribed_to() {
    let source = Arc::new(SimSource::from_config("osds=6,seed=5,pace=3600000").unwrap());
    let cluster = source.clone();
    let host = Host::configured(Modules::new(&[COUNTER, HELLO]), move |c| {
        c.cluster = cluster
    });
    let hello_calls = host.stat("hello", "calls");
    // Drive the cluster by hand: osd maps and pg summaries change, the log grows.
    host.ok(&["osd", "down", "2"]);
    for _ in 0..30 {
        source.step(Duration::from_secs(10));
    }
    wait_until(
        "counter's osd_map notifies",
        Duration::from_secs(10),
        || {
            let seen: Value = serde_json::from_str(&host.ok(&["counter", "seen"])).unwrap();
            seen["NotifyKind::OsdMap"].as_u64().unwrap_or(0) > 0
        },
    );
    let seen: Value = serde_json::from_str(&host.ok(&["counter", "seen"])).unwrap();
    let kinds: Vec<&String> = seen.as_object().unwrap().keys().collect();
    assert_eq!(
        kinds,
        ["NotifyKind::OsdMap"],
        "counter got other kinds: {seen}"
    );
    assert_eq!(
        host.module_info("counter")["notify"],
        serde_json::json!(["osd_map"])
    );
    // hello subscribes to nothing: it was not called at all meanwhile.
    assert_eq!(host.stat("hello", "calls"), hello_calls);
}

/// The embedded snapshot, but with cluster commands that take `delay` to answer.
struct SlowCluster {
    inner: wasmgr_runtime::cluster::SnapshotSource,
    delay: Duration,
}

impl wasmgr_runtime::cluster::ClusterSource for SlowCluster {
    fn get(&self, n: &str) -> Result<String, wasmgr_runtime::cluster::SourceError> {
        self.inner.get(n)
    }
    fn get_server(&self, h: &str) -> Result<String, wasmgr_runtime::cluster::SourceError> {
        self.inner.get_server(h)
    }
    fn list_servers(&self) -> Result<String, wasmgr_runtime::cluster::SourceError> {
        self.inner.list_servers()
    }
    fn get_metadata(
        &self,
        t: &str,
        i: &str,
    ) -> Result<Option<String>, wasmgr_runtime::cluster::SourceError> {
        self.inner.get_metadata(t, i)
    }
    fn get_daemon_status(
        &self,
        t: &str,
        i: &str,
    ) -> Result<Option<String>, wasmgr_runtime::cluster::SourceError> {
        self.inner.get_daemon_status(t, i)
    }
    fn get_perf_schema(
        &self,
        t: &str,
        i: &str,
    ) -> Result<String, wasmgr_runtime::cluster::SourceError> {
        self.inner.get_perf_schema(t, i)
    }
    fn get_counter(
        &self,
        t: &str,
        i: &str,
        p: &str,
    ) -> Result<String, wasmgr_runtime::cluster::SourceError> {
        self.inner.get_counter(t, i, p)
    }
    fn get_latest(
        &self,
        t: &str,
        i: &str,
        p: &str,
    ) -> Result<String, wasmgr_runtime::cluster::SourceError> {
        self.inner.get_latest(t, i, p)
    }
    fn mgr_id(&self) -> String {
        self.inner.mgr_id()
    }
    fn ceph_option(&self, k: &str) -> Result<String, wasmgr_runtime::cluster::SourceError> {
        self.inner.ceph_option(k)
    }
    fn version(&self) -> (String, String) {
        self.inner.version()
    }
    fn have_mon_connection(&self) -> bool {
        true
    }
    fn describe(&self) -> String {
        "slow".into()
    }
    fn command(
        &self,
        _t: &str,
        _i: &str,
        _c: &str,
        _b: &str,
    ) -> wasmgr_runtime::cluster::CommandOutput {
        std::thread::sleep(self.delay);
        wasmgr_runtime::cluster::CommandOutput {
            retval: 0,
            outb: String::new(),
            outs: "done".into(),
        }
    }
}

#[test]
fn a_blocking_send_command_times_out_cleanly() {
    let slow = Arc::new(SlowCluster {
        inner: wasmgr_runtime::cluster::SnapshotSource::embedded(),
        delay: Duration::from_millis(400),
    });
    let host = Host::configured(Modules::new(&[POOLMGR, HELLO]), move |c| c.cluster = slow);
    let started = Instant::now();
    // Waits at most 50 ms for a command that takes 400 ms.
    let err = host.fails(&["poolmgr", "create-now", "foo", "16", "50"], 110);
    let elapsed = started.elapsed();
    assert!(err.contains("no reply within 50 ms"), "{err}");
    assert!(
        elapsed < Duration::from_millis(400),
        "it waited {elapsed:?}"
    );
    // A longer wait gets the reply; the module kept answering.
    host.ok(&["poolmgr", "create-now", "foo", "16", "900"]);
    assert_eq!(host.ok(&["hello"]), "Hello, world!");
}

#[test]
fn hostile_cluster_commands_are_refused_and_leave_the_cluster_answering() {
    let daemon = daemon(&[HELLO]);
    // A name whose width would once panic the table renderer.
    let name = "p".repeat(70_000);
    let err = daemon.run(&["osd", "pool", "create", &name, "1"]).fails(22);
    assert!(err.contains("pool names are at most 256 bytes"), "{err}");
    assert!(daemon.ok(&["df"]).contains("RAW STORAGE"));
    // A log entry with a newline stays one line in `log last`.
    daemon.ok(&["log", "first\nFAKE forged line"]);
    let last = daemon.ok(&["log", "last", "5"]);
    assert!(!last.lines().any(|l| l.starts_with("FAKE")), "{last}");
    assert!(last.contains("first\\nFAKE forged line"), "{last}");
    assert_eq!(daemon.ok(&["hello"]), "Hello, world!\n");
}
