//! Ceph command matching and argument checking, done by the host before a module is called.
//!
//! Modules declare their commands as Ceph command descriptions ([`CommandDecl`]). The host keeps
//! every served command in one [`CommandTable`], finds the command a client's words name by the
//! longest matching prefix, and turns the remaining words into the typed Ceph command map with
//! [`parse_args`]. A module therefore only ever sees well-formed, typed arguments; a bad command
//! is answered by the host with the error and the command's [`usage`].

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};
use thiserror::Error;

use crate::bindings::{ArgRange, ArgType, CommandArg, CommandDecl};

/// The column `help_line` pads the usage to before the description, as `ceph --help` aligns it.
pub const HELP_USAGE_WIDTH: usize = 40;

/// Argument names the command map already uses for other things.
const RESERVED_ARG_NAMES: [&str; 3] = ["prefix", "format", "inbuf"];

/// Who serves the host's own commands. No module may have this name.
pub const HOST_OWNER: &str = "mgr";

/// The first words of the daemon's own commands, reserved in full: no module declares a
/// command starting with one of them, and no module is named like one, so a module can
/// neither take over a daemon command (and the arguments an operator gives it, such as a
/// secret for `config-key set`) nor pass itself off as the daemon.
pub const RESERVED_WORDS: &[&str] = &[
    "mgr",
    "module",
    "config",
    "config-key",
    "health",
    "status",
    "log",
    "audit",
    "auth",
    "help",
];

/// One served command: its declaration and who serves it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The command as declared.
    pub decl: CommandDecl,
    /// The module that serves it, or `"mgr"` for the host's built-in commands.
    pub owner: String,
}

/// Why a command declaration was refused.
///
/// Every message names the owner and the command and says what to change in the declaration.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CommandError {
    /// The prefix is empty or not lower-case words separated by single spaces.
    #[error(
        "{owner}: command prefix '{prefix}' is invalid: use one or more words of [a-z0-9_-] \
         separated by single spaces"
    )]
    BadPrefix {
        /// The module declaring the command.
        owner: String,
        /// The prefix as declared.
        prefix: String,
    },
    /// Another module (or the host) already serves this prefix.
    #[error("{owner}: command '{prefix}' is already served by {taken_by}; choose another prefix")]
    Taken {
        /// The module declaring the command.
        owner: String,
        /// The prefix both declare.
        prefix: String,
        /// Who serves it already.
        taken_by: String,
    },
    /// The prefix starts with a word the daemon reserves for its own commands.
    #[error(
        "{owner}: command '{prefix}' is reserved: commands starting with '{word}' are the \
         daemon's own; choose another prefix (usually the module's name first)"
    )]
    Reserved {
        /// The module declaring the command.
        owner: String,
        /// The prefix as declared.
        prefix: String,
        /// The reserved first word.
        word: String,
    },
    /// The prefix lies under or above a command another module serves or claims.
    #[error(
        "{owner}: command '{prefix}' overlaps command '{other}' of module '{taken_by}': a \
         module cannot declare commands under another module's command or above it; choose \
         another prefix"
    )]
    Overlaps {
        /// The module declaring the command.
        owner: String,
        /// The prefix as declared.
        prefix: String,
        /// The other module's command.
        other: String,
        /// The other module.
        taken_by: String,
    },
    /// The declaration is larger than the host accepts.
    #[error("{owner}: command '{prefix}': {what}")]
    TooLarge {
        /// The module declaring the command.
        owner: String,
        /// The prefix (cut if it is itself too long).
        prefix: String,
        /// What is over which limit, and what to do.
        what: String,
    },
    /// An argument's declaration is wrong.
    #[error("{owner}: command '{prefix}': argument '{arg}': {reason}")]
    BadArg {
        /// The module declaring the command.
        owner: String,
        /// The command's prefix.
        prefix: String,
        /// The argument's name as declared.
        arg: String,
        /// What is wrong and what to do about it.
        reason: String,
    },
}

/// Every command the host serves, keyed by prefix.
#[derive(Debug, Clone, Default)]
pub struct CommandTable {
    entries: BTreeMap<String, Entry>,
}

impl CommandTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks `decl` and adds it as served by `owner`: refused if its prefix is reserved, is
    /// served already, or lies under or above another owner's command (see [`conflict`]).
    pub fn insert(&mut self, owner: &str, decl: CommandDecl) -> Result<(), CommandError> {
        validate_decl(owner, &decl)?;
        if let Some(e) = conflict(&self.entries, |e| e.owner.as_str(), owner, &decl.prefix) {
            return Err(e);
        }
        if self.entries.contains_key(&decl.prefix) {
            return Err(CommandError::Taken {
                owner: owner.to_owned(),
                prefix: decl.prefix.clone(),
                taken_by: owner.to_owned(),
            });
        }
        self.entries.insert(
            decl.prefix.clone(),
            Entry {
                decl,
                owner: owner.to_owned(),
            },
        );
        Ok(())
    }

    /// Adds `decl` (already checked) as served by `owner`, without the namespace rules: for a
    /// table of one owner's commands, such as the cluster's. Refused only if the prefix is in
    /// the table already.
    pub fn insert_unchecked(&mut self, owner: &str, decl: CommandDecl) -> Result<(), String> {
        if self.entries.contains_key(&decl.prefix) {
            return Err(format!("command '{}' is declared twice", decl.prefix));
        }
        self.entries.insert(
            decl.prefix.clone(),
            Entry {
                decl,
                owner: owner.to_owned(),
            },
        );
        Ok(())
    }

    /// Removes every command `owner` serves; returns how many there were. The host's own
    /// commands are never removed.
    pub fn remove_owner(&mut self, owner: &str) -> usize {
        if owner == HOST_OWNER {
            return 0;
        }
        let before = self.entries.len();
        self.entries.retain(|_, entry| entry.owner != owner);
        before - self.entries.len()
    }

    /// The command named by the longest prefix of `words`, and the words after that prefix.
    ///
    /// `hello stats` wins over `hello` for the words `hello stats now`. Only words that could be
    /// prefix words take part, so an argument containing a space never matches a prefix.
    pub fn lookup<'w>(&self, words: &'w [String]) -> Option<(&Entry, &'w [String])> {
        candidate_prefixes(words)
            .find_map(|(prefix, n)| self.entries.get(&prefix).map(|entry| (entry, &words[n..])))
    }

    /// The command served under exactly `prefix`.
    pub fn get(&self, prefix: &str) -> Option<&Entry> {
        self.entries.get(prefix)
    }

    /// Every served command, sorted by prefix (the order of `--help`).
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// How many commands are served.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no command is served.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Why `owner` may not declare `prefix`, given the commands in `map` (prefix → something
/// `owner_of` names the owner of): the prefix starts with a [`RESERVED_WORDS`] word (unless the
/// owner is the host), is exactly another owner's prefix, extends one (`hello world` under
/// `hello`), or lies above one (`hello` over `hello world`). An owner's own commands may
/// extend each other. Costs a lookup per word of the prefix plus one range scan.
pub fn conflict<V>(
    map: &BTreeMap<String, V>,
    owner_of: impl Fn(&V) -> &str,
    owner: &str,
    prefix: &str,
) -> Option<CommandError> {
    let first = prefix.split(' ').next().unwrap_or_default();
    if owner != HOST_OWNER
        && let Some(word) = RESERVED_WORDS.iter().find(|w| **w == first)
    {
        return Some(CommandError::Reserved {
            owner: owner.to_owned(),
            prefix: prefix.to_owned(),
            word: (*word).to_owned(),
        });
    }
    if let Some(v) = map.get(prefix).filter(|v| owner_of(v) != owner) {
        return Some(CommandError::Taken {
            owner: owner.to_owned(),
            prefix: prefix.to_owned(),
            taken_by: owner_of(v).to_owned(),
        });
    }
    let overlaps = |other: &str, v: &V| {
        let taken_by = owner_of(v);
        (taken_by != owner).then(|| CommandError::Overlaps {
            owner: owner.to_owned(),
            prefix: prefix.to_owned(),
            other: other.to_owned(),
            taken_by: taken_by.to_owned(),
        })
    };
    // Above: the shorter prefixes this one extends.
    let mut end = 0;
    for word in prefix.split(' ') {
        end += word.len();
        if end == prefix.len() {
            break;
        }
        let shorter = &prefix[..end];
        if let Some(e) = map.get(shorter).and_then(|v| overlaps(shorter, v)) {
            return Some(e);
        }
        end += 1;
    }
    // Below: the longer prefixes that extend this one; a space sorts before every prefix
    // character, so they form one range.
    let under = format!("{prefix} ");
    map.range(under.clone()..)
        .take_while(|(k, _)| k.starts_with(&under))
        .find_map(|(k, v)| overlaps(k, v))
}

