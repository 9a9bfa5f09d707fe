//! Test guest: periodic work whose length a command sets, for the host's tick scheduling.
//!
//! `ticker every <ms> <spin_ms>` makes it tick every `ms` milliseconds, each tick spinning for
//! `spin_ms` (past the call deadline if asked, to trap); `ticker now` tells when the last tick
//! ended and when this command started, on the guest's own clock, so a test can see how long
//! a command waited after a tick. Its one remote method, `crash`, panics.

use std::time::{Duration, Instant, SystemTime};

use serde_json::json;
use wasmgr_guest::{ErrorResponse, HandleCommandResult, MgrModule, schedule};

wasmgr_guest::manifest!(
    r#"
[requests]
tick = true
expose = ["crash"]
"#
);

#[derive(Default)]
struct Ticker {
    spin: Duration,
    ticks: u64,
    last_tick_end: Option<SystemTime>,
}

fn micros(t: SystemTime) -> u128 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros()
}

impl MgrModule for Ticker {
    const NAME: &'static str = "ticker";
    const VERSION: &'static str = "0.1.0";

    fn tick(&mut self) {
        let started = Instant::now();
        while started.elapsed() < self.spin {
            std::hint::spin_loop();
        }
        self.ticks += 1;
        self.last_tick_end = Some(SystemTime::now());
    }

    fn remote_methods() -> Vec<&'static str> {
        vec!["crash"]
    }

    /// `crash` panics: what a caller's arguments might make a remote method do.
    fn handle_remote(
        &mut self,
        method: &str,
        _args: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        match method {
            "crash" => panic!("crashed on request"),
            _ => Err(format!("no method '{method}'")),
        }
    }
}

#[wasmgr_guest::commands]
impl Ticker {
    /// Tick every ms milliseconds, each tick spinning spin_ms
    #[write("ticker every")]
    fn every(&mut self, ms: i64, spin_ms: i64) -> Result<HandleCommandResult, ErrorResponse> {
        self.spin = Duration::from_millis(spin_ms.max(0) as u64);
        let period = u64::try_from(ms).ok().map(Duration::from_millis);
        schedule::set_tick_period(period)?;
        Ok(HandleCommandResult::ok("ok"))
    }

    /// Stop ticking
    #[write("ticker stop")]
    fn stop(&mut self) -> Result<HandleCommandResult, ErrorResponse> {
        schedule::set_tick_period(None)?;
        Ok(HandleCommandResult::ok("stopped"))
    }

    /// When the last tick ended and this command started, in microseconds
    #[read("ticker now")]
    fn now(&mut self) -> HandleCommandResult {
        let now = micros(SystemTime::now());
        let end = self.last_tick_end.map(micros);
        HandleCommandResult::ok(
            json!({"now_us": now, "last_tick_end_us": end, "ticks": self.ticks}).to_string(),
        )
    }
}

wasmgr_guest::export_module!(Ticker);
