//! The one place the `mgr` WIT world is turned into Rust: `bindgen!` runs here and nowhere else.
#![allow(
    missing_docs,
    reason = "generated code; the WIT files carry the documentation"
)]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "wasmgr:mgr/mgr-module",
    // Host calls may fail only by returning the WIT `error` record; a trap from the host side is
    // never used to signal a guest-visible condition.
});

pub use exports::wasmgr::mgr::module::{
    ArgRange, ArgType, CommandArg, CommandDecl, CommandResult, ModuleInfo, NotifyKind, OptionDecl,
    OptionType, Perm,
};
pub use wasmgr::mgr::command::Reply;
pub use wasmgr::mgr::health::{HealthCheck, Severity};
pub use wasmgr::mgr::log::{ClogPriority, Level};
pub use wasmgr::mgr::remote::RemoteError;

/// The optional exports of world `mgr-module-full`, looked up by name: a module built against
/// `mgr-module` (or an older version) has neither, and loads all the same.
pub mod optional {
    /// The `ticker` interface, as the component exports it.
    pub const TICKER: &str = "wasmgr:mgr/ticker@0.1.1";
    /// The `remote-target` interface.
    pub const REMOTE_TARGET: &str = "wasmgr:mgr/remote-target@0.1.1";
}
pub use wasmgr::mgr::types::{Error as GuestError, ErrorCode, OptionValue};
