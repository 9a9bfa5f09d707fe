//! Opening files that anyone who can write a directory the host reads may have put there.
//!
//! A FIFO named like a component, manifest, signature or key blocks a plain
//! [`std::fs::File::open`] until something writes to it, so the daemon would hang at start-up
//! on one. [`open_regular`] opens without waiting and refuses anything but a regular file.
//!
//! ```
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("hello.toml");
//! std::fs::write(&path, "")?;
//! assert!(wasmgr_runtime::fsutil::open_regular(&path).is_ok());
//! let err = wasmgr_runtime::fsutil::open_regular(dir.path()).unwrap_err();
//! assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fs::{File, FileType, OpenOptions};
use std::io;
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
use std::path::Path;

/// Open `path` for reading if it is a regular file; an error of kind
/// [`io::ErrorKind::InvalidInput`] naming what it is otherwise (a FIFO, a directory, a device).
///
/// `O_NONBLOCK` makes opening a FIFO return at once instead of waiting for a writer; it does
/// not change reads of a regular file. `O_NOCTTY` keeps a terminal device from becoming the
/// daemon's controlling terminal. The type is checked on the opened file, so the path cannot
/// be swapped for something else between the check and the open.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let kind = file.metadata()?.file_type();
    if kind.is_file() {
        return Ok(file);
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("it is {}, not a regular file", describe(kind)),
    ))
}

/// What a file that is not a regular file is, for a message.
fn describe(kind: FileType) -> &'static str {
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "something else"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    #[test]
    fn a_regular_file_opens_and_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hello.wasm");
        std::fs::write(&path, b"\0asm").unwrap();
        let mut bytes = Vec::new();
        open_regular(&path)
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();
        assert_eq!(bytes, b"\0asm");
    }

    #[test]
    #[allow(unsafe_code, reason = "std has no safe way to make a FIFO")]
    fn a_fifo_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stranger.wasm");
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c_path` is a valid NUL-terminated string that outlives the call.
        let made = unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) };
        assert_eq!(made, 0, "{}", io::Error::last_os_error());
        let err = open_regular(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(err.to_string(), "it is a FIFO, not a regular file");
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = open_regular(dir.path()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(err.to_string(), "it is a directory, not a regular file");
    }

    #[test]
    fn a_missing_file_keeps_its_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let err = open_regular(&dir.path().join("absent.toml")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
