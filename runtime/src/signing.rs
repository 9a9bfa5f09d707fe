//! Signed modules: the operator's trust policy, and detached ed25519 signatures over a
//! component's digest.
//!
//! A module is signed with `wasmgr module sign <name>.wasm --key KEY`, which writes the detached
//! signature `<name>.wasm.sig` beside the component. The daemon checks it against the
//! [`TrustPolicy`] of its host configuration each time it loads the module, before any of the
//! module's code is compiled or run.
//!
//! # Keys
//!
//! Keys are ed25519. A private key file is PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), as
//! `wasmgr key gen` or `openssl genpkey -algorithm ed25519` writes it; a public key file is
//! SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`), as `wasmgr key gen` writes beside
//! the private key or `openssl pkey -in KEY -pubout` prints it.
//!
//! A key's *fingerprint* is `SHA256:` followed by the lowercase hex of the SHA-256 of the raw
//! 32-byte public key ([`fingerprint`]). It names the key in messages, in `module info` and in
//! `wasmgr key fingerprint`.
//!
//! # The signature file
//!
//! `<name>.wasm.sig` is a small JSON object (at most [`MAX_SIGNATURE_FILE_BYTES`]):
//!
//! ```json
//! {
//!   "format": "wasmgr-module-signature-v1",
//!   "digest": "sha256:<64 hex digits: the component file's SHA-256>",
//!   "key": "<64 hex digits: the signer's raw ed25519 public key>",
//!   "signature": "<128 hex digits: the ed25519 signature>"
//! }
//! ```
//!
//! The signature is over the bytes `wasmgr-module-signature-v1\nsha256:<hex>` ([`message`]):
//! the format line keeps a signature made for anything else from passing as a module
//! signature. The signature covers the component's bytes (a manifest embedded in it
//! included), not a `<name>.toml` beside it: a manifest only lowers limits and requests
//! capabilities, which an operator still has to grant.
//!
//! # The policy
//!
//! [`TrustPolicy::check`] decides, for one component:
//!
//! | signature file | outcome |
//! |---|---|
//! | none, signatures not required | loads, unsigned |
//! | none, signatures required | refused: the module is unsigned |
//! | unreadable, malformed, or over the size limit | refused: sign it again |
//! | over another digest (the component changed) | refused: re-sign it |
//! | does not verify | refused: sign it again |
//! | verifies, by a key not in the policy | refused, naming the key's fingerprint |
//! | verifies, by a trusted key | loads, with that key as its signer |
//!
//! A signature that does not verify against a trusted key is refused even when unsigned
//! modules may load: a signature file is a claim about who made the module, and a claim the
//! host cannot confirm must not load as if nobody had made it. To load such a module unsigned,
//! remove its `.sig` file. The default policy (no keys, unsigned modules allowed) loads every
//! module without a signature file, as a host without a trust policy always did.
//!
//! ```
//! use wasmgr_runtime::signing::{PrivateKey, TrustPolicy, TrustedKey};
//!
//! let dir = tempfile::tempdir()?;
//! let component = dir.path().join("hello.wasm");
//! std::fs::write(&component, b"\0asm")?;
//! let key = PrivateKey::from_seed([7; 32]);
//! let signed = wasmgr_runtime::signing::sign_component(&key, &component)?;
//!
//! let policy = TrustPolicy {
//!     keys: vec![TrustedKey::new("ops", key.public_key())],
//!     require_signatures: true,
//! };
//! let digest = signed.digest.trim_start_matches("sha256:");
//! let signer = policy.check(&component, digest)?.expect("signed");
//! assert_eq!(signer.name, "ops");
//! assert_eq!(signer.fingerprint, key.fingerprint());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::spki::der::zeroize::Zeroizing;
use ed25519_dalek::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, KeypairBytes,
};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::limits;

/// The format of a signature file, its first field and the first line of the signed message.
pub const FORMAT: &str = "wasmgr-module-signature-v1";

/// Bytes of a signature file. It sits in the modules directory beside the component, where
/// whoever ships a module may put anything; a real one is under 300 bytes. Checked before the
/// file is read, so a huge or endless file costs neither memory nor time at load.
pub const MAX_SIGNATURE_FILE_BYTES: u64 = 64 << 10;

