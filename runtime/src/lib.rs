//! wasmgr's host runtime: runs ceph-mgr style modules as isolated WebAssembly components.
//!
//! A [`manager::Manager`] owns one wasmtime engine, the durable store, the cluster state
//! source and every module. Each module is a component built against the `wasmgr:mgr` WIT
//! world; it runs in its own store, one call at a time (a command on the caller's thread unless
//! calls are queued for the module, else on a shared pool of worker threads), under fuel,
//! deadline and memory limits, and reaches the rest of the system only through host calls.
//!
//! ```no_run
//! use std::sync::Arc;
//! use wasmgr_runtime::cluster::SnapshotSource;
//! use wasmgr_runtime::manager::{ClientPerm, CommandRequest, HostConfig, Manager};
//!
//! let config = HostConfig::new(
//!     "/var/lib/wasmgr".into(),
//!     "/var/lib/wasmgr/modules".into(),
//!     Arc::new(SnapshotSource::embedded()),
//! );
//! let manager = Manager::start(config)?;
//! let reply = manager.command(
//!     &CommandRequest { words: vec!["hello".into()], ..Default::default() },
//!     ClientPerm::Read,
//! );
//! assert_eq!(reply.retval, 0);
//! println!("{}", reply.stdout);
//! # Ok::<(), wasmgr_runtime::manager::StartError>(())
//! ```
#![deny(missing_docs)]

pub mod actor;
pub mod audit;
pub mod bindings;
pub mod builtin;
pub mod cache;
pub mod caps;
pub mod clients;
pub mod clog;
pub mod cluster;
pub mod command;
pub mod engine;
pub mod format;
pub mod fsutil;
pub mod grants_file;
pub mod health;
pub mod host;
pub mod host_config;
pub mod ledger;
pub mod limits;
pub mod link;
pub mod loader;
pub mod manager;
pub mod manifest;
pub mod module_env;
pub mod options;
pub mod persist;
pub mod pool;
pub mod sanitize;
pub mod signing;
pub mod supervisor;
pub mod trap;
