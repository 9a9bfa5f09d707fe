//! `wasmgr:mgr/store`: the module's private KV store, kept under `mgr/<module>/` in the
//! config-key space and bounded by the module's KV quotas.

use super::{ModuleCtx, error};
use crate::bindings::wasmgr::mgr::store::Host;
use crate::bindings::{ErrorCode, GuestError};
use crate::limits;
use crate::module_env::StoreWriteError;
use crate::persist::{PersistError, Space};

/// Bytes of a store key (without the module's `mgr/<module>/` prefix).
const KEY_BYTES: usize = 1024;

fn io(e: PersistError) -> GuestError {
    error(ErrorCode::Io, e.to_string())
}

/// The error for a write over the module's store write budget.
pub(crate) fn over_budget(wait: std::time::Duration) -> GuestError {
    error(
        ErrorCode::Again,
        format!(
            "the module's store write budget of {} bytes per second is used up: retry in {} ms",
            limits::STORE_WRITE_BYTES_PER_SEC,
            wait.as_millis().max(1)
        ),
    )
}

impl ModuleCtx {
    fn kv_prefix(&self) -> String {
        self.env.key_prefix()
    }

    fn check_key(&self, key: &str) -> Result<(), GuestError> {
        self.env.allow(crate::caps::Cap::Store)?;
        if key.is_empty() || key.len() > KEY_BYTES {
            return Err(error(
                ErrorCode::Invalid,
                format!("a store key must be 1 to {KEY_BYTES} bytes long"),
            ));
        }
        Ok(())
    }

    fn kv_set(&mut self, full_key: &str, value: Option<&str>) -> Result<(), GuestError> {
        if let Some(v) = value
            && v.len() > limits::KV_VALUE_BYTES
        {
            return Err(error(
                ErrorCode::TooBig,
                format!(
                    "a value of {} bytes is over the limit of {} bytes per value: split it over several keys",
                    v.len(),
                    limits::KV_VALUE_BYTES
                ),
            ));
        }
        let bytes = (full_key.len() + value.map_or(0, str::len)) as u64;
        if let Err(wait) = self.env.spend_write_budget(bytes) {
            return Err(over_budget(wait));
        }
        match self.env.write_accounted(Space::Kv, full_key, value) {
            Ok(()) => Ok(()),
            Err(StoreWriteError::Quota(q)) => Err(error(ErrorCode::NoSpace, q.to_string())),
            Err(StoreWriteError::Persist(e)) => Err(io(e)),
        }
    }
}

impl Host for ModuleCtx {
    fn get(&mut self, key: String) -> Result<Option<String>, GuestError> {
        self.check_key(&key)?;
        self.env
            .persist
            .get(Space::Kv, &format!("{}{key}", self.kv_prefix()))
            .map_err(io)
    }

    fn set(&mut self, key: String, value: Option<String>) -> Result<(), GuestError> {
        self.check_key(&key)?;
        let full = format!("{}{key}", self.kv_prefix());
        self.kv_set(&full, value.as_deref())
    }

    fn get_prefix(&mut self, prefix: String) -> Result<Vec<(String, String)>, GuestError> {
        self.env.allow(crate::caps::Cap::Store)?;
        if prefix.len() > KEY_BYTES {
            return Err(error(
                ErrorCode::Invalid,
                format!("a store key prefix must be at most {KEY_BYTES} bytes long"),
            ));
        }
        let base = self.kv_prefix();
        let rows = self
            .env
            .persist
            .list(Space::Kv, &format!("{base}{prefix}"))
            .map_err(io)?;
        Ok(rows
            .into_iter()
            .map(|(k, v)| (k.strip_prefix(&base).unwrap_or(&k).to_owned(), v))
            .collect())
    }

    fn get_localized(&mut self, key: String) -> Result<Option<String>, GuestError> {
        self.check_key(&key)?;
        let base = self.kv_prefix();
        let local = format!("{base}{}/{key}", self.env.mgr_id);
        match self.env.persist.get(Space::Kv, &local).map_err(io)? {
            Some(v) => Ok(Some(v)),
            None => self
                .env
                .persist
                .get(Space::Kv, &format!("{base}{key}"))
                .map_err(io),
        }
    }

    fn set_localized(&mut self, key: String, value: Option<String>) -> Result<(), GuestError> {
        self.check_key(&key)?;
        let full = format!("{}{}/{key}", self.kv_prefix(), self.env.mgr_id);
        self.kv_set(&full, value.as_deref())
    }
}