/// Every `(prefix, owner)` in `all` (prefix → the owners declaring it) that `owner`'s `prefix`
/// collides with: the same prefix, a shorter one it extends, or a longer one extending it,
/// declared by another owner. Like [`conflict`], a lookup per word plus one range scan.
pub fn overlapping<'a>(
    all: &'a BTreeMap<String, Vec<&'a str>>,
    owner: &str,
    prefix: &str,
) -> Vec<(&'a str, &'a str)> {
    let mut found = Vec::new();
    let mut push = |p: &'a str, owners: &'a Vec<&'a str>| {
        found.extend(owners.iter().filter(|o| **o != owner).map(|o| (p, *o)));
    };
    let mut end = 0;
    for word in prefix.split(' ') {
        end += word.len();
        if let Some((p, owners)) = all.get_key_value(&prefix[..end]) {
            push(p.as_str(), owners);
        }
        end += 1;
    }
    let under = format!("{prefix} ");
    for (p, owners) in all
        .range(under.clone()..)
        .take_while(|(k, _)| k.starts_with(&under))
    {
        push(p.as_str(), owners);
    }
    found
}

/// A command declaration from Ceph's signature syntax (`MonCommands.h`, `ceph --help` JSON):
/// prefix words, then one `name=…,type=…[,req=false][,n=N][,range=LO[|HI]][,strings=A|B]
/// [,goodchars=…]` per argument. Types without a counterpart here (`CephName`,
/// `CephEntityAddr`, `CephUUID`, …) are taken as `CephString`.
pub fn parse_signature(sig: &str, help: &str, perm: &str) -> Result<CommandDecl, String> {
    let mut prefix = Vec::new();
    let mut args = Vec::new();
    for token in sig.split_whitespace() {
        if !token.contains('=') {
            if !args.is_empty() {
                return Err(format!("prefix word '{token}' after an argument"));
            }
            prefix.push(token);
            continue;
        }
        let mut arg = CommandArg {
            name: String::new(),
            type_: ArgType::CephString,
            required: true,
            repeated: false,
            range: None,
            choices: Vec::new(),
            goodchars: None,
        };
        let mut range = None;
        for field in token.split(',') {
            let (key, value) = field
                .split_once('=')
                .ok_or_else(|| format!("'{field}' is not key=value"))?;
            match key {
                "name" => arg.name = value.to_owned(),
                "type" => {
                    arg.type_ = match value {
                        "CephInt" => ArgType::CephInt,
                        "CephFloat" => ArgType::CephFloat,
                        "CephBool" => ArgType::CephBool,
                        "CephChoices" => ArgType::CephChoices,
                        "CephPoolname" | "CephPoolName" => ArgType::CephPoolname,
                        "CephObjectname" => ArgType::CephObjectname,
                        "CephOsdName" => ArgType::CephOsdName,
                        "CephPgid" => ArgType::CephPgid,
                        _ => ArgType::CephString,
                    }
                }
                "req" => arg.required = value != "false",
                "n" => arg.repeated = value == "N" || value.parse::<u32>().is_ok_and(|n| n > 1),
                "strings" => arg.choices = value.split('|').map(str::to_owned).collect(),
                "goodchars" => arg.goodchars = Some(value.to_owned()),
                "range" => range = Some(value.to_owned()),
                _ => {}
            }
        }
        if let Some(range) = range {
            let mut bounds = range.split('|');
            let (lo, hi) = (bounds.next(), bounds.next());
            arg.range = match arg.type_ {
                ArgType::CephInt => Some(ArgRange::Int((
                    lo.and_then(|v| v.parse().ok()),
                    hi.and_then(|v| v.parse().ok()),
                ))),
                ArgType::CephFloat => Some(ArgRange::Float((
                    lo.and_then(|v| v.parse().ok()),
                    hi.and_then(|v| v.parse().ok()),
                ))),
                _ => None,
            };
        }
        args.push(arg);
    }
    let perm = match perm {
        "r" => crate::bindings::Perm::R,
        "w" => crate::bindings::Perm::W,
        _ => crate::bindings::Perm::Rw,
    };
    let decl = CommandDecl {
        prefix: prefix.join(" "),
        args,
        desc: help.to_owned(),
        perm,
        poll: false,
    };
    // Ceph's own commands may put optional arguments after a repeated one (`osd down
    // <ids>... [--definitely-dead]`, given by name): the order rules are for modules.
    check_decl("cluster", &decl, false).map_err(|e| e.to_string())?;
    Ok(decl)
}

/// The prefixes `words` may name a command by, longest first, each with its number of words:
/// the leading words that can be part of a prefix, joined by spaces.
pub fn candidate_prefixes(words: &[String]) -> impl Iterator<Item = (String, usize)> + '_ {
    let candidates = words.iter().take_while(|w| is_prefix_word(w)).count();
    (1..=candidates).rev().map(|n| (words[..n].join(" "), n))
}

fn is_prefix_word(word: &str) -> bool {
    !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn is_arg_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_lowercase() || b == b'_')
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks one command declaration: the prefix's form, the size limits of
/// [`crate::limits`] (`PREFIX_*`, `ARGS_PER_COMMAND`, `CHOICES_*`, `GOODCHARS_BYTES`,
/// `DESC_BYTES`), and every argument. Runs in time linear in the declaration's size.
pub fn validate_decl(owner: &str, decl: &CommandDecl) -> Result<(), CommandError> {
    check_decl(owner, decl, true)
}

