//! ceph-mgr's `hello` module as a wasmgr module.
//!
//! `ceph hello [<person_name>]` greets someone, or the `place` option; `ceph hello stats`
//! shows how many greetings were sent, in any `--format`.

use serde::Serialize;
use wasmgr_guest::{
    ErrorResponse, HandleCommandResult, MgrModule, ModuleOption, config, errno, log, store,
};

wasmgr_guest::manifest!(
    r#"
description = "Greets someone, and counts the greetings"
[requests]
store = true
"#
);

/// The store key of the greeting counter: a decimal integer.
const GREETINGS: &str = "greetings";

#[derive(Default)]
struct Hello;

impl MgrModule for Hello {
    const NAME: &'static str = "hello";
    const VERSION: &'static str = "0.1.0";

    fn options() -> Vec<ModuleOption> {
        vec![
            ModuleOption::str("place")
                .default("world")
                .desc("a place in the world")
                .runtime(),
            ModuleOption::bool("emphatic")
                .default(true)
                .desc("end the greeting with an exclamation mark")
                .runtime(),
        ]
    }
}

/// What `hello stats` reports.
#[derive(Serialize)]
struct Stats {
    greetings: u64,
    place: String,
}

#[wasmgr_guest::commands]
impl Hello {
    /// Say hello
    ///
    /// A read command that also counts the greeting in the module's store: perms say who may
    /// run a command, and a greeting counter is the module's own business.
    #[read("hello")]
    fn hello(&mut self, person_name: Option<String>) -> Result<HandleCommandResult, ErrorResponse> {
        let who = match person_name {
            Some(name) => name,
            None => config::get_module_option::<String>("place")?,
        };
        let emphatic: bool = config::get_module_option("emphatic")?;
        let count = greetings()?.saturating_add(1);
        store::set(GREETINGS, Some(&count.to_string()))?;
        log::info!("greeted {who} (greeting number {count})");
        let mark = if emphatic { "!" } else { "" };
        Ok(HandleCommandResult::ok(format!("Hello, {who}{mark}")))
    }

    /// Show how many greetings were sent, and to which place by default
    #[read("hello stats", responder)]
    fn stats(&mut self) -> Result<Stats, ErrorResponse> {
        Ok(Stats {
            greetings: greetings()?,
            place: config::get_module_option("place")?,
        })
    }
}

/// The greeting counter; 0 before the first greeting.
fn greetings() -> Result<u64, ErrorResponse> {
    let Some(text) = store::get(GREETINGS)? else {
        return Ok(0);
    };
    text.parse().map_err(|_| {
        ErrorResponse::new(
            -errno::EIO,
            format!(
                "the greeting counter holds '{text}', not a number: reset it with \
                 `config-key set mgr/hello/{GREETINGS} 0`"
            ),
        )
    })
}

wasmgr_guest::export_module!(Hello);
