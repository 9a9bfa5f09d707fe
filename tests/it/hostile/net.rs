//! Granted socket addresses: a module granted `net:IP:PORT` reaches that address (TCP or UDP)
//! and no other, every other attempt is counted and audited as a denial, host names are still
//! never resolved, and a long list of addresses costs the host nothing it cannot bound.

use std::io::{ErrorKind, Read};
use std::net::{TcpListener, UdpSocket};
use std::time::Duration;

use super::{
    assert_audited, assert_audited_saying, assert_hello_answers, assert_probe_fails, cap_row, caps,
    denied_count, probe, prober_requesting,
};

/// How long a socket in the test waits for what the module sent.
const WAIT: Duration = Duration::from_secs(5);

fn tcp_listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").unwrap()
}

fn udp_socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    s
}

#[test]
fn a_granted_address_can_be_reached_and_no_other() {
    let (tcp_granted, tcp_other) = (tcp_listener(), tcp_listener());
    let (udp_granted, udp_other) = (udp_socket(), udp_socket());
    let addr = |a: std::io::Result<std::net::SocketAddr>| a.unwrap().to_string();
    let (tcp_ok, tcp_no) = (addr(tcp_granted.local_addr()), addr(tcp_other.local_addr()));
    let (udp_ok, udp_no) = (addr(udp_granted.local_addr()), addr(udp_other.local_addr()));
    let daemon = prober_requesting(&format!(
        "[requests]\nget = [\"osd_map\"]\nnet = [\"{tcp_ok}\", \"{udp_ok}\"]\n"
    ));

    let seen = probe(&daemon, &["prober", "tcp", &tcp_ok]);
    assert_eq!(seen["ok"], true, "{seen}");
    let (mut conn, _) = tcp_granted.accept().unwrap();
    conn.set_read_timeout(Some(WAIT)).unwrap();
    let mut line = String::new();
    conn.read_to_string(&mut line).unwrap();
    assert_eq!(line, "probe\n");

    let seen = probe(&daemon, &["prober", "udp", &udp_ok]);
    assert_eq!(seen["ok"], true, "{seen}");
    udp_granted.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 64];
    let (n, _) = udp_granted.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"probe");

    // Another port on the same host, and the TCP address over UDP and back: refused.
    assert_probe_fails(&daemon, &["prober", "tcp", &tcp_no], &[]);
    assert_probe_fails(&daemon, &["prober", "udp", &udp_no], &[]);
    tcp_other.set_nonblocking(true).unwrap();
    match tcp_other.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the ungranted listener saw a connection: {other:?}"),
    }
    match udp_other.recv_from(&mut buf) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("the ungranted socket got a datagram: {other:?}"),
    }
    // Names are not resolved, even with a socket granted.
    assert_probe_fails(&daemon, &["prober", "resolve", "localhost"], &["127.0.0.1"]);

    let caps = caps(&daemon, "prober");
    let used = cap_row(&caps, &format!("net:{tcp_ok}")).unwrap();
    assert!(used["used"]["count"].as_u64().unwrap() > 0, "{caps:#}");
    for denied in [&tcp_no, &udp_no] {
        let capability = format!("net:{denied}");
        assert_eq!(denied_count(&daemon, "prober", &capability), 1);
        let events = assert_audited(&daemon, "denial", "prober", &capability);
        assert!(
            events[0]["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("wasmgr module grant prober {capability}")),
            "{events:#?}"
        );
    }
    assert_hello_answers(&daemon);
}

/// Addresses in the long grant: about as many as fit in a manifest (at most 64 KiB).
const ADDRESSES: u16 = 2500;

