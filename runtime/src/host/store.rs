//! `wasmgr:mgr/store`: the module's private KV store, kept under `mgr/<module>/` in the
//! config-key space and bounded by the module's KV quotas.

use super::{ModuleCtx, error};
use crate::bindings::wasmgr::mgr::store::Host;
use crate::bindings::{ErrorCode, GuestError};
use crate::limits;
use crate::persist::{PersistError, Space};

fn io(e: PersistError) -> GuestError {
    error(ErrorCode::Io, e.to_string())
}

impl ModuleCtx {
    fn kv_prefix(&self) -> String {
        format!("mgr/{}/", self.env.name)
    }

    fn check_key(&self, key: &str) -> Result<(), GuestError> {
        if key.is_empty() || key.len() > 1024 {
            return Err(error(
                ErrorCode::Invalid,
                "a store key must be 1 to 1024 bytes long",
            ));
        }
        Ok(())
    }

    fn kv_set(&mut self, full_key: &str, value: Option<&str>) -> Result<(), GuestError> {
        let persist = &self.env.persist;
        if let Some(v) = value {
            if v.len() > limits::KV_VALUE_BYTES {
                return Err(error(
                    ErrorCode::TooBig,
                    format!(
                        "value of {} bytes for '{full_key}' is over the limit of {} bytes per value: split it over several keys",
                        v.len(),
                        limits::KV_VALUE_BYTES
                    ),
                ));
            }
            let old = persist.get(Space::Kv, full_key).map_err(io)?;
            let (keys, bytes) = persist.usage(Space::Kv, &self.kv_prefix()).map_err(io)?;
            let new_keys = keys + u64::from(old.is_none());
            let old_bytes = old.map_or(0, |o| (full_key.len() + o.len()) as u64);
            let new_bytes = bytes - old_bytes.min(bytes) + (full_key.len() + v.len()) as u64;
            let l = &self.env.limits;
            if new_keys > l.kv_keys || new_bytes > l.kv_total_bytes {
                return Err(error(
                    ErrorCode::NoSpace,
                    format!(
                        "module '{}' KV quota is full ({keys} of {} keys, {bytes} of {} bytes): delete keys first",
                        self.env.name, l.kv_keys, l.kv_total_bytes
                    ),
                ));
            }
        }
        persist.set(Space::Kv, full_key, value).map_err(io)
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
