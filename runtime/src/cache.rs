//! The compiled-artifact cache: compile a component once, reuse the machine code on every later
//! load.
//!
//! Files live at `<dir>/<engine fingerprint>/<component sha256>.cwasm`, each with a
//! `.cwasm.sum` beside it holding a magic number and an XXH3-128 checksum of the artifact; an
//! artifact whose checksum file is missing or does not match (truncated, corrupt, written by
//! something else) is recompiled with a warning and replaced, never loaded. A verified
//! artifact is mapped from its file (`Component::deserialize_file`), not copied into the
//! daemon's memory: its pages are the page cache's, shared by every daemon using the cache and
//! given back under memory pressure (a Python module's artifact is about 40 MB). The checksum guards against damage, not against an
//! attacker who can write the cache directory (who could as well replace the daemon), so a
//! fast non-cryptographic hash is enough: it checks a 500 KB artifact in tens of microseconds. Writes go to a temporary file that is renamed into place, so a crash
//! mid-write leaves no partial artifact under the final name.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

const MAGIC: &[u8; 8] = b"WMGRCW03";
const HEADER_LEN: usize = MAGIC.len() + 16;

/// Where a component came from on this load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from a valid cache file.
    Hit,
    /// Already loaded in this process (another module or an earlier enable with the same
    /// digest): the compiled code is shared, not loaded again.
    Memory,
    /// Not cached yet: compiled and stored.
    Compiled,
    /// A cache file existed but was invalid: compiled again and replaced.
    Replaced,
}

/// Errors loading a component. A broken cache file is not among them: it is recompiled.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The component itself does not compile.
    #[error("{path}: {why}")]
    NotComponent {
        /// The component file.
        path: PathBuf,
        /// What its header shows.
        why: &'static str,
    },
    /// The component itself does not compile.
    #[error("{path}: not a valid WebAssembly component: {source:#}")]
    Compile {
        /// The component file.
        path: PathBuf,
        /// What the compiler said.
        source: wasmtime::Error,
    },
}

/// Why `bytes` cannot be a component, said without quoting them, if the header shows it: not
/// WebAssembly at all, or a core module.
fn not_a_component(bytes: &[u8]) -> Option<&'static str> {
    const MAGIC: &[u8] = b"\0asm";
    const CORE: &[u8] = &[1, 0, 0, 0];
    if !bytes.starts_with(MAGIC) {
        return Some(
            "not WebAssembly (no \\0asm header): build the module for wasm32-wasip2, which makes a component",
        );
    }
    if bytes.get(4..8) == Some(CORE) {
        return Some(
            "a core WebAssembly module, not a component: build for wasm32-wasip2, or wrap it with `wasm-tools component new`",
        );
    }
    None
}

/// A directory of compiled artifacts for one engine configuration.
pub struct ArtifactCache {
    dir: PathBuf,
}

impl ArtifactCache {
    /// The cache for `engine` under `root`. Artifacts of another engine configuration or
    /// wasmtime version land in another sub-directory, so they are never mixed up.
    pub fn new(root: &Path, engine: &Engine) -> Self {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        ArtifactCache {
            dir: root.join(format!("{:016x}", h.finish())),
        }
    }

    /// Where the compiled artifact of the component whose sha256 is `digest` lives.
    pub fn file(&self, digest: &str) -> PathBuf {
        self.dir.join(format!("{digest}.cwasm"))
    }

    /// The checksum file of [`ArtifactCache::file`].
    fn sum_file(&self, digest: &str) -> PathBuf {
        self.dir.join(format!("{digest}.cwasm.sum"))
    }

