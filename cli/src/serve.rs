//! `wasmgr serve`: the daemon. Starts the host, then serves the admin API on loopback.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use wasmgr_runtime::clients;
use wasmgr_runtime::cluster::{ClusterSource, SimSource, SnapshotSource};
use wasmgr_runtime::host_config::HostConfigFile;
use wasmgr_runtime::manager::{ClientPerm, CommandRequest, HostConfig, Manager};

use crate::admin::{self, Endpoint};
use crate::http::{self as http, Request, Response};

/// Connections the admin API serves at once. When a client connects with all of them in use,
/// the connection idle the longest is closed to make room ([`Connections::evict_idlest`]); if
/// every one is running a command, the new client is refused with 503. So idle connections,
/// which anyone on the host can open without a token, cannot lock clients out.
const MAX_CONNECTIONS: usize = 128;
/// Commands from read-only clients that may run at once. The rest of the connections stay
/// for read-write clients: a read-only token cannot take every slot with slow commands.
const READONLY_COMMANDS: usize = MAX_CONNECTIONS / 2;
/// How long a new client waits for an evicted connection's slot to come free.
const EVICT_WAIT: Duration = Duration::from_secs(2);
/// A connection that sends no complete request header for this long is closed (an idle
/// keep-alive connection, or a client that stalls).
const HEADER_TIMEOUT: Duration = Duration::from_secs(60);
/// How long shutdown waits for commands in progress before it stops the modules.
const DRAIN_WAIT: Duration = Duration::from_secs(2);

/// Why the admin API does not listen beyond loopback, and what to do instead.
const NO_TLS: &str = "the admin API has no TLS, so client tokens, commands and their replies \
would cross the network in clear text, where anyone on the path could read a token and act as \
its client; keep a loopback address and reach the daemon from elsewhere through an SSH tunnel \
(ssh -L 7480:127.0.0.1:PORT HOST) or a TLS-terminating reverse proxy on this host that forwards \
to the loopback address";

const USAGE: &str =
    "usage: wasmgr serve [--data DIR] [--modules DIR] [--listen ADDR] [--listen-remote]
                    [--cluster SOURCE] [--config FILE] [--cache DIR] [--debug-mgr LEVEL]
                    [--grants FILE]

  --data DIR        state: database, compiled-module cache, admin endpoint
                    (default: $WASMGR_DATA, else $XDG_STATE_HOME/wasmgr, else ~/.local/state/wasmgr)
  --modules DIR     module components (<name>.wasm, optional <name>.toml) (default: DIR/modules)
  --listen ADDR     admin API address, loopback only (default: 127.0.0.1:0, a free port)
  --listen-remote   allow a --listen address beyond loopback: refused while the admin API
                    has no TLS (tokens would cross the network in clear text); use an SSH
                    tunnel or a TLS-terminating reverse proxy that forwards to loopback
  --cluster SOURCE  cluster state: 'sim' (a simulated Ceph 16.2 cluster that changes over
                    time, default), 'sim:osds=N,seed=S,pace=MS' (its size, seed and pace),
                    'snapshot' (the embedded Ceph 16.2 capture, never changes) or
                    'snapshot:DIR' (a directory of JSON files with the same names)
  --config FILE     host configuration (TOML): module_slots, workers, debug_mgr, [limits]
                    to lower every module's ceilings, and [trust] for signed modules
  --cache DIR       compiled-module cache, may be shared by daemons (default: DIR/cache)
  --debug-mgr LEVEL the daemon's log level in Ceph notation, used by modules whose log_level
                    is empty (default: 2/5)
  --grants FILE     capability grants to apply at start, each pinned to a component digest
                    (TOML: a [module] table with digest and grant keys; see the README)
  RUST_LOG          filters the daemon's own log (default: info)";

