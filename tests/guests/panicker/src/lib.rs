//! Test guest: a command that panics, for trap reporting and instance replacement.

use wasmgr_guest::{HandleCommandResult, MgrModule};

#[derive(Default)]
struct Panicker;

impl MgrModule for Panicker {
    const NAME: &'static str = "panicker";
    const VERSION: &'static str = "0.1.0";
}

#[wasmgr_guest::commands]
impl Panicker {
    /// Panic: the SDK logs `panic: boom requested` at critical level, then the call traps
    #[write("panicker boom")]
    fn boom(&mut self) -> HandleCommandResult {
        panic!("boom requested");
    }

    /// Answer at once
    #[read("panicker ok")]
    fn ok(&mut self) -> HandleCommandResult {
        HandleCommandResult::ok("ok")
    }
}

wasmgr_guest::export_module!(Panicker);
