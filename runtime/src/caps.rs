//! Capabilities as data: what a module may touch, written the same way in its manifest (what
//! it requests), in a grant (what an operator allowed) and in the audit ledger (what it used
//! and what it was refused).
//!
//! ```text
//! get:osd_map          read one cluster data name       get:osd_*   get:*   get:device *
//! read:servers         get_server, list_servers
//! read:metadata        get_metadata, get_daemon_status
//! read:perf            get_perf_schema, get_counter, get_latest
//! read:ceph-option     get_ceph_option
//! read:cluster-log     the cluster log's entries (clog notifications)
//! store                the module's own KV store (quota: [limits] kv_keys, kv_mib)
//! health               raise health checks
//! cluster-log          write to the cluster log
//! tick                 periodic work (schedule.set-tick)
//! command:osd pool ls  send one cluster command         command:osd pool *   command:*
//! remote:ponger.ping   call another module's method     remote:ponger.*
//! expose:ping          answer other modules' remote calls to one method   expose:*
//! files:/srv/d=/data:ro   a host directory as a guest path, ro or rw
//! net:127.0.0.1:9283   connect (TCP or UDP) to one address
//! ```
//!
//! A trailing `*` is a prefix: `get:osd_*` covers `get:osd_map` and `get:osd_map_tree`.
//!
//! Nothing is granted by default. What every module has without a grant, because it touches
//! nothing outside the module itself: its own options, its own log, `describe`, the manager's
//! id, the cluster's version and mon connection, clocks and random numbers.

use std::fmt;
use std::net::SocketAddr;

/// A capability, or (with only exact names) one attempted access.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cap {
    /// `get:NAME`: cluster data names.
    Get(Pattern),
    /// `read:CALL`: the other cluster read calls.
    Read(ReadCall),
    /// `store`: the module's own KV store.
    Store,
    /// `health`: raising health checks.
    Health,
    /// `cluster-log`: writing to the cluster log.
    ClusterLog,
    /// `tick`: periodic work.
    Tick,
    /// `command:PREFIX`: sending cluster commands.
    Command(Pattern),
    /// `remote:MODULE.METHOD`: calling another module, matched on `MODULE.METHOD`
    /// (`remote:ponger.*`: every method of ponger; `remote:*`: any module's).
    Remote(Pattern),
    /// `expose:METHOD`: answering remote calls.
    Expose(Pattern),
    /// `files:HOST=GUEST:ro|rw`: a host directory seen by the module as `guest`.
    Files {
        /// The host directory.
        host: String,
        /// Where the module sees it.
        guest: String,
        /// Whether the module may write.
        write: bool,
    },
    /// `net:ADDR:PORT`: connecting to one socket address.
    Net(SocketAddr),
}

/// The non-`get` cluster read calls, one capability each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReadCall {
    /// `get_server`, `list_servers`.
    Servers,
    /// `get_metadata`, `get_daemon_status`.
    Metadata,
    /// `get_perf_schema`, `get_counter`, `get_latest`.
    Perf,
    /// `get_ceph_option`.
    CephOption,
    /// The cluster log's entries, delivered as `clog` notifications.
    ClusterLog,
}

impl ReadCall {
    const ALL: [(ReadCall, &'static str); 5] = [
        (ReadCall::Servers, "servers"),
        (ReadCall::Metadata, "metadata"),
        (ReadCall::Perf, "perf"),
        (ReadCall::CephOption, "ceph-option"),
        (ReadCall::ClusterLog, "cluster-log"),
    ];

    fn name(self) -> &'static str {
        ReadCall::ALL
            .iter()
            .find(|(c, _)| *c == self)
            .map_or("?", |(_, n)| n)
    }
}

/// A name, or every name with a prefix (written with a trailing `*`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pattern {
    /// Exactly this name.
    Exact(String),
    /// Every name starting with this (`*` alone: every name).
    Prefix(String),
}

impl Pattern {
    fn parse(s: &str) -> Pattern {
        match s.strip_suffix('*') {
            Some(p) => Pattern::Prefix(p.to_owned()),
            None => Pattern::Exact(s.to_owned()),
        }
    }

    /// Whether every name `other` matches, this matches too.
    pub fn covers(&self, other: &Pattern) -> bool {
        match (self, other) {
            (Pattern::Exact(a), Pattern::Exact(b)) => a == b,
            (Pattern::Exact(_), Pattern::Prefix(_)) => false,
            (Pattern::Prefix(p), Pattern::Exact(s) | Pattern::Prefix(s)) => s.starts_with(p),
        }
    }

