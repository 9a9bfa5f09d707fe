//! Servers and daemons: `list_servers`, `get_server`, `get_metadata`,
//! `get_daemon_status`, `get_perf_schema`, `get_daemon_health_metrics`.

use serde_json::{Map, Value, json};

use crate::model::{CEPH_VERSION, Cluster};
use crate::render::maps::daemon_metadata;
use crate::render::osdmap::osd_metadata_of;

/// The daemons on each host: (type, id) sorted.
fn host_daemons(c: &Cluster) -> Vec<Vec<(String, String)>> {
    let mut per: Vec<Vec<(String, String)>> = vec![Vec::new(); c.hosts.len()];
    let mut add = |h: usize, t: &str, id: String| {
        if let Some(v) = per.get_mut(h) {
            v.push((t.to_owned(), id));
        }
    };
    add(0, "mgr", c.mgr.id.clone());
    for m in &c.mons {
        add(m.host, "mon", m.name.clone());
    }
    for o in &c.osds {
        add(o.host, "osd", o.id.to_string());
    }
    for m in c.fs.mds.iter().filter(|m| m.state != "down") {
        add(m.host, "mds", m.name.clone());
    }
    for d in &c.services.rgw {
        add(d.host, "rgw", d.name.clone());
    }
    for v in &mut per {
        v.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| match (a.1.parse::<u64>(), b.1.parse::<u64>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    _ => a.1.cmp(&b.1),
                })
        });
    }
    per
}

fn server_json(host: &str, daemons: &[(String, String)]) -> Value {
    json!({
        "ceph_version": CEPH_VERSION,
        "hostname": host,
        "services": daemons.iter().map(|(t, id)| json!({"ceph_version": CEPH_VERSION, "id": id, "type": t})).collect::<Vec<_>>(),
    })
}

/// `list_servers()`.
pub(crate) fn list_servers(c: &Cluster) -> String {
    let per = host_daemons(c);
    Value::Array(
        c.hosts
            .iter()
            .zip(per.iter())
            .map(|(h, d)| server_json(&h.name, d))
            .collect(),
    )
    .to_string()
}

/// `get_server(hostname)`.
pub(crate) fn server(c: &Cluster, hostname: &str) -> String {
    if let Some(i) = c.hosts.iter().position(|h| h.name == hostname) {
        let per = host_daemons(c);
        if let Some(d) = per.get(i) {
            return server_json(hostname, d).to_string();
        }
    }
    json!({"ceph_version": "", "hostname": hostname, "services": []}).to_string()
}

/// `get_metadata(type, id)`.
pub(crate) fn metadata(c: &Cluster, kind: &str, id: &str) -> Option<String> {
    if !c.daemon_known(kind, id) {
        return None;
    }
    let v = match kind {
        "osd" => {
            let o = c.osds.get(id.parse::<usize>().ok()?)?;
            osd_metadata_of(c, o)
        }
        "mon" => {
            let m = c.mons.iter().find(|m| m.name == id)?;
            let ip = c.hosts.get(m.host).map_or("0.0.0.0", |h| h.ip.as_str());
            let mut meta = daemon_metadata(c, m.host);
            meta.insert(
                "addrs".into(),
                format!("[v2:{ip}:3300/0,v1:{ip}:6789/0]").into(),
            );
            meta.insert(
                "compression_algorithms".into(),
                "none, snappy, zlib, zstd, lz4".into(),
            );
            meta.insert("device_ids".into(), "".into());
            meta.insert("device_paths".into(), "".into());
            meta.insert("devices".into(), "sda".into());
            Value::Object(meta)
        }
        "mgr" => {
            let ip = c.hosts.first().map_or("0.0.0.0", |h| h.ip.as_str());
            let mut meta = daemon_metadata(c, 0);
            meta.insert("addr".into(), ip.into());
            meta.insert("addrs".into(), format!("{ip}:0/{}", c.mgr.nonce).into());
            Value::Object(meta)
        }
        "mds" => {
            let m = c.fs.mds.iter().find(|m| m.name == id)?;
            let ip = c.hosts.get(m.host).map_or("0.0.0.0", |h| h.ip.as_str());
            let mut meta = daemon_metadata(c, m.host);
            meta.insert(
                "addr".into(),
                format!("[v2:{ip}:6832/{n},v1:{ip}:6833/{n}]", n = m.nonce).into(),
            );
            Value::Object(meta)
        }
        "rgw" => {
            let d = c.services.rgw.iter().find(|d| d.name == id)?;
            Value::Object(crate::render::maps::rgw_metadata(c, d))
        }
        _ => return None,
    };
    let mut sorted: Vec<(String, Value)> = match v {
        Value::Object(m) => m.into_iter().collect(),
        _ => Vec::new(),
    };
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    Some(Value::Object(sorted.into_iter().collect()).to_string())
}

/// `get_daemon_status(type, id)`: `{}` for a known daemon, `None` otherwise.
pub(crate) fn daemon_status(c: &Cluster, kind: &str, id: &str) -> Option<String> {
    c.daemon_known(kind, id).then(|| "{}".to_owned())
}

/// `get_perf_schema(type, id)`, see [`crate::Sim::get_perf_schema`].
pub(crate) fn perf_schema(c: &Cluster, kind: &str, id: &str) -> String {
    if !kind.is_empty() && !id.is_empty() {
        if !c.daemon_known(kind, id) {
            return "{}".to_owned();
        }
        let mut m = Map::new();
        m.insert(
            format!("{kind}.{id}"),
            Value::Object(c.perf_schema_of(kind)),
        );
        return Value::Object(m).to_string();
    }
    let mut out = String::from("{");
    let mut first = true;
    for (t, i) in c.daemons() {
        if !(kind.is_empty() || t == kind) {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        crate::json::key(&mut out, &format!("{t}.{i}"));
        out.push_str(&Value::Object(c.perf_schema_of(&t)).to_string());
    }
    out.push('}');
    out
}

/// `get_daemon_health_metrics()`.
pub(crate) fn health_metrics(c: &Cluster) -> String {
    let mut m = Map::new();
    for (t, id) in c.daemons() {
        let metrics = match t.as_str() {
            "osd" => {
                json!([{"type": "SLOW_OPS", "value": 0}, {"type": "PENDING_CREATING_PGS", "value": 0}])
            }
            "mon" => json!([{"type": "SLOW_OPS", "value": 0}]),
            _ => json!([]),
        };
        m.insert(format!("{t}.{id}"), metrics);
    }
    Value::Object(m).to_string()
}