struct Args {
    data: PathBuf,
    modules: Option<PathBuf>,
    listen: SocketAddr,
    listen_remote: bool,
    cluster: String,
    debug_mgr: String,
    cache: Option<PathBuf>,
    config: Option<PathBuf>,
    grants: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        data: crate::default_data_dir(),
        modules: None,
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        listen_remote: false,
        cluster: "sim".into(),
        debug_mgr: "2/5".into(),
        cache: None,
        config: None,
        grants: None,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
            _ => (flag.as_str(), None),
        };
        if name == "-h" || name == "--help" {
            return Err(String::new());
        }
        if name == "--listen-remote" {
            if inline.is_some() {
                return Err("--listen-remote takes no value".into());
            }
            a.listen_remote = true;
            continue;
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or(format!("{name} needs a value"))
        };
        match name {
            "--data" => a.data = PathBuf::from(value()?),
            "--modules" => a.modules = Some(PathBuf::from(value()?)),
            "--listen" => {
                let v = value()?;
                a.listen = v
                    .parse()
                    .map_err(|e| format!("--listen {v}: {e}; use e.g. 127.0.0.1:7480"))?;
            }
            "--cluster" => a.cluster = value()?,
            "--debug-mgr" => a.debug_mgr = value()?,
            "--cache" => a.cache = Some(PathBuf::from(value()?)),
            "--config" => a.config = Some(PathBuf::from(value()?)),
            "--grants" => a.grants = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown option '{other}'")),
        }
    }
    // Listening beyond loopback takes an explicit flag, and TLS, which the admin API does not
    // have: both ways are refused, with the reason.
    if a.listen_remote {
        return Err(format!("--listen-remote is refused: {NO_TLS}"));
    }
    if !a.listen.ip().is_loopback() {
        return Err(format!(
            "--listen {}: the admin API listens on loopback only (127.0.0.1 or [::1]); \
             beyond it would take --listen-remote, which is refused: {NO_TLS}",
            a.listen
        ));
    }
    Ok(a)
}

fn cluster_source(spec: &str) -> Result<Arc<dyn ClusterSource>, String> {
    match spec.split_once(':') {
        None if spec == "sim" => SimSource::from_config("")
            .map(|s| Arc::new(s) as Arc<dyn ClusterSource>)
            .map_err(|e| format!("--cluster sim: {e}")),
        Some(("sim", settings)) => SimSource::from_config(settings)
            .map(|s| Arc::new(s) as Arc<dyn ClusterSource>)
            .map_err(|e| format!("--cluster {spec}: {e}")),
        None if spec == "snapshot" => Ok(Arc::new(SnapshotSource::embedded())),
        Some(("snapshot", dir)) => SnapshotSource::from_dir(std::path::Path::new(dir))
            .map(|s| Arc::new(s) as Arc<dyn ClusterSource>)
            .map_err(|e| e.to_string()),
        _ => Err(format!(
            "--cluster {spec}: unknown source; use 'sim', 'sim:SETTINGS', 'snapshot' or 'snapshot:DIR'"
        )),
    }
}

/// Run the daemon until SIGINT/SIGTERM; returns the exit code.
pub fn main(args: &[String]) -> i32 {
    let args = match parse(args) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return 0;
        }
        Err(e) => {
            eprintln!("wasmgr serve: {e}\n\n{USAGE}");
            return 22;
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match run(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("wasmgr serve: {e:#}");
            1
        }
    }
}

struct App {
    manager: Arc<Manager>,
    admin_token: String,
    readonly_token: String,
    /// Commands being run for clients, or whose replies are being written, right now.
    in_flight: Arc<AtomicUsize>,
    /// Set at shutdown: commands that arrive after it are refused.
    closing: AtomicBool,
    /// Commands of read-only clients running now (at most [`READONLY_COMMANDS`]).
    readonly_running: Arc<AtomicUsize>,
    /// Bytes of request bodies admitted and not yet answered (at most [`BODY_BUDGET`]).
    body_bytes: Arc<AtomicUsize>,
}

