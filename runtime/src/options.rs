//! Ceph's typed module options: declarations checked once, values checked on every set.
//!
//! A module declares its options ([`OptionDecl`]); the host builds an [`OptionSet`] from them
//! plus the built-in [`LOG_LEVEL`] option every module gets. Values reach an option two ways and
//! both end in the same check of type, range and allowed values: an operator's text
//! (`wasmgr config set mgr/hello/place Mars`, [`OptionSet::parse`]) and a guest's typed value
//! (`set-module-option`, [`OptionSet::check`]). Values are persisted as canonical text
//! ([`to_stored`]) and read back with [`OptionSet::from_stored`].

use std::cmp::Ordering;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use thiserror::Error;

use crate::bindings::{ErrorCode, Level, OptionDecl, OptionType, OptionValue};

/// The option every module has: its log level, as in ceph-mgr.
pub const LOG_LEVEL: &str = "log_level";

/// The built-in option that also writes the module's log lines to a file of its own.
pub const LOG_TO_FILE: &str = "log_to_file";
/// The built-in option that also sends the module's log lines to the cluster log.
pub const LOG_TO_CLUSTER: &str = "log_to_cluster";
/// The lowest level of the lines [`LOG_TO_CLUSTER`] sends.
pub const LOG_TO_CLUSTER_LEVEL: &str = "log_to_cluster_level";
/// Every built-in option: ceph-mgr gives each module these four.
pub const BUILT_IN: [&str; 4] = [LOG_LEVEL, LOG_TO_FILE, LOG_TO_CLUSTER, LOG_TO_CLUSTER_LEVEL];

/// The values [`LOG_LEVEL`] accepts; empty means "derived from the daemon's `debug_mgr`".
pub const LOG_LEVELS: [&str; 6] = ["info", "debug", "critical", "error", "warning", ""];

/// An option value that does not fit, an option that does not exist, or a declaration that is
/// wrong. The message reads `mgr/<module>/<option>: <problem>`.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("mgr/{module}/{}: {problem}", crate::sanitize::quote(name))]
pub struct OptionError {
    /// The module the option belongs to.
    pub module: String,
    /// The option's name, as given.
    pub name: String,
    /// What is wrong.
    pub problem: OptionProblem,
}

impl OptionError {
    /// The WIT error code a guest gets for this error.
    pub fn error_code(&self) -> ErrorCode {
        match self.problem {
            OptionProblem::Undeclared { .. } => ErrorCode::NotFound,
            OptionProblem::OutOfRange { .. } | OptionProblem::NotAllowed { .. } => {
                ErrorCode::OutOfRange
            }
            OptionProblem::TooLong { .. } => ErrorCode::TooBig,
            _ => ErrorCode::Invalid,
        }
    }
}

/// What is wrong with an option, a value or a declaration. Each message says what would fit.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum OptionProblem {
    /// The module declares no option of that name.
    #[error("no such option; the module's options are: {declared}")]
    Undeclared {
        /// The declared names, comma separated.
        declared: String,
    },
    /// The value is not of the option's type.
    #[error(
        "{} is not a valid {ty} value: expected {expected}",
        crate::sanitize::quote(value)
    )]
    Invalid {
        /// The value given (strings quoted).
        value: String,
        /// The option's type (`int`, `secs`, …).
        ty: &'static str,
        /// What the type accepts.
        expected: &'static str,
    },
    /// A numeric value outside the declared `min`..`max`.
    #[error(
        "{} is out of range: must be {bounds} ({ty})",
        crate::sanitize::quote(value)
    )]
    OutOfRange {
        /// The value given.
        value: String,
        /// `between 1 and 10`, `at least 1` or `at most 10`.
        bounds: String,
        /// The option's type.
        ty: &'static str,
    },
    /// A value not among the declared `enum_allowed`.
    #[error(
        "{} is not allowed: must be one of: {allowed}",
        crate::sanitize::quote(value)
    )]
    NotAllowed {
        /// The value given.
        value: String,
        /// The allowed values, comma separated.
        allowed: String,
    },
    /// A value longer than [`crate::limits::OPTION_VALUE_BYTES`].
    #[error(
        "a value of {len} bytes is over the limit of {} bytes per option value; keep large \
         data in the module's store",
        crate::limits::OPTION_VALUE_BYTES
    )]
    TooLong {
        /// The value's length in bytes.
        len: usize,
    },
    /// A declared name that is not `[a-z_][a-z0-9_]*`.
    #[error(
        "invalid option name: use lower-case letters, digits and '_', not starting with a digit"
    )]
    BadName,
    /// The same name declared twice.
    #[error("declared twice; option names must be unique")]
    Duplicate,
    /// A module declaring the built-in `log_level`.
    #[error("log_level is built in to every module; remove it from the module's options")]
    BuiltIn,
    /// `min` or `max` on a type without an order.
    #[error("min and max are only allowed on int, uint, float, secs and size options, not {ty}")]
    BoundsNotAllowed {
        /// The option's type.
        ty: &'static str,
    },
    /// `min` greater than `max`.
    #[error("min {min} is greater than max {max}; swap or fix them")]
    MinAboveMax {
        /// The declared minimum.
        min: String,
        /// The declared maximum.
        max: String,
    },
    /// A declared `default`, `min`, `max` or `enum_allowed` entry that does not fit the option.
    #[error("the declared {field} does not fit the option: {problem}")]
    BadDecl {
        /// `default`, `min`, `max` or `enum_allowed`.
        field: &'static str,
        /// Why it does not fit.
        problem: Box<OptionProblem>,
    },
}

