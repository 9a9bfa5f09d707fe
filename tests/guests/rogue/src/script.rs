//! The script that drives the module: what `describe` declares, and how long `describe` and
//! `shutdown` sleep.
//!
//! Every field is optional:
//!
//! ```json
//! {
//!   "name": "rogue", "version": "0.1.0", "can_run": true, "error_string": "",
//!   "describe_sleep_ms": 0, "shutdown_sleep_ms": 0,
//!   "commands": [{"prefix": "rogue echo", "args": [{"name": "retval", "type": "int"}],
//!                 "extra_args": 0, "desc": "...", "perm": "r", "poll": false,
//!                 "action": "echo"}],
//!   "extra_commands": 0,
//!   "options": [{"name": "text", "type": "str", "default": "", "desc": "..."}],
//!   "extra_options": 0,
//!   "notify": ["pg_summary"]
//! }
//! ```
//!
//! An argument is `{name, type, required, repeated, choices, goodchars, range_int,
//! range_float}`; `type` is one of `str`, `int`, `float`, `bool`, `choices`, `poolname`,
//! `objectname`, `osdname`, `pgid` (default `str`), `required` defaults to true. A command's
//! `action` is one of [`Action`]'s names; without one it is the prefix after its first word
//! (`rogue kv fill` is `kv fill`), else `echo`. `extra_args: N` appends N optional string
//! arguments `a<i>`; `extra_commands: N` declares N more commands `<name> c<i>` (echo), and
//! `extra_options: N` N more string options `o<i>`.
//!
//! Wherever a string is expected, `{"repeat": "<s>", "times": N}` stands for `s` repeated N
//! times, so a test can ask for a 20 MiB string without sending one.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::bindings::exports::wasmgr::mgr::module::{
    ArgRange, ArgType, CommandArg, CommandDecl, ModuleInfo, NotifyKind, OptionDecl, OptionType,
    Perm,
};
use crate::bindings::wasmgr::mgr::types::OptionValue;

/// A string, or one repeated (`{"repeat": "ab", "times": 3}` is `"ababab"`).
#[derive(Deserialize, Clone, Debug)]
#[serde(untagged)]
pub enum Str {
    Plain(String),
    Repeat { repeat: String, times: usize },
}

impl Str {
    pub fn expand(&self) -> String {
        match self {
            Str::Plain(s) => s.clone(),
            Str::Repeat { repeat, times } => repeat.repeat(*times),
        }
    }
}

fn expand(s: &Option<Str>, default: &str) -> String {
    s.as_ref().map_or_else(|| default.to_owned(), Str::expand)
}

/// The script.
#[derive(Deserialize, Default, Debug)]
#[serde(default, deny_unknown_fields)]
pub struct Script {
    pub name: Option<Str>,
    pub version: Option<Str>,
    pub can_run: Option<bool>,
    pub error_string: Option<Str>,
    pub describe_sleep_ms: u64,
    pub shutdown_sleep_ms: u64,
    pub commands: Option<Vec<CommandSpec>>,
    pub extra_commands: usize,
    pub options: Option<Vec<OptionSpec>>,
    pub extra_options: usize,
    pub notify: Vec<String>,
}

/// One command declaration.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct CommandSpec {
    pub prefix: Str,
    #[serde(default)]
    pub args: Vec<ArgSpec>,
    #[serde(default)]
    pub extra_args: usize,
    #[serde(default)]
    pub desc: Option<Str>,
    #[serde(default)]
    pub perm: Option<String>,
    #[serde(default)]
    pub poll: bool,
    #[serde(default)]
    pub action: Option<String>,
}

fn yes() -> bool {
    true
}

/// One argument declaration.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ArgSpec {
    pub name: Str,
    #[serde(rename = "type", default)]
    pub ty: Option<String>,
    #[serde(default = "yes")]
    pub required: bool,
    #[serde(default)]
    pub repeated: bool,
    #[serde(default)]
    pub choices: Vec<Str>,
    #[serde(default)]
    pub goodchars: Option<Str>,
    #[serde(default)]
    pub range_int: Option<(Option<i64>, Option<i64>)>,
    #[serde(default)]
    pub range_float: Option<(Option<f64>, Option<f64>)>,
}

