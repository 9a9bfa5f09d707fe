//! Bench guest: the cheapest useful command, for the host's per-call cost.
//!
//! `echo` returns its input file (`-i FILE`) unchanged, so the bench sends 1 KB in and gets
//! 1 KB out.

use wasmgr_guest::{HandleCommandResult, MgrModule};

#[derive(Default)]
struct Echo;

impl MgrModule for Echo {
    const NAME: &'static str = "echo";
    const VERSION: &'static str = "0.1.0";
}

#[wasmgr_guest::commands]
impl Echo {
    /// Return the input file unchanged
    #[read("echo")]
    fn echo(&mut self, inbuf: &str) -> HandleCommandResult {
        HandleCommandResult::ok(inbuf)
    }
}

wasmgr_guest::export_module!(Echo);