/// Bytes of a key file. A PEM ed25519 key is about 120 bytes; the bound keeps a mistaken path
/// (a log, a device) from being read whole at start-up.
pub const MAX_KEY_FILE_BYTES: u64 = 64 << 10;

/// The detached signature file of `component`: its path with `.sig` appended
/// (`hello.wasm` → `hello.wasm.sig`).
pub fn signature_path(component: &Path) -> PathBuf {
    let mut name = component.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

/// The fingerprint of an ed25519 public key: `SHA256:` and the lowercase hex of the SHA-256 of
/// its 32 raw bytes.
pub fn fingerprint(key: &VerifyingKey) -> String {
    format!("SHA256:{}", hex::encode(Sha256::digest(key.as_bytes())))
}

/// The bytes a module signature signs, for the component whose SHA-256 is `digest` (hex):
/// `wasmgr-module-signature-v1\nsha256:<digest>`.
pub fn message(digest: &str) -> Vec<u8> {
    format!("{FORMAT}\nsha256:{digest}").into_bytes()
}

/// A public key the operator trusts to sign modules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedKey {
    /// The name shown for modules it signed: its key file's name without `.pub` and `.pem`.
    pub name: String,
    /// The key.
    pub key: VerifyingKey,
}

impl TrustedKey {
    /// A trusted `key` shown as `name`.
    pub fn new(name: &str, key: VerifyingKey) -> TrustedKey {
        TrustedKey {
            name: name.to_owned(),
            key,
        }
    }

    /// Read the public key file `path` (SubjectPublicKeyInfo PEM). Its name is the file's
    /// name without a final `.pub` and then `.pem` (`keys/ops.pub` and `keys/ops.pem.pub` →
    /// `ops`).
    pub fn load(path: &Path) -> Result<TrustedKey, KeyError> {
        let text = read_key_file(path)?;
        if text.contains("PRIVATE KEY-----") {
            return Err(KeyError::PrivateNotPublic {
                path: path.to_owned(),
            });
        }
        let key = VerifyingKey::from_public_key_pem(&text).map_err(|e| KeyError::NotPublic {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let file_name = path
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = file_name.strip_suffix(".pub").unwrap_or(&file_name);
        let name = name.strip_suffix(".pem").unwrap_or(name).to_owned();
        Ok(TrustedKey { name, key })
    }

    /// The key's [`fingerprint`].
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.key)
    }
}

/// Who signed a loaded module: a key of the trust policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Signer {
    /// The key's [`fingerprint`].
    pub fingerprint: String,
    /// The trusted key's name ([`TrustedKey::name`]).
    pub name: String,
}

/// Which modules may load: the keys trusted to sign them, and whether an unsigned module may
/// load at all. The default trusts no key and loads unsigned modules (see the [module
/// docs](self) for every rule).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustPolicy {
    /// The keys whose signatures are accepted.
    pub keys: Vec<TrustedKey>,
    /// Refuse modules without a signature file.
    pub require_signatures: bool,
}

