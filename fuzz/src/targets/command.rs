//! Command matching and argument checking (`runtime/src/command.rs`), on the table a daemon
//! serves: its own commands, module commands of every argument type, and the simulated
//! cluster's commands (declared by Ceph signatures).
//!
//! Besides not panicking, a command map that `parse_args` accepts must hold what design record
//! 0002 promises modules: the prefix, every required argument, and each value of its declared
//! type, range and choices.

use std::sync::OnceLock;

use serde_json::{Map, Value};
use wasmgr_runtime::bindings::{ArgRange, ArgType, CommandArg, CommandDecl};
use wasmgr_runtime::builtin;
use wasmgr_runtime::command::{
    self, CommandTable, HOST_OWNER, help_line, parse_args, parse_signature, usage, validate_decl,
};
use wasmgr_runtime::format::Format;
use wasmgr_runtime::manager::CommandRequest;
use wasmgr_runtime::sanitize;

use crate::{Features, broken};

/// Commands as example modules declare them, one of each argument type and shape (required,
/// optional, repeated, ranges, choices, goodchars), in Ceph's signature syntax.
const MODULE_COMMANDS: &[(&str, &str)] = &[
    ("hello", "hello name=person_name,type=CephString,req=false"),
    ("hello", "hello stats"),
    (
        "antigravity",
        "antigravity send to blackhole name=oid,type=CephObjectname \
         name=blackhole,type=CephString,req=false",
    ),
    (
        "antigravity",
        "antigravity ls name=what,type=CephChoices,strings=objects|pools,req=false \
         name=verbose,type=CephBool,req=false",
    ),
    (
        "poolmgr",
        "poolmgr create name=pool,type=CephPoolname name=pg_num,type=CephInt,range=1|65536 \
         name=ratio,type=CephFloat,range=0|1,req=false",
    ),
    (
        "osdwatch",
        "osdwatch mark name=osd,type=CephOsdName name=pgid,type=CephPgid,req=false",
    ),
    ("osdwatch", "osdwatch ids name=ids,type=CephInt,range=0,n=N"),
    (
        "iostat",
        "iostat name=width,type=CephInt,range=1|200,req=false \
         name=label,type=CephString,goodchars=[A-Za-z0-9-_.],req=false \
         name=names,type=CephString,n=N,req=false",
    ),
    (
        "kvprobe",
        "kvprobe put name=key,type=CephString name=value,type=CephString,req=false \
         name=scale,type=CephFloat,req=false",
    ),
];

struct Tables {
    /// The daemon's own commands and the modules': looked up first.
    daemon: CommandTable,
    /// The cluster's: for words no daemon or module command matches.
    cluster: CommandTable,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut daemon = CommandTable::new();
        for decl in builtin::commands() {
            if let Err(e) = daemon.insert(HOST_OWNER, decl) {
                broken(format_args!("a built-in command does not insert: {e}"));
            }
        }
        for (owner, sig) in MODULE_COMMANDS {
            let inserted = parse_signature(sig, "an example", "rw")
                .and_then(|decl| daemon.insert(owner, decl).map_err(|e| e.to_string()));
            if let Err(e) = inserted {
                broken(format_args!("example module command '{sig}': {e}"));
            }
        }
        let mut cluster = CommandTable::new();
        for desc in wasmgr_sim::command_descriptions() {
            let inserted = parse_signature(desc.signature, desc.help, desc.perm)
                .and_then(|decl| cluster.insert_unchecked("cluster", decl));
            if let Err(e) = inserted {
                broken(format_args!("cluster command '{}': {e}", desc.signature));
            }
        }
        Tables { daemon, cluster }
    })
}

