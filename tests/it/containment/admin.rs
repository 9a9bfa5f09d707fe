//! The admin API: idle connections do not lock the operator out, and a read-only client
//! cannot fail a module by making it trap.

use std::fs;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::HELLO_LINE;
use crate::harness::guests::{HELLO, ROGUE};
use crate::harness::{Daemon, wasmgr};

#[test]
fn idle_connections_do_not_lock_the_operator_out() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    let admin: Value =
        serde_json::from_slice(&fs::read(daemon.data().join("admin.json")).unwrap()).unwrap();
    let addr = admin["addr"].as_str().unwrap();
    // Connections that never send a byte, kept open.
    let idle: Vec<TcpStream> = (0..200)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();

    let started = Instant::now();
    let out = daemon.run(&["hello"]);
    let elapsed = started.elapsed();
    eprintln!(
        "hello answered in {elapsed:?} next to {} idle connections",
        idle.len()
    );
    assert_eq!(out.ok(), HELLO_LINE);
    assert!(
        elapsed < Duration::from_secs(5),
        "hello took {elapsed:?} next to idle connections"
    );
    drop(idle);
}

#[test]
fn a_read_only_client_cannot_fail_a_module_by_making_it_trap() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    let readonly = daemon.readonly_data();
    let data = readonly.path().to_str().unwrap();

    for attempt in 1..=10 {
        let err = wasmgr(&["--data", data, "rogue", "trap"], None).fails(5);
        assert!(err.starts_with("Error EIO"), "attempt {attempt}: {err}");
    }
    assert_eq!(daemon.module_row("rogue")["state"], "running");
    assert_eq!(daemon.ok(&["rogue", "echo", "0", "ok"]), "ok\n");
    super::assert_hello_answers_daemon(&daemon);
}
