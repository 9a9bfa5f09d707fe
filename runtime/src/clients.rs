//! Named admin clients and their roles: `auth create <name> [--role r|rw]`, `auth ls` and
//! `auth rm <name>`, and the registry the daemon checks every request's token against.
//!
//! A client is a name, a role and a token. The token is shown once, when the client is
//! created; the store keeps only its SHA-256 ([`token_hash`]), so a copy of the database does
//! not let anyone act as the client. The registry holds every client's hash in memory,
//! loaded at start and changed by `auth create` and `auth rm` before they answer: a removed
//! client's token is refused from the very next request on, on connections already open too.
//!
//! Two clients are built in and are not in the registry: `admin` (role `rw`, its token in the
//! data directory's `admin.json`) and `readonly` (role `r`, in `readonly.json`). Their names
//! are reserved.
//!
//! What a role may do:
//! - `r`: the `r` commands only (listings, `health`, `status`, a module's read commands);
//! - `rw`: every command, `auth` management included (which is why every `auth` command is
//!   `rw`: a read-only client may not even list the clients).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::bindings::{ArgType, CommandArg, CommandDecl, Perm};
use crate::format::{self, Format, render};
use crate::ledger::{self, Event, EventKind};
use crate::manager::{ClientPerm, CommandReply, Manager};
use crate::persist::{PersistError, Persistence, Space};

/// The built-in read-write client, whose token is in `admin.json`.
pub const ADMIN: &str = "admin";
/// The built-in read-only client, whose token is in `readonly.json`.
pub const READONLY: &str = "readonly";
/// Bytes of a client name at most: enough for a person's or a service's name, short enough
/// that every ledger event naming the client stays small.
pub const NAME_BYTES: usize = 64;
/// The characters of a client name: they can be shown anywhere (a table, a log line, a
/// shell) without quoting.
pub const NAME_CHARS: &str = "[A-Za-z0-9_.-]";
/// Named clients at most. Stops a script that creates clients in a loop from growing the
/// in-memory registry, and `auth ls`, without bound.
pub const MAX_CLIENTS: usize = 1000;
/// Random bytes in a token: 256 bits, beyond guessing.
pub const TOKEN_BYTES: usize = 32;

/// What a client may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// `r` commands only.
    #[serde(rename = "r")]
    Read,
    /// Every command, `auth` management included.
    #[serde(rename = "rw")]
    ReadWrite,
}

impl Role {
    /// The role named `r` or `rw`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "r" => Some(Role::Read),
            "rw" => Some(Role::ReadWrite),
            _ => None,
        }
    }

    /// `r` or `rw`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Read => "r",
            Role::ReadWrite => "rw",
        }
    }

    /// What the command table checks.
    pub fn perm(self) -> ClientPerm {
        match self {
            Role::Read => ClientPerm::Read,
            Role::ReadWrite => ClientPerm::ReadWrite,
        }
    }
}

/// A client as stored in [`Space::Clients`], keyed by its name. Never the token itself.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Record {
    role: Role,
    /// SHA-256 of the token's text, hex.
    token_sha256: String,
    /// When it was created, microseconds since the Unix epoch.
    created_us: u64,
    /// The client that created it.
    created_by: String,
}

/// A client as `auth ls` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientInfo {
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// When it was created (microseconds since the epoch); `None` for a built-in client.
    pub created_us: Option<u64>,
    /// Who created it; `None` for a built-in client.
    pub created_by: Option<String>,
}

/// Who sent a request, once its token checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    /// The client's name.
    pub name: String,
    /// What it may do.
    pub perm: ClientPerm,
}

/// Why a client could not be created or removed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The name is empty, too long or has characters outside [`NAME_CHARS`].
    #[error("client name '{0}' is invalid: use 1 to {NAME_BYTES} characters of {NAME_CHARS}")]
    BadName(String),
    /// The name is one of the built-in clients'.
    #[error(
        "'{0}' is a built-in client (its token is in the data directory's {0}.json, rewritten at \
         every daemon start); choose another name"
    )]
    Reserved(String),
    /// A client of that name exists.
    #[error(
        "client '{0}' exists; remove it first with 'wasmgr auth rm {0}' (its token then stops \
         working) or choose another name"
    )]
    Exists(String),
    /// No client of that name exists.
    #[error("no client '{0}'; see 'wasmgr auth ls'")]
    NotFound(String),
    /// [`MAX_CLIENTS`] exist already.
    #[error("there are {MAX_CLIENTS} clients already; remove unused ones with 'wasmgr auth rm'")]
    Full,
    /// No random bytes for a token.
    #[error("cannot make a token: the system's random source failed ({0}); try again")]
    Random(String),
    /// The store failed.
    #[error(transparent)]
    Persist(#[from] PersistError),
}

