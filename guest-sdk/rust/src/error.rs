//! Errors of host calls.

use std::fmt;

use crate::bindings::wasmgr::mgr::types;
use crate::errno;

pub use crate::bindings::wasmgr::mgr::types::ErrorCode;

/// A failed host call: what went wrong and, in `message`, what to do about it.
///
/// [`Error::errno`] gives the Linux errno the code stands for, so a handler can pass a host
/// error on to its client with the number ceph-mgr would report (`ErrorResponse::wrap`, or
/// `?` in a handler returning `Result<_, ErrorResponse>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// What kind of failure this is.
    pub code: ErrorCode,
    /// The host's explanation, meant for the operator.
    pub message: String,
}

/// The result of a host call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
        }
    }

    /// The positive Linux errno of this error, e.g. 2 for `not-found`.
    pub fn errno(&self) -> i32 {
        code_errno(self.code)
    }
}

/// The positive Linux errno a WIT error code stands for.
pub fn code_errno(code: ErrorCode) -> i32 {
    match code {
        ErrorCode::NotPermitted => errno::EPERM,
        ErrorCode::NotFound => errno::ENOENT,
        ErrorCode::Io => errno::EIO,
        ErrorCode::TooBig => errno::E2BIG,
        ErrorCode::Again => errno::EAGAIN,
        ErrorCode::AccessDenied => errno::EACCES,
        ErrorCode::Exists => errno::EEXIST,
        ErrorCode::Invalid => errno::EINVAL,
        ErrorCode::NoSpace => errno::ENOSPC,
        ErrorCode::OutOfRange => errno::ERANGE,
        ErrorCode::NotSupported => errno::ENOTSUP,
        ErrorCode::TimedOut => errno::ETIMEDOUT,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<types::Error> for Error {
    fn from(e: types::Error) -> Self {
        Error {
            code: e.code,
            message: e.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_maps_to_its_documented_errno() {
        let cases = [
            (ErrorCode::NotPermitted, 1),
            (ErrorCode::NotFound, 2),
            (ErrorCode::Io, 5),
            (ErrorCode::TooBig, 7),
            (ErrorCode::Again, 11),
            (ErrorCode::AccessDenied, 13),
            (ErrorCode::Exists, 17),
            (ErrorCode::Invalid, 22),
            (ErrorCode::NoSpace, 28),
            (ErrorCode::OutOfRange, 34),
            (ErrorCode::NotSupported, 95),
            (ErrorCode::TimedOut, 110),
        ];
        for (code, number) in cases {
            assert_eq!(Error::new(code, "x").errno(), number, "{code:?}");
        }
    }
}
