//! The `wasmgr` command line: `wasmgr serve` runs the daemon; `wasmgr key ...` and `wasmgr
//! module sign` make keys and sign modules on their own; every other invocation is a client of
//! a running daemon, in the spirit of the `ceph` CLI.
//!
//! This crate is the only place that reads argv and the environment and installs the tracing
//! subscriber.

mod admin;
mod alloc;
mod client;
mod http;
mod serve;
mod sign;

use std::path::PathBuf;

/// The environment variable naming the data directory, when `--data` is not given.
pub const DATA_ENV: &str = "WASMGR_DATA";

/// The environment variable holding a named admin client's token (see `wasmgr auth create`),
/// used instead of the data directory's when `--token-file` is not given.
pub const TOKEN_ENV: &str = "WASMGR_TOKEN";

/// The data directory: `--data`, else `$WASMGR_DATA`, else `$XDG_STATE_HOME/wasmgr`, else
/// `~/.local/state/wasmgr`.
pub(crate) fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os(DATA_ENV) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_STATE_HOME") {
        return PathBuf::from(d).join("wasmgr");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".local/state/wasmgr"),
        None => PathBuf::from("wasmgr-data"),
    }
}

/// Run the command line of this process (its arguments after the program name); returns the
/// exit code. An argument that is not UTF-8 is refused with `EINVAL`.
pub fn main_os(args: impl Iterator<Item = std::ffi::OsString>) -> i32 {
    let mut text = Vec::new();
    for arg in args {
        match arg.into_string() {
            Ok(a) => text.push(a),
            Err(raw) => {
                eprintln!(
                    "Error EINVAL: the argument {} is not valid UTF-8: commands, names and paths \
                     must be UTF-8 text",
                    raw.display()
                );
                return 22;
            }
        }
    }
    main(text)
}

/// Run the command line `args` (without the program name); returns the exit code.
pub fn main(args: Vec<String>) -> i32 {
    if args.first().map(String::as_str) == Some("serve") {
        alloc::give_memory_back();
        return serve::main(&args[1..]);
    }
    if let Some(code) = sign::main(&args) {
        return code;
    }
    if args.first().map(String::as_str) == Some("grants") {
        return grants(&args[1..]);
    }
    client::main(args)
}

/// `wasmgr grants requested DIR`: print a grants file (for `wasmgr serve --grants`) that
/// grants every module in DIR what its manifest requests, pinned to its digest. Review the
/// modules' requests (`module caps`) before approving them this way.
fn grants(args: &[String]) -> i32 {
    const USAGE: &str = "usage: wasmgr grants requested DIR\n\n  print a grants file that grants every module in DIR (its <name>.wasm files) what its\n  manifest requests, pinned to the component's digest; use it with 'wasmgr serve --grants FILE'";
    match args {
        [cmd, dir] if cmd == "requested" => {
            match wasmgr_runtime::grants_file::requested_by(std::path::Path::new(dir)) {
                Ok(text) => {
                    print!("{text}");
                    0
                }
                Err(e) => {
                    eprintln!("wasmgr grants: {e}");
                    2
                }
            }
        }
        [h] if h == "-h" || h == "--help" => {
            println!("{USAGE}");
            0
        }
        _ => {
            eprintln!("{USAGE}");
            22
        }
    }
}

/// Entry points for the fuzz targets of `fuzz/` (crate `wasmgr-fuzz`); not an API.
#[doc(hidden)]
pub mod fuzzing {
    use std::io::{self, Read, Write};
    use std::time::Duration;

    use wasmgr_runtime::manager::CommandRequest;

    use crate::http::{self, Request, Response};

    /// The token the stand-in handler accepts.
    pub const TOKEN: &str = "fuzz";

    /// Serve `input` as everything a client sent on one admin API connection, handing the
    /// server at most `chunk` bytes per read; returns what the server wrote back.
    ///
    /// The requests go through the daemon's HTTP/1.1 reader and writer (`http::serve_on`) to a
    /// handler that routes, checks the token and decodes command requests as the daemon's
    /// does, and answers with the words it decoded instead of running them.
    pub fn admin_connection(input: &[u8], chunk: usize) -> Vec<u8> {
        let mut stream = Memory {
            input,
            chunk: chunk.max(1),
            output: Vec::new(),
        };
        // The result only says how the connection ended; the output shows what the client saw.
        let _ = http::serve_on(
            &mut stream,
            Duration::from_secs(60),
            &StandIn,
            &http::Activity::default(),
        );
        stream.output
    }

    /// Client bytes in memory, read at most `chunk` at a time; the end of the input is the
    /// client closing the connection.
    struct Memory<'a> {
        input: &'a [u8],
        chunk: usize,
        output: Vec<u8>,
    }

    impl Read for Memory<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.chunk).min(self.input.len());
            let (now, later) = self.input.split_at(n);
            buf[..n].copy_from_slice(now);
            self.input = later;
            Ok(n)
        }
    }

    impl Write for Memory<'_> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.output.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl http::Transport for &mut Memory<'_> {
        fn set_read_timeout(&self, _: Option<Duration>) -> io::Result<()> {
            Ok(())
        }

        fn shutdown_write(&self) -> io::Result<()> {
            Ok(())
        }
    }

    /// The daemon's routes and token check, without a manager behind them.
    struct StandIn;

    impl http::Handler for StandIn {
        type Admitted = ();
        type Guard = ();

        fn admit(&self, req: &Request) -> Result<(), Response> {
            let authorized = req.authorization.as_deref() == Some(&format!("Bearer {TOKEN}"));
            match (req.method.as_str(), req.path.as_str()) {
                ("POST", "/v1/command") | ("GET", "/v1/commands") if authorized => Ok(()),
                ("POST", "/v1/command") | ("GET", "/v1/commands") => {
                    Err(Response::error(401, "missing or wrong token"))
                }
                (_, "/v1/command" | "/v1/commands") => Err(Response::error(405, "wrong method")),
                (_, path) => Err(Response::error(404, format!("no such route '{path}'"))),
            }
        }

        fn answer(&self, req: &Request, (): ()) -> (Response, ()) {
            if req.path == "/v1/commands" {
                return (Response::json(b"[]".to_vec()), ());
            }
            let response = match serde_json::from_slice::<CommandRequest>(&req.body) {
                Ok(cmd) => match serde_json::to_vec(&cmd.words) {
                    Ok(body) => Response::json(body),
                    Err(e) => Response::error(500, e.to_string()),
                },
                Err(e) => Response::error(400, format!("bad command request: {e}")),
            };
            (response, ())
        }
    }
}
