//! The store: a module's options count toward its quota, a full quota does not lock the module
//! out of its own keys, deleted keys give their disk back, and a module writing big values
//! does not stall the other modules' writes.

use std::fs;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{assert_hello_answers, json_of};
use crate::harness::guests::{HELLO, ROGUE};
use crate::harness::{Host, Modules, wait_until};

const KIB: usize = 1 << 10;
const MIB: u64 = 1 << 20;

/// `rogue option set <name>` with `value` (JSON) as the input file.
fn option_set(host: &Host, name: &str, value: &Value) -> i32 {
    let reply = host.request(
        &["rogue", "option", "set", name],
        None,
        &json!({ "value": value }).to_string(),
    );
    eprintln!("option set {name}: {} {}", reply.retval, reply.stderr);
    reply.retval
}

/// `rogue kv fill` of `per_call` keys of `size` bytes a call, under key prefixes
/// `<tag><call>_`, until the quota is full (ENOSPC); how many keys were written. A write over
/// the module's store write budget (EAGAIN) is retried after the wait it names.
#[track_caller]
fn fill_until_full(host: &Host, tag: &str, size: usize, per_call: usize) -> u64 {
    let (size, per_call) = (size.to_string(), per_call.to_string());
    let mut written = 0;
    for call in 0..100_000 {
        let prefix = format!("{tag}{call}_");
        let out = json_of(&host.ok(&["rogue", "kv", "fill", &per_call, &size, &prefix]));
        written += out["written"].as_u64().unwrap();
        match out["errno"].as_i64().unwrap() {
            0 => {}
            11 => std::thread::sleep(Duration::from_millis(100)),
            28 => return written,
            errno => panic!("kv fill failed with errno {errno}: {out}"),
        }
    }
    panic!("the quota never filled");
}

/// The database's files: `wasmgr.db` and its write-ahead log.
const DATABASE_FILES: [&str; 2] = ["wasmgr.db", "wasmgr.db-wal"];

/// The size on disk of each of [`DATABASE_FILES`].
fn database_sizes(host: &Host) -> [u64; 2] {
    DATABASE_FILES.map(|f| fs::metadata(host.data().join(f)).map_or(0, |m| m.len()))
}

/// The database's size on disk, its write-ahead log included.
fn database_bytes(host: &Host) -> u64 {
    database_sizes(host).iter().sum()
}

#[test]
fn an_option_value_of_a_mebibyte_is_refused() {
    let host = Host::start(&[ROGUE, HELLO]);
    let value = json!({"repeat": "x", "times": MIB});
    assert_eq!(option_set(&host, "text", &value), -7);
    assert_hello_answers(&host);
}

#[test]
fn options_count_toward_the_modules_quota() {
    let host = Host::with(Modules::new(&[ROGUE, HELLO]).manifest(ROGUE, "[limits]\nkv_mib = 4\n"));
    // Fill the quota to within a few hundred bytes.
    for (tag, size) in [("a", 500_000), ("b", 50_000), ("c", 5_000), ("d", 500)] {
        fill_until_full(&host, tag, size, 4);
    }
    let value = json!({"repeat": "x", "times": 10 * KIB});
    // The write budget (EAGAIN) may speak before the quota: wait it out.
    let mut retval = option_set(&host, "text", &value);
    for _ in 0..50 {
        if retval != -11 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        retval = option_set(&host, "text", &value);
    }
    assert_eq!(retval, -28);
    assert_hello_answers(&host);
}

#[test]
fn a_module_with_a_full_quota_can_list_and_delete_its_keys_and_the_disk_is_given_back() {
    // The default quota (16 MiB): filling it takes about 8 s under the write budget (2 MiB/s).
    let host = Host::start(&[ROGUE, HELLO]);
    let started = Instant::now();
    let written = fill_until_full(&host, "b", 1_000_000, 2);
    eprintln!(
        "filled the default quota with {written} keys in {:?}; the database holds {} MiB",
        started.elapsed(),
        database_bytes(&host) / MIB
    );

    let listed = json_of(&host.ok(&["rogue", "kv", "prefix"]));
    assert!(listed["keys"].as_u64().unwrap() >= written, "{listed}");
    let deleted = json_of(&host.ok(&["rogue", "kv", "rm"]));
    assert!(deleted["deleted"].as_u64().unwrap() >= written, "{deleted}");
    assert_eq!(json_of(&host.ok(&["rogue", "kv", "prefix"]))["keys"], 0);

    let started = Instant::now();
    while database_bytes(&host) >= 2 * MIB && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let sizes = database_sizes(&host);
    assert!(
        sizes.iter().sum::<u64>() < 2 * MIB,
        "the database did not give its disk back within 10 s: {DATABASE_FILES:?} hold {sizes:?} bytes"
    );
    assert_hello_answers(&host);
}

#[test]
fn a_flood_of_big_writes_does_not_stop_other_modules_store_writes() {
    let host = Host::start(&[ROGUE, HELLO]);
    let stop = AtomicBool::new(false);
    let floods = AtomicU64::new(0);
    let mut latencies = std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                // The same keys over and over: the quota never fills, the disk keeps writing.
                let _ = host.run(&["rogue", "kv", "fill", "2", "1000000", "f"]);
                floods.fetch_add(1, Ordering::Relaxed);
            }
        });
        wait_until("the flood starting", Duration::from_secs(30), || {
            floods.load(Ordering::Relaxed) > 0
        });
        let latencies: Vec<Duration> = (0..50)
            .map(|_| {
                let started = Instant::now();
                // hello counts its greetings in its store: a write per call.
                assert_hello_answers(&host);
                started.elapsed()
            })
            .collect();
        stop.store(true, Ordering::Relaxed);
        latencies
    });
    latencies.sort();
    eprintln!(
        "hello during a flood of {} fills: p50 {:?}, p90 {:?}, p99 {:?}",
        floods.load(Ordering::Relaxed),
        latencies[25],
        latencies[45],
        latencies[49]
    );
    let stats = host.request(&["hello", "stats"], Some("json"), "");
    let stats = json_of(&stats.stdout);
    assert_eq!(stats["greetings"], 50, "{stats}");
}
