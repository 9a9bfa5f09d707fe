//! The commands of security reviewers and operators over capabilities: `module grant`,
//! `module revoke`, `module learn`, `module caps` (requested / granted / used / denied side by
//! side, and `--propose`) and `audit` (the ledger's events).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::bindings::{ArgType, CommandArg, CommandDecl, Perm};
use crate::builtin::{arg, cmd};
use crate::caps::{self, Cap};
use crate::format::{self, Format, render};
use crate::ledger::{self, EventKind, Tally, TallyKind};
use crate::manager::{CommandReply, Manager};

fn flag(name: &str) -> CommandArg {
    CommandArg {
        type_: ArgType::CephBool,
        ..arg(name, false)
    }
}

fn caps_arg() -> CommandArg {
    CommandArg {
        repeated: true,
        ..arg("capability", true)
    }
}

/// The declarations of these commands.
pub fn commands() -> Vec<CommandDecl> {
    vec![
        cmd(
            "module grant",
            vec![arg("module", true), caps_arg()],
            "Grant capabilities to a module, pinned to its component's digest (with sha256:DIGEST among them: only if it is still the one reviewed)",
            Perm::Rw,
        ),
        cmd(
            "module revoke",
            vec![arg("module", true), caps_arg()],
            "Revoke capabilities from a module",
            Perm::Rw,
        ),
        cmd(
            "module learn",
            vec![arg("module", true), flag("stop"), arg("digest", false)],
            "Run a module with every capability it requests allowed and recorded (--stop ends it)",
            Perm::Rw,
        ),
        cmd(
            "module caps",
            vec![arg("module", true), flag("propose")],
            "Show a module's capabilities: requested, granted, used, denied (--propose: the smallest grant covering what it used)",
            Perm::R,
        ),
        cmd(
            "audit",
            vec![
                arg("module", false),
                arg("since", false),
                arg("kind", false),
            ],
            "List the audit ledger's events (--module M, --since TIME|AGE, --kind K)",
            Perm::R,
        ),
    ]
}

/// Whether `prefix` is one of these commands.
pub fn owns(prefix: &str) -> bool {
    matches!(
        prefix,
        "module grant" | "module revoke" | "module learn" | "module caps" | "audit"
    )
}

fn s<'a>(args: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    args.get(name).and_then(Value::as_str)
}