/// One checked option: its declaration with `default`, `min` and `max` converted to the kind
/// the type carries, and its allowed values in canonical text.
#[derive(Debug, Clone)]
struct Checked {
    decl: OptionDecl,
    allowed: Vec<String>,
}

/// A module's options, declarations checked.
#[derive(Debug, Clone)]
pub struct OptionSet {
    module: String,
    /// In declared order, the built-in `log_level` last.
    options: Vec<Checked>,
}

impl OptionSet {
    /// Checks `decls` of `module` and adds the built-in `log_level` option.
    pub fn new(module: &str, decls: Vec<OptionDecl>) -> Result<Self, OptionError> {
        let mut options: Vec<Checked> = Vec::with_capacity(decls.len() + 1);
        for decl in decls {
            let name = decl.name.clone();
            let fail = |problem| OptionError {
                module: module.to_owned(),
                name: name.clone(),
                problem,
            };
            if !is_option_name(&decl.name) {
                return Err(fail(OptionProblem::BadName));
            }
            if BUILT_IN.contains(&decl.name.as_str()) {
                return Err(fail(OptionProblem::BuiltIn));
            }
            if options.iter().any(|o| o.decl.name == decl.name) {
                return Err(fail(OptionProblem::Duplicate));
            }
            options.push(check_decl(decl).map_err(fail)?);
        }
        for decl in built_in_decls() {
            let name = decl.name.clone();
            options.push(check_decl(decl).map_err(|problem| OptionError {
                module: module.to_owned(),
                name,
                problem,
            })?);
        }
        Ok(Self {
            module: module.to_owned(),
            options,
        })
    }

    /// The module these options belong to.
    pub fn module(&self) -> &str {
        &self.module
    }

    /// The declaration of `name`, its `default`, `min` and `max` in the type's canonical kind
    /// (a float option's integer default is a float here).
    pub fn decl(&self, name: &str) -> Option<&OptionDecl> {
        self.find(name).map(|o| &o.decl)
    }

    /// The default of `name`, if it is declared and has one.
    pub fn default(&self, name: &str) -> Option<OptionValue> {
        self.find(name).and_then(|o| o.decl.default.clone())
    }

    /// The option names, in declared order, `log_level` last.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.options.iter().map(|o| o.decl.name.as_str())
    }

    /// The declarations, in declared order, `log_level` last.
    pub fn iter(&self) -> impl Iterator<Item = &OptionDecl> {
        self.options.iter().map(|o| &o.decl)
    }

    /// The operator path: parses `text` per the option's type, then checks it as [`Self::check`].
    pub fn parse(&self, name: &str, text: &str) -> Result<OptionValue, OptionError> {
        let option = self.get(name)?;
        if text.len() > crate::limits::OPTION_VALUE_BYTES {
            return Err(self.error(name, OptionProblem::TooLong { len: text.len() }));
        }
        let value = parse_text(option.decl.type_, text).map_err(|p| self.error(name, p))?;
        self.check_value(option, value)
            .map_err(|p| self.error(name, p))
    }

    /// The guest path: checks a typed value against the option's type, range and allowed
    /// values, and returns it in the type's canonical kind.
    ///
    /// An int is accepted for a float option; a string for a non-string option is parsed as
    /// operator text would be, as ceph-mgr converts strings.
    pub fn check(&self, name: &str, value: &OptionValue) -> Result<OptionValue, OptionError> {
        let option = self.get(name)?;
        if let OptionValue::Str(text) = value
            && text.len() > crate::limits::OPTION_VALUE_BYTES
        {
            return Err(self.error(name, OptionProblem::TooLong { len: text.len() }));
        }
        let value = coerce(option.decl.type_, value).map_err(|p| self.error(name, p))?;
        self.check_value(option, value)
            .map_err(|p| self.error(name, p))
    }

    /// Reads a persisted value back into its typed form.
    ///
    /// The value is checked again: the module's declaration may have changed since it was
    /// stored. On an error the caller should fall back to the default.
    pub fn from_stored(&self, name: &str, stored: &str) -> Result<OptionValue, OptionError> {
        self.parse(name, stored)
    }

    fn find(&self, name: &str) -> Option<&Checked> {
        self.options.iter().find(|o| o.decl.name == name)
    }

    fn get(&self, name: &str) -> Result<&Checked, OptionError> {
        self.find(name).ok_or_else(|| {
            self.error(
                name,
                OptionProblem::Undeclared {
                    declared: self.names().collect::<Vec<_>>().join(", "),
                },
            )
        })
    }

    fn error(&self, name: &str, problem: OptionProblem) -> OptionError {
        OptionError {
            module: self.module.clone(),
            name: name.to_owned(),
            problem,
        }
    }

    fn check_value(
        &self,
        option: &Checked,
        value: OptionValue,
    ) -> Result<OptionValue, OptionProblem> {
        check_bounds(&option.decl, &value)?;
        check_allowed(option, &value)?;
        Ok(value)
    }
}

