//! The host's own commands: `module …`, `config …`, `config-key …`, `health`, `status`.
//! They are declared with the same types as module commands, so `--help`, argument checking
//! and perms work the same way for both.

use std::time::UNIX_EPOCH;

use serde_json::{Map, Value, json};

use crate::bindings::{ArgType, CommandArg, CommandDecl, ErrorCode, OptionValue, Perm};
use crate::command;
use crate::format::{self, Format, render};
use crate::health;
use crate::limits;
use crate::manager::{CommandReply, Manager, perm_name};
use crate::module_env::{ModuleEnv, OptionAccessError};
use crate::options;
use crate::persist::{PersistError, Space};
use crate::supervisor::ModuleState;
use crate::supervisor::OpError;

/// A string argument of a host command.
pub(crate) fn arg(name: &str, required: bool) -> CommandArg {
    CommandArg {
        name: name.into(),
        type_: ArgType::CephString,
        required,
        repeated: false,
        range: None,
        choices: Vec::new(),
        goodchars: None,
    }
}

fn int_arg(name: &str, lo: i64, hi: i64) -> CommandArg {
    CommandArg {
        type_: ArgType::CephInt,
        range: Some(crate::bindings::ArgRange::Int((Some(lo), Some(hi)))),
        ..arg(name, false)
    }
}

fn choices_arg(name: &str, choices: &[&str]) -> CommandArg {
    CommandArg {
        type_: ArgType::CephChoices,
        choices: choices.iter().map(|c| (*c).to_owned()).collect(),
        ..arg(name, false)
    }
}

/// A host command's declaration.
pub(crate) fn cmd(prefix: &str, args: Vec<CommandArg>, desc: &str, perm: Perm) -> CommandDecl {
    CommandDecl {
        prefix: prefix.into(),
        args,
        desc: desc.into(),
        perm,
        poll: false,
    }
}

/// The built-in command declarations.
pub fn commands() -> Vec<CommandDecl> {
    let mut all = own_commands();
    all.extend(crate::audit::commands());
    all.extend(crate::clients::commands());
    all
}

fn own_commands() -> Vec<CommandDecl> {
    vec![
        cmd(
            "module ls",
            vec![],
            "List modules with their state",
            Perm::R,
        ),
        cmd(
            "module enable",
            vec![arg("module", true)],
            "Enable a module (restarts a failed one)",
            Perm::Rw,
        ),
        cmd(
            "module disable",
            vec![arg("module", true)],
            "Disable a module",
            Perm::Rw,
        ),
        cmd(
            "module info",
            vec![arg("module", true)],
            "Show a module's digest, limits, commands, options and counters",
            Perm::R,
        ),
        cmd(
            "config get",
            vec![arg("key", true)],
            "Show a module option: mgr/<module>/<option>",
            Perm::R,
        ),
        cmd(
            "config set",
            vec![arg("key", true), arg("value", true)],
            "Set a module option: mgr/<module>/<option> <value>",
            Perm::Rw,
        ),
        cmd(
            "config rm",
            vec![arg("key", true)],
            "Revert a module option to its default",
            Perm::Rw,
        ),
        cmd(
            "config ls",
            vec![arg("module", false)],
            "List module options with their values",
            Perm::R,
        ),
        cmd(
            "config-key get",
            vec![arg("key", true)],
            "Show a config-key value",
            Perm::R,
        ),
        cmd(
            "config-key set",
            vec![arg("key", true), arg("val", false)],
            "Set a config-key value (or from -i FILE)",
            Perm::Rw,
        ),
        cmd(
            "config-key rm",
            vec![arg("key", true)],
            "Delete a config-key",
            Perm::Rw,
        ),
        cmd(
            "config-key exists",
            vec![arg("key", true)],
            "Check whether a config-key exists",
            Perm::R,
        ),
        cmd("config-key ls", vec![], "List config-keys", Perm::R),
        cmd(
            "config-key dump",
            vec![arg("key", false)],
            "Dump config-keys and values, optionally under a prefix",
            Perm::R,
        ),
        cmd("health", vec![], "Show cluster manager health", Perm::R),
        cmd(
            "health detail",
            vec![],
            "Show health with every check's detail",
            Perm::R,
        ),
        cmd("status", vec![], "Show the daemon's status", Perm::R),
        cmd(
            "log last",
            vec![
                int_arg("num", 1, crate::clog::CLOG_ENTRIES as i64),
                choices_arg("channel", &["cluster", "audit", "*"]),
            ],
            "Show the last entries of the cluster log (default 20, channel cluster)",
            Perm::R,
        ),
    ]
}