/// Counts one command in [`App::in_flight`] (and a read-only client's in
/// [`App::readonly_running`]) from its admission until its reply is written, however the
/// command ends.
struct InFlight(Arc<AtomicUsize>, Option<Arc<AtomicUsize>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
        if let Some(readonly) = &self.1 {
            readonly.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Permissions of a data directory (and its `log` directory) the daemon creates. The database
/// there holds config-keys (secrets among them), every module's store and the ledger: other
/// local users may not enter. The group may, as it may read `readonly.json`.
const DATA_DIR_MODE: u32 = 0o750;

/// Creates the data directory `dir` with [`DATA_DIR_MODE`] if it does not exist. An existing
/// one is the operator's choice (it could be `/tmp`): it is not changed, but one that other
/// users can read or write gets a warning saying what to do.
fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    let cannot =
        |e: std::io::Error| anyhow::anyhow!("cannot create data directory {}: {e}", dir.display());
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => anyhow::bail!(
            "data directory {} is not a directory; point --data at a directory",
            dir.display()
        ),
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o007 != 0 {
                tracing::warn!(
                    "data directory {} is {mode:o}: other local users can reach what the daemon \
                     keeps there; if the directory is the daemon's own, run `chmod o-rwx {}`, \
                     else point --data at a directory of its own",
                    dir.display(),
                    dir.display()
                );
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(DATA_DIR_MODE)
                .create(dir)
                .map_err(cannot)?;
            // The umask may have taken bits off (a group that cannot enter): set them exactly.
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DATA_DIR_MODE))
                .map_err(cannot)?;
        }
        Err(e) => return Err(cannot(e)),
    }
    // Module log files (0600 each) go in `log`; created here so that it gets the same mode.
    let log = dir.join("log");
    if !log.exists() {
        std::fs::DirBuilder::new()
            .mode(DATA_DIR_MODE)
            .create(&log)
            .map_err(|e| anyhow::anyhow!("cannot create log directory {}: {e}", log.display()))?;
    }
    Ok(())
}

