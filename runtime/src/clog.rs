//! The cluster log as the daemon keeps it: entries modules write with `cluster-log` (and the
//! daemon's own), newest last, bounded; `wasmgr log last` shows them as `ceph log last` does.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::SystemTime;

use serde_json::{Value, json};

use crate::bindings::ClogPriority;

/// Entries the daemon keeps; older ones are dropped.
pub const CLOG_ENTRIES: usize = 10_000;

/// One cluster log entry.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Who wrote it, e.g. `mgr.x`.
    pub name: String,
    /// The module that wrote it, if a module did.
    pub module: Option<String>,
    /// When.
    pub stamp: SystemTime,
    /// Sequence number, growing by one per entry.
    pub seq: u64,
    /// `cluster`, `audit`, …
    pub channel: String,
    /// How bad.
    pub priority: ClogPriority,
    /// One line.
    pub message: String,
}

/// The daemon's cluster log.
#[derive(Default)]
pub struct ClusterLog {
    entries: Mutex<(u64, VecDeque<Entry>)>,
}

/// The priority's name as the cluster source takes it: `debug`, `info`, `sec`, `warn`,
/// `error`.
pub fn priority_name(p: ClogPriority) -> &'static str {
    match p {
        ClogPriority::Debug => "debug",
        ClogPriority::Info => "info",
        ClogPriority::Sec => "sec",
        ClogPriority::Warn => "warn",
        ClogPriority::Error => "error",
    }
}

/// Ceph's tag for a priority: `[DBG]`, `[INF]`, `[SEC]`, `[WRN]`, `[ERR]`.
pub fn priority_tag(p: ClogPriority) -> &'static str {
    match p {
        ClogPriority::Debug => "[DBG]",
        ClogPriority::Info => "[INF]",
        ClogPriority::Sec => "[SEC]",
        ClogPriority::Warn => "[WRN]",
        ClogPriority::Error => "[ERR]",
    }
}

/// A time as Ceph prints it in the log: `2026-12-07T02:00:00.123456+0000`.
pub fn ceph_stamp(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}+0000",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

impl Entry {
    /// The entry as `ceph log last -f json` shows one.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "rank": self.name,
            "stamp": ceph_stamp(self.stamp),
            "seq": self.seq,
            "channel": self.channel,
            "priority": priority_tag(self.priority),
            "message": self.message,
        })
    }

    /// The entry as `ceph log last` prints one line.
    pub fn to_line(&self) -> String {
        format!(
            "{} {} ({}) {} : {} {} {}",
            ceph_stamp(self.stamp),
            self.name,
            self.name,
            self.seq,
            self.channel,
            priority_tag(self.priority),
            self.message
        )
    }
}

impl ClusterLog {
    /// Append an entry (its `seq` is assigned here); returns it.
    pub fn push(
        &self,
        name: &str,
        module: Option<&str>,
        channel: &str,
        priority: ClogPriority,
        message: &str,
    ) -> Entry {
        let mut guard = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        guard.0 += 1;
        let entry = Entry {
            name: name.to_owned(),
            module: module.map(str::to_owned),
            stamp: SystemTime::now(),
            seq: guard.0,
            channel: channel.to_owned(),
            priority,
            message: message.to_owned(),
        };
        if guard.1.len() >= CLOG_ENTRIES {
            guard.1.pop_front();
        }
        guard.1.push_back(entry.clone());
        entry
    }

    /// The last `n` entries of `channel` (every channel if `None`), oldest first.
    pub fn last(&self, n: usize, channel: Option<&str>) -> Vec<Entry> {
        let guard = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let mut picked: Vec<Entry> = guard
            .1
            .iter()
            .rev()
            .filter(|e| channel.is_none_or(|c| e.channel == c))
            .take(n)
            .cloned()
            .collect();
        picked.reverse();
        picked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_print_as_ceph_does() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_micros(1_765_072_800_123_456);
        assert_eq!(ceph_stamp(t), "2025-12-07T02:00:00.123456+0000");
    }

    #[test]
    fn the_log_keeps_the_newest_entries_in_order() {
        let log = ClusterLog::default();
        for i in 0..5 {
            log.push(
                "mgr.x",
                None,
                if i % 2 == 0 { "cluster" } else { "audit" },
                ClogPriority::Info,
                &format!("m{i}"),
            );
        }
        let last: Vec<String> = log.last(2, None).into_iter().map(|e| e.message).collect();
        assert_eq!(last, ["m3", "m4"]);
        let audit: Vec<u64> = log
            .last(10, Some("audit"))
            .into_iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(audit, [2, 4]);
    }
}