/// Checks the sizes of an option declaration against the declaration limits of
/// [`crate::limits`], before anything else looks at it.
pub fn check_sizes(decl: &OptionDecl) -> Result<(), String> {
    use crate::limits;
    let name = crate::sanitize::quote(&decl.name);
    if decl.name.len() > limits::NAME_BYTES {
        return Err(format!(
            "option '{name}': the name is over the limit of {} bytes",
            limits::NAME_BYTES
        ));
    }
    if decl.desc.len() > limits::DESC_BYTES || decl.long_desc.len() > limits::LONG_DESC_BYTES {
        return Err(format!(
            "option '{name}': the description is over the limit of {} bytes (long description: {})",
            limits::DESC_BYTES,
            limits::LONG_DESC_BYTES
        ));
    }
    if decl.enum_allowed.len() > limits::ENUM_ALLOWED
        || decl
            .enum_allowed
            .iter()
            .any(|v| v.len() > limits::CHOICE_BYTES)
    {
        return Err(format!(
            "option '{name}': at most {} allowed values of at most {} bytes each",
            limits::ENUM_ALLOWED,
            limits::CHOICE_BYTES
        ));
    }
    let long = |v: &Option<OptionValue>| matches!(v, Some(OptionValue::Str(s)) if s.len() > limits::OPTION_VALUE_BYTES);
    if long(&decl.default) || long(&decl.min) || long(&decl.max) {
        return Err(format!(
            "option '{name}': a declared value is over the limit of {} bytes",
            limits::OPTION_VALUE_BYTES
        ));
    }
    Ok(())
}

/// The canonical text of a value, as persisted: `true`/`false`, decimal integers, floats in
/// Rust's shortest round-tripping form, strings as they are.
pub fn to_stored(value: &OptionValue) -> String {
    match value {
        OptionValue::Str(s) => s.clone(),
        OptionValue::Int(i) => i.to_string(),
        OptionValue::Float(f) => f.to_string(),
        OptionValue::Bool(b) => b.to_string(),
    }
}

/// The name of an option type, as Ceph spells it.
pub fn type_name(ty: OptionType) -> &'static str {
    match ty {
        OptionType::Str => "str",
        OptionType::Int => "int",
        OptionType::Uint => "uint",
        OptionType::Float => "float",
        OptionType::Bool => "bool",
        OptionType::Secs => "secs",
        OptionType::Size => "size",
        OptionType::Addr => "addr",
        OptionType::Uuid => "uuid",
    }
}

/// The type of an option with its constraints, for messages and `module info`:
/// `int, 1..10`, `float, >= 0`, `str, one of: fast, slow`.
pub fn describe_type(decl: &OptionDecl) -> String {
    let mut out = type_name(decl.type_).to_owned();
    match (&decl.min, &decl.max) {
        (Some(min), Some(max)) => {
            out.push_str(&format!(", {}..{}", to_stored(min), to_stored(max)))
        }
        (Some(min), None) => out.push_str(&format!(", >= {}", to_stored(min))),
        (None, Some(max)) => out.push_str(&format!(", <= {}", to_stored(max))),
        (None, None) => {}
    }
    if !decl.enum_allowed.is_empty() {
        out.push_str(", one of: ");
        out.push_str(&list_allowed(&decl.enum_allowed));
    }
    // Shown to operators: the module's words, on one line.
    crate::sanitize::line(&out, crate::limits::OPTION_VALUE_BYTES)
}

/// The level below which a module's log lines are dropped, as ceph-mgr maps it.
///
/// A non-empty `log_level` option wins (`debug` … `critical`). An empty one is derived from
/// the daemon's `debug_mgr` (`"2/5"`: the number before `/`, 0 if unparsable): 0 or less is
/// critical, 1 warning, up to 4 info, above that debug.
pub fn log_level_filter(log_level: &str, daemon_debug_mgr: &str) -> Level {
    match log_level.to_ascii_lowercase().as_str() {
        "debug" => return Level::Debug,
        "info" => return Level::Info,
        "warning" => return Level::Warning,
        "error" => return Level::Error,
        "critical" => return Level::Critical,
        _ => {}
    }
    let ceph_level: i64 = daemon_debug_mgr
        .split('/')
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    match ceph_level {
        ..=0 => Level::Critical,
        1 => Level::Warning,
        2..=4 => Level::Info,
        _ => Level::Debug,
    }
}

/// The built-in options, as ceph-mgr declares them for every module.
fn built_in_decls() -> Vec<OptionDecl> {
    let flag = |name: &str, desc: &str| OptionDecl {
        name: name.to_owned(),
        type_: OptionType::Bool,
        default: Some(OptionValue::Bool(false)),
        min: None,
        max: None,
        enum_allowed: Vec::new(),
        desc: desc.to_owned(),
        long_desc: String::new(),
        runtime: true,
    };
    vec![
        log_level_decl(),
        flag(
            LOG_TO_FILE,
            "also write the module's log lines to <data>/log/<module>.log",
        ),
        flag(
            LOG_TO_CLUSTER,
            "also send the module's log lines to the cluster log",
        ),
        OptionDecl {
            name: LOG_TO_CLUSTER_LEVEL.to_owned(),
            default: Some(OptionValue::Str("info".to_owned())),
            enum_allowed: LOG_LEVELS[..5].iter().map(|s| s.to_string()).collect(),
            desc: "the lowest level of the lines log_to_cluster sends".to_owned(),
            ..log_level_decl()
        },
    ]
}

fn log_level_decl() -> OptionDecl {
    OptionDecl {
        name: LOG_LEVEL.to_owned(),
        type_: OptionType::Str,
        default: Some(OptionValue::Str(String::new())),
        min: None,
        max: None,
        enum_allowed: LOG_LEVELS.iter().map(|s| s.to_string()).collect(),
        desc: "the module's log level; empty means derived from the daemon's level".to_owned(),
        long_desc: String::new(),
        runtime: true,
    }
}

fn is_option_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_lowercase() || b == b'_')
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn is_numeric(ty: OptionType) -> bool {
    matches!(
        ty,
        OptionType::Int
            | OptionType::Uint
            | OptionType::Float
            | OptionType::Secs
            | OptionType::Size
    )
}

