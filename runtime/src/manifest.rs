//! The module manifest: what a module asks of the host, in `<name>.toml` beside `<name>.wasm`.
//!
//! ```toml
//! description = "Greets the cluster"
//! [limits]            # each may only lower the host's ceiling
//! memory_mib = 32
//! deadline_ms = 500
//! ```
//!
//! A module without a manifest gets the host's limits. Unknown keys are errors, so a typo
//! never silently leaves a limit at its ceiling.

use std::path::Path;

use serde::Deserialize;

use crate::limits::LimitOverrides;

/// A parsed manifest.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// A line for `module info`.
    #[serde(default)]
    pub description: Option<String>,
    /// Limits this module asks to have lowered.
    #[serde(default)]
    pub limits: LimitOverrides,
}

/// A manifest that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Unreadable file.
    #[error("{path}: {source}")]
    Read {
        /// The manifest file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not valid TOML, unknown key, wrong type.
    #[error("{path}: {message}; see the module author guide for the manifest keys")]
    Parse {
        /// The manifest file.
        path: String,
        /// What the parser said, with the line.
        message: String,
    },
}

impl Manifest {
    /// Read the manifest at `path`; a missing file is an empty manifest.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Manifest::default()),
            Err(source) => {
                return Err(ManifestError::Read {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        Manifest::parse(&text).map_err(|message| ManifestError::Parse {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parse manifest text.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        toml::from_str(text).map_err(|e| toml_error(text, &e))
    }
}

/// A TOML error as one line: `line N, column M: what`.
pub(crate) fn toml_error(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {}", e.message().trim_end())
        }
        None => e.message().trim_end().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_refused() {
        let err = Manifest::parse("[limits]\nmemory_mb = 3\n").unwrap_err();
        assert!(
            err.starts_with("line 2, column 1: unknown field `memory_mb`"),
            "{err}"
        );
        let ok = Manifest::parse("description = \"x\"\n[limits]\nmemory_mib = 3\n").unwrap();
        assert_eq!(ok.limits.memory_mib, Some(3));
    }
}
