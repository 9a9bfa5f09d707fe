//! The module's typed options (`MgrModule.get_module_option` and friends).
//!
//! Only declared options (and the host's `log_level`) exist; the host checks every value
//! against the declared type, range and allowed values.

use crate::OptionValue;
use crate::bindings::wasmgr::mgr::config as host;
use crate::error::{Error, ErrorCode, Result};
use crate::options::FromOptionValue;

/// The option's value as `T`: the set value, else the declared default.
///
/// An option without value and default is `not-found` unless `T` is an `Option`; a value of
/// another type than `T` is `invalid`; an undeclared option is the host's `not-found`.
///
/// ```no_run
/// # use wasmgr_guest::config;
/// # fn main() -> wasmgr_guest::Result<()> {
/// let place: String = config::get_module_option("place")?;
/// let limit: Option<i64> = config::get_module_option("limit")?;
/// # let _ = (place, limit);
/// # Ok(())
/// # }
/// ```
pub fn get_module_option<T: FromOptionValue>(key: &str) -> Result<T> {
    typed(key, host::get_module_option(key)?)
}

/// Sets the option; the host refuses a value of the wrong type (`invalid`) or out of range
/// (`out-of-range`).
pub fn set_module_option(key: &str, value: impl Into<OptionValue>) -> Result<()> {
    Ok(host::set_module_option(key, Some(&value.into()))?)
}

/// Reverts the option to its default.
pub fn reset_module_option(key: &str) -> Result<()> {
    Ok(host::set_module_option(key, None)?)
}

/// Like [`get_module_option`] for this manager's id, falling back to the module-wide value,
/// then the default.
pub fn get_localized_module_option<T: FromOptionValue>(key: &str) -> Result<T> {
    typed(key, host::get_localized_module_option(key)?)
}

/// Like [`set_module_option`] for this manager's id only.
pub fn set_localized_module_option(key: &str, value: impl Into<OptionValue>) -> Result<()> {
    Ok(host::set_localized_module_option(key, Some(&value.into()))?)
}

/// Like [`reset_module_option`] for this manager's id only.
pub fn reset_localized_module_option(key: &str) -> Result<()> {
    Ok(host::set_localized_module_option(key, None)?)
}

fn typed<T: FromOptionValue>(key: &str, value: Option<OptionValue>) -> Result<T> {
    match value {
        None => T::unset().ok_or_else(|| {
            Error::new(
                ErrorCode::NotFound,
                format!(
                    "option '{key}' has no value and no default: set it, or read it as an Option"
                ),
            )
        }),
        Some(value) => {
            let kind = value.kind();
            T::from_value(value).ok_or_else(|| {
                Error::new(
                    ErrorCode::Invalid,
                    format!(
                        "option '{key}' holds {kind}, which cannot be read as {}",
                        T::EXPECTED
                    ),
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_reads_explain_mismatches() {
        let err = typed::<bool>("emphatic", Some(OptionValue::Str("yes".into()))).unwrap_err();
        assert_eq!(err.code, ErrorCode::Invalid);
        assert_eq!(
            err.message,
            "option 'emphatic' holds a string, which cannot be read as a bool"
        );
        let err = typed::<i64>("limit", None).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
        assert_eq!(typed::<Option<i64>>("limit", None), Ok(None));
        assert_eq!(typed::<i64>("count", Some(OptionValue::Int(3))), Ok(3));
    }
}