/// [`validate_decl`], with the rules on argument order (required before optional, repeated
/// last) only if `ordered`.
fn check_decl(owner: &str, decl: &CommandDecl, ordered: bool) -> Result<(), CommandError> {
    use crate::limits;
    let too_large = |what: String| CommandError::TooLarge {
        owner: owner.to_owned(),
        prefix: crate::sanitize::quote(&decl.prefix),
        what,
    };
    if decl.prefix.len() > limits::PREFIX_BYTES
        || decl.prefix.split(' ').count() > limits::PREFIX_WORDS
    {
        return Err(too_large(format!(
            "the prefix is {} bytes; a prefix has at most {} words and {} bytes",
            decl.prefix.len(),
            limits::PREFIX_WORDS,
            limits::PREFIX_BYTES
        )));
    }
    let prefix_ok = decl.prefix.split(' ').all(is_prefix_word) && !decl.prefix.is_empty();
    if !prefix_ok {
        return Err(CommandError::BadPrefix {
            owner: owner.to_owned(),
            prefix: crate::sanitize::quote(&decl.prefix),
        });
    }
    if decl.args.len() > limits::ARGS_PER_COMMAND {
        return Err(too_large(format!(
            "{} arguments is over the limit of {} arguments per command",
            decl.args.len(),
            limits::ARGS_PER_COMMAND
        )));
    }
    if decl.desc.len() > limits::DESC_BYTES {
        return Err(too_large(format!(
            "the description is {} bytes, over the limit of {}: shorten it",
            decl.desc.len(),
            limits::DESC_BYTES
        )));
    }
    for arg in &decl.args {
        if arg.name.len() > limits::NAME_BYTES {
            return Err(too_large(format!(
                "an argument name is {} bytes, over the limit of {}",
                arg.name.len(),
                limits::NAME_BYTES
            )));
        }
        if arg.choices.len() > limits::CHOICES_PER_ARG
            || arg.choices.iter().any(|c| c.len() > limits::CHOICE_BYTES)
        {
            return Err(too_large(format!(
                "argument '{}' has {} choices; at most {} choices of at most {} bytes each",
                crate::sanitize::quote(&arg.name),
                arg.choices.len(),
                limits::CHOICES_PER_ARG,
                limits::CHOICE_BYTES
            )));
        }
        if arg
            .goodchars
            .as_ref()
            .is_some_and(|g| g.len() > limits::GOODCHARS_BYTES)
        {
            return Err(too_large(format!(
                "argument '{}' has goodchars of {} bytes, over the limit of {}",
                crate::sanitize::quote(&arg.name),
                arg.goodchars.as_ref().map_or(0, String::len),
                limits::GOODCHARS_BYTES
            )));
        }
    }
    let mut seen = std::collections::HashSet::with_capacity(decl.args.len());
    let bad = |arg: &CommandArg, reason: String| CommandError::BadArg {
        owner: owner.to_owned(),
        prefix: decl.prefix.clone(),
        arg: crate::sanitize::quote(&arg.name),
        reason,
    };
    let mut first_optional: Option<&str> = None;
    for (i, arg) in decl.args.iter().enumerate() {
        if !is_arg_name(&arg.name) {
            return Err(bad(
                arg,
                "invalid name: use lower-case letters, digits and '_', not starting with a digit"
                    .into(),
            ));
        }
        if RESERVED_ARG_NAMES.contains(&arg.name.as_str()) {
            return Err(bad(
                arg,
                format!(
                    "the name is reserved (the command map uses {}); rename the argument",
                    RESERVED_ARG_NAMES.join(", ")
                ),
            ));
        }
        if !seen.insert(arg.name.as_str()) {
            return Err(bad(
                arg,
                "declared twice; argument names must be unique".into(),
            ));
        }
        match (arg.required, first_optional) {
            (true, Some(optional)) if ordered => {
                return Err(bad(
                    arg,
                    format!(
                        "required argument follows optional argument '{optional}'; declare \
                         required arguments first"
                    ),
                ));
            }
            (false, None) => first_optional = Some(&arg.name),
            _ => {}
        }
        if ordered && arg.repeated && i + 1 != decl.args.len() {
            return Err(bad(arg, "only the last argument may be repeated".into()));
        }
        if arg.repeated && arg.type_ == ArgType::CephBool {
            return Err(bad(arg, "a CephBool argument cannot be repeated".into()));
        }
        if arg.type_ == ArgType::CephChoices {
            if arg.choices.is_empty() {
                return Err(bad(
                    arg,
                    "a CephChoices argument needs at least one choice".into(),
                ));
            }
            if arg
                .choices
                .iter()
                .any(|c| c.is_empty() || !crate::sanitize::is_plain_word(c))
            {
                return Err(bad(
                    arg,
                    "choices must be non-empty words without whitespace or control characters"
                        .into(),
                ));
            }
        }
        if let Some(range) = &arg.range {
            validate_range(arg.type_, range).map_err(|reason| bad(arg, reason))?;
        }
        if let Some(goodchars) = &arg.goodchars {
            if arg.type_ != ArgType::CephString {
                return Err(bad(
                    arg,
                    "goodchars is only allowed on a CephString argument".into(),
                ));
            }
            CharClass::parse(goodchars).map_err(|e| {
                bad(
                    arg,
                    format!(
                        "goodchars '{}' is invalid: {e}",
                        crate::sanitize::quote(goodchars)
                    ),
                )
            })?;
        }
    }
    Ok(())
}

fn validate_range(ty: ArgType, range: &ArgRange) -> Result<(), String> {
    match (ty, range) {
        (ArgType::CephInt, ArgRange::Int((Some(lo), Some(hi)))) if lo > hi => {
            Err(format!("range minimum {lo} is greater than maximum {hi}"))
        }
        (ArgType::CephInt, ArgRange::Int(_)) => Ok(()),
        (ArgType::CephFloat, ArgRange::Float((lo, hi))) => {
            if lo.is_some_and(|v| !v.is_finite()) || hi.is_some_and(|v| !v.is_finite()) {
                return Err("range bounds must be finite numbers".into());
            }
            match (lo, hi) {
                (Some(lo), Some(hi)) if lo > hi => {
                    Err(format!("range minimum {lo} is greater than maximum {hi}"))
                }
                _ => Ok(()),
            }
        }
        (ArgType::CephInt, ArgRange::Float(_)) => {
            Err("a CephInt argument needs an int range, not a float range".into())
        }
        (ArgType::CephFloat, ArgRange::Int(_)) => {
            Err("a CephFloat argument needs a float range, not an int range".into())
        }
        _ => Err("a range is only allowed on CephInt and CephFloat arguments".into()),
    }
}

/// The argument as it appears in the usage, without the `[ ]` of an optional argument:
/// `<oid>`, `<count:int>`, `<mode:fast|slow>`, `--force`, `<names>...`.
pub fn arg_token(arg: &CommandArg) -> String {
    let mut token = match arg.type_ {
        ArgType::CephBool => format!("--{}", arg.name.replace('_', "-")),
        ArgType::CephInt => format!("<{}:int>", arg.name),
        ArgType::CephFloat => format!("<{}:float>", arg.name),
        ArgType::CephChoices => format!("<{}:{}>", arg.name, arg.choices.join("|")),
        ArgType::CephString
        | ArgType::CephPoolname
        | ArgType::CephObjectname
        | ArgType::CephOsdName
        | ArgType::CephPgid => format!("<{}>", arg.name),
    };
    if arg.repeated {
        token.push_str("...");
    }
    token
}

/// Ceph's concise signature of a command, e.g. `antigravity send to blackhole <oid> [<blackhole>]`.
pub fn usage(decl: &CommandDecl) -> String {
    let mut out = decl.prefix.clone();
    for arg in &decl.args {
        out.push(' ');
        if arg.required {
            out.push_str(&arg_token(arg));
        } else {
            out.push('[');
            out.push_str(&arg_token(arg));
            out.push(']');
        }
    }
    out
}

/// One line of `--help`: the usage padded to [`HELP_USAGE_WIDTH`], two spaces, the description.
///
/// A usage longer than the column still gets its description on the same line, after two
/// spaces, so every command is exactly one line.
pub fn help_line(decl: &CommandDecl) -> String {
    let usage = usage(decl);
    if decl.desc.is_empty() {
        return usage;
    }
    format!("{usage:<HELP_USAGE_WIDTH$}  {}", decl.desc)
}

/// Why a client's arguments do not fit a command. The caller appends the command's usage.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ArgError {
    /// A value does not have the argument's type, range, choices or characters.
    #[error(
        "invalid value '{}' for {arg}: {expected}",
        crate::sanitize::quote(value)
    )]
    Invalid {
        /// The argument, as in the usage (`<count:int>`).
        arg: String,
        /// The value given.
        value: String,
        /// What the argument accepts.
        expected: String,
    },
    /// A required argument was not given.
    #[error("missing required argument {arg}")]
    Missing {
        /// The argument, as in the usage.
        arg: String,
    },
    /// `--name` was given last, without the value it needs.
    #[error("missing value for {arg} after '--{}'", crate::sanitize::quote(flag))]
    MissingValue {
        /// The argument, as in the usage.
        arg: String,
        /// The flag as given, without the dashes.
        flag: String,
    },
    /// A positional value with no argument left to take it.
    #[error("unexpected argument '{}'", crate::sanitize::quote(value))]
    Unexpected {
        /// The extra word.
        value: String,
    },
    /// A named argument (`name=v`, `--name`) the command does not declare.
    #[error(
        "unknown argument '{}': this command has no argument of that name",
        crate::sanitize::quote(name)
    )]
    Unknown {
        /// The name as given.
        name: String,
    },
    /// A non-repeated argument given twice.
    #[error("argument {arg} given more than once")]
    Duplicate {
        /// The argument, as in the usage.
        arg: String,
    },
}

