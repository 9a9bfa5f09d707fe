//! Granted directories: a grant names a host path, and every new instance opens it again.

use std::fs;
use std::path::PathBuf;

use serde_json::Value;

use crate::harness::guests::{HELLO, INTRUDER};
use crate::harness::{Daemon, DaemonOptions, Modules};

fn probe(daemon: &Daemon, words: &[&str]) -> Value {
    let out = daemon.run(words);
    serde_json::from_str(&out.stdout).unwrap_or(Value::Null)
}

/// A module granted `<t>/jobs` read-write as `/jobs`, and `<t>/jobs/reports` read-only as
/// `/reports` (the reports it writes, shown to it again read-only: nested grants an operator
/// may well make). Inside `/jobs` it may rename and create symlinks; one it plants can lead
/// nowhere through `/jobs`. But the host opens each granted directory by its path, following
/// symlinks, whenever it makes an instance: the module renames `reports` away, puts a
/// symlink to the daemon's data directory in its place, traps to get a fresh instance, and
/// reads the daemon's files as `/reports` — `admin.json`, the operator's token, included.
#[test]
fn a_planted_symlink_does_not_become_the_next_instances_granted_directory() {
    let tree = tempfile::Builder::new()
        .prefix("wasmgr-nested-")
        .tempdir()
        .unwrap();
    let work = tree.path().join("jobs");
    fs::create_dir_all(work.join("reports")).unwrap();
    fs::write(work.join("reports/weekly.txt"), "fine").unwrap();
    let manifest = format!(
        "[requests]\nfiles = [\"{w}=/jobs:rw\", \"{w}/reports=/reports:ro\"]\n",
        w = work.display()
    );
    let daemon = Daemon::with(
        Modules::new(&[INTRUDER, HELLO]).manifest(INTRUDER, &manifest),
        DaemonOptions::default(),
    );
    let seen = probe(&daemon, &["intruder", "read", "/reports/weekly.txt"]);
    assert_eq!(seen["text"], "fine", "{seen}");
    // The module cannot read the data directory now: it is outside both grants.
    let data = daemon.data();
    let admin = data.join("admin.json");
    let direct = probe(&daemon, &["intruder", "read", admin.to_str().unwrap()]);
    assert_eq!(direct["ok"], false, "{direct}");

    let moved = probe(
        &daemon,
        &["intruder", "rename", "/jobs/reports", "/jobs/reports.old"],
    );
    assert_eq!(moved["ok"], true, "{moved}");
    // A symlink to an absolute path is refused; one with `..` is not. The module knows the
    // host path of its grant (it is in the grant), and the data directory's is easy to guess.
    let mut up = PathBuf::new();
    for _ in work.components().skip(1) {
        up.push("..");
    }
    let points_to = up.join(data.strip_prefix("/").unwrap());
    let planted = probe(
        &daemon,
        &[
            "intruder",
            "symlink",
            points_to.to_str().unwrap(),
            "/jobs/reports",
        ],
    );
    eprintln!(
        "planted /jobs/reports -> {}: {planted}",
        points_to.display()
    );
    let _ = daemon.run(&["intruder", "trap"]);

    let stolen = probe(&daemon, &["intruder", "read", "/reports/admin.json"]);
    let token = fs::read_to_string(&admin).unwrap();
    let token = serde_json::from_str::<Value>(&token).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        !stolen.to_string().contains(&token),
        "through a symlink it planted in its read-write grant, the module read the daemon's \
         admin.json as /reports/admin.json: {stolen}"
    );
}