impl ClientError {
    /// The errno a command answers with.
    pub fn errno(&self) -> i32 {
        match self {
            ClientError::BadName(_) => 22,
            ClientError::Reserved(_) => 1,
            ClientError::Exists(_) => 17,
            ClientError::NotFound(_) => 2,
            ClientError::Full => 28,
            ClientError::Random(_) | ClientError::Persist(_) => 5,
        }
    }
}

/// SHA-256 of a token's text, hex: what the store keeps instead of the token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new token: [`TOKEN_BYTES`] random bytes, hex.
pub fn new_token() -> std::io::Result<String> {
    let mut b = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut b).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(hex::encode(b))
}

/// Whether `name` may name a client (built-in names aside).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= NAME_BYTES
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// The named clients: stored in [`Space::Clients`], their token hashes held in memory for
/// checking requests.
pub struct Clients {
    persist: Arc<dyn Persistence>,
    /// Token hash → (name, role), exactly the stored clients.
    by_hash: RwLock<HashMap<String, (String, Role)>>,
    /// Held by `create` and `remove` for the whole change, so two of them for one name
    /// cannot both pass their checks.
    changing: Mutex<()>,
}

impl Clients {
    /// The clients stored in `persist`. A record that does not parse, or that names a
    /// built-in client, is left out with a warning: it authenticates nobody.
    pub fn load(persist: Arc<dyn Persistence>) -> Result<Clients, PersistError> {
        let mut by_hash = HashMap::new();
        for (name, value) in persist.list(Space::Clients, "")? {
            match serde_json::from_str::<Record>(&value) {
                Ok(r) if valid_name(&name) && name != ADMIN && name != READONLY => {
                    by_hash.insert(r.token_sha256, (name, r.role));
                }
                Ok(_) => tracing::warn!(
                    client = %crate::sanitize::quote(&name),
                    "stored client left out: its name is not a client name"
                ),
                Err(e) => tracing::warn!(
                    client = %crate::sanitize::quote(&name),
                    "stored client left out: its record is corrupt ({e}); remove it with 'wasmgr auth rm' and create it anew"
                ),
            }
        }
        Ok(Clients {
            persist,
            by_hash: RwLock::new(by_hash),
            changing: Mutex::new(()),
        })
    }

    fn changing(&self) -> MutexGuard<'_, ()> {
        self.changing.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The named client whose token is `token`, if any. Looked up by the token's hash, so
    /// the time taken does not depend on how much of a stored token a guess matches.
    pub fn authenticate(&self, token: &str) -> Option<Authenticated> {
        if token.is_empty() {
            return None;
        }
        let hash = token_hash(token);
        let by_hash = self.by_hash.read().unwrap_or_else(|p| p.into_inner());
        by_hash.get(&hash).map(|(name, role)| Authenticated {
            name: name.clone(),
            perm: role.perm(),
        })
    }

    /// Create client `name` with `role`, on behalf of client `by`; its token, which is
    /// stored only as its hash and works from now on.
    pub fn create(&self, name: &str, role: Role, by: &str) -> Result<String, ClientError> {
        check_name(name)?;
        let _one_at_a_time = self.changing();
        if self.persist.get(Space::Clients, name)?.is_some() {
            return Err(ClientError::Exists(name.to_owned()));
        }
        if self.persist.usage(Space::Clients, "")?.0 >= MAX_CLIENTS as u64 {
            return Err(ClientError::Full);
        }
        let token = new_token().map_err(|e| ClientError::Random(e.to_string()))?;
        let record = Record {
            role,
            token_sha256: token_hash(&token),
            created_us: now_us(),
            created_by: by.to_owned(),
        };
        let value = serde_json::to_string(&record).map_err(|e| PersistError(e.to_string()))?;
        self.persist.set(Space::Clients, name, Some(&value))?;
        self.by_hash
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(record.token_sha256, (name.to_owned(), role));
        Ok(token)
    }

    /// Remove client `name`: its token is refused from now on. Its role.
    pub fn remove(&self, name: &str) -> Result<Role, ClientError> {
        check_name(name)?;
        let _one_at_a_time = self.changing();
        let Some(value) = self.persist.get(Space::Clients, name)? else {
            return Err(ClientError::NotFound(name.to_owned()));
        };
        self.persist.set(Space::Clients, name, None)?;
        let mut by_hash = self.by_hash.write().unwrap_or_else(|p| p.into_inner());
        // By name rather than by the stored hash: a corrupt record's client is gone too.
        by_hash.retain(|_, (n, _)| n != name);
        Ok(serde_json::from_str::<Record>(&value).map_or(Role::ReadWrite, |r| r.role))
    }

