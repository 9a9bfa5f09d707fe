//! The cluster's own health checks, computed from the model as the mons and ceph-mgr compute
//! them (`OSDMap::check_health`, `PGMap::get_health_checks`, the MDS and mon checks), with
//! their wording.

use std::collections::BTreeMap;

use crate::clog::Priority;
use crate::model::{Cluster, Pg, Pool, osdflag, pgstate};

/// How bad a health check is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// `HEALTH_WARN`.
    Warn,
    /// `HEALTH_ERR`.
    Err,
}

impl Severity {
    /// `HEALTH_WARN` or `HEALTH_ERR`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warn => "HEALTH_WARN",
            Self::Err => "HEALTH_ERR",
        }
    }
}

/// One health check the cluster raises, as `ceph health detail` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// The check's code, e.g. `OSD_DOWN`.
    pub code: String,
    /// Its severity.
    pub severity: Severity,
    /// The one-line summary, e.g. `1 osds down`.
    pub summary: String,
    /// The count Ceph attaches to the summary.
    pub count: u64,
    /// Detail lines (at most `mon_health_max_detail`).
    pub detail: Vec<String>,
}

/// The checks in force and a version that changes with them.
#[derive(Debug, Clone, Default)]
pub(crate) struct HealthState {
    pub(crate) checks: Vec<HealthCheck>,
    pub(crate) version: u64,
}

impl HealthState {
    pub(crate) fn update_silently(&mut self, checks: &[HealthCheck]) {
        self.checks = checks.to_vec();
        self.version += 1;
    }

    /// `HEALTH_OK`, `HEALTH_WARN` or `HEALTH_ERR`.
    pub(crate) fn status(&self) -> &'static str {
        status_of(&self.checks)
    }
}

/// The overall status of a set of checks.
pub(crate) fn status_of(checks: &[HealthCheck]) -> &'static str {
    checks
        .iter()
        .map(|c| c.severity)
        .max()
        .map_or("HEALTH_OK", Severity::as_str)
}

/// Most detail lines per check (`mon_health_max_detail`).
const MAX_DETAIL: usize = 50;

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn check(
    code: &str,
    severity: Severity,
    summary: String,
    count: u64,
    detail: Vec<String>,
) -> HealthCheck {
    let mut detail = detail;
    detail.truncate(MAX_DETAIL);
    HealthCheck {
        code: code.to_owned(),
        severity,
        summary,
        count,
        detail,
    }
}

/// Degraded, misplaced and total object copies of one PG.
pub(crate) fn pg_object_counts(c: &Cluster, pool: &Pool, pg: &Pg) -> (u64, u64, u64) {
    let objects = pool.objects(pg.bytes);
    let size = u64::from(pool.size);
    let acting_up = pg.acting.osds().filter(|&o| c.osd_is_up(o)).count() as u64;
    let undersized = acting_up < size;
    let degraded = if undersized {
        objects * (size - acting_up) + pg.missing.min(objects)
    } else {
        pg.missing.min(objects)
    };
    let misplaced = if undersized { 0 } else { pg.backfill_left };
    (degraded.min(objects * size), misplaced, objects * size)
}

