//! Granted directories: a module sees a granted host directory as its guest path, reads it,
//! writes it only if granted `rw`, and never gets out of it: not with `..`, not through a
//! symlink the host has or the module plants, not by asking for the whole host file system.

use std::fs;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::{
    assert_audited_saying, assert_hello_answers, assert_probe_fails, cap_row, caps, probe,
    prober_requesting,
};
use crate::harness::guests::{HELLO, PROBER};
use crate::harness::{Daemon, DaemonOptions, Modules};

/// What the file outside the granted directory holds.
const SECRET: &str = "top secret, outside the grant";

/// A host directory to grant and what lies around it:
///
/// ```text
/// <root>/secret.txt              SECRET
/// <root>/shared/                 the granted directory
/// <root>/shared/x.txt            "visible"
/// <root>/shared/inner -> x.txt   a symlink that stays inside
/// <root>/shared/abs -> <root>/secret.txt
/// <root>/shared/rel -> ../secret.txt
/// <root>/shared/up -> ..
/// ```
struct Tree {
    root: TempDir,
}

impl Tree {
    fn new() -> Tree {
        let root = tempfile::Builder::new()
            .prefix("wasmgr-files-")
            .tempdir()
            .unwrap();
        let shared = root.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::write(root.path().join("secret.txt"), SECRET).unwrap();
        fs::write(shared.join("x.txt"), "visible").unwrap();
        std::os::unix::fs::symlink("x.txt", shared.join("inner")).unwrap();
        std::os::unix::fs::symlink(root.path().join("secret.txt"), shared.join("abs")).unwrap();
        std::os::unix::fs::symlink("../secret.txt", shared.join("rel")).unwrap();
        std::os::unix::fs::symlink("..", shared.join("up")).unwrap();
        Tree { root }
    }

    fn shared(&self) -> PathBuf {
        self.root.path().join("shared")
    }

    fn secret(&self) -> String {
        fs::read_to_string(self.root.path().join("secret.txt")).unwrap()
    }

    /// The capability granting the shared directory as `/data`, `mode` `ro` or `rw`.
    fn cap(&self, mode: &str) -> String {
        format!("files:{}=/data:{mode}", self.shared().display())
    }

    /// A daemon whose prober is granted the shared directory as `/data`, `mode` `ro` or `rw`.
    fn daemon(&self, mode: &str) -> Daemon {
        prober_requesting(&format!(
            "[requests]\nget = [\"osd_map\"]\nfiles = [\"{}=/data:{mode}\"]\n",
            self.shared().display()
        ))
    }
}

/// Reads that would leave `/data`: through `..`, through each symlink pointing out, or by an
/// absolute path outside it.
const ESCAPES: &[&str] = &[
    "/data/../secret.txt",
    "/data/./../secret.txt",
    "/data/../../../../../etc/passwd",
    "/data/abs",
    "/data/rel",
    "/data/up/secret.txt",
    "/etc/passwd",
];

/// None of [`ESCAPES`] reads anything, nor do the host paths of the files (which the module
/// knows from its grant): the module sees the directory at its guest path only.
#[track_caller]
fn assert_no_escape(daemon: &Daemon, tree: &Tree) {
    let secret = tree.root.path().join("secret.txt");
    let visible = tree.shared().join("x.txt");
    let host_paths = [secret.to_str().unwrap(), visible.to_str().unwrap()];
    for path in ESCAPES.iter().copied().chain(host_paths) {
        assert_probe_fails(
            daemon,
            &["prober", "read", path],
            &[SECRET, "root:", "visible"],
        );
    }
    for dir in ["/data/..", "/data/up", "/"] {
        assert_probe_fails(daemon, &["prober", "ls", dir], &["secret.txt"]);
    }
}

