//! Module options: declarations and typed values.

use std::time::Duration;

use crate::{OptionDecl, OptionType, OptionValue};

/// One option a module declares, as Ceph's `Option(...)` in `MODULE_OPTIONS`.
///
/// ```
/// use wasmgr_guest::ModuleOption;
///
/// let place = ModuleOption::str("place")
///     .default("world")
///     .desc("a place in the world")
///     .runtime();
/// let count = ModuleOption::int("count").default(3).min(1).max(10);
/// # let _ = (place, count);
/// ```
///
/// The host adds `log_level` to every module; do not declare it.
#[derive(Clone, Debug)]
pub struct ModuleOption {
    decl: OptionDecl,
}

impl ModuleOption {
    /// An option named `name` of type `type_`, with no default, bounds or description.
    pub fn new(name: impl Into<String>, type_: OptionType) -> Self {
        ModuleOption {
            decl: OptionDecl {
                name: name.into(),
                type_,
                default: None,
                min: None,
                max: None,
                enum_allowed: Vec::new(),
                desc: String::new(),
                long_desc: String::new(),
                runtime: false,
            },
        }
    }

    /// A `str` option.
    pub fn str(name: impl Into<String>) -> Self {
        Self::new(name, OptionType::Str)
    }

    /// An `int` option (a signed integer).
    pub fn int(name: impl Into<String>) -> Self {
        Self::new(name, OptionType::Int)
    }

    /// A `uint` option (an unsigned integer).
    pub fn uint(name: impl Into<String>) -> Self {
        Self::new(name, OptionType::Uint)
    }

    /// A `float` option.
    pub fn float(name: impl Into<String>) -> Self {
        Self::new(name, OptionType::Float)
    }

    /// A `bool` option.
    pub fn bool(name: impl Into<String>) -> Self {
        Self::new(name, OptionType::Bool)
    }

    /// A `secs` option: a number of seconds.
    pub fn secs(name: impl Into<String>) -> Self {
        Self::new(name, OptionType::Secs)
    }

    /// A `size` option: a number of bytes.
    pub fn size(name: impl Into<String>) -> Self {
        Self::new(name, OptionType::Size)
    }

    /// An `addr` option: a network address.
    pub fn addr(name: impl Into<String>) -> Self {
        Self::new(name, OptionType::Addr)
    }

    /// A `uuid` option.
    pub fn uuid(name: impl Into<String>) -> Self {
        Self::new(name, OptionType::Uuid)
    }

    /// The value when none is set.
    pub fn default(mut self, value: impl Into<OptionValue>) -> Self {
        self.decl.default = Some(value.into());
        self
    }

    /// The smallest allowed value (inclusive).
    pub fn min(mut self, value: impl Into<OptionValue>) -> Self {
        self.decl.min = Some(value.into());
        self
    }

    /// The largest allowed value (inclusive).
    pub fn max(mut self, value: impl Into<OptionValue>) -> Self {
        self.decl.max = Some(value.into());
        self
    }

    /// The only values allowed (Ceph's `enum_allowed`).
    pub fn enum_allowed<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> Self {
        self.decl.enum_allowed = values.into_iter().map(Into::into).collect();
        self
    }

    /// A one-line description.
    pub fn desc(mut self, desc: impl Into<String>) -> Self {
        self.decl.desc = desc.into();
        self
    }

    /// A longer description.
    pub fn long_desc(mut self, long_desc: impl Into<String>) -> Self {
        self.decl.long_desc = long_desc.into();
        self
    }

    /// A change takes effect without re-enabling the module.
    pub fn runtime(mut self) -> Self {
        self.decl.runtime = true;
        self
    }

    /// The option's name.
    pub fn name(&self) -> &str {
        &self.decl.name
    }

