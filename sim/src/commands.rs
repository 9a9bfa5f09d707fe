//! The cluster's own commands, as the `ceph` CLI sends them to a mon (or, for `pg …` and
//! `osd df`, to the mgr): their MonCommands-style descriptions, the checking of a command
//! map against them (with the mon's wording), and their effects on the maps.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::clog::Priority;
use crate::model::{Cluster, PoolKind, PoolSpec, osdflag};
use crate::render::{osdmap, pgmap, text};
use crate::{Event, Sim, take_events};

const EPERM: i32 = 1;
const ENOENT: i32 = 2;
const EACCES: i32 = 13;
const EBUSY: i32 = 16;
const EINVAL: i32 = 22;
const ENOSPC: i32 = 28;
const ERANGE: i32 = 34;
const EOPNOTSUPP: i32 = 95;

/// A cluster command: its signature in Ceph's MonCommands form, its help, the service that
/// runs it and its permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandDesc {
    /// E.g. `osd pool create name=pool,type=CephPoolName name=pg_num,type=CephInt,range=0,req=false`.
    pub signature: &'static str,
    /// One line of help.
    pub help: &'static str,
    /// The module in Ceph's sense: `osd`, `pg`, `mon`, `config`, `log`.
    pub module: &'static str,
    /// `r` or `rw`.
    pub perm: &'static str,
}

/// An argument's type, as `ceph_argparse` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgType {
    /// `CephString`.
    String,
    /// `CephInt`.
    Int,
    /// `CephFloat`.
    Float,
    /// `CephBool`.
    Bool,
    /// `CephChoices`.
    Choices,
    /// `CephPoolName`.
    PoolName,
    /// `CephOsdName`.
    OsdName,
    /// `CephPgid`.
    Pgid,
}

impl ArgType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "CephString" => Self::String,
            "CephInt" => Self::Int,
            "CephFloat" => Self::Float,
            "CephBool" => Self::Bool,
            "CephChoices" => Self::Choices,
            "CephPoolName" => Self::PoolName,
            "CephOsdName" => Self::OsdName,
            "CephPgid" => Self::Pgid,
            _ => return None,
        })
    }
}

/// One argument of a signature.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgSpec {
    /// The key in the command map.
    pub name: String,
    /// Its type.
    pub ty: ArgType,
    /// Whether it must be given.
    pub required: bool,
    /// `n=N`: a list of values.
    pub many: bool,
    /// `range=min|max` for numbers.
    pub range: (Option<f64>, Option<f64>),
    /// `strings=a|b|c` for choices.
    pub strings: Vec<String>,
    /// `goodchars=[...]` for strings, as written.
    pub goodchars: Option<String>,
}

