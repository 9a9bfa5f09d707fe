//! The OSD map's documents: `osd_map`, `osd_map_tree`, `osd_map_crush`, `osd_metadata`,
//! `devices` and `device <devid>`.

use serde_json::{Map, Value, json};

use crate::json::key;
use crate::model::{
    CEPH_VERSION, CEPH_VERSION_SHORT, Cluster, FEATURES, Osd, Pool, PoolKind, osdflag, poolflag,
};
use crate::time::stamp;

fn addrvec(ip_port_v2: &str, ip_port_v1: &str, nonce: u32) -> Value {
    json!({"addrvec": [
        {"addr": ip_port_v2, "nonce": nonce, "type": "v2"},
        {"addr": ip_port_v1, "nonce": nonce, "type": "v1"},
    ]})
}

/// The OSD's state names, sorted as the dump's set is.
fn osd_state(c: &Cluster, o: &Osd) -> Vec<&'static str> {
    let mut st = vec!["exists"];
    if o.up {
        st.push("up");
    }
    if o.autoout {
        st.push("autoout");
    }
    if o.up {
        let u = o.utilization();
        if u >= c.full_ratio {
            st.push("full");
        } else if u >= c.backfillfull_ratio {
            st.push("backfillfull");
        } else if u >= c.nearfull_ratio {
            st.push("nearfull");
        }
    }
    st.sort_unstable();
    st
}

/// One pool as `pg_pool_t::dump` writes it.
pub(crate) fn pool_json(c: &Cluster, p: &Pool) -> Value {
    let any_full = c
        .osds
        .iter()
        .any(|o| o.up && o.utilization() >= c.nearfull_ratio);
    let flags = p.flags | if any_full { poolflag::NEARFULL } else { 0 };
    let (ty, profile, stripe) = match &p.kind {
        PoolKind::Replicated => (1, String::new(), 0),
        PoolKind::Erasure { k, profile, .. } => (3, profile.clone(), 4096 * k),
    };
    json!({
        "application_metadata": p.application,
        "auid": 0,
        "cache_min_evict_age": 0,
        "cache_min_flush_age": 0,
        "cache_mode": "none",
        "cache_target_dirty_high_ratio_micro": 600000,
        "cache_target_dirty_ratio_micro": 400000,
        "cache_target_full_ratio_micro": 800000,
        "create_time": stamp(p.create_time),
        "crush_rule": p.crush_rule,
        "erasure_code_profile": profile,
        "expected_num_objects": 0,
        "fast_read": false,
        "flags": flags,
        "flags_names": poolflag::names(flags),
        "grade_table": [],
        "hit_set_count": 0,
        "hit_set_grade_decay_rate": 0,
        "hit_set_params": {"type": "none"},
        "hit_set_period": 0,
        "hit_set_search_last_n": 0,
        "last_change": p.last_change.to_string(),
        "last_force_op_resend": "0",
        "last_force_op_resend_preluminous": "0",
        "last_force_op_resend_prenautilus": "0",
        "last_pg_merge_meta": {
            "last_epoch_clean": 0,
            "last_epoch_started": 0,
            "ready_epoch": 0,
            "source_pgid": "0.0",
            "source_version": "0'0",
            "target_version": "0'0",
        },
        "min_read_recency_for_promote": 0,
        "min_size": p.min_size,
        "min_write_recency_for_promote": 0,
        "object_hash": 2,
        "options": p.options,
        "peering_crush_bucket_barrier": 0,
        "peering_crush_bucket_count": 0,
        "peering_crush_bucket_mandatory_member": 2147483647,
        "peering_crush_bucket_target": 0,
        "pg_autoscale_mode": p.autoscale_mode,
        "pg_num": p.pg_num(),
        "pg_num_pending": p.pg_num(),
        "pg_num_target": p.pg_num(),
        "pg_placement_num": p.pg_num(),
        "pg_placement_num_target": p.pg_num(),
        "pool": p.id,
        "pool_name": p.name,
        "pool_snaps": [],
        "quota_max_bytes": p.quota_max_bytes,
        "quota_max_objects": p.quota_max_objects,
        "read_tier": -1,
        "removed_snaps": "[]",
        "size": p.size,
        "snap_epoch": 0,
        "snap_mode": "selfmanaged",
        "snap_seq": 0,
        "stripe_width": stripe,
        "target_max_bytes": 0,
        "target_max_objects": 0,
        "tier_of": -1,
        "tiers": [],
        "type": ty,
        "use_gmt_hitset": true,
        "write_tier": -1,
    })
}