impl ArgError {
    /// The message for the client, without the usage (the caller appends it).
    pub fn message(&self) -> String {
        self.to_string()
    }
}

/// Builds the Ceph command map for `decl` from the words after its prefix.
///
/// The map holds `prefix`, each given argument typed (in declared order), and `format` if
/// given. Like the `ceph` CLI this accepts positional values in declared order, `name=value`,
/// `--name=value` and `--name value` (dashes in `--name` stand for underscores), `--name` alone
/// for a CephBool (`--no-name` for false), and `--` to make every later word positional.
/// A repeated argument collects every remaining positional value and every `name=` occurrence
/// into a JSON list.
pub fn parse_args(
    decl: &CommandDecl,
    rest: &[String],
    format: Option<&str>,
) -> Result<Map<String, Value>, ArgError> {
    let mut slots: Vec<Option<Value>> = vec![None; decl.args.len()];
    let mut positional_only = false;
    let mut words = rest.iter();
    while let Some(word) = words.next() {
        if !positional_only && word == "--" {
            positional_only = true;
            continue;
        }
        if !positional_only && let Some(flag) = word.strip_prefix("--") {
            let (key, inline) = match flag.split_once('=') {
                Some((key, value)) => (key, Some(value)),
                None => (flag, None),
            };
            let name = key.replace('-', "_");
            if let Some(i) = arg_index(decl, &name) {
                let arg = &decl.args[i];
                let value = match inline {
                    Some(v) => v,
                    None if arg.type_ == ArgType::CephBool => "true",
                    None => words.next().ok_or_else(|| ArgError::MissingValue {
                        arg: arg_token(arg),
                        flag: flag.to_owned(),
                    })?,
                };
                assign(arg, &mut slots[i], value)?;
                continue;
            }
            if inline.is_none()
                && let Some(negated) = name.strip_prefix("no_")
                && let Some(i) = arg_index(decl, negated)
                && decl.args[i].type_ == ArgType::CephBool
            {
                assign(&decl.args[i], &mut slots[i], "false")?;
                continue;
            }
            return Err(ArgError::Unknown {
                name: key.to_owned(),
            });
        }
        let next_positional = next_positional(decl, &slots);
        if !positional_only && let Some((key, value)) = word.split_once('=') {
            if let Some(i) = arg_index(decl, key) {
                assign(&decl.args[i], &mut slots[i], value)?;
                continue;
            }
            // `a=b` may well be a plain string value (`config-key set k a=b`); only a name
            // that could be an argument's, where no string is expected, is an unknown name.
            let string_expected = next_positional.is_some_and(|i| {
                matches!(
                    decl.args[i].type_,
                    ArgType::CephString | ArgType::CephObjectname | ArgType::CephPoolname
                )
            });
            if !string_expected && is_arg_name(key) {
                return Err(ArgError::Unknown {
                    name: key.to_owned(),
                });
            }
        }
        match next_positional {
            Some(i) => assign(&decl.args[i], &mut slots[i], word)?,
            None => {
                return Err(ArgError::Unexpected {
                    value: word.clone(),
                });
            }
        }
    }

    let mut map = Map::new();
    map.insert("prefix".into(), Value::String(decl.prefix.clone()));
    for (arg, slot) in decl.args.iter().zip(slots) {
        match slot {
            Some(value) => {
                map.insert(arg.name.clone(), value);
            }
            None if arg.required => {
                return Err(ArgError::Missing {
                    arg: arg_token(arg),
                });
            }
            None => {}
        }
    }
    if let Some(format) = format {
        map.insert("format".into(), Value::String(format.to_owned()));
    }
    Ok(map)
}

fn arg_index(decl: &CommandDecl, name: &str) -> Option<usize> {
    decl.args.iter().position(|a| a.name == name)
}

/// The first argument a positional value goes to: the first one not yet given, or the
/// repeated last argument, which takes every remaining value.
fn next_positional(decl: &CommandDecl, slots: &[Option<Value>]) -> Option<usize> {
    decl.args
        .iter()
        .zip(slots)
        .position(|(arg, slot)| slot.is_none() || arg.repeated)
}

fn assign(arg: &CommandArg, slot: &mut Option<Value>, text: &str) -> Result<(), ArgError> {
    let value = parse_value(arg, text)?;
    match slot {
        Some(Value::Array(values)) if arg.repeated => values.push(value),
        Some(_) => {
            return Err(ArgError::Duplicate {
                arg: arg_token(arg),
            });
        }
        None if arg.repeated => *slot = Some(Value::Array(vec![value])),
        None => *slot = Some(value),
    }
    Ok(())
}

/// Checks one value against its argument's type and returns it typed.
fn parse_value(arg: &CommandArg, text: &str) -> Result<Value, ArgError> {
    let invalid = |expected: String| ArgError::Invalid {
        arg: arg_token(arg),
        value: text.to_owned(),
        expected,
    };
    match arg.type_ {
        ArgType::CephInt => {
            let expected = || format!("expected an integer{}", describe_bounds(arg));
            let n: i64 = text.parse().map_err(|_| invalid(expected()))?;
            let in_range = match arg.range {
                Some(ArgRange::Int((lo, hi))) => {
                    lo.is_none_or(|lo| n >= lo) && hi.is_none_or(|hi| n <= hi)
                }
                // Only reachable for an unchecked declaration; compare as numbers anyway.
                Some(ArgRange::Float((lo, hi))) => {
                    let x = n as f64;
                    lo.is_none_or(|lo| x >= lo) && hi.is_none_or(|hi| x <= hi)
                }
                None => true,
            };
            if !in_range {
                return Err(invalid(expected()));
            }
            Ok(Value::from(n))
        }
        ArgType::CephFloat => {
            let (lo, hi) = match arg.range {
                Some(ArgRange::Float((lo, hi))) => (lo, hi),
                Some(ArgRange::Int((lo, hi))) => (lo.map(|v| v as f64), hi.map(|v| v as f64)),
                None => (None, None),
            };
            let expected = || format!("expected a finite number{}", describe_bounds(arg));
            let x: f64 = text.parse().map_err(|_| invalid(expected()))?;
            let number = Number::from_f64(x)
                .filter(|_| x.is_finite())
                .ok_or_else(|| invalid(expected()))?;
            if lo.is_some_and(|lo| x < lo) || hi.is_some_and(|hi| x > hi) {
                return Err(invalid(expected()));
            }
            Ok(Value::Number(number))
        }
        ArgType::CephBool => parse_bool(text)
            .map(Value::Bool)
            .ok_or_else(|| invalid("expected true/false, yes/no or 1/0".into())),
        ArgType::CephChoices => {
            if arg.choices.iter().any(|c| c == text) {
                Ok(Value::String(text.to_owned()))
            } else {
                Err(invalid(format!(
                    "expected one of: {}",
                    arg.choices.join(", ")
                )))
            }
        }
        ArgType::CephString => {
            if let Some(goodchars) = &arg.goodchars {
                let class = CharClass::parse(goodchars).map_err(|e| {
                    invalid(format!(
                        "the command declares invalid goodchars '{goodchars}': {e}"
                    ))
                })?;
                if let Some(c) = text.chars().find(|&c| !class.matches(c)) {
                    return Err(invalid(format!(
                        "character '{}' is not allowed; expected only characters in \
                         [{}]",
                        crate::sanitize::quote(c.encode_utf8(&mut [0; 4])),
                        crate::sanitize::line(
                            class_body(goodchars),
                            crate::limits::GOODCHARS_BYTES
                        )
                    )));
                }
            }
            Ok(Value::String(text.to_owned()))
        }
        ArgType::CephPoolname | ArgType::CephObjectname => {
            if text.is_empty() {
                let what = if arg.type_ == ArgType::CephPoolname {
                    "pool"
                } else {
                    "object"
                };
                Err(invalid(format!("expected a non-empty {what} name")))
            } else {
                Ok(Value::String(text.to_owned()))
            }
        }
        ArgType::CephOsdName => {
            let id = text.strip_prefix("osd.").unwrap_or(text);
            parse_decimal_u32(id)
                .map(|id| Value::String(format!("osd.{id}")))
                .ok_or_else(|| {
                    invalid("expected osd.<id> or <id>, id a non-negative integer".into())
                })
        }
        ArgType::CephPgid => {
            let expected = || {
                "expected <pool>.<seed>, pool a decimal and seed a hex number, \
                               e.g. 1.0 or 2.1f"
            };
            let (pool, seed) = text
                .split_once('.')
                .ok_or_else(|| invalid(expected().into()))?;
            let pool = parse_decimal_u64(pool).ok_or_else(|| invalid(expected().into()))?;
            let seed_ok =
                !seed.is_empty() && seed.len() <= 8 && seed.bytes().all(|b| b.is_ascii_hexdigit());
            let seed = u32::from_str_radix(seed, 16)
                .ok()
                .filter(|_| seed_ok)
                .ok_or_else(|| invalid(expected().into()))?;
            Ok(Value::String(format!("{pool}.{seed:x}")))
        }
    }
}

