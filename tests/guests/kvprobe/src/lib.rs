//! Test guest: thin commands over the store, config, cluster, health and log imports, so
//! host tests can drive every host call from the CLI side.
//!
//! Host errors come back as their errno with the host's message on stderr.

use serde_json::{Map, Value};
use wasmgr_guest::health::{self, HealthCheck};
use wasmgr_guest::log::{self, Level};
use wasmgr_guest::{
    ErrorResponse, HandleCommandResult, MgrModule, ModuleOption, NotifyKind, OptionValue, cluster,
    config, errno, store,
};

wasmgr_guest::manifest!(
    r#"
[requests]
get = ["*"]
store = true
health = true
"#
);

#[derive(Default)]
struct Kvprobe;

impl MgrModule for Kvprobe {
    const NAME: &'static str = "kvprobe";
    const VERSION: &'static str = "0.1.0";
    const NOTIFY: &'static [NotifyKind] = &[NotifyKind::PgSummary];

    /// Counts `pg_summary` notifies in the store key `notified`.
    fn notify(&mut self, _kind: NotifyKind, _id: &str) {
        let n = store::get("notified")
            .ok()
            .flatten()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        let _ = store::set("notified", Some(&(n + 1).to_string()));
    }

    fn options() -> Vec<ModuleOption> {
        vec![
            ModuleOption::int("count")
                .default(3)
                .min(1)
                .max(10)
                .desc("an int in 1..=10"),
            ModuleOption::float("ratio")
                .default(0.5)
                .min(0)
                .max(1)
                .desc("a float in 0..=1"),
            ModuleOption::bool("enabled").default(false).desc("a bool"),
            ModuleOption::str("mode")
                .default("fast")
                .enum_allowed(["fast", "slow"])
                .desc("fast or slow"),
            ModuleOption::secs("interval").default(60).desc("seconds"),
        ]
    }
}

wasmgr_guest::choices! {
    enum LogLevel {
        Debug = "debug",
        Info = "info",
        Warning = "warning",
        Error = "error",
        Critical = "critical",
    }
}

type Reply = Result<HandleCommandResult, ErrorResponse>;

#[wasmgr_guest::commands]
impl Kvprobe {
    /// Store a value
    #[write("kvprobe set")]
    fn set(&mut self, key: String, value: String) -> Reply {
        store::set(&key, Some(&value))?;
        Ok(HandleCommandResult::default())
    }

    /// Print a stored value
    #[read("kvprobe get")]
    fn get(&mut self, key: String) -> Reply {
        found(store::get(&key)?, &key)
    }

    /// Delete a stored value
    #[write("kvprobe rm")]
    fn rm(&mut self, key: String) -> Reply {
        store::set(&key, None)?;
        Ok(HandleCommandResult::default())
    }

    /// Print every key starting with key_prefix, and its value, as a JSON object
    ///
    /// The argument cannot be called `prefix`: that key of a command map holds the command.
    #[read("kvprobe prefix", responder)]
    fn prefix(&mut self, key_prefix: String) -> Result<Map<String, Value>, ErrorResponse> {
        let pairs = store::get_prefix(&key_prefix)?;
        Ok(pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect())
    }

    /// Store a value for this manager only
    #[write("kvprobe localized set")]
    fn localized_set(&mut self, key: String, value: String) -> Reply {
        store::set_localized(&key, Some(&value))?;
        Ok(HandleCommandResult::default())
    }

    /// Print a value stored for this manager, else the module-wide one
    #[read("kvprobe localized get")]
    fn localized_get(&mut self, key: String) -> Reply {
        found(store::get_localized(&key)?, &key)
    }

    /// Print an option's typed value as JSON (null if it has none)
    #[read("kvprobe opt get")]
    fn opt_get(&mut self, name: String) -> Reply {
        let value: Option<OptionValue> = config::get_module_option(&name)?;
        Ok(HandleCommandResult::ok(
            value.map_or(Value::Null, Value::from).to_string(),
        ))
    }

    /// Set an option from a JSON value (null reverts it to its default)
    #[write("kvprobe opt set")]
    fn opt_set(&mut self, name: String, value: String) -> Reply {
        let json: Value = serde_json::from_str(&value)
            .map_err(|e| ErrorResponse::invalid(format!("value is not JSON: {e}")))?;
        match OptionValue::from_json(&json) {
            Some(typed) => config::set_module_option(&name, typed)?,
            None if json.is_null() => config::reset_module_option(&name)?,
            None => {
                return Err(ErrorResponse::invalid(
                    "value must be a JSON scalar or null",
                ));
            }
        }
        Ok(HandleCommandResult::default())
    }

    /// Print the raw JSON of one cluster data name
    #[read("kvprobe get_data")]
    fn get_data(&mut self, name: String) -> Reply {
        Ok(HandleCommandResult::ok(cluster::get_raw(&name)?))
    }

    /// Raise one warning health check
    #[write("kvprobe health set")]
    fn health_set(&mut self, code: String, summary: String) -> Reply {
        let check = HealthCheck::warning(code, summary)
            .count(1)
            .detail(["raised by kvprobe"]);
        health::set_health_checks(&[check])?;
        Ok(HandleCommandResult::default())
    }

    /// Clear the module's health checks
    #[write("kvprobe health clear")]
    fn health_clear(&mut self) -> Reply {
        health::clear()?;
        Ok(HandleCommandResult::default())
    }

    /// Write one line to the module's log
    #[write("kvprobe log")]
    fn log(&mut self, level: LogLevel, message: String) -> Reply {
        let level = match level {
            LogLevel::Debug => Level::Debug,
            LogLevel::Info => Level::Info,
            LogLevel::Warning => Level::Warning,
            LogLevel::Error => Level::Error,
            LogLevel::Critical => Level::Critical,
        };
        log::log(level, &message);
        Ok(HandleCommandResult::default())
    }
}

fn found(value: Option<String>, key: &str) -> Reply {
    match value {
        Some(value) => Ok(HandleCommandResult::ok(value)),
        None => Err(ErrorResponse::new(
            -errno::ENOENT,
            format!("key '{key}' not found"),
        )),
    }
}

wasmgr_guest::export_module!(Kvprobe);
