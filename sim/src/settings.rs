//! [`Settings`]: the size, seed and pace of a simulated cluster, and their config string.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The most OSDs a simulated cluster may have.
pub const MAX_OSDS: u32 = 10_000;

/// The keys a config string may set, in the order [`Settings`] documents them.
pub const SETTING_KEYS: &[&str] = &[
    "osds", "hosts", "seed", "pace", "mgr", "failures", "downtime", "start",
];

/// What a simulated cluster looks like and how it evolves.
///
/// Parsed from a config string such as `osds=100,seed=7,pace=500` ([`Settings::parse`]); every
/// key is optional:
///
/// | key | meaning | default |
/// |---|---|---|
/// | `osds` | number of OSDs, 1 to 10,000 | 3 |
/// | `hosts` | number of hosts, 1 to `osds` | ~10 OSDs per host, at least 1 |
/// | `seed` | the seed of every random choice | 1 |
/// | `pace` | real milliseconds between two steps of a [`Clock`](crate::Clock) (each step advances simulated time by as much) | 1000 |
/// | `mgr` | the id of the active mgr (this daemon) | `x` |
/// | `failures` | mean simulated seconds between two spontaneous OSD (or host) failures; 0 turns them off | 120 |
/// | `downtime` | mean simulated seconds a failed OSD stays down | 90 |
/// | `start` | the simulated clock's start, Unix seconds | 1795385034 (2026-11-22T22:03:54Z) |
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Number of OSDs.
    pub osds: u32,
    /// Number of hosts; `None` means about ten OSDs per host.
    pub hosts: Option<u32>,
    /// Seed of every random choice.
    pub seed: u64,
    /// Real time between two steps of a [`Clock`](crate::Clock).
    pub pace: Duration,
    /// The active mgr's id.
    pub mgr_id: String,
    /// Mean simulated time between spontaneous failures; zero turns them off.
    pub failure_interval: Duration,
    /// Mean simulated time a failed OSD stays down.
    pub down_time: Duration,
    /// Start of simulated time, seconds since the Unix epoch.
    pub start: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            osds: 3,
            hosts: None,
            seed: 1,
            pace: Duration::from_millis(1000),
            mgr_id: "x".to_owned(),
            failure_interval: Duration::from_secs(120),
            down_time: Duration::from_secs(90),
            start: 1_795_385_034,
        }
    }
}

/// A config string that [`Settings::parse`] refuses. Every message names the key and what is
/// allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// A key that is not one of [`SETTING_KEYS`].
    #[error("unknown simulator setting `{key}`; the settings are {}", SETTING_KEYS.join(", "))]
    UnknownKey {
        /// The key as given.
        key: String,
    },
    /// An item without `=`.
    #[error("simulator setting `{item}` has no value; write key=value, e.g. osds=100")]
    NoValue {
        /// The item as given.
        item: String,
    },
    /// A value that does not parse or is out of range.
    #[error("simulator setting {key}={value} is invalid: {expected}")]
    BadValue {
        /// The key.
        key: &'static str,
        /// The value as given.
        value: String,
        /// What is allowed.
        expected: String,
    },
    /// The same key twice.
    #[error("simulator setting `{key}` is given twice; give it once")]
    Repeated {
        /// The key.
        key: String,
    },
}