    /// Whether `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Pattern::Exact(a) => a == name,
            Pattern::Prefix(p) => name.starts_with(p.as_str()),
        }
    }

    fn is_everything(&self) -> bool {
        matches!(self, Pattern::Prefix(p) if p.is_empty())
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Exact(s) => f.write_str(s),
            Pattern::Prefix(p) => write!(f, "{p}*"),
        }
    }
}

impl fmt::Display for Cap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cap::Get(p) => write!(f, "get:{p}"),
            Cap::Read(c) => write!(f, "read:{}", c.name()),
            Cap::Store => f.write_str("store"),
            Cap::Health => f.write_str("health"),
            Cap::ClusterLog => f.write_str("cluster-log"),
            Cap::Tick => f.write_str("tick"),
            Cap::Command(p) => write!(f, "command:{p}"),
            Cap::Remote(p) => write!(f, "remote:{p}"),
            Cap::Expose(p) => write!(f, "expose:{p}"),
            Cap::Files { host, guest, write } => {
                write!(
                    f,
                    "files:{host}={guest}:{}",
                    if *write { "rw" } else { "ro" }
                )
            }
            Cap::Net(a) => write!(f, "net:{a}"),
        }
    }
}

/// The longest capability text accepted (a command prefix or a path is far shorter).
pub const CAP_BYTES: usize = 512;

/// What every capability looks like, for error messages.
pub const CAP_FORMS: &str = "get:NAME, read:servers|metadata|perf|ceph-option|cluster-log, store, health, \
    cluster-log, tick, command:PREFIX, remote:MODULE.METHOD, expose:METHOD, \
    files:HOST_DIR=GUEST_DIR:ro|rw, net:IP:PORT (a trailing * matches a prefix)";

impl std::str::FromStr for Cap {
    type Err = String;

    fn from_str(s: &str) -> Result<Cap, String> {
        let quoted = crate::sanitize::quote(s);
        if s.len() > CAP_BYTES {
            return Err(format!(
                "capability '{quoted}' is {} bytes long; at most {CAP_BYTES}",
                s.len()
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(format!("capability '{quoted}' holds a control character"));
        }
        let bad = |why: &str| format!("capability '{quoted}': {why}; capabilities are {CAP_FORMS}");
        let (kind, rest) = match s.split_once(':') {
            Some((k, r)) => (k, Some(r)),
            None => (s, None),
        };
        let nonempty = |what: &str| match rest {
            Some(r) if !r.is_empty() => Ok(r),
            _ => Err(bad(&format!("'{kind}:' needs {what}"))),
        };
        let plain = |c: Cap| match rest {
            None => Ok(c),
            Some(_) => Err(bad(&format!("'{kind}' takes nothing after it"))),
        };
        match kind {
            "get" => Ok(Cap::Get(Pattern::parse(nonempty("a data name")?))),
            "read" => {
                let r = nonempty("a call")?;
                ReadCall::ALL
                    .iter()
                    .find(|(_, n)| *n == r)
                    .map(|(c, _)| Cap::Read(*c))
                    .ok_or_else(|| {
                        bad("read: is one of servers, metadata, perf, ceph-option, cluster-log")
                    })
            }
            "store" => plain(Cap::Store),
            "health" => plain(Cap::Health),
            "cluster-log" => plain(Cap::ClusterLog),
            "tick" => plain(Cap::Tick),
            "command" => {
                let r = nonempty("a command prefix")?;
                if r.trim() != r || r.contains("  ") {
                    return Err(bad("a command prefix is words separated by single spaces"));
                }
                Ok(Cap::Command(Pattern::parse(r)))
            }
            "remote" => {
                let r = nonempty("MODULE.METHOD")?;
                let whole = r == "*";
                let dotted = r
                    .split_once('.')
                    .is_some_and(|(m, f)| !m.is_empty() && !f.is_empty() && !m.contains('*'));
                if !whole && !dotted {
                    return Err(bad("remote: is MODULE.METHOD, MODULE.* or *"));
                }
                Ok(Cap::Remote(Pattern::parse(r)))
            }
            "expose" => Ok(Cap::Expose(Pattern::parse(nonempty("a method")?))),
            "files" => {
                let r = nonempty("HOST_DIR=GUEST_DIR:ro|rw")?;
                let (map, mode) = r
                    .rsplit_once(':')
                    .ok_or_else(|| bad("files: ends with :ro or :rw"))?;
                let write = match mode {
                    "ro" => false,
                    "rw" => true,
                    _ => return Err(bad("files: ends with :ro or :rw")),
                };
                let (host, guest) = map
                    .split_once('=')
                    .ok_or_else(|| bad("files: is HOST_DIR=GUEST_DIR:ro|rw"))?;
                for (what, p) in [("host", host), ("guest", guest)] {
                    if !p.starts_with('/') {
                        return Err(bad(&format!(
                            "the {what} directory must be an absolute path"
                        )));
                    }
                    if p.split('/').any(|c| c == ".." || c == ".") {
                        return Err(bad(&format!(
                            "the {what} directory may not hold '.' or '..'"
                        )));
                    }
                }
                Ok(Cap::Files {
                    host: trim_slash(host),
                    guest: trim_slash(guest),
                    write,
                })
            }
            "net" => {
                let r = nonempty("IP:PORT")?;
                r.parse::<SocketAddr>().map(Cap::Net).map_err(|_| {
                    bad("net: is an IP address and port, e.g. 127.0.0.1:9283 or [::1]:80 (host names are not resolved)")
                })
            }
            _ => Err(bad(&format!(
                "unknown kind '{}'",
                crate::sanitize::quote(kind)
            ))),
        }
    }
}

fn trim_slash(p: &str) -> String {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        "/".into()
    } else {
        t.to_owned()
    }
}

impl Cap {
    /// Whether this capability allows everything `other` allows.
    pub fn covers(&self, other: &Cap) -> bool {
        match (self, other) {
            (Cap::Get(a), Cap::Get(b))
            | (Cap::Command(a), Cap::Command(b))
            | (Cap::Remote(a), Cap::Remote(b))
            | (Cap::Expose(a), Cap::Expose(b)) => a.covers(b),
            (
                Cap::Files { host, guest, write },
                Cap::Files {
                    host: h2,
                    guest: g2,
                    write: w2,
                },
            ) => host == h2 && guest == g2 && (*write || !*w2),
            (a, b) => a == b,
        }
    }

