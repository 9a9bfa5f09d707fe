//! `wasmgr:mgr/config`: the module's typed options, checked against what it declared.

use super::{ModuleCtx, error};
use crate::bindings::wasmgr::mgr::config::Host;
use crate::bindings::{ErrorCode, GuestError, OptionValue};
use crate::module_env::OptionAccessError;

fn guest(e: OptionAccessError) -> GuestError {
    match &e {
        OptionAccessError::Option(o) => error(o.error_code(), e.to_string()),
        OptionAccessError::Quota(_) => error(ErrorCode::NoSpace, e.to_string()),
        OptionAccessError::Persist(_) => error(ErrorCode::Io, e.to_string()),
    }
}

/// Charge an option write to the module's store write budget.
fn spend(ctx: &ModuleCtx, key: &str, value: &Option<OptionValue>) -> Result<(), GuestError> {
    let len = match value {
        Some(OptionValue::Str(s)) => s.len(),
        Some(_) => 24,
        None => 0,
    };
    ctx.env
        .spend_write_budget((key.len() + len) as u64)
        .map_err(super::store::over_budget)
}

impl Host for ModuleCtx {
    fn get_module_option(&mut self, key: String) -> Result<Option<OptionValue>, GuestError> {
        self.env.option(&key, false).map_err(guest)
    }

    fn set_module_option(
        &mut self,
        key: String,
        value: Option<OptionValue>,
    ) -> Result<(), GuestError> {
        spend(self, &key, &value)?;
        self.env.set_option(&key, value, false).map_err(guest)
    }

    fn get_localized_module_option(
        &mut self,
        key: String,
    ) -> Result<Option<OptionValue>, GuestError> {
        self.env.option(&key, true).map_err(guest)
    }

    fn set_localized_module_option(
        &mut self,
        key: String,
        value: Option<OptionValue>,
    ) -> Result<(), GuestError> {
        spend(self, &key, &value)?;
        self.env.set_option(&key, value, true).map_err(guest)
    }
}