/// The range of a numeric argument for messages: ` between 1 and 10`, ` >= 0`, or nothing.
fn describe_bounds(arg: &CommandArg) -> String {
    let (lo, hi) = match &arg.range {
        Some(ArgRange::Int((lo, hi))) => (lo.map(|v| v.to_string()), hi.map(|v| v.to_string())),
        Some(ArgRange::Float((lo, hi))) => (lo.map(|v| v.to_string()), hi.map(|v| v.to_string())),
        None => (None, None),
    };
    match (lo, hi) {
        (Some(lo), Some(hi)) => format!(" between {lo} and {hi}"),
        (Some(lo), None) => format!(" >= {lo}"),
        (None, Some(hi)) => format!(" <= {hi}"),
        (None, None) => String::new(),
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

fn parse_decimal_u32(text: &str) -> Option<u32> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn parse_decimal_u64(text: &str) -> Option<u64> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// `goodchars` may be written as a class body (`A-Za-z0-9`) or, as Ceph's own command
/// descriptions write it, with the brackets (`[A-Za-z0-9]`).
fn class_body(goodchars: &str) -> &str {
    goodchars
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(goodchars)
}

/// One item of a character class.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ClassItem {
    Char(char),
    Range(char, char),
    /// `\d`
    Digit,
    /// `\w`
    Word,
    /// `\s`
    Space,
}

/// A regex character class (`[...]`) without a regex engine: literal characters, ranges such
/// as `a-z`, the escapes `\d`, `\w`, `\s` and `\<char>`, and a leading `^` for negation. A `-`
/// first, last or right after a range is literal, as in Python's `re`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CharClass {
    negated: bool,
    items: Vec<ClassItem>,
    /// Whether each ASCII character matches (negation applied), so checking an argument costs
    /// one lookup per character whatever the size of the class.
    ascii: [bool; 128],
}

impl CharClass {
    fn parse(goodchars: &str) -> Result<Self, String> {
        let body = class_body(goodchars);
        let (negated, body) = match body.strip_prefix('^') {
            Some(rest) => (true, rest),
            None => (false, body),
        };
        let mut chars = body.chars().peekable();
        let mut items = Vec::new();
        while let Some(c) = chars.next() {
            let first = if c == '\\' {
                let escaped = chars.next().ok_or("it ends with a lone '\\'")?;
                match escaped {
                    'd' => ClassItem::Digit,
                    'w' => ClassItem::Word,
                    's' => ClassItem::Space,
                    other => ClassItem::Char(other),
                }
            } else {
                ClassItem::Char(c)
            };
            let ClassItem::Char(lo) = first else {
                items.push(first);
                continue;
            };
            // `x-y` is a range unless the `-` is the last character of the class.
            let mut lookahead = chars.clone();
            if lookahead.next() == Some('-') && lookahead.peek().is_some() {
                chars.next();
                let hi = match chars.next() {
                    Some('\\') => chars.next().ok_or("it ends with a lone '\\'")?,
                    Some(hi) => hi,
                    None => return Err("a range has no end".into()),
                };
                if lo > hi {
                    return Err(format!("range '{lo}-{hi}' is reversed"));
                }
                items.push(ClassItem::Range(lo, hi));
            } else {
                items.push(ClassItem::Char(lo));
            }
        }
        if items.is_empty() {
            return Err("it allows no character".into());
        }
        let mut class = Self {
            negated,
            items,
            ascii: [false; 128],
        };
        let ascii: [bool; 128] = std::array::from_fn(|i| class.matches_slowly(char::from(i as u8)));
        class.ascii = ascii;
        Ok(class)
    }

    fn matches(&self, c: char) -> bool {
        match self.ascii.get(c as usize) {
            Some(hit) => *hit,
            None => self.matches_slowly(c),
        }
    }

    fn matches_slowly(&self, c: char) -> bool {
        let hit = self.items.iter().any(|item| match *item {
            ClassItem::Char(x) => c == x,
            ClassItem::Range(lo, hi) => (lo..=hi).contains(&c),
            ClassItem::Digit => c.is_ascii_digit(),
            ClassItem::Word => c.is_alphanumeric() || c == '_',
            ClassItem::Space => c.is_whitespace(),
        });
        hit != self.negated
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::Perm;
    use serde_json::json;

    fn arg(name: &str, type_: ArgType) -> CommandArg {
        CommandArg {
            name: name.into(),
            type_,
            required: true,
            repeated: false,
            range: None,
            choices: Vec::new(),
            goodchars: None,
        }
    }

    fn optional(mut a: CommandArg) -> CommandArg {
        a.required = false;
        a
    }

    fn repeated(mut a: CommandArg) -> CommandArg {
        a.repeated = true;
        a
    }

    fn int_range(mut a: CommandArg, lo: Option<i64>, hi: Option<i64>) -> CommandArg {
        a.range = Some(ArgRange::Int((lo, hi)));
        a
    }

    fn choices(name: &str, list: &[&str]) -> CommandArg {
        let mut a = arg(name, ArgType::CephChoices);
        a.choices = list.iter().map(|s| s.to_string()).collect();
        a
    }

    fn goodchars(name: &str, class: &str) -> CommandArg {
        let mut a = arg(name, ArgType::CephString);
        a.goodchars = Some(class.into());
        a
    }

    fn decl(prefix: &str, args: Vec<CommandArg>) -> CommandDecl {
        CommandDecl {
            prefix: prefix.into(),
            args,
            desc: String::new(),
            perm: Perm::R,
            poll: false,
        }
    }

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn parse(d: &CommandDecl, s: &str) -> Result<Value, ArgError> {
        parse_args(d, &words(s), None).map(Value::Object)
    }

    fn err(d: &CommandDecl, s: &str) -> String {
        match parse(d, s) {
            Ok(v) => panic!("expected an error for '{s}', got {v}"),
            Err(e) => e.message(),
        }
    }

    #[test]
    fn longest_prefix_wins() {
        let mut table = CommandTable::new();
        table
            .insert(
                "hello",
                decl("hello", vec![optional(arg("person", ArgType::CephString))]),
            )
            .unwrap();
        table.insert("hello", decl("hello stats", vec![])).unwrap();
        table
            .insert("hello", decl("hello stats reset", vec![]))
            .unwrap();

        let w = words("hello stats now");
        let (entry, rest) = table.lookup(&w).unwrap();
        assert_eq!(entry.decl.prefix, "hello stats");
        assert_eq!(rest, &w[2..]);

        let w = words("hello stats reset");
        let (entry, rest) = table.lookup(&w).unwrap();
        assert_eq!(entry.decl.prefix.as_str(), "hello stats reset");
        assert!(rest.is_empty());

        let w = words("hello world");
        let (entry, rest) = table.lookup(&w).unwrap();
        assert_eq!(entry.decl.prefix, "hello");
        assert_eq!(rest, &w[1..]);

        assert!(table.lookup(&words("goodbye")).is_none());
        assert!(table.lookup(&[]).is_none());
        // A single word holding a space is an argument, never a prefix.
        assert!(table.lookup(&["hello stats".to_string()]).is_none());
    }

    #[test]
    fn entries_are_sorted_and_removed_by_owner() {
        let mut table = CommandTable::new();
        table.insert("b", decl("zeta", vec![])).unwrap();
        table.insert("a", decl("alpha beta", vec![])).unwrap();
        table.insert("b", decl("beta", vec![])).unwrap();
        let prefixes: Vec<_> = table.entries().map(|e| e.decl.prefix.as_str()).collect();
        assert_eq!(prefixes, ["alpha beta", "beta", "zeta"]);
        assert_eq!(table.remove_owner("b"), 2);
        assert_eq!(table.len(), 1);
        assert_eq!(table.get("alpha beta").unwrap().owner, "a");
        assert_eq!(table.remove_owner("nobody"), 0);
    }

    #[test]
    fn the_hosts_commands_are_never_removed() {
        let mut table = CommandTable::new();
        table.insert(HOST_OWNER, decl("module ls", vec![])).unwrap();
        assert_eq!(table.remove_owner(HOST_OWNER), 0);
        assert!(table.get("module ls").is_some());
    }

    #[test]
    fn a_taken_prefix_names_its_owner() {
        let mut table = CommandTable::new();
        table.insert("hello", decl("hello", vec![])).unwrap();
        let e = table.insert("evil", decl("hello", vec![])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "evil: command 'hello' is already served by hello; choose another prefix"
        );
    }

    #[test]
    fn a_module_cannot_declare_under_or_above_another_modules_command() {
        let mut table = CommandTable::new();
        table.insert("hello", decl("hello", vec![])).unwrap();
        table.insert("osd", decl("osd perf stats", vec![])).unwrap();
        let e = table
            .insert("evil", decl("hello world", vec![]))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "evil: command 'hello world' overlaps command 'hello' of module 'hello': a module \
             cannot declare commands under another module's command or above it; choose \
             another prefix"
        );
        let e = table.insert("evil", decl("osd perf", vec![])).unwrap_err();
        assert!(
            e.to_string()
                .contains("overlaps command 'osd perf stats' of module 'osd'"),
            "{e}"
        );
        // Siblings under a shared first word are fine, as in Ceph (`osd status` beside
        // `osd perf stats`), and so is extending one's own command.
        table.insert("status", decl("osd status", vec![])).unwrap();
        table.insert("hello", decl("hello stats", vec![])).unwrap();
        assert_eq!(
            table.lookup(&words("hello world")).unwrap().0.owner,
            "hello"
        );
    }

