//! The audit ledger: what every module was granted (pinned to its component's digest), what
//! it used, what it was refused, and the events around it (loads, refusals, faults, grants,
//! revocations, learning mode, admin clients), kept in the embedded store so a security
//! reviewer can answer "what did it ask for, what did we grant, what did it use, what was
//! refused, and since when" after any restart.
//!
//! Grants and revocations are written before the command that makes them answers. Use and
//! denial counters are counted in memory on the host-call path (which never waits on the
//! disk) and written by a flusher thread: a capability's first use or denial wakes it at once,
//! later counts are written within [`FLUSH_EVERY`], and everything at shutdown. So a `kill -9`
//! loses at most that long of counts, and a first use or denial only if it comes in the few
//! milliseconds of its write.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::caps::Cap;
use crate::persist::{PersistError, Persistence, Space};

/// How often counts are written to the store.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// A denial of the same capability by the same module is logged (daemon log and a ledger
/// event) at most once per window; every denial is counted.
pub const DENIAL_LOG_WINDOW: Duration = Duration::from_secs(60);
/// Distinct capabilities counted per module, for uses and for denials each. Stops a module
/// that probes a million data names from writing a million rows: past it, they are counted
/// under the capability's kind (`get:(others)`).
pub const TALLY_KEYS_PER_MODULE: usize = 512;
/// Denial events (and log lines) per module per [`DENIAL_LOG_WINDOW`], whatever capabilities
/// they name: a module probing endless names cannot push the older events (grants, faults)
/// out of the ledger. Every denial is still counted.
pub const DENIAL_EVENTS_PER_WINDOW: u32 = 64;
/// Capabilities whose last denial log time is remembered; past it the memory starts afresh.
const LOGGED_KEYS: usize = 1 << 16;
/// Events kept; the oldest tenth beyond it is removed as new ones come.
pub const EVENTS_KEPT: u64 = 100_000;
/// Events a listing returns at most (the newest ones).
pub const EVENTS_LISTED: usize = 10_000;

/// What kind of thing happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// An operator granted a capability.
    Grant,
    /// An operator revoked a capability.
    Revoke,
    /// A module was refused a capability (first in each [`DENIAL_LOG_WINDOW`]).
    Denial,
    /// A module loaded (with its digest and signer).
    Load,
    /// A module was refused loading: ungranted, unsigned, malformed.
    Refused,
    /// A module trapped or was failed.
    Fault,
    /// Learning mode was turned on or off.
    Learn,
    /// An admin client was created or removed.
    Auth,
    /// A module option was changed by a client.
    Config,
}

impl EventKind {
    /// Every kind, as `audit --kind` accepts them.
    pub const NAMES: &'static str =
        "grant, revoke, denial, load, refused, fault, learn, auth, config";

    /// The kind named `s`.
    pub fn parse(s: &str) -> Option<EventKind> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }

    /// The kind's name.
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// One ledger event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When, in microseconds since the Unix epoch.
    pub at_us: u64,
    /// What happened.
    pub kind: EventKind,
    /// The module concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// Its component's digest, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The capability concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capability: Option<String>,
    /// What happened, in words.
    #[serde(default)]
    pub detail: String,
    /// The admin client that did it, if a client did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

impl Event {
    /// An event of `kind` now, about `module`.
    pub fn new(kind: EventKind, module: Option<&str>, detail: impl Into<String>) -> Event {
        Event {
            at_us: now_us(),
            kind,
            module: module.map(str::to_owned),
            digest: None,
            capability: None,
            detail: detail.into(),
            client: None,
        }
    }

    /// With the component digest.
    pub fn digest(mut self, digest: &str) -> Event {
        self.digest = Some(digest.to_owned());
        self
    }

    /// With the capability.
    pub fn capability(mut self, cap: &Cap) -> Event {
        self.capability = Some(cap.to_string());
        self
    }

    /// With the admin client.
    pub fn client(mut self, client: Option<&str>) -> Event {
        self.client = client.map(str::to_owned);
        self
    }

    /// The event's time as RFC 3339.
    pub fn time(&self) -> String {
        rfc3339_us(self.at_us)
    }
}

/// A grant as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    /// The component digest it is pinned to.
    pub digest: String,
    /// What it allows.
    pub cap: Cap,
    /// When, in microseconds since the epoch.
    pub at_us: u64,
    /// Which admin client granted it.
    pub by: String,
}

