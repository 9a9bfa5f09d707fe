//! The real daemon as a child process, and a minimal keep-alive HTTP/1.1 client for its admin
//! API. The client is hand-rolled so that it costs the measurement as little as possible: a
//! request is one prebuilt buffer, a response is read by its `content-length`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// A running `wasmgr serve`; killed when dropped.
pub struct Daemon {
    child: Child,
    pub endpoint: Endpoint,
}

/// Where the daemon listens and the read-write token (from `admin.json`).
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub addr: String,
    pub token: String,
}

impl Daemon {
    /// Start `wasmgr serve` on `data` and `modules` and wait until its admin endpoint file
    /// appears (it is written once every module has been started).
    pub fn start(bin: &Path, data: &Path, modules: &Path, cache: &Path) -> Result<Daemon> {
        let admin = data.join("admin.json");
        // A killed daemon leaves its endpoint file behind.
        let _ = std::fs::remove_file(&admin);
        let grants = crate::host::grant_requests(modules, data)?;
        let child = Command::new(bin)
            .arg("serve")
            .arg("--data")
            .arg(data)
            .arg("--modules")
            .arg(modules)
            .arg("--cache")
            .arg(cache)
            .arg("--grants")
            .arg(grants)
            .env("RUST_LOG", "warn")
            // A production daemon captures no native backtraces (see `main`).
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let mut daemon = Daemon {
            child,
            endpoint: Endpoint {
                addr: String::new(),
                token: String::new(),
            },
        };
        daemon.endpoint = daemon.wait_endpoint(&admin, Duration::from_secs(60))?;
        Ok(daemon)
    }

    fn wait_endpoint(&mut self, admin: &Path, timeout: Duration) -> Result<Endpoint> {
        let started = Instant::now();
        loop {
            // The daemon renames the file into place, so once it exists it is complete.
            if let Ok(bytes) = std::fs::read(admin) {
                let v: Value = serde_json::from_slice(&bytes)
                    .with_context(|| format!("{} is not JSON", admin.display()))?;
                let field = |k: &str| v[k].as_str().map(str::to_owned);
                let (Some(addr), Some(token)) = (field("addr"), field("token")) else {
                    bail!("{} lacks addr or token", admin.display());
                };
                return Ok(Endpoint { addr, token });
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("the daemon exited ({status}) before writing its endpoint");
            }
            if started.elapsed() > timeout {
                bail!("the daemon wrote no {} within {timeout:?}", admin.display());
            }
            // Short enough not to blur a ~10 ms start, long enough not to steal a core.
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One keep-alive connection to the admin API.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    token: String,
    host: String,
    /// `read_head`'s buffers, kept so that a request allocates nothing.
    start: String,
    line: String,
}

impl Conn {
    pub fn open(ep: &Endpoint) -> Result<Conn> {
        let stream = TcpStream::connect(&ep.addr)
            .with_context(|| format!("cannot connect to {}", ep.addr))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Conn {
            reader: BufReader::with_capacity(16 << 10, stream.try_clone()?),
            writer: stream,
            token: ep.token.clone(),
            host: ep.addr.clone(),
            start: String::new(),
            line: String::new(),
        })
    }

    /// The bytes of `POST /v1/command` with `body`, to send many times.
    pub fn command_request(&self, body: &Value) -> Vec<u8> {
        let body = body.to_string();
        let mut req = format!(
            "POST /v1/command HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            self.host,
            self.token,
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body.as_bytes());
        req
    }

    /// Send a prebuilt request; the response body of a 200, into `body`.
    pub fn send(&mut self, request: &[u8], body: &mut Vec<u8>) -> Result<()> {
        self.writer.write_all(request)?;
        let length = read_head(&mut self.reader, &mut self.start, &mut self.line)
            .context("reading the daemon's response")?;
        let start = self.start.trim_end();
        let status: u16 = start
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("bad status line '{start}'"))?;
        let Some(length) = length else {
            bail!("response without content-length");
        };
        body.resize(length, 0);
        self.reader.read_exact(body)?;
        if status != 200 {
            bail!("HTTP {status}: {}", String::from_utf8_lossy(body));
        }
        Ok(())
    }

    /// Run one command and return its reply (`retval`, `stdout`, `stderr`).
    pub fn command(&mut self, words: &[&str], format: Option<&str>) -> Result<Value> {
        let req = self.command_request(&serde_json::json!({
            "words": words,
            "format": format,
        }));
        let mut body = Vec::new();
        self.send(&req, &mut body)?;
        Ok(serde_json::from_slice(&body)?)
    }
}

/// Read one HTTP/1.1 message head up to its blank line: the start line (request or status
/// line) into `start`, and the `content-length`, if there is one. `line` is a buffer for the
/// header lines, so that a caller reading many heads allocates once. A connection closed
/// before the blank line is an `UnexpectedEof` error.
pub fn read_head(
    reader: &mut impl BufRead,
    start: &mut String,
    line: &mut String,
) -> std::io::Result<Option<usize>> {
    start.clear();
    read_line(reader, start)?;
    let mut length = None;
    loop {
        line.clear();
        read_line(reader, line)?;
        let l = line.trim_end();
        if l.is_empty() {
            return Ok(length);
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().ok();
        }
    }
}

fn read_line(reader: &mut impl BufRead, line: &mut String) -> std::io::Result<()> {
    if reader.read_line(line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the connection closed before the end of the message head",
        ));
    }
    Ok(())
}

/// Whether every module of the daemon is running, by `module ls`.
pub fn all_running(conn: &mut Conn, expected: usize) -> Result<bool> {
    let reply = conn.command(&["module", "ls"], Some("json"))?;
    let rows: Value = serde_json::from_str(reply["stdout"].as_str().unwrap_or("[]"))?;
    let rows = rows.as_array().map(Vec::as_slice).unwrap_or_default();
    Ok(rows.len() == expected && rows.iter().all(|r| r["state"] == "running"))
}

/// The daemon binary next to this one (cargo builds both into the same directory).
pub fn default_binary() -> Result<PathBuf> {
    let me = std::env::current_exe()?;
    let dir = me.parent().context("the bench binary has no directory")?;
    Ok(dir.join("wasmgr"))
}
