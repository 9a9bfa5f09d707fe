//! Test guest: every command traps, for restart backoff and crash-loop quarantine.
//!
//! It loads and describes itself normally; only running a command traps.

use wasmgr_guest::{HandleCommandResult, MgrModule};

#[derive(Default)]
struct Crashloop;

impl MgrModule for Crashloop {
    const NAME: &'static str = "crashloop";
    const VERSION: &'static str = "0.1.0";
}

#[wasmgr_guest::commands]
impl Crashloop {
    /// Trap at once (wasm `unreachable`, no panic message)
    #[write("crashloop go")]
    fn go(&mut self) -> HandleCommandResult {
        std::process::abort()
    }
}

wasmgr_guest::export_module!(Crashloop);