/// Checks one declaration (name checks aside) and converts its values to canonical kinds.
fn check_decl(mut decl: OptionDecl) -> Result<Checked, OptionProblem> {
    let ty = decl.type_;
    let bad = |field| {
        move |problem| OptionProblem::BadDecl {
            field,
            problem: Box::new(problem),
        }
    };
    if (decl.min.is_some() || decl.max.is_some()) && !is_numeric(ty) {
        return Err(OptionProblem::BoundsNotAllowed { ty: type_name(ty) });
    }
    decl.min = decl
        .min
        .as_ref()
        .map(|v| coerce(ty, v))
        .transpose()
        .map_err(bad("min"))?;
    decl.max = decl
        .max
        .as_ref()
        .map(|v| coerce(ty, v))
        .transpose()
        .map_err(bad("max"))?;
    if let (Some(min), Some(max)) = (&decl.min, &decl.max)
        && compare(min, max) == Some(Ordering::Greater)
    {
        return Err(OptionProblem::MinAboveMax {
            min: to_stored(min),
            max: to_stored(max),
        });
    }
    let allowed = decl
        .enum_allowed
        .iter()
        .map(|text| parse_text(ty, text).map(|v| to_stored(&v)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad("enum_allowed"))?;
    let mut checked = Checked { decl, allowed };
    if let Some(default) = &checked.decl.default {
        let default = coerce(ty, default)
            .and_then(|v| {
                check_bounds(&checked.decl, &v)?;
                check_allowed(&checked, &v)?;
                Ok(v)
            })
            .map_err(bad("default"))?;
        checked.decl.default = Some(default);
    }
    Ok(checked)
}

fn check_bounds(decl: &OptionDecl, value: &OptionValue) -> Result<(), OptionProblem> {
    let below = decl
        .min
        .as_ref()
        .is_some_and(|min| compare(value, min) == Some(Ordering::Less));
    let above = decl
        .max
        .as_ref()
        .is_some_and(|max| compare(value, max) == Some(Ordering::Greater));
    if !below && !above {
        return Ok(());
    }
    let bounds = match (&decl.min, &decl.max) {
        (Some(min), Some(max)) => format!("between {} and {}", to_stored(min), to_stored(max)),
        (Some(min), None) => format!("at least {}", to_stored(min)),
        (None, Some(max)) => format!("at most {}", to_stored(max)),
        (None, None) => String::new(),
    };
    Err(OptionProblem::OutOfRange {
        value: display_value(value),
        bounds,
        ty: type_name(decl.type_),
    })
}

fn check_allowed(option: &Checked, value: &OptionValue) -> Result<(), OptionProblem> {
    if option.allowed.is_empty() || option.allowed.contains(&to_stored(value)) {
        return Ok(());
    }
    Err(OptionProblem::NotAllowed {
        value: display_value(value),
        allowed: list_allowed(&option.decl.enum_allowed),
    })
}

fn list_allowed(allowed: &[String]) -> String {
    allowed
        .iter()
        .map(|v| if v.is_empty() { "\"\"" } else { v.as_str() })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Orders two values of the same option; ints and floats compare as numbers.
fn compare(a: &OptionValue, b: &OptionValue) -> Option<Ordering> {
    match (a, b) {
        (OptionValue::Int(a), OptionValue::Int(b)) => Some(a.cmp(b)),
        (OptionValue::Float(a), OptionValue::Float(b)) => a.partial_cmp(b),
        (OptionValue::Int(a), OptionValue::Float(b)) => (*a as f64).partial_cmp(b),
        (OptionValue::Float(a), OptionValue::Int(b)) => a.partial_cmp(&(*b as f64)),
        _ => None,
    }
}

/// A value for messages: strings quoted, everything else as stored.
fn display_value(value: &OptionValue) -> String {
    match value {
        OptionValue::Str(s) => format!("'{s}'"),
        other => to_stored(other),
    }
}

/// What each type accepts, for messages.
fn expected(ty: OptionType) -> &'static str {
    match ty {
        OptionType::Str => "a string",
        OptionType::Int => "an integer",
        OptionType::Uint => "a non-negative integer",
        OptionType::Float => "a finite number",
        OptionType::Bool => "true/false, yes/no, on/off or 1/0",
        OptionType::Secs => "whole seconds, optionally with a suffix s, m, h or d (10m = 600)",
        OptionType::Size => {
            "a size in bytes, optionally with a suffix K, M, G or T (powers of 1024; 4K = 4096, \
             also 4KB, 4KiB)"
        }
        OptionType::Addr => "an IP address, IP:port, [IPv6]:port or v2:IP:port/nonce",
        OptionType::Uuid => "a UUID: 8-4-4-4-12 hex digits",
    }
}

fn invalid(ty: OptionType, value: String) -> OptionProblem {
    OptionProblem::Invalid {
        value,
        ty: type_name(ty),
        expected: expected(ty),
    }
}

/// Converts a typed value to the kind `ty` carries: an int for a float option becomes a float,
/// a string for a non-string option is parsed; anything else of the wrong kind is refused.
fn coerce(ty: OptionType, value: &OptionValue) -> Result<OptionValue, OptionProblem> {
    let refuse = || invalid(ty, display_value(value));
    match (ty, value) {
        (_, OptionValue::Str(s)) => parse_text(ty, s),
        (OptionType::Int | OptionType::Secs | OptionType::Size, OptionValue::Int(i)) => {
            if ty == OptionType::Size && *i < 0 {
                Err(refuse())
            } else {
                Ok(OptionValue::Int(*i))
            }
        }
        (OptionType::Uint, OptionValue::Int(i)) if *i >= 0 => Ok(OptionValue::Int(*i)),
        (OptionType::Float, OptionValue::Int(i)) => Ok(OptionValue::Float(*i as f64)),
        (OptionType::Float, OptionValue::Float(f)) if f.is_finite() => Ok(OptionValue::Float(*f)),
        (OptionType::Bool, OptionValue::Bool(b)) => Ok(OptionValue::Bool(*b)),
        _ => Err(refuse()),
    }
}

/// Parses operator text per the option's type, without range or allowed-value checks.
fn parse_text(ty: OptionType, text: &str) -> Result<OptionValue, OptionProblem> {
    let refuse = || invalid(ty, format!("'{text}'"));
    // Strings are taken as they are; every other type ignores surrounding whitespace.
    let t = text.trim();
    match ty {
        OptionType::Str => Ok(OptionValue::Str(text.to_owned())),
        OptionType::Int => t.parse().map(OptionValue::Int).map_err(|_| refuse()),
        OptionType::Uint => parse_digits(t).map(OptionValue::Int).ok_or_else(refuse),
        OptionType::Float => t
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(OptionValue::Float)
            .ok_or_else(refuse),
        OptionType::Bool => match t.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(OptionValue::Bool(true)),
            "false" | "no" | "off" | "0" => Ok(OptionValue::Bool(false)),
            _ => Err(refuse()),
        },
        OptionType::Secs => parse_secs(t).map(OptionValue::Int).ok_or_else(refuse),
        OptionType::Size => parse_size(t).map(OptionValue::Int).ok_or_else(refuse),
        OptionType::Addr => {
            if is_addr(t) {
                Ok(OptionValue::Str(t.to_owned()))
            } else {
                Err(refuse())
            }
        }
        OptionType::Uuid => {
            if is_uuid(t) {
                Ok(OptionValue::Str(t.to_ascii_lowercase()))
            } else {
                Err(refuse())
            }
        }
    }
}