impl TrustPolicy {
    /// A policy trusting the public key files `paths`.
    pub fn from_key_files(
        paths: &[PathBuf],
        require_signatures: bool,
    ) -> Result<TrustPolicy, KeyError> {
        let keys = paths
            .iter()
            .map(|p| TrustedKey::load(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustPolicy {
            keys,
            require_signatures,
        })
    }

    /// Check the component at `component` (whose SHA-256 is `digest`, in hex, as
    /// [`crate::cache::digest`] gives it) against this policy: its signer, `None` for an
    /// unsigned module the policy lets load, or why it may not load.
    pub fn check(&self, component: &Path, digest: &str) -> Result<Option<Signer>, SignatureError> {
        let sig_path = signature_path(component);
        let read_err = |source| SignatureError::Read {
            path: sig_path.clone(),
            source,
        };
        let corrupt = |reason: String| SignatureError::Corrupt {
            path: sig_path.clone(),
            component: component.to_owned(),
            reason,
        };
        let file = match crate::fsutil::open_regular(&sig_path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if self.require_signatures {
                    return Err(SignatureError::Unsigned {
                        component: component.to_owned(),
                    });
                }
                return Ok(None);
            }
            // A FIFO in its place, say: signing again replaces it with a signature file.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
                return Err(corrupt(e.to_string()));
            }
            Err(e) => return Err(read_err(e)),
        };
        let too_large = || {
            corrupt(format!(
                "it is over the limit of {MAX_SIGNATURE_FILE_BYTES} bytes"
            ))
        };
        if file.metadata().map_err(read_err)?.len() > MAX_SIGNATURE_FILE_BYTES {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        // `take`: the file may grow while it is read.
        file.take(MAX_SIGNATURE_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(read_err)?;
        if bytes.len() as u64 > MAX_SIGNATURE_FILE_BYTES {
            return Err(too_large());
        }
        let file = SignatureFile::parse(&bytes).map_err(corrupt)?;
        let actual = format!("sha256:{digest}");
        if file.digest != actual {
            return Err(SignatureError::Stale {
                path: sig_path,
                component: component.to_owned(),
                signed: file.digest,
                actual,
            });
        }
        let key_fingerprint = fingerprint(&file.key);
        file.key
            .verify_strict(&message(digest), &file.signature)
            .map_err(|_| SignatureError::Invalid {
                path: sig_path.clone(),
                component: component.to_owned(),
                fingerprint: key_fingerprint.clone(),
            })?;
        match self.keys.iter().find(|k| k.key == file.key) {
            Some(k) => Ok(Some(Signer {
                fingerprint: key_fingerprint,
                name: k.name.clone(),
            })),
            None => Err(SignatureError::Untrusted {
                path: sig_path,
                fingerprint: key_fingerprint,
            }),
        }
    }
}

/// The JSON of a signature file, as written.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignatureFile {
    format: String,
    digest: String,
    key: String,
    signature: String,
}

/// A signature file, parsed and checked for shape (not yet verified).
struct SignatureFile {
    digest: String,
    key: VerifyingKey,
    signature: Signature,
}

impl SignatureFile {
    /// Parse `bytes`; the error says what is wrong with them.
    fn parse(bytes: &[u8]) -> Result<SignatureFile, String> {
        let raw: RawSignatureFile = serde_json::from_slice(bytes)
            .map_err(|e| format!("it is not the JSON that `wasmgr module sign` writes ({e})"))?;
        if raw.format != FORMAT {
            return Err(format!(
                "its format is '{}', not {FORMAT}",
                crate::sanitize::quote(&raw.format)
            ));
        }
        let digest_ok = raw
            .digest
            .strip_prefix("sha256:")
            .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        if !digest_ok {
            return Err("its digest is not sha256: and 64 hex digits".into());
        }
        let mut key = [0u8; 32];
        hex::decode_to_slice(&raw.key, &mut key)
            .map_err(|_| "its key is not 64 hex digits".to_owned())?;
        let key = VerifyingKey::from_bytes(&key)
            .map_err(|_| "its key is not a valid ed25519 public key".to_owned())?;
        let mut signature = [0u8; 64];
        hex::decode_to_slice(&raw.signature, &mut signature)
            .map_err(|_| "its signature is not 128 hex digits".to_owned())?;
        Ok(SignatureFile {
            digest: raw.digest.to_ascii_lowercase(),
            key,
            signature: Signature::from_bytes(&signature),
        })
    }
}

/// Why a module's signature does not let it load. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    /// No signature file, and the policy requires one.
    #[error(
        "{} is unsigned and the trust policy requires signatures: sign it with \
         `wasmgr module sign {} --key KEY` using a key whose public key is listed in the host \
         config's [trust] keys",
        module_of(component),
        component.display()
    )]
    Unsigned {
        /// The component file.
        component: PathBuf,
    },
    /// The signature file exists but cannot be read.
    #[error("cannot read the signature file {}: {source}; make it readable by the daemon", path.display())]
    Read {
        /// The signature file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The signature file is not a signature.
    #[error(
        "{} is not a valid module signature: {reason}; sign the module again with \
         `wasmgr module sign {} --key KEY`",
        path.display(),
        component.display()
    )]
    Corrupt {
        /// The signature file.
        path: PathBuf,
        /// The component file.
        component: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The signature is for other contents of the component.
    #[error(
        "{} signs {signed} but {} is now {actual}: the component changed since it was signed; \
         re-sign it with `wasmgr module sign {} --key KEY`",
        path.display(),
        component.display(),
        component.display()
    )]
    Stale {
        /// The signature file.
        path: PathBuf,
        /// The component file.
        component: PathBuf,
        /// The digest the signature file names.
        signed: String,
        /// The component's digest.
        actual: String,
    },
    /// The signature does not verify with the key the file names.
    #[error(
        "{} does not verify with the key it names ({fingerprint}): the file was altered; sign \
         the module again with `wasmgr module sign {} --key KEY`",
        path.display(),
        component.display()
    )]
    Invalid {
        /// The signature file.
        path: PathBuf,
        /// The component file.
        component: PathBuf,
        /// The fingerprint of the key it names.
        fingerprint: String,
    },
    /// A valid signature, by a key the policy does not trust.
    #[error(
        "{} is signed by key {fingerprint}, which the trust policy does not trust: add that \
         public key to the host config's [trust] keys, or sign the module with a trusted key \
         (`wasmgr key fingerprint FILE` shows a key file's fingerprint)",
        path.display()
    )]
    Untrusted {
        /// The signature file.
        path: PathBuf,
        /// The signing key's fingerprint.
        fingerprint: String,
    },
}

