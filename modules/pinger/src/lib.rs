//! Calls other modules' remote methods, and does periodic work.
//!
//! - `wasmgr pinger ping <module>` calls `<module>.ping("pinger")` and prints the answer, or
//!   fails with the kind of error (`not-enabled`, `no-such-method`, `failed`) and its message.
//! - `wasmgr pinger call <module> <method> [<args>...]` calls any method with string
//!   arguments.
//! - The module ticks every 5 s and counts its ticks in its store: `wasmgr pinger ticks`
//!   prints the count, and the remote method `ticks` answers it.

use std::time::Duration;

use serde_json::{Value, json};
use wasmgr_guest::remote::{self, RemoteError};
use wasmgr_guest::{ErrorResponse, HandleCommandResult, MgrModule, log, store};

wasmgr_guest::manifest!(
    r#"
description = "Calls other modules' remote methods"
[requests]
store = true
tick = true
remote = ["*"]
expose = ["ticks"]
"#
);

/// The store key of the tick count: a decimal integer.
const TICKS: &str = "ticks";

#[derive(Default)]
struct Pinger;

impl MgrModule for Pinger {
    const NAME: &'static str = "pinger";
    const VERSION: &'static str = "0.1.0";
    const TICK_PERIOD: Option<Duration> = Some(Duration::from_secs(5));

    fn tick(&mut self) {
        let counted = ticks().and_then(|n| store::set(TICKS, Some(&(n + 1).to_string())));
        if let Err(e) = counted {
            log::error!("cannot count the tick: {e}");
        }
    }

    fn remote_methods() -> Vec<&'static str> {
        vec!["ticks"]
    }

    fn handle_remote(&mut self, method: &str, _args: Value) -> Result<Value, String> {
        match method {
            "ticks" => ticks().map(|n| json!(n)).map_err(|e| e.to_string()),
            _ => Err(format!("no such method '{method}'")),
        }
    }
}

/// The ticks counted so far.
fn ticks() -> wasmgr_guest::Result<u64> {
    Ok(store::get(TICKS)?.and_then(|n| n.parse().ok()).unwrap_or(0))
}

/// A remote call's answer as the command's output, or its error kind and message as the
/// command's error (with the error's errno).
fn answer(result: Result<Value, RemoteError>) -> Result<HandleCommandResult, ErrorResponse> {
    match result {
        Ok(value) => Ok(HandleCommandResult::ok(value.to_string())),
        Err(e) => Err(ErrorResponse::new(
            -e.errno(),
            format!("{}: {}", e.kind(), e.message()),
        )),
    }
}

#[wasmgr_guest::commands]
impl Pinger {
    /// Ping a module through its remote method `ping`
    #[read("pinger ping")]
    fn ping(&mut self, module: String) -> Result<HandleCommandResult, ErrorResponse> {
        answer(remote::call(&module, "ping", &(Self::NAME,)))
    }

    /// Call a module's remote method with string arguments
    #[write("pinger call")]
    fn call(
        &mut self,
        module: String,
        method: String,
        args: Option<Vec<String>>,
    ) -> Result<HandleCommandResult, ErrorResponse> {
        answer(remote::call(&module, &method, &args.unwrap_or_default()))
    }

    /// Show how many times the module ticked
    #[read("pinger ticks")]
    fn ticks(&mut self) -> Result<HandleCommandResult, ErrorResponse> {
        Ok(HandleCommandResult::ok(ticks()?.to_string()))
    }
}

wasmgr_guest::export_module!(Pinger);
