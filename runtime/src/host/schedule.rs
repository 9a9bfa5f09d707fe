//! `wasmgr:mgr/schedule`: the module's periodic work (`ticker.tick`), run by the supervisor on
//! the module's own actor.

use super::{ModuleCtx, error};
use crate::bindings::wasmgr::mgr::schedule::Host;
use crate::bindings::{ErrorCode, GuestError};
use crate::limits;

impl Host for ModuleCtx {
    fn set_tick_period(&mut self, period_ms: Option<u32>) -> Result<(), GuestError> {
        if period_ms.is_some() {
            self.env.allow(crate::caps::Cap::Tick)?;
        }
        if !self.has_ticker {
            return Err(error(
                ErrorCode::NotSupported,
                "the module exports no ticker: build it against the mgr-module-full world \
                 (the current SDK does)",
            ));
        }
        match period_ms {
            None => self.env.set_tick_period(None),
            Some(ms) if (limits::TICK_MIN_MS..=limits::TICK_MAX_MS).contains(&ms) => {
                self.env.set_tick_period(Some(ms));
            }
            Some(ms) => {
                return Err(error(
                    ErrorCode::Invalid,
                    format!(
                        "a tick period of {ms} ms is out of range: use {} to {} ms, or none to \
                         stop ticking",
                        limits::TICK_MIN_MS,
                        limits::TICK_MAX_MS
                    ),
                ));
            }
        }
        Ok(())
    }
}
