//! Bench guest: one notify subscriber of many, for notify fan-out and idle memory per module.
//!
//! The host requires a module's name to match its file name, and the bench loads this one
//! component under up to a thousand names. Compiling a thousand renamed copies would take far
//! longer than the bench, so the module takes its name from its own store (key `name`, set by
//! the bench before the host starts); the host keys that store by the file name, so each copy
//! finds the right one. Everything else is the SDK's: only `describe` is wrapped.
//!
//! It subscribes to what the simulated cluster sends on its own (`osd_map`, `pg_summary`,
//! `health`, `clog`). Each notify calls `have_mon_connection`, the cheapest host call, which
//! the bench's cluster source counts: the bench knows every module has run its notify without
//! a command.

use wasmgr_guest::__private::{self, CommandResult, Guest, RemoteTargetGuest, TickerGuest};
use wasmgr_guest::{Commands, MgrModule, ModuleInfo, NotifyKind, cluster, store};

wasmgr_guest::manifest!(
    r#"
[requests]
store = true
expose = ["*"]
"#
);

/// The store key holding the module's name.
const NAME_KEY: &str = "name";

#[derive(Default)]
struct Fan;

impl MgrModule for Fan {
    const NAME: &'static str = "fan";
    const VERSION: &'static str = "0.1.0";
    const NOTIFY: &'static [NotifyKind] = &[
        NotifyKind::OsdMap,
        NotifyKind::PgSummary,
        NotifyKind::Health,
        NotifyKind::Clog,
    ];

    fn notify(&mut self, _kind: NotifyKind, _id: &str) {
        std::hint::black_box(cluster::have_mon_connection());
    }
}

/// No commands: a thousand copies would all declare the same prefix.
impl Commands for Fan {}

struct Export;

impl Guest for Export {
    fn describe() -> ModuleInfo {
        let mut info = __private::describe::<Fan>();
        match store::get(NAME_KEY) {
            Ok(Some(name)) => info.name = name,
            Ok(None) => {}
            Err(e) => {
                info.can_run = false;
                info.error_string = format!("cannot read my name from the store: {e}");
            }
        }
        info
    }

    fn notify(kind: NotifyKind, id: String) {
        __private::notify::<Fan>(kind, &id);
    }

    fn handle_command(cmd: String, inbuf: String) -> CommandResult {
        __private::handle_command::<Fan>(&cmd, &inbuf)
    }

    fn shutdown() {
        __private::shutdown::<Fan>();
    }
}

impl TickerGuest for Export {
    fn tick() {
        __private::tick::<Fan>();
    }
}

impl RemoteTargetGuest for Export {
    fn methods() -> Vec<String> {
        __private::remote_methods::<Fan>()
    }

    fn handle_remote(method: String, args_json: String) -> Result<String, String> {
        __private::handle_remote::<Fan>(&method, &args_json)
    }
}

wasmgr_guest::bindings::__export!(Export);