#[derive(Serialize, Deserialize)]
struct GrantValue {
    at_us: u64,
    by: String,
}

/// Whether a counter counts uses or denials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TallyKind {
    /// Calls the module made under this capability.
    Used,
    /// Calls refused for want of it.
    Denied,
}

impl TallyKind {
    fn index(self) -> usize {
        match self {
            TallyKind::Used => 0,
            TallyKind::Denied => 1,
        }
    }

    fn name(self) -> &'static str {
        match self {
            TallyKind::Used => "used",
            TallyKind::Denied => "denied",
        }
    }
}

/// A use or denial counter.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    /// How many times.
    pub count: u64,
    /// First time, microseconds since the epoch.
    pub first_us: u64,
    /// Last time.
    pub last_us: u64,
}

/// The ledger of one daemon.
pub struct Ledger {
    persist: Arc<dyn Persistence>,
    inner: Mutex<Inner>,
    wake: Condvar,
    seq: AtomicU64,
    /// Held for a whole flush: counts are read, added to and written back, so two flushes at
    /// once would lose one's counts.
    flushing: Mutex<()>,
}

#[derive(Default)]
struct Inner {
    /// Counts not yet written, per module: looked up by the capability itself, so counting a
    /// host call allocates nothing once its capability was seen.
    counts: HashMap<String, Counts>,
    /// Counts a failed write left, to be written with the next ones.
    unwritten: HashMap<(String, TallyKind, String), Tally>,
    /// A counter seen for the first time: write without waiting for the period.
    urgent: bool,
    /// Events not yet written.
    events: Vec<Event>,
    /// When each (module, capability) denial was last logged.
    logged: HashMap<(String, String), Instant>,
    /// Denial events per module in the current window: (window start, events).
    denial_events: HashMap<String, (Instant, u32)>,
    /// Fault events per module in the current window.
    fault_events: HashMap<String, (Instant, u32)>,
    /// Set when the flusher must stop.
    closing: bool,
}

/// One module's counters not yet written.
#[derive(Default)]
struct Counts {
    /// Indexed by [`TallyKind::index`].
    pending: [HashMap<Cap, Tally>; 2],
    /// Every capability counted since the daemon started (bounded by
    /// [`TALLY_KEYS_PER_MODULE`] for each kind).
    known: [HashSet<Cap>; 2],
}

/// Whether `cap` is one of the [`overflow`] counters, which name no capability.
pub fn is_overflow(cap: &Cap) -> bool {
    use crate::caps::Pattern;
    match cap {
        Cap::Get(Pattern::Exact(s))
        | Cap::Command(Pattern::Exact(s))
        | Cap::Remote(Pattern::Exact(s))
        | Cap::Expose(Pattern::Exact(s)) => s == "(others)",
        Cap::Net(a) => a.ip().is_unspecified() && a.port() == 0,
        _ => false,
    }
}

/// The counter that capabilities past [`TALLY_KEYS_PER_MODULE`] are counted under:
/// `get:(others)`, `command:(others)`, ….
pub fn overflow(cap: &Cap) -> Cap {
    // (`net:0.0.0.0:0` for sockets: datagrams from addresses no grant names.)
    use crate::caps::Pattern;
    let others = || Pattern::Exact("(others)".into());
    match cap {
        Cap::Get(_) => Cap::Get(others()),
        Cap::Command(_) => Cap::Command(others()),
        Cap::Remote(_) => Cap::Remote(others()),
        Cap::Expose(_) => Cap::Expose(others()),
        Cap::Net(_) => Cap::Net(std::net::SocketAddr::from(([0, 0, 0, 0], 0))),
        other => other.clone(),
    }
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// `at_us` as RFC 3339 (UTC, milliseconds).
pub fn rfc3339_us(at_us: u64) -> String {
    let t = UNIX_EPOCH + Duration::from_micros(at_us);
    humantime::format_rfc3339_millis(t).to_string()
}

/// A time given by a client: RFC 3339 (`2026-12-07T10:00:00Z`, or a date), or an age
/// (`10m`, `2h`, `7days`); microseconds since the epoch.
pub fn parse_since(s: &str) -> Result<u64, String> {
    if let Ok(age) = humantime::parse_duration(s) {
        let age = u64::try_from(age.as_micros()).unwrap_or(u64::MAX);
        return Ok(now_us().saturating_sub(age));
    }
    let full = if s.len() == 10 {
        format!("{s}T00:00:00Z")
    } else {
        s.to_owned()
    };
    humantime::parse_rfc3339_weak(&full)
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_micros() as u64)
        .ok_or_else(|| {
            format!(
                "since '{}': give a time (2026-12-07T10:00:00Z, 2026-12-07) or an age (30m, 2h, 7days)",
                crate::sanitize::quote(s)
            )
        })
}

