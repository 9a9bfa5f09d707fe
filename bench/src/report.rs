//! The table: one row per case, in the order, with its target and the ratio to the
//! baselines measured in the same run.

use std::time::Duration;

use crate::cases::{FANOUT, RSS_COUNTS, Recorder};
use crate::live::{GUEST_DOCS, HOST_DOCS, SIM_FANOUT, SIZES};
use crate::stats::{Unit, show};

/// A target, as the issue states it.
enum Target {
    /// No target: context for the rows around it.
    None,
    /// Not measurable yet, or not here; the text says why.
    NotYet(&'static str),
    MaxNanos(f64),
    MinRate(f64),
    MaxBytes(f64),
    /// At most this many times the baseline's median.
    MaxRatio(&'static str, f64),
    /// At most this many percent above the baseline's median.
    MaxOverheadPct(&'static str, f64),
    /// At most this many nanoseconds above the baseline's median.
    MaxOverNanos(&'static str, f64),
}

struct Row {
    label: String,
    key: String,
    baselines: Vec<(&'static str, String)>,
    target: Target,
}

fn row(label: impl Into<String>, key: impl Into<String>, target: Target) -> Row {
    Row {
        label: label.into(),
        key: key.into(),
        baselines: Vec::new(),
        target,
    }
}

fn rows() -> Vec<Row> {
    let mut v = vec![
        Row {
            baselines: vec![("raw", "cmd.raw".into()), ("native", "cmd.native".into())],
            ..row(
                "command, in-process host path (`Manager::command`: actor, validation, limits, fuel), 1 KB in/out",
                "cmd.host",
                Target::MaxRatio("cmd.raw", 5.0),
            )
        },
        Row {
            baselines: vec![("native", "cmd.native".into())],
            ..row(
                "↳ baseline: raw wasmtime call of the same export, same engine config",
                "cmd.raw",
                Target::None,
            )
        },
        row(
            "↳ baseline: native Rust trait call doing the same work",
            "cmd.native",
            Target::None,
        ),
        Row {
            baselines: vec![("native", "cmd.native".into())],
            ..row(
                "↳ baseline: the same native call handed to a thread of its own and answered through std channels (a hand-off each way, as a queued call pays)",
                "cmd.handoff",
                Target::None,
            )
        },
        Row {
            baselines: vec![("native", "cmd.native".into())],
            ..row(
                "  ↳ the same, caller and actor pinned to one vCPU (hand-off is a context switch)",
                "cmd.handoff.same",
                Target::None,
            )
        },
        Row {
            baselines: vec![("native", "cmd.native".into())],
            ..row(
                "  ↳ the same, caller and actor pinned to different vCPUs (hand-off wakes the other vCPU)",
                "cmd.handoff.cross",
                Target::None,
            )
        },
        Row {
            baselines: vec![
                ("in-process", "cmd.host".into()),
                ("HTTP floor", "admin.floor.seq".into()),
            ],
            ..row(
                "command over the admin API, sequential (real `wasmgr serve`, loopback keep-alive HTTP)",
                "admin.seq",
                Target::MaxNanos(50e3),
            )
        },
        row(
            "↳ baseline, HTTP floor: the same request to a minimal server process (thread per connection, blocking I/O, prebuilt reply)",
            "admin.floor.seq",
            Target::None,
        ),
        Row {
            baselines: vec![("HTTP floor", "admin.floor.4c".into())],
            ..row(
                "command over the admin API, 4 concurrent clients: throughput",
                "admin.4c",
                Target::MinRate(40_000.0),
            )
        },
        Row {
            baselines: vec![("HTTP floor", "admin.floor.4c.lat".into())],
            ..row(
                "↳ latency per command with 4 concurrent clients",
                "admin.4c.lat",
                Target::None,
            )
        },
        row(
            "↳ baseline, HTTP floor, 4 concurrent clients: throughput",
            "admin.floor.4c",
            Target::None,
        ),
        row(
            "  ↳ latency per request with 4 concurrent clients",
            "admin.floor.4c.lat",
            Target::None,
        ),
    ];
    for &n in FANOUT {
        v.push(Row {
            baselines: vec![
                ("raw", format!("notify.raw.{n}")),
                ("raw on a thread", format!("notify.raw-thread.{n}")),
            ],
            ..row(
                format!(
                    "notify fan-out, 1 event to {n} subscribed module{}: until all ran it",
                    if n == 1 { "" } else { "s" }
                ),
                format!("notify.host.{n}"),
                if n == 100 {
                    Target::MaxNanos(100e3)
                } else {
                    Target::None
                },
            )
        });
        v.push(row(
            format!(
                "↳ baseline: raw wasmtime notify calls in a loop, {n} instance{}",
                if n == 1 { "" } else { "s" }
            ),
            format!("notify.raw.{n}"),
            Target::None,
        ));
        v.push(row(
            "  ↳ the same loop on a thread of its own, handed the event and answering through std channels (one wake-up each way)",
            format!("notify.raw-thread.{n}"),
            Target::None,
        ));
    }
    let sim_baselines = |suffix: &str| {
        vec![
            ("raw", format!("notify.sim.raw{suffix}")),
            ("raw on two threads", format!("notify.sim.raw2{suffix}")),
        ]
    };
    v.extend([
        Row {
            baselines: [
                sim_baselines(""),
                vec![(
                    "osd_map raw on a thread",
                    format!("notify.raw-thread.{SIM_FANOUT}"),
                )],
            ]
            .concat(),
            ..row(
                format!(
                    "notify fan-out of the simulator's own events (1,000 OSDs, a 5 s step: clog, pg_summary, health) to {SIM_FANOUT} subscribed modules, per event: `Manager::notify` until all ran it"
                ),
                "notify.sim",
                Target::MaxNanos(1e6),
            )
        },
        Row {
            baselines: sim_baselines(".clog"),
            ..row(
                "↳ of which `clog` events (the id is the log entry as JSON, about 400 bytes, copied into every module)",
                "notify.sim.clog",
                Target::None,
            )
        },
        Row {
            baselines: sim_baselines(".pg_summary"),
            ..row(
                "↳ of which `pg_summary` events (empty id)",
                "notify.sim.pg_summary",
                Target::None,
            )
        },
        row(
            format!(
                "↳ of which: `Manager::notify` returning, the event queued for all {SIM_FANOUT} modules (workers start running them meanwhile)"
            ),
            "notify.sim.queue",
            Target::None,
        ),
        row(
            format!(
                "↳ baseline: the same events as raw wasmtime notify calls in a loop over {SIM_FANOUT} instances"
            ),
            "notify.sim.raw",
            Target::None,
        ),
        row(
            format!(
                "↳ baseline: the same raw calls split over two threads of their own ({} instances each), handed each event and answering through std channels: the floor of a host that runs notifies on both vCPUs",
                SIM_FANOUT / 2
            ),
            "notify.sim.raw2",
            Target::None,
        ),
        row(
            "↳ all of a step's events back to back, as the simulator's clock hands them on, until all modules ran all",
            "notify.sim.all",
            Target::None,
        ),
        row(
            "↳ the simulator's own step (`Sim::step`, 5 s of simulated time at 1,000 OSDs), before any notify",
            "notify.sim.step",
            Target::None,
        ),
    ]);
    v.extend([
        row(
            "module enable, Rust: load from the compile cache + instantiate + describe (`Loader::load`)",
            "enable.rust",
            Target::MaxNanos(1e6),
        ),
        row(
            "↳ the same when the compiled component is already in memory (a re-enable, or another module with the same code)",
            "enable.rust.memory",
            Target::None,
        ),
        row(
            "↳ of which: sha256 of the component file (`cache::digest`)",
            "enable.digest",
            Target::None,
        ),
        row(
            "↳ of which: read + verify (XXH3-128) + deserialize the compiled artifact (`ArtifactCache::load`)",
            "enable.artifact",
            Target::None,
        ),
        row(
            "  ↳ of which: read the artifact file",
            "enable.artifact.read",
            Target::None,
        ),
        row(
            "↳ `Supervisor::enable` of `compute` as `module enable` runs it: persist write (fsync) + a load with the compiled component in memory + instantiate + describe (restart group)",
            "enable.supervisor",
            Target::None,
        ),
        row(
            "module enable, Python",
            "enable.python",
            Target::NotYet("n/a — Python SDK not yet built (target ≤ 30 ms)"),
        ),
        row(
            "restart after a trap: drop Store + re-instantiate (`Loader::instantiate`)",
            "restart.instantiate",
            Target::MaxNanos(100e3),
        ),
        Row {
            baselines: vec![("echo command", "cmd.host".into())],
            ..row(
                "↳ end to end: trapping command → restart → error reply (`Manager::command`)",
                "restart.trap",
                Target::None,
            )
        },
    ]);
    for &n in RSS_COUNTS {
        v.push(row(
            format!(
                "idle RSS per module, {n} Rust module{} (child process, RSS delta / n)",
                if n == 1 { "" } else { "s" }
            ),
            format!("rss.{n}"),
            if n == 1000 {
                Target::MaxBytes(1024.0 * 1024.0)
            } else {
                Target::None
            },
        ));
    }
    v.extend([
        Row {
            baselines: vec![("HashMap count", "caps.baseline".into())],
            ..row(
                "capability check per host call (effective set scanned, use counted in the ledger)",
                "caps.check",
                Target::None,
            )
        },
        row(
            "↳ baseline: one `HashMap<String, u64>` increment (the least any per-call count costs)",
            "caps.baseline",
            Target::None,
        ),
        Row {
            baselines: vec![("off", "fuel.off".into())],
            ..row(
                "fuel + epoch deadline on, compute-heavy guest (Collatz loop, raw call)",
                "fuel.on",
                Target::MaxOverheadPct("fuel.off", 20.0),
            )
        },
        Row {
            baselines: vec![("off", "fuel.off".into())],
            ..row(
                "↳ fuel only (consume_fuel on, epoch_interruption off)",
                "fuel.fuel_only",
                Target::None,
            )
        },
        Row {
            baselines: vec![("off", "fuel.off".into())],
            ..row(
                "↳ epoch deadline only (epoch_interruption on, consume_fuel off)",
                "fuel.epoch_only",
                Target::None,
            )
        },
        row(
            "↳ baseline: same guest, engine without consume_fuel / epoch_interruption",
            "fuel.off",
            Target::None,
        ),
        row(
            "↳ the compiled inner loop replayed natively (x86-64 asm), both limits off",
            "fuel.asm_plain",
            asm_target(),
        ),
        Row {
            baselines: vec![("plain", "fuel.asm_plain".into())],
            ..row(
                "↳ the same with fuel and epoch checks, every value in a register",
                "fuel.asm_checks",
                asm_target(),
            )
        },
        Row {
            baselines: vec![("plain", "fuel.asm_plain".into())],
            ..row(
                "↳ the same checks with the step counter, epoch address and deadline in stack slots, as cranelift compiles them",
                "fuel.asm_spilled",
                asm_target(),
            )
        },
        row(
            "daemon cold start, example modules, warm cache: spawn → admin.json → `module ls` all running",
            "coldstart",
            Target::MaxNanos(100e6),
        ),
    ]);
    for &n in SIZES {
        let osds = thousands(n);
        for &name in HOST_DOCS {
            let memcpy = format!("get.memcpy.{name}.{n}");
            if GUEST_DOCS.contains(&name) {
                v.push(Row {
                    baselines: vec![
                        ("memcpy", memcpy.clone()),
                        ("host side", format!("get.host.{name}.{n}")),
                    ],
                    ..row(
                        format!(
                            "`get(\"{name}\")` through a module, {osds} OSDs: `getter len` by `Manager::command` (the source's copy of the cached document, the copy into the module's memory, the command path)"
                        ),
                        format!("get.guest.{name}.{n}"),
                        Target::None,
                    )
                });
                v.push(Row {
                    baselines: vec![("memcpy", memcpy.clone())],
                    ..row(
                        "↳ of which host side: `SimSource::get` (Arc clone of the cached document + `to_string`)",
                        format!("get.host.{name}.{n}"),
                        Target::None,
                    )
                });
            } else {
                v.push(Row {
                    baselines: vec![("memcpy", memcpy.clone())],
                    ..row(
                        format!(
                            "`get(\"{name}\")` host side only, {osds} OSDs: `SimSource::get` (Arc clone of the cached document + `to_string`); too large for a module's 64 MiB memory"
                        ),
                        format!("get.host.{name}.{n}"),
                        Target::None,
                    )
                });
            }
            v.push(row(
                "↳ baseline: memcpy of the same bytes into a fresh buffer",
                memcpy,
                Target::None,
            ));
        }
    }
    for &n in SIZES {
        v.push(Row {
            baselines: vec![("native", format!("scrape.native.{n}"))],
            ..row(
                format!(
                    "scrape-style module, simulated cluster of {} OSDs: `scrape metrics` by `Manager::command` (4 `get()`s, serde parse, Prometheus text, reply)",
                    thousands(n)
                ),
                format!("scrape.{n}"),
                Target::MaxNanos(if n <= 1_000 { 50e6 } else { 500e6 }),
            )
        });
        v.push(row(
            "↳ of which: the four `get()` calls into the module alone (`scrape fetch`)",
            format!("scrape.fetch.{n}"),
            Target::None,
        ));
        v.push(row(
            "↳ baseline: the same rendering natively (the same code, serde_json parse + format of the simulator's cached JSON)",
            format!("scrape.native.{n}"),
            Target::None,
        ));
    }
    v.extend([
        Row {
            baselines: vec![
                ("two raw calls", "remote.raw".into()),
                ("the command alone", "remote.host.nop".into()),
            ],
            ..row(
                "remote call round trip: `rcaller call` by `Manager::command`, whose handler calls `rcallee.ping()` through `remote::call`",
                "remote.host",
                Target::MaxOverNanos("remote.raw", 5e3),
            )
        },
        row(
            "↳ the same command without the remote call (`rcaller nop`): the command path alone",
            "remote.host.nop",
            Target::None,
        ),
        row(
            "↳ baseline: two raw wasmtime calls, the same command with its `remote.call` import calling rcallee's `handle-remote` raw",
            "remote.raw",
            Target::None,
        ),
        row(
            "  ↳ of which: the inner raw call alone",
            "remote.raw.callee",
            Target::None,
        ),
    ]);
    v
}

/// `1,000`, `10,000`.
fn thousands(n: usize) -> String {
    if n >= 1_000 {
        format!("{},{:03}", n / 1_000, n % 1_000)
    } else {
        n.to_string()
    }
}

/// What the run was, for the notes under the table.
pub struct RunInfo<'a> {
    pub rounds: usize,
    pub collatz: u64,
    pub setup: Duration,
    pub total: Duration,
    pub facts: &'a [(&'static str, String)],
}

/// The markdown table, its notes and the machine facts.
pub fn report(rec: &Recorder, run: &RunInfo<'_>) -> String {
    let mut out = String::new();
    out.push_str(
        "| case | median | p99 | spread | min … max | vs baseline (median) | target | status |\n",
    );
    out.push_str("|---|---:|---:|---:|---|---|---|---|\n");
    for r in rows() {
        let Some(s) = rec.summary(&r.key) else {
            let why = match r.target {
                Target::NotYet(why) => why,
                _ => "not run",
            };
            out.push_str(&format!("| {} | {why} | | | | | | – |\n", r.label));
            continue;
        };
        let u = s.unit;
        let tail = if u == Unit::PerSec {
            format!("{} (p1)", show(u, s.tail))
        } else {
            show(u, s.tail)
        };
        let vs: Vec<String> = r
            .baselines
            .iter()
            .filter_map(|(name, key)| {
                rec.summary(key.as_str())
                    .map(|b| format!("{}× {name}", ratio(s.median / b.median)))
            })
            .collect();
        let base = |key: &str| rec.summary(key).map(|b| b.median);
        let (target, met) = match r.target {
            Target::None | Target::NotYet(_) => (String::new(), None),
            Target::MaxNanos(t) => (format!("≤ {}", show(Unit::Nanos, t)), Some(s.median <= t)),
            Target::MinRate(t) => (format!("≥ {}", show(Unit::PerSec, t)), Some(s.median >= t)),
            Target::MaxBytes(t) => (format!("≤ {}", show(Unit::Bytes, t)), Some(s.median <= t)),
            Target::MaxRatio(key, t) => (
                format!("≤ {t}× {}", name_of(&r, key)),
                base(key).map(|b| s.median <= t * b),
            ),
            Target::MaxOverheadPct(key, t) => {
                let over = base(key).map(|b| (s.median / b - 1.0) * 100.0);
                (
                    format!(
                        "≤ {t}% over {} (measured {})",
                        name_of(&r, key),
                        over.map_or("?".into(), |o| format!("{o:+.1}%"))
                    ),
                    over.map(|o| o <= t),
                )
            }
            Target::MaxOverNanos(key, t) => {
                let over = base(key).map(|b| s.median - b);
                (
                    format!(
                        "≤ {} + {} (measured {})",
                        name_of(&r, key),
                        show(Unit::Nanos, t),
                        over.map_or("?".into(), |o| format!(
                            "{}{}",
                            if o < 0.0 { "−" } else { "+" },
                            show(Unit::Nanos, o.abs())
                        ))
                    ),
                    over.map(|o| o <= t),
                )
            }
        };
        let status = match met {
            None => "–",
            Some(true) => "met",
            Some(false) => "**missed**",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {:.0}% | {} … {} | {} | {} | {} |\n",
            r.label,
            show(u, s.median),
            tail,
            s.spread_pct(),
            show(u, s.min),
            show(u, s.max),
            vs.join(", "),
            target,
            status
        ));
    }
    if let (Some(a), Some(f)) = (rec.summary("rss.anon.1000"), rec.summary("rss.file.1000")) {
        out.push_str(&format!(
            "\nIdle RSS per module at 1,000 modules splits into {} anonymous and {} file-backed.\n",
            show(Unit::Bytes, a.median),
            show(Unit::Bytes, f.median)
        ));
    }
    let sizes: Vec<String> = HOST_DOCS
        .iter()
        .chain(&["scrape"])
        .filter_map(|name| {
            let at: Vec<String> = SIZES
                .iter()
                .filter_map(|n| {
                    rec.summary(&format!("size.{name}.{n}")).map(|s| {
                        format!("{} at {} OSDs", show(Unit::Bytes, s.median), thousands(*n))
                    })
                })
                .collect();
            let what = if *name == "scrape" {
                "the scrape's Prometheus text".to_owned()
            } else {
                format!("`{name}`")
            };
            (!at.is_empty()).then(|| format!("{what} {}", at.join(", ")))
        })
        .collect();
    if !sizes.is_empty() {
        out.push_str(&format!("\nSizes: {}.\n", sizes.join("; ")));
    }
    out.push_str(&format!(
        "\nSpread is (p90 − p10) / median. {} measured rounds after one warm-up round, cases \
         interleaved round-robin; setup {:.0} s, whole run {:.0} s. Collatz n = {}.\n\n",
        run.rounds,
        run.setup.as_secs_f64(),
        run.total.as_secs_f64(),
        run.collatz
    ));
    out.push_str("Machine:\n\n");
    for (k, v) in run.facts {
        out.push_str(&format!("- {k}: {v}\n"));
    }
    out
}

/// What a row calls the baseline `key`.
fn name_of<'a>(r: &'a Row, key: &'a str) -> &'a str {
    r.baselines
        .iter()
        .find(|(_, k)| k == key)
        .map_or(key, |(name, _)| name)
}

/// The native replays of the fuel case run on x86-64 only.
fn asm_target() -> Target {
    if cfg!(target_arch = "x86_64") {
        Target::None
    } else {
        Target::NotYet("x86-64 only")
    }
}

/// A ratio to a baseline: two decimals near 1×, where a few percent matter, one above.
fn ratio(r: f64) -> String {
    if r < 2.0 {
        format!("{r:.2}")
    } else {
        format!("{r:.1}")
    }
}
