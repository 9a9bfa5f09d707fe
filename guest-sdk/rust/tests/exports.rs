//! The `ticker` and `remote-target` exports on the host: what `export_module!` calls, without
//! host calls.

use serde_json::{Value, json};
use wasmgr_guest::__private::{handle_remote, remote_methods, tick};
use wasmgr_guest::{Commands, MgrModule};

#[derive(Default)]
struct Echo {
    ticks: u64,
}

impl Commands for Echo {}

impl MgrModule for Echo {
    const NAME: &'static str = "echo";
    const VERSION: &'static str = "0.1.0";

    fn tick(&mut self) {
        self.ticks += 1;
    }

    fn remote_methods() -> Vec<&'static str> {
        vec!["echo", "ticks", "fail", "unhandled"]
    }

    fn handle_remote(&mut self, method: &str, args: Value) -> Result<Value, String> {
        match method {
            "echo" => Ok(json!({ "echo": args })),
            "ticks" => Ok(json!(self.ticks)),
            "fail" => Err(format!("asked to fail with {args}")),
            _ => Err(format!("no such method '{method}'")),
        }
    }
}

#[derive(Default)]
struct Plain;

impl Commands for Plain {}

impl MgrModule for Plain {
    const NAME: &'static str = "plain";
    const VERSION: &'static str = "0.1.0";
}

#[test]
fn remote_methods_are_listed_and_dispatched() {
    assert_eq!(
        remote_methods::<Echo>(),
        ["echo", "ticks", "fail", "unhandled"]
    );
    assert_eq!(
        handle_remote::<Echo>("echo", r#"["a",1]"#),
        Ok(r#"{"echo":["a",1]}"#.to_owned())
    );
    assert_eq!(
        handle_remote::<Echo>("fail", "[2]"),
        Err("asked to fail with [2]".to_owned())
    );
    assert_eq!(
        handle_remote::<Echo>("unhandled", "[]"),
        Err("no such method 'unhandled'".to_owned())
    );
}

#[test]
fn unlisted_methods_and_bad_arguments_are_refused() {
    assert_eq!(
        handle_remote::<Echo>("secret", "[]"),
        Err("module 'echo' has no remote method 'secret'".to_owned())
    );
    let err = handle_remote::<Echo>("echo", "[1,").unwrap_err();
    assert!(
        err.starts_with("the arguments of echo.echo are not JSON"),
        "{err}"
    );
}

#[test]
fn ticks_run_on_the_module_instance() {
    for _ in 0..3 {
        tick::<Echo>();
    }
    assert_eq!(handle_remote::<Echo>("ticks", "[]"), Ok("3".to_owned()));
}

#[test]
fn a_module_without_hooks_ticks_idly_and_serves_nothing() {
    tick::<Plain>();
    assert!(remote_methods::<Plain>().is_empty());
    assert_eq!(
        handle_remote::<Plain>("x", "[]"),
        Err("module 'plain' has no remote method 'x'".to_owned())
    );
    assert_eq!(
        Plain.handle_remote("x", json!([])),
        Err("no such method 'x'".to_owned())
    );
}
