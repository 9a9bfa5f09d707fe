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
pub use wasmgr::mgr::health::{HealthCheck, Severity};
pub use wasmgr::mgr::log::Level;
pub use wasmgr::mgr::types::{Error as GuestError, ErrorCode, OptionValue};