    /// The length of the name an exact access carries (a data name, a command prefix,
    /// `module.method`, a method), if it is one.
    pub fn exact_len(&self) -> Option<usize> {
        match self {
            Cap::Get(Pattern::Exact(s))
            | Cap::Command(Pattern::Exact(s))
            | Cap::Remote(Pattern::Exact(s))
            | Cap::Expose(Pattern::Exact(s)) => Some(s.len()),
            _ => None,
        }
    }

    /// Whether an exact access's name ends in `*` (which a grant would read as a pattern).
    pub fn exact_ends_with_star(&self) -> bool {
        match self {
            Cap::Get(Pattern::Exact(s))
            | Cap::Command(Pattern::Exact(s))
            | Cap::Remote(Pattern::Exact(s))
            | Cap::Expose(Pattern::Exact(s)) => s.ends_with('*'),
            _ => false,
        }
    }

    /// Whether this is a whole kind (`get:*`, `command:*`): what learning narrows down.
    pub fn is_wildcard(&self) -> bool {
        match self {
            Cap::Get(p) | Cap::Command(p) | Cap::Remote(p) | Cap::Expose(p) => p.is_everything(),
            _ => false,
        }
    }

    /// The kind, as the text before `:` (`get`, `store`, `files`, …), for `audit --kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Cap::Get(_) => "get",
            Cap::Read(_) => "read",
            Cap::Store => "store",
            Cap::Health => "health",
            Cap::ClusterLog => "cluster-log",
            Cap::Tick => "tick",
            Cap::Command(_) => "command",
            Cap::Remote(_) => "remote",
            Cap::Expose(_) => "expose",
            Cap::Files { .. } => "files",
            Cap::Net(_) => "net",
        }
    }

    /// The text a shell needs to pass this as one argument.
    pub fn shell_word(&self) -> String {
        let s = self.to_string();
        if s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/=@%+,[]".contains(c))
        {
            s
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    }
}

/// What a module requests: every capability, and which of them it can run without.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Requests {
    /// Capabilities the module needs to start.
    pub required: Vec<Cap>,
    /// Capabilities it uses when granted and can do without (its calls are denied).
    pub optional: Vec<Cap>,
}

