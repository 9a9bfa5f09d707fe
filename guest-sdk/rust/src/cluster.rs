//! Read access to cluster state (`MgrModule.get` and friends).
//!
//! Every document is JSON in the shape a real Ceph cluster's ceph-mgr returns; the typed
//! functions parse it into any `T: DeserializeOwned`, `serde_json::Value` included.
//!
//! ```no_run
//! use wasmgr_guest::cluster;
//!
//! # fn main() -> wasmgr_guest::Result<()> {
//! let osd_map: serde_json::Value = cluster::get("osd_map")?;
//!
//! #[derive(serde::Deserialize)]
//! struct OsdMap {
//!     epoch: u64,
//! }
//! let epoch = cluster::get::<OsdMap>("osd_map")?.epoch;
//! # let _ = (osd_map, epoch);
//! # Ok(())
//! # }
//! ```

use serde::de::DeserializeOwned;

use crate::bindings::wasmgr::mgr::cluster as host;
use crate::error::{Error, ErrorCode, Result};

fn parse<T: DeserializeOwned>(what: &str, json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| {
        Error::new(
            ErrorCode::Invalid,
            format!("{what} does not have the expected shape: {e}"),
        )
    })
}

/// `MgrModule.get(data_name)` parsed as `T`. An unknown name is `not-found`.
pub fn get<T: DeserializeOwned>(data_name: &str) -> Result<T> {
    parse(&format!("cluster data '{data_name}'"), &get_raw(data_name)?)
}

/// `MgrModule.get(data_name)` as the host's JSON text.
pub fn get_raw(data_name: &str) -> Result<String> {
    Ok(host::get(data_name)?)
}

/// `get_server(hostname)`: the daemons on one host (`{}` when the host is unknown).
pub fn get_server<T: DeserializeOwned>(hostname: &str) -> Result<T> {
    parse(
        &format!("server '{hostname}'"),
        &host::get_server(hostname)?,
    )
}

/// `list_servers()`: every host with its daemons.
pub fn list_servers<T: DeserializeOwned>() -> Result<T> {
    parse("the server list", &host::list_servers()?)
}

/// `get_metadata(svc_type, svc_id)`: a daemon's metadata, or `None` if it is unknown.
pub fn get_metadata<T: DeserializeOwned>(svc_type: &str, svc_id: &str) -> Result<Option<T>> {
    host::get_metadata(svc_type, svc_id)?
        .map(|json| parse(&format!("metadata of {svc_type}.{svc_id}"), &json))
        .transpose()
}

/// `get_daemon_status(svc_type, svc_id)`: a daemon's status map, or `None` if it is unknown.
pub fn get_daemon_status<T: DeserializeOwned>(svc_type: &str, svc_id: &str) -> Result<Option<T>> {
    host::get_daemon_status(svc_type, svc_id)?
        .map(|json| parse(&format!("status of {svc_type}.{svc_id}"), &json))
        .transpose()
}

/// `get_perf_schema(svc_type, svc_id)`: the perf counter schema of one daemon.
pub fn get_perf_schema<T: DeserializeOwned>(svc_type: &str, svc_id: &str) -> Result<T> {
    let json = host::get_perf_schema(svc_type, svc_id)?;
    parse(&format!("perf schema of {svc_type}.{svc_id}"), &json)
}

/// `get_counter(svc_type, svc_id, path)`: recent samples of one perf counter.
pub fn get_counter<T: DeserializeOwned>(svc_type: &str, svc_id: &str, path: &str) -> Result<T> {
    let json = host::get_counter(svc_type, svc_id, path)?;
    parse(&format!("counter {path} of {svc_type}.{svc_id}"), &json)
}

/// `get_latest(svc_type, svc_id, path)`: the newest value of one perf counter.
pub fn get_latest<T: DeserializeOwned>(svc_type: &str, svc_id: &str, path: &str) -> Result<T> {
    let json = host::get_latest(svc_type, svc_id, path)?;
    parse(&format!("counter {path} of {svc_type}.{svc_id}"), &json)
}

/// `get_mgr_id()`: the id of the manager this module runs in.
pub fn get_mgr_id() -> String {
    host::get_mgr_id()
}

/// `get_ceph_option(key)`: a cluster configuration value.
pub fn get_ceph_option<T: DeserializeOwned>(key: &str) -> Result<T> {
    parse(
        &format!("ceph option '{key}'"),
        &host::get_ceph_option(key)?,
    )
}

/// The cluster's Ceph version string and release name (`version`, `release_name`).
pub fn version() -> (String, String) {
    host::version()
}

/// `have_mon_connection()`: whether the manager currently talks to a monitor.
pub fn have_mon_connection() -> bool {
    host::have_mon_connection()
}