/// One option declaration.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct OptionSpec {
    pub name: Str,
    #[serde(rename = "type", default)]
    pub ty: Option<String>,
    #[serde(default)]
    pub default: Option<Value>,
    #[serde(default)]
    pub min: Option<Value>,
    #[serde(default)]
    pub max: Option<Value>,
    #[serde(default)]
    pub enum_allowed: Vec<Str>,
    #[serde(default)]
    pub desc: Option<Str>,
    #[serde(default)]
    pub runtime: bool,
}

/// What a command does when called (see `actions.rs`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    Echo,
    Sleep,
    Health,
    Log,
    OptionSet,
    KvFill,
    KvPrefix,
    KvRm,
    Get,
    Trap,
    Exit,
}

impl Action {
    fn parse(name: &str) -> Option<Action> {
        Some(match name {
            "echo" => Action::Echo,
            "sleep" => Action::Sleep,
            "health" => Action::Health,
            "log" => Action::Log,
            "option set" | "option_set" => Action::OptionSet,
            "kv fill" | "kv_fill" => Action::KvFill,
            "kv prefix" | "kv_prefix" => Action::KvPrefix,
            "kv rm" | "kv_rm" => Action::KvRm,
            "get" => Action::Get,
            "trap" => Action::Trap,
            "exit" => Action::Exit,
            _ => return None,
        })
    }
}

/// What an instance keeps of its script.
#[derive(Default, Debug)]
pub struct Loaded {
    /// Each declared prefix with its action.
    pub actions: Vec<(String, Action)>,
    pub shutdown_sleep_ms: u64,
}

impl Loaded {
    pub fn action(&self, prefix: &str) -> Option<Action> {
        self.actions
            .iter()
            .find(|(p, _)| p == prefix)
            .map(|(_, a)| *a)
    }
}

/// A module with nothing declared.
pub fn empty_info() -> ModuleInfo {
    ModuleInfo {
        name: "rogue".into(),
        version: "0.1.0".into(),
        commands: Vec::new(),
        options: Vec::new(),
        notify: Vec::new(),
        can_run: true,
        error_string: String::new(),
    }
}

/// The commands of the default script, under `word`.
fn default_commands(word: &str) -> Result<Vec<CommandSpec>, String> {
    let str_arg = |name: &str| json!({"name": name, "type": "str", "required": false});
    let commands = json!([
        {
            "prefix": format!("{word} echo"),
            "desc": "Answer (retval, stdout repeated times, stderr); -i FILE overrides them with JSON",
            "args": [
                {"name": "retval", "type": "int"},
                str_arg("stdout"),
                str_arg("stderr"),
                {"name": "times", "type": "int", "required": false},
            ],
        },
        {
            "prefix": format!("{word} sleep"),
            "desc": "Sleep ms milliseconds in a blocking WASI call",
            "args": [{"name": "ms", "type": "int"}],
        },
        {
            "prefix": format!("{word} health"),
            "desc": "Raise the health checks of the input file (a JSON list)",
            "perm": "rw",
        },
        {
            "prefix": format!("{word} log"),
            "desc": "Log the input file (or JSON {message, lines})",
            "args": [{
                "name": "level",
                "type": "choices",
                "choices": ["debug", "info", "warning", "error", "critical"],
            }],
        },
        {
            "prefix": format!("{word} option set"),
            "desc": "Set option name to the input file's JSON {value}",
            "perm": "rw",
            "args": [{"name": "name", "type": "str"}],
        },
        {
            "prefix": format!("{word} kv fill"),
            "desc": "Write count keys of size bytes, stopping at the first error",
            "perm": "rw",
            "args": [
                {"name": "count", "type": "int"},
                {"name": "size", "type": "int"},
                str_arg("key_prefix"),
            ],
        },
        {
            "prefix": format!("{word} kv prefix"),
            "desc": "Count the keys starting with key_prefix and their bytes",
            "args": [str_arg("key_prefix")],
        },
        {
            "prefix": format!("{word} kv rm"),
            "desc": "Delete the keys starting with key_prefix",
            "perm": "rw",
            "args": [str_arg("key_prefix")],
        },
        {
            "prefix": format!("{word} get"),
            "desc": "cluster.get of the input file's JSON {name}",
        },
        {
            "prefix": format!("{word} trap"),
            "desc": "Trap",
        },
        {
            "prefix": format!("{word} exit"),
            "desc": "Call WASI's exit with status 3",
        },
    ]);
    serde_json::from_value(commands).map_err(|e| format!("the default commands: {e}"))
}