/// Client input quoted in a message: bounded and escaped.
fn q(s: &str) -> String {
    crate::sanitize::quote(s)
}

fn s<'a>(args: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    args.get(name).and_then(Value::as_str)
}

/// Run built-in command `prefix` for admin client `client`.
pub fn run(
    m: &Manager,
    prefix: &str,
    args: &Map<String, Value>,
    fmt: Format,
    inbuf: &str,
    client: &str,
) -> CommandReply {
    if crate::audit::owns(prefix) {
        return crate::audit::run(m, prefix, args, fmt, client);
    }
    if crate::clients::owns(prefix) {
        return crate::clients::run(m, prefix, args, fmt, client);
    }
    let arg = |n: &str| s(args, n).unwrap_or_default();
    let done = |r: Result<(), OpError>| match r {
        Ok(()) => CommandReply::ok(""),
        Err(e) => CommandReply::err(e.errno, e.message),
    };
    match prefix {
        "module ls" => module_ls(m, fmt),
        "module enable" => done(m.supervisor.enable(arg("module"))),
        "module disable" => done(m.supervisor.disable(arg("module"))),
        "module info" => module_info(m, arg("module"), fmt),
        "config get" => config_get(m, arg("key"), fmt),
        "config set" => config_set(m, arg("key"), Some(arg("value")), client),
        "config rm" => config_set(m, arg("key"), None, client),
        "config ls" => config_ls(m, s(args, "module"), fmt),
        "health" | "health detail" => {
            let detail = prefix == "health detail";
            let checks = m.health_checks();
            let v = health::to_json(&checks, detail);
            CommandReply::ok(render(&v, fmt, || health::to_plain(&checks, detail)))
        }
        "status" => status(m, fmt),
        "log last" => log_last(m, args, fmt),
        _ if prefix.starts_with("config-key ") => config_key(m, prefix, args, fmt, inbuf, client)
            .unwrap_or_else(|e| CommandReply::err(5, e.to_string())),
        other => CommandReply::err(22, format!("no built-in command '{other}'")),
    }
}

/// A success whose only output is a note on stderr, as `ceph config-key set` prints.
fn noted(note: String) -> CommandReply {
    CommandReply {
        retval: 0,
        stdout: String::new(),
        stderr: note,
    }
}

/// The `config-key` commands: the operator's view of the KV space, answered as the `ceph`
/// CLI answers them. Listings default to indented JSON, as Ceph's do.
fn config_key(
    m: &Manager,
    prefix: &str,
    args: &Map<String, Value>,
    fmt: Format,
    inbuf: &str,
    client: &str,
) -> Result<CommandReply, PersistError> {
    let key = s(args, "key").unwrap_or_default();
    let listing = if fmt == Format::Plain {
        Format::JsonPretty
    } else {
        fmt
    };
    Ok(match prefix {
        "config-key get" => match m.persist.get(Space::Kv, key)? {
            Some(v) => CommandReply::ok(v),
            None => CommandReply::err(
                2,
                format!(
                    "error obtaining '{}': (2) No such file or directory",
                    q(key)
                ),
            ),
        },
        "config-key set" => {
            let value = s(args, "val").unwrap_or(inbuf);
            if value.len() > limits::KV_VALUE_BYTES {
                return Ok(CommandReply::err(
                    7,
                    format!(
                        "value of {} bytes is over the limit of {} bytes",
                        value.len(),
                        limits::KV_VALUE_BYTES
                    ),
                ));
            }
            m.persist.set(Space::Kv, key, Some(value))?;
            forget_usage(m, key);
            let detail = format!("config-key set {} ({} bytes)", q(key), value.len());
            recorded(
                m,
                key_module(key),
                detail,
                client,
                noted(format!("set {}", q(key))),
            )
        }
        "config-key rm" => {
            m.persist.set(Space::Kv, key, None)?;
            forget_usage(m, key);
            let detail = format!("config-key rm {}", q(key));
            recorded(
                m,
                key_module(key),
                detail,
                client,
                noted("key deleted".into()),
            )
        }
        "config-key exists" => match m.persist.get(Space::Kv, key)? {
            Some(_) => noted(format!("key '{}' exists", q(key))),
            None => CommandReply::err(2, format!("key '{}' doesn't exist", q(key))),
        },
        "config-key ls" => {
            let Some(rows) = m.persist.list_within(Space::Kv, "", LISTING_BYTES, true)? else {
                return Ok(too_long("config-key ls"));
            };
            let keys: Vec<String> = rows.into_iter().map(|(k, _)| k).collect();
            CommandReply::ok(render(&json!(keys), listing, String::new))
        }
        "config-key dump" => {
            let Some(rows) = m
                .persist
                .list_within(Space::Kv, key, LISTING_BYTES, false)?
            else {
                return Ok(too_long("config-key dump"));
            };
            let map: Map<String, Value> = rows
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            CommandReply::ok(render(&Value::Object(map), listing, String::new))
        }
        other => CommandReply::err(22, format!("no built-in command '{other}'")),
    })
}

