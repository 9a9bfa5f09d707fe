//! Commands to the cluster's daemons (`MgrModule.send_command` and `mon_command`).
//!
//! A command is Ceph's command JSON: an object with `prefix` and the command's arguments, as
//! the `ceph` CLI sends it. Build it with `serde_json::json!` or from any `Serialize` value.
//!
//! Two forms, as in ceph-mgr:
//!
//! - **non-blocking** ([`send`]): returns at once; when the command completes, the host calls
//!   the module's [`notify`](crate::MgrModule::notify) with [`NotifyKind::Command`] and the
//!   command's tag as the id (whatever the module subscribed to), and [`take_reply`] hands the
//!   reply over;
//! - **blocking** ([`send_wait`], [`mon_command`]): waits for the reply, at most for the given
//!   timeout and never past the current call's deadline (`timed-out`).
//!
//! ```no_run
//! use std::time::Duration;
//! use serde_json::json;
//! use wasmgr_guest::command;
//!
//! # fn main() -> wasmgr_guest::Result<()> {
//! // Blocking: the reply, or `timed-out` after 500 ms.
//! let reply = command::mon_command(&json!({"prefix": "osd pool ls", "format": "json"}), "",
//!     Duration::from_millis(500))?;
//! let pools: Vec<String> = reply.json()?;
//!
//! // Non-blocking: the reply comes with notify(Command, "create-foo").
//! command::send("mon", "", &json!({"prefix": "osd pool create", "pool": "foo"}), "",
//!     "create-foo")?;
//! # let _ = pools;
//! # Ok(())
//! # }
//! ```
//!
//! [`NotifyKind::Command`]: crate::NotifyKind::Command

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::wasmgr::mgr::command as host;
use crate::error::{Error, ErrorCode, Result};
use crate::response::HandleCommandResult;

pub use crate::bindings::wasmgr::mgr::command::Reply;

impl Reply {
    /// Whether the command succeeded (`retval` 0).
    pub fn is_ok(&self) -> bool {
        self.retval == 0
    }

    /// The positive errno of a failed command; 0 on success.
    pub fn errno(&self) -> i32 {
        self.retval.saturating_neg()
    }

    /// The output (`outb`) parsed as JSON, for a command sent with `"format": "json"`. A
    /// failed command is an error with its errno's code (`io` for one without a WIT code) and
    /// `outs` as the message; output that does not parse as `T` is `invalid`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        if !self.is_ok() {
            return Err(Error::new(
                code_of_errno(self.errno()),
                format!("the command failed ({}): {}", self.retval, self.outs),
            ));
        }
        serde_json::from_str(&self.outb).map_err(|e| {
            Error::new(
                ErrorCode::Invalid,
                format!("the command's output does not have the expected shape: {e}"),
            )
        })
    }
}

/// A daemon's reply passed on as a command's result: `retval`, `outb` as stdout, `outs` as
/// stderr.
impl From<Reply> for HandleCommandResult {
    fn from(reply: Reply) -> Self {
        HandleCommandResult {
            retval: reply.retval,
            stdout: reply.outb,
            stderr: reply.outs,
        }
    }
}

/// The WIT error code of a positive Linux errno; `io` for numbers without one.
fn code_of_errno(errno: i32) -> ErrorCode {
    use crate::errno::*;
    match errno {
        EPERM => ErrorCode::NotPermitted,
        ENOENT => ErrorCode::NotFound,
        E2BIG => ErrorCode::TooBig,
        EAGAIN => ErrorCode::Again,
        EACCES => ErrorCode::AccessDenied,
        EEXIST => ErrorCode::Exists,
        EINVAL => ErrorCode::Invalid,
        ENOSPC => ErrorCode::NoSpace,
        ERANGE => ErrorCode::OutOfRange,
        ENOTSUP => ErrorCode::NotSupported,
        ETIMEDOUT => ErrorCode::TimedOut,
        _ => ErrorCode::Io,
    }
}

/// The command as JSON text: it must serialise to an object (Ceph's command map).
fn command_json(command: &impl Serialize) -> Result<String> {
    match serde_json::to_value(command) {
        Ok(value @ serde_json::Value::Object(_)) => Ok(value.to_string()),
        Ok(_) => Err(Error::new(
            ErrorCode::Invalid,
            "a command must be a JSON object with a 'prefix'",
        )),
        Err(e) => Err(Error::new(
            ErrorCode::Invalid,
            format!("the command does not serialise as JSON: {e}"),
        )),
    }
}