#[test]
fn thousands_of_granted_addresses_load_and_an_unlisted_one_is_still_refused() {
    let listed: Vec<String> = (0..ADDRESSES)
        .map(|i| format!("\"10.{}.{}.1:9283\"", i / 256, i % 256))
        .collect();
    let manifest = format!(
        "[requests]\nget = [\"osd_map\"]\nnet = [{}]\n",
        listed.join(", ")
    );
    assert!(manifest.len() < 64 << 10, "{} bytes", manifest.len());
    let daemon = prober_requesting(&manifest);
    assert_eq!(daemon.module_row("prober")["state"], "running");
    let unlisted = tcp_listener();
    let addr = unlisted.local_addr().unwrap().to_string();
    assert_probe_fails(&daemon, &["prober", "tcp", &addr], &[]);
    assert_audited(&daemon, "denial", "prober", &format!("net:{addr}"));
    assert_hello_answers(&daemon);

    // A manifest past its size limit: the module is refused, naming the limit.
    let over = format!(
        "{manifest}# {}\n",
        "padding to push the manifest over its limit ".repeat(2000)
    );
    std::fs::write(daemon.modules_dir().join("prober.toml"), over).unwrap();
    daemon.ok(&["module", "disable", "prober"]);
    let err = daemon.run(&["module", "enable", "prober"]).fails(5);
    assert!(err.contains("larger than 65536 bytes"), "{err}");
    assert_audited_saying(&daemon, "refused", "prober", "larger than 65536 bytes");
    assert_hello_answers(&daemon);
}

#[test]
fn a_module_granted_an_address_cannot_listen_for_connections() {
    let granted = tcp_listener();
    let addr = granted.local_addr().unwrap().to_string();
    let daemon = prober_requesting(&format!(
        "[requests]\nget = [\"osd_map\"]\nnet = [\"{addr}\"]\n"
    ));
    drop(granted);
    // Any port, a chosen one, and the granted address itself (now free).
    for on in ["0.0.0.0:0", "127.0.0.1:0", "0.0.0.0:8080", &addr] {
        assert_probe_fails(&daemon, &["prober", "listen", on], &[]);
    }
    // Binding any port for a client socket is allowed; listening on it is what is refused,
    // and counted.
    let caps = caps(&daemon, "prober");
    let listened = caps["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["capability"]
                .as_str()
                .is_some_and(|c| c.starts_with("net:0.0.0.0:"))
        })
        .unwrap_or_else(|| panic!("no denial of listening: {caps:#}"));
    assert_eq!(listened["denied"]["count"], 1, "{caps:#}");
    assert_hello_answers(&daemon);
}

/// A UDP socket bound to any port to talk to a granted address gets that address's replies:
/// what a client of a UDP service (DNS, SNMP, NTP) needs. It must not get datagrams from
/// anyone else, which would let any host that can reach the daemon send the module what it
/// likes, as if it listened; those are dropped and counted as denials.
#[test]
fn a_module_talking_to_a_granted_address_hears_its_reply_and_nothing_else() {
    let (granted, intruder) = (udp_socket(), udp_socket());
    let addr = granted.local_addr().unwrap().to_string();
    let daemon = prober_requesting(&format!(
        "[requests]\nget = [\"osd_map\"]\nnet = [\"{addr}\"]\n"
    ));
    granted.set_read_timeout(Some(WAIT)).unwrap();
    let out = std::thread::scope(|s| {
        let exchange = s.spawn(|| daemon.run(&["prober", "exchange", &addr]));
        let mut buf = [0u8; 64];
        let (n, module) = granted.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"probe");
        // The intruder first, then the granted address's reply.
        intruder.send_to(b"intruder", module).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        granted.send_to(b"reply", module).unwrap();
        exchange.join().unwrap()
    });
    eprintln!("prober exchange {addr}: {out:#?}");
    // Datagrams from addresses no grant names are counted under one counter, whoever sends
    // them (strangers cannot spend the module's ledger).
    assert_eq!(denied_count(&daemon, "prober", "net:0.0.0.0:0"), 1);
    assert_hello_answers(&daemon);
    // The reply came through (the call did not wait for one until its deadline), and it is
    // the granted address's.
    let seen: serde_json::Value = serde_json::from_str(&out.ok()).unwrap();
    assert_eq!(seen["data"], "reply", "{seen}");
    assert_eq!(seen["from"], addr.as_str(), "{seen}");
}
