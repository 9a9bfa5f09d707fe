//! Bench guest: a command that makes one remote call, for the cost of a remote call round
//! trip. `rcaller call` calls `rcallee.ping()` and answers its result; `rcaller nop` answers
//! the same without the call (the command path alone).

use wasmgr_guest::remote;
use wasmgr_guest::{ErrorResponse, HandleCommandResult, MgrModule};

wasmgr_guest::manifest!(
    r#"
[requests]
remote = ["rcallee.*"]
"#
);

#[derive(Default)]
struct Rcaller;

impl MgrModule for Rcaller {
    const NAME: &'static str = "rcaller";
    const VERSION: &'static str = "0.1.0";
}

#[wasmgr_guest::commands]
impl Rcaller {
    /// Call rcallee.ping() and answer its result
    #[read("rcaller call")]
    fn call(&mut self) -> Result<HandleCommandResult, ErrorResponse> {
        Ok(HandleCommandResult::ok(remote::call_raw(
            "rcallee", "ping", "[]",
        )?))
    }

    /// Answer what `rcaller call` answers, without calling
    #[read("rcaller nop")]
    fn nop(&mut self) -> HandleCommandResult {
        HandleCommandResult::ok("\"pong\"")
    }
}

wasmgr_guest::export_module!(Rcaller);
