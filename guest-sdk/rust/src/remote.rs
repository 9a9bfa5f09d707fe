//! Calls between modules (`MgrModule.remote(module, method, *args)`).
//!
//! The caller passes the arguments as a list and gets the result back as JSON, never as shared
//! memory. The target serves the methods named by its
//! [`MgrModule::remote_methods`](crate::MgrModule::remote_methods) in
//! [`MgrModule::handle_remote`](crate::MgrModule::handle_remote), on its own instance, one
//! call at a time like any other call into it; its time counts against the caller's deadline.
//!
//! ```no_run
//! use wasmgr_guest::remote::{self, RemoteError};
//!
//! match remote::call::<serde_json::Value>("ponger", "ping", &("hello",)) {
//!     Ok(answer) => wasmgr_guest::log::info!("ponger answered {answer}"),
//!     Err(RemoteError::NotEnabled(why)) => wasmgr_guest::log::info!("no ponger: {why}"),
//!     Err(RemoteError::NoSuchMethod(why)) => wasmgr_guest::log::warning!("{why}"),
//!     Err(RemoteError::Failed(why)) => wasmgr_guest::log::error!("ping failed: {why}"),
//! }
//! ```

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::bindings::wasmgr::mgr::remote as host;
use crate::errno::{EIO, ENOENT, ENOSYS};
use crate::response::ErrorResponse;

/// Why a remote call failed: the three cases ceph-mgr modules tell apart.
///
/// Each carries the host's (or the target's) message. `?` in a command handler passes it on
/// as an [`ErrorResponse`] with the errno of [`RemoteError::errno`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoteError {
    /// The module does not exist or is not enabled (Python's `ImportError`); `ENOENT`.
    NotEnabled(String),
    /// The module does not serve that method (Python's `NameError`); `ENOSYS`.
    NoSuchMethod(String),
    /// The method failed, with its message (Python's `RuntimeError`); `EIO`. Also a call chain
    /// that would call back into a module already in it (A calls B calls A: it fails at once,
    /// never hangs), a target busy past the caller's deadline, a trap in the target, and, on
    /// the caller's side, arguments that are not a JSON list or a result that does not parse
    /// as the type asked for.
    Failed(String),
}

impl RemoteError {
    /// The case's name: `not-enabled`, `no-such-method` or `failed`.
    pub fn kind(&self) -> &'static str {
        match self {
            RemoteError::NotEnabled(_) => "not-enabled",
            RemoteError::NoSuchMethod(_) => "no-such-method",
            RemoteError::Failed(_) => "failed",
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        match self {
            RemoteError::NotEnabled(m) | RemoteError::NoSuchMethod(m) | RemoteError::Failed(m) => m,
        }
    }

    /// The positive Linux errno a command reports for this error: `ENOENT` for
    /// `NotEnabled`, `ENOSYS` for `NoSuchMethod`, `EIO` for `Failed`.
    pub fn errno(&self) -> i32 {
        match self {
            RemoteError::NotEnabled(_) => ENOENT,
            RemoteError::NoSuchMethod(_) => ENOSYS,
            RemoteError::Failed(_) => EIO,
        }
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for RemoteError {}

impl From<host::RemoteError> for RemoteError {
    fn from(e: host::RemoteError) -> Self {
        match e {
            host::RemoteError::NotEnabled(m) => RemoteError::NotEnabled(m),
            host::RemoteError::NoSuchMethod(m) => RemoteError::NoSuchMethod(m),
            host::RemoteError::Failed(m) => RemoteError::Failed(m),
        }
    }
}

impl From<RemoteError> for ErrorResponse {
    fn from(e: RemoteError) -> Self {
        let errno = e.errno();
        let message = match e {
            RemoteError::NotEnabled(m) | RemoteError::NoSuchMethod(m) | RemoteError::Failed(m) => m,
        };
        ErrorResponse::new(-errno, message)
    }
}

/// The arguments as the JSON list the WIT carries: a tuple, array, `Vec` or `json!([..])`
/// serialises as one; `()` (JSON null) is no arguments. Anything else is refused, so that a
/// lone value is not taken for a list by accident.
fn args_json(module: &str, method: &str, args: &impl Serialize) -> Result<String, RemoteError> {
    match serde_json::to_value(args) {
        Ok(Value::Null) => Ok("[]".to_owned()),
        Ok(list @ Value::Array(_)) => Ok(list.to_string()),
        Ok(_) => Err(RemoteError::Failed(format!(
            "the arguments of {module}.{method} must be a list: pass a tuple such as `&(value,)`, \
             an array or a Vec"
        ))),
        Err(e) => Err(RemoteError::Failed(format!(
            "the arguments of {module}.{method} do not serialise as JSON: {e}"
        ))),
    }
}

fn parse_result<T: DeserializeOwned>(
    module: &str,
    method: &str,
    json: &str,
) -> Result<T, RemoteError> {
    serde_json::from_str(json).map_err(|e| {
        RemoteError::Failed(format!(
            "the result of {module}.{method} does not have the expected shape: {e}"
        ))
    })
}

/// `remote(module, method, *args)`: calls `method` of `module` with `args` (a tuple, array or
/// `Vec` of the arguments; `&()` for none) and parses its result as `T`
/// (`serde_json::Value` for any).
pub fn call<T: DeserializeOwned>(
    module: &str,
    method: &str,
    args: &impl Serialize,
) -> Result<T, RemoteError> {
    let args = args_json(module, method, args)?;
    let result = call_raw(module, method, &args)?;
    parse_result(module, method, &result)
}

/// [`call`] with the arguments and result as JSON text, as the WIT carries them.
pub fn call_raw(module: &str, method: &str, args_json: &str) -> Result<String, RemoteError> {
    Ok(host::call(module, method, args_json)?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn arguments_are_a_list() {
        assert_eq!(args_json("m", "f", &()).unwrap(), "[]");
        assert_eq!(args_json("m", "f", &("a", 1)).unwrap(), r#"["a",1]"#);
        assert_eq!(args_json("m", "f", &("a",)).unwrap(), r#"["a"]"#);
        assert_eq!(args_json("m", "f", &vec![1, 2]).unwrap(), "[1,2]");
        assert_eq!(
            args_json("m", "f", &json!([{"x": 1}])).unwrap(),
            r#"[{"x":1}]"#
        );
        let err = args_json("m", "f", &json!({"x": 1})).unwrap_err();
        assert_eq!(err.kind(), "failed");
        assert!(err.message().contains("m.f must be a list"), "{err}");
    }

    #[test]
    fn results_parse_as_the_type_asked_for() {
        assert_eq!(
            parse_result::<Value>("m", "f", r#"{"pong":[1]}"#).unwrap(),
            json!({"pong": [1]})
        );
        let err = parse_result::<u32>("m", "f", r#""x""#).unwrap_err();
        assert!(matches!(err, RemoteError::Failed(_)));
    }

    #[test]
    fn each_case_keeps_its_kind_message_and_errno() {
        let cases = [
            (
                host::RemoteError::NotEnabled("no module 'x'".into()),
                "not-enabled",
                2,
            ),
            (
                host::RemoteError::NoSuchMethod("no method".into()),
                "no-such-method",
                38,
            ),
            (host::RemoteError::Failed("boom".into()), "failed", 5),
        ];
        for (wit, kind, errno) in cases {
            let e = RemoteError::from(wit);
            assert_eq!((e.kind(), e.errno()), (kind, errno));
            let message = e.message().to_owned();
            let response = ErrorResponse::from(e);
            assert_eq!((response.retval, response.message), (-errno, message));
        }
    }
}