impl CommandDesc {
    /// The command's words, e.g. `osd pool create`.
    pub fn prefix(&self) -> String {
        self.signature
            .split_whitespace()
            .take_while(|w| !w.contains('='))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The arguments after the words.
    pub fn args(&self) -> Vec<ArgSpec> {
        self.signature
            .split_whitespace()
            .filter(|w| w.contains('='))
            .filter_map(parse_arg)
            .collect()
    }
}

fn parse_arg(token: &str) -> Option<ArgSpec> {
    let mut spec = ArgSpec {
        name: String::new(),
        ty: ArgType::String,
        required: true,
        many: false,
        range: (None, None),
        strings: Vec::new(),
        goodchars: None,
    };
    for part in token.split(',') {
        let (k, v) = part.split_once('=')?;
        match k {
            "name" => spec.name = v.to_owned(),
            "type" => spec.ty = ArgType::parse(v)?,
            "req" => spec.required = v != "false",
            "n" => spec.many = v == "N",
            "range" => {
                let mut it = v.split('|');
                spec.range = (
                    it.next().and_then(|x| x.parse().ok()),
                    it.next().and_then(|x| x.parse().ok()),
                );
            }
            "strings" => spec.strings = v.split('|').map(str::to_owned).collect(),
            "goodchars" => spec.goodchars = Some(v.to_owned()),
            _ => {}
        }
    }
    (!spec.name.is_empty()).then_some(spec)
}

static COMMANDS: &[CommandDesc] = &[
    CommandDesc {
        signature: "osd pool ls name=detail,type=CephChoices,strings=detail,req=false",
        help: "list pools",
        module: "osd",
        perm: "r",
    },
    CommandDesc {
        signature: "osd pool create name=pool,type=CephPoolName name=pg_num,type=CephInt,range=0,req=false name=pgp_num,type=CephInt,range=0,req=false name=pool_type,type=CephChoices,strings=replicated|erasure,req=false name=erasure_code_profile,type=CephString,req=false,goodchars=[A-Za-z0-9-_.] name=rule,type=CephString,req=false name=expected_num_objects,type=CephInt,range=0,req=false name=size,type=CephInt,range=0,req=false name=pg_num_min,type=CephInt,range=0,req=false name=autoscale_mode,type=CephChoices,strings=on|off|warn,req=false name=target_size_bytes,type=CephInt,range=0,req=false name=target_size_ratio,type=CephFloat,range=0|1,req=false",
        help: "create pool",
        module: "osd",
        perm: "rw",
    },
    CommandDesc {
        signature: "osd pool rm name=pool,type=CephPoolName name=pool2,type=CephPoolName,req=false name=yes_i_really_really_mean_it,type=CephBool,req=false name=yes_i_really_really_mean_it_not_faking,type=CephBool,req=false",
        help: "remove pool",
        module: "osd",
        perm: "rw",
    },
    CommandDesc {
        signature: "osd pool get name=pool,type=CephPoolName name=var,type=CephChoices,strings=size|min_size|pg_num|pgp_num|crush_rule|pg_autoscale_mode|erasure_code_profile|all",
        help: "get pool parameter <var>",
        module: "osd",
        perm: "r",
    },
    CommandDesc {
        signature: "osd pool set name=pool,type=CephPoolName name=var,type=CephChoices,strings=size|min_size|pg_num|pgp_num|pg_autoscale_mode name=val,type=CephString name=yes_i_really_mean_it,type=CephBool,req=false",
        help: "set pool parameter <var> to <val>",
        module: "osd",
        perm: "rw",
    },
    CommandDesc {
        signature: "osd pool application enable name=pool,type=CephPoolName name=app,type=CephString,goodchars=[A-Za-z0-9-_.] name=yes_i_really_mean_it,type=CephBool,req=false",
        help: "enable use of an application <app> [cephfs,rbd,rgw] on pool <poolname>",
        module: "osd",
        perm: "rw",
    },
    CommandDesc {
        signature: "osd set name=key,type=CephChoices,strings=full|pause|noup|nodown|noout|noin|nobackfill|norebalance|norecover|noscrub|nodeep-scrub|notieragent|nosnaptrim|pglog_hardlimit name=yes_i_really_mean_it,type=CephBool,req=false",
        help: "set <key>",
        module: "osd",
        perm: "rw",
    },
    CommandDesc {
        signature: "osd unset name=key,type=CephChoices,strings=full|pause|noup|nodown|noout|noin|nobackfill|norebalance|norecover|noscrub|nodeep-scrub|notieragent|nosnaptrim",
        help: "unset <key>",
        module: "osd",
        perm: "rw",
    },
    CommandDesc {
        signature: "osd down name=ids,type=CephString,n=N name=definitely_dead,type=CephBool,req=false",
        help: "set osd(s) <id> [<id>...] down, or use <any|all> to set all osds down",
        module: "osd",
        perm: "rw",
    },
    CommandDesc {
        signature: "osd out name=ids,type=CephString,n=N",
        help: "set osd(s) <id> [<id>...] out, or use <any|all> to set all osds out",
        module: "osd",
        perm: "rw",
    },
    CommandDesc {
        signature: "osd in name=ids,type=CephString,n=N",
        help: "set osd(s) <id> [<id>...] in, can use <any|all> to automatically set all previously out osds in",
        module: "osd",
        perm: "rw",
    },
    CommandDesc {
        signature: "osd df name=output_method,type=CephChoices,strings=plain|tree,req=false name=filter_by,type=CephChoices,strings=class|name,req=false name=filter,type=CephString,req=false",
        help: "show OSD utilization",
        module: "osd",
        perm: "r",
    },
    CommandDesc {
        signature: "osd tree name=epoch,type=CephInt,range=0,req=false name=states,type=CephChoices,strings=up|down|in|out|destroyed,n=N,req=false",
        help: "print OSD tree",
        module: "osd",
        perm: "r",
    },
    CommandDesc {
        signature: "osd dump name=epoch,type=CephInt,range=0,req=false",
        help: "print summary of OSD map",
        module: "osd",
        perm: "r",
    },
    CommandDesc {
        signature: "osd stat",
        help: "print summary of OSD map",
        module: "osd",
        perm: "r",
    },
    CommandDesc {
        signature: "pg stat",
        help: "show placement group status.",
        module: "pg",
        perm: "r",
    },
    CommandDesc {
        signature: "pg dump name=dumpcontents,type=CephChoices,strings=all|summary|sum|delta|pools|osds|pgs|pgs_brief,n=N,req=false",
        help: "show human-readable versions of pg map (only 'all' valid with plain)",
        module: "pg",
        perm: "r",
    },
    CommandDesc {
        signature: "df name=detail,type=CephChoices,strings=detail,req=false",
        help: "show cluster free space stats",
        module: "mon",
        perm: "r",
    },
    CommandDesc {
        signature: "health name=detail,type=CephChoices,strings=detail,req=false",
        help: "show cluster health",
        module: "mon",
        perm: "r",
    },
    CommandDesc {
        signature: "status",
        help: "show cluster status",
        module: "mon",
        perm: "r",
    },
    CommandDesc {
        signature: "mon dump name=epoch,type=CephInt,range=0,req=false",
        help: "dump formatted monmap (optionally from epoch)",
        module: "mon",
        perm: "r",
    },
    CommandDesc {
        signature: "config set name=who,type=CephString name=name,type=CephString name=value,type=CephString name=force,type=CephBool,req=false",
        help: "Set a configuration option for one or more entities",
        module: "config",
        perm: "rw",
    },
    CommandDesc {
        signature: "config get name=who,type=CephString name=key,type=CephString,req=false",
        help: "Show configuration option(s) for an entity",
        module: "config",
        perm: "r",
    },
    CommandDesc {
        signature: "config rm name=who,type=CephString name=name,type=CephString",
        help: "Clear a configuration option for one or more entities",
        module: "config",
        perm: "rw",
    },
    CommandDesc {
        signature: "config dump",
        help: "Show all configuration option(s)",
        module: "mon",
        perm: "r",
    },
    CommandDesc {
        signature: "log last name=num,type=CephInt,range=1,req=false name=level,type=CephChoices,strings=debug|info|sec|warn|error,req=false name=channel,type=CephChoices,strings=*|cluster|audit|cephadm,req=false",
        help: "print last few lines of the cluster log",
        module: "mon",
        perm: "r",
    },
    CommandDesc {
        signature: "log name=logtext,type=CephString,n=N",
        help: "log supplied text to the monitor log",
        module: "mon",
        perm: "rw",
    },
];

/// Every cluster command the simulator serves.
pub fn command_descriptions() -> &'static [CommandDesc] {
    COMMANDS
}

/// The answer to a command.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandReply {
    /// 0, or a negative errno.
    pub retval: i32,
    /// The command's output (`outbl`).
    pub stdout: String,
    /// Its status message (`outs`), which the CLI prints on stderr.
    pub stderr: String,
    /// The notifications the command caused.
    pub events: Vec<Event>,
}

impl CommandReply {
    fn err(errno: i32, msg: impl Into<String>) -> Self {
        Self {
            retval: -errno,
            stderr: msg.into(),
            ..Self::default()
        }
    }

    fn ok(stdout: String, stderr: String) -> Self {
        Self {
            retval: 0,
            stdout,
            stderr,
            events: Vec::new(),
        }
    }
}

/// The command map's arguments, checked.
struct Args(Map<String, Value>);

impl Args {
    fn str(&self, k: &str) -> Option<String> {
        match self.0.get(k)? {
            Value::String(s) => Some(s.clone()),
            Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_owned),
            _ => None,
        }
    }
    fn strs(&self, k: &str) -> Vec<String> {
        match self.0.get(k) {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }
    fn int(&self, k: &str) -> Option<i64> {
        self.0.get(k).and_then(Value::as_i64)
    }
    fn flag(&self, k: &str) -> bool {
        match self.0.get(k) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true",
            _ => false,
        }
    }
}

/// Parses and checks a command map: JSON object, a known prefix, typed arguments.
fn check(cmd: &str) -> Result<(&'static CommandDesc, Args, String), CommandReply> {
    let shown: String = cmd.chars().take(200).collect();
    let v: Value = serde_json::from_str(cmd)
        .map_err(|_| CommandReply::err(EINVAL, format!("unparseable JSON {shown}")))?;
    let Value::Object(map) = v else {
        return Err(CommandReply::err(
            EINVAL,
            format!("not JSON object {shown}"),
        ));
    };
    let prefix = match map.get("prefix") {
        Some(Value::String(p)) => p.clone(),
        _ => return Err(CommandReply::err(EINVAL, "command prefix not found")),
    };
    let prefix = prefix.split_whitespace().collect::<Vec<_>>().join(" ");
    if prefix.is_empty() {
        return Err(CommandReply::err(
            EINVAL,
            "command prefix must not be empty",
        ));
    }
    let desc = COMMANDS
        .iter()
        .find(|d| d.prefix() == prefix)
        .ok_or_else(|| CommandReply::err(EINVAL, "command not known"))?;
    for spec in desc.args() {
        let bad = || CommandReply::err(EINVAL, format!("bad or missing field '{}'", spec.name));
        let Some(value) = map.get(&spec.name) else {
            if spec.required {
                return Err(bad());
            }
            continue;
        };
        let items: Vec<&Value> = match value {
            Value::Array(a) if spec.many => a.iter().collect(),
            Value::Array(_) => return Err(bad()),
            v => vec![v],
        };
        if spec.required && items.is_empty() {
            return Err(bad());
        }
        for item in items {
            check_value(&spec, item).map_err(|extra| {
                if extra.is_empty() {
                    bad()
                } else {
                    CommandReply::err(
                        EINVAL,
                        format!("bad or missing field '{}': {extra}", spec.name),
                    )
                }
            })?;
        }
    }
    let format = map
        .get("format")
        .and_then(Value::as_str)
        .unwrap_or("plain")
        .to_owned();
    Ok((desc, Args(map), format))
}

