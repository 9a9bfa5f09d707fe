//! Signed modules: keys made and modules signed with the real `wasmgr key gen` and `wasmgr
//! module sign`, checked by the real daemon against the `[trust]` policy of its host config.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::harness::guests::HELLO;
use crate::harness::{Daemon, DaemonOptions, Modules, wasmgr};

/// A directory of keys and the host config that trusts some of them.
struct Trust {
    dir: TempDir,
}

impl Trust {
    fn new() -> Trust {
        Trust {
            dir: tempfile::Builder::new()
                .prefix("wasmgr-trust-")
                .tempdir()
                .unwrap(),
        }
    }

    /// Make the key pair `<name>.pem`, `<name>.pem.pub` with `wasmgr key gen`; its
    /// fingerprint, as `wasmgr key fingerprint` prints it.
    fn key(&self, name: &str) -> String {
        let private = self.private(name);
        let out = wasmgr(&["key", "gen", &private.display().to_string()], None).ok();
        let fingerprint = wasmgr(
            &["key", "fingerprint", &format!("{}.pub", private.display())],
            None,
        )
        .ok()
        .trim_end()
        .to_owned();
        assert!(
            out.contains(&format!("fingerprint: {fingerprint}\n")),
            "{out}"
        );
        fingerprint
    }

    fn private(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.pem"))
    }

    /// Write the host config: `[trust]` with `require_signatures` and the public keys of
    /// `trusted` (relative paths, so relative to the config file); the daemon options using it.
    fn config(&self, require_signatures: bool, trusted: &[&str]) -> DaemonOptions {
        let keys: Vec<String> = trusted.iter().map(|k| format!("\"{k}.pem.pub\"")).collect();
        let path = self.dir.path().join("host.toml");
        fs::write(
            &path,
            format!(
                "[trust]\nrequire_signatures = {require_signatures}\nkeys = [{}]\n",
                keys.join(", ")
            ),
        )
        .unwrap();
        DaemonOptions {
            args: vec!["--config".into(), path.display().to_string()],
            ..DaemonOptions::default()
        }
    }

    /// Sign `component` with the key `name`, as an operator would.
    fn sign(&self, component: &Path, name: &str) -> String {
        wasmgr(
            &[
                "module",
                "sign",
                &component.display().to_string(),
                "--key",
                &self.private(name).display().to_string(),
            ],
            None,
        )
        .ok()
    }
}

/// `<modules>/hello.wasm`.
fn hello_in(modules: &Modules) -> PathBuf {
    modules.path().join("hello.wasm")
}

/// Why `hello` is not running, from `module ls`.
#[track_caller]
fn refusal(daemon: &Daemon) -> String {
    let row = daemon.module_row("hello");
    assert_eq!(row["state"], "failed", "{row}");
    row["reason"].as_str().unwrap().to_owned()
}

#[test]
fn an_unsigned_module_does_not_load_when_the_policy_requires_signatures() {
    let trust = Trust::new();
    trust.key("ops");
    let modules = Modules::new(&[HELLO]);
    let component = hello_in(&modules);
    let daemon = Daemon::with(modules, trust.config(true, &["ops"]));
    let reason = refusal(&daemon);
    assert_eq!(
        reason,
        format!(
            "module 'hello' is unsigned and the trust policy requires signatures: sign it with \
             `wasmgr module sign {} --key KEY` using a key whose public key is listed in the \
             host config's [trust] keys",
            component.display()
        )
    );
    let info = daemon.module_info("hello");
    assert_eq!(info["state"], "failed");
    assert_eq!(info["reason"], reason.as_str());
}

#[test]
fn a_module_signed_by_a_trusted_key_loads_and_shows_its_signer() {
    let trust = Trust::new();
    let fingerprint = trust.key("ops");
    let modules = Modules::new(&[HELLO]);
    let signed = trust.sign(&hello_in(&modules), "ops");
    assert!(
        signed.contains(&format!("key:         {fingerprint}\n")),
        "{signed}"
    );
    let daemon = Daemon::with(modules, trust.config(true, &["ops"]));
    let info = daemon.module_info("hello");
    assert_eq!(info["state"], "running", "{info}");
    assert_eq!(info["signer"]["name"], "ops");
    assert_eq!(info["signer"]["fingerprint"], fingerprint.as_str());
    assert!(
        signed.contains(&format!(
            "digest:      {}\n",
            info["digest"].as_str().unwrap()
        )),
        "{signed}"
    );
}

#[test]
fn a_signature_by_an_untrusted_key_is_refused_with_its_fingerprint() {
    let trust = Trust::new();
    trust.key("ops");
    let stranger = trust.key("stranger");
    let modules = Modules::new(&[HELLO]);
    trust.sign(&hello_in(&modules), "stranger");
    // Refused even though unsigned modules may load: a signature the host cannot trust is
    // not taken for no signature.
    let daemon = Daemon::with(modules, trust.config(false, &["ops"]));
    let reason = refusal(&daemon);
    assert!(
        reason.contains(&format!(
            "hello.wasm.sig is signed by key {stranger}, which the trust policy does not trust"
        )),
        "{reason}"
    );
}

#[test]
fn a_rebuilt_module_with_an_old_signature_is_refused() {
    let trust = Trust::new();
    trust.key("ops");
    let modules = Modules::new(&[HELLO]);
    let component = hello_in(&modules);
    trust.sign(&component, "ops");
    // A rebuild: the same module with other bytes (a custom section appended).
    let mut file = fs::OpenOptions::new()
        .append(true)
        .open(&component)
        .unwrap();
    file.write_all(b"\x00\x09\x07rebuiltx").unwrap();
    drop(file);
    let daemon = Daemon::with(modules, trust.config(true, &["ops"]));
    let reason = refusal(&daemon);
    assert!(
        reason.contains(
            "the component changed since it was signed; re-sign it with `wasmgr module sign"
        ),
        "{reason}"
    );

    // Signed again, it loads.
    trust.sign(&component, "ops");
    daemon.ok(&["module", "enable", "hello"]);
    let info = daemon.module_info("hello");
    assert_eq!(info["state"], "running", "{info}");
    assert_eq!(info["signer"]["name"], "ops");
}