    #[test]
    fn the_daemons_words_are_reserved_in_full() {
        let mut table = CommandTable::new();
        for prefix in [
            "config-key set",
            "module disable now",
            "mgr",
            "health",
            "status x",
        ] {
            let e = table.insert("evil", decl(prefix, vec![])).unwrap_err();
            assert!(matches!(e, CommandError::Reserved { .. }), "{prefix}: {e}");
        }
        assert!(table.is_empty());
        table
            .insert(HOST_OWNER, decl("config-key set", vec![]))
            .unwrap();
    }

    #[test]
    fn overlapping_finds_every_other_owner_around_a_prefix() {
        let mut all: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        all.entry("hello".into()).or_default().push("hello");
        all.entry("hello".into()).or_default().push("grabber");
        all.entry("hello stats".into()).or_default().push("hello");
        all.entry("hello world x".into()).or_default().push("other");
        all.entry("helloworld".into()).or_default().push("third");
        let mut found = overlapping(&all, "hello", "hello");
        found.sort();
        assert_eq!(found, [("hello", "grabber"), ("hello world x", "other")]);
        assert_eq!(
            overlapping(&all, "grabber", "hello stats"),
            [("hello", "hello"), ("hello stats", "hello")]
        );
    }

    #[test]
    fn goodchars_of_any_size_check_a_long_value_quickly() {
        let d = decl("x", vec![goodchars("name", "[A-Za-z0-9]")]);
        let long = "a".repeat(8 << 20);
        let started = std::time::Instant::now();
        assert!(parse(&d, &long).is_ok());
        let mut bad = long.clone();
        bad.push('!');
        let e = err(&d, &bad);
        assert!(
            e.contains("character '!' is not allowed"),
            "{}",
            &e[..200.min(e.len())]
        );
        assert!(
            e.len() < 300,
            "the error quotes the whole value: {} bytes",
            e.len()
        );
        // Linear in the value: well under a second for 8 MiB even unoptimised.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn declarations_over_the_limits_are_refused_in_linear_time() {
        let many: Vec<CommandArg> = (0..40_000)
            .map(|i| optional(arg(&format!("a{i}"), ArgType::CephString)))
            .collect();
        let e = validate_decl("evil", &decl("x", many)).unwrap_err();
        assert!(
            e.to_string()
                .contains("40000 arguments is over the limit of 32"),
            "{e}"
        );
        let huge = goodchars("name", &"a".repeat(100 << 10));
        let e = validate_decl("evil", &decl("x", vec![huge])).unwrap_err();
        assert!(e.to_string().contains("goodchars of 102400 bytes"), "{e}");
        let e = validate_decl("evil", &decl("a ".repeat(20).trim_end(), vec![])).unwrap_err();
        assert!(e.to_string().contains("at most 8 words"), "{e}");
    }

    #[test]
    fn bad_declarations_are_refused() {
        let cases: Vec<(CommandDecl, &str)> = vec![
            (decl("", vec![]), "command prefix '' is invalid"),
            (decl("Hello", vec![]), "command prefix 'Hello' is invalid"),
            (decl("hello  world", vec![]), "is invalid"),
            (decl(" hello", vec![]), "is invalid"),
            (decl("hello!", vec![]), "is invalid"),
            (
                decl("x", vec![arg("9lives", ArgType::CephString)]),
                "argument '9lives': invalid name",
            ),
            (
                decl("x", vec![arg("Name", ArgType::CephString)]),
                "invalid name",
            ),
            (
                decl("x", vec![arg("format", ArgType::CephString)]),
                "the name is reserved",
            ),
            (
                decl("x", vec![arg("prefix", ArgType::CephString)]),
                "the name is reserved",
            ),
            (
                decl("x", vec![arg("inbuf", ArgType::CephString)]),
                "the name is reserved",
            ),
            (
                decl(
                    "x",
                    vec![arg("a", ArgType::CephString), arg("a", ArgType::CephInt)],
                ),
                "declared twice",
            ),
            (
                decl("x", vec![arg("mode", ArgType::CephChoices)]),
                "at least one choice",
            ),
            (
                decl(
                    "x",
                    vec![
                        optional(arg("a", ArgType::CephString)),
                        arg("b", ArgType::CephString),
                    ],
                ),
                "argument 'b': required argument follows optional argument 'a'",
            ),
            (
                decl(
                    "x",
                    vec![
                        repeated(arg("a", ArgType::CephString)),
                        optional(arg("b", ArgType::CephString)),
                    ],
                ),
                "only the last argument may be repeated",
            ),
            (
                decl("x", vec![repeated(arg("f", ArgType::CephBool))]),
                "cannot be repeated",
            ),
            (
                decl(
                    "x",
                    vec![int_range(arg("n", ArgType::CephInt), Some(5), Some(1))],
                ),
                "range minimum 5 is greater than maximum 1",
            ),
            (
                decl(
                    "x",
                    vec![int_range(arg("n", ArgType::CephString), Some(1), None)],
                ),
                "only allowed on CephInt and CephFloat",
            ),
            (
                decl("x", vec![goodchars("s", "z-a")]),
                "range 'z-a' is reversed",
            ),
            (decl("x", vec![goodchars("s", "")]), "allows no character"),
            (
                {
                    let mut a = arg("n", ArgType::CephInt);
                    a.goodchars = Some("0-9".into());
                    decl("x", vec![a])
                },
                "goodchars is only allowed on a CephString",
            ),
        ];
        for (d, want) in cases {
            let mut table = CommandTable::new();
            let e = table.insert("m", d.clone()).unwrap_err().to_string();
            assert!(e.contains(want), "{}: got '{e}', want '{want}'", d.prefix);
            assert!(e.starts_with("m: "), "{e}");
        }
    }