/// The capabilities of a grant or revoke, and the digest the operator reviewed if one of the
/// words is `sha256:<hex>` (no capability starts so).
fn parse_caps(args: &Map<String, Value>) -> Result<(Vec<Cap>, Option<&str>), CommandReply> {
    let mut list: Vec<&str> = match args.get("capability") {
        Some(Value::Array(v)) => v.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(one)) => vec![one.as_str()],
        _ => Vec::new(),
    };
    let digests: Vec<&str> = list
        .iter()
        .copied()
        .filter(|w| w.starts_with("sha256:"))
        .collect();
    list.retain(|w| !w.starts_with("sha256:"));
    if digests.len() > 1 {
        return Err(CommandReply::err(22, "name at most one sha256: digest"));
    }
    if list.is_empty() {
        return Err(CommandReply::err(
            22,
            format!("name at least one capability: {}", caps::CAP_FORMS),
        ));
    }
    let caps = list
        .iter()
        .map(|c| c.parse::<Cap>().map_err(|e| CommandReply::err(22, e)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((caps, digests.first().copied()))
}

/// Run command `prefix` for admin client `client`.
pub fn run(
    m: &Manager,
    prefix: &str,
    args: &Map<String, Value>,
    fmt: Format,
    client: &str,
) -> CommandReply {
    let module = s(args, "module").unwrap_or_default();
    let noted = |r: Result<String, crate::supervisor::OpError>| match r {
        Ok(note) => CommandReply {
            retval: 0,
            stdout: String::new(),
            stderr: note,
        },
        Err(e) => CommandReply::err(e.errno, e.message),
    };
    match prefix {
        "module grant" => match parse_caps(args) {
            Ok((caps, reviewed)) => noted(m.supervisor.grant(module, &caps, client, reviewed)),
            Err(r) => r,
        },
        "module revoke" => match parse_caps(args) {
            Ok((caps, _)) => noted(m.supervisor.revoke(module, &caps, client)),
            Err(r) => r,
        },
        "module learn" => {
            let on = args.get("stop").and_then(Value::as_bool) != Some(true);
            noted(m.supervisor.learn(module, on, client, s(args, "digest")).map(|()| {
                if on {
                    format!(
                        "{module} runs in learning mode: every capability it requests is allowed \
                         and recorded; see 'wasmgr module caps {module} --propose'"
                    )
                } else {
                    format!("{module} left learning mode")
                }
            }))
        }
        "module caps" => module_caps(
            m,
            module,
            args.get("propose").and_then(Value::as_bool) == Some(true),
            fmt,
        ),
        "audit" => audit(m, args, fmt),
        other => CommandReply::err(22, format!("no capability command '{other}'")),
    }
}

/// One row of `module caps`.
#[derive(Default)]
struct Row {
    requested: Option<&'static str>,
    granted: Option<&'static str>,
    grants: Vec<Value>,
    used: Option<Tally>,
    denied: Option<Tally>,
}

fn tally_json(t: &Option<Tally>) -> Value {
    match t {
        None => Value::Null,
        Some(t) => json!({
            "count": t.count,
            "first": ledger::rfc3339_us(t.first_us),
            "last": ledger::rfc3339_us(t.last_us),
        }),
    }
}

fn tally_text(t: &Option<Tally>) -> String {
    match t {
        None => "-".into(),
        Some(t) => format!("{} (last {})", t.count, ledger::rfc3339_us(t.last_us)),
    }
}

fn module_caps(m: &Manager, module: &str, propose: bool, fmt: Format) -> CommandReply {
    let found = match m.supervisor.inspect(module) {
        Ok(f) => f,
        Err(e) => return CommandReply::err(e.errno, e.message),
    };
    let ledger = m.supervisor.ledger();
    let (grants, tallies, learning) = match (
        ledger.grants(module),
        ledger.tallies(module),
        ledger.learning(module),
    ) {
        (Ok(g), Ok(t), Ok(l)) => (g, t, l),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            return CommandReply::err(5, e.to_string());
        }
    };
    let requests = &found.manifest.requests;
    if propose {
        let used: Vec<Cap> = tallies
            .iter()
            .filter(|(k, _, _)| *k == TallyKind::Used)
            .filter_map(|(_, c, _)| c.parse().ok())
            .filter(|c: &Cap| !ledger::is_overflow(c))
            .collect();
        let grant = caps::propose(&used, requests);
        let command = caps::grant_command(module, &grant);
        let v = json!({
            "module": module,
            "digest": found.digest,
            "grant": grant.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "command": command,
            "manifest": caps::manifest_toml(&grant),
        });
        return CommandReply::ok(render(&v, fmt, || {
            if grant.is_empty() {
                format!(
                    "{module} has used no capability yet: run it (in learning mode: 'wasmgr module learn {module}') and exercise its commands first"
                )
            } else {
                command.clone()
            }
        }));
    }
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for c in &requests.required {
        rows.entry(c.to_string()).or_default().requested = Some("required");
    }
    for c in &requests.optional {
        rows.entry(c.to_string()).or_default().requested = Some("optional");
    }
    for g in &grants {
        let row = rows.entry(g.cap.to_string()).or_default();
        row.grants.push(json!({
            "digest": g.digest,
            "at": ledger::rfc3339_us(g.at_us),
            "by": g.by,
        }));
    }
    for (kind, cap, t) in &tallies {
        let row = rows.entry(cap.clone()).or_default();
        match kind {
            TallyKind::Used => row.used = Some(t.clone()),
            TallyKind::Denied => row.denied = Some(t.clone()),
        }
    }
    for (text, row) in rows.iter_mut() {
        let Ok(cap) = text.parse::<Cap>() else {
            row.granted = Some("no");
            continue;
        };
        let current = grants
            .iter()
            .any(|g| g.digest == found.digest && g.cap.covers(&cap));
        let stale = grants.iter().any(|g| g.cap.covers(&cap));
        row.granted = Some(if current {
            "yes"
        } else if stale {
            "stale"
        } else {
            "no"
        });
    }
    let learning_now = learning.is_some_and(|l| l.digest == found.digest);
    let stale_grants = grants.iter().filter(|g| g.digest != found.digest).count();
    let state = m
        .supervisor
        .list()
        .into_iter()
        .find(|x| x.name == module)
        .map(|x| x.state.name())
        .unwrap_or("unknown");
    let v = json!({
        "module": module,
        "state": state,
        "digest": format!("sha256:{}", found.digest),
        "signer": found.signer.as_ref().map_or(json!("unsigned"), |s| json!(s)),
        "manifest": found.manifest.source,
        "learning": learning_now,
        "stale_grants": stale_grants,
        "capabilities": rows.iter().map(|(cap, r)| json!({
            "capability": cap,
            "requested": r.requested,
            "granted": r.granted,
            "grants": r.grants,
            "used": tally_json(&r.used),
            "denied": tally_json(&r.denied),
        })).collect::<Vec<_>>(),
    });
    CommandReply::ok(render(&v, fmt, || {
        let signer = found
            .signer
            .as_ref()
            .and_then(|s| serde_json::to_value(s).ok())
            .map_or("unsigned".to_owned(), |s| match s {
                Value::String(s) => s,
                other => other.to_string(),
            });
        let mut out = format!(
            "module:   {module} ({state})\ndigest:   sha256:{}\nsigner:   {signer}\nmanifest: {}\nlearning: {}\n",
            found.digest,
            found.manifest.source,
            if learning_now { "on" } else { "off" }
        );
        if stale_grants > 0 {
            out.push_str(&format!(
                "stale:    {stale_grants} grant(s) name another digest (the component was rebuilt): they are not applied\n"
            ));
        }
        out.push('\n');
        let table: Vec<Vec<String>> = rows
            .iter()
            .map(|(cap, r)| {
                vec![
                    cap.clone(),
                    r.requested.unwrap_or("-").into(),
                    r.granted.unwrap_or("no").into(),
                    tally_text(&r.used),
                    tally_text(&r.denied),
                ]
            })
            .collect();
        out.push_str(&format::table(
            &["CAPABILITY", "REQUESTED", "GRANTED", "USED", "DENIED"],
            &table,
        ));
        out
    }))
}

