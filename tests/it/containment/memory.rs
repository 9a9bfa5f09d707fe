//! Memory that must come back: what a hostile module makes the daemon allocate on its behalf
//! (large replies, huge arguments to host calls, a huge component file) is returned once the
//! work is done, and a file too large to be a module is refused before it is read.

use std::fs;

use serde_json::json;

use super::{assert_audited, assert_hello_answers_daemon, reason};
use crate::harness::guests::{HELLO, ROGUE};
use crate::harness::{Daemon, DaemonOptions, Modules};

const MIB: u64 = 1 << 20;

#[test]
fn the_daemon_gives_back_the_memory_of_large_replies_and_arguments() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    assert_hello_answers_daemon(&daemon);
    let before = daemon.rss_bytes();
    for _ in 0..4 {
        let out = daemon.run(&["rogue", "echo", "0", "x", "times=15000000"]);
        assert_eq!(out.ok().len(), 15_000_001);
    }
    let name = json!({"name": {"repeat": "x", "times": 20_000_000}}).to_string();
    let out = daemon.run_with_stdin(&["rogue", "get", "-i", "-"], Some(&name));
    assert!(out.ok().contains("\"errno\":2"));
    let after = daemon.rss_bytes();
    eprintln!(
        "daemon RSS {} MiB before, {} MiB after four 15 MB replies and a 20 MB argument",
        before / MIB,
        after / MIB
    );
    // Each reply passes through the daemon several times over (the module's string, the
    // escaped copy, the JSON body): kept, four of them held well over 100 MiB.
    assert!(
        after < before + 40 * MIB,
        "the daemon kept {} MiB after the replies were sent",
        (after - before) / MIB
    );
    assert_hello_answers_daemon(&daemon);
}

#[test]
fn a_component_file_over_the_size_limit_is_refused_without_being_read() {
    let daemon = Daemon::with(Modules::new(&[HELLO]), DaemonOptions::default());
    // 100 MB, sparse: it costs no disk, and reading it would cost 100 MB of memory.
    let big = daemon.modules_dir().join("big.wasm");
    fs::File::create(&big)
        .unwrap()
        .set_len(100_000_000)
        .unwrap();
    let before = daemon.rss_bytes();
    let err = daemon.run(&["module", "enable", "big"]).fails(5);
    assert!(err.contains("over the limit of 67108864 bytes"), "{err}");
    let row = daemon.module_row("big");
    assert!(reason(&row).contains("100000000 bytes"), "{row}");
    assert_audited(
        &daemon,
        "refused",
        "big",
        "over the limit of 67108864 bytes",
    );
    assert!(daemon.rss_bytes() < before + 16 * MIB);
    assert_hello_answers_daemon(&daemon);
}