    #[test]
    fn usage_strings() {
        let cases: Vec<(CommandDecl, &str)> = vec![
            (decl("hello", vec![]), "hello"),
            (
                decl(
                    "antigravity send to blackhole",
                    vec![
                        arg("oid", ArgType::CephObjectname),
                        optional(arg("blackhole", ArgType::CephString)),
                    ],
                ),
                "antigravity send to blackhole <oid> [<blackhole>]",
            ),
            (
                decl(
                    "osd pool create",
                    vec![
                        arg("pool", ArgType::CephPoolname),
                        optional(int_range(arg("pg_num", ArgType::CephInt), Some(0), None)),
                        optional(arg("ratio", ArgType::CephFloat)),
                        optional(choices("pool_type", &["replicated", "erasure"])),
                    ],
                ),
                "osd pool create <pool> [<pg_num:int>] [<ratio:float>] \
                 [<pool_type:replicated|erasure>]",
            ),
            (
                decl(
                    "osd destroy",
                    vec![
                        arg("id", ArgType::CephOsdName),
                        optional(arg("yes_i_really_mean_it", ArgType::CephBool)),
                    ],
                ),
                "osd destroy <id> [--yes-i-really-mean-it]",
            ),
            (
                decl("x", vec![arg("force", ArgType::CephBool)]),
                "x --force",
            ),
            (
                decl("pg repair", vec![arg("pgid", ArgType::CephPgid)]),
                "pg repair <pgid>",
            ),
            (
                decl("x", vec![repeated(arg("ids", ArgType::CephString))]),
                "x <ids>...",
            ),
            (
                decl("x", vec![optional(repeated(arg("n", ArgType::CephInt)))]),
                "x [<n:int>...]",
            ),
        ];
        for (d, want) in cases {
            assert_eq!(usage(&d), want);
        }
    }

    #[test]
    fn help_lines_pad_the_usage() {
        let mut d = decl("hello", vec![optional(arg("person", ArgType::CephString))]);
        d.desc = "Say hello".into();
        assert_eq!(
            help_line(&d),
            format!("{:<40}  Say hello", "hello [<person>]")
        );
        let mut d = decl(
            "antigravity send to blackhole",
            vec![
                arg("oid", ArgType::CephObjectname),
                optional(arg("blackhole", ArgType::CephString)),
            ],
        );
        d.desc = "Send the specified object to black hole".into();
        assert_eq!(
            help_line(&d),
            "antigravity send to blackhole <oid> [<blackhole>]  Send the specified object to black hole"
        );
        d.desc.clear();
        assert_eq!(
            help_line(&d),
            "antigravity send to blackhole <oid> [<blackhole>]"
        );
    }

    #[test]
    fn builds_the_command_map() {
        let d = decl(
            "antigravity send to blackhole",
            vec![
                arg("oid", ArgType::CephObjectname),
                optional(arg("blackhole", ArgType::CephString)),
            ],
        );
        let map = parse_args(&d, &words("obj1"), Some("json")).unwrap();
        assert_eq!(
            Value::Object(map.clone()),
            json!({"prefix": "antigravity send to blackhole", "oid": "obj1", "format": "json"})
        );
        let keys: Vec<_> = map.keys().map(String::as_str).collect();
        assert_eq!(keys, ["prefix", "oid", "format"]);
        assert_eq!(
            parse(&d, "obj1 hole").unwrap(),
            json!({"prefix": "antigravity send to blackhole", "oid": "obj1", "blackhole": "hole"})
        );
    }

    #[test]
    fn named_and_positional_mix() {
        let d = decl(
            "x",
            vec![
                arg("a", ArgType::CephString),
                arg("b", ArgType::CephInt),
                optional(arg("c", ArgType::CephString)),
            ],
        );
        let want = json!({"prefix": "x", "a": "one", "b": 2, "c": "three"});
        for input in [
            "one 2 three",
            "a=one b=2 c=three",
            "b=2 one three",
            "--b 2 one --c=three",
            "c=three --a one 2",
            "one --b=2 three",
        ] {
            assert_eq!(parse(&d, input).unwrap(), want, "{input}");
        }
        assert_eq!(err(&d, "one"), "missing required argument <b:int>");
        assert_eq!(err(&d, "one 2 three four"), "unexpected argument 'four'");
        assert_eq!(
            err(&d, "one d=4"),
            "unknown argument 'd': this command has no argument of that name"
        );
        assert_eq!(
            err(&d, "one 2 three d=4"),
            "unknown argument 'd': this command has no argument of that name"
        );
        assert_eq!(
            err(&d, "--d 4 one 2"),
            "unknown argument 'd': this command has no argument of that name"
        );
        assert_eq!(
            err(&d, "one b=2 b=3"),
            "argument <b:int> given more than once"
        );
        assert_eq!(err(&d, "one 2 --c"), "missing value for <c> after '--c'");
        // Where a string is expected, `k=v` with an unknown k is a value.
        assert_eq!(
            parse(&d, "k=v 2").unwrap(),
            json!({"prefix": "x", "a": "k=v", "b": 2})
        );
        assert_eq!(
            parse(&d, "one 2 d=4").unwrap(),
            json!({"prefix": "x", "a": "one", "b": 2, "c": "d=4"})
        );
        // `--` makes the rest positional.
        assert_eq!(
            parse(&d, "-- --a 2 b=1").unwrap(),
            json!({"prefix": "x", "a": "--a", "b": 2, "c": "b=1"})
        );
    }

    #[test]
    fn bool_flags() {
        let d = decl(
            "osd destroy",
            vec![
                arg("id", ArgType::CephOsdName),
                optional(arg("yes_i_really_mean_it", ArgType::CephBool)),
            ],
        );
        let yes = json!({"prefix": "osd destroy", "id": "osd.3", "yes_i_really_mean_it": true});
        let no = json!({"prefix": "osd destroy", "id": "osd.3", "yes_i_really_mean_it": false});
        for input in [
            "3 --yes-i-really-mean-it",
            "--yes_i_really_mean_it osd.3",
            "3 --yes-i-really-mean-it=true",
            "3 yes_i_really_mean_it=YES",
            "3 true",
            "3 1",
            "3 Yes",
        ] {
            assert_eq!(parse(&d, input).unwrap(), yes, "{input}");
        }
        for input in [
            "3 --no-yes-i-really-mean-it",
            "3 false",
            "3 no",
            "3 0",
            "3 --yes-i-really-mean-it=No",
        ] {
            assert_eq!(parse(&d, input).unwrap(), no, "{input}");
        }
        assert_eq!(
            parse(&d, "3").unwrap(),
            json!({"prefix": "osd destroy", "id": "osd.3"})
        );
        assert_eq!(
            err(&d, "3 maybe"),
            "invalid value 'maybe' for --yes-i-really-mean-it: expected true/false, yes/no or 1/0"
        );
        // `--no-x` only negates a bool.
        assert!(err(&d, "--no-id").starts_with("unknown argument 'no-id'"));
    }

