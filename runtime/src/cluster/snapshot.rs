//! [`SnapshotSource`]: cluster state answered from files captured from a real ceph-mgr.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use serde_json::{Map, Value};

use super::{ClusterSource, DATA_NAMES, DEVICE_PREFIX, SourceError, UNDOCUMENTED_DATA_NAMES};

/// The name of the snapshot shipped inside the binary: a one-node Ceph 16.2.15 cluster, described
/// in `runtime/fixtures/ceph-pacific-1node/README.md`.
pub const EMBEDDED_SNAPSHOT: &str = "ceph-pacific-1node";

/// The shipped snapshot, compiled in so the binary needs no data files at run time.
static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/fixtures/ceph-pacific-1node");

/// Files every snapshot must have, because the methods they answer cannot fail.
const REQUIRED_FILES: &[&str] = &[
    "get_mgr_id.json",
    "version.json",
    "release_name.json",
    "have_mon_connection.json",
];

/// The fields of one counter in `get_perf_schema`; `get_all_perf_counters` adds `value`/`count`.
const SCHEMA_FIELDS: &[&str] = &["description", "nick", "priority", "type", "units"];

/// A daemon as ceph-mgr's `DaemonStateIndex` keys it: (type, id), e.g. ("osd", "0").
type DaemonKey = (String, String);

/// Cluster state answered from a snapshot: the files a capture module wrote from inside a real
/// ceph-mgr (see the embedded snapshot's README.md for how, and for the naming).
///
/// # File naming
/// `get.<name>.json` answers `get(name)`; `get_server.json`, `list_servers.json`;
/// `get_metadata.<type>.<id>.json` (the manager's own as `get_metadata.mgr.self.json`);
/// `get_daemon_status.<type>.<id>.json`; `get_perf_schema.<type>.<id>.json`;
/// `get_counter.<type>.<id>.<path>.json`, `get_latest.…`, `get_latest_counter.…`,
/// `get_latest_avg.…`; `get_all_perf_counters.json`; `get_ceph_option.<key>.json`;
/// `get_mgr_id.json`, `version.json`, `release_name.json`, `have_mon_connection.json` (required).
///
/// # What is served
/// Captured answers are served as they are stored, re-serialised compactly: whitespace outside
/// JSON strings is dropped and every other byte kept, so numbers keep their exact spelling
/// (`2.0` stays `2.0`) and keys keep the stored order. That order is sorted (the capture sorted
/// keys), not the order ceph-mgr emits them in; JSON consumers must not depend on it.
///
/// Calls that were not captured are answered the way pacific's `ActivePyModules` answers them,
/// from the captured data where it holds the answer; each method's doc comment says which
/// answers are derived. A daemon is *known* if the snapshot lists it anywhere
/// (`list_servers.json`, metadata, `get_all_perf_counters.json`, daemon health metrics), as
/// ceph-mgr knows every daemon in its `DaemonStateIndex`.
pub struct SnapshotSource {
    origin: Origin,
    /// File name → contents; JSON files compacted.
    files: BTreeMap<String, String>,
    core: Core,
    daemons: BTreeSet<DaemonKey>,
}

/// Where a snapshot was loaded from.
enum Origin {
    Embedded,
    Dir(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Embedded => write!(f, "embedded {EMBEDDED_SNAPSHOT}"),
            Self::Dir(path) => write!(f, "directory {}", path.display()),
        }
    }
}

/// The answers of the infallible [`ClusterSource`] methods, parsed once at load.
#[derive(Default)]
struct Core {
    mgr_id: String,
    version: String,
    release: String,
    have_mon_connection: bool,
}

impl fmt::Debug for SnapshotSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SnapshotSource")
            .field("origin", &self.origin.to_string())
            .field("files", &self.files.len())
            .field("daemons", &self.daemons)
            .finish()
    }
}

impl SnapshotSource {
    /// The snapshot shipped inside the binary ([`EMBEDDED_SNAPSHOT`]).
    pub fn embedded() -> Self {
        let files: BTreeMap<String, String> = EMBEDDED
            .files()
            .filter_map(|file| {
                let name = file.path().to_str()?;
                let text = file.contents_utf8()?;
                Some((name.to_owned(), stored_text(name, text)))
            })
            .collect();
        let origin = Origin::Embedded;
        // The embedded files are checked by the `embedded_snapshot_loads_strictly` test, so the
        // defaults below are never used; they keep this constructor infallible.
        let core = Core::from_files(&files, &origin).unwrap_or_default();
        let daemons = daemon_index(&files, &core.mgr_id, &origin).unwrap_or_default();
        Self {
            origin,
            files,
            core,
            daemons,
        }
    }