fn osd_json(c: &Cluster, o: &Osd) -> Value {
    let a = |k: u16| c.osd_addr(o, k);
    let legacy = |k: u16| format!("{}/{}", a(k), o.nonce);
    json!({
        "cluster_addr": legacy(3),
        "cluster_addrs": addrvec(&a(2), &a(3), o.nonce),
        "down_at": o.down_at,
        "heartbeat_back_addr": legacy(7),
        "heartbeat_back_addrs": addrvec(&a(6), &a(7), o.nonce),
        "heartbeat_front_addr": legacy(5),
        "heartbeat_front_addrs": addrvec(&a(4), &a(5), o.nonce),
        "in": u8::from(o.is_in),
        "last_clean_begin": o.last_clean_begin,
        "last_clean_end": o.last_clean_end,
        "lost_at": 0,
        "osd": o.id,
        "primary_affinity": 1.0,
        "public_addr": legacy(1),
        "public_addrs": addrvec(&a(0), &a(1), o.nonce),
        "state": osd_state(c, o),
        "up": u8::from(o.up),
        "up_from": o.up_from,
        "up_thru": o.up_thru,
        "uuid": o.uuid,
        "weight": o.reweight(),
    })
}

/// `get("osd_map")`: the OSD map dump.
pub(crate) fn osd_map(c: &Cluster) -> Value {
    let pg_temp: Vec<Value> = c
        .pools
        .values()
        .flat_map(|p| {
            p.pgs.iter().enumerate().filter(|(_, pg)| pg.acting != pg.up).map(move |(ps, pg)| {
                json!({"osds": pg.acting.to_vec(), "pgid": format!("{}.{ps:x}", p.id)})
            })
        })
        .collect();
    let flags_set: Vec<&str> = {
        let mut v: Vec<&str> = osdflag::NAMES
            .iter()
            .filter(|(b, _)| c.flags & b != 0)
            .map(|(_, n)| *n)
            .collect();
        v.sort_unstable();
        v
    };
    json!({
        "backfillfull_ratio": c.backfillfull_ratio,
        "blocklist": c.blocklist.iter().map(|(a, t)| (a.clone(), Value::from(stamp(*t)))).collect::<Map<String, Value>>(),
        "cluster_snapshot": "",
        "created": stamp(c.created),
        "crush_node_flags": {},
        "crush_version": c.crush_version,
        "device_class_flags": {},
        "epoch": c.osd_epoch,
        "erasure_code_profiles": c.ec_profiles,
        "flags": osdflag::string(c.flags),
        "flags_num": c.flags,
        "flags_set": flags_set,
        "fsid": c.fsid,
        "full_ratio": c.full_ratio,
        "last_in_change": stamp(c.last_in_change),
        "last_up_change": stamp(c.last_up_change),
        "max_osd": c.osds.len(),
        "min_compat_client": "jewel",
        "modified": stamp(c.osdmap_modified),
        "nearfull_ratio": c.nearfull_ratio,
        "new_purged_snaps": [],
        "new_removed_snaps": [],
        "osd_xinfo": c.osds.iter().map(|o| json!({
            "dead_epoch": 0,
            "down_stamp": if o.down_at == 0 { "0.000000".to_owned() } else { stamp(o.down_since) },
            "features": FEATURES,
            "laggy_interval": 0,
            "laggy_probability": 0.0,
            "last_purged_snaps_scrub": stamp(c.created + 30.0 + f64::from(o.id as u16) / 100.0),
            "old_weight": 0,
            "osd": o.id,
        })).collect::<Vec<_>>(),
        "osds": c.osds.iter().map(|o| osd_json(c, o)).collect::<Vec<_>>(),
        "pg_temp": pg_temp,
        "pg_upmap": [],
        "pg_upmap_items": [],
        "pool_max": c.pool_max,
        "pools": c.pools.values().map(|p| pool_json(c, p)).collect::<Vec<_>>(),
        "primary_temp": [],
        "range_blocklist": {},
        "removed_snaps_queue": [],
        "require_min_compat_client": "luminous",
        "require_osd_release": "pacific",
        "stretch_mode": {
            "degraded_stretch_mode": 0,
            "recovering_stretch_mode": 0,
            "stretch_bucket_count": 0,
            "stretch_mode_bucket": 0,
            "stretch_mode_enabled": false,
        },
    })
}

