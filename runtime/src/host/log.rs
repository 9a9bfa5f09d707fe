//! `wasmgr:mgr/log`: module log lines, filtered by the module's `log_level`, cut to
//! [`limits::LOG_LINE_BYTES`], escaped ([`crate::sanitize`]) and rate limited.

use super::{ModuleCtx, error};
use crate::bindings::wasmgr::mgr::log::Host;
use crate::bindings::{ClogPriority, ErrorCode, GuestError, Level};
use crate::limits;

/// The prefix the guest SDKs put on a panic message they log just before aborting.
pub(crate) const PANIC_PREFIX: &str = "panic: ";

/// Bytes of a cluster log channel name.
const CHANNEL_BYTES: usize = 64;

impl Host for ModuleCtx {
    fn cluster_log(
        &mut self,
        channel: String,
        priority: ClogPriority,
        message: String,
    ) -> Result<(), GuestError> {
        self.env.allow(crate::caps::Cap::ClusterLog)?;
        if channel.is_empty()
            || channel.len() > CHANNEL_BYTES
            || !crate::sanitize::is_plain_word(&channel)
        {
            return Err(error(
                ErrorCode::Invalid,
                format!(
                    "a cluster log channel is one word of 1 to {CHANNEL_BYTES} bytes, such as cluster or audit"
                ),
            ));
        }
        if !self.env.take_log_token() {
            return Err(error(
                ErrorCode::Again,
                format!(
                    "the module is over its log rate of {} lines per second; try again later",
                    self.env.limits.log_lines_per_sec
                ),
            ));
        }
        let message = crate::sanitize::line(&message, limits::LOG_LINE_BYTES);
        self.env.cluster_log(&channel, priority, &message);
        Ok(())
    }

    fn log(&mut self, level: Level, message: String) {
        if level == Level::Critical
            && let Some(p) = message.strip_prefix(PANIC_PREFIX)
        {
            self.last_panic = Some(crate::sanitize::line(p, limits::LOG_LINE_BYTES));
        }
        self.env.log(level, &message);
    }
}