    /// A snapshot from a directory of files named like the embedded one. Every file is read
    /// into memory once, here; every `.json` file must parse, and `get_mgr_id.json`,
    /// `version.json`, `release_name.json` (JSON strings) and `have_mon_connection.json` (a JSON
    /// boolean) must be present. Other files may be missing: the calls they answer then fail with
    /// [`SourceError::NotFound`] naming the file, or give ceph-mgr's answer for an unknown
    /// daemon or host.
    pub fn from_dir(path: impl AsRef<Path>) -> Result<Self, SourceError> {
        let dir = path.as_ref();
        let io = |what: &Path, source: std::io::Error| SourceError::Io {
            what: what.display().to_string(),
            source,
            hint: "check that the snapshot directory exists and is readable".to_owned(),
        };
        let mut files = BTreeMap::new();
        for entry in fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let path = entry.map_err(|e| io(dir, e))?.path();
            // `fs::metadata` follows symlinks, so a linked file counts as a file.
            if !fs::metadata(&path).map_err(|e| io(&path, e))?.is_file() {
                continue;
            }
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                return Err(SourceError::Invalid {
                    what: path.display().to_string(),
                    reason: "the file name is not UTF-8".to_owned(),
                    hint: "rename the file or remove it from the snapshot directory".to_owned(),
                });
            };
            let text = fs::read_to_string(&path).map_err(|e| io(&path, e))?;
            if is_json_file(name) {
                serde_json::from_str::<serde::de::IgnoredAny>(&text).map_err(|e| {
                    SourceError::Invalid {
                        what: path.display().to_string(),
                        reason: format!("not valid JSON ({e})"),
                        hint: "every .json file in a snapshot must hold one JSON document; \
                               fix the file or capture it again"
                            .to_owned(),
                    }
                })?;
            }
            let stored = stored_text(name, &text);
            files.insert(name.to_owned(), stored);
        }
        let origin = Origin::Dir(dir.to_path_buf());
        let core = Core::from_files(&files, &origin)?;
        let daemons = daemon_index(&files, &core.mgr_id, &origin)?;
        Ok(Self {
            origin,
            files,
            core,
            daemons,
        })
    }

    /// Any file of the snapshot by name (e.g. `cli.status.json`, `get_all_perf_counters.json`),
    /// JSON files compacted as described on [`SnapshotSource`].
    pub fn file(&self, name: &str) -> Option<&str> {
        self.files.get(name).map(String::as_str)
    }

    /// The names of every file in the snapshot, sorted.
    pub fn file_names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Every name [`ClusterSource::get`] answers from a file of this snapshot, sorted (the
    /// `device <devid>` form not included).
    pub fn data_names(&self) -> Vec<&str> {
        self.files
            .keys()
            .filter_map(|name| name.strip_prefix("get.")?.strip_suffix(".json"))
            .filter(|name| !name.starts_with("device_"))
            .collect()
    }

    /// `MgrModule.get_latest_counter(svc_type, svc_id, path)`: `{"<path>": [t, v]}` (or
    /// `[t, sum, count]` for a long-running average), `{"<path>": []}` when there is no sample.
    ///
    /// Captured in `get_latest_counter.<type>.<id>.<path>.json`; otherwise *derived* as the last
    /// sample of the captured `get_counter` file, which is what ceph-mgr's latest sample is.
    pub fn get_latest_counter(
        &self,
        svc_type: &str,
        svc_id: &str,
        path: &str,
    ) -> Result<String, SourceError> {
        if self.is_known(svc_type, svc_id) {
            if let Some((text, _)) =
                self.counter_capture("get_latest_counter", svc_type, svc_id, path)?
            {
                return Ok(text.to_owned());
            }
            if let Some(sample) = self.latest_sample(svc_type, svc_id, path)? {
                return Ok(single_key(path, Value::Array(sample)).to_string());
            }
        }
        Ok(no_samples(path))
    }

    /// `MgrModule.get_latest_avg(svc_type, svc_id, path)`: `[sum, count]` of the newest sample of
    /// a long-running average, `[0, 0]` when there is none.
    ///
    /// Captured in `get_latest_avg.<type>.<id>.<path>.json`; otherwise *derived* from the last
    /// captured sample, or from `get_all_perf_counters.json`'s `value` and `count` (which
    /// pacific's `get_all_perf_counters` takes from `get_latest_avg` itself).
    pub fn get_latest_avg(
        &self,
        svc_type: &str,
        svc_id: &str,
        path: &str,
    ) -> Result<String, SourceError> {
        if self.is_known(svc_type, svc_id) {
            let name = format!("get_latest_avg.{svc_type}.{svc_id}.{path}.json");
            if let Some(text) = self.files.get(&name) {
                return Ok(text.clone());
            }
            if let Some(sample) = self.latest_sample(svc_type, svc_id, path)?
                && let [_, sum, count] = sample.as_slice()
            {
                return Ok(Value::Array(vec![sum.clone(), count.clone()]).to_string());
            }
            if let Some(counter) = self.all_perf_counter(svc_type, svc_id, path)?
                && let (Some(value), Some(count)) = (counter.get("value"), counter.get("count"))
            {
                return Ok(Value::Array(vec![value.clone(), count.clone()]).to_string());
            }
        }
        Ok("[0,0]".to_owned())
    }

    /// The stored file `name`, parsed; `None` if the snapshot has no such file.
    fn json(&self, name: &str) -> Result<Option<Value>, SourceError> {
        self.files
            .get(name)
            .map(|text| parse(name, text, &self.origin))
            .transpose()
    }

    /// Whether ceph-mgr would know the daemon `svc_type.svc_id`.
    fn is_known(&self, svc_type: &str, svc_id: &str) -> bool {
        is_daemon_type(svc_type)
            && self
                .daemons
                .contains(&(svc_type.to_owned(), svc_id.to_owned()))
    }

    /// A captured `<kind>.<type>.<id>.<path>.json` whose one key is `path`, as text and parsed.
    ///
    /// The key check matters because the file name alone is ambiguous when ids contain dots:
    /// (`0`, `osd.op`) and (`0.osd`, `op`) name the same file.
    fn counter_capture(
        &self,
        kind: &str,
        svc_type: &str,
        svc_id: &str,
        path: &str,
    ) -> Result<Option<(&str, Value)>, SourceError> {
        let name = format!("{kind}.{svc_type}.{svc_id}.{path}.json");
        let Some(text) = self.files.get(&name) else {
            return Ok(None);
        };
        let value = parse(&name, text, &self.origin)?;
        let matches = value
            .as_object()
            .is_some_and(|o| o.len() == 1 && o.contains_key(path));
        Ok(matches.then_some((text.as_str(), value)))
    }

    /// The newest captured sample of a counter, from `get_latest_counter` or `get_counter`.
    fn latest_sample(
        &self,
        svc_type: &str,
        svc_id: &str,
        path: &str,
    ) -> Result<Option<Vec<Value>>, SourceError> {
        if let Some((_, doc)) =
            self.counter_capture("get_latest_counter", svc_type, svc_id, path)?
        {
            return Ok(doc
                .get(path)
                .and_then(Value::as_array)
                .filter(|sample| !sample.is_empty())
                .cloned());
        }
        if let Some((_, doc)) = self.counter_capture("get_counter", svc_type, svc_id, path)? {
            return Ok(doc
                .get(path)
                .and_then(Value::as_array)
                .and_then(|samples| samples.last())
                .and_then(Value::as_array)
                .cloned());
        }
        Ok(None)
    }

    /// One counter of `get_all_perf_counters.json`: its schema fields plus `value` (and `count`).
    fn all_perf_counter(
        &self,
        svc_type: &str,
        svc_id: &str,
        path: &str,
    ) -> Result<Option<Value>, SourceError> {
        let Some(mut all) = self.json("get_all_perf_counters.json")? else {
            return Ok(None);
        };
        Ok(all
            .get_mut(format!("{svc_type}.{svc_id}"))
            .and_then(|daemon| daemon.get_mut(path))
            .map(Value::take))
    }

    /// The perf counter schema of one known daemon: its captured `get_perf_schema` file, else
    /// (*derived*) the schema fields of its counters in `get_all_perf_counters.json`, else empty
    /// (ceph-mgr's answer for a daemon that reported no counters).
    fn schema_of(&self, svc_type: &str, svc_id: &str) -> Result<Value, SourceError> {
        let key = format!("{svc_type}.{svc_id}");
        if let Some(mut doc) = self.json(&format!("get_perf_schema.{svc_type}.{svc_id}.json"))?
            && let Some(schema) = doc.get_mut(&key)
        {
            return Ok(schema.take());
        }
        if let Some(mut all) = self.json("get_all_perf_counters.json")?
            && let Some(Value::Object(counters)) = all.get_mut(&key).map(Value::take)
        {
            let schema = counters
                .into_iter()
                .map(|(path, counter)| {
                    let fields: Map<String, Value> = match counter {
                        Value::Object(fields) => fields
                            .into_iter()
                            .filter(|(field, _)| SCHEMA_FIELDS.contains(&field.as_str()))
                            .collect(),
                        _ => Map::new(),
                    };
                    (path, Value::Object(fields))
                })
                .collect();
            return Ok(Value::Object(schema));
        }
        Ok(Value::Object(Map::new()))
    }

    /// `get("device <devid>")`, see [`ClusterSource::get`].
    fn device(&self, devid: &str) -> Result<String, SourceError> {
        // The capture module stored `get("device X")` as `get.device_X.json`.
        let captured = format!("get.device_{}.json", devid.replace([' ', '/'], "_"));
        if let Some(text) = self.files.get(&captured) {
            return Ok(text.clone());
        }
        if let Some(devices) = self.json("get.devices.json")? {
            let entry = devices
                .get("devices")
                .and_then(Value::as_array)
                .and_then(|all| {
                    all.iter()
                        .find(|dev| dev.get("devid").and_then(Value::as_str) == Some(devid))
                });
            if let Some(entry) = entry {
                return Ok(single_key("device", entry.clone()).to_string());
            }
        }
        Ok("{}".to_owned())
    }

    /// The names `get()` accepts, for error messages.
    fn valid_names(&self) -> String {
        let mut names: Vec<&str> = DATA_NAMES.to_vec();
        // Captures of the `osd_map*`/`config*` quirk (`osd_map_crush_text`) are no real names.
        let quirk = |name: &str| name.starts_with("osd_map") || name.starts_with("config");
        for name in self.data_names() {
            if !names.contains(&name) && !quirk(name) {
                names.push(name);
            }
        }
        names.push("device <devid>");
        names.join(", ")
    }
}

