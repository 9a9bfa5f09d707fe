//! Where cluster state comes from.
//!
//! Modules read cluster state through the `cluster` WIT interface; the host answers every call
//! from one [`ClusterSource`]. Every answer is JSON text in the exact shape a real Ceph 16.2
//! (pacific) ceph-mgr hands to its Python modules, quirks included, so that module code written
//! against the real thing behaves the same here.
//!
//! The sources:
//! - [`SnapshotSource`]: a captured cluster, either the fixtures shipped inside the binary
//!   ([`SnapshotSource::embedded`]) or a directory of files named the same way
//!   ([`SnapshotSource::from_dir`]).
//! - later: a simulated cluster and a real Ceph cluster.

mod sim;
mod snapshot;

pub use sim::SimSource;
pub use snapshot::{EMBEDDED_SNAPSHOT, SnapshotSource};

/// Where a source's notifications go: `(kind, id)`, the kind as ceph-mgr names it
/// (`osd_map`, `pg_summary`, `clog`, …).
pub type NotifySink = std::sync::Arc<dyn Fn(&str, &str) + Send + Sync>;

/// Every `MgrModule.get(data_name)` name the `cluster` WIT interface documents, in its order.
///
/// The one parameterised name, `device <devid>`, is not listed: it is [`DEVICE_PREFIX`] followed
/// by a device id.
pub const DATA_NAMES: &[&str] = &[
    "osd_map",
    "osd_map_tree",
    "osd_map_crush",
    "config",
    "mon_map",
    "fs_map",
    "osd_metadata",
    "pg_summary",
    "io_rate",
    "pg_dump",
    "df",
    "osd_stats",
    "health",
    "mon_status",
    "devices",
    "pg_stats",
    "pool_stats",
    "pg_ready",
    "osd_ping_times",
    "mgr_map",
    "mgr_ips",
    "modified_config_options",
    "service_map",
    "mds_metadata",
    "have_local_config_map",
    "osd_pool_stats",
    "pg_status",
    "osdmap_crush_map_text",
];

/// Names pacific's ceph-mgr also accepts in `get()` that the WIT interface does not document:
/// `pg_progress` and `active_clean_pgs` (used by the `progress` module) and `config_options`
/// (the schema of every option).
pub const UNDOCUMENTED_DATA_NAMES: &[&str] = &["pg_progress", "active_clean_pgs", "config_options"];

/// `get("device <devid>")` asks for one device: this prefix, then the device id.
pub const DEVICE_PREFIX: &str = "device ";

/// Where cluster state comes from. Implementations: the snapshot source (embedded fixtures or a
/// directory); later a simulated cluster and a real Ceph cluster.
///
/// Every `String` returned is JSON text. Each method mirrors the `MgrModule` method of the same
/// name in Ceph 16.2; where ceph-mgr returns `None` the method returns `Ok(None)`, and where
/// ceph-mgr returns an empty shape for something it does not know (a perf counter of an unknown
/// daemon, say) the method returns that shape, not an error.
pub trait ClusterSource: Send + Sync + 'static {
    /// `MgrModule.get(data_name)`: one of [`DATA_NAMES`], or `device <devid>`. A name ceph-mgr
    /// does not know is [`SourceError::NotFound`] (ceph-mgr itself returns `None` and logs
    /// `Python module requested unknown data`).
    fn get(&self, data_name: &str) -> Result<String, SourceError>;

    /// `MgrModule.get_server(hostname)`: the daemons on one host.
    fn get_server(&self, hostname: &str) -> Result<String, SourceError>;

    /// `MgrModule.list_servers()`: every host with its daemons.
    fn list_servers(&self) -> Result<String, SourceError>;

    /// `MgrModule.get_metadata(svc_type, svc_id)`: a daemon's metadata, `None` if unknown.
    fn get_metadata(&self, svc_type: &str, svc_id: &str) -> Result<Option<String>, SourceError>;

    /// `MgrModule.get_daemon_status(svc_type, svc_id)`: a daemon's service status map, `None` if
    /// the daemon is unknown.
    fn get_daemon_status(
        &self,
        svc_type: &str,
        svc_id: &str,
    ) -> Result<Option<String>, SourceError>;

    /// `MgrModule.get_perf_schema(svc_type, svc_id)`: `{"<type>.<id>": {counter: schema}}`.
    fn get_perf_schema(&self, svc_type: &str, svc_id: &str) -> Result<String, SourceError>;

    /// `MgrModule.get_counter(svc_type, svc_id, path)`: `{"<path>": [samples]}`.
    fn get_counter(&self, svc_type: &str, svc_id: &str, path: &str) -> Result<String, SourceError>;

    /// `MgrModule.get_latest(svc_type, svc_id, path)`: the newest value of a counter, `0` when
    /// there is none.
    fn get_latest(&self, svc_type: &str, svc_id: &str, path: &str) -> Result<String, SourceError>;

    /// `MgrModule.get_mgr_id()`: the id of the manager the modules run in.
    fn mgr_id(&self) -> String;

    /// `MgrModule.get_ceph_option(key)`: a Ceph option's value, typed as ceph-mgr types it.
    fn ceph_option(&self, key: &str) -> Result<String, SourceError>;

    /// `MgrModule.version` and `MgrModule.release_name`: (ceph version string, release name).
    fn version(&self) -> (String, String);

    /// `MgrModule.have_mon_connection()`.
    fn have_mon_connection(&self) -> bool;

    /// A short description for `status` output, e.g. "snapshot (embedded ceph-pacific-1node)".
    fn describe(&self) -> String;

    /// Run a command on one of the cluster's daemons, as `ceph` sends it: `svc_type` `mon`,
    /// `osd` or `mgr`, `svc_id` the daemon (empty: any), `command` Ceph's command JSON. A source
    /// that takes no commands answers `EOPNOTSUPP`.
    fn command(&self, svc_type: &str, svc_id: &str, command: &str, inbuf: &str) -> CommandOutput {
        let _ = (svc_type, svc_id, command, inbuf);
        CommandOutput {
            retval: -95,
            outb: String::new(),
            outs: format!(
                "the cluster source '{}' takes no commands; run the daemon with --cluster sim \
                 or a real cluster",
                self.describe()
            ),
        }
    }

    /// The commands [`ClusterSource::command`] serves, as Ceph describes its mon commands.
    fn command_descriptions(&self) -> Vec<CommandSig> {
        Vec::new()
    }

    /// Start sending notifications to `sink` (a cluster that changes has a clock to start). A
    /// source that never changes sends none.
    fn start(&self, sink: NotifySink) {
        let _ = sink;
    }

    /// The cluster's own health checks.
    fn health_checks(&self) -> Vec<ClusterCheck> {
        Vec::new()
    }

    /// What `ceph -s` prints (or with `json`, `ceph status -f json`), if the source knows.
    fn status(&self, json: bool) -> Option<String> {
        let _ = json;
        None
    }

    /// Write an entry to the cluster's log as `who`; false if the source keeps no log (the
    /// daemon then keeps it). A source that keeps it sends the `clog` notification itself.
    fn cluster_log(&self, who: &str, channel: &str, priority: &str, message: &str) -> bool {
        let _ = (who, channel, priority, message);
        false
    }

    /// The last `n` entries of the cluster log's `channel` (`*` for all), oldest first, if
    /// the source keeps the log.
    fn log_last(&self, n: usize, channel: &str) -> Option<Vec<LogLine>> {
        let _ = (n, channel);
        None
    }
}

