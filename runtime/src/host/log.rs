//! `wasmgr:mgr/log`: module log lines, filtered by the module's `log_level`, cut to
//! [`limits::LOG_LINE_BYTES`], escaped ([`crate::sanitize`]) and rate limited.

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
            self.last_panic = Some(crate::sanitize::line(p, limits::LOG_LINE_BYTES));
        }
        self.env.log(level, &message);
    }
}
