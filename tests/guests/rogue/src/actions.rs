//! What the commands do. The default script declares each under the module's name:
//!
//! - `echo retval [stdout] [stderr] [times]`: answers `(retval, stdout × times, stderr)`; a
//!   non-empty input file is JSON `{"retval", "stdout", "stderr", "times"}` and overrides them
//!   (so a test can send control characters);
//! - `sleep ms`: `std::thread::sleep`, a blocking WASI call, then `slept`;
//! - `health`: the input file is a JSON list of checks `{code, severity, summary, count,
//!   detail, detail_times}` (the detail list repeated `detail_times` times), raised with
//!   `set-health-checks`;
//! - `log level`: logs the input file, or JSON `{"message", "lines"}` (`lines` times);
//! - `option set name`: sets the option to the input file's JSON `{"value"}` (null resets);
//! - `kv fill count size [key_prefix]`: writes `count` keys `<key_prefix><i>` of `size` bytes,
//!   stopping at the first host error; answers 0 with JSON `{"written", "errno", "message"}`;
//! - `kv prefix [key_prefix]`: answers JSON `{"keys", "bytes"}` of `get-prefix` (never the
//!   data);
//! - `kv rm [key_prefix]`: deletes those keys (all but `script`, which drives the module),
//!   answers JSON `{"deleted"}`;
//! - `get`: `cluster.get` of the input file's JSON `{"name"}`; answers JSON `{"errno",
//!   "bytes", "message_bytes", "message_head"}`;
//! - `trap`: traps;
//! - `exit`: `std::process::exit(3)`, WASI's `exit`: a trap whose error is the host's, not
//!   wasm's.
//!
//! Strings in input files may be `{"repeat": "<s>", "times": N}`.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::bindings::exports::wasmgr::mgr::module::{CommandResult, OptionType};
use crate::bindings::wasmgr::mgr::health::{self, HealthCheck, Severity};
use crate::bindings::wasmgr::mgr::log::{self, Level};
use crate::bindings::wasmgr::mgr::types::{Error, ErrorCode, OptionValue};
use crate::bindings::wasmgr::mgr::{cluster, config, store};
use crate::script::{Action, Loaded, Str, option_value};

const EINVAL: i32 = 22;

/// The Linux errno of a WIT error code.
fn errno(code: ErrorCode) -> i32 {
    match code {
        ErrorCode::NotPermitted => 1,
        ErrorCode::NotFound => 2,
        ErrorCode::Io => 5,
        ErrorCode::TooBig => 7,
        ErrorCode::Again => 11,
        ErrorCode::AccessDenied => 13,
        ErrorCode::Exists => 17,
        ErrorCode::Invalid => 22,
        ErrorCode::NoSpace => 28,
        ErrorCode::OutOfRange => 34,
        ErrorCode::NotSupported => 95,
        ErrorCode::TimedOut => 110,
    }
}

fn ok(stdout: impl Into<String>) -> CommandResult {
    CommandResult {
        retval: 0,
        stdout: stdout.into(),
        stderr: String::new(),
    }
}

fn fail(retval: i32, stderr: impl Into<String>) -> CommandResult {
    CommandResult {
        retval,
        stdout: String::new(),
        stderr: stderr.into(),
    }
}

/// A host error as the reply: its errno and message.
fn host(e: Error) -> CommandResult {
    fail(-errno(e.code), e.message)
}

type Reply = Result<CommandResult, CommandResult>;

/// Run one command.
pub fn handle(loaded: &Loaded, cmd: &str, inbuf: &str) -> CommandResult {
    let mut args = match serde_json::from_str::<Value>(cmd) {
        Ok(Value::Object(map)) => map,
        _ => return fail(-EINVAL, "the command map is not a JSON object"),
    };
    let prefix = match args.remove("prefix") {
        Some(Value::String(p)) => p,
        _ => return fail(-EINVAL, "the command map has no prefix"),
    };
    let Some(action) = loaded.action(&prefix) else {
        return fail(-EINVAL, format!("rogue declares no command '{prefix}'"));
    };
    let args = Args(args);
    let reply = match action {
        Action::Echo => echo(&args, inbuf),
        Action::Sleep => sleep(&args),
        Action::Health => raise_health(inbuf),
        Action::Log => log_lines(&args, inbuf),
        Action::OptionSet => option_set(&args, inbuf),
        Action::KvFill => kv_fill(&args),
        Action::KvPrefix => kv_prefix(&args),
        Action::KvRm => kv_rm(&args),
        Action::Get => get(inbuf),
        Action::Trap => core::arch::wasm32::unreachable(),
        Action::Exit => std::process::exit(3),
    };
    reply.unwrap_or_else(|e| e)
}

