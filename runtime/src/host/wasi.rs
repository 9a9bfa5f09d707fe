//! The WASI a module gets, and the one place where it can wait.
//!
//! A module's WASI grants nothing by default (see [`super::ModuleCtx::new`]): no directories,
//! no environment or arguments, no sockets, an empty stdin; stdout and stderr go to the
//! module's log ([`LogStream`]). Granted directories come through wasmtime-wasi's cap-std
//! preopens (confined: no `..` or symlink leaves them), granted sockets through its address
//! check. `wasi:filesystem/preopens` is shadowed by [`CountedPreopens`] so the ledger sees
//! which granted directories a module uses.
//!
//! Every WASI interface is wasmtime-wasi's synchronous implementation, except `wasi:io/poll`:
//! `poll` and `pollable.block` are the only calls through which a guest can wait (a sleep is
//! a clock pollable blocked on; streams have no files or sockets behind them here), and
//! wasmtime's epoch deadline only interrupts guest code, not a host call waiting on a timer.
//! So the linker's `wasi:io/poll` is shadowed by [`BoundedPoll`], which waits no longer than
//! the call's deadline: a guest that sleeps past it is stopped exactly like one that spins,
//! with [`crate::trap::TrapKind::Deadline`].

use std::time::{Duration, Instant};

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::filesystem::{WasiFilesystemCtxView, WasiFilesystemView};
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::p2::bindings::filesystem::preopens;
use wasmtime_wasi::p2::bindings::filesystem::types::Descriptor;
use wasmtime_wasi::p2::bindings::io::poll::{Host as AsyncPoll, HostPollable as AsyncPollable};
use wasmtime_wasi::p2::bindings::sync::io::poll as sync_poll;
use wasmtime_wasi::runtime::in_tokio;
use wasmtime_wasi::sockets::SocketAddrUse;

use super::ModuleCtx;

/// The `wasi:io/poll` a module sees: wasmtime-wasi's, bounded by the call's deadline.
pub(crate) struct BoundedPoll;

impl HasData for BoundedPoll {
    type Data<'a> = BoundedWait<'a>;
}

/// What a wait needs: the instance's resources, when its call must end, and where to record
/// that a wait was cut short by that deadline.
pub(crate) struct BoundedWait<'a> {
    table: &'a mut ResourceTable,
    deadline: Option<Instant>,
    expired: &'a mut bool,
}

/// Adds WASI to `linker`, with [`BoundedPoll`] in place of wasmtime-wasi's `wasi:io/poll` and
/// [`CountedPreopens`] in place of its `wasi:filesystem/preopens`.
pub(crate) fn add_to_linker(linker: &mut Linker<ModuleCtx>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    linker.allow_shadowing(true);
    let added = sync_poll::add_to_linker::<ModuleCtx, BoundedPoll>(linker, |ctx| BoundedWait {
        table: &mut ctx.table,
        deadline: ctx.deadline,
        expired: &mut ctx.wait_expired,
    })
    .and_then(|()| {
        preopens::add_to_linker::<ModuleCtx, CountedPreopens>(linker, |ctx| {
            let env = ctx.env.clone();
            Counted {
                env,
                fs: WasiFilesystemView::filesystem(ctx),
            }
        })
    });
    linker.allow_shadowing(false);
    added
}

/// The `wasi:filesystem/preopens` a module sees: wasmtime-wasi's, counting in the ledger the
/// granted directories handed to the module (its first file access asks for them).
pub(crate) struct CountedPreopens;

impl HasData for CountedPreopens {
    type Data<'a> = Counted<'a>;
}

/// The module's environment and its WASI filesystem.
pub(crate) struct Counted<'a> {
    env: std::sync::Arc<crate::module_env::ModuleEnv>,
    fs: WasiFilesystemCtxView<'a>,
}

impl preopens::Host for Counted<'_> {
    fn get_directories(&mut self) -> wasmtime::Result<Vec<(Resource<Descriptor>, String)>> {
        let dirs = preopens::Host::get_directories(&mut self.fs)?;
        let caps = self.env.caps();
        for (_, guest) in &dirs {
            if let Some(cap) = caps
                .caps()
                .iter()
                .find(|c| matches!(c, crate::caps::Cap::Files { guest: g, .. } if g == guest))
            {
                self.env.ledger.used(&self.env.name, cap);
            }
        }
        Ok(dirs)
    }
}

