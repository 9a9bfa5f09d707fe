//! The commands that run without a daemon: making keys and signing modules.
//!
//! - `wasmgr key gen FILE` writes a new ed25519 private key to `FILE` (PKCS#8 PEM, mode 0600)
//!   and its public key to `FILE.pub` (SubjectPublicKeyInfo PEM);
//! - `wasmgr key fingerprint FILE` prints the fingerprint of a public or private key file;
//! - `wasmgr module sign COMPONENT --key FILE` writes `COMPONENT.sig`.
//!
//! The formats are those of [`wasmgr_runtime::signing`].

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use wasmgr_runtime::signing::{self, PrivateKey};

use crate::client::fail;

/// The usage of the local commands, also part of `wasmgr --help`.
pub(crate) const USAGE: &str = "\
usage: wasmgr key gen FILE                       (new signing key: FILE and FILE.pub)
       wasmgr key fingerprint FILE               (a public or private key file's fingerprint)
       wasmgr module sign COMPONENT --key FILE   (sign a module: writes COMPONENT.sig)";

/// The client options that take a value, skipped before a local command's words (they mean
/// nothing to it, but an operator may type `wasmgr --data DIR module sign ...`).
const VALUE_OPTIONS: &[&str] = &["--data", "-f", "--format", "-i", "--in-file", "--period"];

/// Run `args` if they are a local command; `None` if they are for the daemon.
pub(crate) fn main(args: &[String]) -> Option<i32> {
    let mut words: Vec<&str> = args.iter().map(String::as_str).collect();
    while let Some(first) = words.first() {
        let skip = if VALUE_OPTIONS.contains(first) {
            2
        } else if first.starts_with("--") && first.contains('=') {
            1
        } else {
            break;
        };
        words.drain(..skip.min(words.len()));
    }
    let rest = match words.as_slice() {
        ["key", "gen" | "fingerprint", rest @ ..] | ["module", "sign", rest @ ..] => rest,
        _ => return None,
    };
    if rest.iter().any(|a| matches!(*a, "-h" | "--help")) {
        println!("{USAGE}");
        return Some(0);
    }
    let usage = |e: String| (22, format!("{e}\n{USAGE}"));
    let result = match words.as_slice() {
        ["key", "gen", file] => key_gen(Path::new(file)),
        ["key", "fingerprint", file] => signing::key_file_fingerprint(Path::new(file))
            .map(|fp| println!("{fp}"))
            .map_err(|e| (22, e.to_string())),
        ["module", "sign", ..] => match sign_args(rest) {
            Ok((component, key)) => sign(&component, &key),
            Err(e) => Err(usage(e)),
        },
        [_, verb, ..] => Err(usage(format!("key {verb} takes one file"))),
        _ => Err(usage(format!("unknown arguments '{}'", words.join(" ")))),
    };
    Some(match result {
        Ok(()) => 0,
        Err((errno, e)) => fail(errno, &e),
    })
}

/// The component and key file of `module sign`: one position and `--key FILE` (or
/// `--key=FILE`), in any order.
fn sign_args(args: &[&str]) -> Result<(PathBuf, PathBuf), String> {
    let mut component = None;
    let mut key = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if let Some(v) = arg.strip_prefix("--key=") {
            key = Some(PathBuf::from(v));
        } else if *arg == "--key" {
            let v = it
                .next()
                .ok_or("--key needs a value: the private key file")?;
            key = Some(PathBuf::from(v));
        } else if arg.starts_with('-') {
            return Err(format!("unknown option '{arg}'"));
        } else if component.replace(PathBuf::from(arg)).is_some() {
            return Err("module sign takes one component file".into());
        }
    }
    match (component, key) {
        (Some(c), Some(k)) => Ok((c, k)),
        (None, _) => Err("module sign needs the component file to sign".into()),
        (_, None) => Err("module sign needs --key FILE, the private key to sign with".into()),
    }
}

fn sign(component: &Path, key: &Path) -> Result<(), (i32, String)> {
    let key = PrivateKey::load(key).map_err(|e| (22, e.to_string()))?;
    let signed = signing::sign_component(&key, component).map_err(|e| {
        let errno = match &e {
            signing::SignError::Read { source, .. }
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                2
            }
            signing::SignError::TooLarge { .. } => 7,
            _ => 5,
        };
        (errno, e.to_string())
    })?;
    println!("signed {}", component.display());
    println!("digest:      {}", signed.digest);
    println!("key:         {}", signed.fingerprint);
    println!("signature:   {}", signed.path.display());
    Ok(())
}

/// Write a new key pair: `path` (private, mode 0600) and `path.pub`. Neither may exist: a key
/// is never overwritten.
fn key_gen(path: &Path) -> Result<(), (i32, String)> {
    let mut public = path.as_os_str().to_owned();
    public.push(".pub");
    let public = PathBuf::from(public);
    for p in [path, public.as_path()] {
        if p.exists() {
            return Err((
                17,
                format!(
                    "{} exists; choose another file name (a key is never overwritten)",
                    p.display()
                ),
            ));
        }
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|e| (5, format!("cannot get random bytes for the key: {e}")))?;
    let key = PrivateKey::from_seed(seed);
    seed.fill(0);
    let private_pem = key.to_pem().map_err(|e| (5, e.to_string()))?;
    let public_pem = key.public_pem().map_err(|e| (5, e.to_string()))?;
    write_new(path, private_pem.as_bytes(), 0o600)?;
    if let Err(e) = write_new(&public, public_pem.as_bytes(), 0o644) {
        // Half a key pair is no use; leave nothing behind.
        let _ = fs::remove_file(path);
        return Err(e);
    }
    println!(
        "wrote the private key {} (keep it secret) and the public key {}",
        path.display(),
        public.display()
    );
    println!("fingerprint: {}", key.fingerprint());
    Ok(())
}

/// Create `path`, which must not exist, with `mode` and `contents`.
fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), (i32, String)> {
    let err = |e: std::io::Error| {
        let errno = match e.kind() {
            std::io::ErrorKind::AlreadyExists => 17,
            std::io::ErrorKind::NotFound => 2,
            std::io::ErrorKind::PermissionDenied => 13,
            _ => 5,
        };
        (errno, format!("cannot write {}: {e}", path.display()))
    };
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(err)?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_takes_one_component_and_a_key_in_any_order() {
        let ok = |args: &[&str]| sign_args(args).unwrap();
        let want = (PathBuf::from("a.wasm"), PathBuf::from("k.pem"));
        assert_eq!(ok(&["a.wasm", "--key", "k.pem"]), want);
        assert_eq!(ok(&["--key=k.pem", "a.wasm"]), want);
        assert!(sign_args(&["a.wasm"]).unwrap_err().contains("--key FILE"));
        assert!(
            sign_args(&["--key", "k.pem"])
                .unwrap_err()
                .contains("component")
        );
        assert!(sign_args(&["a.wasm", "b.wasm", "--key", "k"]).is_err());
        assert!(sign_args(&["a.wasm", "--kee", "k"]).is_err());
    }

    #[test]
    fn only_key_and_module_sign_run_locally_after_any_client_options() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(main(&args(&["module", "ls"])), None);
        assert_eq!(main(&args(&["key"])), None);
        assert_eq!(
            main(&args(&["--data", "d", "module", "info", "sign"])),
            None
        );
        assert_eq!(
            main(&args(&["--data", "d", "-f", "json", "key", "gen"])),
            Some(22)
        );
        assert_eq!(main(&args(&["--data=d", "module", "sign"])), Some(22));
        assert_eq!(main(&args(&["--data"])), None);
    }
}
