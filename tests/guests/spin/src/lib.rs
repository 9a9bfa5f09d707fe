//! Test guest: commands and a notify that never return, for the fuel and deadline limits and
//! for keeping a worker busy: one spins in guest code, one calls the host over and over.

use wasmgr_guest::{HandleCommandResult, MgrModule, NotifyKind, cluster};

#[derive(Default)]
struct Spin;

impl MgrModule for Spin {
    const NAME: &'static str = "spin";
    const VERSION: &'static str = "0.1.0";
    const NOTIFY: &'static [NotifyKind] = &[NotifyKind::PgSummary];

    /// Spins until the deadline stops it.
    fn notify(&mut self, _kind: NotifyKind, _id: &str) {
        spin()
    }
}

fn spin() -> ! {
    let mut n: u64 = 0;
    // `black_box` keeps the optimiser from proving the loop useless and removing it.
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

#[wasmgr_guest::commands]
impl Spin {
    /// Loop forever
    #[read("spin forever")]
    fn forever(&mut self) -> HandleCommandResult {
        spin()
    }

    /// Call the host forever (a call that needs no grant)
    #[read("spin hostcalls")]
    fn hostcalls(&mut self) -> HandleCommandResult {
        loop {
            std::hint::black_box(cluster::get_mgr_id());
        }
    }

    /// Answer at once
    #[read("spin ok")]
    fn ok(&mut self) -> HandleCommandResult {
        HandleCommandResult::ok("ok")
    }
}

wasmgr_guest::export_module!(Spin);
