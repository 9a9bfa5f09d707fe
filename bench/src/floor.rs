//! The floor of a command over loopback HTTP: a minimal server in a child process of its own,
//! as the daemon is, that answers every request with the same prebuilt reply. A thread per
//! connection with blocking reads and writes: the fewest wake-ups and the least work any
//! HTTP/1.1 server can do per request, so the admin API cases have a baseline measured in the
//! same run by the same client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use crate::daemon::{Endpoint, read_head};

/// The server as a child process; killed when dropped.
pub struct Floor {
    child: Child,
    pub endpoint: Endpoint,
}

impl Floor {
    /// Start `wasmgr-bench __http-floor`, which answers every request with `reply_body`.
    pub fn start(reply_body: &[u8]) -> Result<Floor> {
        let me = std::env::current_exe()?;
        let mut child = Command::new(me)
            .arg("__http-floor")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start the HTTP floor server")?;
        let mut stdin = child.stdin.take().context("no stdin")?;
        stdin.write_all(reply_body)?;
        drop(stdin);
        let stdout = child.stdout.take().context("no stdout")?;
        let mut addr = String::new();
        BufReader::new(stdout).read_line(&mut addr)?;
        let addr = addr.trim().to_owned();
        if addr.is_empty() {
            let _ = child.kill();
            bail!("the HTTP floor server printed no address");
        }
        Ok(Floor {
            child,
            endpoint: Endpoint {
                addr,
                token: "unused".into(),
            },
        })
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child's side: read the reply body from stdin, print the address, serve forever.
pub fn serve() -> Result<()> {
    let mut body = Vec::new();
    std::io::stdin().read_to_end(&mut body)?;
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(&body);
    let reply = Arc::new(reply);
    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    for stream in listener.incoming() {
        let stream = stream?;
        let reply = reply.clone();
        std::thread::spawn(move || {
            // A closed connection ends its thread; nothing to report.
            let _ = connection(stream, &reply);
        });
    }
    Ok(())
}

fn connection(stream: TcpStream, reply: &[u8]) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::with_capacity(16 << 10, stream.try_clone()?);
    let mut writer = stream;
    // The request line is read and ignored: every request gets the same reply.
    let (mut start, mut line) = (String::new(), String::new());
    let mut body = Vec::new();
    loop {
        let length = read_head(&mut reader, &mut start, &mut line)?.unwrap_or(0);
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
        writer.write_all(reply)?;
    }
}