/// Fixed-point (16.16) CRUSH weight.
fn fixed(w: f64) -> u64 {
    (w * 65536.0).round() as u64
}

/// `get("osd_map_tree")`: the `osd tree` form.
pub(crate) fn tree(c: &Cluster) -> Value {
    let mut nodes = Vec::with_capacity(c.osds.len() + c.hosts.len() + 1);
    nodes.push(json!({
        "children": c.hosts.iter().rev().map(|h| h.bucket).collect::<Vec<_>>(),
        "id": -1,
        "name": "default",
        "type": "root",
        "type_id": 11,
    }));
    for h in &c.hosts {
        nodes.push(json!({
            "children": h.osds.iter().rev().copied().collect::<Vec<_>>(),
            "id": h.bucket,
            "name": h.name,
            "pool_weights": {},
            "type": "host",
            "type_id": 1,
        }));
        for &id in &h.osds {
            let Some(o) = c.osds.get(id as usize) else {
                continue;
            };
            nodes.push(json!({
                "crush_weight": o.crush_weight,
                "depth": 2,
                "device_class": o.class.name(),
                "exists": 1,
                "id": o.id,
                "name": o.name(),
                "pool_weights": {},
                "primary_affinity": 1.0,
                "reweight": o.reweight(),
                "status": if o.up { "up" } else { "down" },
                "type": "osd",
                "type_id": 0,
            }));
        }
    }
    json!({"nodes": nodes, "stray": []})
}

const TYPES: [&str; 12] = [
    "osd",
    "host",
    "chassis",
    "rack",
    "row",
    "pdu",
    "pod",
    "room",
    "datacenter",
    "zone",
    "region",
    "root",
];

