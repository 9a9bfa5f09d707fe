//! The memory limit is the module's: a component made of several core instances, each with a
//! linear memory of its own, gets one limit for all of them, not one per memory.
//!
//! The guest, `multimem` (`tests/guests-wat/multimem.wat`), has three extra memories and grows
//! each by 40 MiB: under the 64 MiB limit one by one, 120 MiB together.

use crate::harness::Host;
use crate::harness::guests::{HELLO, MULTIMEM};

#[test]
fn a_component_of_several_memories_loads_and_runs() {
    let host = Host::start(&[MULTIMEM, HELLO]);
    let info = host.module_info("multimem");
    assert_eq!(info["state"], "running", "{info:#}");
    assert_eq!(info["version"], "0.1.0", "{info:#}");
    assert_eq!(info["can_run"], true, "{info:#}");
    assert_eq!(info["commands"][0]["usage"], "multimem grow", "{info:#}");
    assert_eq!(info["commands"][0]["perm"], "r", "{info:#}");

    // Whatever the first `multimem grow` does, a second asks each memory for 80 MiB, past the
    // limit however it is counted: the guest's refusal path (or the host's trap) answers.
    let _ = host.run(&["multimem", "grow"]);
    let reply = host.run(&["multimem", "grow"]);
    assert_eq!(reply.retval, -12, "{reply:#?}");
    assert!(
        reply.stdout == "refused" || reply.stderr.contains("memory limit"),
        "{reply:#?}"
    );
}

#[test]
fn several_memories_count_against_one_module_limit() {
    let host = Host::start(&[MULTIMEM, HELLO]);
    assert_eq!(host.module_info("multimem")["state"], "running");

    // ENOMEM either way: the guest sees a `memory.grow` refused and answers -12 "refused", or
    // the host stops the call with a trap reported as the memory limit.
    let reply = host.run(&["multimem", "grow"]);
    assert_eq!(
        reply.retval, -12,
        "three memories of 40 MiB each grew within one module's 64 MiB limit: {reply:#?}"
    );
    assert!(
        reply.stdout == "refused" || reply.stderr.contains("memory limit"),
        "{reply:#?}"
    );

    assert_eq!(host.ok(&["hello"]), "Hello, world!");
}