    #[test]
    fn repeated_args_collect_a_list() {
        let d = decl(
            "x",
            vec![
                arg("pool", ArgType::CephPoolname),
                repeated(arg("ids", ArgType::CephInt)),
            ],
        );
        assert_eq!(
            parse(&d, "p 1 2 3").unwrap(),
            json!({"prefix": "x", "pool": "p", "ids": [1, 2, 3]})
        );
        assert_eq!(
            parse(&d, "p 1").unwrap(),
            json!({"prefix": "x", "pool": "p", "ids": [1]})
        );
        assert_eq!(
            parse(&d, "ids=1 ids=2 pool=p 3").unwrap(),
            json!({"prefix": "x", "pool": "p", "ids": [1, 2, 3]})
        );
        assert_eq!(err(&d, "p"), "missing required argument <ids:int>...");
        assert_eq!(
            err(&d, "p 1 two"),
            "invalid value 'two' for <ids:int>...: expected an integer"
        );
        let d = decl(
            "x",
            vec![optional(repeated(arg("names", ArgType::CephString)))],
        );
        assert_eq!(parse(&d, "").unwrap(), json!({"prefix": "x"}));
        assert_eq!(
            parse(&d, "a b").unwrap(),
            json!({"prefix": "x", "names": ["a", "b"]})
        );
    }

    #[test]
    fn ints() {
        let d = decl(
            "x",
            vec![int_range(arg("count", ArgType::CephInt), Some(1), Some(10))],
        );
        assert_eq!(parse(&d, "1").unwrap(), json!({"prefix": "x", "count": 1}));
        assert_eq!(
            parse(&d, "10").unwrap(),
            json!({"prefix": "x", "count": 10})
        );
        assert_eq!(
            err(&d, "11"),
            "invalid value '11' for <count:int>: expected an integer between 1 and 10"
        );
        assert_eq!(
            err(&d, "0"),
            "invalid value '0' for <count:int>: expected an integer between 1 and 10"
        );
        let d = decl("x", vec![arg("count", ArgType::CephInt)]);
        assert_eq!(
            parse(&d, "-5").unwrap(),
            json!({"prefix": "x", "count": -5})
        );
        assert_eq!(
            err(&d, "abc"),
            "invalid value 'abc' for <count:int>: expected an integer"
        );
        assert_eq!(
            err(&d, "1.5"),
            "invalid value '1.5' for <count:int>: expected an integer"
        );
        assert_eq!(
            err(&d, "99999999999999999999"),
            "invalid value '99999999999999999999' for <count:int>: expected an integer"
        );
        let d = decl(
            "x",
            vec![int_range(arg("n", ArgType::CephInt), Some(0), None)],
        );
        assert_eq!(
            err(&d, "-1"),
            "invalid value '-1' for <n:int>: expected an integer >= 0"
        );
        let d = decl(
            "x",
            vec![int_range(arg("n", ArgType::CephInt), None, Some(3))],
        );
        assert_eq!(
            err(&d, "4"),
            "invalid value '4' for <n:int>: expected an integer <= 3"
        );
    }

    #[test]
    fn floats() {
        let mut a = arg("ratio", ArgType::CephFloat);
        a.range = Some(ArgRange::Float((Some(0.0), Some(1.0))));
        let d = decl("x", vec![a]);
        assert_eq!(
            parse(&d, "0.5").unwrap(),
            json!({"prefix": "x", "ratio": 0.5})
        );
        assert_eq!(
            parse(&d, "1").unwrap(),
            json!({"prefix": "x", "ratio": 1.0})
        );
        assert_eq!(
            err(&d, "1.5"),
            "invalid value '1.5' for <ratio:float>: expected a finite number between 0 and 1"
        );
        let d = decl("x", vec![arg("ratio", ArgType::CephFloat)]);
        assert_eq!(
            parse(&d, "-2.5e3").unwrap(),
            json!({"prefix": "x", "ratio": -2500.0})
        );
        for bad in ["nan", "NaN", "inf", "-infinity", "x", "1e999"] {
            assert_eq!(
                err(&d, bad),
                format!("invalid value '{bad}' for <ratio:float>: expected a finite number")
            );
        }
    }

    #[test]
    fn choice_args() {
        let d = decl("x", vec![choices("mode", &["fast", "slow"])]);
        assert_eq!(
            parse(&d, "fast").unwrap(),
            json!({"prefix": "x", "mode": "fast"})
        );
        assert_eq!(
            parse(&d, "mode=slow").unwrap(),
            json!({"prefix": "x", "mode": "slow"})
        );
        assert_eq!(
            err(&d, "Fast"),
            "invalid value 'Fast' for <mode:fast|slow>: expected one of: fast, slow"
        );
    }

    #[test]
    fn strings_and_goodchars() {
        let d = decl("x", vec![goodchars("image", "[A-Za-z0-9-_.]")]);
        assert_eq!(
            parse(&d, "my-image_1.raw").unwrap(),
            json!({"prefix": "x", "image": "my-image_1.raw"})
        );
        assert_eq!(
            err(&d, "a/b"),
            "invalid value 'a/b' for <image>: character '/' is not allowed; expected only \
             characters in [A-Za-z0-9-_.]"
        );
        let d = decl("x", vec![arg("s", ArgType::CephString)]);
        assert_eq!(
            parse(&d, "anything/at:all").unwrap(),
            json!({"prefix": "x", "s": "anything/at:all"})
        );
        let d = decl("x", vec![arg("pool", ArgType::CephPoolname)]);
        assert_eq!(
            err(&d, "pool="),
            "invalid value '' for <pool>: expected a non-empty pool name"
        );
        let d = decl("x", vec![arg("oid", ArgType::CephObjectname)]);
        assert_eq!(
            err(&d, "oid="),
            "invalid value '' for <oid>: expected a non-empty object name"
        );
    }

    #[test]
    fn char_classes() {
        let c = CharClass::parse("A-Za-z0-9-_.").unwrap();
        for ch in ['a', 'Z', '5', '-', '_', '.'] {
            assert!(c.matches(ch), "{ch}");
        }
        for ch in ['/', ' ', 'é', ','] {
            assert!(!c.matches(ch), "{ch}");
        }
        let c = CharClass::parse("-a").unwrap();
        assert!(c.matches('-') && c.matches('a') && !c.matches('b'));
        let c = CharClass::parse("a-").unwrap();
        assert!(c.matches('-') && c.matches('a') && !c.matches('b'));
        let c = CharClass::parse("^0-9").unwrap();
        assert!(c.matches('a') && !c.matches('3'));
        let c = CharClass::parse(r"\d\-\]").unwrap();
        assert!(c.matches('7') && c.matches('-') && c.matches(']') && !c.matches('a'));
        let c = CharClass::parse(r"\w").unwrap();
        assert!(c.matches('_') && c.matches('x') && !c.matches('-'));
        assert!(CharClass::parse(r"a\").is_err());
        assert!(CharClass::parse("9-0").is_err());
        assert!(CharClass::parse("[]").is_err());
    }

    #[test]
    fn osd_names() {
        let d = decl("x", vec![arg("id", ArgType::CephOsdName)]);
        for (input, want) in [("osd.0", "osd.0"), ("12", "osd.12"), ("osd.007", "osd.7")] {
            assert_eq!(
                parse(&d, input).unwrap(),
                json!({"prefix": "x", "id": want}),
                "{input}"
            );
        }
        for bad in [
            "osd.",
            "osd.-1",
            "-1",
            "mon.a",
            "osd.1a",
            "+3",
            "osd.99999999999",
        ] {
            assert_eq!(
                err(&d, bad),
                format!(
                    "invalid value '{bad}' for <id>: expected osd.<id> or <id>, id a non-negative \
                     integer"
                )
            );
        }
    }

    #[test]
    fn pgids() {
        let d = decl("x", vec![arg("pgid", ArgType::CephPgid)]);
        for (input, want) in [
            ("1.0", "1.0"),
            ("2.1f", "2.1f"),
            ("2.1F", "2.1f"),
            ("10.ffffffff", "10.ffffffff"),
        ] {
            assert_eq!(
                parse(&d, input).unwrap(),
                json!({"prefix": "x", "pgid": want}),
                "{input}"
            );
        }
        for bad in [
            "1",
            "1.",
            ".0",
            "a.0",
            "1.g",
            "-1.0",
            "1.0.0",
            "1.123456789",
            "1.+f",
        ] {
            assert!(
                err(&d, bad).starts_with(&format!(
                    "invalid value '{bad}' for <pgid>: expected <pool>.<seed>"
                )),
                "{bad}"
            );
        }
    }
}
