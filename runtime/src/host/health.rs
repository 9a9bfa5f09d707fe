//! `wasmgr:mgr/health`: the module's health checks, shown by `health` and `health detail`.

use super::{ModuleCtx, error};
use crate::bindings::wasmgr::mgr::health::Host;
use crate::bindings::{ErrorCode, GuestError, HealthCheck};
use crate::limits;

impl Host for ModuleCtx {
    fn set_health_checks(&mut self, checks: Vec<HealthCheck>) -> Result<(), GuestError> {
        if checks.len() > limits::HEALTH_CHECKS {
            return Err(error(
                ErrorCode::TooBig,
                format!(
                    "{} health checks is over the limit of {}",
                    checks.len(),
                    limits::HEALTH_CHECKS
                ),
            ));
        }
        for c in &checks {
            let valid = !c.code.is_empty()
                && c.code.len() <= 64
                && c.code
                    .chars()
                    .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '_');
            if !valid {
                return Err(error(
                    ErrorCode::Invalid,
                    format!(
                        "health check code '{}' must be 1-64 characters of A-Z, 0-9 and _",
                        c.code
                    ),
                ));
            }
            if c.detail.len() > limits::HEALTH_DETAIL_LINES {
                return Err(error(
                    ErrorCode::TooBig,
                    format!(
                        "health check {} has {} detail lines, over the limit of {}",
                        c.code,
                        c.detail.len(),
                        limits::HEALTH_DETAIL_LINES
                    ),
                ));
            }
        }
        self.env.set_health(checks);
        Ok(())
    }
}