fn grant_key(module: &str, digest: &str, cap: &str) -> String {
    format!("{module}\t{digest}\t{cap}")
}

/// The record that a grant was revoked. `!` sorts apart from module names, which are
/// lower-case letters, digits, `_` and `-`.
fn revoked_key(module: &str, digest: &str, cap: &str) -> String {
    format!("!revoked\t{module}\t{digest}\t{cap}")
}

/// Learning mode of one module.
#[derive(Clone, Debug, PartialEq)]
pub struct Learning {
    /// The component digest it applies to.
    pub digest: String,
    /// What the module requested when it started: all it may use.
    pub requests: Vec<Cap>,
}

fn tally_key(kind: TallyKind, module: &str, cap: &str) -> String {
    format!("{}\t{module}\t{cap}", kind.name())
}

impl Ledger {
    /// A ledger over `persist`, with its flusher thread running.
    pub fn start(persist: Arc<dyn Persistence>) -> Arc<Ledger> {
        let ledger = Arc::new(Ledger {
            persist,
            inner: Mutex::new(Inner::default()),
            wake: Condvar::new(),
            seq: AtomicU64::new(0),
            flushing: Mutex::new(()),
        });
        let weak = Arc::downgrade(&ledger);
        let spawned = std::thread::Builder::new()
            .name("ledger".into())
            .spawn(move || flusher(&weak));
        if let Err(e) = spawned {
            tracing::error!(
                "cannot start the ledger's writer ({e}); counts are written at shutdown only"
            );
        }
        ledger
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Count one use of `cap` by `module`.
    pub fn used(&self, module: &str, cap: &Cap) {
        self.count(module, TallyKind::Used, cap);
    }

    /// Count one denial of `cap` to `module`; `hint` says what would allow it. Logged and
    /// written as an event once per [`DENIAL_LOG_WINDOW`].
    pub fn denied(&self, module: &str, cap: &Cap, hint: &str) {
        self.count(module, TallyKind::Denied, cap);
        let text = cap.to_string();
        let now = Instant::now();
        let mut inner = self.inner();
        let key = (module.to_owned(), text);
        let due = inner
            .logged
            .get(&key)
            .is_none_or(|t| now.duration_since(*t) >= DENIAL_LOG_WINDOW);
        if !due {
            return;
        }
        let window = inner
            .denial_events
            .entry(module.to_owned())
            .or_insert((now, 0));
        if now.duration_since(window.0) >= DENIAL_LOG_WINDOW {
            *window = (now, 0);
        }
        if window.1 >= DENIAL_EVENTS_PER_WINDOW {
            return;
        }
        window.1 += 1;
        let last = window.1 == DENIAL_EVENTS_PER_WINDOW;
        if inner.logged.len() >= LOGGED_KEYS {
            inner.logged.clear();
        }
        inner.logged.insert(key, now);
        // The hint quotes what the module asked for: escaped, on one line.
        let mut hint = crate::sanitize::line(hint, 2048);
        if last {
            hint.push_str(&format!(
                " (the module's {DENIAL_EVENTS_PER_WINDOW}th denial event within {} s: further \
                 denials are counted in 'module caps', not listed)",
                DENIAL_LOG_WINDOW.as_secs()
            ));
        }
        let event = Event::new(EventKind::Denial, Some(module), hint.clone()).capability(cap);
        inner.events.push(event);
        inner.urgent = true;
        drop(inner);
        self.wake.notify_one();
        tracing::warn!(module, "denied: {hint}");
    }

    fn count(&self, module: &str, kind: TallyKind, cap: &Cap) {
        let now = now_us();
        let k = kind.index();
        let mut inner = self.inner();
        if !inner.counts.contains_key(module) {
            inner.counts.insert(module.to_owned(), Counts::default());
        }
        let mut first = false;
        let Some(counts) = inner.counts.get_mut(module) else {
            return;
        };
        let t = if counts.pending[k].contains_key(cap) {
            counts.pending[k].get_mut(cap)
        } else {
            // Uses and denials have budgets of their own: denials a module provokes (or
            // strangers provoke for it) cannot hide what it uses.
            let full = counts.known[k].len() >= TALLY_KEYS_PER_MODULE;
            let key = if full && !counts.known[k].contains(cap) {
                overflow(cap)
            } else {
                cap.clone()
            };
            first = counts.known[k].insert(key.clone());
            Some(counts.pending[k].entry(key).or_default())
        };
        if let Some(t) = t {
            if t.count == 0 {
                t.first_us = now;
            }
            t.count = t.count.saturating_add(1);
            t.last_us = now;
        }
        if first {
            inner.urgent = true;
            self.wake.notify_one();
        }
    }

    /// Record `event` (written within [`FLUSH_EVERY`]). Events about a module's faults are
    /// limited like its denials: at most [`DENIAL_EVENTS_PER_WINDOW`] per window, so callers
    /// that make a module trap again and again cannot push older events out of the ledger.
    pub fn event(&self, event: Event) {
        let mut inner = self.inner();
        if event.kind == EventKind::Fault
            && let Some(module) = &event.module
        {
            let now = Instant::now();
            let window = inner.fault_events.entry(module.clone()).or_insert((now, 0));
            if now.duration_since(window.0) >= DENIAL_LOG_WINDOW {
                *window = (now, 0);
            }
            if window.1 >= DENIAL_EVENTS_PER_WINDOW {
                return;
            }
            window.1 += 1;
        }
        inner.events.push(event);
        drop(inner);
        self.wake.notify_one();
    }

    /// Record `event` now: the call returns once it is on disk.
    pub fn event_now(&self, event: Event) -> Result<(), PersistError> {
        let key = self.event_key(event.at_us);
        let value = serde_json::to_string(&event).map_err(|e| PersistError(e.to_string()))?;
        self.persist.set(Space::Events, &key, Some(&value))
    }

    fn event_key(&self, at_us: u64) -> String {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) % 1_000_000;
        format!("{at_us:020}-{seq:06}")
    }