/// `module 'hello'` for `.../hello.wasm`.
fn module_of(component: &Path) -> String {
    match component.file_stem() {
        Some(s) => format!("module '{}'", crate::sanitize::quote(&s.to_string_lossy())),
        None => format!("{}", component.display()),
    }
}

/// Why a key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read.
    #[error("cannot read the key file {}: {source}", path.display())]
    Read {
        /// The key file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is larger than any key.
    #[error(
        "{} is over {MAX_KEY_FILE_BYTES} bytes, too large for a key file; check the path",
        path.display()
    )]
    TooLarge {
        /// The key file.
        path: PathBuf,
    },
    /// A private key where a public key belongs.
    #[error(
        "{} is a private key; list its public key instead (`wasmgr key gen` wrote it beside the \
         private key as .pub; `openssl pkey -in KEY -pubout` prints it)",
        path.display()
    )]
    PrivateNotPublic {
        /// The key file.
        path: PathBuf,
    },
    /// Not a PEM ed25519 public key.
    #[error(
        "{} is not an ed25519 public key in PEM (-----BEGIN PUBLIC KEY-----): {reason}; make \
         one with `wasmgr key gen` or `openssl pkey -in KEY -pubout`",
        path.display()
    )]
    NotPublic {
        /// The key file.
        path: PathBuf,
        /// What the decoder said.
        reason: String,
    },
    /// Not a PEM ed25519 private key.
    #[error(
        "{} is not an ed25519 private key in PKCS#8 PEM (-----BEGIN PRIVATE KEY-----): \
         {reason}; make one with `wasmgr key gen FILE` or `openssl genpkey -algorithm ed25519`",
        path.display()
    )]
    NotPrivate {
        /// The key file.
        path: PathBuf,
        /// What the decoder said.
        reason: String,
    },
    /// Neither a public nor a private ed25519 key.
    #[error(
        "{} is neither an ed25519 public key (-----BEGIN PUBLIC KEY-----) nor a PKCS#8 private \
         key (-----BEGIN PRIVATE KEY-----) in PEM",
        path.display()
    )]
    NotAKey {
        /// The key file.
        path: PathBuf,
    },
    /// A key could not be written as PEM.
    #[error("cannot encode the key as PEM: {0}")]
    Encode(String),
}

/// Read a key file, refusing one over [`MAX_KEY_FILE_BYTES`] before reading it whole.
fn read_key_file(path: &Path) -> Result<Zeroizing<String>, KeyError> {
    let read_err = |source| KeyError::Read {
        path: path.to_owned(),
        source,
    };
    let file = crate::fsutil::open_regular(path).map_err(read_err)?;
    if file.metadata().map_err(read_err)?.len() > MAX_KEY_FILE_BYTES {
        return Err(KeyError::TooLarge {
            path: path.to_owned(),
        });
    }
    let mut text = Zeroizing::new(String::new());
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(read_err)?;
    if text.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(KeyError::TooLarge {
            path: path.to_owned(),
        });
    }
    Ok(text)
}

