//! The grants file: grants for automation (`wasmgr serve --grants FILE`), applied at start as
//! if an operator had run `wasmgr module grant` for each line, and recorded in the ledger as
//! granted by `grants-file:<path>`.
//!
//! ```toml
//! [hello]                      # the module
//! digest = "sha256:3f2a…"      # the component the grants are for (`wasmgr module caps hello`)
//! grant = ["get:osd_map", "store", "command:osd pool ls"]
//! ```
//!
//! Every grant is pinned to a digest here too: a grants file never approves a component its
//! author did not see. Unknown keys, a malformed digest or capability are errors that name the
//! line; the daemon does not start on a broken grants file.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::caps::Cap;
use crate::ledger::Ledger;

/// One module's entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    digest: Spanned<String>,
    grant: Vec<Spanned<String>>,
}

/// A parsed grants file: module → (digest, capabilities).
#[derive(Debug, Default, PartialEq)]
pub struct GrantsFile {
    /// The grants, by module.
    pub modules: BTreeMap<String, (String, Vec<Cap>)>,
}

impl GrantsFile {
    /// Read and parse `path`.
    pub fn load(path: &Path) -> Result<GrantsFile, String> {
        use std::io::Read as _;
        let unreadable = |e: std::io::Error| format!("{}: {e}", path.display());
        let mut text = String::new();
        crate::fsutil::open_regular(path)
            .and_then(|mut f| f.read_to_string(&mut text))
            .map_err(unreadable)?;
        GrantsFile::parse(&text).map_err(|e| {
            format!(
                "{}: {e}; see the README's capabilities section for the grants file",
                path.display()
            )
        })
    }

    /// Parse grants file text.
    pub fn parse(text: &str) -> Result<GrantsFile, String> {
        let raw: BTreeMap<String, Entry> =
            toml::from_str(text).map_err(|e| crate::manifest::toml_error(text, &e))?;
        let at = |span: std::ops::Range<usize>| {
            let before = &text[..span.start.min(text.len())];
            format!("line {}", before.matches('\n').count() + 1)
        };
        let mut modules = BTreeMap::new();
        for (module, entry) in raw {
            let d = entry.digest.get_ref();
            let hex = d.strip_prefix("sha256:").unwrap_or(d);
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "{}: digest of [{module}] is not sha256:<64 hex digits>; copy it from 'wasmgr module caps {module}'",
                    at(entry.digest.span())
                ));
            }
            let mut caps = Vec::new();
            for c in &entry.grant {
                caps.push(
                    c.get_ref()
                        .parse::<Cap>()
                        .map_err(|e| format!("{}: {e}", at(c.span())))?,
                );
            }
            modules.insert(module, (hex.to_ascii_lowercase(), caps));
        }
        Ok(GrantsFile { modules })
    }

    /// Record every grant not yet in `ledger`, attributed to `by`, except those an operator
    /// revoked since (`module revoke` outlives the file).
    pub fn apply(&self, ledger: &Ledger, by: &str) -> Result<usize, String> {
        let mut added = 0;
        for (module, (digest, caps)) in &self.modules {
            let have = ledger.granted(module, digest).map_err(|e| e.to_string())?;
            let mut new = Vec::new();
            for c in caps.iter().filter(|c| !have.contains(c)) {
                // An operator's revocation outlives the file: granting it again is theirs to do.
                if ledger
                    .revoked(module, digest, c)
                    .map_err(|e| e.to_string())?
                {
                    tracing::warn!(
                        module = module.as_str(),
                        capability = %c,
                        "grants file: not applied, an operator revoked it; grant it with 'wasmgr module grant' to restore it"
                    );
                    continue;
                }
                new.push(c.clone());
            }
            if !new.is_empty() {
                ledger
                    .grant(module, digest, &new, by)
                    .map_err(|e| e.to_string())?;
                added += new.len();
            }
        }
        Ok(added)
    }
}

/// A grants file granting every module in `modules_dir` exactly what its manifest requests,
/// pinned to its component's current digest: what an operator who reviewed and approved
/// those modules as they are would write (`wasmgr grants requested DIR`). Modules that
/// request nothing, and files that are not readable components with a valid manifest, are
/// left out.
pub fn requested_by(modules_dir: &Path) -> Result<String, String> {
    let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(modules_dir)
        .map_err(|e| format!("{}: {e}", modules_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    paths.sort();
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut text = String::new();
    for path in paths {
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        // Only regular files, and no more than the daemon would load.
        let read = crate::fsutil::open_regular(&path).and_then(|f| {
            use std::io::Read;
            let mut bytes = Vec::new();
            f.take(crate::limits::MODULE_FILE_BYTES + 1)
                .read_to_end(&mut bytes)
                .map(|_| bytes)
        });
        let Ok(bytes) = read else {
            continue;
        };
        if bytes.len() as u64 > crate::limits::MODULE_FILE_BYTES {
            continue;
        }
        let Ok(manifest) = crate::manifest::Manifest::load(&path, &bytes) else {
            continue;
        };
        let caps: Vec<String> = manifest
            .requests
            .all()
            .map(|c| quote(&c.to_string()))
            .collect();
        if caps.is_empty() {
            continue;
        }
        text.push_str(&format!(
            "[{}]\ndigest = \"sha256:{}\"\ngrant = [{}]\n\n",
            quote(name),
            crate::cache::digest(&bytes),
            caps.join(", ")
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grants_file_names_the_line_of_what_is_wrong() {
        let d = "a".repeat(64);
        let ok = GrantsFile::parse(&format!(
            "[hello]\ndigest = \"sha256:{d}\"\ngrant = [\"get:osd_map\", \"store\"]\n"
        ))
        .unwrap();
        assert_eq!(ok.modules["hello"].1.len(), 2);
        let e = GrantsFile::parse(&format!(
            "[hello]\ndigest = \"sha256:{d}\"\ngrant = [\"get:osd_map\",\n \"stor\"]\n"
        ))
        .unwrap_err();
        assert!(e.starts_with("line 4: capability 'stor'"), "{e}");
        let e = GrantsFile::parse("[hello]\ndigest = \"abc\"\ngrant = []\n").unwrap_err();
        assert!(e.starts_with("line 2: digest of [hello]"), "{e}");
        let e =
            GrantsFile::parse(&format!("[hello]\ndigest = \"{d}\"\ngrants = []\n")).unwrap_err();
        assert!(e.contains("unknown field `grants`"), "{e}");
    }
}