/// The most a listing reads of keys and values before it gives up: half the output limit, as
/// rendering (JSON escapes, indentation) may double it.
const LISTING_BYTES: usize = limits::COMMAND_OUTPUT_BYTES / 2;

/// A listing larger than [`LISTING_BYTES`], refused before it is built.
fn too_long(what: &str) -> CommandReply {
    CommandReply::err(
        7,
        format!(
            "{what} would list over {LISTING_BYTES} bytes: give a key prefix, such as mgr/<module>/"
        ),
    )
}

/// An operator wrote `key` directly: if it is a module's, that module's counted store usage
/// is stale.
fn forget_usage(m: &Manager, key: &str) {
    if let Some(module) = key.strip_prefix("mgr/").and_then(|k| k.split('/').next())
        && let Some(env) = m.supervisor.env(module)
    {
        env.invalidate_usage();
    }
}

fn state_reason(name: &str, state: &ModuleState) -> Option<String> {
    match state {
        ModuleState::Failed { reason, .. } => Some(reason.clone()),
        ModuleState::Ungranted { missing, .. } => Some(format!(
            "needs capabilities; grant them with: {}",
            crate::caps::grant_command(name, missing)
        )),
        _ => None,
    }
}

fn module_ls(m: &Manager, fmt: Format) -> CommandReply {
    let list = m.supervisor.list();
    let rows: Vec<Value> = list
        .iter()
        .map(|s| {
            let mut row = json!({
                "name": s.name,
                "state": s.state.name(),
                "enabled": m.supervisor.enabled(s),
                "version": s.module.as_ref().map(|x| x.info.version.clone()),
                "digest": match &s.state {
                    ModuleState::Ungranted { digest, .. } => Some(digest.clone()),
                    _ => s.module.as_ref().map(|x| x.digest.clone()),
                },
                "commands": s.module.as_ref().map_or(0, |x| x.info.commands.len()),
            });
            if let Some(reason) = state_reason(&s.name, &s.state) {
                row["reason"] = json!(reason);
            }
            row
        })
        .collect();
    let v = Value::Array(rows);
    CommandReply::ok(render(&v, fmt, || {
        let rows: Vec<Vec<String>> =
            list.iter()
                .map(|s| {
                    vec![
                        s.name.clone(),
                        s.state.name().into(),
                        s.module
                            .as_ref()
                            .map_or("-".into(), |x| x.info.version.clone()),
                        match &s.state {
                            ModuleState::Ungranted { digest, .. } => {
                                digest.get(..12).unwrap_or("-").to_owned()
                            }
                            _ => s.module.as_ref().map_or("-".into(), |x| {
                                x.digest.get(..12).unwrap_or("-").to_owned()
                            }),
                        },
                        state_reason(&s.name, &s.state).unwrap_or_default(),
                    ]
                })
                .collect();
        format::table(&["MODULE", "STATE", "VERSION", "DIGEST", "REASON"], &rows)
    }))
}

/// An option value for display: a string value is the module's text, shown on one line.
fn option_json(v: &Option<OptionValue>) -> Value {
    match v {
        None => Value::Null,
        Some(OptionValue::Str(s)) => json!(crate::sanitize::line(s, limits::OPTION_VALUE_BYTES)),
        Some(OptionValue::Int(i)) => json!(i),
        Some(OptionValue::Float(f)) => json!(f),
        Some(OptionValue::Bool(b)) => json!(b),
    }
}