/// A client's command: the JSON body of `POST /v1/command` if the input starts with `{`, else
/// argv words, one per line. Matched as the manager matches it, then its arguments checked.
pub fn command(data: &[u8], seen: &mut Features) {
    let req = if data.first() == Some(&b'{') {
        match serde_json::from_slice::<CommandRequest>(data) {
            Ok(req) => req,
            Err(e) => return seen.message("request", &e.to_string()),
        }
    } else {
        let Ok(text) = std::str::from_utf8(data) else {
            return seen.add("argv is not UTF-8");
        };
        CommandRequest {
            words: text.split('\n').map(str::to_owned).collect(),
            ..CommandRequest::default()
        }
    };
    if let Some(format) = &req.format
        && let Err(e) = Format::parse(format)
    {
        return seen.message("format", &e);
    }
    let tables = tables();
    let Some((entry, rest)) = tables
        .daemon
        .lookup(&req.words)
        .or_else(|| tables.cluster.lookup(&req.words))
    else {
        let _ = sanitize::quote(&req.words.join(" "));
        return seen.add("no such command");
    };
    check(
        &entry.decl,
        &entry.decl.prefix,
        rest,
        req.format.as_deref(),
        seen,
    );
}

/// A Ceph command signature on the first line, the words after its prefix on the next lines.
/// The signature is parsed as the cluster's are, then declared as a module would declare it
/// (with the module rules, next to the daemon's and the example modules' commands), and the
/// words are checked against it.
pub fn signature(data: &[u8], seen: &mut Features) {
    let Ok(text) = std::str::from_utf8(data) else {
        return seen.add("not UTF-8");
    };
    let mut lines = text.split('\n');
    let sig = lines.next().unwrap_or_default();
    let words: Vec<String> = lines.map(str::to_owned).collect();
    let decl = match parse_signature(sig, "a fuzzed command", "rw") {
        Ok(decl) => decl,
        Err(e) => return seen.message("signature", &e),
    };
    seen.add(("arguments", decl.args.len().min(4)));
    for arg in &decl.args {
        seen.add((
            "argument",
            format!("{:?}", arg.type_),
            arg.required,
            arg.repeated,
        ));
    }
    let _ = help_line(&decl);
    for arg in &decl.args {
        let _ = command::arg_token(arg);
    }
    match validate_decl("fuzzed", &decl) {
        Ok(()) => {
            let mut table = tables().daemon.clone();
            match table.insert("fuzzed", decl.clone()) {
                Ok(()) => {
                    seen.add("inserted");
                    if table.lookup(&prefix_words(&decl)).is_none() {
                        broken(format_args!("'{}' inserted but not found", decl.prefix));
                    }
                }
                Err(e) => seen.message("insert", &e.to_string()),
            }
        }
        Err(e) => seen.message("module declaration", &e.to_string()),
    }
    check(&decl, "fuzzed", &words, None, seen);
}

fn prefix_words(decl: &CommandDecl) -> Vec<String> {
    decl.prefix.split(' ').map(str::to_owned).collect()
}

/// Checks the words after `decl`'s prefix as the manager does, and the map it gets. `label`
/// names the command in the features.
fn check(
    decl: &CommandDecl,
    label: &str,
    rest: &[String],
    format: Option<&str>,
    seen: &mut Features,
) {
    match parse_args(decl, rest, format) {
        Ok(map) => {
            check_map(decl, &map, format);
            seen.add((label, "accepted"));
            for (i, arg) in decl.args.iter().enumerate() {
                if map.contains_key(&arg.name) {
                    seen.add((label, i.min(8), format!("{:?}", arg.type_)));
                }
            }
            // What the module is handed.
            let _ = Value::Object(map).to_string();
        }
        Err(e) => {
            // What the client is told.
            let message = format!("{}\nusage: {}", e.message(), usage(decl));
            let _ = sanitize::block(&message);
            seen.message(label, &e.message());
        }
    }
}

