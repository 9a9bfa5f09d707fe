//! Periodic work: the host calls [`MgrModule::tick`](crate::MgrModule::tick) every period.
//!
//! A Python module's `serve()` loops in a thread of its own; a wasm instance runs one call at
//! a time, so a loop that never returns would starve the module's commands. Instead the host
//! runs each tick as a call of its own, between the module's other calls and under the same
//! fuel and deadline: one round of work per tick, the wait between rounds is the period.
//!
//! ```no_run
//! use std::time::Duration;
//! use wasmgr_guest::schedule;
//!
//! # fn main() -> wasmgr_guest::Result<()> {
//! schedule::set_tick_period(Some(Duration::from_secs(5)))?; // tick every 5 s
//! schedule::set_tick_period(None)?; // stop ticking
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use crate::bindings::wasmgr::mgr::schedule as host;
use crate::error::Result;

/// The shortest period the host accepts.
pub const MIN_PERIOD: Duration = Duration::from_millis(10);
/// The longest period the host accepts: one day.
pub const MAX_PERIOD: Duration = Duration::from_secs(86_400);

/// A period in whole milliseconds, as the WIT takes it; beyond `u32::MAX` ms it saturates
/// (and the host refuses it as out of range).
fn period_ms(period: Duration) -> u32 {
    u32::try_from(period.as_millis()).unwrap_or(u32::MAX)
}

/// Ticks this module every `period` ([`MIN_PERIOD`] to [`MAX_PERIOD`], in whole
/// milliseconds), the first tick one period from now; `None` stops ticking. The period may be
/// changed at any time, from any call. A period out of range is `invalid`.
pub fn set_tick_period(period: Option<Duration>) -> Result<()> {
    Ok(host::set_tick_period(period.map(period_ms))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_whole_milliseconds() {
        assert_eq!(period_ms(Duration::from_secs(5)), 5000);
        assert_eq!(period_ms(MIN_PERIOD), 10);
        assert_eq!(period_ms(MAX_PERIOD), 86_400_000);
        assert_eq!(period_ms(Duration::from_secs(u64::MAX)), u32::MAX);
    }
}
