//! Grants: what they are pinned to, and what revoking one takes away.

use std::fs;
use std::time::Duration;

use super::{caps, host, json_of, rebuilt, run, state};
use crate::harness::guests::{HELLO, PROBER, TICKER};
use crate::harness::{Host, Modules, wait_until};

fn ticks(host: &Host) -> u64 {
    json_of(&host.ok(&["ticker", "now"]))["ticks"]
        .as_u64()
        .unwrap()
}

/// `tick` is "periodic work" and is checked when the module sets its tick period. A module
/// that holds `tick` as an optional capability and set a period keeps ticking after the
/// operator revokes it: the revocation reaches the capability set, not the schedule, until
/// the module happens to restart.
#[test]
fn revoking_tick_stops_the_modules_periodic_work() {
    let host = host(
        Modules::new(&[TICKER, HELLO]).manifest(
            TICKER,
            "[requests]\nexpose = [\"crash\"]\n[optional]\ntick = true\n",
        ),
        false,
        true,
    );
    host.ok(&["ticker", "every", "20", "0"]);
    wait_until("ticks", Duration::from_secs(10), || ticks(&host) >= 3);
    host.ok(&["module", "revoke", "ticker", "tick"]);
    assert_eq!(state(&host, "ticker"), "running");
    let c = caps(&host, "ticker");
    assert_eq!(
        super::cap_row(&c, "tick").unwrap()["granted"],
        "no",
        "{c:#}"
    );
    let after_revoke = ticks(&host);
    std::thread::sleep(Duration::from_millis(400));
    let later = ticks(&host);
    assert!(
        later <= after_revoke + 1,
        "ticker ticked {} more times in 400 ms after tick was revoked",
        later - after_revoke
    );
}

/// The reviewer reads `module caps prober` (the digest, what it requests), decides, and runs
/// `module grant prober ... sha256:<the digest reviewed>`. A component swapped in between (by
/// whoever can write the modules directory) is refused with ESTALE and does not start.
#[test]
fn a_grant_goes_to_the_component_that_was_reviewed() {
    let modules = Modules::new(&[PROBER, HELLO]);
    let wasm = modules.path().join("prober.wasm");
    let host = host(modules, false, false);
    assert_eq!(state(&host, "prober"), "ungranted");
    let reviewed = caps(&host, "prober")["digest"].as_str().unwrap().to_owned();

    fs::write(
        &wasm,
        rebuilt(&fs::read(&wasm).unwrap(), "not what was reviewed"),
    )
    .unwrap();
    let granted = run(
        &host,
        &["module", "grant", "prober", "get:osd_map", &reviewed],
    );
    assert_eq!(granted.retval, -116, "{granted:#?}");
    assert!(
        granted.stderr.contains("not the") && granted.stderr.contains("you reviewed"),
        "{granted:#?}"
    );
    assert_eq!(state(&host, "prober"), "ungranted");
    // The reviewed component, put back, is granted with the same command.
    fs::write(&wasm, fs::read(PROBER).unwrap()).unwrap();
    let granted = run(
        &host,
        &["module", "grant", "prober", "get:osd_map", &reviewed],
    );
    assert_eq!(granted.retval, 0, "{granted:#?}");
    assert_eq!(state(&host, "prober"), "running");
}

/// The other order: granted, then the file swapped. The grant names the old digest, so the
/// new component does not start when the module is next loaded.
#[test]
fn a_component_swapped_after_its_grant_does_not_run() {
    let modules = Modules::new(&[PROBER, HELLO]);
    let wasm = modules.path().join("prober.wasm");
    let host = host(modules, false, false);
    host.ok(&["module", "grant", "prober", "get:osd_map"]);
    assert_eq!(state(&host, "prober"), "running");
    fs::write(&wasm, rebuilt(&fs::read(&wasm).unwrap(), "swapped")).unwrap();
    let _ = run(&host, &["module", "disable", "prober"]);
    assert_eq!(run(&host, &["module", "enable", "prober"]).retval, -13);
    assert_eq!(state(&host, "prober"), "ungranted");
    // A revocation of something else, which reloads nothing, does not start it either.
    let _ = run(&host, &["module", "revoke", "prober", "health"]);
    assert_eq!(state(&host, "prober"), "ungranted");
}

