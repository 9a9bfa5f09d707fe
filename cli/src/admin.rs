//! The admin endpoint file: how a client finds the daemon of a data directory and proves it may
//! talk to it. `admin.json` (mode 0600) holds the read-write token; `readonly.json` (mode 0640)
//! holds a token limited to `r` commands. A named admin client (`wasmgr auth create`) takes
//! the address from these files and brings its own token (`--token-file`, `$WASMGR_TOKEN`).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// What a client needs to reach the daemon.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Endpoint {
    /// `host:port` of the admin API.
    pub addr: String,
    /// Bearer token.
    pub token: String,
    /// The daemon's process id.
    pub pid: u32,
}

pub const ADMIN_FILE: &str = "admin.json";
pub const READONLY_FILE: &str = "readonly.json";

/// Write `ep` to `dir/name` with `mode` (whatever the umask), atomically.
pub fn write(dir: &Path, name: &str, ep: &Endpoint, mode: u32) -> std::io::Result<()> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let _ = fs::remove_file(&tmp);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)?;
    // The umask may have taken bits off `mode` (0640 under umask 077 would leave the group
    // unable to read readonly.json).
    f.set_permissions(fs::Permissions::from_mode(mode))?;
    f.write_all(&serde_json::to_vec_pretty(ep).map_err(std::io::Error::other)?)?;
    f.sync_all()?;
    fs::rename(&tmp, &path)
}

/// Read the endpoint of the daemon of `dir`: the read-write one if this user may read it, else
/// the read-only one.
pub fn read(dir: &Path) -> Result<Endpoint, String> {
    let mut last = None;
    for name in [ADMIN_FILE, READONLY_FILE] {
        let path = dir.join(name);
        match fs::read(&path) {
            Ok(bytes) => {
                return serde_json::from_slice(&bytes).map_err(|e| {
                    format!(
                        "{} is corrupt ({e}); restart the daemon to rewrite it",
                        path.display()
                    )
                });
            }
            Err(e) => last = Some((path, e)),
        }
    }
    match last {
        Some((_, e)) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "no daemon is running for data directory {} (no {ADMIN_FILE} there): start one with 'wasmgr serve --data {}', or pass --data / set WASMGR_DATA",
            dir.display(),
            dir.display()
        )),
        Some((path, e)) => Err(format!("cannot read {}: {e}", path.display())),
        None => Err("no endpoint file".into()),
    }
}

/// A new random token, made as named clients' tokens are.
pub fn token() -> std::io::Result<String> {
    wasmgr_runtime::clients::new_token()
}
