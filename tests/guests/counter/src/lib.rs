//! Test guest: subscribed to osd_map only, it counts every notify it gets by kind, so a test
//! can see that it never gets the kinds it did not ask for.

use std::collections::BTreeMap;

use wasmgr_guest::{HandleCommandResult, MgrModule, NotifyKind};

#[derive(Default)]
struct Counter {
    seen: BTreeMap<String, u64>,
}

impl MgrModule for Counter {
    const NAME: &'static str = "counter";
    const VERSION: &'static str = "0.1.0";
    const NOTIFY: &'static [NotifyKind] = &[NotifyKind::OsdMap];

    fn notify(&mut self, kind: NotifyKind, _id: &str) {
        *self.seen.entry(format!("{kind:?}")).or_default() += 1;
    }
}

#[wasmgr_guest::commands]
impl Counter {
    /// The notifies received, by kind, as JSON
    #[read("counter seen")]
    fn seen(&mut self) -> HandleCommandResult {
        HandleCommandResult::ok(serde_json::to_string(&self.seen).unwrap_or_default())
    }
}

wasmgr_guest::export_module!(Counter);
