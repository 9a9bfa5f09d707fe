//! The module manifest: what a module asks of the host.
//!
//! ```toml
//! description = "Greets the cluster"
//! [requests]          # what the module needs to start (see `caps` for every form)
//! get = ["osd_map", "pg_*"]
//! read = ["servers"]
//! store = true
//! health = true
//! cluster_log = true
//! tick = true
//! send_command = ["osd pool ls"]
//! remote = ["ponger.ping"]
//! expose = ["ping"]
//! files = ["/srv/reports=/reports:rw"]
//! net = ["127.0.0.1:9283"]
//! [optional]          # the same keys: used when granted, the module starts without them
//! get = ["pg_dump"]
//! [limits]            # each may only lower the host's ceiling
//! memory_mib = 32
//! deadline_ms = 500
//! ```
//!
//! It lives inside the component as the custom section [`SECTION`] (which the SDKs write, so
//! it travels with the component and its digest), in `<name>.toml` beside `<name>.wasm`, or
//! both. With both, the file wins table by table (`description`, `[requests]`, `[optional]`,
//! `[limits]`): an operator lowers a module's limits in the file without restating what it
//! requests. The file wins because it is what an operator can read and edit without tools,
//! and a manifest only *asks* — nothing it requests is allowed until an operator grants it.
//!
//! A module without a manifest requests nothing and gets the host's limits. Unknown keys are
//! errors, so a typo never silently leaves a limit at its ceiling or a request out.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::caps::{Cap, Requests};
use crate::limits::LimitOverrides;

/// The name of the custom section that carries a manifest inside a component.
pub const SECTION: &str = "wasmgr-manifest";

/// The largest manifest accepted, from a file or a section.
pub const MANIFEST_BYTES: usize = 64 << 10;

/// A parsed manifest.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Manifest {
    /// A line for `module info`.
    pub description: Option<String>,
    /// What the module requests.
    pub requests: Requests,
    /// Limits this module asks to have lowered.
    pub limits: LimitOverrides,
    /// Where it came from: `file`, `section`, `section+file` or `none`.
    pub source: &'static str,
}

/// The manifest as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    requests: Option<RawRequests>,
    #[serde(default)]
    optional: Option<RawRequests>,
    #[serde(default)]
    limits: Option<LimitOverrides>,
}

/// A manifest's text parsed, its capabilities checked.
struct Layer {
    description: Option<String>,
    requests: Option<Vec<Cap>>,
    optional: Option<Vec<Cap>>,
    limits: Option<LimitOverrides>,
}

impl Layer {
    fn parse(text: &str) -> Result<Layer, String> {
        if text.len() > MANIFEST_BYTES {
            return Err(format!(
                "the manifest is {} bytes; at most {MANIFEST_BYTES}",
                text.len()
            ));
        }
        let raw: Raw = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        Ok(Layer {
            description: raw.description,
            requests: raw.requests.map(|r| r.caps(text)).transpose()?,
            optional: raw.optional.map(|r| r.caps(text)).transpose()?,
            limits: raw.limits,
        })
    }

    /// This layer with `over`'s tables in place of its own.
    fn under(self, over: Layer) -> Layer {
        Layer {
            description: over.description.or(self.description),
            requests: over.requests.or(self.requests),
            optional: over.optional.or(self.optional),
            limits: over.limits.or(self.limits),
        }
    }

    fn manifest(self, source: &'static str) -> Manifest {
        let mut required = self.requests.unwrap_or_default();
        let mut optional = self.optional.unwrap_or_default();
        required.sort();
        required.dedup();
        optional.sort();
        optional.dedup();
        optional.retain(|c| !required.iter().any(|r| r.covers(c)));
        Manifest {
            description: self.description,
            requests: Requests { required, optional },
            limits: self.limits.unwrap_or_default(),
            source,
        }
    }
}

/// One `[requests]` or `[optional]` table.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRequests {
    #[serde(default)]
    get: Vec<Spanned<String>>,
    #[serde(default)]
    read: Vec<Spanned<String>>,
    #[serde(default)]
    store: bool,
    #[serde(default)]
    health: bool,
    #[serde(default)]
    cluster_log: bool,
    #[serde(default)]
    tick: bool,
    #[serde(default)]
    send_command: Vec<Spanned<String>>,
    #[serde(default)]
    remote: Vec<Spanned<String>>,
    #[serde(default)]
    expose: Vec<Spanned<String>>,
    #[serde(default)]
    files: Vec<Spanned<String>>,
    #[serde(default)]
    net: Vec<Spanned<String>>,
}