/// `get("osd_map_crush")`: the CRUSH map dump, shadow trees included.
pub(crate) fn crush(c: &Cluster) -> Value {
    let bucket = |id: i32, name: String, type_id: u32, items: Vec<(i32, u64)>| {
        let weight: u64 = items.iter().map(|(_, w)| w).sum();
        json!({
            "alg": "straw2",
            "hash": "rjenkins1",
            "id": id,
            "items": items.iter().enumerate().map(|(pos, (id, w))| json!({"id": id, "pos": pos, "weight": w})).collect::<Vec<_>>(),
            "name": name,
            "type_id": type_id,
            "type_name": TYPES.get(type_id as usize).copied().unwrap_or("root"),
            "weight": weight,
        })
    };
    let host_weight = |h: &crate::model::Host, class: Option<crate::model::DeviceClass>| -> u64 {
        h.osds
            .iter()
            .filter_map(|&o| c.osds.get(o as usize))
            .filter(|o| class.is_none_or(|k| o.class == k))
            .map(|o| fixed(o.crush_weight))
            .sum()
    };
    let mut buckets: Vec<(i32, Value)> = Vec::new();
    buckets.push((
        -1,
        bucket(
            -1,
            "default".to_owned(),
            11,
            c.hosts
                .iter()
                .map(|h| (h.bucket, host_weight(h, None)))
                .collect(),
        ),
    ));
    for (class, id) in &c.root_shadow {
        let items = c
            .hosts
            .iter()
            .filter_map(|h| {
                h.shadow
                    .get(class)
                    .map(|sid| (*sid, host_weight(h, Some(*class))))
            })
            .collect();
        buckets.push((
            *id,
            bucket(*id, format!("default~{}", class.name()), 11, items),
        ));
    }
    for h in &c.hosts {
        let items = h
            .osds
            .iter()
            .filter_map(|&o| c.osds.get(o as usize))
            .map(|o| (o.id, fixed(o.crush_weight)))
            .collect();
        buckets.push((h.bucket, bucket(h.bucket, h.name.clone(), 1, items)));
        for (class, sid) in &h.shadow {
            let items = h
                .osds
                .iter()
                .filter_map(|&o| c.osds.get(o as usize))
                .filter(|o| o.class == *class)
                .map(|o| (o.id, fixed(o.crush_weight)))
                .collect();
            buckets.push((
                *sid,
                bucket(*sid, format!("{}~{}", h.name, class.name()), 1, items),
            ));
        }
    }
    buckets.sort_by_key(|b| std::cmp::Reverse(b.0));
    let domain = if c.crush.domain_is_host {
        "host"
    } else {
        "osd"
    };
    let rules: Vec<Value> = c
        .crush_rules
        .iter()
        .map(|r| {
            let mut steps = Vec::new();
            if r.erasure {
                steps.push(json!({"num": 5, "op": "set_chooseleaf_tries"}));
                steps.push(json!({"num": 100, "op": "set_choose_tries"}));
            }
            steps.push(json!({"item": -1, "item_name": "default", "op": "take"}));
            let op = match (r.erasure, c.crush.domain_is_host) {
                (true, true) => "chooseleaf_indep",
                (true, false) => "choose_indep",
                (false, true) => "chooseleaf_firstn",
                (false, false) => "choose_firstn",
            };
            steps.push(json!({"num": 0, "op": op, "type": domain}));
            steps.push(json!({"op": "emit"}));
            json!({
                "max_size": if r.erasure { 20 } else { 10 },
                "min_size": if r.erasure { 3 } else { 1 },
                "rule_id": r.id,
                "rule_name": r.name,
                "ruleset": r.id,
                "steps": steps,
                "type": if r.erasure { 3 } else { 1 },
            })
        })
        .collect();
    json!({
        "buckets": buckets.into_iter().map(|(_, b)| b).collect::<Vec<_>>(),
        "choose_args": {},
        "devices": c.osds.iter().map(|o| json!({"class": o.class.name(), "id": o.id, "name": o.name()})).collect::<Vec<_>>(),
        "rules": rules,
        "tunables": {
            "allowed_bucket_algs": 54,
            "choose_local_fallback_tries": 0,
            "choose_local_tries": 0,
            "choose_total_tries": 50,
            "chooseleaf_descend_once": 1,
            "chooseleaf_stable": 1,
            "chooseleaf_vary_r": 1,
            "has_v2_rules": 0,
            "has_v3_rules": 0,
            "has_v4_buckets": 1,
            "has_v5_rules": 0,
            "legacy_tunables": 0,
            "minimum_required_version": "jewel",
            "optimal_tunables": 1,
            "profile": "jewel",
            "require_feature_tunables": 1,
            "require_feature_tunables2": 1,
            "require_feature_tunables3": 1,
            "require_feature_tunables5": 1,
            "straw_calc_version": 1,
        },
        "types": TYPES.iter().enumerate().map(|(i, n)| json!({"name": n, "type_id": i})).collect::<Vec<_>>(),
    })
}

