//! Periodic work: ticks run on the module's own actor between its other calls, a command
//! waits for at most the tick that is running, and a module is stopped whatever its tick does.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::guests::{HELLO, PINGER, TICKER};
use crate::harness::{Host, wait_until};

fn now(host: &Host) -> Value {
    serde_json::from_str(&host.ok(&["ticker", "now"])).unwrap()
}

#[test]
fn a_module_ticks_at_the_period_it_sets() {
    let host = Host::start(&[TICKER]);
    assert_eq!(now(&host)["ticks"], 0);
    host.ok(&["ticker", "every", "20", "0"]);
    wait_until("five ticks", Duration::from_secs(10), || {
        now(&host)["ticks"].as_u64().unwrap() >= 5
    });
    host.ok(&["ticker", "stop"]);
    let stopped = now(&host)["ticks"].as_u64().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(now(&host)["ticks"].as_u64().unwrap() <= stopped + 1);
}

#[test]
fn a_command_during_a_tick_waits_for_that_tick_only() {
    let host = Host::start(&[TICKER, HELLO]);
    // Each tick spins 200 ms, one every 10 ms: the module is nearly always in a tick.
    host.ok(&["ticker", "every", "10", "200"]);
    wait_until("a first tick", Duration::from_secs(10), || {
        now(&host)["ticks"].as_u64().unwrap() >= 1
    });
    let mut waits: Vec<u128> = (0..5)
        .map(|_| {
            let n = now(&host);
            let (started, tick_end) = (
                n["now_us"].as_u64().unwrap(),
                n["last_tick_end_us"].as_u64().unwrap(),
            );
            u128::from(started.saturating_sub(tick_end))
        })
        .collect();
    waits.sort();
    eprintln!("a command started {waits:?} µs after the tick before it ended");
    assert!(
        waits[2] < 10_000,
        "a command waited {} µs after a tick ended",
        waits[2]
    );
    // Other modules are not held up by the ticking one.
    assert_eq!(host.ok(&["hello"]), "Hello, world!");
}

#[test]
fn a_module_whose_tick_spins_is_disabled_at_once() {
    let host = Host::start(&[TICKER, HELLO]);
    // A tick that spins past the deadline (1 s) each time.
    host.ok(&["ticker", "every", "10", "5000"]);
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    host.ok(&["module", "disable", "ticker"]);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(host.module_row("ticker")["state"], "disabled");
    assert_eq!(host.ok(&["hello"]), "Hello, world!");
}

#[test]
fn a_tick_period_out_of_range_is_refused() {
    let host = Host::start(&[TICKER]);
    let err = host.fails(&["ticker", "every", "0", "0"], 22);
    assert!(
        err.contains("a tick period of 0 ms is out of range: use 10 to 86400000 ms"),
        "{err}"
    );
}

#[test]
fn an_sdk_module_sets_its_tick_period_when_it_loads() {
    let host = Host::start(&[PINGER]);
    // pinger ticks every 5 s from its first instance on.
    assert_eq!(host.ok(&["pinger", "ticks"]), "0");
    let info = host.module_info("pinger");
    assert_eq!(info["state"], "running", "{info:#}");
}
