//! The mon map, `mon_status`, the FS map, MDS metadata and the service map.

use serde_json::{Map, Value, json};

use crate::model::{CEPH_VERSION, CEPH_VERSION_SHORT, Cluster};
use crate::time::{stamp, stamp_z};

const MON_FEATURES: [&str; 8] = [
    "kraken",
    "luminous",
    "mimic",
    "osdmap-prune",
    "nautilus",
    "octopus",
    "pacific",
    "elector-pinging",
];

/// `{"json": "<doc as text>"}`: how pacific hands `health` and `mon_status` to modules.
pub(crate) fn double_encoded(doc: &Value) -> String {
    json!({"json": doc.to_string()}).to_string()
}

fn mon_ip<'a>(c: &'a Cluster, m: &crate::model::Mon) -> &'a str {
    c.hosts.get(m.host).map_or("0.0.0.0", |h| h.ip.as_str())
}

fn mon_entry(c: &Cluster, rank: usize, m: &crate::model::Mon) -> Value {
    let ip = mon_ip(c, m);
    json!({
        "rank": rank,
        "name": m.name,
        "public_addrs": {"addrvec": [
            {"type": "v2", "addr": format!("{ip}:3300"), "nonce": 0},
            {"type": "v1", "addr": format!("{ip}:6789"), "nonce": 0},
        ]},
        "addr": format!("{ip}:6789/0"),
        "public_addr": format!("{ip}:6789/0"),
        "priority": 0,
        "weight": 0,
        "crush_location": "{}",
    })
}

/// `get("mon_map")`.
pub(crate) fn mon_map(c: &Cluster) -> Value {
    json!({
        "epoch": c.mon_epoch,
        "fsid": c.fsid,
        "modified": stamp_z(c.monmap_created),
        "created": stamp_z(c.monmap_created),
        "min_mon_release": 16,
        "min_mon_release_name": "pacific",
        "election_strategy": 1,
        "disallowed_leaders: ": "",
        "stretch_mode": false,
        "tiebreaker_mon": "",
        "removed_ranks: ": "",
        "features": {"persistent": MON_FEATURES, "optional": []},
        "mons": c.mons.iter().enumerate().map(|(i, m)| mon_entry(c, i, m)).collect::<Vec<_>>(),
    })
}

/// The leader's `mon_status`.
pub(crate) fn mon_status(c: &Cluster) -> Value {
    let quorum: Vec<usize> = c
        .mons
        .iter()
        .enumerate()
        .filter(|(_, m)| m.in_quorum)
        .map(|(i, _)| i)
        .collect();
    let name = c.mons.first().map_or("a", |m| m.name.as_str());
    let feat =
        |n: usize| json!([{"features": "0x3f01cfbdfffdffff", "release": "luminous", "num": n}]);
    json!({
        "name": name,
        "rank": 0,
        "state": "leader",
        "election_epoch": c.election_epoch,
        "quorum": quorum,
        "quorum_age": (c.now - c.quorum_since).max(0.0) as u64,
        "features": {
            "required_con": "2449958747317026820",
            "required_mon": MON_FEATURES,
            "quorum_con": "4540138314316775423",
            "quorum_mon": MON_FEATURES,
        },
        "outside_quorum": [],
        "extra_probe_peers": [],
        "sync_provider": [],
        "monmap": mon_map(c),
        "feature_map": {
            "mon": feat(c.mons.len()),
            "osd": feat(c.osds.len()),
            "client": feat(3 + c.services.rgw.len()),
            "mgr": feat(1),
        },
        "stretch_mode": false,
    })
}

fn mds_info(c: &Cluster, m: &crate::model::Mds, rank: i64, fscid: i64) -> Value {
    let ip = c.hosts.get(m.host).map_or("0.0.0.0", |h| h.ip.as_str());
    json!({
        "gid": m.gid,
        "name": m.name,
        "rank": rank,
        "incarnation": m.incarnation,
        "state": m.state,
        "state_seq": m.state_seq,
        "addr": format!("{ip}:6833/{}", m.nonce),
        "addrs": {"addrvec": [
            {"type": "v2", "addr": format!("{ip}:6832"), "nonce": m.nonce},
            {"type": "v1", "addr": format!("{ip}:6833"), "nonce": m.nonce},
        ]},
        "join_fscid": fscid,
        "export_targets": [],
        "features": 4_540_138_314_316_775_423u64,
        "flags": 0,
    })
}

fn incompat() -> Value {
    json!({
        "feature_1": "base v0.20",
        "feature_2": "client writeable ranges",
        "feature_3": "default file layouts on dirs",
        "feature_4": "dir inode in separate object",
        "feature_5": "mds uses versioned encoding",
        "feature_6": "dirfrag is stored in omap",
        "feature_8": "no anchor table",
        "feature_9": "file layout v2",
        "feature_10": "snaprealm v2",
    })
}