impl Requests {
    /// Every requested capability, required first.
    pub fn all(&self) -> impl Iterator<Item = &Cap> {
        self.required.iter().chain(&self.optional)
    }

    /// Whether `cap` is requested (covered by a request).
    pub fn covers(&self, cap: &Cap) -> bool {
        self.all().any(|r| r.covers(cap))
    }
}

/// The effective capabilities of one module instance: requested ∩ granted (or, in learning
/// mode, everything requested). Checked by [`Effective::allows`], the one choke point every
/// host call goes through.
#[derive(Clone, Debug, Default)]
pub struct Effective {
    caps: Vec<Cap>,
    /// Whether the module runs in learning mode (every request allowed and recorded).
    pub learning: bool,
}

impl Effective {
    /// The effective set of a module with `requests` and `granted` grants.
    pub fn new(requests: &Requests, granted: &[Cap], learning: bool) -> Effective {
        let caps = if learning {
            requests.all().cloned().collect()
        } else {
            requests
                .all()
                .filter(|r| granted.iter().any(|g| g.covers(r)))
                .cloned()
                .collect()
        };
        Effective { caps, learning }
    }

    /// Whether `access` is allowed.
    pub fn allows(&self, access: &Cap) -> bool {
        self.caps.iter().any(|c| c.covers(access))
    }

    /// The effective capabilities.
    pub fn caps(&self) -> &[Cap] {
        &self.caps
    }

    /// The granted directories: (host, guest, write).
    pub fn files(&self) -> impl Iterator<Item = (&str, &str, bool)> {
        self.caps.iter().filter_map(|c| match c {
            Cap::Files { host, guest, write } => Some((host.as_str(), guest.as_str(), *write)),
            _ => None,
        })
    }

    /// Whether any socket address is granted.
    pub fn has_net(&self) -> bool {
        self.caps.iter().any(|c| matches!(c, Cap::Net(_)))
    }
}

/// The required capabilities in `requests` that `granted` does not cover.
pub fn missing(requests: &Requests, granted: &[Cap]) -> Vec<Cap> {
    requests
        .required
        .iter()
        .filter(|r| !granted.iter().any(|g| g.covers(r)))
        .cloned()
        .collect()
}

/// The command that grants `caps` to `module`.
pub fn grant_command(module: &str, caps: &[Cap]) -> String {
    let mut s = format!("wasmgr module grant {module}");
    for c in caps {
        s.push(' ');
        s.push_str(&c.shell_word());
    }
    s
}

