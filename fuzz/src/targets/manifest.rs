//! The two configuration files: a module's manifest (`runtime/src/manifest.rs`) and the host
//! config file (`runtime/src/host_config.rs`), each parsed, and the limits each asks for
//! lowered from the host's ceilings as the daemon does. (`HostConfigFile::apply` is left out:
//! it reads the key files the config names, and a fuzzer must not read whatever paths it
//! makes up.)

use wasmgr_runtime::host_config::HostConfigFile;
use wasmgr_runtime::limits::Limits;
use wasmgr_runtime::manifest::Manifest;

use crate::Features;

/// The same text as a manifest and as a host config file. Both are read from files with
/// `read_to_string`, so text that is not UTF-8 never reaches the parsers.
pub fn manifest(data: &[u8], seen: &mut Features) {
    let Ok(text) = std::str::from_utf8(data) else {
        return seen.add("not UTF-8");
    };
    match Manifest::parse(text) {
        Ok(manifest) => {
            // Its debug form's shape says which fields and requests it has.
            seen.message("manifest", &format!("{manifest:?}"));
            match Limits::default().lowered_by(&manifest.limits) {
                Ok(_) => seen.add("limits lowered"),
                Err(e) => seen.message("limits", &e.to_string()),
            }
        }
        Err(e) => seen.message("manifest error", &e),
    }
    match toml::from_str::<HostConfigFile>(text) {
        Ok(file) => {
            seen.message("host config", &format!("{file:?}"));
            match Limits::default().lowered_by(&file.limits) {
                Ok(_) => seen.add("host limits lowered"),
                Err(e) => seen.message("host limits", &e.to_string()),
            }
        }
        Err(e) => seen.message("host config error", e.message()),
    }
}
