//! Test guest: probes the sandbox from inside, the way a module that wants out would, and
//! reports what happened, for the hostile-module tests.
//!
//! Each probe of the WASI sandbox (files, environment, arguments, stdin, sockets, name lookup)
//! answers 0 with one JSON object: `{"ok": true, ...}` with what it got, or `{"ok": false,
//! "step", "errno", "kind", "error"}` with the step that failed and the error the guest saw
//! (`errno` is WASI's, as wasi-libc reports it). Probes of the host's own interfaces (`get`, `remote`) pass the host's error
//! on as the command's, so a test sees what a caller sees.
//!
//! Its manifest requests the OSD map and nothing else: every other data name, every remote
//! call, every directory and every socket address is one it never asked for. A test that
//! needs a granted directory or address gives it a `prober.toml` beside the component.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs, UdpSocket};

use serde_json::{Value, json};
use wasmgr_guest::{ErrorResponse, HandleCommandResult, MgrModule, cluster, errno, remote};

wasmgr_guest::manifest!(
    r#"
description = "Probes its sandbox and reports what it got"
[requests]
get = ["osd_map"]
"#
);

/// The longest piece of a file a probe shows: enough to tell whose file it is.
const HEAD_BYTES: usize = 64;

#[derive(Default)]
struct Prober {
    /// Files `prober open` keeps open, as a module hoarding descriptors would.
    held: Vec<File>,
}

impl MgrModule for Prober {
    const NAME: &'static str = "prober";
    const VERSION: &'static str = "0.1.0";
}

wasmgr_guest::choices! {
    enum Stream {
        Stdout = "stdout",
        Stderr = "stderr",
    }
}

type Reply = Result<HandleCommandResult, ErrorResponse>;

/// A probe's report as the command's output.
fn report(value: Value) -> Reply {
    Ok(HandleCommandResult::ok(value.to_string()))
}

/// What a failed probe saw.
fn failure(step: &str, e: &std::io::Error) -> Value {
    json!({
        "ok": false,
        "step": step,
        "errno": e.raw_os_error(),
        "kind": format!("{:?}", e.kind()),
        "error": e.to_string(),
    })
}

/// A count argument as a `usize`.
fn count(n: i64) -> Result<usize, ErrorResponse> {
    usize::try_from(n).map_err(|_| ErrorResponse::invalid(format!("{n} is not a count")))
}

#[wasmgr_guest::commands]
impl Prober {
    /// Read a file and show its size and first bytes
    #[read("prober read")]
    fn read(&mut self, path: String) -> Reply {
        report(match std::fs::read(&path) {
            Ok(data) => json!({
                "ok": true,
                "bytes": data.len(),
                "head": String::from_utf8_lossy(&data[..data.len().min(HEAD_BYTES)]),
            }),
            Err(e) => failure("read", &e),
        })
    }

    /// Write text to a file, creating or replacing it
    #[write("prober write")]
    fn write(&mut self, path: String, text: String) -> Reply {
        report(match std::fs::write(&path, text) {
            Ok(()) => json!({"ok": true}),
            Err(e) => failure("write", &e),
        })
    }

