//! Named admin clients and their roles: `auth create`, `auth ls`, `auth rm`; a token for
//! every request, checked on every request; changes attributed to the client that made them;
//! tokens stored only as their hashes.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::harness::guests::ANTIGRAVITY;
use crate::harness::{Daemon, Out, WASMGR};

/// `auth create <name> --role <role>` as the built-in admin; the new client's token.
#[track_caller]
fn create_client(daemon: &Daemon, name: &str, role: &str) -> String {
    let out = daemon.run(&["auth", "create", name, "--role", role]);
    assert!(
        out.stderr
            .contains(&format!("created client {name} (role {role})")),
        "{out:#?}"
    );
    let token = out.ok();
    let token = token.trim_end_matches('\n');
    assert_eq!(token.len(), 64, "{token:?}");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{token:?}");
    token.to_owned()
}

/// Run the client against `daemon` with `token` in `$WASMGR_TOKEN`.
fn as_client(daemon: &Daemon, token: &str, args: &[&str]) -> Out {
    crate::harness::watchdog();
    let output = Command::new(WASMGR)
        .arg("--data")
        .arg(daemon.data())
        .args(args)
        .env_remove(wasmgr::DATA_ENV)
        .env(wasmgr::TOKEN_ENV, token)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Out {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// The admin API's address.
fn addr(daemon: &Daemon) -> String {
    let admin: Value =
        serde_json::from_slice(&fs::read(daemon.data().join("admin.json")).unwrap()).unwrap();
    admin["addr"].as_str().unwrap().to_owned()
}

/// One admin API connection kept alive across requests.
struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Connection {
    fn open(addr: &str) -> Connection {
        let writer = TcpStream::connect(addr).unwrap();
        Connection {
            reader: BufReader::new(writer.try_clone().unwrap()),
            writer,
        }
    }

    /// `POST /v1/command` with `words` and, if given, `token`; the status and body.
    fn command(&mut self, token: Option<&str>, words: &[&str]) -> (u16, String) {
        let body = json!({ "words": words }).to_string();
        let auth = token.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
        write!(
            self.writer,
            "POST /v1/command HTTP/1.1\r\nhost: wasmgr\r\n{auth}content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut status_line = String::new();
        self.reader.read_line(&mut status_line).unwrap();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP response: {status_line:?}"));
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).unwrap();
        (status, String::from_utf8(body).unwrap())
    }
}

#[test]
fn a_read_only_client_can_list_wormholes_but_not_create_one() {
    let daemon = Daemon::start(&[ANTIGRAVITY]);
    daemon
        .run_with_stdin(
            &["antigravity", "put", "object", "o1", "-i", "-"],
            Some("x"),
        )
        .ok();
    daemon.ok(&["antigravity", "create", "wormhole", "o1", "w1"]);
    let token = create_client(&daemon, "viewer", "r");

    let err = as_client(
        &daemon,
        &token,
        &["antigravity", "create", "wormhole", "o1", "w2"],
    )
    .fails(13);
    assert_eq!(
        err,
        "Error EACCES: access denied: 'antigravity create wormhole' needs write permission; use a read-write client token\n"
    );
    let listed = as_client(
        &daemon,
        &token,
        &["antigravity", "list", "wormholes", "o1", "-f", "json"],
    )
    .json();
    assert_eq!(listed, json!([{"name": "w1"}]));

    // The same client through a token file (its final newline is not part of the token).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("viewer.token");
    fs::write(&file, format!("{token}\n")).unwrap();
    let file = file.to_str().unwrap();
    let err = daemon
        .run(&[
            "--token-file",
            file,
            "antigravity",
            "create",
            "wormhole",
            "o1",
            "w2",
        ])
        .fails(13);
    assert!(err.starts_with("Error EACCES: access denied"), "{err}");
    let listed = daemon
        .run(&[
            "--token-file",
            file,
            "antigravity",
            "list",
            "wormholes",
            "o1",
            "-f",
            "json",
        ])
        .json();
    assert_eq!(listed, json!([{"name": "w1"}]));
}

#[test]
fn a_request_without_a_token_is_refused() {
    let daemon = Daemon::start(&[ANTIGRAVITY]);
    let mut conn = Connection::open(&addr(&daemon));
    let (status, body) = conn.command(None, &["antigravity", "ls", "objects"]);
    assert_eq!(status, 401, "{body}");
    assert!(body.starts_with("missing or wrong token: "), "{body}");

    // A token no client has, from a file or the environment, is refused as well.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wrong.token");
    fs::write(&file, "0".repeat(64)).unwrap();
    let err = daemon
        .run(&["--token-file", file.to_str().unwrap(), "status"])
        .fails(13);
    assert!(
        err.starts_with("Error EACCES: daemon refused: 401 missing or wrong token"),
        "{err}"
    );
    let err = as_client(&daemon, &"f".repeat(64), &["status"]).fails(13);
    assert!(err.contains("401 missing or wrong token"), "{err}");
    // A token file that holds no token is the operator's mistake, named as such.
    fs::write(&file, "\n").unwrap();
    let err = daemon
        .run(&["--token-file", file.to_str().unwrap(), "status"])
        .fails(22);
    assert!(err.contains("holds no token"), "{err}");
}

#[test]
fn a_removed_clients_token_stops_working_at_once() {
    let daemon = Daemon::start(&[ANTIGRAVITY]);
    let token = create_client(&daemon, "deploy", "rw");
    as_client(
        &daemon,
        &token,
        &["config", "set", "mgr/antigravity/max_objects", "7"],
    )
    .ok();

    // A connection opened and used while the client exists...
    let mut conn = Connection::open(&addr(&daemon));
    let (status, body) = conn.command(Some(&token), &["antigravity", "ls", "objects"]);
    assert_eq!(status, 200, "{body}");

    let out = daemon.run(&["auth", "rm", "deploy"]);
    assert!(
        out.stderr
            .contains("removed client deploy; its token no longer works"),
        "{out:#?}"
    );
    out.ok();

    // ...is refused on its very next request, as is every new one.
    let (status, body) = conn.command(Some(&token), &["antigravity", "ls", "objects"]);
    assert_eq!(status, 401, "{body}");
    let err = as_client(&daemon, &token, &["antigravity", "ls", "objects"]).fails(13);
    assert!(err.contains("401 missing or wrong token"), "{err}");
    let err = daemon.run(&["auth", "rm", "deploy"]).fails(2);
    assert_eq!(
        err,
        "Error ENOENT: no client 'deploy'; see 'wasmgr auth ls'\n"
    );
}

#[test]
fn auth_management_is_admin_only() {
    let daemon = Daemon::start(&[ANTIGRAVITY]);
    let viewer = create_client(&daemon, "viewer", "r");
    let readonly = daemon.readonly_data();
    let readonly = readonly.path().to_str().unwrap();
    for words in [
        &["auth", "create", "sneaky", "--role", "rw"][..],
        &["auth", "ls"],
        &["auth", "rm", "viewer"],
    ] {
        let err = as_client(&daemon, &viewer, words).fails(13);
        assert!(err.starts_with("Error EACCES: access denied"), "{err}");
        let mut args = vec!["--data", readonly];
        args.extend_from_slice(words);
        crate::harness::wasmgr(&args, None).fails(13);
    }

    // A read-write client manages clients as the built-in admin does.
    let ops = create_client(&daemon, "ops", "rw");
    let listed = as_client(&daemon, &ops, &["auth", "ls", "-f", "json"]).json();
    let rows: Vec<(&str, &str, &Value)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap(),
                c["role"].as_str().unwrap(),
                &c["created_by"],
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("admin", "rw", &Value::Null),
            ("readonly", "r", &Value::Null),
            ("ops", "rw", &json!("admin")),
            ("viewer", "r", &json!("admin")),
        ]
    );
    assert!(!listed.to_string().contains(&viewer), "{listed}");
    assert!(!listed.to_string().contains("token"), "{listed}");
    let out = as_client(&daemon, &ops, &["auth", "create", "ci"]);
    assert!(
        out.stderr.contains("created client ci (role r)"),
        "{out:#?}"
    );
    out.ok();
    as_client(&daemon, &ops, &["auth", "rm", "viewer"]).ok();
    as_client(&daemon, &viewer, &["auth", "ls"]).fails(13);

    // The built-in clients' names are reserved; names are checked; names are unique.
    let err = daemon.run(&["auth", "create", "admin"]).fails(1);
    assert!(err.contains("'admin' is a built-in client"), "{err}");
    let err = daemon.run(&["auth", "rm", "readonly"]).fails(1);
    assert!(err.contains("'readonly' is a built-in client"), "{err}");
    let err = daemon.run(&["auth", "create", "a/b"]).fails(22);
    assert!(err.contains("[A-Za-z0-9_.-]"), "{err}");
    let err = daemon.run(&["auth", "create", &"n".repeat(65)]).fails(22);
    assert!(err.contains("use 1 to 64 characters"), "{err}");
    let err = daemon
        .run(&["auth", "create", "ops", "--role", "r"])
        .fails(17);
    assert!(err.contains("client 'ops' exists"), "{err}");
    daemon
        .run(&["auth", "create", "x", "--role", "w"])
        .fails(22);
    // The refusals changed nothing: ops's token still works.
    as_client(&daemon, &ops, &["auth", "ls"]).ok();
}

