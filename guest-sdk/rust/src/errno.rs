//! Linux errno numbers, as ceph-mgr modules and the `ceph` CLI expect them.
//!
//! These are constants of the SDK, not the guest libc's: WASI numbers errors differently
//! (inside a wasm guest `libc::EINVAL` is 28, not 22). A command fails with the negated
//! number, e.g. `ErrorResponse::new(-ENOENT, "...")`.

/// Operation not permitted.
pub const EPERM: i32 = 1;
/// No such file, key, object or entity.
pub const ENOENT: i32 = 2;
/// I/O error.
pub const EIO: i32 = 5;
/// Argument list (or value) too long.
pub const E2BIG: i32 = 7;
/// Try again.
pub const EAGAIN: i32 = 11;
/// Out of memory.
pub const ENOMEM: i32 = 12;
/// Permission denied.
pub const EACCES: i32 = 13;
/// Device or resource busy.
pub const EBUSY: i32 = 16;
/// Already exists.
pub const EEXIST: i32 = 17;
/// Not a directory.
pub const ENOTDIR: i32 = 20;
/// Invalid argument.
pub const EINVAL: i32 = 22;
/// No space left (a quota is full).
pub const ENOSPC: i32 = 28;
/// Read-only file system.
pub const EROFS: i32 = 30;
/// Result out of range.
pub const ERANGE: i32 = 34;
/// Resource deadlock would occur.
pub const EDEADLK: i32 = 35;
/// Function not implemented.
pub const ENOSYS: i32 = 38;
/// Not empty.
pub const ENOTEMPTY: i32 = 39;
/// No data available.
pub const ENODATA: i32 = 61;
/// Operation not supported.
pub const EOPNOTSUPP: i32 = 95;
/// Operation not supported (the same number as `EOPNOTSUPP` on Linux).
pub const ENOTSUP: i32 = 95;
/// Connection timed out.
pub const ETIMEDOUT: i32 = 110;
/// Operation already in progress.
pub const EALREADY: i32 = 114;
/// Operation canceled.
pub const ECANCELED: i32 = 125;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_linux_ones_not_wasi_ones() {
        assert_eq!(
            (EINVAL, ENOENT, ENOSPC, ENOTSUP, ETIMEDOUT),
            (22, 2, 28, 95, 110)
        );
    }
}