/// Every check the cluster raises now, sorted by code (as Ceph's check map is).
pub(crate) fn compute(c: &Cluster) -> Vec<HealthCheck> {
    let mut out: BTreeMap<&str, HealthCheck> = BTreeMap::new();
    let loc = |osd: i32| format!("root=default,host={}", c.host_name_of(osd));

    // OSD_DOWN and OSD_HOST_DOWN: down OSDs that are still in.
    let down: Vec<i32> = c
        .osds
        .iter()
        .filter(|o| !o.up && o.is_in)
        .map(|o| o.id)
        .collect();
    if !down.is_empty() {
        let detail = down
            .iter()
            .map(|&o| format!("osd.{o} ({}) is down", loc(o)))
            .collect();
        out.insert(
            "OSD_DOWN",
            check(
                "OSD_DOWN",
                Severity::Warn,
                format!("{} osds down", down.len()),
                down.len() as u64,
                detail,
            ),
        );
        let hosts: Vec<(&str, usize)> = c
            .hosts
            .iter()
            .filter(|h| !h.osds.is_empty() && h.osds.iter().all(|&o| !c.osd_is_up(o)))
            .map(|h| (h.name.as_str(), h.osds.len()))
            .collect();
        if !hosts.is_empty() {
            let n_osds: usize = hosts.iter().map(|(_, n)| n).sum();
            let detail = hosts
                .iter()
                .map(|(h, n)| format!("host {h} (root=default) ({n} osds) is down"))
                .collect();
            out.insert(
                "OSD_HOST_DOWN",
                check(
                    "OSD_HOST_DOWN",
                    Severity::Warn,
                    format!(
                        "{} ({n_osds} osds) down",
                        plural(hosts.len() as u64, "host", "hosts")
                    ),
                    hosts.len() as u64,
                    detail,
                ),
            );
        }
    }

    // OSDMAP_FLAGS.
    let flags = c.flags & osdflag::OPERATOR;
    if flags != 0 {
        let names = osdflag::string(flags);
        let n = names.split(',').count() as u64;
        out.insert(
            "OSDMAP_FLAGS",
            check(
                "OSDMAP_FLAGS",
                Severity::Warn,
                format!("{names} flag(s) set"),
                n,
                Vec::new(),
            ),
        );
    }

    // OSD fullness, and the pools on full OSDs.
    let (mut near, mut backfill, mut full) = (Vec::new(), Vec::new(), Vec::new());
    for o in c.osds.iter().filter(|o| o.up) {
        let u = o.utilization();
        if u >= c.full_ratio {
            full.push(o.id);
        } else if u >= c.backfillfull_ratio {
            backfill.push(o.id);
        } else if u >= c.nearfull_ratio {
            near.push(o.id);
        }
    }
    for (code, ids, what, sev, word) in [
        ("OSD_FULL", &full, "full", Severity::Err, "full"),
        (
            "OSD_BACKFILLFULL",
            &backfill,
            "backfillfull",
            Severity::Warn,
            "backfill full",
        ),
        (
            "OSD_NEARFULL",
            &near,
            "nearfull",
            Severity::Warn,
            "near full",
        ),
    ] {
        if !ids.is_empty() {
            let detail = ids.iter().map(|o| format!("osd.{o} is {word}")).collect();
            out.insert(
                code,
                check(
                    code,
                    sev,
                    format!("{} {what} osd(s)", ids.len()),
                    ids.len() as u64,
                    detail,
                ),
            );
        }
    }
    let worst = if !full.is_empty() {
        Some(("POOL_FULL", "full", "is full (no space)"))
    } else if !backfill.is_empty() {
        Some(("POOL_BACKFILLFULL", "backfillfull", "is backfillfull"))
    } else if !near.is_empty() {
        Some(("POOL_NEARFULL", "nearfull", "is nearfull"))
    } else {
        None
    };
    if let Some((code, what, says)) = worst {
        let detail: Vec<String> = c
            .pools
            .values()
            .map(|p| format!("pool '{}' {says}", p.name))
            .collect();
        let n = detail.len() as u64;
        if n > 0 {
            out.insert(
                code,
                check(
                    code,
                    Severity::Warn,
                    format!("{n} pool(s) {what}"),
                    n,
                    detail,
                ),
            );
        }
    }

    // Pools without redundancy or without an application.
    let warn_redundancy = c.config.mon_bool("mon_warn_on_pool_no_redundancy", true);
    let single: Vec<String> = c
        .pools
        .values()
        .filter(|p| !p.is_ec() && p.size == 1)
        .map(|p| format!("pool '{}' has no replicas configured", p.name))
        .collect();
    if warn_redundancy && !single.is_empty() {
        let n = single.len() as u64;
        out.insert(
            "POOL_NO_REDUNDANCY",
            check(
                "POOL_NO_REDUNDANCY",
                Severity::Warn,
                format!("{n} pool(s) have no replicas configured"),
                n,
                single,
            ),
        );
    }
    let no_app: Vec<String> = c
        .pools
        .values()
        .filter(|p| p.application.is_empty())
        .map(|p| format!("application not enabled on pool '{}'", p.name))
        .collect();
    if !no_app.is_empty() {
        let n = no_app.len() as u64;
        let mut detail = no_app;
        detail.push(
            "use 'ceph osd pool application enable <pool-name> <app-name>', where <app-name> is 'cephfs', 'rbd', 'rgw', or freeform for custom applications."
                .to_owned(),
        );
        out.insert(
            "POOL_APP_NOT_ENABLED",
            check(
                "POOL_APP_NOT_ENABLED",
                Severity::Warn,
                format!("{n} pool(s) do not have an application enabled"),
                n,
                detail,
            ),
        );
    }

    // PG checks, from the PGs that are not active+clean.
    let mut inactive = Vec::new();
    let (mut n_peering, mut n_stale, mut n_degraded_pgs, mut n_undersized) =
        (0u64, 0u64, 0u64, 0u64);
    let mut degraded_detail = Vec::new();
    let (mut degraded, mut misplaced) = (0u64, 0u64);
    let now_ms = c.now_ms();
    for &(pool_id, ps) in &c.busy {
        let Some(pool) = c.pools.get(&pool_id) else {
            continue;
        };
        let Some(pg) = pool.pgs.get(ps as usize) else {
            continue;
        };
        let pgid = format!("{pool_id}.{ps:x}");
        let state = pgstate::name(pg.state);
        let acting = list_text(pg.acting.iter());
        if pg.state & pgstate::ACTIVE == 0 {
            let stuck = now_ms.saturating_sub(pg.t_active) / 1000;
            if stuck >= 60 {
                inactive.push(format!(
                    "pg {pgid} is stuck inactive for {}, current state {state}, last acting {acting}",
                    crate::time::age(f64::from(stuck))
                ));
            } else {
                inactive.push(format!("pg {pgid} is {state}, acting {acting}"));
            }
            if pg.state & pgstate::PEERING != 0 {
                n_peering += 1;
            }
            if pg.state & pgstate::STALE != 0 {
                n_stale += 1;
            }
        }
        if pg.state & pgstate::DEGRADED != 0 {
            n_degraded_pgs += 1;
            if pg.state & pgstate::UNDERSIZED != 0 {
                n_undersized += 1;
            }
            degraded_detail.push(format!("pg {pgid} is {state}, acting {acting}"));
        }
        let (d, m, _) = pg_object_counts(c, pool, pg);
        degraded += d;
        misplaced += m;
    }
    if !inactive.is_empty() {
        let mut parts = vec![format!(
            "{} inactive",
            plural(inactive.len() as u64, "pg", "pgs")
        )];
        if n_peering > 0 {
            parts.push(format!("{} peering", plural(n_peering, "pg", "pgs")));
        }
        if n_stale > 0 {
            parts.push(format!("{} stale", plural(n_stale, "pg", "pgs")));
        }
        let n = inactive.len() as u64;
        out.insert(
            "PG_AVAILABILITY",
            check(
                "PG_AVAILABILITY",
                Severity::Warn,
                format!("Reduced data availability: {}", parts.join(", ")),
                n,
                inactive,
            ),
        );
    }
    let copies: u64 = if degraded > 0 || misplaced > 0 {
        c.pools
            .values()
            .map(|p| p.pgs.iter().map(|g| p.objects(g.bytes)).sum::<u64>() * u64::from(p.size))
            .sum::<u64>()
            .max(1)
    } else {
        1
    };
    if n_degraded_pgs > 0 {
        let mut parts = Vec::new();
        if degraded > 0 {
            parts.push(format!(
                "{degraded}/{copies} objects degraded ({:.3}%)",
                degraded as f64 * 100.0 / copies as f64
            ));
        }
        parts.push(format!("{} degraded", plural(n_degraded_pgs, "pg", "pgs")));
        if n_undersized > 0 {
            parts.push(format!("{} undersized", plural(n_undersized, "pg", "pgs")));
        }
        out.insert(
            "PG_DEGRADED",
            check(
                "PG_DEGRADED",
                Severity::Warn,
                format!("Degraded data redundancy: {}", parts.join(", ")),
                n_degraded_pgs,
                degraded_detail,
            ),
        );
    }
    if misplaced > 0 {
        out.insert(
            "OBJECT_MISPLACED",
            check(
                "OBJECT_MISPLACED",
                Severity::Warn,
                format!(
                    "{misplaced}/{copies} objects misplaced ({:.3}%)",
                    misplaced as f64 * 100.0 / copies as f64
                ),
                misplaced,
                Vec::new(),
            ),
        );
    }

    // Mons out of quorum.
    let down_mons: Vec<(usize, &crate::model::Mon)> = c
        .mons
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.in_quorum)
        .collect();
    if !down_mons.is_empty() {
        let detail = down_mons
            .iter()
            .map(|(rank, m)| {
                let ip = c.hosts.get(m.host).map_or("", |h| h.ip.as_str());
                format!(
                    "mon.{} (rank {rank}) addr [v2:{ip}:3300/0,v1:{ip}:6789/0] is down (out of quorum)",
                    m.name
                )
            })
            .collect();
        out.insert(
            "MON_DOWN",
            check(
                "MON_DOWN",
                Severity::Warn,
                format!(
                    "{}/{} mons down, quorum {}",
                    down_mons.len(),
                    c.mons.len(),
                    c.quorum_names().join(",")
                ),
                down_mons.len() as u64,
                detail,
            ),
        );
    }

    // The file system.
    let active = c.fs.mds.iter().any(|m| m.state == "up:active");
    if !active {
        out.insert(
            "FS_DEGRADED",
            check(
                "FS_DEGRADED",
                Severity::Warn,
                "1 filesystem is degraded".to_owned(),
                1,
                vec![format!("fs {} is degraded", c.fs.name)],
            ),
        );
    }
    let standbys = c.fs.mds.iter().filter(|m| m.state == "up:standby").count();
    if standbys == 0 {
        out.insert(
            "MDS_INSUFFICIENT_STANDBY",
            check(
                "MDS_INSUFFICIENT_STANDBY",
                Severity::Warn,
                "insufficient standby MDS daemons available".to_owned(),
                1,
                vec!["have 0; want 1 more".to_owned()],
            ),
        );
    }
    out.into_values().collect()
}

