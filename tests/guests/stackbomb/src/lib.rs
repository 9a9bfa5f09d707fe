//! Test guest: a command that recurses without end, for a stack overflow.
//!
//! The recursion keeps nothing in linear memory, so it is the host's wasm stack that runs
//! out, not the guest's own shadow stack.

use wasmgr_guest::{HandleCommandResult, MgrModule};

#[derive(Default)]
struct Stackbomb;

impl MgrModule for Stackbomb {
    const NAME: &'static str = "stackbomb";
    const VERSION: &'static str = "0.1.0";
}

/// Calls itself until the stack runs out (the depth never reaches `u64::MAX`). `black_box` on
/// the argument and the result keeps the optimiser from turning the recursion into a loop.
#[inline(never)]
fn descend(depth: u64) -> u64 {
    if std::hint::black_box(depth) == u64::MAX {
        return 0;
    }
    let below = descend(std::hint::black_box(depth.wrapping_add(1)));
    std::hint::black_box(below).wrapping_add(depth)
}

#[wasmgr_guest::commands]
impl Stackbomb {
    /// Recurse until the stack runs out
    #[write("stackbomb go")]
    fn go(&mut self) -> HandleCommandResult {
        HandleCommandResult::ok(descend(0).to_string())
    }

    /// Answer at once
    #[read("stackbomb ok")]
    fn ok(&mut self) -> HandleCommandResult {
        HandleCommandResult::ok("ok")
    }
}

wasmgr_guest::export_module!(Stackbomb);