/// The smallest grant that covers every capability in `used` (exact accesses), keeping only
/// what `requests` asked for: each used access as itself.
pub fn propose(used: &[Cap], requests: &Requests) -> Vec<Cap> {
    let mut out: Vec<Cap> = used
        .iter()
        .filter(|u| requests.covers(u))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// `caps` as the `[requests]` table of a manifest, ready to paste (or to put in the SDK's
/// `manifest!`).
pub fn manifest_toml(caps: &[Cap]) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut lists: Vec<(&str, Vec<String>)> = [
        "get",
        "read",
        "send_command",
        "remote",
        "expose",
        "files",
        "net",
    ]
    .iter()
    .map(|k| (*k, Vec::new()))
    .collect();
    let mut flags = Vec::new();
    for c in caps {
        let text = c.to_string();
        let (key, value) = match c {
            Cap::Store => {
                flags.push("store = true");
                continue;
            }
            Cap::Health => {
                flags.push("health = true");
                continue;
            }
            Cap::ClusterLog => {
                flags.push("cluster_log = true");
                continue;
            }
            Cap::Tick => {
                flags.push("tick = true");
                continue;
            }
            Cap::Command(_) => (
                "send_command",
                text.split_once(':').map_or("", |x| x.1).to_owned(),
            ),
            _ => match text.split_once(':') {
                Some((k, v)) => (k, v.to_owned()),
                None => continue,
            },
        };
        if let Some((_, list)) = lists.iter_mut().find(|(k, _)| *k == key) {
            list.push(quote(&value));
        }
    }
    let mut out = String::from("[requests]\n");
    for (key, list) in lists {
        if !list.is_empty() {
            out.push_str(&format!("{key} = [{}]\n", list.join(", ")));
        }
    }
    for f in flags {
        out.push_str(f);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(s: &str) -> Cap {
        s.parse().unwrap()
    }

    #[test]
    fn every_form_reads_back_as_written() {
        for s in [
            "get:osd_map",
            "get:osd_*",
            "get:*",
            "get:device *",
            "read:servers",
            "read:ceph-option",
            "store",
            "health",
            "cluster-log",
            "tick",
            "command:osd pool ls",
            "command:osd pool *",
            "command:*",
            "remote:ponger.ping",
            "remote:ponger.*",
            "remote:*",
            "expose:ping",
            "files:/srv/data=/data:ro",
            "files:/=/host:rw",
            "net:127.0.0.1:9283",
            "net:[::1]:80",
        ] {
            assert_eq!(cap(s).to_string(), s);
        }
    }

    #[test]
    fn bad_capabilities_say_what_is_allowed() {
        for (s, says) in [
            ("get", "'get:' needs a data name"),
            ("store:x", "'store' takes nothing after it"),
            ("read:all", "read: is one of"),
            ("remote:ponger", "remote: is MODULE.METHOD"),
            ("remote:*.ping", "remote: is MODULE.METHOD"),
            ("files:/a=/b", "ends with :ro or :rw"),
            ("files:a=/b:ro", "absolute path"),
            ("files:/a/../etc=/b:ro", "'..'"),
            ("net:localhost:80", "host names are not resolved"),
            ("command: osd", "single spaces"),
            ("shell", "unknown kind 'shell'"),
        ] {
            let e = s.parse::<Cap>().unwrap_err();
            assert!(e.contains(says), "{s}: {e}");
            assert!(e.contains("capabilities are get:NAME"), "{e}");
        }
    }

    #[test]
    fn prefixes_cover_narrower_names_only() {
        assert!(cap("get:*").covers(&cap("get:osd_map")));
        assert!(cap("get:osd_*").covers(&cap("get:osd_map_tree")));
        assert!(cap("get:osd_*").covers(&cap("get:osd_m*")));
        assert!(!cap("get:osd_map").covers(&cap("get:osd_*")));
        assert!(!cap("get:osd_*").covers(&cap("get:pg_dump")));
        assert!(!cap("get:*").covers(&cap("command:osd pool ls")));
        assert!(cap("command:osd pool *").covers(&cap("command:osd pool ls")));
        assert!(!cap("command:osd pool *").covers(&cap("command:osd pool")));
        assert!(cap("remote:a.*").covers(&cap("remote:a.f")));
        assert!(!cap("remote:a.*").covers(&cap("remote:b.f")));
        assert!(cap("files:/a=/b:rw").covers(&cap("files:/a=/b:ro")));
        assert!(!cap("files:/a=/b:ro").covers(&cap("files:/a=/b:rw")));
        assert!(!cap("files:/a=/c:rw").covers(&cap("files:/a=/b:ro")));
    }

    #[test]
    fn the_effective_set_is_what_is_both_requested_and_granted() {
        let requests = Requests {
            required: vec![cap("get:osd_map"), cap("store")],
            optional: vec![cap("get:pg_dump")],
        };
        let e = Effective::new(&requests, &[cap("get:*"), cap("health")], false);
        assert!(e.allows(&cap("get:osd_map")));
        assert!(e.allows(&cap("get:pg_dump")));
        assert!(
            !e.allows(&cap("get:mon_map")),
            "granted but never requested"
        );
        assert!(!e.allows(&cap("health")), "granted but never requested");
        assert!(!e.allows(&cap("store")), "requested but not granted");
        assert_eq!(missing(&requests, &[cap("get:*")]), vec![cap("store")]);
        let learning = Effective::new(&requests, &[], true);
        assert!(learning.allows(&cap("store")));
        assert!(!learning.allows(&cap("health")));
    }

    #[test]
    fn a_proposal_reads_back_as_a_manifest_requesting_the_same() {
        let caps: Vec<Cap> = [
            "get:osd_map",
            "store",
            "command:osd pool ls",
            "remote:a.b",
            "tick",
        ]
        .iter()
        .map(|s| cap(s))
        .collect();
        let text = manifest_toml(&caps);
        let m = crate::manifest::Manifest::parse(&text).unwrap();
        let mut back = m.requests.required.clone();
        back.sort();
        let mut want = caps.clone();
        want.sort();
        assert_eq!(back, want, "{text}");
    }

    #[test]
    fn the_grant_command_quotes_what_the_shell_would_split() {
        assert_eq!(
            grant_command("m", &[cap("get:osd_map"), cap("command:osd pool ls")]),
            "wasmgr module grant m get:osd_map 'command:osd pool ls'"
        );
    }
}