/// Checks one value against its spec; `Err("")` for a wrong type, else a reason.
fn check_value(spec: &ArgSpec, v: &Value) -> Result<(), String> {
    match spec.ty {
        ArgType::Int => {
            let n = v.as_i64().ok_or_else(String::new)?;
            let n = n as f64;
            if let Some(lo) = spec.range.0
                && n < lo
            {
                return Err(format!("{n} is below the minimum {lo}"));
            }
            if let Some(hi) = spec.range.1
                && n > hi
            {
                return Err(format!("{n} is above the maximum {hi}"));
            }
        }
        ArgType::Float => {
            let n = v.as_f64().ok_or_else(String::new)?;
            if spec.range.0.is_some_and(|lo| n < lo) || spec.range.1.is_some_and(|hi| n > hi) {
                return Err(format!("{n} is out of range"));
            }
        }
        ArgType::Bool => match v {
            Value::Bool(_) => {}
            Value::String(s) if s == "true" || s == "false" => {}
            _ => return Err(String::new()),
        },
        ArgType::Choices => {
            let s = v.as_str().ok_or_else(String::new)?;
            if !spec.strings.iter().any(|c| c == s) {
                return Err(format!("'{s}' is not one of {}", spec.strings.join("|")));
            }
        }
        ArgType::String | ArgType::PoolName | ArgType::OsdName | ArgType::Pgid => {
            let s = v.as_str().ok_or_else(String::new)?;
            if let Some(good) = &spec.goodchars
                && !s.chars().all(|ch| goodchar(good, ch))
            {
                return Err(format!("'{s}' has characters outside {good}"));
            }
        }
    }
    Ok(())
}

/// Whether `ch` is in a `[...]` class like `[A-Za-z0-9-_.]`.
fn goodchar(class: &str, ch: char) -> bool {
    let inner: Vec<char> = class
        .trim_start_matches('[')
        .trim_end_matches(']')
        .chars()
        .collect();
    let mut i = 0;
    while i < inner.len() {
        let c = inner.get(i).copied().unwrap_or('\0');
        if inner.get(i + 1) == Some(&'-') && i + 2 < inner.len() {
            let hi = inner.get(i + 2).copied().unwrap_or('\0');
            if (c..=hi).contains(&ch) {
                return true;
            }
            i += 3;
        } else {
            if c == ch {
                return true;
            }
            i += 1;
        }
    }
    false
}

fn is_json(format: &str) -> bool {
    format == "json" || format == "json-pretty"
}

fn out_json(format: &str, v: &Value) -> String {
    if format == "json-pretty" {
        serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
    } else {
        v.to_string()
    }
}

/// Runs one command (see [`Sim::handle_command`]).
pub(crate) fn handle(sim: &Sim, cmd: &str, _inbuf: &[u8]) -> CommandReply {
    let (desc, args, format) = match check(cmd) {
        Ok(x) => x,
        Err(reply) => return reply,
    };
    let prefix = desc.prefix();
    if desc.perm == "r" {
        return read_command(sim, &prefix, &args, &format);
    }
    let mut c = sim.write();
    let audit = format!("from='client.? ' entity='client.admin' cmd=[{cmd}]");
    let mon = format!("mon.{}", c.mons.first().map_or("a", |m| m.name.as_str()));
    c.log_as(&mon, "audit", Priority::Inf, format!("{audit}: dispatch"));
    let mut reply = write_command(&mut c, &prefix, &args);
    if reply.retval == 0 {
        c.log_as(&mon, "audit", Priority::Inf, format!("{audit}: finished"));
    }
    c.finish(false);
    reply.events = take_events(&mut c);
    reply
}

