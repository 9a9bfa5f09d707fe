//! Test guest: a command that allocates without bound, for the memory limit.

use wasmgr_guest::{HandleCommandResult, MgrModule};

/// One allocation: 1 MiB.
const CHUNK: usize = 1 << 20;

#[derive(Default)]
struct Memhog;

impl MgrModule for Memhog {
    const NAME: &'static str = "memhog";
    const VERSION: &'static str = "0.1.0";
}

#[wasmgr_guest::commands]
impl Memhog {
    /// Allocate memory until the host refuses more
    #[write("memhog grow")]
    fn grow(&mut self) -> HandleCommandResult {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            // Non-zero bytes: every page is written, so the memory is really used.
            hoard.push(vec![0xa5; CHUNK]);
            std::hint::black_box(&hoard);
        }
    }

    /// Answer at once
    #[read("memhog ok")]
    fn ok(&mut self) -> HandleCommandResult {
        HandleCommandResult::ok("ok")
    }
}

wasmgr_guest::export_module!(Memhog);