/// A non-negative decimal integer that fits an `s64`, digits only.
fn parse_digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `30`, `30s`, `10m`, `2h`, `1d`, in seconds. A negative count is allowed, as Ceph's `secs`
/// is a signed duration.
fn parse_secs(text: &str) -> Option<i64> {
    let (number, unit) = match text.char_indices().last()? {
        (i, 's') => (&text[..i], 1),
        (i, 'm') => (&text[..i], 60),
        (i, 'h') => (&text[..i], 3600),
        (i, 'd') => (&text[..i], 86_400),
        _ => (text, 1),
    };
    let (negative, digits) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let n = parse_digits(digits)?.checked_mul(unit)?;
    Some(if negative { -n } else { n })
}

/// `4096`, `4K`, `4KB`, `4KiB`, `1g` … in bytes (powers of 1024, case-insensitive).
fn parse_size(text: &str) -> Option<i64> {
    let lower = text.to_ascii_lowercase();
    let digits_end = lower
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(lower.len());
    let (digits, suffix) = lower.split_at(digits_end);
    let shift = match suffix {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return None,
    };
    parse_digits(digits)?.checked_mul(1_i64 << shift)
}

/// An IP, `IP:port`, `[IPv6]`, `[IPv6]:port`, each optionally typed (`v1:`, `v2:`, `any:`)
/// and with a `/nonce`, or Ceph's address vector `[v2:IP:port/nonce,v1:IP:port/nonce]`.
fn is_addr(text: &str) -> bool {
    if let Some(inner) = text.strip_prefix('[').and_then(|s| s.strip_suffix(']'))
        && inner.parse::<Ipv6Addr>().is_err()
    {
        return !inner.is_empty()
            && inner
                .split(',')
                .all(|a| addr_type(a).is_some_and(is_plain_addr));
    }
    is_plain_addr(addr_type(text).unwrap_or(text))
}

/// The address after a Ceph address type prefix, if it has one.
fn addr_type(text: &str) -> Option<&str> {
    ["v1:", "v2:", "any:"]
        .iter()
        .find_map(|p| text.strip_prefix(p))
}