    /// The declaration sent to the host.
    ///
    /// Integer literals given for a `float` option (`.min(0)`) become floats, so that
    /// declarations read naturally and the host still sees one type per option.
    pub fn into_decl(mut self) -> OptionDecl {
        if self.decl.type_ == OptionType::Float {
            for value in [
                &mut self.decl.default,
                &mut self.decl.min,
                &mut self.decl.max,
            ] {
                if let Some(OptionValue::Int(i)) = value {
                    #[allow(clippy::cast_precision_loss, reason = "option bounds are small")]
                    let f = *i as f64;
                    *value = Some(OptionValue::Float(f));
                }
            }
        }
        self.decl
    }
}

impl From<&str> for OptionValue {
    fn from(s: &str) -> Self {
        OptionValue::Str(s.to_owned())
    }
}

impl From<String> for OptionValue {
    fn from(s: String) -> Self {
        OptionValue::Str(s)
    }
}

impl From<i64> for OptionValue {
    fn from(i: i64) -> Self {
        OptionValue::Int(i)
    }
}

impl From<i32> for OptionValue {
    fn from(i: i32) -> Self {
        OptionValue::Int(i.into())
    }
}

impl From<u32> for OptionValue {
    fn from(i: u32) -> Self {
        OptionValue::Int(i.into())
    }
}

impl From<f64> for OptionValue {
    fn from(f: f64) -> Self {
        OptionValue::Float(f)
    }
}

impl From<bool> for OptionValue {
    fn from(b: bool) -> Self {
        OptionValue::Bool(b)
    }
}

impl From<Duration> for OptionValue {
    /// A `secs` value: whole seconds, saturating.
    fn from(d: Duration) -> Self {
        OptionValue::Int(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }
}

impl From<OptionValue> for serde_json::Value {
    fn from(value: OptionValue) -> Self {
        match value {
            OptionValue::Str(s) => s.into(),
            OptionValue::Int(i) => i.into(),
            OptionValue::Float(f) => f.into(),
            OptionValue::Bool(b) => b.into(),
        }
    }
}

impl OptionValue {
    /// The value a JSON scalar stands for: a string, an integer, a float or a bool; `None`
    /// for anything else (null, arrays, objects, integers beyond `i64`).
    pub fn from_json(value: &serde_json::Value) -> Option<OptionValue> {
        use serde_json::Value;
        match value {
            Value::String(s) => Some(OptionValue::Str(s.clone())),
            Value::Bool(b) => Some(OptionValue::Bool(*b)),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Some(OptionValue::Int(i)),
                None if n.is_f64() => n.as_f64().map(OptionValue::Float),
                None => None,
            },
            _ => None,
        }
    }

    /// The kind of value, as error messages name it.
    pub fn kind(&self) -> &'static str {
        match self {
            OptionValue::Str(_) => "a string",
            OptionValue::Int(_) => "an integer",
            OptionValue::Float(_) => "a float",
            OptionValue::Bool(_) => "a bool",
        }
    }
}

/// A Rust type an option's value can be read as (`config::get_module_option::<T>`).
#[diagnostic::on_unimplemented(
    message = "an option's value cannot be read as `{Self}`",
    note = "use String, i64, u64, i32, u32, f64, bool, Duration (secs), OptionValue, or \
            Option<..> of these to get None when the option has no value"
)]
pub trait FromOptionValue: Sized {
    /// What error messages call the expected value.
    const EXPECTED: &'static str;

    /// Converts a set value; `None` if it has another type.
    fn from_value(value: OptionValue) -> Option<Self>;

    /// The result when the option has no value and no default; `None` makes it an error.
    fn unset() -> Option<Self> {
        None
    }
}

impl FromOptionValue for OptionValue {
    const EXPECTED: &'static str = "a value";

    fn from_value(value: OptionValue) -> Option<Self> {
        Some(value)
    }
}

impl FromOptionValue for String {
    const EXPECTED: &'static str = "a string";

