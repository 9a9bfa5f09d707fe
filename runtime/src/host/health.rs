//! `wasmgr:mgr/health`: the module's health checks, shown by `health` and `health detail`.

use super::{ModuleCtx, error};
use crate::bindings::wasmgr::mgr::health::Host;
use crate::bindings::{ErrorCode, GuestError, HealthCheck};
use crate::limits;
use crate::sanitize;

/// Codes the daemon raises itself: a module may not raise them, so it cannot report, say,
/// another module as failed. The `WASMGR_` prefix is the daemon's too.
pub const RESERVED_CODES: &[&str] = &[
    "MGR_MODULE_ERROR",
    "MGR_MODULE_DEPENDENCY",
    "MGR_MODULE_UNGRANTED",
    "MGR_MODULE_LEARNING",
];

fn too_big(what: String) -> GuestError {
    error(ErrorCode::TooBig, what)
}

/// Checks `checks` against the health limits and returns them with their text made safe to
/// show. Linear in the size of the checks.
fn checked(mut checks: Vec<HealthCheck>) -> Result<Vec<HealthCheck>, GuestError> {
    if checks.len() > limits::HEALTH_CHECKS {
        return Err(too_big(format!(
            "{} health checks is over the limit of {}",
            checks.len(),
            limits::HEALTH_CHECKS
        )));
    }
    let mut text = 0usize;
    let mut codes = std::collections::HashSet::with_capacity(checks.len());
    for c in &mut checks {
        let valid = !c.code.is_empty()
            && c.code.len() <= limits::HEALTH_CODE_BYTES
            && c.code
                .bytes()
                .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == b'_');
        if !valid {
            return Err(error(
                ErrorCode::Invalid,
                format!(
                    "health check code '{}' must be 1-{} characters of A-Z, 0-9 and _",
                    sanitize::quote(&c.code),
                    limits::HEALTH_CODE_BYTES
                ),
            ));
        }
        if RESERVED_CODES.contains(&c.code.as_str()) || c.code.starts_with("WASMGR_") {
            return Err(error(
                ErrorCode::Invalid,
                format!(
                    "health check code {} is reserved for the daemon's own checks; use a code \
                     of the module's own, such as one starting with its name",
                    c.code
                ),
            ));
        }
        if !codes.insert(c.code.clone()) {
            return Err(error(
                ErrorCode::Invalid,
                format!(
                    "health check code {} is raised twice; raise each code once",
                    c.code
                ),
            ));
        }
        if c.detail.len() > limits::HEALTH_DETAIL_LINES {
            return Err(too_big(format!(
                "health check {} has {} detail lines, over the limit of {}",
                c.code,
                c.detail.len(),
                limits::HEALTH_DETAIL_LINES
            )));
        }
        let longest = c.detail.iter().map(String::len).max().unwrap_or(0);
        if c.summary.len() > limits::HEALTH_LINE_BYTES || longest > limits::HEALTH_LINE_BYTES {
            return Err(too_big(format!(
                "health check {} has a summary or detail line over the limit of {} bytes",
                c.code,
                limits::HEALTH_LINE_BYTES
            )));
        }
        text = c
            .detail
            .iter()
            .fold(text.saturating_add(c.summary.len()), |n, d| {
                n.saturating_add(d.len())
            });
        if text > limits::HEALTH_TEXT_BYTES {
            return Err(too_big(format!(
                "the health checks hold over {} bytes of text, the limit per module",
                limits::HEALTH_TEXT_BYTES
            )));
        }
        c.summary = sanitize::line(&c.summary, limits::HEALTH_LINE_BYTES);
        for d in &mut c.detail {
            *d = sanitize::line(d, limits::HEALTH_LINE_BYTES);
        }
    }
    Ok(checks)
}

impl Host for ModuleCtx {
    fn set_health_checks(&mut self, checks: Vec<HealthCheck>) -> Result<(), GuestError> {
        self.env.allow(crate::caps::Cap::Health)?;
        self.env
            .set_health(checked(checks)?)
            .map_err(|taken| error(ErrorCode::Exists, taken.to_string()))
    }
}