/// The fingerprint of the key in `path`: a public key file, or the public half of a private
/// key file.
pub fn key_file_fingerprint(path: &Path) -> Result<String, KeyError> {
    let text = read_key_file(path)?;
    if let Ok(key) = VerifyingKey::from_public_key_pem(&text) {
        return Ok(fingerprint(&key));
    }
    if let Ok(key) = SigningKey::from_pkcs8_pem(&text) {
        return Ok(fingerprint(&key.verifying_key()));
    }
    Err(KeyError::NotAKey {
        path: path.to_owned(),
    })
}

/// An ed25519 private key, to sign modules with. Its bytes are wiped when it is dropped.
pub struct PrivateKey {
    key: SigningKey,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({})", self.fingerprint())
    }
}

impl PrivateKey {
    /// The key whose 32-byte secret is `seed`: a new key when the seed comes from the
    /// operating system's random source.
    pub fn from_seed(seed: [u8; 32]) -> PrivateKey {
        let seed = Zeroizing::new(seed);
        PrivateKey {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// Read the private key file `path` (PKCS#8 PEM).
    pub fn load(path: &Path) -> Result<PrivateKey, KeyError> {
        let text = read_key_file(path)?;
        let key = SigningKey::from_pkcs8_pem(&text).map_err(|e| KeyError::NotPrivate {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(PrivateKey { key })
    }

    /// The key as PKCS#8 PEM, the contents of a private key file. Written as PKCS#8 v1 (the
    /// secret alone, as `openssl genpkey` writes it), which OpenSSL also reads.
    pub fn to_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        let bytes = KeypairBytes {
            secret_key: self.key.to_bytes(),
            public_key: None,
        };
        bytes
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyError::Encode(e.to_string()))
    }

    /// Its public key.
    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Its public key as SubjectPublicKeyInfo PEM, the contents of a public key file.
    pub fn public_pem(&self) -> Result<String, KeyError> {
        self.public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| KeyError::Encode(e.to_string()))
    }

    /// The [`fingerprint`] of its public key.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.public_key())
    }

    /// The contents of a signature file for the component whose SHA-256 is `digest` (hex).
    pub fn signature_file(&self, digest: &str) -> String {
        let raw = RawSignatureFile {
            format: FORMAT.to_owned(),
            digest: format!("sha256:{digest}"),
            key: hex::encode(self.public_key().as_bytes()),
            signature: hex::encode(self.key.sign(&message(digest)).to_bytes()),
        };
        // Four strings always serialize.
        let mut text = serde_json::to_string_pretty(&raw).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// What [`sign_component`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    /// The component's digest, `sha256:<hex>`.
    pub digest: String,
    /// The signing key's fingerprint.
    pub fingerprint: String,
    /// The signature file written.
    pub path: PathBuf,
}

/// Why a component could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The component could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The component file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The component is larger than the host loads.
    #[error(
        "{} is over the limit of {} bytes for a module's component; the daemon would not load it",
        path.display(),
        limits::MODULE_FILE_BYTES
    )]
    TooLarge {
        /// The component file.
        path: PathBuf,
    },
    /// The signature file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The signature file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Sign the component at `component` with `key`: write its signature file
