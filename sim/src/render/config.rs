//! The mgr's effective config (`config`, `modified_config_options`, `config_options`), typed
//! option values (`get_ceph_option`), and the base the config database starts from.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::SimError;
use crate::model::{Cluster, ConfigDb};

/// The effective config of the captured pacific mgr: every option, as text.
static BASE: &str = include_str!("../../data/config.json");

/// Options a deployed cluster has changed from their defaults (and that the base sets).
const MODIFIED: &[&str] = &[
    "admin_socket",
    "auth_allow_insecure_global_id_reclaim",
    "cluster_network",
    "container_image",
    "crash_dir",
    "keyring",
    "log_file",
    "mgr_data",
    "mon_host",
    "mon_warn_on_insecure_global_id_reclaim_allowed",
    "osd_pool_default_min_size",
    "osd_pool_default_size",
    "pid_file",
    "public_addr",
    "public_network",
    "rbd_default_features",
    "run_dir",
];

fn base_options() -> &'static BTreeMap<String, String> {
    static B: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    B.get_or_init(|| serde_json::from_str(BASE).unwrap_or_default())
}

/// Fills the config database's base: the captured mgr config, moved onto this cluster (its
/// fsid, mons, mgr id, paths and pool defaults).
pub(crate) fn init_base(
    db: &mut ConfigDb,
    mgr_id: &str,
    fsid: &str,
    mon_host: &str,
    mgr_ip: &str,
    size: u32,
    min_size: u32,
) {
    let mut base: BTreeMap<String, String> = base_options()
        .iter()
        .map(|(k, v)| {
            let v = v
                .replace("/var/lib/ceph-1node", "/var/lib/ceph")
                .replace("ceph-mgr.x.", &format!("ceph-mgr.{mgr_id}."))
                .replace("mgr.x", &format!("mgr.{mgr_id}"))
                .replace("ceph-x", &format!("ceph-{mgr_id}"))
                .replace("127.0.0.1", mgr_ip);
            (k.clone(), v)
        })
        .collect();
    let mut set = |k: &str, v: String| {
        base.insert(k.to_owned(), v);
    };
    set("fsid", fsid.to_owned());
    set("mon_host", mon_host.to_owned());
    set("public_addr", format!("v2:{mgr_ip}:0/0"));
    set("public_network", "10.0.0.0/16".to_owned());
    set("cluster_network", "10.1.0.0/16".to_owned());
    set("name", format!("mgr.{mgr_id}"));
    set("osd_objectstore", "bluestore".to_owned());
    set("osd_pool_default_size", size.to_string());
    set("osd_pool_default_min_size", min_size.to_string());
    set("osd_pool_default_pg_num", "32".to_owned());
    set("osd_pool_default_pgp_num", "32".to_owned());
    set("mon_allow_pool_delete", "false".to_owned());
    set("mon_allow_pool_size_one", "false".to_owned());
    set("container_image", "quay.io/ceph/ceph:v16.2.15".to_owned());
    db.base = base;
    db.base_modified = MODIFIED.iter().map(|s| (*s).to_owned()).collect();
    db.version = 1;
}

/// `get("config")`: every option as the mgr sees it, as text.
pub(crate) fn config(c: &Cluster) -> Value {
    let mut map: BTreeMap<String, String> = c.config.base.clone();
    for name in mgr_overrides(c) {
        if let Some(v) = c.config.effective(&c.mgr.id, &name) {
            map.insert(name, v);
        }
    }
    json!(map)
}

/// Option names the config database sets for the mgr (global, `mgr` or `mgr.<id>`), not
/// module options (`mgr/<module>/...`).
fn mgr_overrides(c: &Cluster) -> Vec<String> {
    let me = format!("mgr.{}", c.mgr.id);
    let mut names: Vec<String> = c
        .config
        .entries
        .keys()
        .filter(|(who, name)| {
            (who == "global" || who == "mgr" || *who == me) && !name.contains('/')
        })
        .map(|(_, name)| name.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// `get("modified_config_options")`.
pub(crate) fn modified(c: &Cluster) -> Value {
    let mut names = c.config.base_modified.clone();
    names.extend(mgr_overrides(c));
    names.sort();
    names.dedup();
    json!({"options": names})
}

/// The type Ceph's option schema would give an option, judged from its default text.
fn option_type(v: &str) -> &'static str {
    match typed(v) {
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(n) if n.is_u64() => "uint",
        Value::Number(_) => "int",
        _ => "str",
    }
}

/// `get("config_options")`: the schema of every option.
pub(crate) fn options(c: &Cluster) -> Value {
    let list: Vec<Value> = c
        .config
        .base
        .iter()
        .map(|(name, v)| {
            json!({
                "name": name,
                "type": option_type(v),
                "level": "advanced",
                "desc": "",
                "long_desc": "",
                "default": typed(v),
                "daemon_default": "",
                "tags": [],
                "services": [],
                "see_also": [],
                "enum_values": [],
                "min": "",
                "max": "",
                "can_update_at_runtime": true,
                "flags": 0,
            })
        })
        .collect();
    json!({"options": list})
}

/// An option's text typed as ceph-mgr types option values: booleans, integers and `%f`
/// decimals become JSON booleans and numbers, anything else stays a string.
pub(crate) fn typed(text: &str) -> Value {
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

/// Options whose schema type is a float or `secs` (ceph-mgr hands them over as floats even
/// when their text is an integer).
const FLOAT_OPTIONS: &[&str] = &[
    "mgr_tick_period",
    "mon_osd_nearfull_ratio",
    "mon_osd_full_ratio",
];

/// `get_ceph_option(key)`.
pub(crate) fn ceph_option(c: &Cluster, key: &str) -> Result<String, SimError> {
    let Some(text) = c.config.effective(&c.mgr.id, key) else {
        return Err(SimError::NotFound {
            what: format!("Ceph option `{key}`"),
            hint: "option names are as `ceph config ls` lists them, with underscores \
                   (e.g. `mgr_tick_period`)"
                .to_owned(),
        });
    };
    if FLOAT_OPTIONS.contains(&key)
        && let Ok(f) = text.trim().parse::<f64>()
    {
        return Ok(Value::from(f).to_string());
    }
    Ok(typed(&text).to_string())
}

/// Whether `name` is a Ceph option (module options, `mgr/<module>/<option>`, are accepted as
/// they are).
pub(crate) fn is_option(name: &str) -> bool {
    name.contains('/') || base_options().contains_key(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_parses() {
        assert!(base_options().len() > 1500);
        assert_eq!(typed("0.500000"), Value::from(0.5));
        assert_eq!(typed("8"), Value::from(8));
        assert_eq!(typed("1.5"), Value::from("1.5"));
    }
}
