//! Test guest: a stranger's module that attacks the capability system from inside, for the
//! attack tests (`tests/it/attack`).
//!
//! Its embedded manifest requests nothing, so it runs at once with no capability at all; a
//! test that wants it to hold some gives it an `intruder.toml` beside the component. Each
//! command passes the host's error on as its own (the negative errno, the host's message on
//! stderr), so a test sees exactly what the module saw.
//!
//! - `intruder send <svc> <command>`: the raw command JSON, byte for byte as given (duplicate
//!   keys, odd whitespace), sent with `send-wait`; answers `{"retval", "outb", "outs"}`;
//! - `intruder flood-commands <count> <bytes>`: `count` cluster commands whose prefixes are
//!   `bytes` long and distinct (from every other call's too), none of them granted; answers
//!   how many were denied;
//! - `intruder get <name>`: one cluster data name; answers its size;
//! - `intruder remote <module> <method>`: a remote call with no arguments;
//! - `intruder heard`: the cluster log entries that reached its `notify(clog)`, which it
//!   subscribes to (a module can subscribe to any notify kind);
//! - `intruder read <path>`, `intruder symlink <points_to> <link>`, `intruder rename <from>
//!   <to>`: WASI file access;
//! - `intruder trap`: panics, so the host makes a fresh instance (with fresh WASI preopens);
//! - `intruder udp-open`: binds a UDP socket on the wildcard address and an ephemeral port
//!   (no grant is needed for that) and answers the port; `intruder udp-wait`: waits on it for
//!   one datagram, as a module serving something would.

use std::net::UdpSocket;

use serde_json::{Value, json};
use wasmgr_guest::bindings::wasmgr::mgr::command as host_command;
use wasmgr_guest::{
    ErrorCode, ErrorResponse, HandleCommandResult, MgrModule, NotifyKind, cluster, remote,
};

wasmgr_guest::manifest!(
    r#"
description = "Attacks its sandbox and the capability system"
"#
);

/// Cluster log entries kept, the newest.
const HEARD: usize = 1000;

#[derive(Default)]
struct Intruder {
    heard: Vec<String>,
    udp: Option<UdpSocket>,
}

impl MgrModule for Intruder {
    const NAME: &'static str = "intruder";
    const VERSION: &'static str = "0.1.0";
    const NOTIFY: &'static [NotifyKind] = &[NotifyKind::Clog];

    fn notify(&mut self, kind: NotifyKind, id: &str) {
        if kind == NotifyKind::Clog {
            if self.heard.len() >= HEARD {
                self.heard.remove(0);
            }
            self.heard.push(id.to_owned());
        }
    }
}

type Reply = Result<HandleCommandResult, ErrorResponse>;

fn report(value: Value) -> Reply {
    Ok(HandleCommandResult::ok(value.to_string()))
}

fn io_failure(step: &str, e: &std::io::Error) -> Value {
    json!({"ok": false, "step": step, "kind": format!("{:?}", e.kind()), "error": e.to_string()})
}

#[wasmgr_guest::commands]
impl Intruder {
    /// Send a raw command JSON to a daemon type and wait for its reply
    #[write("intruder send")]
    fn send(&mut self, svc: String, command: String) -> Reply {
        let reply = host_command::send_wait(&svc, "", &command, "", 900)
            .map_err(wasmgr_guest::Error::from)?;
        report(json!({"retval": reply.retval, "outb": reply.outb, "outs": reply.outs}))
    }

    /// Send count commands with distinct prefixes of bytes bytes each
    #[write("intruder flood-commands")]
    fn flood_commands(
        &mut self,
        #[arg(range = 1..=1000)] count: i64,
        #[arg(range = 1..=16777216)] bytes: i64,
    ) -> Reply {
        let (mut denied, mut other) = (0u64, 0u64);
        let filler = "x".repeat(bytes as usize);
        // Distinct from every earlier call's too.
        let call = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        for i in 0..count {
            let mut prefix = format!("probe {call} {i} ");
            prefix.push_str(&filler[..filler.len().saturating_sub(prefix.len())]);
            let command = json!({"prefix": prefix}).to_string();
            match host_command::send_wait("mon", "", &command, "", 100) {
                Err(e) if e.code == ErrorCode::AccessDenied => denied += 1,
                _ => other += 1,
            }
        }
        report(json!({"denied": denied, "other": other}))
    }

    /// Ask for one cluster data name; the host's error is the command's
    #[read("intruder get")]
    fn get(&mut self, name: String) -> Reply {
        let data = cluster::get_raw(&name)?;
        report(json!({"ok": true, "bytes": data.len()}))
    }

    /// Call another module's method with no arguments; the host's error is the command's
    #[write("intruder remote")]
    fn remote(&mut self, module: String, method: String) -> Reply {
        let result = remote::call_raw(&module, &method, "[]")?;
        Ok(HandleCommandResult::ok(result))
    }

    /// Show the cluster log entries this module was told of
    #[read("intruder heard")]
    fn heard(&mut self) -> Reply {
        report(json!(self.heard))
    }

    /// Read a file and show its first bytes
    #[read("intruder read")]
    fn read(&mut self, path: String) -> Reply {
        report(match std::fs::read(&path) {
            Ok(data) => json!({
                "ok": true,
                "bytes": data.len(),
                "text": String::from_utf8_lossy(&data[..data.len().min(4096)]),
            }),
            Err(e) => io_failure("read", &e),
        })
    }

    /// Create a symbolic link at link pointing to points_to
    #[write("intruder symlink")]
    fn symlink(&mut self, points_to: String, link: String) -> Reply {
        #[allow(deprecated, reason = "std::os::wasi::fs::symlink_path is unstable")]
        let made = std::fs::soft_link(&points_to, &link);
        report(match made {
            Ok(()) => json!({"ok": true}),
            Err(e) => io_failure("symlink", &e),
        })
    }

    /// Rename a file or directory
    #[write("intruder rename")]
    fn rename(&mut self, from: String, to: String) -> Reply {
        report(match std::fs::rename(&from, &to) {
            Ok(()) => json!({"ok": true}),
            Err(e) => io_failure("rename", &e),
        })
    }

    /// Trap, so that the host makes a fresh instance
    #[write("intruder trap")]
    fn trap(&mut self) -> Reply {
        panic!("intruder traps on purpose");
    }

    /// Bind a UDP socket on the wildcard address; answer its port
    #[write("intruder udp-open")]
    fn udp_open(&mut self) -> Reply {
        let socket = match UdpSocket::bind("0.0.0.0:0") {
            Ok(s) => s,
            Err(e) => return report(io_failure("bind", &e)),
        };
        let port = socket.local_addr().map(|a| a.port()).unwrap_or(0);
        self.udp = Some(socket);
        report(json!({"ok": true, "port": port}))
    }

    /// Wait for one datagram on the socket of udp-open
    #[write("intruder udp-wait")]
    fn udp_wait(&mut self) -> Reply {
        let Some(socket) = &self.udp else {
            return Err(ErrorResponse::invalid("run intruder udp-open first"));
        };
        let mut buf = [0u8; 512];
        report(match socket.recv_from(&mut buf) {
            Ok((n, from)) => json!({"ok": true, "from": from.to_string(), "bytes": n}),
            Err(e) => io_failure("receive", &e),
        })
    }
}

wasmgr_guest::export_module!(Intruder);