fn option_text(v: &Option<OptionValue>) -> String {
    let text = v.as_ref().map(options::to_stored).unwrap_or_default();
    crate::sanitize::line(&text, limits::OPTION_VALUE_BYTES)
}

fn module_info(m: &Manager, name: &str, fmt: Format) -> CommandReply {
    let Some(s) = m.supervisor.list().into_iter().find(|s| s.name == name) else {
        return CommandReply::err(
            2,
            format!("no module '{}'; see 'wasmgr module ls'", q(name)),
        );
    };
    let mut v = json!({
        "name": s.name,
        "state": s.state.name(),
        "path": s.path.display().to_string(),
    });
    if let ModuleState::Ungranted {
        missing, digest, ..
    } = &s.state
    {
        v["reason"] = json!(state_reason(&s.name, &s.state));
        v["digest"] = json!(format!("sha256:{digest}"));
        v["ungranted"] = json!(missing.iter().map(ToString::to_string).collect::<Vec<_>>());
        v["grant_command"] = json!(crate::caps::grant_command(&s.name, missing));
    }
    if let ModuleState::Failed { reason, since } = &s.state {
        v["reason"] = json!(reason);
        v["failed_since"] = json!(
            since
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        );
    }
    if let Some(t) = &s.last_trap {
        v["last_trap"] = json!(t);
    }
    if let Some(x) = &s.module {
        let env = &x.env;
        let opts = env.options();
        let options: Vec<Value> = opts
            .iter()
            .map(|d| {
                json!({
                    "name": d.name,
                    "type": options::describe_type(d),
                    "default": option_json(&d.default),
                    "value": option_json(&env.option(&d.name, false).ok().flatten()),
                    "desc": d.desc,
                    "runtime": d.runtime,
                })
            })
            .collect();
        let commands: Vec<Value> = x
            .info
            .commands
            .iter()
            .map(|c| json!({"usage": command::usage(c), "desc": c.desc, "perm": perm_name(c.perm), "poll": c.poll}))
            .collect();
        let st = &env.stats;
        let ld = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        v["version"] = json!(x.info.version);
        v["digest"] = json!(format!("sha256:{}", x.digest));
        v["signer"] = match &x.signer {
            Some(signer) => json!(signer),
            None => json!("unsigned"),
        };
        v["description"] = json!(x.manifest.description);
        v["can_run"] = json!(x.info.can_run);
        v["error_string"] = json!(x.info.error_string);
        v["load_ms"] = json!(x.load_time.as_secs_f64() * 1000.0);
        v["compiled_from_cache"] = json!(matches!(
            x.cache,
            crate::cache::CacheOutcome::Hit | crate::cache::CacheOutcome::Memory
        ));
        v["limits"] = serde_json::to_value(&env.limits).unwrap_or(Value::Null);
        v["notify"] = json!(
            x.info
                .notify
                .iter()
                .map(|k| crate::manager::notify_name(*k))
                .collect::<Vec<_>>()
        );
        v["commands"] = json!(commands);
        v["options"] = json!(options);
        v["stats"] = json!({
            "calls": ld(&st.calls), "traps": ld(&st.traps), "restarts": ld(&st.restarts), "log_dropped": ld(&st.log_dropped),
        });
        v["memory"] = json!({
            "used_bytes": ld(&st.memory_bytes),
            "high_water_bytes": ld(&st.memory_high_water),
            "limit_bytes": env.limits.memory_bytes,
        });
        if let Ok(u) = env.store_usage() {
            v["store"] = json!({
                "keys": u.keys,
                "bytes": u.bytes,
                "quota_keys": env.limits.kv_keys,
                "quota_bytes": env.limits.store_quota_bytes(),
            });
        }
    }
    let pretty = serde_norway::to_string(&v).unwrap_or_default();
    CommandReply::ok(render(&v, fmt, || pretty))
}

/// Split `mgr/<module>/<option>` or `mgr/<module>/<mgr-id>/<option>`.
fn split_key<'a>(m: &Manager, key: &'a str) -> Result<(&'a str, &'a str, bool), CommandReply> {
    let parts: Vec<&str> = key.split('/').collect();
    match parts.as_slice() {
        ["mgr", module, option] => Ok((module, option, false)),
        ["mgr", module, id, option] if *id == m.config.mgr_id => Ok((module, option, true)),
        _ => Err(CommandReply::err(
            22,
            format!(
                "'{}' is not a module option: use mgr/<module>/<option> (or mgr/<module>/{}/<option> for this manager only)",
                q(key),
                m.config.mgr_id
            ),
        )),
    }
}