fn read_command(sim: &Sim, prefix: &str, args: &Args, format: &str) -> CommandReply {
    let json = is_json(format);
    // The PG dump is large: serve it from the shared cache.
    if prefix == "pg dump" {
        let what = args.strs("dumpcontents");
        let what = what.first().map_or("all", String::as_str);
        if json && what == "all" {
            let doc = match sim.get("pg_dump") {
                Ok(d) => d,
                Err(e) => return CommandReply::err(ENOENT, e.to_string()),
            };
            let mut out = String::with_capacity(doc.len() + 32);
            out.push_str("{\"pg_ready\":true,\"pg_map\":");
            out.push_str(&doc);
            out.push('}');
            if format == "json-pretty" {
                let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
                out = out_json(format, &v);
            }
            return CommandReply::ok(out, "dumped all".to_owned());
        }
    }
    let c = sim.read();
    let reply = |stdout: String| CommandReply::ok(stdout, String::new());
    match prefix {
        "osd pool ls" => {
            let detail = args.str("detail").is_some();
            if json {
                let v: Value = if detail {
                    c.pools
                        .values()
                        .map(|p| osdmap::pool_json(&c, p))
                        .collect::<Vec<_>>()
                        .into()
                } else {
                    c.pools
                        .values()
                        .map(|p| p.name.clone())
                        .collect::<Vec<_>>()
                        .into()
                };
                reply(out_json(format, &v))
            } else if detail {
                let mut s = String::new();
                for p in c.pools.values() {
                    let _ = writeln!(s, "{}\n", text::pool_detail_line(&c, p));
                }
                reply(s)
            } else {
                reply(c.pools.values().map(|p| format!("{}\n", p.name)).collect())
            }
        }
        "osd pool get" => pool_get(&c, args, format),
        "osd df" => osd_df(&c, args, format),
        "osd tree" => {
            if let Some(refused) = past_epoch(&c, args) {
                return refused;
            }
            if json {
                reply(out_json(format, &osdmap::tree(&c)))
            } else {
                reply(text::osd_tree(&c))
            }
        }
        "osd dump" => {
            if let Some(refused) = past_epoch(&c, args) {
                return refused;
            }
            if json {
                reply(out_json(format, &osdmap::osd_map(&c)))
            } else {
                reply(text::osd_dump(&c))
            }
        }
        "osd stat" => {
            let up = c.osds.iter().filter(|o| o.up).count();
            let inn = c.osds.iter().filter(|o| o.is_in).count();
            if json {
                let s = crate::render::status::json(&c);
                reply(out_json(format, s.get("osdmap").unwrap_or(&Value::Null)))
            } else {
                reply(format!(
                    "{} osds: {up} up (since {}), {inn} in (since {}); epoch: e{}\n",
                    c.osds.len(),
                    crate::time::age(c.now - c.last_up_change),
                    crate::time::age(c.now - c.last_in_change),
                    c.osd_epoch
                ))
            }
        }
        "pg stat" => {
            if json {
                let (sum, num_pg) = pgmap::cluster_sum(&c);
                let (t, u) = c.raw_totals();
                let states: Vec<Value> = pgmap::states_by_count(&pgmap::state_counts(&c))
                    .into_iter()
                    .map(|(s, n)| json!({"name": s, "num": n}))
                    .collect();
                reply(out_json(
                    format,
                    &json!({"pg_ready": true, "pg_summary": {
                        "num_pg_by_state": states,
                        "num_pgs": num_pg,
                        "num_bytes": sum.bytes(),
                        "total_bytes": t,
                        "total_avail_bytes": t.saturating_sub(u),
                        "total_used_bytes": u,
                        "total_used_raw_bytes": u,
                        "raw_bytes_used": u,
                        "raw_bytes_avail": t.saturating_sub(u),
                        "raw_bytes": t,
                    }}),
                ))
            } else {
                reply(text::pg_stat(&c))
            }
        }
        "pg dump" => pg_dump(&c, args, format),
        "df" => {
            if json {
                reply(out_json(format, &pgmap::df(&c)))
            } else {
                reply(text::df(&c))
            }
        }
        "health" => {
            let detail = args.str("detail").is_some();
            if json {
                reply(out_json(
                    format,
                    &crate::health::to_json(&c.health.checks, detail),
                ))
            } else {
                reply(text::health(&c, detail))
            }
        }
        "status" => {
            if json {
                reply(out_json(format, &crate::render::status::json(&c)))
            } else {
                reply(text::status(&c))
            }
        }
        "mon dump" => {
            if let Some(e) = args.int("epoch")
                && e != i64::from(c.mon_epoch)
            {
                return CommandReply::err(ENOENT, format!("there is no map for epoch {e}"));
            }
            let out = if json {
                out_json(format, &crate::render::maps::mon_map(&c))
            } else {
                text::mon_dump(&c)
            };
            CommandReply::ok(out, format!("dumped monmap epoch {}", c.mon_epoch))
        }
        "config get" => config_get(&c, args, format),
        "config dump" => config_dump(&c, format),
        "log last" => {
            let n = args.int("num").unwrap_or(20).clamp(1, 10_000) as usize;
            let level = args
                .str("level")
                .and_then(|l| Priority::parse(&l))
                .unwrap_or(Priority::Inf);
            let channel = args.str("channel").unwrap_or_else(|| "cluster".to_owned());
            let entries = c.log_last(n, &channel, level);
            if json {
                let v: Vec<Value> = entries.iter().map(crate::LogEntry::to_json).collect();
                reply(out_json(format, &Value::Array(v)))
            } else {
                reply(entries.iter().map(|e| e.line() + "\n").collect())
            }
        }
        _ => CommandReply::err(EINVAL, "command not known"),
    }
}

fn pool_get(c: &Cluster, args: &Args, format: &str) -> CommandReply {
    let name = args.str("pool").unwrap_or_default();
    let Some(p) = c.pool_by_name(&name) else {
        return CommandReply::err(ENOENT, format!("unrecognized pool '{name}'"));
    };
    let var = args.str("var").unwrap_or_default();
    let profile = match &p.kind {
        PoolKind::Erasure { profile, .. } => Some(profile.clone()),
        PoolKind::Replicated => None,
    };
    let rule = c
        .crush_rules
        .iter()
        .find(|r| r.id == p.crush_rule)
        .map_or_else(String::new, |r| r.name.clone());
    let mut vals: Vec<(&str, Value)> = vec![
        ("size", p.size.into()),
        ("min_size", p.min_size.into()),
        ("pg_num", p.pg_num().into()),
        ("pgp_num", p.pg_num().into()),
        ("crush_rule", rule.into()),
        ("pg_autoscale_mode", p.autoscale_mode.clone().into()),
    ];
    if let Some(prof) = profile.clone() {
        vals.push(("erasure_code_profile", prof.into()));
    }
    if var == "erasure_code_profile" && profile.is_none() {
        return CommandReply::err(
            EACCES,
            format!("pool '{name}' is not a erasure pool: variable not applicable"),
        );
    }
    let chosen: Vec<(&str, Value)> = if var == "all" {
        vals
    } else {
        vals.into_iter().filter(|(k, _)| *k == var).collect()
    };
    if is_json(format) {
        let mut m = Map::new();
        m.insert("pool".into(), p.name.clone().into());
        m.insert("pool_id".into(), p.id.into());
        for (k, v) in chosen {
            m.insert(k.to_owned(), v);
        }
        CommandReply::ok(out_json(format, &Value::Object(m)), String::new())
    } else {
        let mut s = String::new();
        for (k, v) in chosen {
            let v = match v {
                Value::String(x) => x,
                other => other.to_string(),
            };
            let _ = writeln!(s, "{k}: {v}");
        }
        CommandReply::ok(s, String::new())
    }
}

fn osd_df(c: &Cluster, args: &Args, format: &str) -> CommandReply {
    let filter_by = args.str("filter_by");
    let filter = args.str("filter").unwrap_or_default();
    let keep = |o: &crate::model::Osd| match filter_by.as_deref() {
        Some("class") => o.class.name() == filter,
        Some("name") => o.name() == filter || c.host_name_of(o.id) == filter,
        _ => true,
    };
    if is_json(format) {
        let (t, u) = c.raw_totals();
        let avg = if t == 0 { 0.0 } else { u as f64 / t as f64 };
        let nodes: Vec<Value> = c
            .osds
            .iter()
            .filter(|o| keep(o))
            .map(|o| {
                json!({
                    "id": o.id,
                    "device_class": o.class.name(),
                    "name": o.name(),
                    "type": "osd",
                    "type_id": 0,
                    "crush_weight": o.crush_weight,
                    "depth": 2,
                    "pool_weights": {},
                    "reweight": o.reweight(),
                    "kb": o.total_bytes / 1024,
                    "kb_used": o.used_bytes() / 1024,
                    "kb_used_data": o.data_bytes / 1024,
                    "kb_used_omap": o.omap_bytes / 1024,
                    "kb_used_meta": o.meta_bytes / 1024,
                    "kb_avail": o.avail_bytes() / 1024,
                    "utilization": o.utilization() * 100.0,
                    "var": if avg > 0.0 { o.utilization() / avg } else { 0.0 },
                    "pgs": o.num_pgs,
                    "status": if o.up { "up" } else { "down" },
                })
            })
            .collect();
        let v = json!({
            "nodes": nodes,
            "stray": [],
            "summary": {
                "total_kb": t / 1024,
                "total_kb_used": u / 1024,
                "total_kb_used_data": c.osds.iter().map(|o| o.data_bytes).sum::<u64>() / 1024,
                "total_kb_used_omap": c.osds.iter().map(|o| o.omap_bytes).sum::<u64>() / 1024,
                "total_kb_used_meta": c.osds.iter().map(|o| o.meta_bytes).sum::<u64>() / 1024,
                "total_kb_avail": t.saturating_sub(u) / 1024,
                "average_utilization": avg * 100.0,
                "min_var": 0.0,
                "max_var": 0.0,
                "dev": 0.0,
            },
        });
        return CommandReply::ok(out_json(format, &v), String::new());
    }
    CommandReply::ok(text::osd_df(c, &keep), String::new())
}

