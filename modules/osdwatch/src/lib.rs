//! Watches the OSD map and raises a health check while any OSD is down.
//!
//! On every `osd_map` notify the module reads `get("osd_map")`: while OSDs are down it raises
//! `OSDWATCH_OSD_DOWN` (`HEALTH_WARN`, "N osds down", one detail line per OSD), and clears it
//! when none is. Each change of the set of down OSDs is written to the cluster log. A tick every
//! 30 s checks again, so a dropped notify or a module enabled while an OSD is already down is
//! caught up. `wasmgr osdwatch status` checks now and shows what it found.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use wasmgr_guest::health::{self, HealthCheck};
use wasmgr_guest::log::{self, ClogPriority};
use wasmgr_guest::{ErrorResponse, MgrModule, NotifyKind, cluster};

wasmgr_guest::manifest!(
    r#"
description = "Raises a health warning while OSDs are down"
[requests]
get = ["osd_map"]
health = true
cluster_log = true
tick = true
"#
);

/// The code of the module's health check.
const OSD_DOWN: &str = "OSDWATCH_OSD_DOWN";

#[derive(Default)]
struct Osdwatch {
    /// The last check's result; `None` until the instance has checked once.
    last: Option<Status>,
}

impl MgrModule for Osdwatch {
    const NAME: &'static str = "osdwatch";
    const VERSION: &'static str = "0.1.0";
    const NOTIFY: &'static [NotifyKind] = &[NotifyKind::OsdMap];
    const TICK_PERIOD: Option<Duration> = Some(Duration::from_secs(30));

    fn notify(&mut self, kind: NotifyKind, _id: &str) {
        if kind == NotifyKind::OsdMap {
            self.check_logged();
        }
    }

    fn tick(&mut self) {
        self.check_logged();
    }
}

/// The part of `osd_map` the module reads.
#[derive(Deserialize)]
struct OsdMap {
    epoch: u64,
    osds: Vec<Osd>,
}

#[derive(Deserialize)]
struct Osd {
    osd: i64,
    up: u8,
    /// `exists`, `up`, ...; an OSD id that no longer exists is not down, it is gone.
    #[serde(default)]
    state: Vec<String>,
}

/// What `osdwatch status` shows.
#[derive(Clone, Serialize, PartialEq, Debug)]
struct Status {
    epoch: u64,
    osds: usize,
    down: Vec<String>,
}

impl Status {
    fn of(map: &OsdMap) -> Status {
        let exists = |osd: &&Osd| osd.state.is_empty() || osd.state.iter().any(|s| s == "exists");
        let down = map
            .osds
            .iter()
            .filter(exists)
            .filter(|osd| osd.up == 0)
            .map(|osd| format!("osd.{}", osd.osd))
            .collect();
        Status {
            epoch: map.epoch,
            osds: map.osds.iter().filter(exists).count(),
            down,
        }
    }

    /// The health check to raise, if any OSD is down.
    fn health_check(&self) -> Option<HealthCheck> {
        if self.down.is_empty() {
            return None;
        }
        let n = self.down.len();
        Some(
            HealthCheck::warning(OSD_DOWN, format!("{n} osds down"))
                .count(n as u64)
                .detail(self.down.iter().map(|osd| format!("{osd} is down"))),
        )
    }
}

impl Osdwatch {
    /// Reads the OSD map and updates the health check if the set of down OSDs changed (or
    /// this instance has not checked yet).
    fn check(&mut self) -> wasmgr_guest::Result<Status> {
        let status = Status::of(&cluster::get("osd_map")?);
        let previous = self.last.as_ref().map(|s| &s.down);
        if previous != Some(&status.down) {
            match status.health_check() {
                Some(check) => health::set_health_checks(&[check])?,
                None => health::clear()?,
            }
            // A fresh instance with nothing down has nothing to tell the cluster log.
            if previous.is_some() || !status.down.is_empty() {
                let (priority, message) = match status.down.as_slice() {
                    [] => (ClogPriority::Info, "osdwatch: all OSDs are up".to_owned()),
                    down => (
                        ClogPriority::Warn,
                        format!("osdwatch: {} down: {}", down.len(), down.join(", ")),
                    ),
                };
                if let Err(e) = log::cluster_log(log::CLUSTER, priority, &message) {
                    log::warning!("cannot write to the cluster log: {e}");
                }
            }
            log::info!(
                "epoch {}: {} of {} OSDs down",
                status.epoch,
                status.down.len(),
                status.osds
            );
        }
        self.last = Some(status.clone());
        Ok(status)
    }

    /// [`Osdwatch::check`] from a notify or tick, where an error can only be logged.
    fn check_logged(&mut self) {
        if let Err(e) = self.check() {
            log::error!("cannot check the OSD map: {e}");
        }
    }
}

#[wasmgr_guest::commands]
impl Osdwatch {
    /// Check the OSD map now and show the OSDs that are down
    #[read("osdwatch status", responder)]
    fn status(&mut self) -> Result<Status, ErrorResponse> {
        Ok(self.check()?)
    }
}

wasmgr_guest::export_module!(Osdwatch);

#[cfg(test)]
mod tests {
    use super::*;

    fn map(json: &str) -> OsdMap {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn down_osds_raise_one_warning_with_a_line_each() {
        let status = Status::of(&map(r#"{"epoch": 7, "osds": [
                {"osd": 0, "up": 1, "state": ["exists", "up"]},
                {"osd": 1, "up": 0, "state": ["exists"]},
                {"osd": 2, "up": 0, "state": ["exists"]},
                {"osd": 3, "up": 0, "state": []}
            ]}"#));
        assert_eq!(status.down, ["osd.1", "osd.2", "osd.3"]);
        let check = status.health_check().unwrap();
        assert_eq!(
            (check.code.as_str(), check.summary.as_str(), check.count),
            (OSD_DOWN, "3 osds down", 3)
        );
        assert_eq!(
            check.detail,
            ["osd.1 is down", "osd.2 is down", "osd.3 is down"]
        );
    }

    #[test]
    fn no_check_when_every_existing_osd_is_up() {
        let status = Status::of(&map(r#"{"epoch": 8, "osds": [
                {"osd": 0, "up": 1, "state": ["exists", "up"]},
                {"osd": 1, "up": 0, "state": ["autoout"]}
            ]}"#));
        assert_eq!((status.osds, status.down.len()), (1, 0));
        assert!(status.health_check().is_none());
    }
}