/// Whether a module may use socket address `addr` for `usage`: connecting to, sending to and
/// receiving from a granted address, and the implicit binds a client socket needs (the
/// wildcard address, port 0). Listening and accepting are never granted: a module serves
/// nobody outside the daemon. Every other attempt is counted as a denial.
pub(crate) fn socket_allowed(
    env: &crate::module_env::ModuleEnv,
    addr: std::net::SocketAddr,
    usage: SocketAddrUse,
) -> bool {
    match usage {
        SocketAddrUse::TcpConnect | SocketAddrUse::UdpSend => {
            env.allow(crate::caps::Cap::Net(addr)).is_ok()
        }
        SocketAddrUse::UdpReceive => {
            // Anyone can send a datagram to a module's socket: those from addresses it was
            // not granted are dropped and counted under one counter, so strangers cannot
            // spend the module's ledger.
            let from = crate::caps::Cap::Net(addr);
            if env.caps().allows(&from) {
                env.ledger.used(&env.name, &from);
                true
            } else {
                env.ledger.denied(
                    &env.name,
                    &crate::ledger::overflow(&from),
                    "datagrams from addresses the module was not granted are dropped",
                );
                false
            }
        }
        SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => {
            addr.ip().is_unspecified() && addr.port() == 0
        }
        _ => {
            let _ = env.allow(crate::caps::Cap::Net(addr));
            false
        }
    }
}

/// A module's stdout or stderr: complete lines go to the module's log (at `level`), through
/// its rate limit; a line longer than [`limits::LOG_LINE_BYTES`] is cut there. Nothing is
/// kept beyond one partial line, so a guest printing without end costs the host a bounded
/// buffer and the log rate limit.
#[derive(Clone)]
pub(crate) struct LogStream {
    env: std::sync::Arc<crate::module_env::ModuleEnv>,
    level: crate::bindings::Level,
    partial: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl LogStream {
    pub(crate) fn new(
        env: std::sync::Arc<crate::module_env::ModuleEnv>,
        level: crate::bindings::Level,
    ) -> LogStream {
        LogStream {
            env,
            level,
            partial: std::sync::Arc::default(),
        }
    }

    fn take(&self, bytes: &[u8]) {
        let mut partial = self.partial.lock().unwrap_or_else(|p| p.into_inner());
        for &b in bytes {
            if b == b'\n' {
                self.emit(&partial);
                partial.clear();
            } else if partial.len() < crate::limits::LOG_LINE_BYTES {
                partial.push(b);
            }
        }
    }

    fn emit(&self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches('\r');
        if !text.is_empty() {
            self.env.log(self.level, text);
        }
    }
}

impl wasmtime_wasi::cli::IsTerminal for LogStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl wasmtime_wasi::cli::StdoutStream for LogStream {
    fn p2_stream(&self) -> Box<dyn wasmtime_wasi::p2::OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(LogWriter(self.clone()))
    }
}

#[async_trait::async_trait]
impl wasmtime_wasi::p2::Pollable for LogStream {
    async fn ready(&mut self) {}
}

impl wasmtime_wasi::p2::OutputStream for LogStream {
    fn write(&mut self, bytes: bytes::Bytes) -> wasmtime_wasi::p2::StreamResult<()> {
        self.take(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> wasmtime_wasi::p2::StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> wasmtime_wasi::p2::StreamResult<usize> {
        Ok(STDIO_WRITE_BYTES)
    }
}

/// The most bytes one stdout/stderr write may carry (what wasmtime-wasi's pipes allow).
const STDIO_WRITE_BYTES: usize = 64 << 10;

/// [`LogStream`] as a tokio writer (for WASIp3's streams, which these modules do not use).
struct LogWriter(LogStream);

impl tokio::io::AsyncWrite for LogWriter {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.0.take(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// Waits for `fut`, at most until `deadline`; past it, records that in `expired` and fails,
/// which traps the call.
fn bounded_by<T>(
    deadline: Option<Instant>,
    expired: &mut bool,
    fut: impl Future<Output = wasmtime::Result<T>>,
) -> wasmtime::Result<T> {
    let left = deadline.map_or(Duration::ZERO, |d| {
        d.saturating_duration_since(Instant::now())
    });
    match in_tokio(async { tokio::time::timeout(left, fut).await }) {
        Ok(result) => result,
        Err(_) => {
            *expired = true;
            Err(wasmtime::Error::msg(
                "a WASI wait ran past the call's deadline",
            ))
        }
    }
}

impl sync_poll::Host for BoundedWait<'_> {
    fn poll(&mut self, pollables: Vec<Resource<DynPollable>>) -> wasmtime::Result<Vec<u32>> {
        let fut = AsyncPoll::poll(&mut *self.table, pollables);
        bounded_by(self.deadline, &mut *self.expired, fut)
    }
}

impl sync_poll::HostPollable for BoundedWait<'_> {
    fn ready(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<bool> {
        // Never waits: it asks whether the pollable is ready now.
        in_tokio(async { AsyncPollable::ready(&mut *self.table, pollable).await })
    }

    fn block(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        let fut = AsyncPollable::block(&mut *self.table, pollable);
        bounded_by(self.deadline, &mut *self.expired, fut)
    }

    fn drop(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        AsyncPollable::drop(&mut *self.table, pollable)
    }
}