impl ClusterSource for SnapshotSource {
    /// Served from `get.<name>.json` for every such file. Not captured, answered as pacific's
    /// `ActivePyModules::get_python` does:
    /// - `device <devid>`: `get.device_<devid>.json` if captured, else `{"device": {...}}` with
    ///   the entry of `get.devices.json` whose `devid` matches (ceph-mgr wraps the entry in a
    ///   `device` key; the `devicehealth` module reads `r['device']`), else `{}` as captured for
    ///   `device no-such-device`;
    /// - any other name starting with `osd_map` or `config`: `{}` (ceph-mgr matches these
    ///   prefixes first; captured for `osd_map_crush_text`);
    /// - a name ceph-mgr knows but the snapshot lacks: `NotFound` saying it was not captured;
    /// - any other name: `NotFound` listing the valid names (ceph-mgr returns `None`; captured
    ///   for `osd_crush_map_text` and `no_such_data_name`).
    fn get(&self, data_name: &str) -> Result<String, SourceError> {
        if !data_name.starts_with("device_")
            && let Some(text) = self.files.get(&format!("get.{data_name}.json"))
        {
            return Ok(text.clone());
        }
        if let Some(devid) = data_name.strip_prefix(DEVICE_PREFIX)
            && !devid.is_empty()
        {
            return self.device(devid);
        }
        if DATA_NAMES.contains(&data_name) || UNDOCUMENTED_DATA_NAMES.contains(&data_name) {
            return Err(SourceError::NotFound {
                what: format!("cluster data `{data_name}`"),
                hint: format!(
                    "ceph-mgr knows this name, but the snapshot ({}) did not capture it: \
                     add get.{data_name}.json to it",
                    self.origin
                ),
            });
        }
        if data_name.starts_with("osd_map") || data_name.starts_with("config") {
            return Ok("{}".to_owned());
        }
        Err(SourceError::NotFound {
            what: format!("cluster data name `{data_name}`"),
            hint: format!(
                "ceph-mgr does not know this name; valid names are: {}",
                self.valid_names()
            ),
        })
    }

    /// `get_server.json` if `hostname` is its host, else that host's entry of
    /// `list_servers.json`. For a host it does not know, ceph-mgr's `dump_server` still writes
    /// the host name, an empty service list and an empty version:
    /// `{"ceph_version": "", "hostname": "<host>", "services": []}` (*derived* from the pacific
    /// source; not captured).
    fn get_server(&self, hostname: &str) -> Result<String, SourceError> {
        let has_host = |server: &Value| server.get("hostname") == Some(&Value::from(hostname));
        if let Some(text) = self.files.get("get_server.json")
            && has_host(&parse("get_server.json", text, &self.origin)?)
        {
            return Ok(text.clone());
        }
        if let Some(Value::Array(servers)) = self.json("list_servers.json")?
            && let Some(server) = servers.into_iter().find(has_host)
        {
            return Ok(server.to_string());
        }
        let mut unknown = Map::new();
        unknown.insert("ceph_version".to_owned(), Value::from(""));
        unknown.insert("hostname".to_owned(), Value::from(hostname));
        unknown.insert("services".to_owned(), Value::Array(Vec::new()));
        Ok(Value::Object(unknown).to_string())
    }

    /// `list_servers.json`.
    fn list_servers(&self) -> Result<String, SourceError> {
        self.files
            .get("list_servers.json")
            .cloned()
            .ok_or_else(|| SourceError::NotFound {
                what: "list_servers()".to_owned(),
                hint: format!(
                    "the snapshot ({}) has no list_servers.json; add it",
                    self.origin
                ),
            })
    }