    /// List a directory's entries
    #[read("prober ls")]
    fn ls(&mut self, path: String) -> Reply {
        let entries = match std::fs::read_dir(&path) {
            Ok(entries) => entries,
            Err(e) => return report(failure("open", &e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => names.push(entry.file_name().to_string_lossy().into_owned()),
                Err(e) => return report(failure("list", &e)),
            }
        }
        names.sort();
        report(json!({"ok": true, "entries": names}))
    }

    /// Create a symbolic link at link pointing to points_to
    #[write("prober symlink")]
    fn symlink(&mut self, points_to: String, link: String) -> Reply {
        // The only stable way std offers to make a symlink on WASI.
        #[allow(deprecated, reason = "std::os::wasi::fs::symlink_path is unstable")]
        let made = std::fs::soft_link(&points_to, &link);
        report(match made {
            Ok(()) => json!({"ok": true}),
            Err(e) => failure("symlink", &e),
        })
    }

    /// Show the environment variables the module sees
    #[read("prober env")]
    fn env(&mut self) -> Reply {
        let vars: Vec<(String, String)> = std::env::vars_os()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.to_string_lossy().into_owned(),
                )
            })
            .collect();
        report(json!({"ok": true, "count": vars.len(), "vars": vars}))
    }

    /// Show the command-line arguments the module sees
    #[read("prober args")]
    fn args(&mut self) -> Reply {
        let args: Vec<String> = std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        report(json!({"ok": true, "args": args}))
    }

    /// Read standard input to its end and show how much came
    #[read("prober stdin")]
    fn stdin(&mut self) -> Reply {
        let mut data = Vec::new();
        report(match std::io::stdin().read_to_end(&mut data) {
            Ok(n) => json!({"ok": true, "bytes": n}),
            Err(e) => failure("read", &e),
        })
    }

    /// Connect to a TCP address (IP:PORT) and send a line
    #[write("prober tcp")]
    fn tcp(&mut self, addr: String) -> Reply {
        let mut stream = match TcpStream::connect(addr.as_str()) {
            Ok(s) => s,
            Err(e) => return report(failure("connect", &e)),
        };
        report(match stream.write_all(b"probe\n") {
            Ok(()) => json!({"ok": true}),
            Err(e) => failure("send", &e),
        })
    }

    /// Send one UDP datagram to an address (IP:PORT)
    #[write("prober udp")]
    fn udp(&mut self, addr: String) -> Reply {
        let socket = match UdpSocket::bind("0.0.0.0:0") {
            Ok(s) => s,
            Err(e) => return report(failure("bind", &e)),
        };
        report(match socket.send_to(b"probe", addr.as_str()) {
            Ok(n) => json!({"ok": true, "sent": n}),
            Err(e) => failure("send", &e),
        })
    }

    /// Listen for TCP connections on an address (IP:PORT)
    #[write("prober listen")]
    fn listen(&mut self, addr: String) -> Reply {
        report(match TcpListener::bind(addr.as_str()) {
            Ok(l) => json!({"ok": true, "local": l.local_addr().map(|a| a.to_string()).ok()}),
            Err(e) => failure("listen", &e),
        })
    }

    /// Send a UDP datagram to an address (IP:PORT), then show the first datagram that comes
    /// back to the socket, and where it came from (the call's deadline ends the wait)
    #[write("prober exchange")]
    fn exchange(&mut self, addr: String) -> Reply {
        let socket = match UdpSocket::bind("0.0.0.0:0") {
            Ok(s) => s,
            Err(e) => return report(failure("bind", &e)),
        };
        if let Err(e) = socket.send_to(b"probe", addr.as_str()) {
            return report(failure("send", &e));
        }
        let mut buf = [0u8; 512];
        report(match socket.recv_from(&mut buf) {
            Ok((n, from)) => json!({
                "ok": true,
                "from": from.to_string(),
                "data": String::from_utf8_lossy(&buf[..n]),
            }),
            Err(e) => failure("receive", &e),
        })
    }

    /// Resolve a host name to its addresses
    #[read("prober resolve")]
    fn resolve(&mut self, host: String) -> Reply {
        report(match (host.as_str(), 80).to_socket_addrs() {
            Ok(addrs) => {
                let addrs: Vec<String> = addrs.map(|a| a.to_string()).collect();
                json!({"ok": true, "addrs": addrs})
            }
            Err(e) => failure("resolve", &e),
        })
    }

    /// Print lines to standard output or standard error
    #[write("prober print")]
    fn print(&mut self, stream: Stream, #[arg(range = 1..=1000000)] lines: i64) -> Reply {
        let lines = count(lines)?;
        let mut out: Box<dyn Write> = match stream {
            Stream::Stdout => Box::new(std::io::stdout().lock()),
            Stream::Stderr => Box::new(std::io::stderr().lock()),
        };
        let mut printed = 0;
        for i in 0..lines {
            if writeln!(out, "prober flood line {i}").is_err() {
                break;
            }
            printed += 1;
        }
        report(json!({"ok": true, "printed": printed}))
    }

    /// Open count files in a directory and keep them open
    #[write("prober open")]
    fn open(&mut self, dir: String, #[arg(range = 1..=1000000)] count: i64) -> Reply {
        let wanted = self::count(count)?;
        let before = self.held.len();
        for i in 0..wanted {
            match File::create(format!("{dir}/held-{}", before + i)) {
                Ok(f) => self.held.push(f),
                Err(e) => {
                    let mut seen = failure("open", &e);
                    seen["opened"] = json!(i);
                    return report(seen);
                }
            }
        }
        report(json!({"ok": true, "opened": wanted, "held": self.held.len()}))
    }

    /// Ask for one cluster data name; the host's error is the command's
    #[read("prober get")]
    fn get(&mut self, name: String) -> Reply {
        let data = cluster::get_raw(&name)?;
        report(json!({"ok": true, "bytes": data.len()}))
    }

    /// Ask for count data names never requested, probe_<first> onwards; how many were denied
    #[read("prober names")]
    fn names(&mut self, first: i64, #[arg(range = 1..=1000000)] count: i64) -> Reply {
        let first = self::count(first)?;
        let (mut denied, mut other) = (0u64, 0u64);
        for i in first..first.saturating_add(self::count(count)?) {
            match cluster::get_raw(&format!("probe_{i}")) {
                Err(e) if e.errno() == errno::EACCES => denied += 1,
                _ => other += 1,
            }
        }
        report(json!({"ok": true, "denied": denied, "other": other}))
    }

    /// Call another module's method with no arguments; the host's error is the command's
    #[write("prober remote")]
    fn remote(&mut self, module: String, method: String) -> Reply {
        let result = remote::call_raw(&module, &method, "[]")?;
        Ok(HandleCommandResult::ok(result))
    }

    /// Answer at once
    #[read("prober ok")]
    fn ok(&mut self) -> HandleCommandResult {
        HandleCommandResult::ok("ok")
    }
}

wasmgr_guest::export_module!(Prober);
