//! Learning mode: everything requested allowed and recorded, for one digest; `--propose` the
//! exact capabilities used, never a wildcard.

use std::fs;

use super::{host, json_of, rebuilt, run, state};
use crate::harness::Modules;
use crate::harness::guests::{HELLO, INTRUDER};

/// A module in learning mode that asks for the data name `*` (which does not exist) must not
/// have that access recorded as the text `get:*`, which `--propose` would read back as the
/// wildcard: a name ending in `*` is refused as it is (so are command prefixes and remote
/// targets), and the proposal holds only the map the module read.
#[test]
fn a_proposal_is_the_exact_names_used_never_a_wildcard() {
    let host = host(
        Modules::new(&[INTRUDER, HELLO]).manifest(INTRUDER, "[requests]\nget = [\"*\"]\n"),
        false,
        false,
    );
    assert_eq!(state(&host, "intruder"), "ungranted");
    host.ok(&["module", "learn", "intruder"]);
    host.ok(&["intruder", "get", "osd_map"]);
    // A name ending in the pattern character is refused as it is, never recorded as a name.
    let star = run(&host, &["intruder", "get", "*"]);
    assert_eq!(star.retval, -13, "{star:#?}");
    assert!(star.stderr.contains("ending in '*'"), "{star:#?}");

    let reply = host.request(
        &["module", "caps", "intruder", "--propose"],
        Some("json"),
        "",
    );
    assert_eq!(reply.retval, 0, "{reply:#?}");
    let proposal = json_of(&reply.stdout);
    let grant: Vec<&str> = proposal["grant"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        grant.iter().all(|c| !c.ends_with('*')),
        "learning mode proposes a wildcard for a module that read osd_map: {}",
        proposal["command"]
    );
}

/// Learning mode is pinned to the component's digest, so that a module allowed "everything
/// it requests" cannot request more by shipping a new build. But the requests can also come
/// from `<name>.toml` beside the component, which the digest does not cover: whoever writes
/// that file (the module's author shipping an "updated manifest", or anyone who can write the
/// modules directory) widens what the module in learning mode is allowed at its next load,
/// with `module caps` still showing the same digest in learning mode.
#[test]
fn a_manifest_file_written_during_learning_widens_nothing() {
    let modules =
        Modules::new(&[INTRUDER, HELLO]).manifest(INTRUDER, "[requests]\nget = [\"osd_map\"]\n");
    let sidecar = modules.path().join("intruder.toml");
    let host = host(modules, false, false);
    host.ok(&["module", "learn", "intruder"]);
    host.ok(&["intruder", "get", "osd_map"]);
    assert_eq!(run(&host, &["intruder", "get", "mon_map"]).retval, -13);
    let reviewed = host.module_info("intruder")["digest"].clone();

    // The author's "manifest update"; the operator restarts the module as usual.
    fs::write(
        &sidecar,
        "[requests]\nget = [\"*\"]\nfiles = [\"/=/host:ro\"]\n",
    )
    .unwrap();
    let _ = run(&host, &["module", "disable", "intruder"]);
    host.ok(&["module", "enable", "intruder"]);
    assert_eq!(host.module_info("intruder")["digest"], reviewed);

    let widened = run(&host, &["intruder", "get", "mon_map"]);
    let passwd = run(&host, &["intruder", "read", "/host/etc/passwd"]);
    assert!(
        widened.retval == -13 && !passwd.stdout.contains("root:"),
        "in learning mode for the same digest, a new intruder.toml got the module mon_map \
         ({widened:#?}) and the host's root directory ({passwd:#?}), neither of which it \
         requested when learning began"
    );
}

/// A rebuilt component (one byte changed, here a custom section added) is another digest:
/// learning mode, granted for the old one, does not carry over.
#[test]
fn a_rebuilt_component_does_not_keep_learning_mode() {
    let modules =
        Modules::new(&[INTRUDER, HELLO]).manifest(INTRUDER, "[requests]\nget = [\"osd_map\"]\n");
    let wasm = modules.path().join("intruder.wasm");
    let host = host(modules, false, false);
    host.ok(&["module", "learn", "intruder"]);
    assert_eq!(state(&host, "intruder"), "running");
    fs::write(&wasm, rebuilt(&fs::read(&wasm).unwrap(), "v2")).unwrap();
    let _ = run(&host, &["module", "disable", "intruder"]);
    let enabled = run(&host, &["module", "enable", "intruder"]);
    assert_eq!(enabled.retval, -13, "{enabled:#?}");
    assert_eq!(state(&host, "intruder"), "ungranted");
}