/// The command map's arguments.
struct Args(Map<String, Value>);

impl Args {
    fn int(&self, name: &str) -> Result<Option<i64>, CommandResult> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| fail(-EINVAL, format!("{name} is not an i64"))),
            Some(Value::String(s)) => s
                .parse()
                .map(Some)
                .map_err(|_| fail(-EINVAL, format!("{name} is not an integer"))),
            Some(other) => Err(fail(-EINVAL, format!("{name} is {other}, not an integer"))),
        }
    }

    fn required_int(&self, name: &str) -> Result<i64, CommandResult> {
        self.int(name)?
            .ok_or_else(|| fail(-EINVAL, format!("missing {name}")))
    }

    fn count(&self, name: &str) -> Result<usize, CommandResult> {
        usize::try_from(self.required_int(name)?)
            .map_err(|_| fail(-EINVAL, format!("{name} must not be negative")))
    }

    fn string(&self, name: &str) -> Option<String> {
        match self.0.get(name) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) | None => None,
            Some(other) => Some(other.to_string()),
        }
    }
}

fn parse<T: for<'de> Deserialize<'de>>(inbuf: &str, what: &str) -> Result<T, CommandResult> {
    serde_json::from_str(inbuf)
        .map_err(|e| fail(-EINVAL, format!("the input file is not {what}: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EchoInput {
    #[serde(default)]
    retval: i64,
    #[serde(default)]
    stdout: Option<Str>,
    #[serde(default)]
    stderr: Option<Str>,
    #[serde(default)]
    times: Option<usize>,
}

fn echo(args: &Args, inbuf: &str) -> Reply {
    let input = if inbuf.is_empty() {
        let times = match args.int("times")? {
            None => None,
            Some(t) => {
                Some(usize::try_from(t).map_err(|_| fail(-EINVAL, "times must not be negative"))?)
            }
        };
        EchoInput {
            retval: args.int("retval")?.unwrap_or(0),
            stdout: args.string("stdout").map(Str::Plain),
            stderr: args.string("stderr").map(Str::Plain),
            times,
        }
    } else {
        parse(inbuf, "JSON {retval, stdout, stderr, times}")?
    };
    let retval = i32::try_from(input.retval)
        .map_err(|_| fail(-EINVAL, format!("retval {} is not an s32", input.retval)))?;
    let stdout = input.stdout.map(|s| s.expand()).unwrap_or_default();
    Ok(CommandResult {
        retval,
        stdout: stdout.repeat(input.times.unwrap_or(1)),
        stderr: input.stderr.map(|s| s.expand()).unwrap_or_default(),
    })
}

fn sleep(args: &Args) -> Reply {
    let ms = u64::try_from(args.required_int("ms")?)
        .map_err(|_| fail(-EINVAL, "ms must not be negative"))?;
    std::thread::sleep(Duration::from_millis(ms));
    Ok(ok("slept"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckInput {
    code: Str,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    summary: Option<Str>,
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    detail: Vec<Str>,
    #[serde(default)]
    detail_times: Option<usize>,
}

fn raise_health(inbuf: &str) -> Reply {
    let input: Vec<CheckInput> = parse(inbuf, "a JSON list of health checks")?;
    let mut checks = Vec::with_capacity(input.len());
    for c in input {
        let severity = match c.severity.as_deref().unwrap_or("warning") {
            "warning" => Severity::Warning,
            "error" => Severity::Error,
            other => return Err(fail(-EINVAL, format!("unknown severity '{other}'"))),
        };
        let lines: Vec<String> = c.detail.iter().map(Str::expand).collect();
        let detail = (0..c.detail_times.unwrap_or(1))
            .flat_map(|_| lines.iter().cloned())
            .collect();
        checks.push(HealthCheck {
            code: c.code.expand(),
            severity,
            summary: c.summary.map(|s| s.expand()).unwrap_or_default(),
            count: c.count.unwrap_or(1),
            detail,
        });
    }
    health::set_health_checks(&checks).map_err(host)?;
    Ok(ok("ok"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogInput {
    message: Str,
    #[serde(default)]
    lines: Option<usize>,
}

fn log_lines(args: &Args, inbuf: &str) -> Reply {
    let level = match args.string("level").as_deref() {
        Some("debug") => Level::Debug,
        Some("info") => Level::Info,
        Some("warning") => Level::Warning,
        Some("error") => Level::Error,
        Some("critical") => Level::Critical,
        other => return Err(fail(-EINVAL, format!("unknown level {other:?}"))),
    };
    let (message, lines) = match serde_json::from_str::<LogInput>(inbuf) {
        Ok(input) => (input.message.expand(), input.lines.unwrap_or(1)),
        Err(_) => (inbuf.to_owned(), 1),
    };
    for _ in 0..lines {
        log::log(level, &message);
    }
    Ok(ok(format!("logged {lines}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionInput {
    value: Value,
}

fn option_set(args: &Args, inbuf: &str) -> Reply {
    let name = args
        .string("name")
        .ok_or_else(|| fail(-EINVAL, "missing name"))?;
    let input: OptionInput = parse(inbuf, "JSON {value}")?;
    let value = match &input.value {
        Value::Null => None,
        Value::Bool(b) => Some(OptionValue::Bool(*b)),
        Value::Number(n) => Some(match n.as_i64() {
            Some(i) => OptionValue::Int(i),
            None => OptionValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        }),
        other => Some(option_value(OptionType::Str, other).map_err(|e| fail(-EINVAL, e))?),
    };
    config::set_module_option(&name, value.as_ref()).map_err(host)?;
    Ok(ok("set"))
}

fn kv_fill(args: &Args) -> Reply {
    let count = args.count("count")?;
    let size = args.count("size")?;
    let prefix = args.string("key_prefix").unwrap_or_default();
    let value = "x".repeat(size);
    let mut written = 0;
    let mut failure = (0, String::new());
    for i in 0..count {
        if let Err(e) = store::set(&format!("{prefix}{i}"), Some(&value)) {
            failure = (errno(e.code), e.message);
            break;
        }
        written += 1;
    }
    Ok(ok(json!({
        "written": written,
        "errno": failure.0,
        "message": failure.1,
    })
    .to_string()))
}

fn kv_prefix(args: &Args) -> Reply {
    let prefix = args.string("key_prefix").unwrap_or_default();
    let pairs = store::get_prefix(&prefix).map_err(host)?;
    let bytes: usize = pairs.iter().map(|(k, v)| k.len() + v.len()).sum();
    Ok(ok(json!({"keys": pairs.len(), "bytes": bytes}).to_string()))
}

/// The characters a narrower prefix is tried with when a listing is too big.
const KEY_CHARS: &str = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-./:";

/// Delete the keys starting with `prefix` (but `script`); the number deleted. A listing the
/// host refuses as too big is split by the next character, `depth` times at most.
fn delete_prefix(prefix: &str, depth: u32) -> Result<u64, Error> {
    let keys: Vec<String> = match store::get_prefix(prefix) {
        Ok(pairs) => pairs.into_iter().map(|(k, _)| k).collect(),
        Err(e) if e.code == ErrorCode::TooBig && depth > 0 => {
            let mut deleted = 0;
            if !prefix.is_empty() && prefix != "script" && store::get(prefix)?.is_some() {
                store::set(prefix, None)?;
                deleted += 1;
            }
            for c in KEY_CHARS.chars() {
                deleted += delete_prefix(&format!("{prefix}{c}"), depth - 1)?;
            }
            return Ok(deleted);
        }
        Err(e) => return Err(e),
    };
    let mut deleted = 0;
    for key in keys.iter().filter(|k| *k != "script") {
        store::set(key, None)?;
        deleted += 1;
    }
    Ok(deleted)
}

fn kv_rm(args: &Args) -> Reply {
    let prefix = args.string("key_prefix").unwrap_or_default();
    let deleted = delete_prefix(&prefix, 3).map_err(host)?;
    Ok(ok(json!({ "deleted": deleted }).to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GetInput {
    name: Str,
}

fn get(inbuf: &str) -> Reply {
    let input: GetInput = parse(inbuf, "JSON {name}")?;
    let out = match cluster::get(&input.name.expand()) {
        Ok(data) => {
            json!({"errno": 0, "bytes": data.len(), "message_bytes": 0, "message_head": ""})
        }
        Err(e) => json!({
            "errno": errno(e.code),
            "bytes": 0,
            "message_bytes": e.message.len(),
            "message_head": e.message.chars().take(200).collect::<String>(),
        }),
    };
    Ok(ok(out.to_string()))
}
