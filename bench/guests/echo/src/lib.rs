//! Bench guest: the cheapest useful command, for the host's per-call cost.
//!
//! `echo` returns its input file (`-i FILE`) unchanged, so the bench sends 1 KB in and gets
//! 1 KB out; `echo count` reports how many `osd_map` notifies the module has run.

use wasmgr_guest::{HandleCommandResult, MgrModule, NotifyKind};

#[derive(Default)]
struct Echo {
    /// Notifies run since the instance started.
    notified: u64,
}

impl MgrModule for Echo {
    const NAME: &'static str = "echo";
    const VERSION: &'static str = "0.1.0";
    const NOTIFY: &'static [NotifyKind] = &[NotifyKind::OsdMap];

    fn notify(&mut self, _kind: NotifyKind, _id: &str) {
        self.notified += 1;
    }
}

#[wasmgr_guest::commands]
impl Echo {
    /// Return the input file unchanged
    #[read("echo")]
    fn echo(&mut self, inbuf: &str) -> HandleCommandResult {
        HandleCommandResult::ok(inbuf)
    }

    /// How many notifies this instance has run
    #[read("echo count")]
    fn count(&mut self) -> HandleCommandResult {
        HandleCommandResult::ok(self.notified.to_string())
    }
}

wasmgr_guest::export_module!(Echo);