/// ([`signature_path`]). The file is written under a temporary name and renamed into place, so
/// a daemon loading the module never reads half a signature.
pub fn sign_component(key: &PrivateKey, component: &Path) -> Result<Signed, SignError> {
    let read_err = |source| SignError::Read {
        path: component.to_owned(),
        source,
    };
    let file = crate::fsutil::open_regular(component).map_err(read_err)?;
    let too_large = || SignError::TooLarge {
        path: component.to_owned(),
    };
    if file.metadata().map_err(read_err)?.len() > limits::MODULE_FILE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(limits::MODULE_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > limits::MODULE_FILE_BYTES {
        return Err(too_large());
    }
    let digest = crate::cache::digest(&bytes);
    let path = signature_path(component);
    let write_err = |source| SignError::Write {
        path: path.clone(),
        source,
    };
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp_name);
    let written = fs::File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(key.signature_file(&digest).as_bytes())?;
            f.sync_all()
        })
        .and_then(|()| fs::rename(&tmp, &path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(write_err(e));
    }
    Ok(Signed {
        digest: format!("sha256:{digest}"),
        fingerprint: key.fingerprint(),
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component file with `contents` in a new directory.
    fn component(contents: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hello.wasm");
        fs::write(&path, contents).unwrap();
        (dir, path)
    }

    fn digest_of(path: &Path) -> String {
        crate::cache::digest(&fs::read(path).unwrap())
    }

    fn trusting(key: &PrivateKey, require_signatures: bool) -> TrustPolicy {
        TrustPolicy {
            keys: vec![TrustedKey::new("ops", key.public_key())],
            require_signatures,
        }
    }

    #[test]
    fn an_unsigned_module_loads_only_when_the_policy_allows_it() {
        let (_dir, path) = component(b"code");
        let digest = digest_of(&path);
        assert_eq!(TrustPolicy::default().check(&path, &digest).unwrap(), None);
        let key = PrivateKey::from_seed([1; 32]);
        assert_eq!(trusting(&key, false).check(&path, &digest).unwrap(), None);
        let err = trusting(&key, true).check(&path, &digest).unwrap_err();
        assert!(matches!(err, SignatureError::Unsigned { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.starts_with("module 'hello' is unsigned and the trust policy requires signatures")
                && msg.contains(&format!(
                    "`wasmgr module sign {} --key KEY`",
                    path.display()
                )),
            "{msg}"
        );
    }

    #[test]
    fn a_module_signed_by_a_trusted_key_loads_with_its_signer() {
        let (_dir, path) = component(b"code");
        let key = PrivateKey::from_seed([2; 32]);
        let signed = sign_component(&key, &path).unwrap();
        let digest = digest_of(&path);
        assert_eq!(signed.digest, format!("sha256:{digest}"));
        assert_eq!(signed.path, path.with_extension("wasm.sig"));
        for required in [false, true] {
            let signer = trusting(&key, required).check(&path, &digest).unwrap();
            assert_eq!(
                signer,
                Some(Signer {
                    fingerprint: key.fingerprint(),
                    name: "ops".into()
                })
            );
        }
    }

    #[test]
    fn a_signature_by_an_untrusted_key_is_refused_naming_its_fingerprint() {
        let (_dir, path) = component(b"code");
        let trusted = PrivateKey::from_seed([3; 32]);
        let stranger = PrivateKey::from_seed([4; 32]);
        sign_component(&stranger, &path).unwrap();
        let digest = digest_of(&path);
        for policy in [
            TrustPolicy::default(),
            trusting(&trusted, false),
            trusting(&trusted, true),
        ] {
            let err = policy.check(&path, &digest).unwrap_err();
            assert!(
                matches!(&err, SignatureError::Untrusted { fingerprint, .. }
                    if *fingerprint == stranger.fingerprint()),
                "{err}"
            );
            assert!(err.to_string().contains(&stranger.fingerprint()), "{err}");
        }
    }

    #[test]
    fn a_signature_over_another_digest_is_refused_asking_to_re_sign() {
        let (_dir, path) = component(b"code");
        let key = PrivateKey::from_seed([5; 32]);
        let signed = sign_component(&key, &path).unwrap();
        fs::write(&path, b"rebuilt code").unwrap();
        let digest = digest_of(&path);
        let err = trusting(&key, true).check(&path, &digest).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, SignatureError::Stale { .. }), "{msg}");
        assert!(
            msg.contains(&signed.digest)
                && msg.contains(&format!("sha256:{digest}"))
                && msg.contains("re-sign it with `wasmgr module sign"),
            "{msg}"
        );
    }

    #[test]
    fn a_corrupt_or_oversized_signature_file_is_refused_saying_to_sign_again() {
        let (_dir, path) = component(b"code");
        let digest = digest_of(&path);
        let key = PrivateKey::from_seed([6; 32]);
        let good = key.signature_file(&digest);
        let cases: Vec<(String, &str)> = vec![
            ("not json".into(), "not the JSON"),
            (good.replace(FORMAT, "v0"), "its format is 'v0'"),
            (good.replace("\"sha256:", "\"md5:"), "its digest"),
            (
                good.replace(&hex::encode(key.public_key().as_bytes()), "abcd"),
                "its key is not 64 hex digits",
            ),
            (
                good.replace("\"signature\": \"", "\"signature\": \"zz"),
                "its signature",
            ),
            (
                good.replace("\"format\"", "\"extra\": \"x\", \"format\""),
                "unknown field",
            ),
            (
                " ".repeat(MAX_SIGNATURE_FILE_BYTES as usize + 1),
                "over the limit",
            ),
        ];
        for (text, expected) in cases {
            fs::write(signature_path(&path), &text).unwrap();
            for required in [false, true] {
                let err = trusting(&key, required).check(&path, &digest).unwrap_err();
                let msg = err.to_string();
                assert!(matches!(err, SignatureError::Corrupt { .. }), "{msg}");
                assert!(
                    msg.contains(expected) && msg.contains("sign the module again"),
                    "{expected}: {msg}"
                );
            }
        }
    }

    #[test]
    fn an_altered_signature_does_not_verify() {
        let (_dir, path) = component(b"code");
        let digest = digest_of(&path);
        let key = PrivateKey::from_seed([8; 32]);
        let good = key.signature_file(&digest);
        let raw: RawSignatureFile = serde_json::from_str(&good).unwrap();
        let mut sig = hex::decode(&raw.signature).unwrap();
        sig[0] ^= 1;
        let altered = good.replace(&raw.signature, &hex::encode(sig));
        fs::write(signature_path(&path), altered).unwrap();
        let err = trusting(&key, false).check(&path, &digest).unwrap_err();
        assert!(matches!(err, SignatureError::Invalid { .. }), "{err}");
        // A signature over the same digest for another purpose does not pass either.
        let other = hex::encode(
            key.key
                .sign(format!("sha256:{digest}").as_bytes())
                .to_bytes(),
        );
        fs::write(signature_path(&path), good.replace(&raw.signature, &other)).unwrap();
        let err = trusting(&key, false).check(&path, &digest).unwrap_err();
        assert!(matches!(err, SignatureError::Invalid { .. }), "{err}");
    }

    #[test]
    fn keys_round_trip_through_pem_files_and_keep_their_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let key = PrivateKey::from_seed([9; 32]);
        let private = dir.path().join("ops.pem");
        let public = dir.path().join("ops.pub");
        fs::write(&private, key.to_pem().unwrap().as_bytes()).unwrap();
        fs::write(&public, key.public_pem().unwrap()).unwrap();
        assert!(
            fs::read_to_string(&private)
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        assert!(
            fs::read_to_string(&public)
                .unwrap()
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
        let fp = key.fingerprint();
        assert!(fp.starts_with("SHA256:") && fp.len() == 7 + 64, "{fp}");
        assert_eq!(PrivateKey::load(&private).unwrap().fingerprint(), fp);
        let trusted = TrustedKey::load(&public).unwrap();
        assert_eq!(
            (trusted.name.as_str(), trusted.fingerprint()),
            ("ops", fp.clone())
        );
        assert_eq!(key_file_fingerprint(&private).unwrap(), fp);
        assert_eq!(key_file_fingerprint(&public).unwrap(), fp);
        // A private key where the trust list wants a public one, and files that are no key.
        let err = TrustedKey::load(&private).unwrap_err();
        assert!(matches!(err, KeyError::PrivateNotPublic { .. }), "{err}");
        fs::write(&public, "hello").unwrap();
        let err = TrustedKey::load(&public).unwrap_err();
        assert!(
            err.to_string()
                .contains("ops.pub is not an ed25519 public key"),
            "{err}"
        );
        assert!(matches!(
            key_file_fingerprint(&public),
            Err(KeyError::NotAKey { .. })
        ));
        assert!(matches!(
            PrivateKey::load(&public),
            Err(KeyError::NotPrivate { .. })
        ));
        let missing = TrustPolicy::from_key_files(&[dir.path().join("nope.pub")], true);
        assert!(matches!(missing, Err(KeyError::Read { .. })));
    }

    #[test]
    fn an_openssl_style_pkcs8_v1_key_loads() {
        // `openssl genpkey -algorithm ed25519` writes PKCS#8 v1: the seed, no public key.
        let pem = "-----BEGIN PRIVATE KEY-----\n\
                   MC4CAQAwBQYDK2VwBCIEIAkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJ\n\
                   -----END PRIVATE KEY-----\n";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        fs::write(&path, pem).unwrap();
        assert_eq!(
            PrivateKey::load(&path).unwrap().fingerprint(),
            PrivateKey::from_seed([9; 32]).fingerprint()
        );
    }
}