    /// Load `bytes` (whose sha256 is `digest`, in hex) as a component, from the cache when
    /// possible.
    pub fn load(
        &self,
        engine: &Engine,
        path: &Path,
        bytes: &[u8],
        digest: &str,
    ) -> Result<(Component, CacheOutcome), CacheError> {
        let file = self.file(digest);
        let mut outcome = CacheOutcome::Compiled;
        match fs::read(&file) {
            Ok(data) => {
                let sum = fs::read(self.sum_file(digest)).unwrap_or_default();
                // The read copy only checks the file; the code is mapped from it below.
                let verified = verified(&sum, &data);
                drop(data);
                if verified {
                    match deserialize_file(engine, &file) {
                        Ok(c) => return Ok((c, CacheOutcome::Hit)),
                        Err(e) => {
                            tracing::warn!(file = %file.display(), error = %e, "compiled artifact rejected by the engine; recompiling");
                            outcome = CacheOutcome::Replaced;
                        }
                    }
                } else {
                    tracing::warn!(file = %file.display(), "compiled artifact is truncated or corrupt; recompiling");
                    outcome = CacheOutcome::Replaced;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "cannot read compiled artifact; recompiling");
                outcome = CacheOutcome::Replaced;
            }
        }
        if let Some(why) = not_a_component(bytes) {
            return Err(CacheError::NotComponent {
                path: path.to_owned(),
                why,
            });
        }
        let component = Component::new(engine, bytes).map_err(|source| CacheError::Compile {
            path: path.to_owned(),
            source,
        })?;
        match component.serialize() {
            Ok(artifact) => {
                if let Err(e) = self.store(digest, &artifact) {
                    // The cache is an optimisation: a read-only or full disk costs a recompile
                    // next time, not a failed load.
                    tracing::warn!(file = %file.display(), error = %e, "cannot write compiled artifact");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot serialise compiled component"),
        }
        Ok((component, outcome))
    }

    /// Write the artifact, then its checksum, each renamed into place: a crash in between
    /// leaves an artifact whose checksum does not match, which is recompiled. A file is never
    /// changed in place, so one mapped by this or another daemon stays as it was.
    fn store(&self, digest: &str, artifact: &[u8]) -> std::io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let mut tmp = tempfile_in(&self.dir)?;
        tmp.1.write_all(artifact)?;
        tmp.1.sync_all()?;
        fs::rename(&tmp.0, self.file(digest))?;
        let mut tmp = tempfile_in(&self.dir)?;
        tmp.1.write_all(MAGIC)?;
        tmp.1.write_all(&checksum(artifact))?;
        tmp.1.sync_all()?;
        fs::rename(&tmp.0, self.sum_file(digest))
    }
}

/// Whether `artifact` is what the checksum file `sum` describes.
fn verified(sum: &[u8], artifact: &[u8]) -> bool {
    sum.len() == HEADER_LEN
        && &sum[..MAGIC.len()] == MAGIC
        && checksum(artifact) == sum[MAGIC.len()..]
}

fn checksum(artifact: &[u8]) -> [u8; 16] {
    xxhash_rust::xxh3::xxh3_128(artifact).to_le_bytes()
}

#[allow(
    unsafe_code,
    reason = "audited: the only deserialisation of machine code"
)]
fn deserialize_file(engine: &Engine, file: &Path) -> wasmtime::Result<Component> {
    // SAFETY: `Component::deserialize_file` trusts the file to hold an artifact produced by
    // `Component::serialize` of a compatible engine, and to stay unchanged while it is mapped.
    // `verified` has just checked that its bytes are the ones this cache wrote (a 128-bit
    // checksum over the whole artifact, in a directory only the host writes), wasmtime itself
    // checks the engine compatibility header, and the cache never changes a file in place: it
    // writes a new file and renames it over the old one, which leaves a mapping untouched.
    unsafe { Component::deserialize_file(engine, file) }
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, fs::File)> {
    for n in 0..100u32 {
        let path = dir.join(format!(".tmp-{}-{n}", std::process::id()));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(
        "cannot create a temporary file in the cache directory",
    ))
}

/// The sha256 of `bytes`, in lower-case hex: the identity of a component.
pub fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_reject_truncation_and_corruption() {
        let artifact = b"some machine code".to_vec();
        let mut sum = MAGIC.to_vec();
        sum.extend_from_slice(&checksum(&artifact));
        assert!(verified(&sum, &artifact));
        assert!(!verified(&sum, &artifact[..artifact.len() - 1]));
        let mut flipped = artifact.clone();
        flipped[0] ^= 1;
        assert!(!verified(&sum, &flipped));
        assert!(!verified(b"short", &artifact));
        assert!(!verified(&[], &artifact));
    }
}