#[test]
fn grants_are_attributed_to_the_client_that_made_them() {
    let daemon = Daemon::start(&[ANTIGRAVITY]);
    let ops = create_client(&daemon, "ops", "rw");
    as_client(&daemon, &ops, &["module", "grant", "antigravity", "store"]).ok();
    as_client(
        &daemon,
        &ops,
        &["config", "set", "mgr/antigravity/max_objects", "7"],
    )
    .ok();
    daemon.ok(&["config-key", "set", "mgr/antigravity/note", "secret-value"]);
    as_client(&daemon, &ops, &["module", "revoke", "antigravity", "store"]).ok();

    let events = |kind: &str| -> Vec<Value> {
        daemon
            .run(&["audit", "--kind", kind, "--format", "json"])
            .json()
            .as_array()
            .unwrap()
            .clone()
    };
    let grant = events("grant").pop().unwrap();
    assert_eq!(
        (&grant["module"], &grant["capability"], &grant["client"]),
        (&json!("antigravity"), &json!("store"), &json!("ops")),
        "{grant:#}"
    );
    let revoke = events("revoke").pop().unwrap();
    assert_eq!(revoke["client"], "ops", "{revoke:#}");

    let config = events("config");
    let details: Vec<(&str, &str)> = config
        .iter()
        .map(|e| (e["client"].as_str().unwrap(), e["detail"].as_str().unwrap()))
        .collect();
    assert_eq!(
        details,
        [
            ("ops", "config set mgr/antigravity/max_objects 7"),
            ("admin", "config-key set mgr/antigravity/note (12 bytes)"),
        ]
    );
    // A config-key's value may be a secret: the ledger names only the key.
    assert!(!format!("{config:?}").contains("secret-value"));

    let auth = events("auth");
    let created = auth
        .iter()
        .find(|e| e["detail"] == "created client ops (role rw)")
        .unwrap_or_else(|| panic!("{auth:#?}"));
    assert_eq!(created["client"], "admin");
}

