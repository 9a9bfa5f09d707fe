//! `ceph status -f json`.

use serde_json::{Value, json};

use crate::model::Cluster;
use crate::render::{maps, pgmap};

/// The `fsmap` section of `ceph status`.
pub(crate) fn fsmap_summary(c: &Cluster) -> Value {
    let active: Vec<Value> = c
        .fs
        .mds
        .iter()
        .filter(|m| m.state.starts_with("up:") && m.state != "up:standby")
        .map(|m| json!({"filesystem_id": 1, "rank": 0, "name": m.name, "status": m.state, "gid": m.gid}))
        .collect();
    let up = active.len();
    json!({
        "epoch": c.fs.epoch,
        "id": 1,
        "up": up,
        "in": 1,
        "max": 1,
        "by_rank": active,
        "up:standby": c.fs.mds.iter().filter(|m| m.state == "up:standby").count(),
    })
}

/// `ceph status -f json`.
pub(crate) fn json(c: &Cluster) -> Value {
    let quorum: Vec<usize> = c
        .mons
        .iter()
        .enumerate()
        .filter(|(_, m)| m.in_quorum)
        .map(|(i, _)| i)
        .collect();
    let up = c.osds.iter().filter(|o| o.up).count();
    let inn = c.osds.iter().filter(|o| o.is_in).count();
    let remapped = c
        .pools
        .values()
        .map(|p| p.pgs.iter().filter(|pg| pg.up != pg.acting).count())
        .sum::<usize>();
    json!({
        "fsid": c.fsid,
        "health": crate::health::to_json(&c.health.checks, false),
        "election_epoch": c.election_epoch,
        "quorum": quorum,
        "quorum_names": c.quorum_names(),
        "quorum_age": (c.now - c.quorum_since).max(0.0) as u64,
        "monmap": {
            "epoch": c.mon_epoch,
            "min_mon_release_name": "pacific",
            "num_mons": c.mons.len(),
        },
        "osdmap": {
            "epoch": c.osd_epoch,
            "num_osds": c.osds.len(),
            "num_up_osds": up,
            "osd_up_since": c.last_up_change as u64,
            "num_in_osds": inn,
            "osd_in_since": c.last_in_change as u64,
            "num_remapped_pgs": remapped,
        },
        "pgmap": pgmap::pg_summary_section(c, false),
        "fsmap": fsmap_summary(c),
        "mgrmap": {
            "available": true,
            "num_standbys": 0,
            "modules": c.mgr.modules,
            "services": c.mgr.services,
        },
        "servicemap": maps::service_map(c),
        "progress_events": {},
    })
}