/// A timeout in whole milliseconds, as the WIT takes it; beyond `u32::MAX` ms it saturates.
fn timeout_ms(timeout: Duration) -> u32 {
    u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX)
}

/// `send_command(result, svc_type, svc_id, command, tag, inbuf)`: sends `command` to a daemon
/// and returns at once.
///
/// `svc_type` is `mon`, `osd` or `mgr`; `svc_id` the daemon (empty: any mon, the active mgr).
/// When the command completes, the host calls the module's `notify(Command, tag)`; then
/// [`take_reply`]`(tag)` gives the reply. A tag is 1 to 256 bytes and not already pending
/// (`invalid`, `exists`); at most 64 commands may be pending (`again`); a command without
/// `prefix` is `invalid`.
pub fn send(
    svc_type: &str,
    svc_id: &str,
    command: &impl Serialize,
    inbuf: &str,
    tag: &str,
) -> Result<()> {
    let command = command_json(command)?;
    Ok(host::send(svc_type, svc_id, &command, inbuf, tag)?)
}

/// The reply to the command sent with `tag`, once it has completed; handed over once, so a
/// second call (or a call while the command is pending) is `None`.
pub fn take_reply(tag: &str) -> Option<Reply> {
    host::take_reply(tag)
}

/// Sends `command` and waits for its reply, for at most `timeout` and never past the current
/// call's deadline: past either, `timed-out` (the command may still complete).
pub fn send_wait(
    svc_type: &str,
    svc_id: &str,
    command: &impl Serialize,
    inbuf: &str,
    timeout: Duration,
) -> Result<Reply> {
    let command = command_json(command)?;
    Ok(host::send_wait(
        svc_type,
        svc_id,
        &command,
        inbuf,
        timeout_ms(timeout),
    )?)
}

/// `mon_command(cmd, inbuf)`: [`send_wait`] to any mon.
pub fn mon_command(command: &impl Serialize, inbuf: &str, timeout: Duration) -> Result<Reply> {
    send_wait("mon", "", command, inbuf, timeout)
}

/// [`send`] to any mon: the non-blocking `mon_command`.
pub fn send_mon(command: &impl Serialize, inbuf: &str, tag: &str) -> Result<()> {
    send("mon", "", command, inbuf, tag)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn reply(retval: i32, outb: &str, outs: &str) -> Reply {
        Reply {
            retval,
            outb: outb.into(),
            outs: outs.into(),
        }
    }

    #[test]
    fn a_command_must_be_an_object() {
        assert_eq!(
            command_json(&json!({"prefix": "osd pool ls"})).unwrap(),
            r#"{"prefix":"osd pool ls"}"#
        );
        let err = command_json(&"osd pool ls").unwrap_err();
        assert_eq!(err.code, ErrorCode::Invalid);
        #[derive(Serialize)]
        struct PoolCreate<'a> {
            prefix: &'a str,
            pool: &'a str,
            pg_num: u32,
        }
        let create = PoolCreate {
            prefix: "osd pool create",
            pool: "foo",
            pg_num: 16,
        };
        assert_eq!(
            command_json(&create).unwrap(),
            r#"{"prefix":"osd pool create","pool":"foo","pg_num":16}"#
        );
    }

    #[test]
    fn timeouts_are_whole_milliseconds_and_saturate() {
        assert_eq!(timeout_ms(Duration::from_millis(1500)), 1500);
        assert_eq!(timeout_ms(Duration::from_micros(1999)), 1);
        assert_eq!(timeout_ms(Duration::from_secs(u64::MAX)), u32::MAX);
    }

    #[test]
    fn replies_parse_or_carry_their_errno() {
        let ok = reply(0, r#"["rbd","foo"]"#, "");
        assert!(ok.is_ok());
        assert_eq!(ok.json::<Vec<String>>().unwrap(), ["rbd", "foo"]);
        assert_eq!(ok.json::<u32>().unwrap_err().code, ErrorCode::Invalid);

        let failed = reply(-2, "", "pool 'x' does not exist");
        assert_eq!(failed.errno(), 2);
        let err = failed.json::<serde_json::Value>().unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
        assert!(err.message.contains("pool 'x' does not exist"));
        assert_eq!(
            reply(-16, "", "busy").json::<()>().unwrap_err().code,
            ErrorCode::Io
        );

        let result = HandleCommandResult::from(reply(-22, "out", "bad"));
        assert_eq!(
            (
                result.retval,
                result.stdout.as_str(),
                result.stderr.as_str()
            ),
            (-22, "out", "bad")
        );
    }
}