/// The options of the default script.
fn default_options() -> Vec<OptionSpec> {
    let options = json!([
        {"name": "text", "type": "str", "default": "", "desc": "a string", "runtime": true},
        {"name": "number", "type": "int", "default": 0, "desc": "an int", "runtime": true},
        {"name": "flag", "type": "bool", "default": false, "desc": "a bool", "runtime": true},
    ]);
    serde_json::from_value(options).unwrap_or_default()
}

fn arg_type(name: &str) -> Result<ArgType, String> {
    Ok(match name {
        "str" => ArgType::CephString,
        "int" => ArgType::CephInt,
        "float" => ArgType::CephFloat,
        "bool" => ArgType::CephBool,
        "choices" => ArgType::CephChoices,
        "poolname" => ArgType::CephPoolname,
        "objectname" => ArgType::CephObjectname,
        "osdname" => ArgType::CephOsdName,
        "pgid" => ArgType::CephPgid,
        other => return Err(format!("unknown argument type '{other}'")),
    })
}

fn option_type(name: &str) -> Result<OptionType, String> {
    Ok(match name {
        "str" => OptionType::Str,
        "int" => OptionType::Int,
        "uint" => OptionType::Uint,
        "float" => OptionType::Float,
        "bool" => OptionType::Bool,
        "secs" => OptionType::Secs,
        "size" => OptionType::Size,
        "addr" => OptionType::Addr,
        "uuid" => OptionType::Uuid,
        other => return Err(format!("unknown option type '{other}'")),
    })
}

fn perm(name: Option<&str>) -> Result<Perm, String> {
    Ok(match name.unwrap_or("r") {
        "r" => Perm::R,
        "w" => Perm::W,
        "rw" => Perm::Rw,
        other => return Err(format!("unknown perm '{other}'")),
    })
}

fn notify_kind(name: &str) -> Result<NotifyKind, String> {
    Ok(match name.replace('-', "_").as_str() {
        "mon_map" => NotifyKind::MonMap,
        "osd_map" => NotifyKind::OsdMap,
        "fs_map" => NotifyKind::FsMap,
        "service_map" => NotifyKind::ServiceMap,
        "mgr_map" => NotifyKind::MgrMap,
        "health" => NotifyKind::Health,
        "pg_summary" => NotifyKind::PgSummary,
        "clog" => NotifyKind::Clog,
        "command" => NotifyKind::Command,
        "perf_schema_update" => NotifyKind::PerfSchemaUpdate,
        other => return Err(format!("unknown notify kind '{other}'")),
    })
}

/// A JSON value as an option value of type `ty`; a `{"repeat"..}` object is a string.
pub fn option_value(ty: OptionType, value: &Value) -> Result<OptionValue, String> {
    let wrong = || format!("{value} is not a value of an option of type {ty:?}");
    Ok(match ty {
        OptionType::Str | OptionType::Addr | OptionType::Uuid => {
            let s: Str = serde_json::from_value(value.clone()).map_err(|_| wrong())?;
            OptionValue::Str(s.expand())
        }
        OptionType::Int | OptionType::Uint | OptionType::Secs | OptionType::Size => {
            OptionValue::Int(value.as_i64().ok_or_else(wrong)?)
        }
        OptionType::Float => OptionValue::Float(value.as_f64().ok_or_else(wrong)?),
        OptionType::Bool => OptionValue::Bool(value.as_bool().ok_or_else(wrong)?),
    })
}

