//! `wasmgr:mgr/log`: module log lines, filtered by the module's `log_level`, cut to
//! [`limits::LOG_LINE_BYTES`] and rate limited.

use super::ModuleCtx;
use crate::bindings::Level;
use crate::bindings::wasmgr::mgr::log::Host;
use crate::limits;

/// The prefix the guest SDKs put on a panic message they log just before aborting.
pub(crate) const PANIC_PREFIX: &str = "panic: ";

impl Host for ModuleCtx {
    fn log(&mut self, level: Level, message: String) {
        if level == Level::Critical
            && let Some(p) = message.strip_prefix(PANIC_PREFIX)
        {
            self.last_panic = Some(truncate(p, limits::LOG_LINE_BYTES).to_owned());
        }
        self.env
            .log(level, truncate(&message, limits::LOG_LINE_BYTES));
    }
}

/// `s` cut to at most `max` bytes, on a character boundary.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