    /// `get_metadata.<type>.<id>.json`, or `get_metadata.mgr.self.json` for the manager's own
    /// id. Not captured: the daemon's entry of `get.osd_metadata.json` / `get.mds_metadata.json`
    /// (ceph-mgr builds both from the same daemon state, and they are identical for `osd.0`);
    /// else `None`, as captured for `osd.99`.
    fn get_metadata(&self, svc_type: &str, svc_id: &str) -> Result<Option<String>, SourceError> {
        if !is_daemon_type(svc_type) {
            return Ok(None);
        }
        // `self` is the capture's stand-in for the manager's id, not a daemon id.
        if !(svc_type == "mgr" && svc_id == "self")
            && let Some(text) = self
                .files
                .get(&format!("get_metadata.{svc_type}.{svc_id}.json"))
        {
            return Ok(Some(text.clone()));
        }
        if svc_type == "mgr" && svc_id == self.core.mgr_id {
            return Ok(self.files.get("get_metadata.mgr.self.json").cloned());
        }
        let table = match svc_type {
            "osd" => "get.osd_metadata.json",
            "mds" => "get.mds_metadata.json",
            _ => return Ok(None),
        };
        Ok(self
            .json(table)?
            .and_then(|mut all| all.get_mut(svc_id).map(Value::take))
            .map(|metadata| metadata.to_string()))
    }

    /// `get_daemon_status.<type>.<id>.json`. Not captured: `{}` for a known daemon (ceph-mgr
    /// returns its service status, which only service-map daemons such as rgw have; captured
    /// as `{}` for `osd.0`, *derived* for the others), `None` for an unknown one.
    fn get_daemon_status(
        &self,
        svc_type: &str,
        svc_id: &str,
    ) -> Result<Option<String>, SourceError> {
        if !is_daemon_type(svc_type) {
            return Ok(None);
        }
        let name = format!("get_daemon_status.{svc_type}.{svc_id}.json");
        if let Some(text) = self.files.get(&name) {
            return Ok(Some(text.clone()));
        }
        Ok(self.is_known(svc_type, svc_id).then(|| "{}".to_owned()))
    }

    /// `get_perf_schema.<type>.<id>.json` for a known daemon. As in ceph-mgr, an empty
    /// `svc_type` means every daemon and an empty `svc_id` every daemon of that type; an unknown
    /// daemon gives `{}` (captured as `get_perf_schema.osd.osd.0.json`: the id must be `0`, not
    /// `osd.0`). A daemon without a captured schema file gets the schema fields of its counters
    /// in `get_all_perf_counters.json` (*derived*: that file is `get_perf_schema` plus values,
    /// and `mgr_stats_threshold` already dropped the counters it filters out), else `{}` as its
    /// entry (e.g. `mgr.x`, whose counters were not captured).
    fn get_perf_schema(&self, svc_type: &str, svc_id: &str) -> Result<String, SourceError> {
        if !svc_type.is_empty() && !svc_id.is_empty() {
            if !self.is_known(svc_type, svc_id) {
                return Ok("{}".to_owned());
            }
            let name = format!("get_perf_schema.{svc_type}.{svc_id}.json");
            if let Some(text) = self.files.get(&name) {
                return Ok(text.clone());
            }
        }
        let mut schemas = Map::new();
        for (daemon_type, daemon_id) in &self.daemons {
            let wanted = svc_type.is_empty()
                || (daemon_type == svc_type && (svc_id.is_empty() || daemon_id == svc_id));
            if wanted {
                schemas.insert(
                    format!("{daemon_type}.{daemon_id}"),
                    self.schema_of(daemon_type, daemon_id)?,
                );
            }
        }
        Ok(Value::Object(schemas).to_string())
    }

    /// `get_counter.<type>.<id>.<path>.json` for a known daemon. Anything else, an uncaptured
    /// counter of a known daemon included, is `{"<path>": []}`: ceph-mgr's shape when it has no
    /// samples (captured for the unknown daemon `osd.osd.0`; *derived*, not captured, for
    /// counters the real daemon would have samples of).
    fn get_counter(&self, svc_type: &str, svc_id: &str, path: &str) -> Result<String, SourceError> {
        if self.is_known(svc_type, svc_id)
            && let Some((text, _)) = self.counter_capture("get_counter", svc_type, svc_id, path)?
        {
            return Ok(text.to_owned());
        }
        Ok(no_samples(path))
    }

    /// `get_latest.<type>.<id>.<path>.json` for a known daemon. Not captured (*derived*): pacific
    /// computes `get_latest` in Python as the value of `get_latest_counter` (the sum, for a
    /// long-running average), so the last captured sample gives it; else the counter's `value`
    /// in `get_all_perf_counters.json` (which pacific fills from `get_latest`); else `0`, as
    /// ceph-mgr answers for an unknown daemon or counter.
    fn get_latest(&self, svc_type: &str, svc_id: &str, path: &str) -> Result<String, SourceError> {
        if self.is_known(svc_type, svc_id) {
            let name = format!("get_latest.{svc_type}.{svc_id}.{path}.json");
            if let Some(text) = self.files.get(&name) {
                return Ok(text.clone());
            }
            if let Some(sample) = self.latest_sample(svc_type, svc_id, path)?
                && let Some(value) = sample.get(1)
            {
                return Ok(value.to_string());
            }
            if let Some(counter) = self.all_perf_counter(svc_type, svc_id, path)?
                && let Some(value) = counter.get("value")
            {
                return Ok(value.to_string());
            }
        }
        Ok("0".to_owned())
    }

    /// `get_mgr_id.json`.
    fn mgr_id(&self) -> String {
        self.core.mgr_id.clone()
    }

    /// `get_ceph_option.<key>.json`. Not captured: the key's value in `get.config.json` (the
    /// manager's effective config, every value a string), typed the way ceph-mgr types option
    /// values (*derived*; the option schema was not captured, so the type is read off the
    /// text): `true`/`false` become booleans, integers numbers, `%f`-style decimals such as
    /// `0.500000` floats, anything else stays a string. Known difference: `secs` options print
    /// as integers in the config (`mgr_stats_period` is `"5"`) and come back as `5`, where
    /// ceph-mgr gives the float `5.0`. An unknown key is `NotFound` (ceph-mgr raises
    /// `KeyError`).
    fn ceph_option(&self, key: &str) -> Result<String, SourceError> {
        if let Some(text) = self.files.get(&format!("get_ceph_option.{key}.json")) {
            return Ok(text.clone());
        }
        if let Some(config) = self.json("get.config.json")?
            && let Some(Value::String(value)) = config.get(key)
        {
            return Ok(typed_option_value(value).to_string());
        }
        Err(SourceError::NotFound {
            what: format!("Ceph option `{key}`"),
            hint: format!(
                "the snapshot ({}) has no such option; option names are as `ceph config ls` \
                 lists them, with underscores (e.g. `mgr_tick_period`)",
                self.origin
            ),
        })
    }

