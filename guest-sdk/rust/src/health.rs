//! Health checks raised by the module (`MgrModule.set_health_checks`).
//!
//! ```no_run
//! use wasmgr_guest::health::{self, HealthCheck};
//!
//! # fn main() -> wasmgr_guest::Result<()> {
//! health::set_health_checks(&[HealthCheck::warning("HELLO_LONELY", "nobody said hello")
//!     .count(1)
//!     .detail(["no greeting for 10 minutes"])])?;
//! # Ok(())
//! # }
//! ```

use crate::bindings::wasmgr::mgr::health as host;
use crate::error::Result;

pub use crate::bindings::wasmgr::mgr::health::{HealthCheck, Severity};

impl HealthCheck {
    /// A check with `severity`, `code` (upper case, e.g. `MYMODULE_DISK_FULL`) and one-line
    /// `summary`; count 0 and no detail lines until set.
    pub fn new(severity: Severity, code: impl Into<String>, summary: impl Into<String>) -> Self {
        HealthCheck {
            code: code.into(),
            severity,
            summary: summary.into(),
            count: 0,
            detail: Vec::new(),
        }
    }

    /// A HEALTH_WARN check.
    pub fn warning(code: impl Into<String>, summary: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, summary)
    }

    /// A HEALTH_ERR check.
    pub fn error(code: impl Into<String>, summary: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, summary)
    }

    /// How many things the check is about.
    pub fn count(mut self, count: u64) -> Self {
        self.count = count;
        self
    }

    /// One line per affected thing.
    pub fn detail<S: Into<String>>(mut self, lines: impl IntoIterator<Item = S>) -> Self {
        self.detail = lines.into_iter().map(Into::into).collect();
        self
    }
}

/// Replaces every check this module has raised with `checks`; an empty slice clears them.
pub fn set_health_checks(checks: &[HealthCheck]) -> Result<()> {
    Ok(host::set_health_checks(checks)?)
}

/// Clears every check this module has raised.
pub fn clear() -> Result<()> {
    set_health_checks(&[])
}