fn pg_dump(c: &Cluster, args: &Args, format: &str) -> CommandReply {
    let what = args.strs("dumpcontents");
    let what = what.first().map_or("all", String::as_str).to_owned();
    if !is_json(format) {
        let mut out = format!(
            "version {}\nstamp {}\nlast_osdmap_epoch 0\nlast_pg_scan 0\n",
            c.pg_version,
            crate::time::stamp(c.pg_stamp)
        );
        out.push_str(&text::pg_dump_brief(c));
        return CommandReply::ok(out, format!("dumped {what}"));
    }
    let doc: Value = match what.as_str() {
        "pgs" => {
            let pg: Value = serde_json::from_str(&pgmap::pg_stats_doc(c)).unwrap_or(Value::Null);
            json!({"pg_ready": true, "pg_stats": pg.get("pg_stats").cloned().unwrap_or(Value::Null)})
        }
        "pgs_brief" => {
            let list: Vec<Value> = c
                .pools
                .values()
                .flat_map(|p| {
                    p.pgs.iter().enumerate().map(move |(ps, pg)| {
                        json!({
                            "pgid": format!("{}.{ps:x}", p.id),
                            "state": crate::model::pgstate::name(pg.state),
                            "up": pg.up.to_vec(),
                            "acting": pg.acting.to_vec(),
                            "up_primary": pg.up.primary(),
                            "acting_primary": pg.acting.primary(),
                        })
                    })
                })
                .collect();
            json!({"pg_ready": true, "pg_stats": list})
        }
        "osds" => {
            let v: Value = serde_json::from_str(&pgmap::osd_stats_doc(c)).unwrap_or(Value::Null);
            json!({"pg_ready": true, "osd_stats": v.get("osd_stats").cloned().unwrap_or(Value::Null)})
        }
        "pools" => {
            let v: Value = serde_json::from_str(&pgmap::pool_stats_doc(c)).unwrap_or(Value::Null);
            json!({"pg_ready": true, "pool_stats": v.get("pool_stats").cloned().unwrap_or(Value::Null)})
        }
        _ => {
            let full: Value =
                serde_json::from_str(&pgmap::pg_dump(c, false)).unwrap_or(Value::Null);
            let mut m = Map::new();
            for k in [
                "version",
                "stamp",
                "last_osdmap_epoch",
                "last_pg_scan",
                "pg_stats_sum",
                "osd_stats_sum",
                "pg_stats_delta",
            ] {
                if let Some(v) = full.get(k) {
                    m.insert(k.to_owned(), v.clone());
                }
            }
            json!({"pg_ready": true, "pg_map": m})
        }
    };
    CommandReply::ok(out_json(format, &doc), format!("dumped {what}"))
}

/// Whether `who` names a config section or entity (`global`, `osd`, `osd.3`, `client.foo`,
/// with an optional `/mask`).
fn valid_who(who: &str) -> bool {
    let section = who.split('/').next().unwrap_or("");
    let types = ["mon", "mgr", "osd", "mds", "client", "rgw"];
    section == "global"
        || types.contains(&section)
        || section
            .split_once('.')
            .is_some_and(|(t, id)| types.contains(&t) && !id.is_empty())
}

fn config_get(c: &Cluster, args: &Args, format: &str) -> CommandReply {
    let who = args.str("who").unwrap_or_default();
    if !valid_who(&who) {
        return CommandReply::err(EINVAL, format!("unrecognized entity '{who}'"));
    }
    let section = who.split('.').next().unwrap_or("").to_owned();
    let lookup = |name: &str| -> Option<String> {
        for w in [who.as_str(), section.as_str(), "global"] {
            if let Some(v) = c.config.entries.get(&(w.to_owned(), name.to_owned())) {
                return Some(v.clone());
            }
        }
        c.config.base.get(name).cloned()
    };
    match args.str("key") {
        Some(key) => {
            if !crate::render::config::is_option(&key) {
                return CommandReply::err(ENOENT, format!("unrecognized key '{key}'"));
            }
            let v = lookup(&key).unwrap_or_default();
            if is_json(format) {
                CommandReply::ok(out_json(format, &Value::String(v)), String::new())
            } else {
                CommandReply::ok(format!("{v}\n"), String::new())
            }
        }
        None => {
            let entries: Vec<(&(String, String), &String)> = c
                .config
                .entries
                .iter()
                .filter(|((w, _), _)| w == &who || w == &section || w == "global")
                .collect();
            if is_json(format) {
                let m: Map<String, Value> = entries
                    .iter()
                    .map(|((_, n), v)| (n.clone(), Value::String((*v).clone())))
                    .collect();
                return CommandReply::ok(out_json(format, &Value::Object(m)), String::new());
            }
            let mut t = text::Table::new(&[
                ("WHO", text::Align::Left),
                ("MASK", text::Align::Left),
                ("LEVEL", text::Align::Left),
                ("OPTION", text::Align::Left),
                ("VALUE", text::Align::Left),
                ("RO", text::Align::Left),
            ]);
            for ((w, n), v) in entries {
                t.row(vec![
                    w.clone(),
                    String::new(),
                    "advanced".into(),
                    n.clone(),
                    v.clone(),
                    String::new(),
                ]);
            }
            CommandReply::ok(t.render(true), String::new())
        }
    }
}

fn config_dump(c: &Cluster, format: &str) -> CommandReply {
    if is_json(format) {
        let v: Vec<Value> = c
            .config
            .entries
            .iter()
            .map(|((w, n), v)| {
                json!({
                    "section": w,
                    "name": n,
                    "value": v,
                    "level": "advanced",
                    "can_update_at_runtime": true,
                    "mask": "",
                    "location_type": "",
                    "location_value": "",
                })
            })
            .collect();
        return CommandReply::ok(out_json(format, &Value::Array(v)), String::new());
    }
    let mut t = text::Table::new(&[
        ("WHO", text::Align::Left),
        ("MASK", text::Align::Left),
        ("LEVEL", text::Align::Left),
        ("OPTION", text::Align::Left),
        ("VALUE", text::Align::Left),
        ("RO", text::Align::Left),
    ]);
    for ((w, n), v) in &c.config.entries {
        t.row(vec![
            w.clone(),
            String::new(),
            "advanced".into(),
            n.clone(),
            v.clone(),
            String::new(),
        ]);
    }
    CommandReply::ok(t.render(true), String::new())
}

