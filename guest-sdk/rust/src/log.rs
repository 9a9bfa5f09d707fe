//! The module's log, with Python logging's levels (`self.log.info(...)` in ceph-mgr).
//!
//! ```no_run
//! use wasmgr_guest::log;
//!
//! # let (who, n) = ("world", 3);
//! log::info!("greeted {who}");
//! log::warning!("{} objects left", n);
//! ```
//!
//! The host drops lines below the module's `log_level` option and enforces size and rate
//! limits, so logging needs no configuration in the module.
//!
//! [`cluster_log`] writes to the cluster log instead (`MgrModule.cluster_log`), which
//! operators read with `wasmgr log last`:
//!
//! ```no_run
//! use wasmgr_guest::log::{self, ClogPriority};
//!
//! # fn main() -> wasmgr_guest::Result<()> {
//! log::cluster_log(log::CLUSTER, ClogPriority::Warn, "osd.3 has been down for 10 minutes")?;
//! # Ok(())
//! # }
//! ```

use crate::bindings::wasmgr::mgr::log as host;
use crate::error::Result;

pub use crate::bindings::wasmgr::mgr::log::{ClogPriority, Level};

/// Writes one line at `level`.
pub fn log(level: Level, message: &str) {
    host::log(level, message);
}

/// The cluster log's main channel.
pub const CLUSTER: &str = "cluster";
/// The cluster log's audit channel.
pub const AUDIT: &str = "audit";

/// `MgrModule.cluster_log(channel, priority, message)`: writes one entry to the cluster log.
///
/// `channel` is [`CLUSTER`], [`AUDIT`] or another word; `message` is one line of at most 4096
/// bytes. Modules subscribed to `Clog` are notified of the entry. Entries over the module's
/// log rate are refused with `again`.
pub fn cluster_log(channel: &str, priority: ClogPriority, message: &str) -> Result<()> {
    Ok(host::cluster_log(channel, priority, message)?)
}

/// Logs a `format!`-style line at `critical` level.
#[doc(inline)]
pub use crate::__log_critical as critical;
/// Logs a `format!`-style line at `debug` level.
#[doc(inline)]
pub use crate::__log_debug as debug;
/// Logs a `format!`-style line at `error` level.
#[doc(inline)]
pub use crate::__log_error as error;
/// Logs a `format!`-style line at `info` level.
#[doc(inline)]
pub use crate::__log_info as info;
/// Logs a `format!`-style line at `warning` level.
#[doc(inline)]
pub use crate::__log_warning as warning;

#[doc(hidden)]
#[macro_export]
macro_rules! __log_debug {
    ($($arg:tt)+) => { $crate::log::log($crate::log::Level::Debug, &::std::format!($($arg)+)) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __log_info {
    ($($arg:tt)+) => { $crate::log::log($crate::log::Level::Info, &::std::format!($($arg)+)) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __log_warning {
    ($($arg:tt)+) => { $crate::log::log($crate::log::Level::Warning, &::std::format!($($arg)+)) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __log_error {
    ($($arg:tt)+) => { $crate::log::log($crate::log::Level::Error, &::std::format!($($arg)+)) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __log_critical {
    ($($arg:tt)+) => { $crate::log::log($crate::log::Level::Critical, &::std::format!($($arg)+)) };
}