/// `get("fs_map")`: one file system with its ranks, and the standbys.
pub(crate) fn fs_map(c: &Cluster) -> Value {
    let fs = &c.fs;
    let in_rank = fs
        .mds
        .iter()
        .find(|m| m.state.starts_with("up:") && m.state != "up:standby");
    let mut info = Map::new();
    let mut up = Map::new();
    if let Some(m) = in_rank {
        info.insert(format!("gid_{}", m.gid), mds_info(c, m, 0, -1));
        up.insert("mds_0".to_owned(), m.gid.into());
    }
    let failed: Vec<u32> = if in_rank.is_none() {
        vec![0]
    } else {
        Vec::new()
    };
    let mdsmap = json!({
        "epoch": fs.epoch,
        "flags": 18,
        "ever_allowed_features": 0,
        "explicitly_allowed_features": 0,
        "created": stamp(fs.created),
        "modified": stamp(fs.modified),
        "tableserver": 0,
        "root": 0,
        "session_timeout": 60,
        "session_autoclose": 300,
        "required_client_features": {},
        "max_file_size": 1_099_511_627_776u64,
        "last_failure": 0,
        "last_failure_osd_epoch": fs.last_failure_osd_epoch,
        "compat": {"compat": {}, "ro_compat": {}, "incompat": incompat()},
        "max_mds": 1,
        "in": [0],
        "up": up,
        "failed": failed,
        "damaged": [],
        "stopped": [],
        "info": info,
        "data_pools": fs.data_pools,
        "metadata_pool": fs.metadata_pool,
        "enabled": true,
        "fs_name": fs.name,
        "balancer": "",
        "standby_count_wanted": 1,
    });
    let standbys: Vec<Value> = fs
        .mds
        .iter()
        .filter(|m| m.state == "up:standby")
        .map(|m| {
            let mut v = mds_info(c, m, -1, -1);
            if let Some(o) = v.as_object_mut() {
                o.insert("epoch".into(), m.since_epoch.into());
            }
            v
        })
        .collect();
    json!({
        "compat": {"compat": {}, "ro_compat": {}, "incompat": incompat()},
        "default_fscid": 1,
        "epoch": fs.epoch,
        "feature_flags": {"enable_multiple": true, "ever_enabled_multiple": true},
        "filesystems": [{"mdsmap": mdsmap, "id": 1}],
        "standbys": standbys,
    })
}

/// Metadata of a host-side daemon (MDS, RGW, mgr), with pacific's keys.
pub(crate) fn daemon_metadata(c: &Cluster, host: usize) -> Map<String, Value> {
    let hostname = c.hosts.get(host).map_or("", |h| h.name.as_str());
    let v = json!({
        "arch": "x86_64",
        "ceph_release": "pacific",
        "ceph_version": CEPH_VERSION,
        "ceph_version_short": CEPH_VERSION_SHORT,
        "container_name": "",
        "cpu": "Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz",
        "distro": "debian",
        "distro_description": "Debian GNU/Linux 12 (bookworm)",
        "distro_version": "12",
        "hostname": hostname,
        "kernel_description": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)",
        "kernel_version": "6.1.0-18-amd64",
        "mem_swap_kb": "0",
        "mem_total_kb": "131598512",
        "os": "Linux",
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// `get("mds_metadata")`: `{"<name>": metadata}` of the running MDS daemons.
pub(crate) fn mds_metadata(c: &Cluster) -> Value {
    let mut out = Map::new();
    for m in c.fs.mds.iter().filter(|m| m.state != "down") {
        let mut meta = daemon_metadata(c, m.host);
        let ip = c.hosts.get(m.host).map_or("0.0.0.0", |h| h.ip.as_str());
        meta.insert(
            "addr".into(),
            format!("[v2:{ip}:6832/{n},v1:{ip}:6833/{n}]", n = m.nonce).into(),
        );
        out.insert(m.name.clone(), Value::Object(meta));
    }
    Value::Object(out)
}

/// RGW metadata as the service map carries it.
pub(crate) fn rgw_metadata(c: &Cluster, d: &crate::model::ServiceDaemon) -> Map<String, Value> {
    let mut meta = daemon_metadata(c, d.host);
    meta.insert("frontend_config#0".into(), "beast port=80".into());
    meta.insert("frontend_type#0".into(), "beast".into());
    meta.insert("id".into(), d.name.clone().into());
    meta.insert("num_handles".into(), "1".into());
    meta.insert(
        "zone_id".into(),
        "8a4c2f35-5a38-4b1e-a5b2-2f3b0c52a7d1".into(),
    );
    meta.insert("zone_name".into(), "default".into());
    meta.insert(
        "zonegroup_id".into(),
        "b2a4f9e1-0c6d-4f0e-9d87-43cb1b1c6c4e".into(),
    );
    meta.insert("zonegroup_name".into(), "default".into());
    meta
}

/// `get("service_map")`.
pub(crate) fn service_map(c: &Cluster) -> Value {
    let mut services = Map::new();
    if !c.services.rgw.is_empty() {
        let mut daemons = Map::new();
        daemons.insert("summary".into(), "".into());
        for d in &c.services.rgw {
            let ip = c.hosts.get(d.host).map_or("0.0.0.0", |h| h.ip.as_str());
            daemons.insert(
                d.gid.to_string(),
                json!({
                    "start_epoch": d.start_epoch,
                    "start_stamp": stamp(d.start_stamp),
                    "gid": d.gid,
                    "addr": format!("{ip}:0/{}", d.nonce),
                    "metadata": rgw_metadata(c, d),
                    "task_status": {},
                }),
            );
        }
        services.insert("rgw".into(), json!({"daemons": daemons, "summary": ""}));
    }
    json!({
        "epoch": c.services.epoch,
        "modified": stamp(c.services.modified),
        "services": services,
    })
}