    /// Write every pending count and event now.
    pub fn flush(&self) {
        let _one_at_a_time = self.flushing.lock().unwrap_or_else(|p| p.into_inner());
        let (pending, events) = {
            let mut inner = self.inner();
            inner.urgent = false;
            let mut pending = std::mem::take(&mut inner.unwritten);
            for (module, counts) in &mut inner.counts {
                for kind in [TallyKind::Used, TallyKind::Denied] {
                    for (cap, t) in counts.pending[kind.index()].drain() {
                        let mine = pending
                            .entry((module.clone(), kind, cap.to_string()))
                            .or_default();
                        merge(mine, &t);
                    }
                }
            }
            (pending, std::mem::take(&mut inner.events))
        };
        if let Err((e, pending, events)) = self.write(pending, events) {
            tracing::warn!(error = %e, "cannot write the audit ledger; will try again");
            let mut inner = self.inner();
            for (k, t) in pending {
                let mine = inner.unwritten.entry(k).or_default();
                merge(mine, &t);
            }
            // Bounded: events are rare, and a store that keeps failing is reported above.
            if inner.events.len() < EVENTS_KEPT as usize {
                let mut old = events;
                old.append(&mut inner.events);
                inner.events = old;
            }
        }
    }

    #[allow(
        clippy::type_complexity,
        reason = "the error hands back what was not written"
    )]
    fn write(
        &self,
        pending: HashMap<(String, TallyKind, String), Tally>,
        events: Vec<Event>,
    ) -> Result<
        (),
        (
            PersistError,
            HashMap<(String, TallyKind, String), Tally>,
            Vec<Event>,
        ),
    > {
        let mut writes = Vec::with_capacity(pending.len());
        for ((module, kind, cap), t) in &pending {
            let key = tally_key(*kind, module, cap);
            let mut total = match self.persist.get(Space::Tally, &key) {
                Ok(v) => v
                    .and_then(|v| serde_json::from_str::<Tally>(&v).ok())
                    .unwrap_or_default(),
                Err(e) => return Err((e, pending, events)),
            };
            merge(&mut total, t);
            let value = serde_json::to_string(&total).unwrap_or_default();
            writes.push((key, Some(value)));
        }
        if !writes.is_empty()
            && let Err(e) = self.persist.set_many(Space::Tally, &writes)
        {
            return Err((e, pending, events));
        }
        let mut rows = Vec::with_capacity(events.len());
        for ev in &events {
            let value = serde_json::to_string(ev).unwrap_or_default();
            rows.push((self.event_key(ev.at_us), Some(value)));
        }
        if !rows.is_empty()
            && let Err(e) = self.persist.set_many(Space::Events, &rows)
        {
            return Err((e, HashMap::new(), events));
        }
        if !rows.is_empty() {
            self.prune();
        }
        Ok(())
    }

    /// Remove the oldest events once there are a tenth more than [`EVENTS_KEPT`].
    fn prune(&self) {
        let Ok((count, _)) = self.persist.usage(Space::Events, "") else {
            return;
        };
        if count <= EVENTS_KEPT + EVENTS_KEPT / 10 {
            return;
        }
        let excess = (count - EVENTS_KEPT) as usize;
        let Ok(Some(keys)) = self.persist.list_within(Space::Events, "", 64 << 20, true) else {
            return;
        };
        let writes: Vec<(String, Option<String>)> = keys
            .into_iter()
            .take(excess)
            .map(|(k, _)| (k, None))
            .collect();
        if let Err(e) = self.persist.set_many(Space::Events, &writes) {
            tracing::warn!(error = %e, "cannot remove old ledger events");
        }
    }

    /// Stop the flusher and write what is left.
    pub fn close(&self) {
        self.inner().closing = true;
        self.wake.notify_all();
        self.flush();
    }

    /// Grant `caps` to `module` at `digest`, by admin client `by`. On disk when it returns.
    pub fn grant(
        &self,
        module: &str,
        digest: &str,
        caps: &[Cap],
        by: &str,
    ) -> Result<(), PersistError> {
        let at_us = now_us();
        let value = serde_json::to_string(&GrantValue {
            at_us,
            by: by.to_owned(),
        })
        .map_err(|e| PersistError(e.to_string()))?;
        let writes: Vec<(String, Option<String>)> = caps
            .iter()
            .flat_map(|c| {
                let cap = c.to_string();
                [
                    (grant_key(module, digest, &cap), Some(value.clone())),
                    (revoked_key(module, digest, &cap), None),
                ]
            })
            .collect();
        self.persist.set_many(Space::Grants, &writes)?;
        for c in caps {
            self.event_now(
                Event::new(EventKind::Grant, Some(module), "granted")
                    .digest(digest)
                    .capability(c)
                    .client(Some(by)),
            )?;
        }
        Ok(())
    }

    /// Revoke `caps` from `module`, whatever digest they were granted for; the grants removed.
    pub fn revoke(&self, module: &str, caps: &[Cap], by: &str) -> Result<Vec<Grant>, PersistError> {
        let removed: Vec<Grant> = self
            .grants(module)?
            .into_iter()
            .filter(|g| caps.contains(&g.cap))
            .collect();
        let tombstone = serde_json::json!({"at_us": now_us(), "by": by}).to_string();
        let writes: Vec<(String, Option<String>)> = removed
            .iter()
            .flat_map(|g| {
                let cap = g.cap.to_string();
                [
                    (grant_key(module, &g.digest, &cap), None),
                    (
                        revoked_key(module, &g.digest, &cap),
                        Some(tombstone.clone()),
                    ),
                ]
            })
            .collect();
        if writes.is_empty() {
            return Ok(removed);
        }
        self.persist.set_many(Space::Grants, &writes)?;
        for g in &removed {
            self.event_now(
                Event::new(EventKind::Revoke, Some(module), "revoked")
                    .digest(&g.digest)
                    .capability(&g.cap)
                    .client(Some(by)),
            )?;
        }
        Ok(removed)
    }

    /// Every grant `module` holds, for any digest.
    pub fn grants(&self, module: &str) -> Result<Vec<Grant>, PersistError> {
        let rows = self.persist.list(Space::Grants, &format!("{module}\t"))?;
        Ok(rows
            .into_iter()
            .filter_map(|(k, v)| {
                let mut parts = k.splitn(3, '\t');
                let (_, digest, cap) = (parts.next()?, parts.next()?, parts.next()?);
                let value: GrantValue = serde_json::from_str(&v).ok()?;
                Some(Grant {
                    digest: digest.to_owned(),
                    cap: cap.parse().ok()?,
                    at_us: value.at_us,
                    by: value.by,
                })
            })
            .collect())
    }

    /// The capabilities granted to `module` at `digest`.
    pub fn granted(&self, module: &str, digest: &str) -> Result<Vec<Cap>, PersistError> {
        Ok(self
            .grants(module)?
            .into_iter()
            .filter(|g| g.digest == digest)
            .map(|g| g.cap)
            .collect())
    }

    /// Put `module` in learning mode for `digest`, or (`None`) take it out.
    /// Put `module` in learning mode for the component `digest` and what it requests now
    /// (`requests`: a manifest file changed later widens nothing), or (`None`) take it out.
    pub fn set_learning(
        &self,
        module: &str,
        on: Option<(&str, &[Cap])>,
        by: &str,
    ) -> Result<(), PersistError> {
        let value = on.map(|(digest, requests)| {
            serde_json::json!({
                "digest": digest,
                "requests": requests.iter().map(ToString::to_string).collect::<Vec<_>>(),
            })
            .to_string()
        });
        self.persist
            .set(Space::Learning, module, value.as_deref())?;
        let detail = match on {
            Some(_) => "learning mode on: every requested capability allowed and recorded",
            None => "learning mode off",
        };
        let mut ev = Event::new(EventKind::Learn, Some(module), detail).client(Some(by));
        ev.digest = on.map(|(d, _)| d.to_owned());
        self.event_now(ev)
    }

    /// Whether `module` is in learning mode: for which digest, allowing what.
    pub fn learning(&self, module: &str) -> Result<Option<Learning>, PersistError> {
        Ok(self.persist.get(Space::Learning, module)?.and_then(|v| {
            let j: serde_json::Value = serde_json::from_str(&v).ok()?;
            Some(Learning {
                digest: j["digest"].as_str()?.to_owned(),
                requests: j["requests"]
                    .as_array()?
                    .iter()
                    .filter_map(|c| c.as_str()?.parse().ok())
                    .collect(),
            })
        }))
    }

    /// Whether the grant of `cap` to `module` at `digest` was revoked by an operator (so a
    /// grants file does not bring it back).
    pub fn revoked(&self, module: &str, digest: &str, cap: &Cap) -> Result<bool, PersistError> {
        Ok(self
            .persist
            .get(
                Space::Grants,
                &revoked_key(module, digest, &cap.to_string()),
            )?
            .is_some())
    }

    /// The use and denial counters of `module`, written ones and pending ones together.
    pub fn tallies(&self, module: &str) -> Result<Vec<(TallyKind, String, Tally)>, PersistError> {
        self.flush();
        let mut out = Vec::new();
        for kind in [TallyKind::Used, TallyKind::Denied] {
            let prefix = format!("{}\t{module}\t", kind.name());
            for (k, v) in self.persist.list(Space::Tally, &prefix)? {
                if let (Some(cap), Ok(t)) =
                    (k.strip_prefix(&prefix), serde_json::from_str::<Tally>(&v))
                {
                    out.push((kind, cap.to_owned(), t));
                }
            }
        }
        Ok(out)
    }

    /// Forget `module`'s use counters (learning starts afresh).
    pub fn clear_used(&self, module: &str) -> Result<(), PersistError> {
        self.flush();
        let prefix = format!("used\t{module}\t");
        let writes: Vec<(String, Option<String>)> = self
            .persist
            .list(Space::Tally, &prefix)?
            .into_iter()
            .map(|(k, _)| (k, None))
            .collect();
        if let Some(counts) = self.inner().counts.get_mut(module) {
            counts.known[TallyKind::Used.index()].clear();
        }
        self.persist.set_many(Space::Tally, &writes)
    }

    /// Events matching the filters, oldest first, at most the newest [`EVENTS_LISTED`].
    pub fn events(
        &self,
        module: Option<&str>,
        since_us: Option<u64>,
        kind: Option<EventKind>,
    ) -> Result<Vec<Event>, PersistError> {
        self.flush();
        let rows = self.persist.list(Space::Events, "")?;
        let mut out: Vec<Event> = rows
            .into_iter()
            .filter_map(|(_, v)| serde_json::from_str::<Event>(&v).ok())
            .filter(|e| module.is_none_or(|m| e.module.as_deref() == Some(m)))
            .filter(|e| since_us.is_none_or(|s| e.at_us >= s))
            .filter(|e| kind.is_none_or(|k| e.kind == k))
            .collect();
        if out.len() > EVENTS_LISTED {
            out.drain(..out.len() - EVENTS_LISTED);
        }
        Ok(out)
    }
}

