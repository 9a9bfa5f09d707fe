//! Write [wasmgr] modules in Rust with the vocabulary of ceph-mgr's Python `MgrModule`.
//!
//! A module is a `cdylib` crate built for `wasm32-wasip2`:
//!
//! ```no_run
//! use serde::Serialize;
//! use wasmgr_guest::{config, log, store, ErrorResponse, HandleCommandResult, MgrModule, ModuleOption};
//!
//! #[derive(Default)]
//! struct Hello;
//!
//! impl MgrModule for Hello {
//!     const NAME: &'static str = "hello";
//!     const VERSION: &'static str = "0.1.0";
//!
//!     fn options() -> Vec<ModuleOption> {
//!         vec![ModuleOption::str("place").default("world").desc("a place in the world").runtime()]
//!     }
//! }
//!
//! #[derive(Serialize)]
//! struct Stats {
//!     greetings: u64,
//! }
//!
//! #[wasmgr_guest::commands]
//! impl Hello {
//!     /// Say hello
//!     #[read("hello")]
//!     fn hello(&mut self, person_name: Option<String>) -> Result<HandleCommandResult, ErrorResponse> {
//!         let who = match person_name {
//!             Some(name) => name,
//!             None => config::get_module_option::<String>("place")?,
//!         };
//!         log::info!("greeting {who}");
//!         Ok(HandleCommandResult::ok(format!("Hello, {who}!")))
//!     }
//!
//!     /// Show how many greetings were sent
//!     #[read("hello stats", responder)]
//!     fn stats(&mut self) -> Result<Stats, ErrorResponse> {
//!         let greetings = store::get("greetings")?.and_then(|n| n.parse().ok()).unwrap_or(0);
//!         Ok(Stats { greetings })
//!     }
//! }
//!
//! wasmgr_guest::export_module!(Hello);
//! ```
//!
//! # Commands
//!
//! `#[commands]` on an `impl` block of the module type turns marked methods into commands:
//!
//! - `#[read("prefix words")]`: perm `r` (Ceph's `CLIReadCommand`);
//! - `#[write("prefix words")]`: perm `rw` (Ceph's `CLIWriteCommand`);
//! - `#[command("prefix words", perm = "w")]`: any perm.
//!
//! After the prefix: `poll` (the CLI may repeat the command with `--period`), `desc = ".."`
//! (else the doc comment's first paragraph is the description), and the response style —
//! none (raw: return a [`HandleCommandResult`] or `Result<HandleCommandResult, ErrorResponse>`,
//! Ceph's `ErrorResponseHandler`), `responder` (return `Result<T: Serialize, ErrorResponse>`,
//! formatted per `--format`, see [`Format`]) or `empty_responder` (return
//! `Result<(), ErrorResponse>`).
//!
//! The handler's parameters are the arguments: the name is the argument's name and the type
//! its Ceph type (see [`args`]). `#[arg(range = 1..=48)]`, `#[arg(choices = ["a", "b"])]` and
//! `#[arg(goodchars = "[A-Za-z0-9-_.]")]` refine one. Two names are special, as in Ceph: a
//! parameter `inbuf: &str` (or `String`) receives the client's input file (`-i FILE`), and
//! `format: Option<&str>` the requested format.
//!
//! The host has checked and typed every argument before the call; should the command map
//! still not match the declaration, the command fails with `-EINVAL` naming the argument.
//!
//! # Host calls
//!
//! [`store`], [`config`], [`health`], [`cluster`], [`log`], [`command`] and [`schedule`] wrap
//! the WIT imports with typed values. Their errors are [`Error`]s carrying the Linux errno of
//! their [`ErrorCode`] (see [`errno`]); `?` turns one into an [`ErrorResponse`] that passes it
//! on to the client. [`remote`] calls other modules; its [`remote::RemoteError`] tells apart
//! the three ways a call fails.
//!
//! # Periodic work and remote methods
//!
//! [`MgrModule::tick`] runs every period set with [`schedule::set_tick_period`] (or declared
//! as [`MgrModule::TICK_PERIOD`]), between the module's other calls: it replaces the
//! `serve()` loop of a Python module. [`MgrModule::remote_methods`] and
//! [`MgrModule::handle_remote`] serve the methods other modules call with [`remote::call`].
//!
//! # Capabilities
//!
//! A module can do nothing outside itself until an operator grants it: reading cluster
//! data, its store, health checks, cluster commands, remote calls. [`manifest!`] puts the
//! module's requests inside the component, so they travel with it:
//!
//! ```no_run
//! wasmgr_guest::manifest!(
//!     r#"
//! description = "Greets the cluster"
//! [requests]
//! get = ["osd_map"]
//! store = true
//! "#
//! );
//! ```
//!
//! A call the module was not granted fails with [`ErrorCode::AccessDenied`] (`EACCES`), whose
//! message names the grant that would allow it. To find what a module uses, run it in the
//! daemon's learning mode and ask for a proposal: `wasmgr module learn NAME`, exercise it,
//! then `wasmgr module caps NAME --propose`.
//!
//! # Panics
//!
//! A panic in a handler is a bug, not an error reply: its message goes to the module's log
//! at `critical` level (prefixed `panic:`), then the call traps (wasm32 cannot unwind). The
//! host reports the trap to the client and replaces the instance, which loses the module's
//! in-memory state. Return an [`ErrorResponse`] for anything a client can cause.
//!
//! [wasmgr]: https://example.invalid/wasmgr