fn audit(m: &Manager, args: &Map<String, Value>, fmt: Format) -> CommandReply {
    let since = match s(args, "since").map(ledger::parse_since).transpose() {
        Ok(v) => v,
        Err(e) => return CommandReply::err(22, e),
    };
    let kind = match s(args, "kind") {
        None => None,
        Some(k) => match EventKind::parse(k) {
            Some(k) => Some(k),
            None => {
                return CommandReply::err(
                    22,
                    format!(
                        "no event kind '{}'; kinds are {}",
                        crate::sanitize::quote(k),
                        EventKind::NAMES
                    ),
                );
            }
        },
    };
    let events = match m.supervisor.ledger().events(s(args, "module"), since, kind) {
        Ok(e) => e,
        Err(e) => return CommandReply::err(5, e.to_string()),
    };
    let v = Value::Array(
        events
            .iter()
            .map(|e| {
                let mut j = serde_json::to_value(e).unwrap_or(Value::Null);
                j["time"] = json!(e.time());
                j
            })
            .collect(),
    );
    CommandReply::ok(render(&v, fmt, || {
        let rows: Vec<Vec<String>> = events
            .iter()
            .map(|e| {
                vec![
                    e.time(),
                    e.kind.name(),
                    e.module.clone().unwrap_or_else(|| "-".into()),
                    e.capability.clone().unwrap_or_else(|| "-".into()),
                    e.client.clone().unwrap_or_else(|| "-".into()),
                    e.detail.clone(),
                ]
            })
            .collect();
        format::table(
            &["TIME", "KIND", "MODULE", "CAPABILITY", "CLIENT", "DETAIL"],
            &rows,
        )
    }))
}