    /// Every client, the built-in ones first, then the named ones by name.
    pub fn list(&self) -> Result<Vec<ClientInfo>, PersistError> {
        let mut out = vec![
            ClientInfo {
                name: ADMIN.into(),
                role: Role::ReadWrite,
                created_us: None,
                created_by: None,
            },
            ClientInfo {
                name: READONLY.into(),
                role: Role::Read,
                created_us: None,
                created_by: None,
            },
        ];
        for (name, value) in self.persist.list(Space::Clients, "")? {
            if let Ok(r) = serde_json::from_str::<Record>(&value) {
                out.push(ClientInfo {
                    name,
                    role: r.role,
                    created_us: Some(r.created_us),
                    created_by: Some(r.created_by),
                });
            }
        }
        Ok(out)
    }
}

/// A name `auth create` or `auth rm` may take.
fn check_name(name: &str) -> Result<(), ClientError> {
    if name == ADMIN || name == READONLY {
        return Err(ClientError::Reserved(name.to_owned()));
    }
    if !valid_name(name) {
        return Err(ClientError::BadName(crate::sanitize::quote(name)));
    }
    Ok(())
}

fn name_arg() -> CommandArg {
    CommandArg {
        goodchars: Some(NAME_CHARS.into()),
        ..crate::builtin::arg("name", true)
    }
}

/// An `auth` command: managing clients is the administrator's alone; a read-only client may
/// not even learn who the other clients are.
fn auth_cmd(prefix: &str, args: Vec<CommandArg>, desc: &str) -> CommandDecl {
    crate::builtin::cmd(prefix, args, desc, Perm::Rw)
}

/// The declarations of the `auth` commands.
pub fn commands() -> Vec<CommandDecl> {
    vec![
        auth_cmd(
            "auth create",
            vec![
                name_arg(),
                CommandArg {
                    type_: ArgType::CephChoices,
                    choices: vec!["r".into(), "rw".into()],
                    ..crate::builtin::arg("role", false)
                },
            ],
            "Create an admin client (role r unless --role rw) and print its token, shown this once only",
        ),
        auth_cmd("auth ls", vec![], "List the admin clients and their roles"),
        auth_cmd(
            "auth rm",
            vec![name_arg()],
            "Remove an admin client: its token stops working at once",
        ),
    ]
}

/// Whether `prefix` is one of the `auth` commands.
pub fn owns(prefix: &str) -> bool {
    matches!(prefix, "auth create" | "auth ls" | "auth rm")
}

/// Run `auth` command `prefix` for admin client `client`.
pub fn run(
    m: &Manager,
    prefix: &str,
    args: &Map<String, Value>,
    fmt: Format,
    client: &str,
) -> CommandReply {
    let name = args.get("name").and_then(Value::as_str).unwrap_or_default();
    match prefix {
        "auth create" => {
            let role = args
                .get("role")
                .and_then(Value::as_str)
                .map_or(Some(Role::Read), Role::parse);
            let Some(role) = role else {
                return CommandReply::err(22, "--role must be r (read-only) or rw (read-write)");
            };
            create(m, name, role, client, fmt)
        }
        "auth ls" => ls(m, fmt),
        "auth rm" => remove(m, name, client),
        other => CommandReply::err(22, format!("no auth command '{other}'")),
    }
}

fn create(m: &Manager, name: &str, role: Role, by: &str, fmt: Format) -> CommandReply {
    let token = match m.clients.create(name, role, by) {
        Ok(t) => t,
        Err(e) => return CommandReply::err(e.errno(), e.to_string()),
    };
    let event = Event::new(
        EventKind::Auth,
        None,
        format!("created client {name} (role {})", role.name()),
    )
    .client(Some(by));
    if let Err(e) = m.supervisor.ledger().event_now(event) {
        // Unrecorded, the client must not exist: take it back (its token was never shown).
        let undone = m.clients.remove(name);
        return CommandReply::err(
            5,
            match undone {
                Ok(_) => format!(
                    "client '{name}' was not created: the audit ledger cannot record it ({e}); \
                     try again once the store is writable"
                ),
                Err(u) => format!(
                    "the audit ledger cannot record client '{name}' ({e}), and removing it \
                     failed too ({u}): remove it with 'wasmgr auth rm {name}'"
                ),
            },
        );
    }
    let v = json!({"name": name, "role": role.name(), "token": token});
    CommandReply {
        retval: 0,
        stdout: render(&v, fmt, || format!("{token}\n")),
        stderr: format!(
            "created client {name} (role {}); this is the only time its token is shown: give it \
             to the client, which passes it as $WASMGR_TOKEN or in a file named by --token-file",
            role.name()
        ),
    }
}