    /// `version.json` and `release_name.json`.
    fn version(&self) -> (String, String) {
        (self.core.version.clone(), self.core.release.clone())
    }

    /// `have_mon_connection.json`.
    fn have_mon_connection(&self) -> bool {
        self.core.have_mon_connection
    }

    /// `snapshot (embedded ceph-pacific-1node)` or `snapshot (directory <path>)`.
    fn describe(&self) -> String {
        format!("snapshot ({})", self.origin)
    }
}

impl Core {
    /// Reads the [`REQUIRED_FILES`], checking their JSON types.
    fn from_files(files: &BTreeMap<String, String>, origin: &Origin) -> Result<Self, SourceError> {
        let required = |name: &str| -> Result<Value, SourceError> {
            let text = files.get(name).ok_or_else(|| SourceError::NotFound {
                what: format!("{name} in the snapshot ({origin})"),
                hint: format!(
                    "every snapshot needs {}; copy them from a capture (see README.md of the \
                     embedded snapshot)",
                    REQUIRED_FILES.join(", ")
                ),
            })?;
            parse(name, text, origin)
        };
        let wrong_type = |name: &str, expected: &str| SourceError::Invalid {
            what: format!("{name} in the snapshot ({origin})"),
            reason: format!("expected {expected}"),
            hint: "capture the file again".to_owned(),
        };
        let string = |name: &str| -> Result<String, SourceError> {
            match required(name)? {
                Value::String(s) => Ok(s),
                _ => Err(wrong_type(name, "a JSON string")),
            }
        };
        let have_mon_connection = match required("have_mon_connection.json")? {
            Value::Bool(b) => b,
            _ => return Err(wrong_type("have_mon_connection.json", "true or false")),
        };
        Ok(Self {
            mgr_id: string("get_mgr_id.json")?,
            version: string("version.json")?,
            release: string("release_name.json")?,
            have_mon_connection,
        })
    }
}

/// Every daemon the snapshot mentions, as ceph-mgr's `DaemonStateIndex` would hold it. Only
/// `list_servers.json` must have the right shape; the other files are read where they fit.
fn daemon_index(
    files: &BTreeMap<String, String>,
    mgr_id: &str,
    origin: &Origin,
) -> Result<BTreeSet<DaemonKey>, SourceError> {
    let mut daemons = BTreeSet::new();
    if let Some(text) = files.get("list_servers.json") {
        let invalid = |reason: &str| SourceError::Invalid {
            what: format!("list_servers.json in the snapshot ({origin})"),
            reason: reason.to_owned(),
            hint: "capture the file again".to_owned(),
        };
        let servers = parse("list_servers.json", text, origin)?;
        let servers = servers
            .as_array()
            .ok_or_else(|| invalid("expected an array of servers"))?;
        for server in servers {
            let services = server
                .get("services")
                .and_then(Value::as_array)
                .ok_or_else(|| invalid("every server needs a `services` array"))?;
            for service in services {
                let kind = service.get("type").and_then(Value::as_str);
                let id = service.get("id").and_then(Value::as_str);
                let (Some(kind), Some(id)) = (kind, id) else {
                    return Err(invalid("every service needs string `type` and `id`"));
                };
                daemons.insert((kind.to_owned(), id.to_owned()));
            }
        }
    }
    // Daemon types never contain a dot, so `<type>.<id>` splits at the first one.
    let split = |name: &str| {
        name.split_once('.')
            .map(|(kind, id)| (kind.to_owned(), id.to_owned()))
    };
    for name in files.keys() {
        if let Some(daemon) = name
            .strip_prefix("get_metadata.")
            .and_then(|rest| rest.strip_suffix(".json"))
        {
            match split(daemon) {
                Some((kind, id)) if kind == "mgr" && id == "self" => {
                    daemons.insert((kind, mgr_id.to_owned()));
                }
                Some(key) => {
                    daemons.insert(key);
                }
                None => {}
            }
        }
    }
    let keys_of = |name: &str| -> Result<Vec<String>, SourceError> {
        Ok(match files.get(name) {
            Some(text) => match parse(name, text, origin)? {
                Value::Object(map) => map.into_iter().map(|(key, _)| key).collect(),
                _ => Vec::new(),
            },
            None => Vec::new(),
        })
    };
    for (table, kind) in [
        ("get.osd_metadata.json", "osd"),
        ("get.mds_metadata.json", "mds"),
    ] {
        for id in keys_of(table)? {
            daemons.insert((kind.to_owned(), id));
        }
    }
    for table in [
        "get_all_perf_counters.json",
        "get_daemon_health_metrics.json",
    ] {
        daemons.extend(keys_of(table)?.iter().filter_map(|name| split(name)));
    }
    Ok(daemons)
}

/// Parses a stored file, naming it in the error.
fn parse(name: &str, text: &str, origin: &Origin) -> Result<Value, SourceError> {
    serde_json::from_str(text).map_err(|e| SourceError::Invalid {
        what: format!("{name} in the snapshot ({origin})"),
        reason: format!("not valid JSON ({e})"),
        hint: "fix the file or capture it again".to_owned(),
    })
}

fn is_json_file(name: &str) -> bool {
    name.ends_with(".json")
}

/// A file's contents as stored: JSON compacted, anything else as it is.
fn stored_text(name: &str, text: &str) -> String {
    if is_json_file(name) {
        compact_json(text)
    } else {
        text.to_owned()
    }
}

/// Drops the whitespace between JSON tokens and keeps every other byte, so the value, number
/// spellings and key order stay exactly as stored (re-serialising through `serde_json` could
/// change a float's last digit or `2.0` into `2`).
fn compact_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

/// `{"<key>": value}`.
fn single_key(key: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(key.to_owned(), value);
    Value::Object(map)
}

