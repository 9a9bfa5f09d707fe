//! The admin API: loopback only, a bearer token for every request, a read-only token for `r`
//! commands, one daemon per data directory.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::harness::guests::{HELLO, SPIN};
use crate::harness::{Daemon, wait_until, wasmgr};

fn endpoint(data: &Path, file: &str) -> Value {
    serde_json::from_slice(&fs::read(data.join(file)).unwrap()).unwrap()
}

/// One HTTP/1.1 request to the admin API; the status code and body.
fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let auth = token.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\n{auth}content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response}"));
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn malformed_requests_get_a_status_that_says_what_to_send() {
    let daemon = Daemon::start(&[HELLO]);
    let calls = daemon.calls("hello");
    let admin = endpoint(&daemon.data(), "admin.json");
    let addr = admin["addr"].as_str().unwrap();
    let token = Some(admin["token"].as_str().unwrap());

    let (status, body) = http(addr, "POST", "/v1/command", token, r#"{"words": 3}"#);
    assert_eq!(status, 400, "{body}");
    assert!(body.starts_with("bad command request: "), "{body}");
    assert!(
        body.contains(r#"send a JSON object {"words": [...]"#),
        "{body}"
    );
    let (status, body) = http(addr, "GET", "/v1/command", token, "");
    assert_eq!((status, body.as_str()), (405, "use POST /v1/command"));
    let (status, body) = http(addr, "GET", "/v2/anything", token, "");
    assert_eq!(status, 404, "{body}");
    assert!(
        body.contains("serves POST /v1/command and GET /v1/commands"),
        "{body}"
    );
    assert_eq!(
        daemon.calls("hello"),
        calls,
        "a malformed request reached the module"
    );
    // The daemon still answers.
    let (status, body) = http(addr, "POST", "/v1/command", token, r#"{"words":["hello"]}"#);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn requests_without_the_right_token_are_refused() {
    let daemon = Daemon::start(&[HELLO]);
    let calls = daemon.calls("hello");
    let admin = endpoint(&daemon.data(), "admin.json");
    let addr = admin["addr"].as_str().unwrap();
    let token = admin["token"].as_str().unwrap();
    let hello = r#"{"words":["hello"]}"#;

    for bad in [None, Some(""), Some("0000"), Some(&token[1..])] {
        let (status, body) = http(addr, "POST", "/v1/command", bad, hello);
        assert_eq!(status, 401, "token {bad:?}: {body}");
        assert!(body.contains("missing or wrong token"), "{body}");
        let (status, _) = http(addr, "GET", "/v1/commands", bad, "");
        assert_eq!(status, 401, "token {bad:?}");
    }
    assert_eq!(
        daemon.calls("hello"),
        calls,
        "a refused request reached the module"
    );

    let (status, body) = http(addr, "POST", "/v1/command", Some(token), hello);
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reply["retval"], 0);
    assert_eq!(reply["stdout"], "Hello, world!");
}

#[test]
fn the_read_only_token_runs_read_commands_only() {
    let daemon = Daemon::start(&[HELLO]);
    let readonly = daemon.readonly_data();
    let data = readonly.path().to_str().unwrap();

    let out = crate::harness::wasmgr(&["--data", data, "hello"], None);
    assert_eq!(out.ok(), "Hello, world!\n");
    let err = crate::harness::wasmgr(
        &["--data", data, "config", "set", "mgr/hello/place", "Mars"],
        None,
    )
    .fails(13);
    assert_eq!(
        err,
        "Error EACCES: access denied: 'config set' needs write permission; use a read-write client token\n"
    );
    crate::harness::wasmgr(&["--data", data, "module", "disable", "hello"], None).fails(13);
    assert_eq!(daemon.ok(&["config", "get", "mgr/hello/place"]), "world\n");
    assert_eq!(daemon.module_row("hello")["state"], "running");
}

#[test]
fn the_endpoint_files_are_private_to_the_daemons_user() {
    let daemon = Daemon::start(&[HELLO]);
    let mode = |f: &str| {
        fs::metadata(daemon.data().join(f))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("admin.json"), 0o600);
    assert_eq!(mode("readonly.json"), 0o640);
    let admin = endpoint(&daemon.data(), "admin.json");
    let readonly = endpoint(&daemon.data(), "readonly.json");
    assert_eq!(admin["pid"], daemon.pid());
    assert_eq!(admin["addr"], readonly["addr"]);
    assert_ne!(admin["token"], readonly["token"]);
    assert!(
        admin["addr"].as_str().unwrap().starts_with("127.0.0.1:"),
        "{admin}"
    );
}

#[test]
fn the_daemon_refuses_to_listen_beyond_loopback() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let stderr = wasmgr(&["serve", "--listen", "0.0.0.0:0", "--data", dir], None).fails(22);
    assert!(
        stderr.starts_with("wasmgr serve: --listen 0.0.0.0:0: the admin API listens on loopback only (127.0.0.1 or [::1]); beyond it would take --listen-remote, which is refused: the admin API has no TLS, so client tokens, commands and their replies would cross the network in clear text"),
        "{stderr}"
    );
    // Asking explicitly is refused too, with the reason and what to do instead.
    let stderr = wasmgr(
        &[
            "serve",
            "--listen",
            "0.0.0.0:0",
            "--listen-remote",
            "--data",
            dir,
        ],
        None,
    )
    .fails(22);
    assert!(
        stderr.starts_with("wasmgr serve: --listen-remote is refused: the admin API has no TLS, so client tokens, commands and their replies would cross the network in clear text"),
        "{stderr}"
    );
    assert!(stderr.contains("through an SSH tunnel"), "{stderr}");
    assert!(
        stderr.contains(
            "a TLS-terminating reverse proxy on this host that forwards to the loopback address\n"
        ),
        "{stderr}"
    );
    assert!(!data.path().join("admin.json").exists());
}

#[test]
fn a_second_daemon_on_the_same_data_directory_is_refused() {
    let daemon = Daemon::start(&[HELLO]);
    let args = daemon.serve_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let stderr = wasmgr(&args, None).fails(1);
    assert!(
        stderr.contains(&format!(
            "wasmgr serve: another wasmgr daemon is running with data directory {}; stop it first or use another --data",
            daemon.data().display()
        )),
        "{stderr}"
    );
    // The first one is unharmed, its endpoint untouched.
    assert_eq!(endpoint(&daemon.data(), "admin.json")["pid"], daemon.pid());
    assert_eq!(daemon.ok(&["hello"]), "Hello, world!\n");
}

#[test]
fn a_command_running_at_sigterm_gets_its_reply_before_the_daemon_exits() {
    let mut daemon = Daemon::start(&[SPIN]);
    let data = daemon.data();
    let calls = daemon.calls("spin");
    let data_arg = data.display().to_string();
    let spin = std::thread::spawn(move || wasmgr(&["--data", &data_arg, "spin", "forever"], None));
    wait_until("spin forever starting", Duration::from_secs(10), || {
        daemon.calls("spin") != calls
    });

    let status = daemon.terminate();
    // The command ran into its 1 s deadline within the 2 s drain, and its reply was written
    // before the daemon went away.
    let err = spin.join().unwrap().fails(110);
    assert!(
        err.starts_with("Error ETIMEDOUT: module 'spin' handle-command exceeded its deadline"),
        "{err}"
    );
    assert!(status.success(), "the daemon exited with {status}");
    for file in ["admin.json", "readonly.json"] {
        assert!(!data.join(file).exists(), "{file} left behind");
    }
}