#[test]
fn a_read_only_directory_can_be_read_but_not_written() {
    let tree = Tree::new();
    let daemon = tree.daemon("ro");
    let x = probe(&daemon, &["prober", "read", "/data/x.txt"]);
    assert_eq!(x["head"], "visible", "{x}");
    let inner = probe(&daemon, &["prober", "read", "/data/inner"]);
    assert_eq!(
        inner["head"], "visible",
        "a symlink inside the grant: {inner}"
    );
    let ls = probe(&daemon, &["prober", "ls", "/data"]);
    assert_eq!(
        ls["entries"],
        serde_json::json!(["abs", "inner", "rel", "up", "x.txt"]),
        "{ls}"
    );

    assert_probe_fails(&daemon, &["prober", "write", "/data/y.txt", "new"], &[]);
    assert_probe_fails(&daemon, &["prober", "write", "/data/x.txt", "changed"], &[]);
    assert_probe_fails(&daemon, &["prober", "symlink", "x.txt", "/data/link"], &[]);
    assert!(!tree.shared().join("y.txt").exists());
    assert!(fs::symlink_metadata(tree.shared().join("link")).is_err());
    assert_eq!(
        fs::read_to_string(tree.shared().join("x.txt")).unwrap(),
        "visible"
    );
    // The module used its grant: the ledger counts it.
    let caps = caps(&daemon, "prober");
    let row = cap_row(&caps, &tree.cap("ro")).unwrap();
    assert!(row["used"]["count"].as_u64().unwrap() > 0, "{caps:#}");
    assert_hello_answers(&daemon);
}

#[test]
fn a_read_only_directory_cannot_be_escaped_with_dot_dot_or_a_symlink() {
    let tree = Tree::new();
    let daemon = tree.daemon("ro");
    assert_no_escape(&daemon, &tree);
    assert_hello_answers(&daemon);
}

#[test]
fn a_read_write_directory_can_be_written_but_not_escaped() {
    let tree = Tree::new();
    let daemon = tree.daemon("rw");
    let wrote = probe(&daemon, &["prober", "write", "/data/y.txt", "written"]);
    assert_eq!(wrote["ok"], true, "{wrote}");
    assert_eq!(
        fs::read_to_string(tree.shared().join("y.txt")).unwrap(),
        "written"
    );
    assert_no_escape(&daemon, &tree);

    // Writing out of it, by `..` or through the host's symlinks, fails and changes nothing.
    for path in [
        "/data/../escaped.txt",
        "/data/../secret.txt",
        "/data/abs",
        "/data/rel",
    ] {
        assert_probe_fails(&daemon, &["prober", "write", path, "overwritten"], &[]);
    }
    assert!(!tree.root.path().join("escaped.txt").exists());
    assert_eq!(tree.secret(), SECRET);

    // A symlink the module plants pointing out leads nowhere either: neither reading nor
    // writing through it reaches the file it names.
    let secret = tree.root.path().join("secret.txt");
    for (target, link) in [
        (secret.to_str().unwrap(), "/data/planted-abs"),
        ("../secret.txt", "/data/planted-rel"),
    ] {
        let planted = probe(&daemon, &["prober", "symlink", target, link]);
        eprintln!("planting {link} -> {target}: {planted}");
        assert_probe_fails(&daemon, &["prober", "read", link], &[SECRET]);
        let _ = probe(&daemon, &["prober", "write", link, "overwritten"]);
        assert_eq!(tree.secret(), SECRET, "written through {link}");
    }
    assert_hello_answers(&daemon);
}

/// A daemon whose prober requests the whole host file system, read-write, and is granted
/// nothing; hello is granted its store.
fn requesting_the_root() -> Daemon {
    let modules = Modules::new(&[PROBER, HELLO]).manifest(
        PROBER,
        "[requests]\nget = [\"osd_map\"]\nfiles = [\"/=/host:rw\"]\n",
    );
    let daemon = Daemon::with(
        modules,
        DaemonOptions {
            grant_requests: false,
            ..DaemonOptions::default()
        },
    );
    daemon.ok(&["module", "grant", "hello", "store"]);
    daemon
}

