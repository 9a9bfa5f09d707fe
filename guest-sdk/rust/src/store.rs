//! The module's private key-value store (`MgrModule.get_store` and friends).
//!
//! Operators see it as `config-key` entries under `mgr/<module>/`. A write returns once it is
//! durable; quota overruns are `no-space` (`-ENOSPC`).

use crate::bindings::wasmgr::mgr::store as host;
use crate::error::Result;

/// The value of `key`, or `None`.
pub fn get(key: &str) -> Result<Option<String>> {
    Ok(host::get(key)?)
}

/// Stores `value` under `key`; `None` deletes the key.
pub fn set(key: &str, value: Option<&str>) -> Result<()> {
    Ok(host::set(key, value)?)
}

/// Every key starting with `prefix`, with its value, in key order.
pub fn get_prefix(prefix: &str) -> Result<Vec<(String, String)>> {
    Ok(host::get_prefix(prefix)?)
}

/// Like [`get`] for this manager's id (`<mgr-id>/<key>`), falling back to the plain key.
pub fn get_localized(key: &str) -> Result<Option<String>> {
    Ok(host::get_localized(key)?)
}

/// Like [`set`] for this manager's id.
pub fn set_localized(key: &str, value: Option<&str>) -> Result<()> {
    Ok(host::set_localized(key, value)?)
}
