//! WASI without grants: a module sees no host file, no environment, no arguments, an empty
//! stdin, and can neither open a socket nor look a name up.

use std::io::ErrorKind;
use std::net::{TcpListener, UdpSocket};
use std::time::Duration;

use super::{assert_audited, assert_hello_answers, assert_probe_fails, denied_count, probe};
use crate::harness::Daemon;
use crate::harness::guests::{HELLO, PROBER};

/// What the first line of `/etc/passwd` starts with on any Linux host.
const PASSWD: &str = "root:";

#[test]
fn a_module_without_grants_cannot_read_etc_passwd_or_any_other_host_file() {
    let daemon = Daemon::start(&[PROBER, HELLO]);
    for path in [
        "/etc/passwd",
        "etc/passwd",
        "../../../../../../etc/passwd",
        "/proc/self/environ",
        "/proc/self/cmdline",
    ] {
        assert_probe_fails(&daemon, &["prober", "read", path], &[PASSWD]);
    }
    for dir in ["/", ".", "..", "/etc", "/proc/self/fd"] {
        assert_probe_fails(&daemon, &["prober", "ls", dir], &["passwd"]);
    }
    let planted = std::env::temp_dir().join(format!("wasmgr-planted-{}", daemon.pid()));
    assert_probe_fails(
        &daemon,
        &["prober", "write", planted.to_str().unwrap(), "planted"],
        &[],
    );
    assert!(!planted.exists(), "the module wrote {}", planted.display());
    assert_hello_answers(&daemon);
}

#[test]
fn a_module_sees_no_environment_no_arguments_and_an_empty_stdin() {
    // The daemon runs with an environment (PATH, RUST_LOG, ...) and arguments of its own.
    let daemon = Daemon::start(&[PROBER, HELLO]);
    let env = probe(&daemon, &["prober", "env"]);
    assert_eq!(env["count"], 0, "{env}");
    let args = probe(&daemon, &["prober", "args"]);
    assert_eq!(args["args"], serde_json::json!([]), "{args}");
    // Even when the client sends an input file: that is the command's inbuf, never stdin.
    let stdin = daemon
        .run_with_stdin(&["prober", "stdin", "-i", "-"], Some("not for stdin"))
        .ok();
    let stdin: serde_json::Value = serde_json::from_str(&stdin).unwrap();
    assert_eq!(stdin, serde_json::json!({"ok": true, "bytes": 0}));
    assert_hello_answers(&daemon);
}

/// A TCP listener and a UDP socket on the loopback, nonblocking, that nobody granted.
fn listeners() -> (TcpListener, UdpSocket) {
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    tcp.set_nonblocking(true).unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    (tcp, udp)
}

/// Nothing reached `tcp` or `udp`.
#[track_caller]
fn assert_nothing_reached(tcp: &TcpListener, udp: &UdpSocket) {
    match tcp.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the TCP listener saw a connection: {other:?}"),
    }
    let mut buf = [0u8; 64];
    match udp.recv_from(&mut buf) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("the UDP socket got a datagram: {other:?}"),
    }
}

#[test]
fn a_module_without_a_net_grant_can_neither_connect_nor_send() {
    let daemon = Daemon::start(&[PROBER, HELLO]);
    let (tcp, udp) = listeners();
    let tcp_addr = tcp.local_addr().unwrap().to_string();
    let udp_addr = udp.local_addr().unwrap().to_string();
    assert_probe_fails(&daemon, &["prober", "tcp", &tcp_addr], &[]);
    assert_probe_fails(&daemon, &["prober", "udp", &udp_addr], &[]);
    assert_nothing_reached(&tcp, &udp);
    assert_hello_answers(&daemon);
}

/// Sockets are a host call like any other: a module that asks for one it was never granted
/// is refused by the host, which must count and audit it as it does a data name.
#[test]
fn a_connection_attempt_without_a_net_grant_is_counted_and_audited() {
    let daemon = Daemon::start(&[PROBER, HELLO]);
    let (tcp, _udp) = listeners();
    let addr = tcp.local_addr().unwrap().to_string();
    assert_probe_fails(&daemon, &["prober", "tcp", &addr], &[]);
    let capability = format!("net:{addr}");
    assert_eq!(denied_count(&daemon, "prober", &capability), 1);
    assert_audited(&daemon, "denial", "prober", &capability);
    assert_hello_answers(&daemon);
}

#[test]
fn a_module_cannot_resolve_host_names() {
    let daemon = Daemon::start(&[PROBER, HELLO]);
    for host in ["localhost", "example.com", "metadata.google.internal"] {
        assert_probe_fails(&daemon, &["prober", "resolve", host], &["127.0.0.1"]);
    }
    assert_hello_answers(&daemon);
}
