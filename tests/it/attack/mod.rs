//! Attacks on the capability system, made the way a stranger would make them: as the author
//! of a module an operator is asked to run (the `intruder` guest, `tests/guests/intruder`,
//! which requests nothing unless a test gives it an `intruder.toml`), as a local user with a
//! shell account on the daemon's host, or as a read-only admin client.
//!
//! Each test is one attack. A test that passes shows a defence holding. A test that fails
//! shows a hole: it asserts what the capability system promises (README "Capabilities",
//! docs/design/0010-capabilities.md), so it stays failing until the hole is closed, and its
//! failure message says what got through.
//!
//! - `commands`: cluster commands as a module sends them (duplicate keys, prefix spellings),
//!   and the cluster's own commands declared by a module, or blocked by a module's name;
//! - `files`: granted directories, and what a planted symlink makes of the next instance's;
//! - `grants`: what a grant is pinned to, what a revocation takes away (and what brings it
//!   back), what a signature or a manifest file adds (nothing);
//! - `learning`: learning mode and what it proposes;
//! - `ledger`: what the audit ledger keeps, shows, hides and loses;
//! - `local`: a local user on the daemon's host (its data directory, its modules directory);
//! - `net`: socket addresses that name a granted one by another spelling, and datagrams sent
//!   to a module's socket by strangers;
//! - `notify`: what a module learns without any grant;
//! - `remote`: module-to-module calls with stretched names, and the target's `expose` check;
//! - `roles`: what a read-only admin client may change.

mod commands;
mod files;
mod grants;
mod learning;
mod ledger;
mod local;
mod net;
mod notify;
mod remote;
mod roles;

use std::sync::Arc;

use serde_json::Value;
use wasmgr_runtime::cluster::SimSource;
use wasmgr_runtime::manager::CommandReply;

use crate::harness::{Host, Modules};

/// The JSON a command printed.
#[track_caller]
fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// An in-process host over `modules`: on the simulated cluster if `sim` (which runs cluster
/// commands; the snapshot refuses them), and granting every module what it requests if
/// `grant` (as an operator who approved them would), else granting nothing.
fn host(modules: Modules, sim: bool, grant: bool) -> Host {
    Host::configured(modules, |c| {
        if sim {
            c.cluster = Arc::new(SimSource::from_config("").unwrap());
        }
        if !grant {
            c.grants_file = None;
        }
    })
}

/// Run `words`; the reply, whatever it is.
fn run(host: &Host, words: &[&str]) -> CommandReply {
    host.run(words)
}

/// `module caps <module>` as JSON.
#[track_caller]
fn caps(host: &Host, module: &str) -> Value {
    let reply = host.request(&["module", "caps", module], Some("json"), "");
    assert_eq!(reply.retval, 0, "module caps {module}: {reply:#?}");
    json_of(&reply.stdout)
}

/// The row of `capability` in `caps`, if there is one.
fn cap_row(caps: &Value, capability: &str) -> Option<Value> {
    crate::harness::cap_row(caps, capability)
}

/// The state of `module` in `module ls`.
#[track_caller]
fn state(host: &Host, module: &str) -> String {
    host.module_row(module)["state"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `bytes` with one more custom section appended: another component (another digest) that
/// runs the same code, as a rebuild or a swapped file would be.
fn rebuilt(bytes: &[u8], note: &str) -> Vec<u8> {
    let name = b"attack-note";
    let mut payload = vec![u8::try_from(name.len()).unwrap()];
    payload.extend_from_slice(name);
    payload.extend_from_slice(note.as_bytes());
    let mut out = bytes.to_vec();
    out.push(0); // custom section
    let mut len = payload.len();
    loop {
        let byte = u8::try_from(len & 0x7f).unwrap();
        len >>= 7;
        if len == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(&payload);
    out
}