#[test]
fn a_module_requesting_the_whole_host_file_system_does_not_start_until_granted() {
    let daemon = requesting_the_root();
    assert_hello_answers(&daemon);
    let row = daemon.module_row("prober");
    assert_eq!(row["state"], "ungranted", "{row:#}");
    let reason = row["reason"].as_str().unwrap();
    assert!(reason.contains("files:/=/host:rw"), "{reason}");
    assert!(reason.contains("wasmgr module grant prober"), "{reason}");
    let err = daemon.run(&["module", "enable", "prober"]).fails(13);
    assert!(err.contains("files:/=/host:rw"), "{err}");
    assert_audited_saying(&daemon, "refused", "prober", "files:/=/host:rw");
    // None of its code ran: nothing it could have read came out.
    let out = daemon.run(&["prober", "read", "/host/etc/passwd"]);
    assert_ne!(out.code, 0, "{out:#?}");
    assert!(!out.stdout.contains("root:"), "{out:#?}");
    assert_hello_answers(&daemon);
}

/// The commands of a module that never started are unknown to the host (it never described
/// itself), but their first word is the module's name: the caller should learn that the
/// module waits for a grant, and which, as `module ls` and `health` say, rather than that
/// there is no such command.
#[test]
fn a_command_of_an_ungranted_module_says_what_to_grant() {
    let daemon = requesting_the_root();
    let out = daemon.run(&["prober", "read", "/host/etc/passwd"]);
    assert_ne!(out.code, 0, "{out:#?}");
    assert!(
        out.stderr.contains("wasmgr module grant prober"),
        "the error does not say what to grant: {out:#?}"
    );
    assert_hello_answers(&daemon);
}

/// The descriptors the process `pid` holds open.
fn open_fds(pid: u32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count()
}

/// Set the soft and hard limit on open files of process `pid`.
fn limit_open_files(pid: u32, limit: u64) {
    let status = std::process::Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--nofile={limit}:{limit}"))
        .status()
        .unwrap();
    assert!(status.success(), "prlimit failed");
}

/// A module may open files in its granted directory, each a host descriptor of the daemon's.
/// Under the limit on open files a service manager commonly gives a daemon (1024), one module
/// must not be able to take them all: the daemon needs descriptors to accept its clients and
/// to write its database.
#[test]
fn a_module_hoarding_file_descriptors_cannot_starve_the_daemon() {
    let tree = Tree::new();
    let daemon = tree.daemon("rw");
    limit_open_files(daemon.pid(), 1024);
    let before = open_fds(daemon.pid());
    // Asking for more than its share stops the call: the instance is replaced and every
    // descriptor it held is closed.
    let err = daemon.run(&["prober", "open", "/data", "2000"]).fails(24);
    assert!(
        err.contains("holds 256 WASI handles (open files, sockets, streams), its limit"),
        "{err}"
    );
    assert_audited_saying(&daemon, "fault", "prober", "holds 256 WASI handles");
    // Just under its share, kept open across calls: the daemon keeps doing its work while the
    // module holds them, serving clients at once, loading a module, writing its database.
    let opened = probe(&daemon, &["prober", "open", "/data", "200"]);
    let held = open_fds(daemon.pid());
    eprintln!("prober open 200: {opened}; the daemon holds {before} descriptors, then {held}");
    assert_eq!(opened["ok"], true, "{opened}");
    assert!(held - before >= 200, "{before} then {held}");
    let answers: Vec<crate::harness::Out> = std::thread::scope(|s| {
        let clients: Vec<_> = (0..16)
            .map(|_| s.spawn(|| daemon.run(&["hello"])))
            .collect();
        clients.into_iter().map(|c| c.join().unwrap()).collect()
    });
    for out in answers {
        assert_eq!(out.ok(), "Hello, world!\n");
    }
    daemon.ok(&["module", "disable", "hello"]);
    daemon.ok(&["module", "enable", "hello"]);
    assert_hello_answers(&daemon);
    daemon.ok(&["config-key", "set", "after-the-hoard", "written"]);
    assert_eq!(
        daemon.ok(&["config-key", "get", "after-the-hoard"]),
        "written\n"
    );
    assert_eq!(daemon.ok(&["prober", "ok"]), "ok\n");
    assert!(
        Path::new(&format!("/proc/{}", daemon.pid())).exists(),
        "the daemon exited"
    );
}