#[test]
fn tokens_are_stored_hashed() {
    let mut daemon = Daemon::start(&[ANTIGRAVITY]);
    let token = create_client(&daemon, "ops", "rw");
    let hash = wasmgr_runtime::clients::token_hash(&token);
    let files = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut dirs = vec![dir.to_owned()];
        while let Some(d) = dirs.pop() {
            for entry in fs::read_dir(d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if let Ok(bytes) = fs::read(&path) {
                    out.push((path.display().to_string(), bytes));
                }
            }
        }
        out
    };
    let contains =
        |bytes: &[u8], text: &str| bytes.windows(text.len()).any(|w| w == text.as_bytes());
    let check = |daemon: &Daemon| {
        let all = files(&daemon.data());
        for (path, bytes) in &all {
            assert!(!contains(bytes, &token), "the token is in {path}");
        }
        assert!(
            all.iter()
                .any(|(path, bytes)| path.contains("wasmgr.db") && contains(bytes, &hash)),
            "the token's hash is in no wasmgr.db file"
        );
        assert!(
            !daemon.log().contains(&token),
            "the token is in the daemon log"
        );
    };
    check(&daemon);
    // Once the daemon stopped cleanly, and after a restart, it is still only the hash, and
    // the client still authenticates.
    assert!(daemon.terminate().success());
    daemon.restart();
    check(&daemon);
    as_client(&daemon, &token, &["auth", "ls"]).ok();
}