fn module_env(m: &Manager, module: &str) -> Result<std::sync::Arc<ModuleEnv>, CommandReply> {
    if let Some(env) = m.supervisor.env(module) {
        return Ok(env);
    }
    if m.supervisor.knows(module) {
        Err(CommandReply::err(
            5,
            format!(
                "module '{module}' has not loaded, so its options are unknown; see 'wasmgr module info {module}'"
            ),
        ))
    } else {
        Err(CommandReply::err(
            2,
            format!("no module '{}'; see 'wasmgr module ls'", q(module)),
        ))
    }
}

/// An option failure as a reply: reading an undeclared option is ENOENT, as `ceph config
/// get` answers; every other option error (including setting an undeclared one) is EINVAL.
fn option_error(e: OptionAccessError, reading: bool) -> CommandReply {
    let errno = match &e {
        OptionAccessError::Option(o) if reading && o.error_code() == ErrorCode::NotFound => 2,
        OptionAccessError::Option(o) if o.error_code() == ErrorCode::TooBig => 7,
        OptionAccessError::Option(_) => 22,
        OptionAccessError::Quota(_) => 28,
        OptionAccessError::Persist(_) => 5,
    };
    CommandReply::err(errno, e.to_string())
}

fn config_get(m: &Manager, key: &str, fmt: Format) -> CommandReply {
    let (module, option, localized) = match split_key(m, key) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let env = match module_env(m, module) {
        Ok(e) => e,
        Err(r) => return r,
    };
    match env.option(option, localized) {
        Ok(v) => CommandReply::ok(render(&option_json(&v), fmt, || {
            format!("{}\n", option_text(&v))
        })),
        Err(e) => option_error(e, true),
    }
}

fn config_set(m: &Manager, key: &str, value: Option<&str>, client: &str) -> CommandReply {
    let (module, option, localized) = match split_key(m, key) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let env = match module_env(m, module) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let typed = match value.map(|v| env.options().parse(option, v)).transpose() {
        Ok(v) => v,
        Err(e) => return option_error(e.into(), false),
    };
    match env.set_option(option, typed, localized) {
        // The value is in the event: module options are settings, not secrets (those go to
        // config-key, whose events name only the key).
        Ok(()) => {
            let detail = match value {
                Some(v) => format!(
                    "config set {} {}",
                    q(key),
                    crate::sanitize::line(v, limits::OPTION_VALUE_BYTES)
                ),
                None => format!("config rm {} (back to its default)", q(key)),
            };
            recorded(m, Some(module), detail, client, CommandReply::ok(""))
        }
        Err(e) => option_error(e, false),
    }
}

/// The module a config-key belongs to (`mgr/<module>/…`), if any.
fn key_module(key: &str) -> Option<&str> {
    key.strip_prefix("mgr/")
        .and_then(|k| k.split_once('/'))
        .map(|(module, _)| module)
}

/// `reply` to a change that `client` made, once the audit ledger holds a `config` event
/// saying so; if it cannot be written, the change stands and the reply says it is
/// unrecorded.
fn recorded(
    m: &Manager,
    module: Option<&str>,
    detail: String,
    client: &str,
    reply: CommandReply,
) -> CommandReply {
    let event = crate::ledger::Event::new(crate::ledger::EventKind::Config, module, detail)
        .client(Some(client));
    match m.supervisor.ledger().event_now(event) {
        Ok(()) => reply,
        Err(e) => CommandReply::err(
            5,
            format!("the change was made, but the audit ledger cannot record it ({e})"),
        ),
    }
}