/// A `<name>.toml` beside an approved component that asks for more than its embedded
/// manifest does (every data name, every cluster command) replaces its requests, and grants
/// nothing: the module, now requiring what nobody granted, does not start.
#[test]
fn a_manifest_file_asking_for_more_grants_nothing() {
    let modules = Modules::new(&[PROBER, HELLO]);
    let sidecar = modules.path().join("prober.toml");
    let host = host(modules, false, true);
    host.ok(&["prober", "get", "osd_map"]);
    fs::write(
        &sidecar,
        "[requests]\nget = [\"*\"]\nsend_command = [\"*\"]\n[optional]\nget = [\"osd_map\"]\n",
    )
    .unwrap();
    let _ = run(&host, &["module", "disable", "prober"]);
    assert_eq!(run(&host, &["module", "enable", "prober"]).retval, -13);
    assert_eq!(state(&host, "prober"), "ungranted");
    assert_ne!(run(&host, &["prober", "get", "mon_map"]).retval, 0);
}

/// A grants file's digest in upper-case hex names the same component (and only it).
#[test]
fn a_grants_file_digest_in_upper_case_names_that_component_only() {
    let modules = Modules::new(&[PROBER, HELLO]);
    let bytes = fs::read(modules.path().join("prober.wasm")).unwrap();
    let digest = wasmgr_runtime::cache::digest(&bytes);
    let grants = tempfile::tempdir().unwrap();
    let file = grants.path().join("grants.toml");
    let mut other = digest.clone();
    let last = if other.ends_with('0') { "1" } else { "0" };
    other.replace_range(63.., last);
    fs::write(
        &file,
        format!(
            "[prober]\ndigest = \"sha256:{}\"\ngrant = [\"get:osd_map\"]\n\
             [hello]\ndigest = \"sha256:{}\"\ngrant = [\"store\"]\n",
            digest.to_ascii_uppercase(),
            other.to_ascii_uppercase()
        ),
    )
    .unwrap();
    let host = Host::configured(modules, |c| c.grants_file = Some(file.clone()));
    assert_eq!(state(&host, "prober"), "running");
    assert_ne!(state(&host, "hello"), "running");
}

/// `module revoke` takes a grant away "for every digest", at once; the ledger records who
/// did it. A daemon started with `--grants FILE` (as `cargo xtask run` and a service unit
/// would start it, every time) applies the file again at its next start and re-adds, as
/// `grants-file:FILE`, every grant "not yet in the ledger": the revoked one included. The
/// revocation an operator made in an incident is undone by the next restart.
#[test]
fn a_revocation_survives_a_restart_with_a_grants_file() {
    let mut daemon = crate::harness::Daemon::start(&[PROBER, HELLO]);
    daemon.ok(&["prober", "get", "osd_map"]);
    daemon.ok(&["module", "revoke", "prober", "get:osd_map"]);
    assert_eq!(daemon.module_row("prober")["state"], "ungranted");
    daemon.restart();
    let row = daemon.module_row("prober");
    let got = daemon.run(&["prober", "get", "osd_map"]);
    assert!(
        row["state"] == "ungranted" && got.code != 0,
        "after a restart the revoked get:osd_map is granted again and prober reads the OSD \
         map: {row} {got:#?}"
    );
}

/// A signature by a trusted key says who built the component; it grants nothing. A signed,
/// trusted module that requests a capability stays ungranted until an operator grants it,
/// and a valid signature of another component, copied beside this one, is refused.
#[test]
fn a_trusted_signature_grants_nothing() {
    use crate::harness::{Daemon, DaemonOptions, wasmgr};
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("ops.pem");
    wasmgr(&["key", "gen", key.to_str().unwrap()], None).ok();
    let config = keys.path().join("host.toml");
    fs::write(
        &config,
        format!("[trust]\nkeys = [\"{}.pub\"]\n", key.display()),
    )
    .unwrap();
    let modules = Modules::new(&[PROBER, HELLO]);
    for name in ["prober", "hello"] {
        let component = modules.path().join(format!("{name}.wasm"));
        wasmgr(
            &[
                "module",
                "sign",
                component.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
            ],
            None,
        )
        .ok();
    }
    // hello's signature, valid and by the trusted key, in place of prober's.
    fs::copy(
        modules.path().join("hello.wasm.sig"),
        modules.path().join("prober.wasm.sig"),
    )
    .unwrap();
    let daemon = Daemon::with(
        modules,
        DaemonOptions {
            args: vec!["--config".into(), config.display().to_string()],
            grant_requests: false,
            ..DaemonOptions::default()
        },
    );
    // hello is signed by a trusted key, and still waits for its grant.
    assert_eq!(daemon.module_row("hello")["state"], "ungranted");
    daemon.run(&["hello"]).fails(13);
    let prober = daemon.module_row("prober");
    assert_eq!(prober["state"], "failed", "{prober}");
    assert!(
        prober["reason"].as_str().unwrap().contains("signed"),
        "{prober}"
    );
    // Granted, prober still does not load: the signature is for another component.
    let _ = daemon.run(&["module", "grant", "prober", "get:osd_map"]);
    assert_ne!(daemon.module_row("prober")["state"], "running");
}