/// `[1,2,NONE]`-free acting list text as Ceph prints it: `[1,2,3]`.
fn list_text(ids: impl Iterator<Item = i32>) -> String {
    let parts: Vec<String> = ids
        .map(|i| {
            if i == crate::crush::NONE {
                "NONE".to_owned()
            } else {
                i.to_string()
            }
        })
        .collect();
    format!("[{}]", parts.join(","))
}

/// Installs a new set of checks: logs what failed, changed and cleared (as the mons'
/// `HealthMonitor` does) and returns whether anything changed.
pub(crate) fn transition(c: &mut Cluster, new: Vec<HealthCheck>) -> bool {
    if new == c.health.checks {
        return false;
    }
    let old = std::mem::take(&mut c.health.checks);
    for check in &new {
        let prio = if check.severity == Severity::Err {
            Priority::Err
        } else {
            Priority::Wrn
        };
        match old.iter().find(|o| o.code == check.code) {
            None => c.log(
                "mon",
                prio,
                format!("Health check failed: {} ({})", check.summary, check.code),
            ),
            Some(o) if o.summary != check.summary => c.log(
                "mon",
                prio,
                format!("Health check update: {} ({})", check.summary, check.code),
            ),
            Some(_) => {}
        }
    }
    for o in &old {
        if !new.iter().any(|n| n.code == o.code) {
            c.log(
                "mon",
                Priority::Inf,
                format!("Health check cleared: {} (was: {})", o.code, o.summary),
            );
        }
    }
    if new.is_empty() && !old.is_empty() {
        c.log("mon", Priority::Inf, "Cluster is now healthy".to_owned());
    }
    c.health.checks = new;
    c.health.version += 1;
    true
}

/// The `health` document: `{"status", "checks": {code: {severity, summary, detail, muted}},
/// "mutes"}`; `detail` lists only with `with_detail`.
pub(crate) fn to_json(checks: &[HealthCheck], with_detail: bool) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for c in checks {
        let mut entry = serde_json::Map::new();
        entry.insert("severity".into(), c.severity.as_str().into());
        entry.insert(
            "summary".into(),
            serde_json::json!({"message": c.summary, "count": c.count}),
        );
        if with_detail {
            entry.insert(
                "detail".into(),
                c.detail
                    .iter()
                    .map(|d| serde_json::json!({"message": d}))
                    .collect::<Vec<_>>()
                    .into(),
            );
        }
        entry.insert("muted".into(), false.into());
        map.insert(c.code.clone(), entry.into());
    }
    serde_json::json!({
        "status": status_of(checks),
        "checks": map,
        "mutes": [],
    })
}
