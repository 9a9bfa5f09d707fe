//! Test guest: a module built against `wasmgr:mgr@0.1.0` (the frozen WIT in `wit/`), with
//! `wit-bindgen` and no SDK, to show that components built for the first version of the world
//! keep loading and answering next to ones built for later 0.1.x versions.
//!
//! One command, `legacy hello`, answers `hello from 0.1.0`.

use crate::bindings::exports::wasmgr::mgr::module::{
    CommandDecl, CommandResult, Guest, ModuleInfo, NotifyKind, Perm,
};
use crate::bindings::wasmgr::mgr::log::{self, Level};

#[allow(unsafe_code, reason = "generated ABI glue")]
mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "wasmgr:mgr/mgr-module@0.1.0",
    });
}

#[allow(unsafe_code, reason = "the export glue wit-bindgen generates")]
mod export {
    use super::Legacy;
    crate::bindings::export!(Legacy with_types_in crate::bindings);
}

/// The component's exports.
struct Legacy;

/// The one command's prefix.
const HELLO: &str = "legacy hello";

impl Guest for Legacy {
    fn describe() -> ModuleInfo {
        ModuleInfo {
            name: "legacy".to_owned(),
            version: "0.1.0".to_owned(),
            commands: vec![CommandDecl {
                prefix: HELLO.to_owned(),
                args: Vec::new(),
                desc: "Say hello from a component built for wasmgr:mgr@0.1.0".to_owned(),
                perm: Perm::R,
                poll: false,
            }],
            options: Vec::new(),
            notify: Vec::new(),
            can_run: true,
            error_string: String::new(),
        }
    }

    fn notify(_kind: NotifyKind, _id: String) {}

    fn handle_command(cmd: String, _inbuf: String) -> CommandResult {
        let prefix = serde_json::from_str::<serde_json::Value>(&cmd)
            .ok()
            .and_then(|map| map.get("prefix")?.as_str().map(str::to_owned));
        if prefix.as_deref() == Some(HELLO) {
            log::log(Level::Debug, "legacy: hello");
            CommandResult {
                retval: 0,
                stdout: "hello from 0.1.0".to_owned(),
                stderr: String::new(),
            }
        } else {
            CommandResult {
                retval: -22,
                stdout: String::new(),
                stderr: format!("legacy serves only '{HELLO}'"),
            }
        }
    }

    fn shutdown() {}
}