impl ArgSpec {
    fn declare(&self) -> Result<CommandArg, String> {
        let range = match (self.range_int, self.range_float) {
            (Some((lo, hi)), _) => Some(ArgRange::Int((lo, hi))),
            (None, Some((lo, hi))) => Some(ArgRange::Float((lo, hi))),
            (None, None) => None,
        };
        Ok(CommandArg {
            name: self.name.expand(),
            type_: arg_type(self.ty.as_deref().unwrap_or("str"))?,
            required: self.required,
            repeated: self.repeated,
            range,
            choices: self.choices.iter().map(Str::expand).collect(),
            goodchars: self.goodchars.as_ref().map(Str::expand),
        })
    }
}

impl CommandSpec {
    fn declare(&self) -> Result<(CommandDecl, Action), String> {
        let prefix = self.prefix.expand();
        let action = match &self.action {
            Some(name) => Action::parse(name).ok_or_else(|| format!("unknown action '{name}'"))?,
            None => prefix
                .split_once(' ')
                .and_then(|(_, rest)| Action::parse(rest))
                .unwrap_or(Action::Echo),
        };
        let mut args = self
            .args
            .iter()
            .map(ArgSpec::declare)
            .collect::<Result<Vec<_>, _>>()?;
        args.extend((0..self.extra_args).map(|i| CommandArg {
            name: format!("a{i}"),
            type_: ArgType::CephString,
            required: false,
            repeated: false,
            range: None,
            choices: Vec::new(),
            goodchars: None,
        }));
        let decl = CommandDecl {
            desc: expand(&self.desc, &format!("rogue {action:?}")),
            prefix,
            args,
            perm: perm(self.perm.as_deref())?,
            poll: self.poll,
        };
        Ok((decl, action))
    }
}

impl OptionSpec {
    fn declare(&self) -> Result<OptionDecl, String> {
        let ty = option_type(self.ty.as_deref().unwrap_or("str"))?;
        let value = |v: &Option<Value>| v.as_ref().map(|v| option_value(ty, v)).transpose();
        Ok(OptionDecl {
            name: self.name.expand(),
            type_: ty,
            default: value(&self.default)?,
            min: value(&self.min)?,
            max: value(&self.max)?,
            enum_allowed: self.enum_allowed.iter().map(Str::expand).collect(),
            desc: expand(&self.desc, ""),
            long_desc: String::new(),
            runtime: self.runtime,
        })
    }
}

impl Script {
    /// The module's declarations, and what an instance keeps of them.
    pub fn declare(&self) -> Result<(ModuleInfo, Loaded), String> {
        let name = expand(&self.name, "rogue");
        let specs = match &self.commands {
            Some(_) => None,
            None => Some(default_commands(&name)?),
        };
        let specs = specs.as_ref().or(self.commands.as_ref());
        let mut commands = Vec::new();
        let mut actions = Vec::new();
        for spec in specs.into_iter().flatten() {
            let (decl, action) = spec.declare()?;
            actions.push((decl.prefix.clone(), action));
            commands.push(decl);
        }
        for i in 0..self.extra_commands {
            let prefix = format!("{name} c{i}");
            actions.push((prefix.clone(), Action::Echo));
            commands.push(CommandDecl {
                prefix,
                args: Vec::new(),
                desc: String::new(),
                perm: Perm::R,
                poll: false,
            });
        }
        let option_specs = match &self.options {
            Some(_) => None,
            None => Some(default_options()),
        };
        let mut options = option_specs
            .as_ref()
            .or(self.options.as_ref())
            .into_iter()
            .flatten()
            .map(OptionSpec::declare)
            .collect::<Result<Vec<_>, _>>()?;
        options.extend((0..self.extra_options).map(|i| OptionDecl {
            name: format!("o{i}"),
            type_: OptionType::Str,
            default: None,
            min: None,
            max: None,
            enum_allowed: Vec::new(),
            desc: String::new(),
            long_desc: String::new(),
            runtime: true,
        }));
        let notify = self
            .notify
            .iter()
            .map(|n| notify_kind(n))
            .collect::<Result<Vec<_>, _>>()?;
        let info = ModuleInfo {
            name,
            version: expand(&self.version, "0.1.0"),
            commands,
            options,
            notify,
            can_run: self.can_run.unwrap_or(true),
            error_string: expand(&self.error_string, ""),
        };
        let loaded = Loaded {
            actions,
            shutdown_sleep_ms: self.shutdown_sleep_ms,
        };
        Ok((info, loaded))
    }
}