/// `osd tree|dump <epoch>` of an epoch other than the current one: only that one is kept.
fn past_epoch(c: &Cluster, args: &Args) -> Option<CommandReply> {
    let e = args.int("epoch").filter(|e| *e != i64::from(c.osd_epoch))?;
    Some(CommandReply::err(
        ENOENT,
        format!(
            "osdmap epoch {e} not found; only the current epoch ({}) is kept",
            c.osd_epoch
        ),
    ))
}

fn write_command(c: &mut Cluster, prefix: &str, args: &Args) -> CommandReply {
    match prefix {
        "osd pool create" => pool_create(c, args),
        "osd pool rm" => pool_rm(c, args),
        "osd pool set" => pool_set(c, args),
        "osd pool application enable" => app_enable(c, args),
        "osd set" | "osd unset" => set_flag(c, args, prefix == "osd set"),
        "osd down" | "osd out" | "osd in" => mark(c, args, prefix),
        "config set" => {
            let who = args.str("who").unwrap_or_default();
            let name = args.str("name").unwrap_or_default();
            let value = args.str("value").unwrap_or_default();
            if !valid_who(&who) {
                return CommandReply::err(EINVAL, format!("unrecognized config target '{who}'"));
            }
            if !args.flag("force") && !crate::render::config::is_option(&name) {
                return CommandReply::err(EINVAL, format!("unrecognized config option '{name}'"));
            }
            if name.len() > MAX_CONFIG_NAME || value.len() > MAX_CONFIG_VALUE {
                return CommandReply::err(
                    EINVAL,
                    format!(
                        "config names are at most {MAX_CONFIG_NAME} bytes and values at most {MAX_CONFIG_VALUE}"
                    ),
                );
            }
            let key = (who, name);
            if !c.config.entries.contains_key(&key) && c.config.entries.len() >= MAX_CONFIG_ENTRIES
            {
                return CommandReply::err(
                    ENOSPC,
                    format!(
                        "the config database holds {MAX_CONFIG_ENTRIES} entries already; remove some first"
                    ),
                );
            }
            c.config.entries.insert(key, value);
            c.config.version += 1;
            CommandReply::ok(String::new(), String::new())
        }
        "config rm" => {
            let who = args.str("who").unwrap_or_default();
            let name = args.str("name").unwrap_or_default();
            if c.config.entries.remove(&(who, name)).is_some() {
                c.config.version += 1;
            }
            CommandReply::ok(String::new(), String::new())
        }
        "log" => {
            let mut text = args.strs("logtext").join(" ");
            if text.len() > MAX_LOG_TEXT {
                let mut end = MAX_LOG_TEXT;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.truncate(end);
            }
            c.log_as("client.admin", "cluster", Priority::Inf, text);
            CommandReply::ok(String::new(), String::new())
        }
        _ => CommandReply::err(EINVAL, "command not known"),
    }
}

/// Projected PG replicas per in OSD after adding `pg_num × size`, as `check_pg_num` does.
fn check_pg_num(
    c: &Cluster,
    pool: Option<u32>,
    pg_num: u32,
    size: u32,
) -> Result<(), CommandReply> {
    // However high an operator sets it, the simulator's memory stays bounded.
    let max_per_osd = c
        .config
        .mon_f64("mon_max_pg_per_osd", 250.0)
        .clamp(1.0, MAX_PG_PER_OSD) as u64;
    let in_osds = c.osds.iter().filter(|o| o.is_in).count().max(1) as u64;
    let existing: u64 = c
        .pools
        .values()
        .filter(|p| Some(p.id) != pool)
        .map(|p| u64::from(p.pg_num()) * u64::from(p.size))
        .sum();
    let projected = existing + u64::from(pg_num) * u64::from(size);
    let max = max_per_osd * in_osds;
    if projected > max {
        let id = pool.map_or_else(String::new, |p| format!("pool id {p}"));
        return Err(CommandReply::err(
            ERANGE,
            format!(
                "{id} pg_num {pg_num} size {size} would mean {projected} total pgs, which exceeds max {max} (mon_max_pg_per_osd {max_per_osd} * num_in_osds {in_osds})"
            ),
        ));
    }
    Ok(())
}

const MAX_POOL_PG_NUM: i64 = 65_536;

/// Bounds that keep the simulator's own memory bounded whatever commands it is sent (modules
/// send them too): config entries and their sizes, log text, pools and their names, PGs.
const MAX_CONFIG_ENTRIES: usize = 10_000;
const MAX_CONFIG_NAME: usize = 256;
const MAX_CONFIG_VALUE: usize = 4096;
const MAX_LOG_TEXT: usize = 4096;
const MAX_POOLS: usize = 1024;
const MAX_POOL_NAME: usize = 256;
const MAX_PG_PER_OSD: f64 = 1000.0;

