//! Bench guest: the target of a remote call (see `rcaller`): `ping` answers `"pong"`.

use serde_json::Value;
use wasmgr_guest::MgrModule;

wasmgr_guest::manifest!(
    r#"
[requests]
expose = ["ping"]
"#
);

#[derive(Default)]
struct Rcallee;

impl MgrModule for Rcallee {
    const NAME: &'static str = "rcallee";
    const VERSION: &'static str = "0.1.0";

    fn remote_methods() -> Vec<&'static str> {
        vec!["ping"]
    }

    fn handle_remote(&mut self, method: &str, _args: Value) -> Result<Value, String> {
        match method {
            "ping" => Ok(Value::from("pong")),
            _ => Err(format!("no such method '{method}'")),
        }
    }
}

/// No commands: it is only called remotely.
impl wasmgr_guest::Commands for Rcallee {}

wasmgr_guest::export_module!(Rcallee);
