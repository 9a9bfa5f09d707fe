//! Serves remote methods to other modules (see `pinger`).
//!
//! - `ping` answers `{"pong": <the arguments>}`;
//! - `fail` fails with a message (the caller gets `RemoteError::Failed`);
//! - `relay` calls `<module>.<method>` with the rest of its arguments and answers its result:
//!   a way to build call chains, such as the cycle pinger → ponger → pinger, which fails at
//!   once instead of hanging.
//!
//! `wasmgr ponger stats` shows how many remote calls this instance served.

use serde::Serialize;
use serde_json::{Value, json};
use wasmgr_guest::remote::{self, RemoteError};
use wasmgr_guest::{ErrorResponse, MgrModule};

wasmgr_guest::manifest!(
    r#"
description = "Answers remote calls"
[requests]
remote = ["*"]
expose = ["ping", "fail", "relay"]
"#
);

#[derive(Default)]
struct Ponger {
    served: u64,
}

impl MgrModule for Ponger {
    const NAME: &'static str = "ponger";
    const VERSION: &'static str = "0.1.0";

    fn remote_methods() -> Vec<&'static str> {
        vec!["ping", "fail", "relay"]
    }

    fn handle_remote(&mut self, method: &str, args: Value) -> Result<Value, String> {
        self.served += 1;
        match method {
            "ping" => Ok(json!({ "pong": args })),
            "fail" => Err(format!("ponger fails on request (arguments {args})")),
            "relay" => relay(args),
            _ => Err(format!("no such method '{method}'")),
        }
    }
}

/// `relay(module, method, *args)`: `module.method(*args)`'s result; an error names its kind.
fn relay(args: Value) -> Result<Value, String> {
    let mut args = match args {
        Value::Array(args) => args.into_iter(),
        _ => return Err("relay takes a list: module, method, arguments...".to_owned()),
    };
    let (Some(Value::String(module)), Some(Value::String(method))) = (args.next(), args.next())
    else {
        return Err("relay needs a module and a method name".to_owned());
    };
    let rest: Vec<Value> = args.collect();
    remote::call::<Value>(&module, &method, &rest)
        .map_err(|e: RemoteError| format!("{module}.{method}: {}: {e}", e.kind()))
}

#[derive(Serialize)]
struct Stats {
    served: u64,
}

#[wasmgr_guest::commands]
impl Ponger {
    /// Show how many remote calls this instance served
    #[read("ponger stats", responder)]
    fn stats(&mut self) -> Result<Stats, ErrorResponse> {
        Ok(Stats {
            served: self.served,
        })
    }
}

wasmgr_guest::export_module!(Ponger);

#[cfg(test)]
mod tests {
    use wasmgr_guest::__private::{handle_remote, remote_methods};

    use super::*;

    #[test]
    fn ping_answers_its_arguments_and_fail_fails() {
        assert_eq!(remote_methods::<Ponger>(), ["ping", "fail", "relay"]);
        assert_eq!(
            handle_remote::<Ponger>("ping", r#"["pinger"]"#),
            Ok(r#"{"pong":["pinger"]}"#.to_owned())
        );
        assert_eq!(
            handle_remote::<Ponger>("fail", "[]"),
            Err("ponger fails on request (arguments [])".to_owned())
        );
        assert_eq!(
            relay(json!(["ponger"])),
            Err("relay needs a module and a method name".to_owned())
        );
    }
}
