//! The compiled-artifact cache: compile a component once, reuse the machine code on every later
//! load.
//!
//! Files live at `<dir>/<engine fingerprint>/<component sha256>.cwasm`. Each file starts with a
//! header holding an XXH3-128 checksum of the artifact that follows; a file whose header or
//! checksum does not match (truncated, corrupt, written by something else) is recompiled with
//! a warning and replaced, never loaded. The checksum guards against damage, not against an
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

const MAGIC: &[u8; 8] = b"WMGRCW02";
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
            Ok(data) => match verified_artifact(&data) {
                Some(artifact) => match deserialize(engine, artifact) {
                    Ok(c) => return Ok((c, CacheOutcome::Hit)),
                    Err(e) => {
                        tracing::warn!(file = %file.display(), error = %e, "compiled artifact rejected by the engine; recompiling");
                        outcome = CacheOutcome::Replaced;
                    }
                },
                None => {
                    tracing::warn!(file = %file.display(), "compiled artifact is truncated or corrupt; recompiling");
                    outcome = CacheOutcome::Replaced;
                }
            },
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
                if let Err(e) = self.store(&file, &artifact) {
                    // The cache is an optimisation: a read-only or full disk costs a recompile
                    // next time, not a failed load.
                    tracing::warn!(file = %file.display(), error = %e, "cannot write compiled artifact");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot serialise compiled component"),
        }
        Ok((component, outcome))
    }

    fn store(&self, file: &Path, artifact: &[u8]) -> std::io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let mut tmp = tempfile_in(&self.dir)?;
        tmp.1.write_all(MAGIC)?;
        tmp.1.write_all(&checksum(artifact))?;
        tmp.1.write_all(artifact)?;
        tmp.1.sync_all()?;
        fs::rename(&tmp.0, file)
    }
}

/// The artifact inside a cache file, if the header and checksum hold.
fn verified_artifact(data: &[u8]) -> Option<&[u8]> {
    if data.len() < HEADER_LEN || &data[..MAGIC.len()] != MAGIC {
        return None;
    }
    let (header, artifact) = data.split_at(HEADER_LEN);
    (checksum(artifact) == header[MAGIC.len()..]).then_some(artifact)
}

fn checksum(artifact: &[u8]) -> [u8; 16] {
    xxhash_rust::xxh3::xxh3_128(artifact).to_le_bytes()
}

#[allow(
    unsafe_code,
    reason = "audited: the only deserialisation of machine code"
)]
fn deserialize(engine: &Engine, artifact: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `Component::deserialize` trusts its input to be an artifact produced by
    // `Component::serialize` of a compatible engine. `verified_artifact` checked that these
    // bytes are the ones this cache wrote (a 128-bit checksum over the whole artifact, in a
    // file only the host writes), and wasmtime itself checks the engine compatibility header.
    unsafe { Component::deserialize(engine, artifact) }
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
    fn header_checks_reject_truncation_and_corruption() {
        let artifact = b"some machine code".to_vec();
        let mut data = MAGIC.to_vec();
        data.extend_from_slice(&checksum(&artifact));
        data.extend_from_slice(&artifact);
        assert_eq!(verified_artifact(&data), Some(&artifact[..]));
        assert_eq!(verified_artifact(&data[..data.len() - 1]), None);
        let mut flipped = data.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(verified_artifact(&flipped), None);
        assert_eq!(verified_artifact(b"short"), None);
    }
}