fn pool_create(c: &mut Cluster, args: &Args) -> CommandReply {
    let name = args.str("pool").unwrap_or_default();
    if name.is_empty() {
        return CommandReply::err(EINVAL, "pool name must not be empty");
    }
    if name.len() > MAX_POOL_NAME {
        return CommandReply::err(
            EINVAL,
            format!("pool names are at most {MAX_POOL_NAME} bytes"),
        );
    }
    if c.pools.len() >= MAX_POOLS && c.pool_by_name(&name).is_none() {
        return CommandReply::err(
            ENOSPC,
            format!("the cluster has {MAX_POOLS} pools already; remove some first"),
        );
    }
    if c.pool_by_name(&name).is_some() {
        return CommandReply::ok(String::new(), format!("pool '{name}' already exists"));
    }
    let default_pg = c.config.mon_f64("osd_pool_default_pg_num", 32.0) as i64;
    let pg_num = match args.int("pg_num") {
        Some(0) | None => default_pg.max(1),
        Some(n) => n,
    };
    if !(1..=MAX_POOL_PG_NUM).contains(&pg_num) {
        return CommandReply::err(
            ERANGE,
            format!(
                "'pg_num' must be greater than 0 and less than or equal to {MAX_POOL_PG_NUM} (you may adjust 'mon max pool pg num' for higher values)"
            ),
        );
    }
    if let Some(pgp) = args.int("pgp_num")
        && pgp > pg_num
    {
        return CommandReply::err(
            ERANGE,
            format!(
                "'pgp_num' must be greater than 0 and lower or equal than 'pg_num', which in this case is {pg_num}"
            ),
        );
    }
    let erasure = args.str("pool_type").as_deref() == Some("erasure");
    let (kind, size, min_size, rule) = if erasure {
        let profile = args
            .str("erasure_code_profile")
            .unwrap_or_else(|| "default".to_owned());
        let Some(p) = c.ec_profiles.get(&profile) else {
            return CommandReply::err(
                ENOENT,
                format!("erasure-code-profile {profile} does not exist"),
            );
        };
        let num = |k: &str| p.get(k).and_then(|v| v.parse::<u32>().ok()).unwrap_or(2);
        let (k, m) = (num("k").max(1), num("m").max(1));
        if (k + m) as usize > crate::crush::MAX_REPLICAS {
            return CommandReply::err(
                EINVAL,
                format!("erasure-code-profile {profile} has k+m > 10"),
            );
        }
        let rule = match args.str("rule") {
            Some(r) => match c.crush_rules.iter().find(|x| x.name == r) {
                Some(x) => x.id,
                None => {
                    return CommandReply::err(ENOENT, format!("specified rule {r} doesn't exist"));
                }
            },
            // Ceph makes an erasure pool a rule of its own name, or reuses one by that name.
            None => match c.crush_rules.iter().find(|r| r.name == name && r.erasure) {
                Some(r) => r.id,
                None => {
                    let id = c.crush_rules.iter().map(|r| r.id).max().unwrap_or(0) + 1;
                    c.crush_rules.push(crate::model::CrushRule {
                        id,
                        name: name.clone(),
                        erasure: true,
                    });
                    c.crush_version += 1;
                    id
                }
            },
        };
        // As `OSDMonitor::prepare_pool_size` sets it for erasure-coded pools.
        (
            PoolKind::Erasure { k, m, profile },
            k + m,
            k + 1.min(m - 1),
            rule,
        )
    } else {
        let default_size = c.config.mon_f64("osd_pool_default_size", 3.0) as i64;
        let size = args.int("size").filter(|s| *s > 0).unwrap_or(default_size);
        if !(1..=10).contains(&size) {
            return CommandReply::err(EINVAL, "pool size must be between 1 and 10");
        }
        let rule = match args.str("rule") {
            Some(r) => match c.crush_rules.iter().find(|x| x.name == r && !x.erasure) {
                Some(x) => x.id,
                None => {
                    return CommandReply::err(ENOENT, format!("specified rule {r} doesn't exist"));
                }
            },
            None => 0,
        };
        let size = size as u32;
        (PoolKind::Replicated, size, size - size / 2, rule)
    };
    if let Err(e) = check_pg_num(c, None, pg_num as u32, size) {
        return e;
    }
    let spec = PoolSpec {
        name: name.clone(),
        kind,
        size,
        min_size,
        pg_num: pg_num as u32,
        crush_rule: rule,
        application: None,
        object_size: 4 << 20,
        io_base: 0.0,
        data_share: 0.0,
        autoscale_mode: args
            .str("autoscale_mode")
            .unwrap_or_else(|| "on".to_owned()),
    };
    c.bump_osdmap();
    let now = c.now;
    let id = c.create_pool(spec, now);
    if let Some(min) = args.int("pg_num_min")
        && let Some(p) = c.pools.get_mut(&id)
    {
        p.options.insert("pg_num_min".to_owned(), min.max(0) as u64);
    }
    // New PGs are created, then peer.
    let n = c.pools.get(&id).map_or(0, |p| p.pg_num());
    for ps in 0..n {
        c.start_peering(id, ps, 1.0 + f64::from(ps % 3));
        if let Some(pg) = c
            .pools
            .get_mut(&id)
            .and_then(|p| p.pgs.get_mut(ps as usize))
        {
            pg.state |= crate::model::pgstate::CREATING;
        }
    }
    c.recount_osds();
    CommandReply::ok(String::new(), format!("pool '{name}' created"))
}

fn pool_rm(c: &mut Cluster, args: &Args) -> CommandReply {
    let name = args.str("pool").unwrap_or_default();
    let Some(pool) = c.pool_by_name(&name) else {
        return CommandReply::ok(String::new(), format!("pool '{name}' does not exist"));
    };
    let id = pool.id;
    let pool2 = args.str("pool2").unwrap_or_default();
    if pool2 != name || !args.flag("yes_i_really_really_mean_it") {
        return CommandReply::err(
            EPERM,
            format!(
                "WARNING: this will *PERMANENTLY DESTROY* all data stored in pool {name}.  If you are *ABSOLUTELY CERTAIN* that is what you want, pass the pool name *twice*, followed by --yes-i-really-really-mean-it."
            ),
        );
    }
    if c.fs.metadata_pool == id || c.fs.data_pools.contains(&id) {
        return CommandReply::err(EBUSY, format!("pool '{name}' is in use by CephFS"));
    }
    if !c.config.mon_bool("mon_allow_pool_delete", false) {
        return CommandReply::err(
            EPERM,
            "pool deletion is disabled; you must first set the mon_allow_pool_delete config option to true before you can destroy a pool",
        );
    }
    c.remove_pool(id);
    CommandReply::ok(String::new(), format!("pool '{name}' removed"))
}

fn parse_int(val: &str) -> Result<i64, CommandReply> {
    val.trim()
        .parse::<i64>()
        .map_err(|e| CommandReply::err(EINVAL, format!("error parsing integer value '{val}': {e}")))
}