fn merge(total: &mut Tally, t: &Tally) {
    if total.count == 0 || (t.first_us != 0 && t.first_us < total.first_us) {
        total.first_us = t.first_us;
    }
    total.count = total.count.saturating_add(t.count);
    total.last_us = total.last_us.max(t.last_us);
}

/// Writes pending counts every [`FLUSH_EVERY`], or at once when something new is seen.
fn flusher(ledger: &Weak<Ledger>) {
    loop {
        let Some(l) = ledger.upgrade() else { return };
        {
            let inner = l.inner();
            let (inner, _) = l
                .wake
                .wait_timeout_while(inner, FLUSH_EVERY, |i| !i.urgent && !i.closing)
                .unwrap_or_else(|p| p.into_inner());
            if inner.closing {
                return;
            }
        }
        // Urgent writes are bounded without a pause: each module has at most
        // TALLY_KEYS_PER_MODULE first uses or denials of each kind, and
        // DENIAL_EVENTS_PER_WINDOW denial events a minute.
        l.flush();
        drop(l);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::SqliteStore;

    fn cap(s: &str) -> Cap {
        s.parse().unwrap()
    }

    #[test]
    fn grants_counts_and_events_survive_reopening_the_store() {
        let dir = tempfile::tempdir().unwrap();
        {
            let persist = Arc::new(SqliteStore::open(dir.path()).unwrap());
            let l = Ledger::start(persist);
            l.grant(
                "m",
                "sha256:aa",
                &[cap("get:osd_map"), cap("store")],
                "admin",
            )
            .unwrap();
            l.used("m", &cap("get:osd_map"));
            l.used("m", &cap("get:osd_map"));
            l.denied("m", &cap("get:pg_dump"), "grant it");
            l.denied("m", &cap("get:pg_dump"), "grant it");
            l.close();
        }
        let persist = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let l = Ledger::start(persist);
        assert_eq!(
            l.granted("m", "sha256:aa").unwrap(),
            vec![cap("get:osd_map"), cap("store")]
        );
        assert!(l.granted("m", "sha256:bb").unwrap().is_empty());
        let t = l.tallies("m").unwrap();
        let count = |k: TallyKind, c: &str| {
            t.iter()
                .find(|(kk, cc, _)| *kk == k && cc == c)
                .map(|(_, _, t)| t.count)
        };
        assert_eq!(count(TallyKind::Used, "get:osd_map"), Some(2));
        assert_eq!(count(TallyKind::Denied, "get:pg_dump"), Some(2));
        let denials = l.events(Some("m"), None, Some(EventKind::Denial)).unwrap();
        assert_eq!(denials.len(), 1, "logged once per window: {denials:?}");
        assert_eq!(
            l.events(None, None, Some(EventKind::Grant)).unwrap().len(),
            2
        );
        let revoked = l.revoke("m", &[cap("store")], "admin").unwrap();
        assert_eq!(revoked.len(), 1);
        assert_eq!(
            l.granted("m", "sha256:aa").unwrap(),
            vec![cap("get:osd_map")]
        );
    }

    #[test]
    fn a_module_probing_endless_names_fills_a_bounded_number_of_counters() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::start(Arc::new(SqliteStore::open(dir.path()).unwrap()));
        for i in 0..(TALLY_KEYS_PER_MODULE + 100) {
            l.denied("m", &cap(&format!("get:probe{i}")), "no");
        }
        let t = l.tallies("m").unwrap();
        assert_eq!(t.len(), TALLY_KEYS_PER_MODULE + 1);
        let others = t.iter().find(|(_, c, _)| c == "get:(others)").unwrap();
        assert_eq!(others.2.count, 100);
    }

    #[test]
    fn since_takes_times_and_ages() {
        assert!(parse_since("2026-12-07").is_ok());
        assert!(parse_since("2026-12-07T10:00:00Z").is_ok());
        let ten_min = parse_since("10m").unwrap();
        assert!(now_us() - ten_min >= 600_000_000);
        assert!(
            parse_since("yesterday")
                .unwrap_err()
                .contains("give a time")
        );
    }
}
