//! The cluster log: entries with channel, priority, message, stamp and sequence number, as
//! `ceph log last` shows them and as ceph-mgr hands them to modules in `clog` notifies.

use std::collections::VecDeque;

use crate::model::Cluster;
use crate::{Event, NotifyKind};

/// Entries kept; older ones are dropped (`mon_log_max`).
const KEEP: usize = 10_000;

/// A log entry's priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// `[DBG]`.
    Dbg,
    /// `[INF]`.
    Inf,
    /// `[SEC]`.
    Sec,
    /// `[WRN]`.
    Wrn,
    /// `[ERR]`.
    Err,
}

impl Priority {
    /// `[INF]` and so on, as entries carry it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dbg => "[DBG]",
            Self::Inf => "[INF]",
            Self::Sec => "[SEC]",
            Self::Wrn => "[WRN]",
            Self::Err => "[ERR]",
        }
    }

    /// Parses `debug`/`info`/`sec`/`warn`/`error` (and the bracketed forms).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "debug" | "dbg" | "[dbg]" => Some(Self::Dbg),
            "info" | "inf" | "[inf]" => Some(Self::Inf),
            "sec" | "security" | "[sec]" => Some(Self::Sec),
            "warn" | "warning" | "wrn" | "[wrn]" => Some(Self::Wrn),
            "error" | "err" | "[err]" => Some(Self::Err),
            _ => None,
        }
    }
}

/// One cluster log entry.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// Who logged it, e.g. `mon.a` or `mgr.x`.
    pub name: String,
    /// Its rank, e.g. `mon.0` or `mgr.4180`.
    pub rank: String,
    /// Its address, e.g. `10.0.0.1:3300` (v2) and `10.0.0.1:6789` (v1).
    pub addrs: Vec<(String, String, u32)>,
    /// When, seconds since the Unix epoch (simulated).
    pub stamp: f64,
    /// Sequence number, increasing.
    pub seq: u64,
    /// `cluster` or `audit`.
    pub channel: String,
    /// Priority.
    pub priority: Priority,
    /// The message.
    pub message: String,
}

impl LogEntry {
    /// The entry as ceph-mgr's `clog` notify carries it: `{"addrs", "channel", "message",
    /// "name", "priority", "rank", "seq", "stamp"}`.
    pub fn to_json(&self) -> serde_json::Value {
        let addrvec: Vec<serde_json::Value> = self
            .addrs
            .iter()
            .map(|(kind, addr, nonce)| serde_json::json!({"type": kind, "addr": addr, "nonce": nonce}))
            .collect();
        serde_json::json!({
            "name": self.name,
            "rank": self.rank,
            "addrs": {"addrvec": addrvec},
            "stamp": crate::time::stamp(self.stamp),
            "seq": self.seq,
            "channel": self.channel,
            "priority": self.priority.as_str(),
            "message": self.message,
        })
    }

    /// The entry as `ceph log last` prints it:
    /// `2026-11-22T22:04:12.275888+0000 mon.a (mon.0) 81 : cluster [INF] message`.
    pub fn line(&self) -> String {
        format!(
            "{} {} ({}) {} : {} {} {}",
            crate::time::stamp(self.stamp),
            self.name,
            self.rank,
            self.seq,
            self.channel,
            self.priority.as_str(),
            self.message
        )
    }
}

/// The most recent entries.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClusterLog {
    pub(crate) entries: VecDeque<LogEntry>,
    pub(crate) next_seq: u64,
}

impl Cluster {
    /// Logs on the `cluster` channel as the leader mon (`who` is `mon`) or as the mgr.
    pub(crate) fn log(&mut self, who: &str, priority: Priority, message: String) {
        let name = if who == "mgr" {
            format!("mgr.{}", self.mgr.id)
        } else {
            format!("mon.{}", self.mons.first().map_or("a", |m| m.name.as_str()))
        };
        self.log_as(&name, "cluster", priority, message);
    }

    /// Logs an entry and queues its `clog` notify.
    pub(crate) fn log_as(
        &mut self,
        name: &str,
        channel: &str,
        priority: Priority,
        message: String,
    ) {
        let (rank, addrs) = if name.starts_with("client.") {
            let ip = self
                .hosts
                .first()
                .map_or("0.0.0.0", |h| h.ip.as_str())
                .to_owned();
            (
                format!("client.{}", 14_000 + self.log.next_seq % 1000),
                vec![(
                    "v1".to_owned(),
                    format!("{ip}:0"),
                    1000 + (self.log.next_seq % 5000) as u32,
                )],
            )
        } else if let Some(id) = name.strip_prefix("mgr.") {
            let ip = self
                .hosts
                .first()
                .map_or("0.0.0.0", |h| h.ip.as_str())
                .to_owned();
            let _ = id;
            (
                format!("mgr.{}", self.mgr.gid),
                vec![("v2".to_owned(), format!("{ip}:0"), self.mgr.nonce)],
            )
        } else {
            let mon = name.strip_prefix("mon.").unwrap_or("a");
            let rank = self.mons.iter().position(|m| m.name == mon).unwrap_or(0);
            let ip = self
                .mons
                .get(rank)
                .and_then(|m| self.hosts.get(m.host))
                .map_or("0.0.0.0", |h| h.ip.as_str())
                .to_owned();
            (
                format!("mon.{rank}"),
                vec![
                    ("v2".to_owned(), format!("{ip}:3300"), 0),
                    ("v1".to_owned(), format!("{ip}:6789"), 0),
                ],
            )
        };
        self.log.next_seq += 1;
        let entry = LogEntry {
            name: name.to_owned(),
            rank,
            addrs,
            stamp: self.now,
            seq: self.log.next_seq,
            channel: channel.to_owned(),
            priority,
            message,
        };
        self.events.push(Event {
            kind: NotifyKind::Clog,
            id: entry.to_json().to_string(),
        });
        self.log.entries.push_back(entry);
        while self.log.entries.len() > KEEP {
            self.log.entries.pop_front();
        }
    }

    /// The last `n` entries of `channel` (`*` for every channel), oldest first.
    pub(crate) fn log_last(&self, n: usize, channel: &str, min: Priority) -> Vec<LogEntry> {
        let mut out: Vec<LogEntry> = self
            .log
            .entries
            .iter()
            .rev()
            .filter(|e| (channel == "*" || e.channel == channel) && e.priority >= min)
            .take(n)
            .cloned()
            .collect();
        out.reverse();
        out
    }
}

/// The entries a freshly started mgr has seen: its own activation.
pub(crate) fn startup(c: &mut Cluster) {
    c.log.next_seq = 80 + c.rng.below(40);
    let id = c.mgr.id.clone();
    c.log(
        "mon",
        Priority::Inf,
        format!("Activating manager daemon {id}"),
    );
    c.log(
        "mon",
        Priority::Inf,
        format!("Manager daemon {id} is now available"),
    );
    // Startup entries are history, not news: no notify for them.
    c.events.clear();
}