extern crate self as wasmgr_guest;

pub mod args;
pub mod cluster;
pub mod command;
pub mod config;
pub mod errno;
mod error;
pub mod health;
pub mod log;
mod module;
mod options;
pub mod remote;
mod response;
pub mod schedule;
pub mod store;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// The bindings wit-bindgen generates for the `wasmgr:mgr/mgr-module-full` world: the
/// `mgr-module` world plus the `ticker` and `remote-target` exports.
///
/// Modules should not need them: the SDK re-exports the types authors use. They are public
/// because the export macro refers to them.
#[doc(hidden)]
#[allow(unsafe_code, reason = "generated ABI glue")]
#[allow(missing_docs, reason = "generated from the WIT, which documents it")]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "wasmgr:mgr/mgr-module-full",
        pub_export_macro: true,
        export_macro_name: "__export",
        default_bindings_module: "::wasmgr_guest::bindings",
    });
}

pub use crate::args::{CephArg, CephScalar, ObjectName, OsdName, Pgid, PoolName};
pub use crate::bindings::exports::wasmgr::mgr::module::{
    ArgRange, ArgType, CommandArg, CommandDecl, ModuleInfo, NotifyKind, OptionDecl, OptionType,
    Perm,
};
pub use crate::bindings::wasmgr::mgr::types::OptionValue;
pub use crate::error::{Error, ErrorCode, Result, code_errno};
pub use crate::module::{Commands, MgrModule};
pub use crate::options::{FromOptionValue, ModuleOption};
pub use crate::response::{ErrorResponse, Format, HandleCommandResult, IntoCommandResult};
pub use wasmgr_guest_macros::commands;

/// Embed the module's manifest (TOML: `description`, `[requests]`, `[optional]`, `[limits]`)
/// in the component as its `wasmgr-manifest` custom section. Use it once per module. A
/// `<name>.toml` file beside the component, if there is one, takes its place.
#[macro_export]
macro_rules! manifest {
    ($text:expr) => {
        const _: () = {
            const TEXT: &str = $text;
            const LEN: usize = TEXT.len();
            #[used]
            #[allow(unsafe_code, reason = "a custom section holds only these bytes")]
            #[unsafe(link_section = "wasmgr-manifest")]
            static MANIFEST: [u8; LEN] = {
                let bytes = TEXT.as_bytes();
                let mut out = [0u8; LEN];
                let mut i = 0;
                while i < LEN {
                    out[i] = bytes[i];
                    i += 1;
                }
                out
            };
        };
    };
}