    fn from_value(value: OptionValue) -> Option<Self> {
        match value {
            OptionValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl FromOptionValue for i64 {
    const EXPECTED: &'static str = "an integer";

    fn from_value(value: OptionValue) -> Option<Self> {
        match value {
            OptionValue::Int(i) => Some(i),
            _ => None,
        }
    }
}

macro_rules! narrow_int {
    ($($ty:ty => $expected:literal),*) => {$(
        impl FromOptionValue for $ty {
            const EXPECTED: &'static str = $expected;

            fn from_value(value: OptionValue) -> Option<Self> {
                match value {
                    OptionValue::Int(i) => <$ty>::try_from(i).ok(),
                    _ => None,
                }
            }
        }
    )*};
}

narrow_int!(
    u64 => "a non-negative integer",
    i32 => "a 32-bit integer",
    u32 => "a non-negative 32-bit integer",
    usize => "a non-negative integer"
);

impl FromOptionValue for f64 {
    const EXPECTED: &'static str = "a number";

    fn from_value(value: OptionValue) -> Option<Self> {
        match value {
            OptionValue::Float(f) => Some(f),
            #[allow(
                clippy::cast_precision_loss,
                reason = "a float option read from an int"
            )]
            OptionValue::Int(i) => Some(i as f64),
            _ => None,
        }
    }
}

impl FromOptionValue for bool {
    const EXPECTED: &'static str = "a bool";

    fn from_value(value: OptionValue) -> Option<Self> {
        match value {
            OptionValue::Bool(b) => Some(b),
            _ => None,
        }
    }
}

impl FromOptionValue for Duration {
    const EXPECTED: &'static str = "a non-negative number of seconds";

    fn from_value(value: OptionValue) -> Option<Self> {
        match value {
            OptionValue::Int(i) => u64::try_from(i).ok().map(Duration::from_secs),
            _ => None,
        }
    }
}

impl<T: FromOptionValue> FromOptionValue for Option<T> {
    const EXPECTED: &'static str = T::EXPECTED;

    fn from_value(value: OptionValue) -> Option<Self> {
        T::from_value(value).map(Some)
    }

    fn unset() -> Option<Self> {
        Some(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn float_options_get_float_bounds() {
        let decl = ModuleOption::float("ratio")
            .default(0.5)
            .min(0)
            .max(1)
            .into_decl();
        assert!(matches!(decl.min, Some(OptionValue::Float(f)) if f == 0.0));
        assert!(matches!(decl.max, Some(OptionValue::Float(f)) if f == 1.0));
        assert!(matches!(decl.default, Some(OptionValue::Float(f)) if f == 0.5));
    }

    #[test]
    fn builder_fills_every_field() {
        let decl = ModuleOption::str("mode")
            .default("fast")
            .enum_allowed(["fast", "slow"])
            .desc("how")
            .long_desc("how, at length")
            .runtime()
            .into_decl();
        assert_eq!(decl.name, "mode");
        assert_eq!(decl.type_, OptionType::Str);
        assert_eq!(decl.enum_allowed, ["fast", "slow"]);
        assert!(decl.runtime);
        assert_eq!(
            (decl.desc.as_str(), decl.long_desc.as_str()),
            ("how", "how, at length")
        );
    }

    #[test]
    fn values_convert_to_the_requested_type_or_refuse() {
        assert_eq!(u32::from_value(OptionValue::Int(7)), Some(7));
        assert_eq!(u32::from_value(OptionValue::Int(-1)), None);
        assert_eq!(String::from_value(OptionValue::Int(1)), None);
        assert_eq!(
            Duration::from_value(OptionValue::Int(60)),
            Some(Duration::from_secs(60))
        );
        assert_eq!(<Option<bool>>::unset(), Some(None));
        assert_eq!(bool::unset(), None);
    }

    #[test]
    fn json_scalars_become_option_values() {
        assert!(matches!(
            OptionValue::from_json(&json!(3)),
            Some(OptionValue::Int(3))
        ));
        assert!(matches!(
            OptionValue::from_json(&json!(0.5)),
            Some(OptionValue::Float(_))
        ));
        assert!(matches!(
            OptionValue::from_json(&json!("x")),
            Some(OptionValue::Str(_))
        ));
        assert!(OptionValue::from_json(&json!([1])).is_none());
        assert_eq!(
            serde_json::Value::from(OptionValue::Bool(true)),
            json!(true)
        );
    }
}
