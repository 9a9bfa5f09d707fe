//! The audit ledger under attack: what a module can make it hold, hide and lose.

use std::sync::Arc;
use std::time::Duration;

use wasmgr_runtime::caps::{CAP_BYTES, Cap};
use wasmgr_runtime::ledger::{FLUSH_EVERY, Ledger};
use wasmgr_runtime::persist::{Persistence, Space, SqliteStore};

use super::{cap_row, caps, json_of};
use crate::harness::Host;
use crate::harness::guests::{HELLO, INTRUDER, PROBER};

/// A module with no grant at all sends cluster commands whose prefixes are megabytes long.
/// Each is denied, and the denial names the capability it would need: the prefix, whole. The
/// ledger keeps it whole too (its counter's key, its `denial` event), so one module makes
/// every reviewer's `audit --format json` too large to answer, and the daemon's memory (the
/// counters it has seen) and database grow by the size of what the module sends.
/// `CAP_BYTES` bounds the capabilities an operator writes; nothing bounds those a module's
/// accesses make.
#[test]
fn a_module_without_grants_cannot_fill_the_ledger_with_megabyte_capabilities() {
    let host = Host::start(&[INTRUDER, HELLO]);
    let db = host.data().join("wasmgr.db");
    let size = || std::fs::metadata(&db).map_or(0, |m| m.len());
    let before = size();
    for _ in 0..12 {
        let flood = json_of(&host.ok(&["intruder", "flood-commands", "1", "1572864"]));
        assert_eq!(flood["denied"], 1, "{flood}");
    }

    let audit = host.request(&["audit"], Some("json"), "");
    let longest = if audit.retval == 0 {
        json_of(&audit.stdout)
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["capability"].as_str().map(str::len))
            .max()
            .unwrap_or(0)
    } else {
        0
    };
    let caps = host.request(&["module", "caps", "intruder"], Some("json"), "");
    let grown = size().saturating_sub(before);
    eprintln!(
        "audit: retval {} ({} bytes of stderr), longest capability {longest} bytes; module caps: \
         retval {}; wasmgr.db grew by {grown} bytes",
        audit.retval,
        audit.stderr.len(),
        caps.retval
    );
    assert_eq!(
        audit.retval, 0,
        "one module's denials make the whole audit ledger unreadable as JSON: {}",
        audit.stderr
    );
    assert_eq!(caps.retval, 0, "module caps intruder: {}", caps.stderr);
    assert!(
        longest <= CAP_BYTES,
        "the ledger keeps a capability of {longest} bytes a module made up (CAP_BYTES is {CAP_BYTES})"
    );
    assert!(
        grown < 4 << 20,
        "12 denials grew the database by {grown} bytes"
    );
}

/// The ledger counts at most 512 distinct capabilities per module, used and denied together;
/// past that, a capability is counted under `<kind>:(others)`. A module that first spends the
/// 512 on denials nobody cares about (data names it never requested) has every capability it
/// then uses for real counted as `(others)`: `module caps` no longer says what it used.
#[test]
fn denials_a_module_provokes_cannot_hide_what_it_uses() {
    let host = Host::start(&[PROBER]);
    let flood = json_of(&host.ok(&["prober", "names", "0", "600"]));
    assert_eq!(flood["denied"], 600, "{flood}");
    host.ok(&["prober", "get", "osd_map"]);

    let caps = caps(&host, "prober");
    let used = cap_row(&caps, "get:osd_map").and_then(|r| r["used"]["count"].as_u64());
    let others = cap_row(&caps, "get:(others)").map(|r| r["used"].clone());
    assert!(
        used.is_some_and(|n| n >= 1),
        "prober read the OSD map, its one granted capability, and module caps does not say so \
         (get:osd_map used: {used:?}; get:(others) used: {others:?})"
    );
}

/// `audit --since AGE` turns the age into microseconds with `as u64`: an age of 2^64 µs
/// (about 584 542 years) wraps to 0, "since now", and the ledger answers that nothing
/// happened, where a shorter age lists every event.
#[test]
fn an_audit_since_a_longer_age_lists_no_fewer_events() {
    let host = Host::start(&[HELLO]);
    let count = |since: &str| {
        let reply = host.request(&["audit", "--since", since], Some("json"), "");
        assert_eq!(reply.retval, 0, "audit --since {since}: {reply:#?}");
        json_of(&reply.stdout).as_array().unwrap().len()
    };
    let century = count("100years");
    assert!(century >= 1, "hello's load is an event");
    let longer = count("18446744073709s 551616us");
    assert!(
        longer >= century,
        "audit --since an age longer than 100 years lists {longer} events, 100 years {century}"
    );
}

/// "A capability's first use or denial is written at once": the writer wakes for it instead
/// of waiting for its periodic flush ([`FLUSH_EVERY`], a second), even right after another
/// write. Checked on the ledger itself, reading what is committed to its store (what a
/// `kill -9` would leave), well before the periodic flush would come.
#[test]
fn a_first_denial_is_on_disk_as_soon_as_it_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let ledger = Ledger::start(store.clone());
    let on_disk = |name: &str| {
        store
            .get(Space::Tally, &format!("denied\tm\tget:{name}"))
            .unwrap()
            .is_some()
    };
    let cap = |name: &str| name.parse::<Cap>().unwrap();
    ledger.denied("m", &cap("get:first"), "a first denial");
    let started = std::time::Instant::now();
    while !on_disk("first") {
        assert!(started.elapsed() < Duration::from_secs(5), "never written");
        std::thread::sleep(Duration::from_millis(1));
    }
    // Right after that write, a second first-time denial comes in.
    ledger.denied("m", &cap("get:second"), "another first denial");
    let started = std::time::Instant::now();
    while !on_disk("second") && started.elapsed() < FLUSH_EVERY / 2 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let written = on_disk("second");
    ledger.close();
    assert!(
        written,
        "half the periodic flush after a module's first denial of get:second it is not on \
         disk: it waited for the period"
    );
}
