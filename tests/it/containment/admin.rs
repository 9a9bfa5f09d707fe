//! The admin API: idle connections, stalled requests and slow read-only commands do not lock
//! the operator out, and a read-only client cannot fail a module by making it trap.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{HELLO_LINE, assert_audited};
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
    // Each trap is a fault in the ledger all the same.
    let faults = daemon.audit("fault", "rogue");
    assert_eq!(faults.len(), 10, "{faults:#?}");
    assert_audited(&daemon, "fault", "rogue", "unreachable");
    assert_eq!(daemon.ok(&["rogue", "echo", "0", "ok"]), "ok\n");
    super::assert_hello_answers_daemon(&daemon);
}

/// How long `hello` may take next to the attackers' connections: a liveness bound, generous
/// for a loaded machine.
const HELLO_WITHIN: Duration = Duration::from_secs(5);

/// The address and token of an endpoint file (`admin.json`, `readonly.json`) of `daemon`.
fn endpoint(daemon: &Daemon, file: &str) -> (String, String) {
    let ep: Value = serde_json::from_slice(&fs::read(daemon.data().join(file)).unwrap()).unwrap();
    (
        ep["addr"].as_str().unwrap().to_owned(),
        ep["token"].as_str().unwrap().to_owned(),
    )
}

/// The head of a `POST /v1/command` of `len` bytes with `token`.
fn command_head(token: &str, len: usize) -> String {
    format!(
        "POST /v1/command HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n"
    )
}

/// `wasmgr hello` with the admin token, timed: it answers, within [`HELLO_WITHIN`].
#[track_caller]
fn assert_hello_answers_in_time(daemon: &Daemon, next_to: &str) {
    let started = Instant::now();
    let out = daemon.run(&["hello"]);
    let elapsed = started.elapsed();
    eprintln!("hello answered in {elapsed:?} next to {next_to}");
    assert_eq!(out.ok(), HELLO_LINE);
    assert!(
        elapsed < HELLO_WITHIN,
        "hello took {elapsed:?} next to {next_to}"
    );
}

#[test]
fn requests_whose_bodies_never_complete_do_not_lock_the_operator_out() {
    const CONNECTIONS: usize = 140;
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    let (addr, token) = endpoint(&daemon, "readonly.json");
    // A read-only client's requests that announce a megabyte and send one byte of it: admitted
    // (the token is good), then waiting for the rest, which never comes.
    let head = command_head(&token, 1_000_000);
    let stalled: Vec<TcpStream> = (0..CONNECTIONS)
        .map(|_| {
            let mut conn = TcpStream::connect(&addr).unwrap();
            conn.write_all(head.as_bytes()).unwrap();
            conn.flush().unwrap();
            conn.write_all(b"{").unwrap();
            conn
        })
        .collect();
    // Time for the daemon to read every head and start waiting for the bodies.
    std::thread::sleep(Duration::from_millis(500));

    assert_hello_answers_in_time(&daemon, &format!("{CONNECTIONS} stalled requests"));
    drop(stalled);
    super::assert_hello_answers_daemon(&daemon);
}

/// What one slow read-only command got: its HTTP status, or `None` if the connection closed
/// or stayed silent without an answer.
fn slow_readonly_command(addr: &str, token: &str, silent_for: Duration) -> Option<u16> {
    let body =
        serde_json::json!({"words": ["rogue", "sleep", "3000"], "format": null, "inbuf": ""})
            .to_string();
    let mut conn = TcpStream::connect(addr).ok()?;
    conn.set_read_timeout(Some(silent_for)).ok()?;
    conn.write_all(format!("{}{body}", command_head(token, body.len())).as_bytes())
        .ok()?;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    // One response, then the daemon closes (`connection: close`); a read timing out ends it.
    while answer.len() < 1 << 20 {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
        }
    }
    let status_line = String::from_utf8_lossy(&answer);
    status_line.split(' ').nth(1)?.parse().ok()
}

#[test]
fn slow_read_only_commands_do_not_lock_the_operator_out() {
    // More than the daemon's 128 connection slots, all on one module.
    const CLIENTS: usize = 140;
    /// How long a client waits for its answer: the commands run one at a time, about 1.4 s
    /// each (the 1 s deadline, then a restart), so most never get one within the test.
    const CLIENT_WAIT: Duration = Duration::from_secs(8);
    /// The whole attack, from the first client to the last one joined.
    const ATTACK_WITHIN: Duration = Duration::from_secs(30);

    let daemon = Daemon::start(&[ROGUE, HELLO]);
    let (addr, token) = endpoint(&daemon, "readonly.json");
    let started = Instant::now();
    let statuses: Vec<Option<u16>> = std::thread::scope(|s| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| s.spawn(|| slow_readonly_command(&addr, &token, CLIENT_WAIT)))
            .collect();
        // Time for every request to reach the daemon and start or queue its command.
        std::thread::sleep(Duration::from_millis(500));
        for _ in 0..3 {
            assert_hello_answers_in_time(&daemon, &format!("{CLIENTS} slow read-only commands"));
            std::thread::sleep(Duration::from_millis(300));
        }
        clients.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();
    let count = |status: Option<u16>| statuses.iter().filter(|s| **s == status).count();
    eprintln!(
        "{CLIENTS} slow read-only commands in {elapsed:?}: {} answered, {} refused with 503, \
         {} without an answer",
        count(Some(200)),
        count(Some(503)),
        count(None)
    );
    assert!(elapsed < ATTACK_WITHIN, "the attack took {elapsed:?}");
    assert!(
        count(Some(503)) > 0,
        "no read-only command was refused: {statuses:?}"
    );
    // Traps a read-only client causes restart the module, never fail it.
    assert_ne!(daemon.module_row("rogue")["state"], "failed");
    super::assert_hello_answers_daemon(&daemon);
}

/// The answer to a request whose head only was sent: its status line and body, read until the
/// daemon closes the connection or stays silent for `silent_for`.
fn answer_to_head(addr: &str, head: &str, silent_for: Duration) -> String {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(silent_for)).unwrap();
    conn.write_all(head.as_bytes()).unwrap();
    conn.flush().unwrap();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while answer.len() < 64 << 10 {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn a_read_only_clients_body_over_a_mebibyte_is_refused_before_it_is_sent() {
    let daemon = Daemon::start(&[HELLO]);
    let (addr, token) = endpoint(&daemon, "readonly.json");
    // Two megabytes announced, none sent: the refusal must not wait for the body.
    let started = Instant::now();
    let answer = answer_to_head(&addr, &command_head(&token, 2_000_000), HELLO_WITHIN);
    let elapsed = started.elapsed();
    eprintln!("a read-only request of 2 MB announced: answered in {elapsed:?}: {answer:?}");
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "a read-only request of 2 MB was not refused with 413: {answer:?}"
    );
    assert!(
        elapsed < HELLO_WITHIN,
        "the refusal took {elapsed:?}: it waited for the body"
    );

    // Below the limit, a read-only client's input is still read; the operator's is not bound
    // by it.
    let readonly = daemon.readonly_data();
    let data = readonly.path().to_str().unwrap();
    let input = "x".repeat(1_000_000);
    let out = wasmgr(&["--data", data, "hello", "-i", "-"], Some(&input)).ok();
    assert_eq!(out, HELLO_LINE);
    let input = "x".repeat(2_000_000);
    assert_eq!(
        daemon
            .run_with_stdin(&["hello", "-i", "-"], Some(&input))
            .ok(),
        HELLO_LINE
    );
    super::assert_hello_answers_daemon(&daemon);
}
