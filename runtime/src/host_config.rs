//! The host configuration file: how this host provides for its modules (`wasmgr serve
//! --config FILE`). The module manifest says what one module needs; this file says what the
//! host allows every module.
//!
//! ```toml
//! module_slots = 256       # instance slots in the engine's pool
//! workers = 4              # core worker threads for queued calls (default: one per CPU)
//! debug_mgr = "4/5"        # the daemon's log level, for modules whose log_level is empty
//! [limits]                 # lower the ceilings of every module (never raise them)
//! memory_mib = 32
//! deadline_ms = 500
//! [trust]                  # who may sign modules (see crate::signing)
//! require_signatures = true
//! keys = ["keys/ops.pem.pub"] # public key files, relative to this file's directory
//! ```
//!
//! Unknown keys are errors, so a typo never silently leaves a ceiling where it was.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::limits::LimitOverrides;
use crate::manager::HostConfig;
use crate::signing::TrustPolicy;

/// A parsed host configuration file.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HostConfigFile {
    /// Instance slots in the engine's pool (at most this many modules load).
    #[serde(default)]
    pub module_slots: Option<u32>,
    /// Core worker threads that run queued module calls.
    #[serde(default)]
    pub workers: Option<usize>,
    /// The daemon's `debug_mgr` level in Ceph notation.
    #[serde(default)]
    pub debug_mgr: Option<String>,
    /// Lowered ceilings for every module.
    #[serde(default)]
    pub limits: LimitOverrides,
    /// The trust policy for signed modules.
    #[serde(default)]
    pub trust: TrustSection,
}

/// The `[trust]` section: which keys may sign modules, and whether unsigned modules load.
/// Without it every unsigned module loads (see [`crate::signing`] for every rule).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrustSection {
    /// Refuse modules that have no signature file.
    #[serde(default)]
    pub require_signatures: bool,
    /// Public key files (SubjectPublicKeyInfo PEM) of the keys trusted to sign modules.
    /// [`HostConfigFile::load`] makes relative paths relative to the config file's directory.
    #[serde(default)]
    pub keys: Vec<PathBuf>,
}

impl HostConfigFile {
    /// Read and parse `path`. Relative key paths of `[trust]` become relative to the
    /// directory of `path`.
    pub fn load(path: &Path) -> Result<HostConfigFile, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut file: HostConfigFile = toml::from_str(&text).map_err(|e| {
            format!(
                "{}: {}; see the README's host configuration section for the keys",
                path.display(),
                crate::manifest::toml_error(&text, &e)
            )
        })?;
        let dir = path.parent().unwrap_or(Path::new(""));
        for key in &mut file.trust.keys {
            *key = dir.join(&*key);
        }
        Ok(file)
    }

    /// Apply this file to `config`: lower its limits, set its slots and log level.
    pub fn apply(&self, config: &mut HostConfig) -> Result<(), String> {
        config.limits = config
            .limits
            .lowered_by(&self.limits)
            .map_err(|e| format!("host config: {e}"))?;
        if let Some(n) = self.module_slots {
            if n == 0 {
                return Err("host config: module_slots must be at least 1".into());
            }
            config.module_slots = n;
        }
        if let Some(n) = self.workers {
            if !(1..=crate::pool::MAX_WORKERS).contains(&n) {
                return Err(format!(
                    "host config: workers = {n} is out of range: use 1 to {}",
                    crate::pool::MAX_WORKERS
                ));
            }
            config.workers = n;
        }
        if let Some(d) = &self.debug_mgr {
            config.debug_mgr = d.clone();
        }
        config.trust = TrustPolicy::from_key_files(&self.trust.keys, self.trust.require_signatures)
            .map_err(|e| format!("host config: [trust] keys: {e}"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_raised_limits_are_refused() {
        let err = toml::from_str::<HostConfigFile>("module_slot = 3\n").unwrap_err();
        assert!(err.to_string().contains("module_slot"), "{err}");
        let file: HostConfigFile = toml::from_str("[limits]\nmemory_mib = 9999\n").unwrap();
        let mut config = HostConfig::new(
            "d".into(),
            "m".into(),
            std::sync::Arc::new(crate::cluster::SnapshotSource::embedded()),
        );
        let err = file.apply(&mut config).unwrap_err();
        assert!(err.contains("memory_mib = 9999"), "{err}");
        let file: HostConfigFile = toml::from_str("workers = 0\n").unwrap();
        let err = file.apply(&mut config).unwrap_err();
        assert!(err.contains("workers = 0 is out of range"), "{err}");
        let file: HostConfigFile =
            toml::from_str("module_slots = 8\nworkers = 3\n[limits]\nmemory_mib = 16\n").unwrap();
        file.apply(&mut config).unwrap();
        assert_eq!(
            (
                config.module_slots,
                config.workers,
                config.limits.memory_bytes
            ),
            (8, 3, 16 << 20)
        );
    }

    #[test]
    fn trust_keys_are_read_relative_to_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let key = crate::signing::PrivateKey::from_seed([1; 32]);
        std::fs::create_dir(dir.path().join("keys")).unwrap();
        std::fs::write(dir.path().join("keys/ops.pub"), key.public_pem().unwrap()).unwrap();
        let path = dir.path().join("host.toml");
        std::fs::write(
            &path,
            "[trust]\nrequire_signatures = true\nkeys = [\"keys/ops.pub\"]\n",
        )
        .unwrap();
        let mut config = HostConfig::new(
            "d".into(),
            "m".into(),
            std::sync::Arc::new(crate::cluster::SnapshotSource::embedded()),
        );
        assert_eq!(config.trust, TrustPolicy::default());
        HostConfigFile::load(&path)
            .unwrap()
            .apply(&mut config)
            .unwrap();
        assert!(config.trust.require_signatures);
        assert_eq!(config.trust.keys.len(), 1);
        assert_eq!(config.trust.keys[0].name, "ops");
        assert_eq!(config.trust.keys[0].fingerprint(), key.fingerprint());

        // A missing key file names the file; an unknown key in [trust] is an error.
        std::fs::write(&path, "[trust]\nkeys = [\"keys/nope.pub\"]\n").unwrap();
        let err = HostConfigFile::load(&path)
            .unwrap()
            .apply(&mut config)
            .unwrap_err();
        assert!(
            err.starts_with("host config: [trust] keys: cannot read the key file")
                && err.contains("nope.pub"),
            "{err}"
        );
        std::fs::write(&path, "[trust]\nrequire_signature = true\n").unwrap();
        let err = HostConfigFile::load(&path).unwrap_err();
        assert!(err.contains("require_signature"), "{err}");
    }
}
