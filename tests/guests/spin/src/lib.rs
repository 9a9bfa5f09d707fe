//! Test guest: a command that never returns, for the fuel and deadline limits.

use wasmgr_guest::{HandleCommandResult, MgrModule};

#[derive(Default)]
struct Spin;

impl MgrModule for Spin {
    const NAME: &'static str = "spin";
    const VERSION: &'static str = "0.1.0";
}

#[wasmgr_guest::commands]
impl Spin {
    /// Loop forever
    #[read("spin forever")]
    fn forever(&mut self) -> HandleCommandResult {
        let mut n: u64 = 0;
        // `black_box` keeps the optimiser from proving the loop useless and removing it.
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }

    /// Answer at once
    #[read("spin ok")]
    fn ok(&mut self) -> HandleCommandResult {
        HandleCommandResult::ok("ok")
    }
}

wasmgr_guest::export_module!(Spin);