impl RawRequests {
    /// The capabilities, or the first bad entry as `line N, column M: why`.
    fn caps(&self, text: &str) -> Result<Vec<Cap>, String> {
        let mut out = Vec::new();
        for (on, cap) in [
            (self.store, Cap::Store),
            (self.health, Cap::Health),
            (self.cluster_log, Cap::ClusterLog),
            (self.tick, Cap::Tick),
        ] {
            if on {
                out.push(cap);
            }
        }
        let lists = [
            ("get", &self.get),
            ("read", &self.read),
            ("command", &self.send_command),
            ("remote", &self.remote),
            ("expose", &self.expose),
            ("files", &self.files),
            ("net", &self.net),
        ];
        for (kind, list) in lists {
            for item in list {
                let cap = format!("{kind}:{}", item.get_ref())
                    .parse::<Cap>()
                    .map_err(|e| format!("{}: {e}", position(text, item.span().start)))?;
                out.push(cap);
            }
        }
        Ok(out)
    }
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
    /// The manifest of the component at `path` with contents `component`: the file beside it
    /// (`<name>.toml`) if there is one, else the component's [`SECTION`], else empty.
    pub fn load(path: &Path, component: &[u8]) -> Result<Manifest, ManifestError> {
        let file = path.with_extension("toml");
        let file_layer = match read_bounded(&file) {
            Ok(Some(text)) => {
                Some(Layer::parse(&text).map_err(|message| ManifestError::Parse {
                    path: file.display().to_string(),
                    message,
                })?)
            }
            Ok(None) => None,
            Err(source) => {
                return Err(ManifestError::Read {
                    path: file.display().to_string(),
                    source,
                });
            }
        };
        let section_layer = match embedded(component) {
            Some(text) => Some(Layer::parse(&text).map_err(|message| ManifestError::Parse {
                path: format!("{} (custom section {SECTION})", path.display()),
                message,
            })?),
            None => None,
        };
        Ok(match (section_layer, file_layer) {
            (Some(s), Some(f)) => s.under(f).manifest("section+file"),
            (Some(s), None) => s.manifest("section"),
            (None, Some(f)) => f.manifest("file"),
            (None, None) => Manifest {
                source: "none",
                ..Manifest::default()
            },
        })
    }

    /// Parse manifest text.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        Layer::parse(text).map(|l| l.manifest("text"))
    }
}

/// The manifest file's text, `None` if there is none; an oversized file is an error.
fn read_bounded(path: &Path) -> std::io::Result<Option<String>> {
    use std::io::Read;
    let f = match crate::fsutil::open_regular(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        // A FIFO, a directory or a device named like the manifest: say what belongs there.
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            return Err(std::io::Error::new(
                e.kind(),
                format!("{e}; put the module's manifest (TOML) there, or remove it"),
            ));
        }
        Err(e) => return Err(e),
    };
    let mut text = String::new();
    f.take(MANIFEST_BYTES as u64 + 1)
        .read_to_string(&mut text)?;
    if text.len() > MANIFEST_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {MANIFEST_BYTES} bytes; a manifest is a few lines"
        )));
    }
    Ok(Some(text))
}

/// The text of the first [`SECTION`] custom section anywhere in `component` (a core module
/// inside it included), if it is UTF-8 and within [`MANIFEST_BYTES`].
pub fn embedded(component: &[u8]) -> Option<String> {
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        match payload {
            Ok(wasmparser::Payload::CustomSection(s)) if s.name() == SECTION => {
                let data = s.data();
                if data.len() > MANIFEST_BYTES {
                    return None;
                }
                return String::from_utf8(data.to_vec()).ok();
            }
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

/// `line N, column M` of byte `at` in `text`.
fn position(text: &str, at: usize) -> String {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("line {line}, column {column}")
}

/// A TOML error as one line: `line N, column M: what`.
pub(crate) fn toml_error(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => format!("{}: {}", position(text, span.start), e.message().trim_end()),
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
        let err = Manifest::parse("[requests]\nstore = true\nsql = true\n").unwrap_err();
        assert!(
            err.starts_with("line 3, column 1: unknown field `sql`"),
            "{err}"
        );
    }

    #[test]
    fn requests_read_as_capabilities_and_a_bad_one_names_its_line() {
        let m = Manifest::parse(
            "[requests]\nget = [\"osd_map\"]\nstore = true\nsend_command = [\"osd pool ls\"]\n\
             [optional]\nget = [\"pg_dump\", \"osd_map\"]\n",
        )
        .unwrap();
        let text: Vec<String> = m.requests.all().map(|c| c.to_string()).collect();
        assert_eq!(
            text,
            ["get:osd_map", "store", "command:osd pool ls", "get:pg_dump"]
        );
        let err =
            Manifest::parse("[requests]\nget = [\"osd_map\"]\nremote = [\"x\"]\n").unwrap_err();
        assert!(
            err.starts_with("line 3, column 11: capability 'remote:x': remote: is MODULE.METHOD"),
            "{err}"
        );
    }

    #[test]
    fn a_manifest_in_a_custom_section_is_found() {
        let mut module = wasm_encoder::Module::new();
        module.section(&wasm_encoder::CustomSection {
            name: SECTION.into(),
            data: b"[requests]\nhealth = true\n".as_slice().into(),
        });
        let bytes = module.finish();
        assert_eq!(
            embedded(&bytes).as_deref(),
            Some("[requests]\nhealth = true\n")
        );
        assert_eq!(embedded(b"not wasm"), None);
    }
}