fn pool_set(c: &mut Cluster, args: &Args) -> CommandReply {
    let name = args.str("pool").unwrap_or_default();
    let Some(pool) = c.pool_by_name(&name) else {
        return CommandReply::err(ENOENT, format!("unrecognized pool '{name}'"));
    };
    let (id, ec, size, pg_num) = (pool.id, pool.is_ec(), pool.size, pool.pg_num());
    let k = match &pool.kind {
        PoolKind::Erasure { k, .. } => *k,
        PoolKind::Replicated => 1,
    };
    let var = args.str("var").unwrap_or_default();
    let val = args.str("val").unwrap_or_default();
    match var.as_str() {
        "size" => {
            if ec {
                return CommandReply::err(
                    EOPNOTSUPP,
                    "can not change the size of an erasure-coded pool",
                );
            }
            let n = match parse_int(&val) {
                Ok(n) => n,
                Err(e) => return e,
            };
            if !(1..=10).contains(&n) {
                return CommandReply::err(EINVAL, "pool size must be between 1 and 10");
            }
            if n == 1 {
                if !c.config.mon_bool("mon_allow_pool_size_one", false) {
                    return CommandReply::err(
                        EPERM,
                        "configuring pool size as 1 is disabled by default.",
                    );
                }
                if !args.flag("yes_i_really_mean_it") {
                    return CommandReply::err(
                        EPERM,
                        "WARNING: setting pool size 1 could lead to data loss without recovery. If you are *ABSOLUTELY CERTAIN* that is what you want, pass the flag --yes-i-really-mean-it.",
                    );
                }
            }
            if let Err(e) = check_pg_num(c, Some(id), pg_num, n as u32) {
                return e;
            }
            let n = n as u32;
            if let Some(p) = c.pools.get_mut(&id) {
                p.size = n;
                p.min_size = n - n / 2;
            }
            c.bump_osdmap();
            c.repool(id);
        }
        "min_size" => {
            let n = match parse_int(&val) {
                Ok(n) => n,
                Err(e) => return e,
            };
            let lo = if ec { i64::from(k) } else { 1 };
            if n < lo || n > i64::from(size) {
                let what = if ec { "k" } else { "1" };
                return CommandReply::err(
                    EINVAL,
                    format!(
                        "pool min_size must be between {what} and size, which is set to {size}"
                    ),
                );
            }
            if let Some(p) = c.pools.get_mut(&id) {
                p.min_size = n as u32;
            }
            c.bump_osdmap();
            let n_pgs = c.pools.get(&id).map_or(0, |p| p.pg_num());
            for ps in 0..n_pgs {
                if c.busy.contains(&(id, ps)) {
                    c.settle(id, ps);
                }
            }
        }
        "pg_num" => {
            let n = match parse_int(&val) {
                Ok(n) => n,
                Err(e) => return e,
            };
            if !(1..=MAX_POOL_PG_NUM).contains(&n) {
                return CommandReply::err(
                    EINVAL,
                    format!(
                        "'pg_num' must be greater than 0 and less than or equal to {MAX_POOL_PG_NUM} (you may adjust 'mon max pool pg num' for higher values)"
                    ),
                );
            }
            if let Err(e) = check_pg_num(c, Some(id), n as u32, size) {
                return e;
            }
            if n as u32 != pg_num {
                c.bump_osdmap();
                c.resize_pool(id, n as u32);
                c.recount_osds();
            }
        }
        "pgp_num" => {
            let n = match parse_int(&val) {
                Ok(n) => n,
                Err(e) => return e,
            };
            if n < 1 || n > i64::from(pg_num) {
                return CommandReply::err(
                    EINVAL,
                    format!("specified pgp_num {n} > pg_num {pg_num}"),
                );
            }
        }
        "pg_autoscale_mode" => {
            if !["on", "off", "warn"].contains(&val.as_str()) {
                return CommandReply::err(EINVAL, format!("specified invalid mode {val}"));
            }
            if let Some(p) = c.pools.get_mut(&id) {
                p.autoscale_mode = val.clone();
            }
            c.bump_osdmap();
        }
        _ => return CommandReply::err(EINVAL, format!("unrecognized variable '{var}'")),
    }
    let epoch = c.osd_epoch;
    if let Some(p) = c.pools.get_mut(&id) {
        p.last_change = epoch;
    }
    CommandReply::ok(String::new(), format!("set pool {id} {var} to {val}"))
}

fn app_enable(c: &mut Cluster, args: &Args) -> CommandReply {
    let name = args.str("pool").unwrap_or_default();
    let app = args.str("app").unwrap_or_default();
    if app.is_empty() || app.len() > 128 {
        return CommandReply::err(EINVAL, "application name must be 1 to 128 characters");
    }
    let Some(pool) = c.pool_by_name(&name) else {
        return CommandReply::err(ENOENT, format!("unrecognized pool '{name}'"));
    };
    let id = pool.id;
    if pool.application.contains_key(&app) {
        return CommandReply::ok(
            String::new(),
            format!("enabled application '{app}' on pool '{name}'"),
        );
    }
    if !pool.application.is_empty() && !args.flag("yes_i_really_mean_it") {
        return CommandReply::err(
            EPERM,
            format!(
                "Are you SURE? Pool '{name}' already has an enabled application; pass --yes-i-really-mean-it to proceed anyway"
            ),
        );
    }
    let epoch = c.osd_epoch + 1;
    if let Some(p) = c.pools.get_mut(&id) {
        p.application.insert(app.clone(), BTreeMap::new());
        p.last_change = epoch;
    }
    c.bump_osdmap();
    CommandReply::ok(
        String::new(),
        format!("enabled application '{app}' on pool '{name}'"),
    )
}

fn set_flag(c: &mut Cluster, args: &Args, set: bool) -> CommandReply {
    let key = args.str("key").unwrap_or_default();
    let bits = match key.as_str() {
        "pause" => osdflag::PAUSERD | osdflag::PAUSEWR,
        "full" => {
            return CommandReply::err(
                EPERM,
                "the full flag is managed by the mons; it cannot be set by hand",
            );
        }
        other => match osdflag::NAMES.iter().find(|(_, n)| *n == other) {
            Some((b, _)) => *b,
            None => return CommandReply::err(EINVAL, format!("unrecognized flag '{key}'")),
        },
    };
    if !set && bits & osdflag::PGLOG_HARDLIMIT != 0 {
        return CommandReply::err(EPERM, "pglog_hardlimit cannot be unset once set");
    }
    let new = if set { c.flags | bits } else { c.flags & !bits };
    if new != c.flags {
        c.flags = new;
        c.bump_osdmap();
        if bits & (osdflag::PAUSERD | osdflag::PAUSEWR) != 0 {
            let ids: Vec<u32> = c.pools.keys().copied().collect();
            let t = c.now - c.start;
            for id in ids {
                c.refresh_pool_io(id, t);
            }
        }
    }
    CommandReply::ok(
        String::new(),
        format!("{key} is {}", if set { "set" } else { "unset" }),
    )
}

fn mark(c: &mut Cluster, args: &Args, prefix: &str) -> CommandReply {
    let mut ids: Vec<i32> = Vec::new();
    for raw in args.strs("ids") {
        let s = raw.trim();
        if s == "any" || s == "all" || s == "*" {
            ids.extend(c.osds.iter().map(|o| o.id));
            continue;
        }
        let num = s.strip_prefix("osd.").unwrap_or(s);
        match num.parse::<i32>() {
            Ok(n) if n >= 0 => ids.push(n),
            _ => return CommandReply::err(EINVAL, format!("invalid osd id '{s}'")),
        }
    }
    let mut msg = String::new();
    let dead = args.flag("definitely_dead");
    for id in ids {
        if id as usize >= c.osds.len() {
            let _ = write!(msg, "osd.{id} does not exist. ");
            continue;
        }
        match prefix {
            "osd down" => {
                if c.mark_down(id) {
                    if !dead {
                        c.schedule_wrongly_down(id);
                    }
                    let _ = write!(msg, "marked down osd.{id}. ");
                } else {
                    let _ = write!(msg, "osd.{id} is already down. ");
                }
            }
            "osd out" => {
                if c.set_in(id, false, false) {
                    let _ = write!(msg, "marked out osd.{id}. ");
                } else {
                    let _ = write!(msg, "osd.{id} is already out. ");
                }
            }
            _ => {
                if c.set_in(id, true, false) {
                    let _ = write!(msg, "marked in osd.{id}. ");
                } else {
                    let _ = write!(msg, "osd.{id} is already in. ");
                }
            }
        }
    }
    CommandReply::ok(String::new(), msg)
}