/// One of the cluster's own health checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterCheck {
    /// `OSD_DOWN`, …
    pub code: String,
    /// HEALTH_ERR rather than HEALTH_WARN.
    pub error: bool,
    /// One line.
    pub summary: String,
    /// How many things it is about.
    pub count: u64,
    /// One line per thing.
    pub detail: Vec<String>,
}

/// A cluster log entry as `log last` shows it.
#[derive(Clone, Debug)]
pub struct LogLine {
    /// The entry as `ceph log last -f json` shows it.
    pub json: serde_json::Value,
    /// The entry as `ceph log last` prints it.
    pub line: String,
}

/// [`ClusterSource::command`], with a panic of the source answered as EIO: the command's
/// words come from modules and clients, and a source's bug must not take the caller down.
pub fn command_contained(
    cluster: &dyn ClusterSource,
    svc_type: &str,
    svc_id: &str,
    command: &str,
    inbuf: &str,
) -> CommandOutput {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        cluster.command(svc_type, svc_id, command, inbuf)
    }))
    .unwrap_or_else(|_| CommandOutput {
        retval: -5,
        outb: String::new(),
        outs: "the cluster failed while running the command (a bug in the cluster source); \
               the daemon carries on"
            .into(),
    })
}

/// A cluster daemon's answer to a command, in Ceph's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandOutput {
    /// 0 or a negative Linux errno.
    pub retval: i32,
    /// The output.
    pub outb: String,
    /// The status message.
    pub outs: String,
}

/// One command a cluster serves, as Ceph's `MonCommands.h` describes it: a signature such as
/// `osd pool create name=pool,type=CephPoolname name=pg_num,type=CephInt,range=0,req=false`,
/// a help line, and the perm (`r`, `w` or `rw`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandSig {
    /// The signature.
    pub sig: String,
    /// One line of help.
    pub help: String,
    /// `r`, `w` or `rw`.
    pub perm: String,
}

/// Why a [`ClusterSource`] could not answer. Every message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The thing asked for does not exist in this source.
    #[error("{what} not found: {hint}")]
    NotFound {
        /// What was asked for, e.g. "cluster data name `osd_mapp`".
        what: String,
        /// What to do instead, e.g. the list of valid names.
        hint: String,
    },
    /// The source's data is malformed.
    #[error("{what} is invalid: {reason}; {hint}")]
    Invalid {
        /// What is malformed, e.g. a file's path.
        what: String,
        /// What is wrong with it.
        reason: String,
        /// How to fix it.
        hint: String,
    },
    /// Reading the source failed.
    #[error("cannot read {what}: {source}; {hint}")]
    Io {
        /// What could not be read, e.g. a file's path.
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
        /// How to fix it.
        hint: String,
    },
}