/// ceph-mgr's answer for a counter without samples: `{"<path>": []}`.
fn no_samples(path: &str) -> String {
    single_key(path, Value::Array(Vec::new())).to_string()
}

/// Whether `svc_type` can be a daemon type. Types never contain a dot; refusing dotted ones
/// keeps `<type>.<id>` file names unambiguous.
fn is_daemon_type(svc_type: &str) -> bool {
    !svc_type.is_empty() && !svc_type.contains('.')
}

/// An option value from `get.config.json` typed as ceph-mgr's `get_python_typed_option_value`
/// would type it, judged from the text alone (see `ceph_option` on [`SnapshotSource`]).
fn typed_option_value(text: &str) -> Value {
    match text {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    if digits(unsigned) {
        if let Ok(n) = text.parse::<i64>() {
            return Value::from(n);
        }
        if let Ok(n) = text.parse::<u64>() {
            return Value::from(n);
        }
    }
    // Ceph prints float options with `std::to_string`, i.e. `%f`: six decimals.
    if let Some((whole, fraction)) = unsigned.split_once('.')
        && digits(whole)
        && fraction.len() == 6
        && digits(fraction)
        && let Ok(n) = text.parse::<f64>()
    {
        return Value::from(n);
    }
    Value::from(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixture file `name` as captured (pretty-printed), parsed.
    fn fixture(name: &str) -> Value {
        let file = EMBEDDED
            .get_file(name)
            .unwrap_or_else(|| panic!("no fixture {name}"));
        serde_json::from_str(file.contents_utf8().unwrap()).unwrap()
    }

    fn value(text: &str) -> Value {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    fn src() -> SnapshotSource {
        SnapshotSource::embedded()
    }

    /// Writes every embedded file, as captured, into a fresh directory.
    fn copy_of_embedded() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in EMBEDDED.files() {
            fs::write(dir.path().join(file.path()), file.contents()).unwrap();
        }
        dir
    }

    #[test]
    fn embedded_snapshot_loads_strictly() {
        let files: BTreeMap<String, String> = EMBEDDED
            .files()
            .map(|f| {
                let name = f.path().to_str().unwrap().to_owned();
                let text = f.contents_utf8().unwrap();
                if is_json_file(&name) {
                    serde_json::from_str::<Value>(text).unwrap();
                }
                (name, text.to_owned())
            })
            .collect();
        let core = Core::from_files(&files, &Origin::Embedded).unwrap();
        let daemons = daemon_index(&files, &core.mgr_id, &Origin::Embedded).unwrap();
        let expected: BTreeSet<DaemonKey> = [("mgr", "x"), ("mon", "a"), ("osd", "0")]
            .into_iter()
            .map(|(t, i)| (t.to_owned(), i.to_owned()))
            .collect();
        assert_eq!(daemons, expected);
        assert_eq!(src().daemons, expected);
    }

    #[test]
    fn every_documented_data_name_answers_with_the_captured_value() {
        let s = src();
        for name in DATA_NAMES {
            let text = s.get(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(value(&text), fixture(&format!("get.{name}.json")), "{name}");
        }
    }

    #[test]
    fn every_captured_get_file_is_served() {
        let s = src();
        let names = s.data_names();
        for extra in ["pg_progress", "active_clean_pgs", "osd_map_crush_text"] {
            assert!(names.contains(&extra), "{extra}");
        }
        for name in names {
            assert_eq!(
                value(&s.get(name).unwrap()),
                fixture(&format!("get.{name}.json"))
            );
        }
    }

    #[test]
    fn served_json_is_compact_and_keeps_number_spelling() {
        let s = src();
        let health = s.get("health").unwrap();
        assert!(!health.contains('\n'));
        assert!(health.starts_with("{\"json\":\""));
        assert_eq!(s.ceph_option("mgr_tick_period").unwrap(), "2.0");
        let counter = s.get_counter("osd", "0", "osd.op").unwrap();
        assert!(counter.starts_with("{\"osd.op\":[[1795385053.2911725,7],"));
    }

    #[test]
    fn compaction_keeps_whitespace_inside_strings() {
        let text = "{\n  \"a b\": \"x \\\" y\\\\\",\n  \"c\": [ 1, 2.50 ]\n}\n";
        assert_eq!(compact_json(text), r#"{"a b":"x \" y\\","c":[1,2.50]}"#);
    }

    #[test]
    fn unknown_data_name_lists_the_valid_names() {
        for name in [
            "no_such_data_name",
            "osd_crush_map_text",
            "device ",
            "device_x",
        ] {
            let err = src().get(name).unwrap_err();
            assert!(matches!(err, SourceError::NotFound { .. }), "{name}");
            let msg = err.to_string();
            assert!(msg.contains(&format!("`{name}`")), "{msg}");
            assert!(msg.contains("osd_map_tree"), "{msg}");
            assert!(msg.contains("pg_progress"), "{msg}");
            assert!(!msg.contains("osd_map_crush_text"), "{msg}");
            assert!(msg.contains("device <devid>"), "{msg}");
        }
    }

    #[test]
    fn known_but_uncaptured_name_says_so() {
        let msg = src().get("config_options").unwrap_err().to_string();
        assert!(msg.contains("did not capture"), "{msg}");
    }

    #[test]
    fn osd_map_and_config_prefixes_answer_empty_objects() {
        let s = src();
        assert_eq!(s.get("osd_map_crush_text").unwrap(), "{}");
        assert_eq!(s.get("osd_map_no_such").unwrap(), "{}");
        assert_eq!(s.get("configuration").unwrap(), "{}");
    }

    #[test]
    fn unknown_device_is_an_empty_object() {
        let s = src();
        let captured = fixture("get.device_no-such-device.json");
        assert_eq!(value(&s.get("device no-such-device").unwrap()), captured);
        assert_eq!(s.get("device other-device").unwrap(), "{}");
    }

    #[test]
    fn device_lookup_wraps_the_entry_in_a_device_key() {
        let dir = copy_of_embedded();
        let devices = r#"{"devices": [
            {"devid": "VENDOR_MODEL_1", "daemons": ["osd.0"], "location": []},
            {"devid": "VENDOR_MODEL_2", "daemons": [], "location": []}
        ]}"#;
        fs::write(dir.path().join("get.devices.json"), devices).unwrap();
        let s = SnapshotSource::from_dir(dir.path()).unwrap();
        assert_eq!(
            s.get("device VENDOR_MODEL_1").unwrap(),
            r#"{"device":{"devid":"VENDOR_MODEL_1","daemons":["osd.0"],"location":[]}}"#
        );
        assert_eq!(s.get("device VENDOR_MODEL_3").unwrap(), "{}");
    }

    #[test]
    fn servers() {
        let s = src();
        assert_eq!(
            value(&s.list_servers().unwrap()),
            fixture("list_servers.json")
        );
        assert_eq!(
            value(&s.get_server("node-a").unwrap()),
            fixture("get_server.json")
        );
        assert_eq!(
            s.get_server("node-z").unwrap(),
            r#"{"ceph_version":"","hostname":"node-z","services":[]}"#
        );
    }

    #[test]
    fn metadata_of_known_and_unknown_daemons() {
        let s = src();
        let osd = s.get_metadata("osd", "0").unwrap().unwrap();
        assert_eq!(value(&osd), fixture("get_metadata.osd.0.json"));
        let mon = s.get_metadata("mon", "a").unwrap().unwrap();
        assert_eq!(value(&mon), fixture("get_metadata.mon.a.json"));
        let mgr = s.get_metadata("mgr", "x").unwrap().unwrap();
        assert_eq!(value(&mgr), fixture("get_metadata.mgr.self.json"));
        assert_eq!(s.get_metadata("mgr", "self").unwrap(), None);
        assert_eq!(s.get_metadata("osd", "99").unwrap(), None);
        assert_eq!(s.get_metadata("osd", "osd.0").unwrap(), None);
        assert_eq!(s.get_metadata("", "0").unwrap(), None);
    }

    #[test]
    fn osd_metadata_answers_for_an_uncaptured_osd() {
        let dir = copy_of_embedded();
        fs::remove_file(dir.path().join("get_metadata.osd.0.json")).unwrap();
        let s = SnapshotSource::from_dir(dir.path()).unwrap();
        let osd = s.get_metadata("osd", "0").unwrap().unwrap();
        assert_eq!(value(&osd), fixture("get_metadata.osd.0.json"));
    }

    #[test]
    fn daemon_status_of_known_and_unknown_daemons() {
        let s = src();
        let osd = s.get_daemon_status("osd", "0").unwrap().unwrap();
        assert_eq!(value(&osd), fixture("get_daemon_status.osd.0.json"));
        assert_eq!(
            s.get_daemon_status("mon", "a").unwrap().as_deref(),
            Some("{}")
        );
        assert_eq!(
            s.get_daemon_status("mgr", "x").unwrap().as_deref(),
            Some("{}")
        );
        assert_eq!(s.get_daemon_status("osd", "99").unwrap(), None);
    }

    #[test]
    fn perf_schema_of_known_and_unknown_daemons() {
        let s = src();
        let osd = value(&s.get_perf_schema("osd", "0").unwrap());
        assert_eq!(osd, fixture("get_perf_schema.osd.0.json"));
        // The quirk: the id must be `0`; `osd.0` matches no daemon.
        let quirk = value(&s.get_perf_schema("osd", "osd.0").unwrap());
        assert_eq!(quirk, fixture("get_perf_schema.osd.osd.0.json"));
        assert_eq!(s.get_perf_schema("osd", "99").unwrap(), "{}");

        let mon = value(&s.get_perf_schema("mon", "a").unwrap());
        let sessions = &mon["mon.a"]["mon.num_sessions"];
        assert_eq!(
            sessions,
            &serde_json::json!({"description": "Open sessions", "nick": "sess",
                                "priority": 5, "type": 2, "units": 1})
        );
        assert_eq!(s.get_perf_schema("mgr", "x").unwrap(), r#"{"mgr.x":{}}"#);

        let osds = value(&s.get_perf_schema("osd", "").unwrap());
        assert_eq!(osds, fixture("get_perf_schema.osd.0.json"));
        let all = value(&s.get_perf_schema("", "").unwrap());
        let keys: Vec<&String> = all.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["mgr.x", "mon.a", "osd.0"]);
        assert_eq!(all["osd.0"], osd["osd.0"]);
    }

    #[test]
    fn counters_of_known_and_unknown_daemons() {
        let s = src();
        for path in ["osd.op", "osd.op_r_latency"] {
            let got = value(&s.get_counter("osd", "0", path).unwrap());
            assert_eq!(got, fixture(&format!("get_counter.osd.0.{path}.json")));
        }
        let quirk = value(&s.get_counter("osd", "osd.0", "osd.op").unwrap());
        assert_eq!(quirk, fixture("get_counter.osd.osd.0.osd.op.json"));
        assert_eq!(
            s.get_counter("osd", "0", "osd.op_w").unwrap(),
            r#"{"osd.op_w":[]}"#
        );
        // Same file name as (`0`, `osd.op`), but another daemon.
        assert_eq!(s.get_counter("osd", "0.osd", "op").unwrap(), r#"{"op":[]}"#);
        assert_eq!(
            s.get_counter("osd", "99", "osd.op").unwrap(),
            r#"{"osd.op":[]}"#
        );
    }

    #[test]
    fn latest_values_of_known_and_unknown_daemons() {
        let s = src();
        let captured = fixture("get_latest.osd.0.osd.op.json");
        assert_eq!(
            value(&s.get_latest("osd", "0", "osd.op").unwrap()),
            captured
        );
        // Long-running average: the sum, as pacific's `get_latest` returns `data[1]`.
        assert_eq!(
            s.get_latest("osd", "0", "osd.op_r_latency").unwrap(),
            "306777"
        );
        // Not captured per counter: the value get_all_perf_counters recorded.
        assert_eq!(s.get_latest("mon", "a", "mon.num_sessions").unwrap(), "5");
        assert_eq!(s.get_latest("osd", "99", "osd.op").unwrap(), "0");
        assert_eq!(s.get_latest("osd", "0", "no.such").unwrap(), "0");

        let latest = value(&s.get_latest_counter("osd", "0", "osd.op").unwrap());
        assert_eq!(latest, fixture("get_latest_counter.osd.0.osd.op.json"));
        let derived = value(
            &s.get_latest_counter("osd", "0", "osd.op_r_latency")
                .unwrap(),
        );
        assert_eq!(
            derived,
            serde_json::json!({"osd.op_r_latency": [1795385093.290874, 306777, 3]})
        );
        assert_eq!(
            s.get_latest_counter("osd", "99", "osd.op").unwrap(),
            r#"{"osd.op":[]}"#
        );

        let avg = value(&s.get_latest_avg("osd", "0", "osd.op_r_latency").unwrap());
        assert_eq!(avg, fixture("get_latest_avg.osd.0.osd.op_r_latency.json"));
        let all = fixture("get_all_perf_counters.json");
        let op_latency = &all["osd.0"]["osd.op_latency"];
        assert_eq!(
            value(&s.get_latest_avg("osd", "0", "osd.op_latency").unwrap()),
            serde_json::json!([op_latency["value"], op_latency["count"]])
        );
        assert_eq!(
            s.get_latest_avg("osd", "99", "osd.op_latency").unwrap(),
            "[0,0]"
        );
    }

    #[test]
    fn latest_values_agree_with_get_all_perf_counters() {
        let s = src();
        let all = fixture("get_all_perf_counters.json");
        for (daemon, counters) in all.as_object().unwrap() {
            let (kind, id) = daemon.split_once('.').unwrap();
            let schema = value(&s.get_perf_schema(kind, id).unwrap());
            for (path, counter) in counters.as_object().unwrap() {
                let latest = value(&s.get_latest(kind, id, path).unwrap());
                assert_eq!(latest, counter["value"], "{daemon} {path}");
                let mut fields = counter.clone();
                let fields = fields.as_object_mut().unwrap();
                fields.remove("value");
                fields.remove("count");
                assert_eq!(schema[daemon][path], Value::Object(fields.clone()));
            }
        }
    }

    #[test]
    fn ceph_options_are_typed() {
        let s = src();
        assert_eq!(s.ceph_option("mgr_tick_period").unwrap(), "2.0");
        assert_eq!(s.ceph_option("mgr_stats_threshold").unwrap(), "5");
        assert_eq!(s.ceph_option("osd_memory_target").unwrap(), "4294967296");
        assert_eq!(s.ceph_option("auth_mon_ticket_ttl").unwrap(), "259200.0");
        assert_eq!(
            s.ceph_option("mon_warn_on_pool_no_redundancy").unwrap(),
            "true"
        );
        assert_eq!(
            s.ceph_option("fsid").unwrap(),
            r#""ee0b44de-dc35-419f-8280-06c732113f76""#
        );
        assert_eq!(s.ceph_option("debug_mgr").unwrap(), r#""2/5""#);
        assert_eq!(s.ceph_option("admin_socket_mode").unwrap(), r#""""#);
        let err = s.ceph_option("no_such_option").unwrap_err();
        assert!(matches!(err, SourceError::NotFound { .. }));
        assert!(err.to_string().contains("mgr_tick_period"));
    }

    #[test]
    fn typed_option_values() {
        assert_eq!(typed_option_value("-3"), Value::from(-3));
        assert_eq!(
            typed_option_value("18446744073709551615"),
            Value::from(u64::MAX)
        );
        assert_eq!(typed_option_value("0.500000"), Value::from(0.5));
        assert_eq!(typed_option_value("127.0.0.1"), Value::from("127.0.0.1"));
        assert_eq!(typed_option_value("1.5"), Value::from("1.5"));
    }

    #[test]
    fn plain_values() {
        let s = src();
        assert_eq!(s.mgr_id(), "x");
        let (version, release) = s.version();
        assert!(version.starts_with("ceph version 16.2.15 "), "{version}");
        assert_eq!(release, "pacific");
        assert!(s.have_mon_connection());
        assert_eq!(s.describe(), "snapshot (embedded ceph-pacific-1node)");
        assert!(s.file("cli.hello.txt").unwrap().contains("Hello, Earth!"));
        assert!(s.file_names().any(|n| n == "README.md"));
    }

    #[test]
    fn is_a_cluster_source() {
        let source: Box<dyn ClusterSource> = Box::new(src());
        assert_eq!(source.mgr_id(), "x");
    }

    #[test]
    fn from_dir_answers_like_embedded() {
        let dir = copy_of_embedded();
        let s = SnapshotSource::from_dir(dir.path()).unwrap();
        let e = src();
        assert_eq!(s.files, e.files);
        assert_eq!(s.daemons, e.daemons);
        assert_eq!(s.get("mgr_map").unwrap(), e.get("mgr_map").unwrap());
        assert_eq!(s.version(), e.version());
        assert_eq!(
            s.describe(),
            format!("snapshot (directory {})", dir.path().display())
        );
    }

    #[test]
    fn from_dir_names_a_corrupt_file() {
        let dir = copy_of_embedded();
        fs::write(dir.path().join("get.df.json"), "{\"stats\": ").unwrap();
        let err = SnapshotSource::from_dir(dir.path()).unwrap_err();
        assert!(matches!(err, SourceError::Invalid { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("get.df.json"), "{msg}");
        assert!(msg.contains("not valid JSON"), "{msg}");
    }

    #[test]
    fn from_dir_needs_the_required_files() {
        let dir = copy_of_embedded();
        fs::remove_file(dir.path().join("get_mgr_id.json")).unwrap();
        let msg = SnapshotSource::from_dir(dir.path())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("get_mgr_id.json"), "{msg}");

        fs::write(dir.path().join("get_mgr_id.json"), "7").unwrap();
        let msg = SnapshotSource::from_dir(dir.path())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("expected a JSON string"), "{msg}");
    }

    #[test]
    fn from_dir_reports_a_missing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let err = SnapshotSource::from_dir(dir.path().join("nope")).unwrap_err();
        assert!(matches!(err, SourceError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("nope"));
    }

    #[test]
    fn partial_snapshot_says_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        for name in REQUIRED_FILES {
            let file = EMBEDDED.get_file(name).unwrap();
            fs::write(dir.path().join(name), file.contents()).unwrap();
        }
        let s = SnapshotSource::from_dir(dir.path()).unwrap();
        let msg = s.get("df").unwrap_err().to_string();
        assert!(msg.contains("get.df.json"), "{msg}");
        assert!(
            s.list_servers()
                .unwrap_err()
                .to_string()
                .contains("list_servers.json")
        );
        assert_eq!(
            s.get_server("node-a").unwrap(),
            r#"{"ceph_version":"","hostname":"node-a","services":[]}"#
        );
    }
}