fn is_plain_addr(text: &str) -> bool {
    let addr = match text.rsplit_once('/') {
        Some((addr, nonce)) => {
            if parse_digits(nonce).is_none_or(|n| u32::try_from(n).is_err()) {
                return false;
            }
            addr
        }
        None => text,
    };
    addr.parse::<IpAddr>().is_ok()
        || addr.parse::<SocketAddr>().is_ok()
        || addr
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .is_some_and(|v6| v6.parse::<Ipv6Addr>().is_ok())
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt(name: &str, type_: OptionType) -> OptionDecl {
        OptionDecl {
            name: name.into(),
            type_,
            default: None,
            min: None,
            max: None,
            enum_allowed: Vec::new(),
            desc: String::new(),
            long_desc: String::new(),
            runtime: true,
        }
    }

    fn set(decls: Vec<OptionDecl>) -> OptionSet {
        OptionSet::new("hello", decls).unwrap()
    }

    fn one(type_: OptionType) -> OptionSet {
        set(vec![opt("o", type_)])
    }

    /// The parsed value in stored form, or the error message.
    fn parsed(s: &OptionSet, text: &str) -> Result<String, String> {
        s.parse("o", text)
            .map(|v| to_stored(&v))
            .map_err(|e| e.to_string())
    }

    fn checked(s: &OptionSet, value: OptionValue) -> Result<String, String> {
        s.check("o", &value)
            .map(|v| to_stored(&v))
            .map_err(|e| e.to_string())
    }

    fn kind(v: &OptionValue) -> &'static str {
        match v {
            OptionValue::Str(_) => "str",
            OptionValue::Int(_) => "int",
            OptionValue::Float(_) => "float",
            OptionValue::Bool(_) => "bool",
        }
    }

    #[test]
    fn strings() {
        let s = one(OptionType::Str);
        assert_eq!(parsed(&s, " Mars "), Ok(" Mars ".into()));
        assert_eq!(parsed(&s, ""), Ok("".into()));
        assert_eq!(checked(&s, OptionValue::Str("x".into())), Ok("x".into()));
        assert_eq!(
            checked(&s, OptionValue::Int(3)),
            Err("mgr/hello/o: 3 is not a valid str value: expected a string".into())
        );
    }

    #[test]
    fn ints() {
        let s = one(OptionType::Int);
        assert_eq!(parsed(&s, "-42"), Ok("-42".into()));
        assert_eq!(parsed(&s, " 7 "), Ok("7".into()));
        for bad in ["4.5", "abc", "", "99999999999999999999", "4K"] {
            assert_eq!(
                parsed(&s, bad),
                Err(format!(
                    "mgr/hello/o: '{bad}' is not a valid int value: expected an integer"
                )),
            );
        }
        assert_eq!(checked(&s, OptionValue::Int(5)), Ok("5".into()));
        assert_eq!(checked(&s, OptionValue::Str("6".into())), Ok("6".into()));
        assert!(checked(&s, OptionValue::Float(5.0)).is_err());
        assert!(checked(&s, OptionValue::Bool(true)).is_err());
    }

    #[test]
    fn uints() {
        let s = one(OptionType::Uint);
        assert_eq!(parsed(&s, "0"), Ok("0".into()));
        assert_eq!(parsed(&s, "12"), Ok("12".into()));
        assert_eq!(
            parsed(&s, "-1"),
            Err(
                "mgr/hello/o: '-1' is not a valid uint value: expected a non-negative integer"
                    .into()
            )
        );
        assert!(parsed(&s, "+1").is_err());
        assert!(checked(&s, OptionValue::Int(-1)).is_err());
        assert_eq!(checked(&s, OptionValue::Int(1)), Ok("1".into()));
    }

    #[test]
    fn floats() {
        let s = one(OptionType::Float);
        assert_eq!(parsed(&s, "0.5"), Ok("0.5".into()));
        assert_eq!(parsed(&s, "1e3"), Ok("1000".into()));
        for bad in ["nan", "inf", "-infinity", "x", "1e999"] {
            assert!(parsed(&s, bad).is_err(), "{bad}");
        }
        let v = s.check("o", &OptionValue::Int(2)).unwrap();
        assert_eq!((kind(&v), to_stored(&v)), ("float", "2".to_string()));
        assert!(checked(&s, OptionValue::Float(f64::NAN)).is_err());
        assert!(checked(&s, OptionValue::Float(f64::INFINITY)).is_err());
        assert_eq!(
            checked(&s, OptionValue::Str("2.5".into())),
            Ok("2.5".into())
        );
    }

    #[test]
    fn bools() {
        let s = one(OptionType::Bool);
        for yes in ["true", "TRUE", "yes", "on", "1", "On"] {
            assert_eq!(parsed(&s, yes), Ok("true".into()), "{yes}");
        }
        for no in ["false", "no", "off", "0", "No"] {
            assert_eq!(parsed(&s, no), Ok("false".into()), "{no}");
        }
        assert_eq!(
            parsed(&s, "maybe"),
            Err(
                "mgr/hello/o: 'maybe' is not a valid bool value: expected true/false, yes/no, \
                 on/off or 1/0"
                    .into()
            )
        );
        assert!(checked(&s, OptionValue::Int(1)).is_err());
        assert_eq!(checked(&s, OptionValue::Bool(false)), Ok("false".into()));
    }

    #[test]
    fn secs() {
        let s = one(OptionType::Secs);
        for (text, want) in [
            ("30", 30),
            ("30s", 30),
            ("10m", 600),
            ("2h", 7200),
            ("1d", 86_400),
            ("-1", -1),
        ] {
            assert_eq!(parsed(&s, text), Ok(want.to_string()), "{text}");
        }
        for bad in ["", "m", "10x", "1.5h", "10 m", "99999999999999999d"] {
            assert!(parsed(&s, bad).is_err(), "{bad}");
        }
        assert_eq!(checked(&s, OptionValue::Str("1m".into())), Ok("60".into()));
    }

    #[test]
    fn sizes() {
        let s = one(OptionType::Size);
        for (text, want) in [
            ("100", 100),
            ("100B", 100),
            ("4K", 4096),
            ("4k", 4096),
            ("4KB", 4096),
            ("4KiB", 4096),
            ("2M", 2 << 20),
            ("1gib", 1 << 30),
            ("1T", 1_i64 << 40),
        ] {
            assert_eq!(parsed(&s, text), Ok(want.to_string()), "{text}");
        }
        for bad in ["", "K", "-1", "1.5K", "4X", "4iB", "9999999999T"] {
            assert!(parsed(&s, bad).is_err(), "{bad}");
        }
        assert!(checked(&s, OptionValue::Int(-1)).is_err());
    }

    #[test]
    fn addrs() {
        let s = one(OptionType::Addr);
        for good in [
            "10.0.0.1",
            "10.0.0.1:6789",
            "::1",
            "[::1]",
            "[::1]:3300",
            "v2:10.0.0.1:3300/0",
            "v1:10.0.0.1:6789/12345",
            "10.0.0.1:0/123",
            "any:[fe80::1]:3300/0",
            "[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0]",
        ] {
            assert_eq!(parsed(&s, good), Ok(good.into()), "{good}");
        }
        for bad in [
            "",
            "host.example",
            "10.0.0.1:99999",
            "10.0.0.256",
            "v3:10.0.0.1",
            "10.0.0.1/x",
            "[]",
            "[10.0.0.1]",
        ] {
            assert!(parsed(&s, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn uuids() {
        let s = one(OptionType::Uuid);
        assert_eq!(
            parsed(&s, "0F3E7A1C-1234-4ABC-8DEF-0123456789AB"),
            Ok("0f3e7a1c-1234-4abc-8def-0123456789ab".into())
        );
        for bad in [
            "",
            "0f3e7a1c12344abc8def0123456789ab",
            "0f3e7a1c-1234-4abc-8def-0123456789a",
            "0f3e7a1g-1234-4abc-8def-0123456789ab",
        ] {
            assert!(parsed(&s, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ranges() {
        let mut count = opt("count", OptionType::Int);
        count.min = Some(OptionValue::Int(1));
        count.max = Some(OptionValue::Int(10));
        let mut ratio = opt("ratio", OptionType::Float);
        ratio.min = Some(OptionValue::Int(0));
        let mut small = opt("small", OptionType::Size);
        small.max = Some(OptionValue::Str("1K".into()));
        let s = set(vec![count, ratio, small]);
        assert!(s.check("count", &OptionValue::Int(1)).is_ok());
        assert!(s.check("count", &OptionValue::Int(10)).is_ok());
        assert_eq!(
            s.check("count", &OptionValue::Int(200))
                .unwrap_err()
                .to_string(),
            "mgr/hello/count: 200 is out of range: must be between 1 and 10 (int)"
        );
        let e = s.parse("count", "0").unwrap_err();
        assert_eq!(e.error_code(), ErrorCode::OutOfRange);
        assert_eq!(
            s.parse("ratio", "-0.5").unwrap_err().to_string(),
            "mgr/hello/ratio: -0.5 is out of range: must be at least 0 (float)"
        );
        assert_eq!(
            s.parse("small", "2K").unwrap_err().to_string(),
            "mgr/hello/small: 2048 is out of range: must be at most 1024 (size)"
        );
        assert_eq!(describe_type(s.decl("count").unwrap()), "int, 1..10");
        assert_eq!(describe_type(s.decl("ratio").unwrap()), "float, >= 0");
        assert_eq!(describe_type(s.decl("small").unwrap()), "size, <= 1024");
    }

    #[test]
    fn enums() {
        let mut mode = opt("mode", OptionType::Str);
        mode.enum_allowed = vec!["fast".into(), "slow".into()];
        mode.default = Some(OptionValue::Str("fast".into()));
        let mut level = opt("level", OptionType::Float);
        level.enum_allowed = vec!["0.5".into(), "1.0".into()];
        let s = set(vec![mode, level]);
        assert_eq!(to_stored(&s.parse("mode", "slow").unwrap()), "slow");
        let e = s.parse("mode", "medium").unwrap_err();
        assert_eq!(
            e.to_string(),
            "mgr/hello/mode: 'medium' is not allowed: must be one of: fast, slow"
        );
        assert_eq!(e.error_code(), ErrorCode::OutOfRange);
        // Allowed values compare in canonical form.
        assert!(s.check("level", &OptionValue::Int(1)).is_ok());
        assert!(s.parse("level", "0.50").is_ok());
        assert!(s.parse("level", "2").is_err());
        assert_eq!(
            describe_type(s.decl("mode").unwrap()),
            "str, one of: fast, slow"
        );
    }

    #[test]
    fn undeclared_options_list_the_declared_ones() {
        let s = set(vec![opt("place", OptionType::Str)]);
        let e = s.parse("plaec", "Mars").unwrap_err();
        assert_eq!(
            e.to_string(),
            "mgr/hello/plaec: no such option; the module's options are: place, log_level, \
             log_to_file, log_to_cluster, log_to_cluster_level"
        );
        assert_eq!(e.error_code(), ErrorCode::NotFound);
        assert!(s.check("nope", &OptionValue::Int(1)).is_err());
        assert!(s.from_stored("nope", "1").is_err());
    }

    #[test]
    fn log_level_is_built_in() {
        let s = set(Vec::new());
        assert_eq!(s.names().collect::<Vec<_>>(), BUILT_IN);
        assert_eq!(
            s.default(LOG_TO_FILE).map(|v| to_stored(&v)),
            Some("false".into())
        );
        assert_eq!(
            s.default(LOG_TO_CLUSTER_LEVEL).map(|v| to_stored(&v)),
            Some("info".into())
        );
        assert_eq!(
            s.default(LOG_LEVEL).map(|v| to_stored(&v)),
            Some(String::new())
        );
        assert!(s.decl(LOG_LEVEL).unwrap().runtime);
        assert!(s.parse(LOG_LEVEL, "debug").is_ok());
        assert!(s.parse(LOG_LEVEL, "").is_ok());
        assert_eq!(
            s.parse(LOG_LEVEL, "verbose").unwrap_err().to_string(),
            "mgr/hello/log_level: 'verbose' is not allowed: must be one of: info, debug, \
             critical, error, warning, \"\""
        );
        let e = OptionSet::new("hello", vec![opt("log_level", OptionType::Str)]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "mgr/hello/log_level: log_level is built in to every module; remove it from the \
             module's options"
        );
    }

    #[test]
    fn bad_declarations() {
        let with = |f: &dyn Fn(&mut OptionDecl), ty| {
            let mut d = opt("o", ty);
            f(&mut d);
            OptionSet::new("hello", vec![d]).unwrap_err().to_string()
        };
        assert_eq!(
            with(&|d| d.name = "Bad".into(), OptionType::Str),
            "mgr/hello/Bad: invalid option name: use lower-case letters, digits and '_', not \
             starting with a digit"
        );
        assert!(with(&|d| d.name = "1x".into(), OptionType::Str).contains("invalid option name"));
        assert_eq!(
            with(
                &|d| d.default = Some(OptionValue::Int(200)),
                OptionType::Str
            ),
            "mgr/hello/o: the declared default does not fit the option: 200 is not a valid str \
             value: expected a string"
        );
        assert_eq!(
            with(
                &|d| {
                    d.default = Some(OptionValue::Int(0));
                    d.min = Some(OptionValue::Int(1));
                },
                OptionType::Int
            ),
            "mgr/hello/o: the declared default does not fit the option: 0 is out of range: must \
             be at least 1 (int)"
        );
        assert!(
            with(
                &|d| {
                    d.default = Some(OptionValue::Str("c".into()));
                    d.enum_allowed = vec!["a".into(), "b".into()];
                },
                OptionType::Str
            )
            .contains("the declared default does not fit the option: 'c' is not allowed")
        );
        assert_eq!(
            with(
                &|d| {
                    d.min = Some(OptionValue::Int(5));
                    d.max = Some(OptionValue::Int(1));
                },
                OptionType::Int
            ),
            "mgr/hello/o: min 5 is greater than max 1; swap or fix them"
        );
        assert_eq!(
            with(&|d| d.min = Some(OptionValue::Int(1)), OptionType::Str),
            "mgr/hello/o: min and max are only allowed on int, uint, float, secs and size \
             options, not str"
        );
        assert!(
            with(&|d| d.max = Some(OptionValue::Bool(true)), OptionType::Int)
                .contains("the declared max does not fit the option")
        );
        assert!(
            with(&|d| d.enum_allowed = vec!["x".into()], OptionType::Int).contains(
                "the declared enum_allowed does not fit the option: 'x' is not a valid int"
            )
        );
        let dup = OptionSet::new(
            "hello",
            vec![opt("a", OptionType::Str), opt("a", OptionType::Int)],
        );
        assert_eq!(
            dup.unwrap_err().to_string(),
            "mgr/hello/a: declared twice; option names must be unique"
        );
    }

    #[test]
    fn defaults_are_canonical() {
        let mut f = opt("f", OptionType::Float);
        f.default = Some(OptionValue::Int(3));
        let mut size = opt("size", OptionType::Size);
        size.default = Some(OptionValue::Str("4K".into()));
        let s = set(vec![f, size, opt("none", OptionType::Int)]);
        assert_eq!(s.default("f").map(|v| kind(&v)), Some("float"));
        assert_eq!(
            s.default("size").map(|v| to_stored(&v)),
            Some("4096".into())
        );
        assert!(s.default("none").is_none());
        assert!(s.default("missing").is_none());
        assert_eq!(s.iter().count(), 3 + BUILT_IN.len());
    }

    #[test]
    fn stored_values_round_trip() {
        let decls = vec![
            opt("s", OptionType::Str),
            opt("i", OptionType::Int),
            opt("u", OptionType::Uint),
            opt("f", OptionType::Float),
            opt("b", OptionType::Bool),
            opt("secs", OptionType::Secs),
            opt("size", OptionType::Size),
            opt("a", OptionType::Addr),
            opt("id", OptionType::Uuid),
        ];
        let s = set(decls);
        let values = [
            ("s", OptionValue::Str(" with spaces, and = signs ".into())),
            ("s", OptionValue::Str(String::new())),
            ("i", OptionValue::Int(i64::MIN)),
            ("u", OptionValue::Int(i64::MAX)),
            ("f", OptionValue::Float(0.1)),
            ("f", OptionValue::Float(-1e300)),
            ("f", OptionValue::Float(1.0)),
            ("f", OptionValue::Float(5e-324)),
            ("b", OptionValue::Bool(true)),
            ("secs", OptionValue::Int(600)),
            ("size", OptionValue::Int(4096)),
            ("a", OptionValue::Str("v2:10.0.0.1:3300/0".into())),
            (
                "id",
                OptionValue::Str("0f3e7a1c-1234-4abc-8def-0123456789ab".into()),
            ),
        ];
        for (name, value) in values {
            let stored = to_stored(&value);
            let back = s.from_stored(name, &stored).unwrap();
            assert_eq!(kind(&back), kind(&value), "{name}");
            assert_eq!(to_stored(&back), stored, "{name}");
            if let (OptionValue::Float(a), OptionValue::Float(b)) = (&value, &back) {
                assert_eq!(a.to_bits(), b.to_bits());
            }
        }
        assert_eq!(to_stored(&OptionValue::Bool(false)), "false");
        assert_eq!(to_stored(&OptionValue::Float(2.5)), "2.5");
    }

    #[test]
    fn log_level_mapping() {
        assert_eq!(log_level_filter("debug", "0"), Level::Debug);
        assert_eq!(log_level_filter("info", "20/20"), Level::Info);
        assert_eq!(log_level_filter("warning", ""), Level::Warning);
        assert_eq!(log_level_filter("error", ""), Level::Error);
        assert_eq!(log_level_filter("critical", "20"), Level::Critical);
        for (debug_mgr, want) in [
            ("", Level::Critical),
            ("junk", Level::Critical),
            ("-1", Level::Critical),
            ("0/5", Level::Critical),
            ("1/5", Level::Warning),
            ("2/5", Level::Info),
            ("4", Level::Info),
            ("5/5", Level::Debug),
            ("20/20", Level::Debug),
        ] {
            assert_eq!(log_level_filter("", debug_mgr), want, "{debug_mgr}");
        }
    }
}