/// The metadata an OSD reported at boot (the captured key set, with BlueStore on a disk).
pub(crate) fn osd_metadata_of(c: &Cluster, o: &Osd) -> Value {
    let ip = c.hosts.get(o.host).map_or("0.0.0.0", |h| h.ip.as_str());
    let vec2 = |k: u16| {
        format!(
            "[v2:{ip}:{}/{n},v1:{ip}:{}/{n}]",
            o.port + k,
            o.port + k + 1,
            n = o.nonce
        )
    };
    let rotational = if o.class == crate::model::DeviceClass::Hdd {
        "1"
    } else {
        "0"
    };
    let host = c.hosts.get(o.host).map_or("", |h| h.name.as_str());
    json!({
        "arch": "x86_64",
        "back_addr": vec2(2),
        "back_iface": "",
        "ceph_release": "pacific",
        "ceph_version": CEPH_VERSION,
        "ceph_version_short": CEPH_VERSION_SHORT,
        "ceph_version_when_created": CEPH_VERSION,
        "container_name": "",
        "cpu": "Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz",
        "created_at": crate::time::stamp_z(c.created + 3.0 + f64::from(o.id as u16) / 50.0),
        "default_device_class": o.class.name(),
        "device_ids": format!("{}={}", o.dev, o.devid),
        "device_paths": format!("{}=/dev/disk/by-path/pci-0000:3b:00.0-sas-phy{}-lun-0", o.dev, o.id % 24),
        "devices": o.dev,
        "distro": "debian",
        "distro_description": "Debian GNU/Linux 12 (bookworm)",
        "distro_version": "12",
        "front_addr": vec2(0),
        "front_iface": "",
        "hb_back_addr": vec2(6),
        "hb_front_addr": vec2(4),
        "hostname": host,
        "journal_rotational": rotational,
        "kernel_description": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)",
        "kernel_version": "6.1.0-18-amd64",
        "mem_swap_kb": "0",
        "mem_total_kb": "131598512",
        "network_numa_unknown_ifaces": "back_iface,front_iface",
        "os": "Linux",
        "osd_data": format!("/var/lib/ceph/osd/ceph-{}", o.id),
        "osd_objectstore": "bluestore",
        "osdspec_affinity": "",
        "rotational": rotational,
    })
}

/// `get("osd_metadata")`: `{"<id>": metadata}`.
pub(crate) fn osd_metadata(c: &Cluster) -> String {
    let mut out = String::with_capacity(c.osds.len() * 1500 + 2);
    out.push('{');
    for (i, o) in c.osds.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        key(&mut out, &o.id.to_string());
        out.push_str(&osd_metadata_of(c, o).to_string());
    }
    out.push('}');
    out
}

fn device_entry(c: &Cluster, o: &Osd) -> Value {
    let host = c.hosts.get(o.host).map_or("", |h| h.name.as_str());
    json!({
        "devid": o.devid,
        "location": [{
            "host": host,
            "dev": o.dev,
            "path": format!("/dev/disk/by-path/pci-0000:3b:00.0-sas-phy{}-lun-0", o.id % 24),
        }],
        "daemons": [o.name()],
    })
}

/// `get("devices")`: every OSD's disk, sorted by device id.
pub(crate) fn devices(c: &Cluster) -> Value {
    let mut list: Vec<&Osd> = c.osds.iter().collect();
    list.sort_by(|a, b| a.devid.cmp(&b.devid));
    json!({"devices": list.into_iter().map(|o| device_entry(c, o)).collect::<Vec<_>>()})
}

/// `get("device <devid>")`: `{"device": entry}`, or `{}` for an unknown device.
pub(crate) fn device(c: &Cluster, devid: &str) -> String {
    match c.osds.iter().find(|o| o.devid == devid) {
        Some(o) => {
            let mut out = String::from("{");
            key(&mut out, "device");
            out.push_str(&device_entry(c, o).to_string());
            out.push('}');
            out
        }
        None => "{}".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixed_weights() {
        assert_eq!(
            super::fixed(crate::model::crush_weight_of(4_000_787_030_016)),
            238_465
        );
    }
}
