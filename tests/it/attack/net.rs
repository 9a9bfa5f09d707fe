//! Sockets: a `net:` grant names one address; other spellings of "this host, this port" are
//! other addresses. And what datagrams from addresses nobody granted cost the host.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{host, json_of, run};
use crate::harness::guests::{HELLO, INTRUDER, PROBER};
use crate::harness::{Host, Modules};

/// A listener on every local address (IPv6 and IPv4 through one dual-stack socket, where the
/// host has IPv6), so that any spelling of a local address that gets through reaches it.
fn listener() -> TcpListener {
    TcpListener::bind("[::]:0")
        .or_else(|_| TcpListener::bind("0.0.0.0:0"))
        .unwrap()
}

/// With `net:127.0.0.1:P` granted, `127.0.0.2:P`, `0.0.0.0:P`, `[::1]:P`, the IPv4-mapped
/// `[::ffff:127.0.0.1]:P` and `[::]:P` (all of which reach a listener on every address) are
/// refused, and nothing reaches the listener but the granted address.
#[test]
fn other_spellings_of_a_granted_address_are_refused() {
    let listener = listener();
    let port = listener.local_addr().unwrap().port();
    let host = host(
        Modules::new(&[PROBER, HELLO]).manifest(
            PROBER,
            &format!("[requests]\nget = [\"osd_map\"]\nnet = [\"127.0.0.1:{port}\"]\n"),
        ),
        false,
        true,
    );
    listener.set_nonblocking(true).unwrap();
    for addr in [
        format!("127.0.0.2:{port}"),
        format!("0.0.0.0:{port}"),
        format!("[::1]:{port}"),
        format!("[::ffff:127.0.0.1]:{port}"),
        format!("[::ffff:7f00:1]:{port}"),
        format!("[::]:{port}"),
        format!("[0:0:0:0:0:0:0:1]:{port}"),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
    ] {
        let seen: Value = json_of(&host.ok(&["prober", "tcp", &addr]));
        assert_eq!(seen["ok"], false, "{addr}: {seen}");
        assert!(listener.accept().is_err(), "{addr} reached the listener");
    }
    let seen = json_of(&host.ok(&["prober", "tcp", &format!("127.0.0.1:{port}")]));
    assert_eq!(seen["ok"], true, "{seen}");
}

/// Any module may bind a UDP socket on the wildcard address and an ephemeral port (the bind a
/// client socket needs), with no grant: a port on every interface of the host. A datagram
/// from an address it was not granted is dropped before the module sees it, and counted as a
/// denial: the host does that in a loop inside the module's `receive` call, where the call's
/// deadline cannot stop it. Anyone who can send datagrams to that port keeps the module's
/// call (and the worker thread running it) in the host for as long as they keep sending.
#[test]
fn datagrams_from_strangers_do_not_hold_a_module_past_its_deadline() {
    let host = Host::start(&[INTRUDER, HELLO]);
    let opened = json_of(&host.ok(&["intruder", "udp-open"]));
    let port = opened["port"].as_u64().unwrap() as u16;
    let target = SocketAddr::from(([127, 0, 0, 1], port));

    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
                let started = Instant::now();
                while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(8) {
                    for _ in 0..64 {
                        let _ = socket.send_to(b"x", target);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let waited = run(&host, &["intruder", "udp-wait"]);
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for s in senders {
        s.join().unwrap();
    }
    eprintln!("udp-wait took {took:?}: {waited:#?}");
    assert!(
        took < Duration::from_secs(4),
        "a flood of datagrams from an ungranted address held the module's call in the host for \
         {took:?}, its deadline being 1 s"
    );
}

/// The same socket, seen from the network: datagrams from a thousand source ports, one
/// each, sent while the module waits on its socket. Each is dropped and counted as a denial of the
/// module, under a capability of its own (`net:127.0.0.1:<port>`): a stranger who is not the
/// module spends the 512 counters the ledger keeps for it, and what the module then uses is
/// counted as `(others)`.
#[test]
fn strangers_sending_datagrams_cannot_spend_a_modules_ledger() {
    let host = host(
        Modules::new(&[INTRUDER, HELLO]).manifest(INTRUDER, "[requests]\nget = [\"osd_map\"]\n"),
        false,
        true,
    );
    // Two rounds: a wait ends at the call's deadline, which restarts the module (a new
    // socket, on a new port, the next round).
    for _ in 0..2 {
        let opened = json_of(&host.ok(&["intruder", "udp-open"]));
        let port = opened["port"].as_u64().unwrap() as u16;
        let target = SocketAddr::from(([127, 0, 0, 1], port));
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            for _ in 0..500 {
                let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
                let _ = socket.send_to(b"x", target);
                std::thread::sleep(Duration::from_micros(200));
            }
        });
        let _ = run(&host, &["intruder", "udp-wait"]);
        sender.join().unwrap();
    }
    host.ok(&["intruder", "get", "osd_map"]);
    let caps = super::caps(&host, "intruder");
    let denied_net = caps["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["capability"]
                .as_str()
                .is_some_and(|c| c.starts_with("net:"))
        })
        .count();
    let used = super::cap_row(&caps, "get:osd_map").and_then(|r| r["used"]["count"].as_u64());
    assert!(
        used.is_some_and(|n| n >= 1),
        "after {denied_net} denials of addresses that sent it datagrams, the module's use of \
         get:osd_map is not in module caps"
    );
}
