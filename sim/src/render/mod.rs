//! Rendering the model as the JSON documents ceph-mgr serves, and which map version each
//! document follows (the cache re-renders a document only when its version moves).

pub(crate) mod config;
pub(crate) mod daemons;
pub(crate) mod maps;
pub(crate) mod mgr;
pub(crate) mod osdmap;
pub(crate) mod pgmap;
pub(crate) mod status;
pub(crate) mod text;

use crate::model::Cluster;
use crate::rng::hash2;

/// The version of document `key`: it changes whenever the document may. Documents of the PG
/// map follow the PG map version, those of the OSD map its epoch, and so on.
pub(crate) fn version(c: &Cluster, key: &str) -> u64 {
    let osd = u64::from(c.osd_epoch);
    let pg = c.pg_version;
    match key {
        "osd_map"
        | "osd_map_tree"
        | "osd_map_crush"
        | "osdmap_crush_map_text"
        | "osd_metadata"
        | "devices"
        | "#list_servers" => hash2(
            osd,
            u64::from(c.fs.epoch) ^ (u64::from(c.services.epoch) << 32),
        ),
        "pg_summary" | "io_rate" | "pg_dump" | "df" | "osd_stats" | "pg_stats" | "pool_stats"
        | "pg_ready" | "osd_ping_times" | "osd_pool_stats" | "pg_status" | "pg_progress"
        | "active_clean_pgs" => hash2(pg, osd),
        "health" => c.health.version,
        "mon_status" => hash2(u64::from(c.election_epoch), c.now as u64),
        "mon_map" => u64::from(c.mon_epoch),
        "fs_map" | "mds_metadata" => u64::from(c.fs.epoch),
        "mgr_map" | "mgr_ips" => u64::from(c.mgr.epoch),
        "service_map" => u64::from(c.services.epoch),
        "config" | "modified_config_options" | "config_options" | "have_local_config_map" => {
            c.config.version
        }
        k if k.starts_with("#schema") => hash2(u64::from(c.fs.epoch), u64::from(c.services.epoch)),
        "#all_perf" => hash2(
            c.perf.times.len() as u64,
            c.perf.times.back().map_or(0, |t| t.to_bits()),
        ),
        _ => hash2(osd, pg),
    }
}

/// The document `get(name)` answers, for a known name.
pub(crate) fn get(c: &Cluster, name: &str) -> String {
    match name {
        "osd_map" => osdmap::osd_map(c).to_string(),
        "osd_map_tree" => osdmap::tree(c).to_string(),
        "osd_map_crush" => osdmap::crush(c).to_string(),
        "osdmap_crush_map_text" => "\"\"".to_owned(),
        "osd_metadata" => osdmap::osd_metadata(c),
        "devices" => osdmap::devices(c).to_string(),
        "config" => config::config(c).to_string(),
        "modified_config_options" => config::modified(c).to_string(),
        "config_options" => config::options(c).to_string(),
        "have_local_config_map" => r#"{"have_local_config_map":true}"#.to_owned(),
        "mon_map" => maps::mon_map(c).to_string(),
        "mon_status" => maps::double_encoded(&maps::mon_status(c)),
        "health" => maps::double_encoded(&crate::health::to_json(&c.health.checks, true)),
        "fs_map" => maps::fs_map(c).to_string(),
        "mds_metadata" => maps::mds_metadata(c).to_string(),
        "service_map" => maps::service_map(c).to_string(),
        "mgr_map" => mgr::mgr_map(c).to_string(),
        "mgr_ips" => mgr::mgr_ips(c).to_string(),
        "pg_summary" => pgmap::pg_summary(c).to_string(),
        "io_rate" => pgmap::io_rate(c),
        "df" => pgmap::df(c).to_string(),
        "osd_stats" => pgmap::osd_stats_doc(c),
        "pg_stats" => pgmap::pg_stats_doc(c),
        "pg_dump" => pgmap::pg_dump(c, true),
        "pool_stats" => pgmap::pool_stats_doc(c),
        "pg_ready" => r#"{"pg_ready":true}"#.to_owned(),
        "osd_ping_times" => pgmap::osd_ping_times(c),
        "osd_pool_stats" => pgmap::osd_pool_stats(c).to_string(),
        "pg_status" => pgmap::pg_status(c).to_string(),
        "pg_progress" => pgmap::pg_progress(c),
        "active_clean_pgs" => pgmap::active_clean_pgs(c),
        _ => "{}".to_owned(),
    }
}