/// The promises of an accepted command map.
fn check_map(decl: &CommandDecl, map: &Map<String, Value>, format: Option<&str>) {
    if map.get("prefix").and_then(Value::as_str) != Some(decl.prefix.as_str()) {
        broken(format_args!(
            "the map of '{}' has prefix {:?}",
            decl.prefix,
            map.get("prefix")
        ));
    }
    if map.get("format").and_then(Value::as_str) != format {
        broken(format_args!(
            "the format {format:?} became {:?}",
            map.get("format")
        ));
    }
    for key in map.keys() {
        if key != "prefix" && key != "format" && !decl.args.iter().any(|a| &a.name == key) {
            broken(format_args!(
                "the map of '{}' has undeclared key '{key}'",
                decl.prefix
            ));
        }
    }
    for arg in &decl.args {
        let Some(value) = map.get(&arg.name) else {
            if arg.required {
                broken(format_args!("required argument '{}' is missing", arg.name));
            }
            continue;
        };
        if arg.repeated {
            match value.as_array() {
                Some(values) if !values.is_empty() => {
                    for v in values {
                        check_value(arg, v);
                    }
                }
                _ => broken(format_args!("repeated '{}' is {value}", arg.name)),
            }
        } else {
            check_value(arg, value);
        }
    }
}

fn check_value(arg: &CommandArg, value: &Value) {
    let ok = match arg.type_ {
        ArgType::CephInt => value.as_i64().is_some_and(|n| match arg.range {
            Some(ArgRange::Int((lo, hi))) => {
                lo.is_none_or(|lo| n >= lo) && hi.is_none_or(|hi| n <= hi)
            }
            Some(ArgRange::Float((lo, hi))) => {
                let x = n as f64;
                lo.is_none_or(|lo| x >= lo) && hi.is_none_or(|hi| x <= hi)
            }
            None => true,
        }),
        ArgType::CephFloat => value.as_f64().is_some_and(|x| {
            let (lo, hi) = match arg.range {
                Some(ArgRange::Float(bounds)) => bounds,
                Some(ArgRange::Int((lo, hi))) => (lo.map(|v| v as f64), hi.map(|v| v as f64)),
                None => (None, None),
            };
            x.is_finite() && lo.is_none_or(|lo| x >= lo) && hi.is_none_or(|hi| x <= hi)
        }),
        ArgType::CephBool => value.is_boolean(),
        ArgType::CephChoices => value
            .as_str()
            .is_some_and(|s| arg.choices.iter().any(|c| c == s)),
        ArgType::CephPoolname | ArgType::CephObjectname => {
            value.as_str().is_some_and(|s| !s.is_empty())
        }
        ArgType::CephOsdName => value
            .as_str()
            .and_then(|s| s.strip_prefix("osd."))
            .is_some_and(|id| id.parse::<u32>().is_ok_and(|n| n.to_string() == id)),
        ArgType::CephPgid => {
            value
                .as_str()
                .and_then(|s| s.split_once('.'))
                .is_some_and(|(pool, seed)| {
                    pool.parse::<u64>().is_ok_and(|n| n.to_string() == pool)
                        && u32::from_str_radix(seed, 16).is_ok_and(|n| format!("{n:x}") == seed)
                })
        }
        ArgType::CephString => value.is_string(),
    };
    if !ok {
        broken(format_args!(
            "argument '{}' of type {:?} (range {:?}, choices {:?}) was accepted as {value}",
            arg.name, arg.type_, arg.range, arg.choices
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_build() {
        assert!(tables().daemon.len() > builtin::commands().len());
        assert!(!tables().cluster.is_empty());
    }

    #[test]
    fn accepted_maps_are_checked() {
        let mut seen = Features::default();
        command(b"poolmgr\ncreate\nrbd\n64\nratio=0.5", &mut seen);
        command(
            b"{\"words\": [\"osdwatch\", \"ids\", \"1\", \"2\"], \"format\": \"json\"}",
            &mut seen,
        );
        command(b"osd\npool\nget\nrbd\nsize", &mut seen);
        signature(b"x y name=n,type=CephInt,range=1|3\n2", &mut seen);
        assert!(!seen.is_empty());
    }
}
