//! How the simulated cluster changes: by itself over time, and under the cluster's commands.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use wasmgr_sim::{Clock, Event, NotifyKind, Priority, Settings, Sim};

fn sim(config: &str) -> Sim {
    Sim::new(Settings::parse(config).unwrap())
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn cmd(sim: &Sim, c: &str) -> wasmgr_sim::CommandReply {
    sim.handle_command(c, b"")
}

fn kinds(events: &[Event]) -> Vec<NotifyKind> {
    events.iter().map(|e| e.kind).collect()
}

fn codes(sim: &Sim) -> Vec<String> {
    sim.health_checks().into_iter().map(|c| c.code).collect()
}

#[test]
fn same_seed_same_cluster_and_history() {
    let run = |seed: u64| {
        let s = sim(&format!("osds=40,seed={seed},failures=60"));
        let mut events = Vec::new();
        for i in 0..40 {
            events.extend(s.step(Duration::from_millis(7_300)));
            if i == 10 {
                events.extend(cmd(&s, r#"{"prefix": "osd out", "ids": ["3"]}"#).events);
            }
            if i == 20 {
                events.extend(
                    cmd(
                        &s,
                        r#"{"prefix": "osd pool create", "pool": "p", "pg_num": 16}"#,
                    )
                    .events,
                );
            }
        }
        let docs: Vec<String> = [
            "osd_map",
            "pg_dump",
            "health",
            "df",
            "pg_summary",
            "mon_status",
        ]
        .iter()
        .map(|n| s.get(n).unwrap().to_string())
        .collect();
        (events, docs, s.epochs())
    };
    let (e1, d1, x1) = run(5);
    let (e2, d2, x2) = run(5);
    assert_eq!(x1, x2);
    assert_eq!(e1, e2);
    assert_eq!(d1, d2);
    let (e3, d3, _) = run(6);
    assert_ne!(d1, d3, "another seed makes another cluster");
    assert_ne!(e1, e3);
}

#[test]
fn marking_an_osd_out_moves_only_the_pgs_that_had_it() {
    let s = sim("osds=100,seed=3,failures=0");
    let before = s.pg_up_sets();
    let epoch = s.epochs()[0];
    let reply = cmd(&s, r#"{"prefix": "osd out", "ids": ["osd.17"]}"#);
    assert_eq!(
        (reply.retval, reply.stderr.as_str()),
        (0, "marked out osd.17. ")
    );
    assert!(kinds(&reply.events).contains(&NotifyKind::OsdMap));
    assert_eq!(s.epochs()[0], epoch + 1);
    let after = s.pg_up_sets();
    let mut moved = 0;
    for (pg, old) in &before {
        let new = &after[pg];
        if old.contains(&17) {
            assert!(!new.contains(&17), "{pg} still on osd.17: {new:?}");
            moved += 1;
        } else {
            assert_eq!(old, new, "{pg} moved without having osd.17");
        }
    }
    assert!(moved > 20, "osd.17 had {moved} PGs");
    // Its data moves: PGs backfill, then everything is clean again; osd.17 holds nothing.
    s.step(Duration::from_secs(3));
    assert!(
        codes(&s).contains(&"OBJECT_MISPLACED".to_owned()),
        "{:?}",
        codes(&s)
    );
    s.step(Duration::from_secs(3600));
    assert!(s.check_invariants().is_empty());
    assert_eq!(s.health_status(), "HEALTH_OK", "{:?}", s.health_checks());
    let osd_df = json(&cmd(&s, r#"{"prefix": "osd df", "format": "json"}"#).stdout);
    let osd17 = &osd_df["nodes"].as_array().unwrap()[17];
    assert_eq!(
        (osd17["pgs"].as_u64(), osd17["reweight"].as_f64()),
        (Some(0), Some(0.0))
    );
    // In again: the same PGs come back.
    assert_eq!(
        cmd(&s, r#"{"prefix": "osd in", "ids": ["17"]}"#).stderr,
        "marked in osd.17. "
    );
    assert_eq!(s.pg_up_sets(), before);
}

#[test]
fn an_osd_marked_down_raises_osd_down_until_it_comes_back() {
    let s = sim("osds=30,seed=2,failures=0");
    s.step(Duration::from_secs(6));
    assert_eq!(s.health_status(), "HEALTH_OK", "{:?}", s.health_checks());
    let reply = cmd(&s, r#"{"prefix": "osd down", "ids": ["4"]}"#);
    assert_eq!(reply.stderr, "marked down osd.4. ");
    let k = kinds(&reply.events);
    assert!(
        k.contains(&NotifyKind::OsdMap)
            && k.contains(&NotifyKind::Health)
            && k.contains(&NotifyKind::Clog),
        "{k:?}"
    );
    let check = s
        .health_checks()
        .into_iter()
        .find(|c| c.code == "OSD_DOWN")
        .unwrap();
    assert_eq!(check.summary, "1 osds down");
    assert!(
        check.detail[0].starts_with("osd.4 (root=default,host="),
        "{:?}",
        check.detail
    );
    let health = json(&s.get("health").unwrap());
    let inner = json(health["json"].as_str().unwrap());
    assert_eq!(inner["checks"]["OSD_DOWN"]["summary"]["count"], 1);
    assert_eq!(
        cmd(&s, r#"{"prefix": "osd down", "ids": ["4"]}"#).stderr,
        "osd.4 is already down. "
    );
    // The daemon was wrongly marked down: it boots again, and the check clears.
    let mut events = Vec::new();
    for _ in 0..30 {
        events.extend(s.step(Duration::from_secs(1)));
    }
    assert!(!codes(&s).contains(&"OSD_DOWN".to_owned()));
    let logs: Vec<String> = s
        .log_last(200, Priority::Inf, "cluster")
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert!(
        logs.iter()
            .any(|m| m.starts_with("osd.4 [v2:") && m.ends_with(" boot")),
        "{logs:?}"
    );
    assert!(
        logs.iter()
            .any(|m| m == "Health check cleared: OSD_DOWN (was: 1 osds down)"),
        "{logs:?}"
    );
    // The clog notify carries the entry, as ceph-mgr's does.
    let clog = events.iter().find(|e| e.kind == NotifyKind::Clog).unwrap();
    let entry = json(&clog.id);
    for key in [
        "name", "rank", "addrs", "stamp", "seq", "channel", "priority", "message",
    ] {
        assert!(entry.get(key).is_some(), "{key} in {entry}");
    }
    s.step(Duration::from_secs(120));
    assert_eq!(s.health_status(), "HEALTH_OK", "{:?}", s.health_checks());
}

#[test]
fn noup_keeps_a_down_osd_down_and_a_whole_host_down_raises_osd_host_down() {
    let s = sim("osds=30,hosts=3,seed=2,failures=0");
    assert_eq!(
        cmd(&s, r#"{"prefix": "osd set", "key": "noup"}"#).stderr,
        "noup is set"
    );
    let reply = cmd(
        &s,
        r#"{"prefix": "osd down", "ids": ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]}"#,
    );
    assert_eq!(reply.retval, 0);
    s.step(Duration::from_secs(60));
    let c = codes(&s);
    for code in ["OSD_DOWN", "OSD_HOST_DOWN", "OSDMAP_FLAGS", "PG_DEGRADED"] {
        assert!(c.contains(&code.to_owned()), "{code} in {c:?}");
    }
    let host = s
        .health_checks()
        .into_iter()
        .find(|c| c.code == "OSD_HOST_DOWN")
        .unwrap();
    assert_eq!(host.summary, "1 host (10 osds) down");
    assert_eq!(
        cmd(&s, r#"{"prefix": "osd unset", "key": "noup"}"#).stderr,
        "noup is unset"
    );
    s.step(Duration::from_secs(600));
    assert_eq!(s.health_status(), "HEALTH_OK", "{:?}", s.health_checks());
}

#[test]
fn a_long_failure_is_marked_out_and_its_data_moves() {
    let s = sim("osds=20,hosts=4,seed=9,failures=0");
    assert_eq!(
        cmd(
            &s,
            r#"{"prefix": "osd down", "ids": ["6"], "definitely_dead": true}"#
        )
        .retval,
        0
    );
    s.step(Duration::from_secs(590));
    assert!(codes(&s).contains(&"OSD_DOWN".to_owned()));
    s.step(Duration::from_secs(20));
    let logs: Vec<String> = s
        .log_last(500, Priority::Inf, "cluster")
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert!(
        logs.iter()
            .any(|m| m.starts_with("Marking osd.6 out (has been down for 6")),
        "{logs:?}"
    );
    // Out: no longer an OSD_DOWN, but its PGs were remapped and backfill.
    assert!(!codes(&s).contains(&"OSD_DOWN".to_owned()));
    assert!(s.pg_up_sets().values().all(|up| !up.contains(&6)));
    s.step(Duration::from_secs(3600));
    assert_eq!(s.health_status(), "HEALTH_OK", "{:?}", s.health_checks());
}

#[test]
fn the_cluster_fails_and_recovers_by_itself_within_minutes() {
    for seed in [1, 2, 3] {
        let s = sim(&format!("osds=12,seed={seed}"));
        let (mut down, mut up, mut osd_maps, mut pg_summaries) = (None, None, 0, 0);
        for second in 1..=600u32 {
            for e in s.step(Duration::from_secs(1)) {
                match e.kind {
                    NotifyKind::OsdMap => osd_maps += 1,
                    NotifyKind::PgSummary => pg_summaries += 1,
                    NotifyKind::Clog => {
                        let msg = json(&e.id)["message"].as_str().unwrap_or("").to_owned();
                        if msg.contains(" failed (root=default") && down.is_none() {
                            down = Some(second);
                        }
                        if msg.ends_with(" boot") && down.is_some() && up.is_none() {
                            up = Some(second);
                        }
                    }
                    _ => {}
                }
            }
            if up.is_some() {
                break;
            }
        }
        let (down, up) = (down.expect("an OSD went down"), up.expect("and came back"));
        assert!(
            down < up && up <= 600,
            "seed {seed}: down at {down}s, up at {up}s"
        );
        assert!(
            osd_maps >= 2 && pg_summaries >= up / 5 - 1,
            "{osd_maps} {pg_summaries}"
        );
    }
}

#[test]
fn io_usage_and_counters_move() {
    let s = sim("osds=12,seed=4,failures=0");
    s.step(Duration::from_secs(10));
    let io1 = json(&s.get("io_rate").unwrap());
    let df1 = json(&s.get("df").unwrap());
    let op1 = s.get_latest("osd", "0", "osd.op").parse::<u64>().unwrap();
    s.step(Duration::from_secs(600));
    let io2 = json(&s.get("io_rate").unwrap());
    let df2 = json(&s.get("df").unwrap());
    let op2 = s.get_latest("osd", "0", "osd.op").parse::<u64>().unwrap();
    assert!(
        io1["pg_stats_delta"]["stat_sum"]["num_write"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_ne!(io1, io2, "client IO varies");
    assert_ne!(
        df1["stats"]["total_used_bytes"], df2["stats"]["total_used_bytes"],
        "usage changes"
    );
    assert!(op2 > op1, "perf counters grow");
    let series = json(&s.get_counter("osd", "0", "osd.op"));
    let samples = series["osd.op"].as_array().unwrap();
    assert_eq!(samples.len(), 20, "ceph-mgr keeps 20 samples");
    assert!(
        samples
            .windows(2)
            .all(|w| w[0][0].as_f64() < w[1][0].as_f64())
    );
    let lat = json(&s.get_counter("osd", "0", "osd.op_r_latency"));
    assert_eq!(lat["osd.op_r_latency"][0].as_array().unwrap().len(), 3);
    let status = json(&s.status(true));
    assert!(status["pgmap"]["write_op_per_sec"].as_u64().unwrap() > 0);
    assert!(s.status(false).contains("    client:   "));
}

#[test]
fn the_mgr_map_follows_the_host() {
    let s = sim("osds=3,mgr=wasmgr");
    let map = json(&s.get("mgr_map").unwrap());
    assert_eq!(map["active_name"], "wasmgr");
    let epoch = map["epoch"].as_u64().unwrap();
    let events = s.set_mgr_modules(&["hello".to_owned(), "iostat".to_owned()]);
    assert_eq!(kinds(&events), [NotifyKind::MgrMap]);
    let map = json(&s.get("mgr_map").unwrap());
    assert_eq!(map["modules"], serde_json::json!(["hello", "iostat"]));
    assert_eq!(map["epoch"].as_u64(), Some(epoch + 1));
    assert!(
        s.set_mgr_modules(&["iostat".to_owned(), "hello".to_owned()])
            .is_empty()
    );
    assert_eq!(s.mgr_id(), "wasmgr");
    let events = s.log(
        "mgr.wasmgr",
        "cluster",
        Priority::Wrn,
        "hello from a module",
    );
    let entry = json(&events[0].id);
    assert_eq!(
        (entry["priority"].as_str(), entry["message"].as_str()),
        (Some("[WRN]"), Some("hello from a module"))
    );
}

#[test]
fn a_clock_steps_in_real_time_and_stops_when_dropped() {
    let s = Arc::new(sim("osds=3,pace=10"));
    let seen: Arc<Mutex<BTreeMap<NotifyKind, usize>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let clock = Clock::start(Arc::clone(&s), move |events| {
        let mut seen = sink.lock().unwrap();
        for e in events {
            *seen.entry(e.kind).or_default() += 1;
        }
    })
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.lock().unwrap().get(&NotifyKind::PgSummary).is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(clock);
    assert!(seen.lock().unwrap().contains_key(&NotifyKind::PgSummary));
    let t = s.now();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(s.now(), t, "a dropped clock steps no more");
}
