//! Test guest: a hostile module, written by a stranger straight against the WIT with
//! `wit-bindgen` (no wasmgr SDK), for the containment tests.
//!
//! What it declares and does is driven by a JSON script (see [`script`]) that `describe` reads
//! from the module's own store key `script`, which an operator sets as the config-key
//! `mgr/<module>/script`. Copies of the component under other file names are other modules:
//! their script names them (`"name": "grabber"`), and their default commands are under that
//! word. Without a script, or with a malformed one (logged at error level), the default script
//! is used: module `rogue`, the commands of [`actions`] under the word `rogue`.
//!
//! Host errors are returned as the negative Linux errno of their WIT error code, with the
//! host's message on stderr.

mod actions;
mod script;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use crate::bindings::exports::wasmgr::mgr::module::{CommandResult, Guest, ModuleInfo, NotifyKind};
use crate::bindings::wasmgr::mgr::log::{self, Level};
use crate::bindings::wasmgr::mgr::store;
use crate::script::{Loaded, Script};

/// The manifest, as the SDK's `manifest!` writes it: a stranger's module can carry one too.
#[used]
#[allow(unsafe_code, reason = "a custom section holds only these bytes")]
#[unsafe(link_section = "wasmgr-manifest")]
static MANIFEST: [u8; MANIFEST_TEXT.len()] = *MANIFEST_TEXT;

const MANIFEST_TEXT: &[u8; 187] = b"\n[requests]\nget = [\"*\"]\nread = [\"servers\", \"metadata\", \"perf\", \"ceph-option\"]\nstore = true\nhealth = true\ncluster_log = true\ntick = true\nsend_command = [\"*\"]\nremote = [\"*\"]\nexpose = [\"*\"]\n";

#[allow(unsafe_code, reason = "generated ABI glue")]
mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit",
        world: "wasmgr:mgr/mgr-module",
    });
}

#[allow(unsafe_code, reason = "the export glue wit-bindgen generates")]
mod export {
    use super::Rogue;
    crate::bindings::export!(Rogue with_types_in crate::bindings);
}

/// The component's exports.
struct Rogue;

thread_local! {
    /// What this instance loaded from its script: the action of each declared command and the
    /// shutdown delay. A fresh instance (after a trap) has none until its first call reads the
    /// script again: `describe` runs once per load, not once per instance.
    static LOADED: RefCell<Option<Rc<Loaded>>> = const { RefCell::new(None) };
}

/// The script from the store, else the default one (a malformed script is logged).
fn read_script() -> Script {
    let text = match store::get("script") {
        Ok(Some(text)) => text,
        Ok(None) => return Script::default(),
        Err(e) => {
            log::log(
                Level::Error,
                &format!("rogue: cannot read the script: {}", e.message),
            );
            return Script::default();
        }
    };
    match serde_json::from_str::<Script>(&text) {
        Ok(script) => script,
        Err(e) => {
            log::log(
                Level::Error,
                &format!("rogue: malformed script, using the default one: {e}"),
            );
            Script::default()
        }
    }
}

/// This instance's loaded script, reading it if this instance has not yet.
fn loaded() -> Rc<Loaded> {
    if let Some(loaded) = LOADED.with(|l| l.borrow().clone()) {
        return loaded;
    }
    let (_, loaded) = describe_script(read_script());
    let loaded = Rc::new(loaded);
    LOADED.with(|l| *l.borrow_mut() = Some(loaded.clone()));
    loaded
}

/// The declarations of `script`, falling back to the default script if it cannot be declared.
fn describe_script(script: Script) -> (ModuleInfo, Loaded) {
    match script.declare() {
        Ok(declared) => declared,
        Err(e) => {
            log::log(
                Level::Error,
                &format!("rogue: malformed script, using the default one: {e}"),
            );
            match Script::default().declare() {
                Ok(declared) => declared,
                // The default script always declares; this is for the type checker.
                Err(_) => (script::empty_info(), Loaded::default()),
            }
        }
    }
}

impl Guest for Rogue {
    fn describe() -> ModuleInfo {
        let script = read_script();
        if script.describe_sleep_ms > 0 {
            std::thread::sleep(Duration::from_millis(script.describe_sleep_ms));
        }
        let (info, loaded) = describe_script(script);
        LOADED.with(|l| *l.borrow_mut() = Some(Rc::new(loaded)));
        info
    }

    fn notify(_kind: NotifyKind, _id: String) {}

    fn handle_command(cmd: String, inbuf: String) -> CommandResult {
        actions::handle(&loaded(), &cmd, &inbuf)
    }

    fn shutdown() {
        let ms = loaded().shutdown_sleep_ms;
        if ms > 0 {
            std::thread::sleep(Duration::from_millis(ms));
        }
    }
}