fn config_ls(m: &Manager, only: Option<&str>, fmt: Format) -> CommandReply {
    let mut rows = Vec::new();
    let mut values = Map::new();
    for s in m.supervisor.list() {
        if only.is_some_and(|o| o != s.name) {
            continue;
        }
        let Some(x) = &s.module else { continue };
        let env = &x.env;
        for d in env.options().iter() {
            let key = format!("mgr/{}/{}", s.name, d.name);
            let value = env.option(&d.name, false).ok().flatten();
            let set = m.persist.get(Space::Config, &key).ok().flatten().is_some();
            rows.push(vec![
                key.clone(),
                option_text(&value),
                if set { "set".into() } else { "default".into() },
                options::describe_type(d),
            ]);
            values.insert(key, option_json(&value));
        }
    }
    if let Some(o) = only
        && !m.supervisor.knows(o)
    {
        return CommandReply::err(2, format!("no module '{}'; see 'wasmgr module ls'", q(o)));
    }
    let v = Value::Object(values);
    CommandReply::ok(render(&v, fmt, || {
        format::table(&["OPTION", "VALUE", "SOURCE", "TYPE"], &rows)
    }))
}

/// `log last [num] [channel]`, as `ceph log last` prints it.
fn log_last(m: &Manager, args: &Map<String, Value>, fmt: Format) -> CommandReply {
    let n = args.get("num").and_then(Value::as_u64).unwrap_or(20) as usize;
    let channel = match s(args, "channel") {
        Some("*") => None,
        Some(c) => Some(c),
        None => Some("cluster"),
    };
    let (json, lines): (Vec<Value>, Vec<String>) =
        match m.cluster.log_last(n, channel.unwrap_or("*")) {
            Some(lines) => lines.into_iter().map(|l| (l.json, l.line)).unzip(),
            None => m
                .clog
                .last(n, channel)
                .iter()
                .map(|e| (e.to_json(), e.to_line()))
                .unzip(),
        };
    // One entry, one line, whatever its message holds.
    CommandReply::ok(render(&Value::Array(json), fmt, || {
        lines
            .iter()
            .map(|l| format!("{}\n", crate::sanitize::line(l, 2 * limits::LOG_LINE_BYTES)))
            .collect::<String>()
    }))
}

fn status(m: &Manager, fmt: Format) -> CommandReply {
    let list = m.supervisor.list();
    let count = |st: &str| list.iter().filter(|s| s.state.name() == st).count();
    let (version, release) = m.cluster.version();
    let v = json!({
        "health": m.health_status(),
        "mgr_id": m.config.mgr_id,
        "uptime_secs": m.started.elapsed().as_secs(),
        "cluster_source": m.cluster.describe(),
        "ceph_version": version,
        "ceph_release": release,
        "data_dir": m.config.data_dir.display().to_string(),
        "modules_dir": m.config.modules_dir.display().to_string(),
        "modules": {
            "total": list.len(), "running": count("running"), "failed": count("failed"), "disabled": count("disabled"),
            "ungranted": count("ungranted"),
        },
    });
    // Shown only when some module waits for grants, so the usual line stays as it was.
    let ungranted = match count("ungranted") {
        0 => String::new(),
        n => format!(", {n} ungranted (see 'wasmgr module ls')"),
    };
    // A cluster that can say what `ceph -s` says leads; the daemon's part follows.
    if let Some(cluster) = m.cluster.status(fmt != Format::Plain) {
        let daemon_part = format!(
            "  wasmgr:\n    modules: {} running, {} failed, {} disabled{ungranted}\n    health:  {} (cluster, modules and daemon)\n",
            count("running"),
            count("failed"),
            count("disabled"),
            v["health"].as_str().unwrap_or_default(),
        );
        return match fmt {
            Format::Plain => CommandReply::ok(format!("{}\n{daemon_part}", cluster.trim_end())),
            _ => {
                let mut doc: Value = serde_json::from_str(&cluster).unwrap_or(Value::Null);
                if let Some(obj) = doc.as_object_mut() {
                    obj.insert("health".into(), health::to_json(&m.health_checks(), false));
                    obj.insert("wasmgr".into(), v);
                }
                CommandReply::ok(render(&doc, fmt, String::new))
            }
        };
    }
    CommandReply::ok(render(&v, fmt, || {
        format!(
            "  health:  {}\n  mgr:     {} (up {} s)\n  cluster: {} ({release})\n  modules: {} running, {} failed, {} disabled{ungranted}\n  data:    {}\n",
            v["health"].as_str().unwrap_or_default(),
            m.config.mgr_id,
            m.started.elapsed().as_secs(),
            m.cluster.describe(),
            count("running"),
            count("failed"),
            count("disabled"),
            m.config.data_dir.display(),
        )
    }))
}
