//! Bench guest: compute-heavy work, for the cost of fuel metering and epoch deadlines, and a
//! command that traps, for the cost of a restart.

use wasmgr_guest::{HandleCommandResult, MgrModule};

#[derive(Default)]
struct Compute;

impl MgrModule for Compute {
    const NAME: &'static str = "compute";
    const VERSION: &'static str = "0.1.0";
}

#[wasmgr_guest::commands]
impl Compute {
    /// Total Collatz steps of every start value in 1..=n (a branchy integer loop)
    #[read("compute collatz")]
    fn collatz(&mut self, #[arg(range = 1..=10_000_000)] n: i64) -> HandleCommandResult {
        HandleCommandResult::ok(collatz_steps(n as u64).to_string())
    }

    /// Trap at once (wasm `unreachable`), so the host restarts the instance
    #[write("compute crash")]
    fn crash(&mut self) -> HandleCommandResult {
        std::process::abort()
    }
}

/// Steps to reach 1 from each start value in `1..=n`, summed. The data-dependent branch and
/// loop length keep the optimiser from folding it, and returning the sum keeps it live.
fn collatz_steps(n: u64) -> u64 {
    let mut total = 0u64;
    for start in 1..=n {
        let mut x = start;
        while x != 1 {
            x = if x % 2 == 0 { x / 2 } else { 3 * x + 1 };
            total += 1;
        }
    }
    total
}

wasmgr_guest::export_module!(Compute);