fn run(args: Args) -> anyhow::Result<()> {
    prepare_data_dir(&args.data)?;
    // One daemon per data directory; the lock goes away with the process, even on kill -9.
    let lock = std::fs::File::create(args.data.join("daemon.lock"))?;
    if lock.try_lock().is_err() {
        anyhow::bail!(
            "another wasmgr daemon is running with data directory {}; stop it first or use another --data",
            args.data.display()
        );
    }
    let cluster = cluster_source(&args.cluster).map_err(anyhow::Error::msg)?;
    let modules = args
        .modules
        .clone()
        .unwrap_or_else(|| args.data.join("modules"));
    std::fs::create_dir_all(&modules).ok();
    let mut config = HostConfig::new(args.data.clone(), modules.clone(), cluster);
    config.debug_mgr = args.debug_mgr.clone();
    config.cache_dir = args.cache.clone();
    config.grants_file = args.grants.clone();
    if let Some(path) = &args.config {
        HostConfigFile::load(path)
            .and_then(|f| f.apply(&mut config))
            .map_err(anyhow::Error::msg)?;
    }
    let started = std::time::Instant::now();
    let manager = Arc::new(Manager::start(config)?);
    let list = manager.supervisor().list();
    tracing::info!(
        modules = list.len(),
        running = list.iter().filter(|m| m.state.name() == "running").count(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "modules loaded from {}",
        modules.display()
    );
    let app = Arc::new(App {
        manager: manager.clone(),
        admin_token: admin::token()?,
        readonly_token: admin::token()?,
        in_flight: Arc::new(AtomicUsize::new(0)),
        closing: AtomicBool::new(false),
        readonly_running: Arc::new(AtomicUsize::new(0)),
        body_bytes: Arc::new(AtomicUsize::new(0)),
    });
    // This runtime only accepts connections and waits for signals; each connection is served
    // on a thread of its own (see `spawn_connection`).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen).await?;
        let addr = listener.local_addr()?.to_string();
        let pid = std::process::id();
        // The read-only endpoint first: a client that sees admin.json sees both.
        admin::write(
            &args.data,
            admin::READONLY_FILE,
            &Endpoint {
                addr: addr.clone(),
                token: app.readonly_token.clone(),
                pid,
            },
            0o640,
        )?;
        admin::write(
            &args.data,
            admin::ADMIN_FILE,
            &Endpoint {
                addr: addr.clone(),
                token: app.admin_token.clone(),
                pid,
            },
            0o600,
        )?;
        tracing::info!(%addr, data = %args.data.display(), "admin API listening");
        let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        let conns = Arc::new(Connections::default());
        let shutdown = shutdown_signal();
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => accepted,
            };
            match accepted.and_then(|(stream, _)| stream.into_std()) {
                Ok(stream) => {
                    let slot = match slots.clone().try_acquire_owned() {
                        Ok(slot) => Some(slot),
                        Err(_) if conns.evict_idlest() => {
                            tokio::time::timeout(EVICT_WAIT, slots.clone().acquire_owned())
                                .await
                                .ok()
                                .and_then(Result::ok)
                        }
                        Err(_) => None,
                    };
                    match slot {
                        Some(slot) => spawn_connection(stream, app.clone(), slot, conns.clone()),
                        None => refuse_busy(stream),
                    }
                }
                Err(e) => {
                    // Out of file descriptors, or a client that reset before we took it:
                    // back off a little instead of spinning on the error.
                    tracing::warn!("admin API: cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        anyhow::Ok(())
    });
    // Let commands in progress answer before the modules stop under them; open connections
    // get 503 for anything new.
    // SeqCst here and in `command`: each side writes one flag, then reads the other's.
    app.closing.store(true, Ordering::SeqCst);
    let drain = Instant::now();
    while app.in_flight.load(Ordering::SeqCst) > 0 && drain.elapsed() < DRAIN_WAIT {
        std::thread::sleep(Duration::from_millis(5));
    }
    for f in [admin::ADMIN_FILE, admin::READONLY_FILE] {
        let _ = std::fs::remove_file(args.data.join(f));
    }
    manager.shutdown();
    tracing::info!("stopped");
    drop(lock);
    result
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot watch for SIGTERM ({e}); stop the daemon with Ctrl-C or SIGINT");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Who sent a request: the client its token belongs to.
struct Client {
    /// The name the ledger attributes the client's changes to.
    name: String,
    perm: ClientPerm,
}

/// The client whose token `req` carries: one of the two built-in clients, else a named one
/// (`wasmgr auth create`). Checked on every request, so a removed client's next request is
/// refused, on a connection already open too.
fn authorize(app: &App, req: &Request) -> Result<Client, Response> {
    let token = req
        .authorization
        .as_deref()
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let builtin = |name: &str, perm| Client {
        name: name.to_owned(),
        perm,
    };
    if token.is_empty() {
        Err(unauthorized())
    } else if constant_time_eq(token, &app.admin_token) {
        Ok(builtin(clients::ADMIN, ClientPerm::ReadWrite))
    } else if constant_time_eq(token, &app.readonly_token) {
        Ok(builtin(clients::READONLY, ClientPerm::Read))
    } else {
        match app.manager.clients().authenticate(token) {
            Some(c) => Ok(Client {
                name: c.name,
                perm: c.perm,
            }),
            None => Err(unauthorized()),
        }
    }
}

fn unauthorized() -> Response {
    Response::error(
        401,
        "missing or wrong token: send the token of the data directory's admin.json or \
         readonly.json, or a named client's (from 'wasmgr auth create'; a removed client's \
         token no longer works)",
    )
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Serve one client connection on a thread of its own, with blocking reads and writes.
///
/// A command blocks: it runs guest code right here when its module has nothing queued, or
/// waits for a worker. HTTP/1.1 answers a connection's requests in order anyway, so blocking
/// its own thread delays nobody else; and a request costs one wake-up of the one thread
/// waiting on this socket, with no hand-off between threads. The thread is outside any async
/// runtime, as guest code must be (WASI's blocking calls refuse to run inside one).
fn spawn_connection(
    stream: std::net::TcpStream,
    app: Arc<App>,
    slot: tokio::sync::OwnedSemaphorePermit,
    conns: Arc<Connections>,
) {
    let spawned = std::thread::Builder::new()
        .name("admin-conn".into())
        // Guest code may run on this stack, as on a worker's.
        .stack_size(wasmgr_runtime::pool::WORKER_STACK)
        .spawn(move || {
            let _slot = slot;
            let activity = Arc::new(http::Activity::default());
            // Deregistered however the thread ends, a panic included: a registered connection
            // keeps its socket open.
            let _registered = Registered(conns.clone(), conns.add(&stream, activity.clone()));
            // Accepted by the async listener, so still in non-blocking mode.
            let served = stream
                .set_nonblocking(false)
                .and_then(|()| http::serve(stream, HEADER_TIMEOUT, &*app, &activity));
            if let Err(e) = served {
                tracing::debug!("admin API connection: {e}");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("admin API: cannot start a thread for a connection: {e}");
    }
}

/// The open admin connections, so that the idlest can be closed when room is needed.
#[derive(Default)]
struct Connections {
    next: std::sync::atomic::AtomicU64,
    open: std::sync::Mutex<
        std::collections::HashMap<u64, (std::net::TcpStream, Arc<http::Activity>)>,
    >,
}

impl Connections {
    fn add(&self, stream: &std::net::TcpStream, activity: Arc<http::Activity>) -> Option<u64> {
        // Without a handle of its own this connection cannot be evicted, only served.
        let handle = stream.try_clone().ok()?;
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, (handle, activity));
        Some(id)
    }

    fn remove(&self, id: Option<u64>) {
        if let Some(id) = id {
            self.open
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&id);
        }
    }

    /// Close the connection that has been waiting for a request the longest; whether there
    /// was one. Connections running a command are never closed.
    fn evict_idlest(&self) -> bool {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let idlest = open
            .values()
            .filter_map(|(stream, activity)| activity.idle_since().map(|t| (t, stream)))
            .min_by_key(|(t, _)| *t);
        match idlest {
            Some((_, stream)) => {
                let _ = stream.shutdown(std::net::Shutdown::Both);
                true
            }
            None => false,
        }
    }
}

/// A connection's entry in [`Connections`], removed when dropped.
struct Registered(Arc<Connections>, Option<u64>);

impl Drop for Registered {
    fn drop(&mut self) {
        self.0.remove(self.1);
    }
}

/// Answer a client with 503 when every connection slot is running a command.
fn refuse_busy(stream: std::net::TcpStream) {
    let _ = std::thread::Builder::new()
        .name("admin-refuse".into())
        .spawn(move || {
            let resp = Response::error(
                503,
                format!(
                    "all {MAX_CONNECTIONS} admin connections are running commands; try again shortly"
                ),
            );
            let _ = stream
                .set_nonblocking(false)
                .and_then(|()| http::refuse(stream, &resp));
        });
}

/// An admitted admin API request.
enum Route {
    Command(Client, BodyReservation),
    Commands,
}

/// Bytes of request bodies all connections together may be reading or holding at once: a
/// client that sends all but the last byte of many large bodies cannot make the daemon hold
/// gigabytes.
const BODY_BUDGET: usize = 256 << 20;
/// The largest body a read-only client may send (its `-i` input to an `r` command).
const READONLY_BODY: usize = 1 << 20;

/// Bytes of [`BODY_BUDGET`] held by one request until it is answered.
struct BodyReservation(Arc<AtomicUsize>, usize);

impl Drop for BodyReservation {
    fn drop(&mut self) {
        self.0.fetch_sub(self.1, Ordering::AcqRel);
    }
}

impl App {
    /// Hold `len` bytes of the body budget for a request of `perm`, or refuse it.
    fn reserve_body(&self, perm: ClientPerm, len: usize) -> Result<BodyReservation, Response> {
        if perm == ClientPerm::Read && len > READONLY_BODY {
            return Err(Response::error(
                413,
                format!(
                    "a read-only client's request body is at most {READONLY_BODY} bytes; this one is {len}"
                ),
            ));
        }
        let held = self.body_bytes.fetch_add(len, Ordering::AcqRel);
        let reservation = BodyReservation(self.body_bytes.clone(), len);
        if held.saturating_add(len) > BODY_BUDGET {
            return Err(Response::error(
                503,
                "the daemon is reading too many large requests at once; try again shortly",
            ));
        }
        Ok(reservation)
    }
}

/// The admin API's routes. Unknown routes and wrong tokens are refused before the body is
/// read.
impl http::Handler for App {
    type Admitted = Route;
    type Guard = Option<InFlight>;

    fn admit(&self, req: &Request) -> Result<Route, Response> {
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/v1/command") => {
                let client = authorize(self, req)?;
                let body = self.reserve_body(client.perm, req.content_length)?;
                Ok(Route::Command(client, body))
            }
            ("GET", "/v1/commands") => authorize(self, req).map(|_| Route::Commands),
            (_, "/v1/command") => Err(Response::error(405, "use POST /v1/command")),
            (_, "/v1/commands") => Err(Response::error(405, "use GET /v1/commands")),
            (_, path) => Err(Response::error(
                404,
                format!(
                    "no such route {path}: the admin API serves POST /v1/command and GET /v1/commands"
                ),
            )),
        }
    }

    fn answer(&self, req: &Request, route: Route) -> (Response, Option<InFlight>) {
        match route {
            // A panic while answering is a 500 for this request, not a dead connection thread.
            Route::Command(client, _body) => {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    command(self, req, &client)
                }))
                .unwrap_or_else(|_| {
                    tracing::error!("a command panicked in the daemon; it was answered with 500");
                    (
                        Response::error(500, "the daemon failed while running the command"),
                        None,
                    )
                })
            }
            Route::Commands => (json(&self.manager.command_list()), None),
        }
    }
}

