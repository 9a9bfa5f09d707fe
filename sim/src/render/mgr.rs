//! The mgr map (this daemon active) and `mgr_ips`.

use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::model::{Cluster, FEATURES};
use crate::time::stamp;

/// The module catalogue of the captured pacific mgr: `always_on_modules`,
/// `available_modules` (with every module's options) and the enabled `modules`.
static MODULES: &str = include_str!("../../data/mgr_modules.json");

fn catalogue() -> &'static Value {
    static C: OnceLock<Value> = OnceLock::new();
    C.get_or_init(|| serde_json::from_str(MODULES).unwrap_or(Value::Null))
}

/// pacific's default enabled modules (beyond the always-on ones).
pub(crate) fn default_modules() -> Vec<String> {
    ["iostat", "nfs", "restful"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

/// `get("mgr_map")`.
pub(crate) fn mgr_map(c: &Cluster) -> Value {
    let ip = c.hosts.first().map_or("0.0.0.0", |h| h.ip.as_str());
    let n = c.mgr.nonce;
    let cat = catalogue();
    let client = |name: &str, nonce: u64| json!({"addrvec": [{"addr": format!("{ip}:0"), "nonce": nonce, "type": "v2"}], "name": name});
    json!({
        "active_addr": format!("{ip}:6801/{n}"),
        "active_addrs": {"addrvec": [
            {"addr": format!("{ip}:6800"), "nonce": n, "type": "v2"},
            {"addr": format!("{ip}:6801"), "nonce": n, "type": "v1"},
        ]},
        "active_change": stamp(c.mgr.since),
        "active_clients": [
            client("rbd_support", u64::from(n) * 7 + 11),
            client("volumes", u64::from(n) * 5 + 3),
        ],
        "active_gid": c.mgr.gid,
        "active_mgr_features": FEATURES,
        "active_name": c.mgr.id,
        "always_on_modules": cat.get("always_on_modules").cloned().unwrap_or_else(|| json!({})),
        "available": true,
        "available_modules": cat.get("available_modules").cloned().unwrap_or_else(|| json!([])),
        "epoch": c.mgr.epoch,
        "last_failure_osd_epoch": 0,
        "modules": c.mgr.modules,
        "services": c.mgr.services,
        "standbys": [],
    })
}

/// `get("mgr_ips")`.
pub(crate) fn mgr_ips(c: &Cluster) -> Value {
    json!({"ips": [c.hosts.first().map_or("0.0.0.0", |h| h.ip.as_str())]})
}