fn remove(m: &Manager, name: &str, by: &str) -> CommandReply {
    let role = match m.clients.remove(name) {
        Ok(r) => r,
        Err(e) => return CommandReply::err(e.errno(), e.to_string()),
    };
    let event = Event::new(
        EventKind::Auth,
        None,
        format!("removed client {name} (role {})", role.name()),
    )
    .client(Some(by));
    if let Err(e) = m.supervisor.ledger().event_now(event) {
        // The removal stands: a token the operator revoked must not come back.
        return CommandReply::err(
            5,
            format!(
                "client '{name}' was removed and its token no longer works, but the audit \
                 ledger cannot record it ({e})"
            ),
        );
    }
    CommandReply {
        retval: 0,
        stdout: String::new(),
        stderr: format!("removed client {name}; its token no longer works"),
    }
}

fn ls(m: &Manager, fmt: Format) -> CommandReply {
    let list = match m.clients.list() {
        Ok(l) => l,
        Err(e) => return CommandReply::err(5, e.to_string()),
    };
    let v = Value::Array(
        list.iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "role": c.role.name(),
                    "builtin": c.created_us.is_none(),
                    "created": c.created_us.map(ledger::rfc3339_us),
                    "created_by": c.created_by,
                })
            })
            .collect(),
    );
    CommandReply::ok(render(&v, fmt, || {
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|c| {
                vec![
                    c.name.clone(),
                    c.role.name().into(),
                    c.created_us.map_or("-".into(), ledger::rfc3339_us),
                    c.created_by.clone().unwrap_or_else(|| "(built-in)".into()),
                ]
            })
            .collect();
        format::table(&["NAME", "ROLE", "CREATED", "CREATED BY"], &rows)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::SqliteStore;

    fn clients(dir: &std::path::Path) -> Clients {
        let persist: Arc<dyn Persistence> = Arc::new(SqliteStore::open(dir).unwrap());
        Clients::load(persist).unwrap()
    }

    #[test]
    fn a_created_client_authenticates_until_it_is_removed_and_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let c = clients(dir.path());
        let token = c.create("ops", Role::ReadWrite, "admin").unwrap();
        let ops = Authenticated {
            name: "ops".into(),
            perm: ClientPerm::ReadWrite,
        };
        assert_eq!(c.authenticate(&token), Some(ops.clone()));
        assert_eq!(c.authenticate(&token[1..]), None);
        assert_eq!(c.authenticate(""), None);
        drop(c);

        let c = clients(dir.path());
        assert_eq!(c.authenticate(&token), Some(ops));
        assert_eq!(c.remove("ops").unwrap(), Role::ReadWrite);
        assert_eq!(c.authenticate(&token), None);
        assert!(matches!(c.remove("ops"), Err(ClientError::NotFound(_))));
    }

    #[test]
    fn names_are_checked_and_the_built_in_ones_reserved() {
        let dir = tempfile::tempdir().unwrap();
        let c = clients(dir.path());
        for bad in ["", "a b", "x/y", "é", &"n".repeat(NAME_BYTES + 1)] {
            assert!(
                matches!(
                    c.create(bad, Role::Read, "admin"),
                    Err(ClientError::BadName(_))
                ),
                "{bad:?}"
            );
        }
        for reserved in [ADMIN, READONLY] {
            let e = c.create(reserved, Role::Read, "admin").unwrap_err();
            assert!(matches!(e, ClientError::Reserved(_)), "{e}");
            assert_eq!(e.errno(), 1);
            assert!(matches!(c.remove(reserved), Err(ClientError::Reserved(_))));
        }
        c.create(&"n".repeat(NAME_BYTES), Role::Read, "admin")
            .unwrap();
        c.create("a.b_c-9", Role::Read, "admin").unwrap();
        let e = c.create("a.b_c-9", Role::ReadWrite, "admin").unwrap_err();
        assert_eq!(e.errno(), 17, "{e}");
    }

    #[test]
    fn the_store_holds_the_hash_never_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let persist: Arc<dyn Persistence> = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let c = Clients::load(persist.clone()).unwrap();
        let token = c.create("ops", Role::Read, "admin").unwrap();
        assert_eq!(token.len(), 2 * TOKEN_BYTES);
        let stored = persist.get(Space::Clients, "ops").unwrap().unwrap();
        assert!(!stored.contains(&token), "{stored}");
        assert!(stored.contains(&token_hash(&token)), "{stored}");
        let listed = c.list().unwrap();
        assert_eq!(
            listed.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
            [ADMIN, READONLY, "ops"]
        );
        assert_eq!(listed[2].created_by.as_deref(), Some("admin"));
    }
}