fn command(app: &App, req: &Request, client: &Client) -> (Response, Option<InFlight>) {
    let perm = client.perm;
    let cmd: CommandRequest = match serde_json::from_slice(&req.body) {
        Ok(cmd) => cmd,
        Err(e) => {
            let resp = Response::error(
                400,
                format!(
                    "bad command request: {e}; send a JSON object {{\"words\": [...], \"format\": null, \"inbuf\": \"\"}}"
                ),
            );
            return (resp, None);
        }
    };
    app.in_flight.fetch_add(1, Ordering::SeqCst);
    let mut counted = InFlight(app.in_flight.clone(), None);
    if perm == ClientPerm::Read {
        let running = app.readonly_running.fetch_add(1, Ordering::AcqRel);
        counted.1 = Some(app.readonly_running.clone());
        if running >= READONLY_COMMANDS {
            let resp = Response::error(
                503,
                format!(
                    "{READONLY_COMMANDS} commands of read-only clients are running; try again shortly"
                ),
            );
            return (resp, Some(counted));
        }
    }
    // Checked after counting, so that shutdown either sees this command or refuses it.
    if app.closing.load(Ordering::SeqCst) {
        let resp = Response::error(
            503,
            "the daemon is shutting down; try again once it is back",
        );
        return (resp, Some(counted));
    }
    let reply = app.manager.command_by(&cmd, perm, &client.name);
    (json(&reply), Some(counted))
}

fn json(value: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => Response::json(body),
        Err(e) => Response::error(500, format!("cannot encode the reply: {e}")),
    }
}