impl Settings {
    /// Parses `key=value` items separated by commas (spaces around items are ignored; an empty
    /// string gives the defaults). See [`Settings`] for the keys.
    pub fn parse(text: &str) -> Result<Self, SettingsError> {
        let mut s = Self::default();
        let mut seen: Vec<&str> = Vec::new();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let Some((key, value)) = item.split_once('=') else {
                return Err(SettingsError::NoValue {
                    item: item.to_owned(),
                });
            };
            let (key, value) = (key.trim(), value.trim());
            let Some(&known) = SETTING_KEYS.iter().find(|k| **k == key) else {
                return Err(SettingsError::UnknownKey {
                    key: key.to_owned(),
                });
            };
            if seen.contains(&known) {
                return Err(SettingsError::Repeated {
                    key: key.to_owned(),
                });
            }
            seen.push(known);
            let bad = |expected: &str| SettingsError::BadValue {
                key: known,
                value: value.to_owned(),
                expected: expected.to_owned(),
            };
            let int = |lo: u64, hi: u64, what: &str| -> Result<u64, SettingsError> {
                value
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (lo..=hi).contains(n))
                    .ok_or_else(|| bad(what))
            };
            match known {
                "osds" => {
                    s.osds = int(1, u64::from(MAX_OSDS), "an integer from 1 to 10000")? as u32;
                }
                "hosts" => {
                    s.hosts =
                        Some(int(1, u64::from(MAX_OSDS), "an integer from 1 to 10000")? as u32);
                }
                "seed" => s.seed = int(0, u64::MAX, "an unsigned 64-bit integer")?,
                "pace" => {
                    s.pace = Duration::from_millis(int(
                        10,
                        3_600_000,
                        "milliseconds from 10 to 3600000",
                    )?);
                }
                "mgr" => {
                    let ok = !value.is_empty()
                        && value.len() <= 64
                        && value
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
                    if !ok {
                        return Err(bad("1 to 64 characters of A-Z a-z 0-9 - _ ."));
                    }
                    s.mgr_id = value.to_owned();
                }
                "failures" => {
                    s.failure_interval = Duration::from_secs(int(
                        0,
                        31_536_000,
                        "seconds from 0 (off) to 31536000",
                    )?);
                }
                "downtime" => {
                    s.down_time = Duration::from_secs(int(1, 86_400, "seconds from 1 to 86400")?);
                }
                _ => s.start = int(0, 4_102_444_800, "Unix seconds up to 4102444800")?,
            }
        }
        if let Some(hosts) = s.hosts
            && hosts > s.osds
        {
            return Err(SettingsError::BadValue {
                key: "hosts",
                value: hosts.to_string(),
                expected: format!("at most the number of OSDs ({})", s.osds),
            });
        }
        Ok(s)
    }

    /// The number of hosts: the `hosts` setting, else one per ten OSDs (at least one).
    pub fn host_count(&self) -> u32 {
        self.hosts
            .unwrap_or_else(|| self.osds.div_ceil(10))
            .clamp(1, self.osds.max(1))
    }
}

impl FromStr for Settings {
    type Err = SettingsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Settings {
    /// The config string that parses back into these settings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "osds={}", self.osds)?;
        if let Some(h) = self.hosts {
            write!(f, ",hosts={h}")?;
        }
        write!(
            f,
            ",seed={},pace={},mgr={},failures={},downtime={},start={}",
            self.seed,
            self.pace.as_millis(),
            self.mgr_id,
            self.failure_interval.as_secs(),
            self.down_time.as_secs(),
            self.start
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key_and_round_trips() {
        let s = Settings::parse(
            "osds=100, seed=7,pace=250,hosts=20,mgr=y,failures=0,downtime=30,start=5",
        )
        .unwrap();
        assert_eq!(s.osds, 100);
        assert_eq!(s.host_count(), 20);
        assert_eq!(s.seed, 7);
        assert_eq!(s.pace, Duration::from_millis(250));
        assert_eq!(s.mgr_id, "y");
        assert_eq!(s.failure_interval, Duration::ZERO);
        assert_eq!(Settings::parse(&s.to_string()).unwrap(), s);
        assert_eq!(Settings::parse("").unwrap(), Settings::default());
    }

    #[test]
    fn default_hosts_are_proportionate() {
        let hosts = |n: u32| {
            Settings {
                osds: n,
                ..Settings::default()
            }
            .host_count()
        };
        assert_eq!(hosts(1), 1);
        assert_eq!(hosts(10), 1);
        assert_eq!(hosts(11), 2);
        assert_eq!(hosts(10_000), 1000);
    }

    #[test]
    fn errors_name_the_key_and_what_is_allowed() {
        let msg = Settings::parse("osd=3").unwrap_err().to_string();
        assert!(
            msg.contains("`osd`") && msg.contains("osds, hosts, seed, pace"),
            "{msg}"
        );
        let msg = Settings::parse("osds=0").unwrap_err().to_string();
        assert!(msg.contains("1 to 10000"), "{msg}");
        let msg = Settings::parse("osds=20000").unwrap_err().to_string();
        assert!(msg.contains("osds=20000"), "{msg}");
        assert!(Settings::parse("osds").is_err());
        assert!(Settings::parse("osds=3,osds=4").is_err());
        assert!(Settings::parse("osds=3,hosts=4").is_err());
        assert!(Settings::parse("mgr=a b").is_err());
        assert!(Settings::parse("pace=1").is_err());
    }
}
