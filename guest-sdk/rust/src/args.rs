//! Command arguments: how Rust types map to Ceph's argument types.
//!
//! A handler parameter's type says what the argument is:
//!
//! | Rust type | Ceph |
//! |---|---|
//! | `String` | `CephString` |
//! | `i64` | `CephInt` |
//! | `f64` | `CephFloat` |
//! | `bool` | `CephBool` |
//! | [`PoolName`], [`ObjectName`], [`OsdName`], [`Pgid`] | `CephPoolname`, `CephObjectname`, `CephOsdName`, `CephPgid` |
//! | an enum declared with [`choices!`](crate::choices) | `CephChoices` |
//! | `Option<T>` | `T`, optional (`req=false`, `[<name>]` in the usage) |
//! | `Vec<T>` | `T`, repeated (`n=N`) |
//!
//! A `String` argument can also be a `CephChoices` through `#[arg(choices = [..])]`, and an
//! `i64`/`f64` argument gets a range through `#[arg(range = 1..=48)]`.

use std::fmt;
use std::ops::Deref;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::response::ErrorResponse;
use crate::{ArgType, CommandArg};

/// A type one value of a command argument can have.
///
/// Implemented for the types in the [module documentation](self); `choices!` implements it
/// for an enum of words.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Ceph argument type",
    label = "not a Ceph argument type",
    note = "use String, i64, f64, bool, PoolName, ObjectName, OsdName, Pgid or a `choices!` \
            enum, possibly inside Option<..> (optional) or Vec<..> (repeated)"
)]
pub trait CephScalar: DeserializeOwned {
    /// The Ceph type of the value.
    const TYPE: ArgType;

    /// The allowed words, for a `CephChoices` type.
    fn choices() -> Vec<String> {
        Vec::new()
    }
}

/// A handler parameter that is a command argument: a [`CephScalar`], possibly optional
/// (`Option`) or repeated (`Vec`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a command argument",
    label = "not a Ceph argument type",
    note = "use String, i64, f64, bool, PoolName, ObjectName, OsdName, Pgid or a `choices!` \
            enum, possibly inside Option<..> (optional) or Vec<..> (repeated); the input \
            file is the parameter named `inbuf`"
)]
pub trait CephArg: Sized {
    /// The type of one value.
    type Scalar: CephScalar;
    /// Whether the argument must be given.
    const REQUIRED: bool;
    /// Whether the argument takes a list of values.
    const REPEATED: bool;

    /// The argument's declaration, named `name`.
    fn declare(name: &str) -> CommandArg {
        CommandArg {
            name: name.to_owned(),
            type_: <Self::Scalar as CephScalar>::TYPE,
            required: Self::REQUIRED,
            repeated: Self::REPEATED,
            range: None,
            choices: <Self::Scalar as CephScalar>::choices(),
            goodchars: None,
        }
    }

    /// Reads the argument from the value of its key in the command map (`None` if absent).
    fn from_arg(name: &str, value: Option<&Value>) -> Result<Self, ErrorResponse>;
}

fn parse<T: DeserializeOwned>(name: &str, value: Option<&Value>) -> Result<T, ErrorResponse> {
    match value {
        None | Some(Value::Null) => Err(ErrorResponse::invalid(format!(
            "missing required argument '{name}'"
        ))),
        Some(value) => T::deserialize(value)
            .map_err(|e| ErrorResponse::invalid(format!("argument '{name}': {e}"))),
    }
}

impl<T: CephScalar> CephArg for T {
    type Scalar = T;
    const REQUIRED: bool = true;
    const REPEATED: bool = false;

    fn from_arg(name: &str, value: Option<&Value>) -> Result<Self, ErrorResponse> {
        parse(name, value)
    }
}

impl<T: CephScalar> CephArg for Vec<T> {
    type Scalar = T;
    const REQUIRED: bool = true;
    const REPEATED: bool = true;

    fn from_arg(name: &str, value: Option<&Value>) -> Result<Self, ErrorResponse> {
        parse(name, value)
    }
}

impl<T: CephScalar> CephArg for Option<T> {
    type Scalar = T;
    const REQUIRED: bool = false;
    const REPEATED: bool = false;

    fn from_arg(name: &str, value: Option<&Value>) -> Result<Self, ErrorResponse> {
        match value {
            None | Some(Value::Null) => Ok(None),
            value => parse(name, value).map(Some),
        }
    }
}

impl<T: CephScalar> CephArg for Option<Vec<T>> {
    type Scalar = T;
    const REQUIRED: bool = false;
    const REPEATED: bool = true;

    fn from_arg(name: &str, value: Option<&Value>) -> Result<Self, ErrorResponse> {
        match value {
            None | Some(Value::Null) => Ok(None),
            value => parse(name, value).map(Some),
        }
    }
}

impl CephScalar for String {
    const TYPE: ArgType = ArgType::CephString;
}

impl CephScalar for i64 {
    const TYPE: ArgType = ArgType::CephInt;
}

impl CephScalar for f64 {
    const TYPE: ArgType = ArgType::CephFloat;
}

impl CephScalar for bool {
    const TYPE: ArgType = ArgType::CephBool;
}

macro_rules! name_types {
    ($($(#[$doc:meta])* $name:ident => $ty:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }

        impl From<$name> for String {
            fn from(n: $name) -> Self {
                n.0
            }
        }

        impl CephScalar for $name {
            const TYPE: ArgType = ArgType::$ty;
        }
    )*};
}

name_types! {
    /// A pool name (`CephPoolname`).
    PoolName => CephPoolname;
    /// A RADOS object name (`CephObjectname`).
    ObjectName => CephObjectname;
    /// An OSD (`CephOsdName`): the host passes it as `osd.<id>` whatever the client typed.
    OsdName => CephOsdName;
    /// A placement group id (`CephPgid`): `<pool>.<hex seed>`.
    Pgid => CephPgid;
}

impl OsdName {
    /// The OSD's numeric id, if the name is `osd.<id>`.
    pub fn id(&self) -> Option<u32> {
        self.0.strip_prefix("osd.")?.parse().ok()
    }
}

impl Pgid {
    /// The pool id and the placement seed, if the pgid is `<pool>.<hex seed>`.
    pub fn parts(&self) -> Option<(u64, u32)> {
        let (pool, seed) = self.0.split_once('.')?;
        Some((pool.parse().ok()?, u32::from_str_radix(seed, 16).ok()?))
    }
}

/// Declares an enum whose values are words: a `CephChoices` argument type.
///
/// ```
/// wasmgr_guest::choices! {
///     /// How thoroughly to scrub.
///     pub enum Depth {
///         Shallow = "shallow",
///         Deep = "deep",
///     }
/// }
/// assert_eq!(Depth::Deep.as_str(), "deep");
/// assert_eq!(Depth::ALL.len(), 2);
/// ```
///
/// The enum derives `Clone, Copy, Debug, PartialEq, Eq, Hash`, displays and (de)serializes
/// as its word, and can be used as a handler parameter: `depth: Depth`, `depth: Option<Depth>`.
#[macro_export]
macro_rules! choices {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $word:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every choice, in declaration order.
            #[allow(dead_code, reason = "part of every choices! enum")]
            $vis const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word a client types for this choice.
            $vis fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error>
            where
                S: $crate::__private::serde::Serializer,
            {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D>(d: D) -> ::core::result::Result<Self, D::Error>
            where
                D: $crate::__private::serde::Deserializer<'de>,
            {
                let word =
                    <::std::string::String as $crate::__private::serde::Deserialize>::deserialize(d)?;
                match word.as_str() {
                    $($word => ::core::result::Result::Ok($name::$variant),)+
                    other => ::core::result::Result::Err(
                        <D::Error as $crate::__private::serde::de::Error>::unknown_variant(
                            other,
                            &[$($word),+],
                        ),
                    ),
                }
            }
        }

        impl $crate::CephScalar for $name {
            const TYPE: $crate::ArgType = $crate::ArgType::CephChoices;

            fn choices() -> ::std::vec::Vec<::std::string::String> {
                ::std::vec![$(::std::string::String::from($word)),+]
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decl<T: CephArg>() -> (ArgType, bool, bool) {
        let d = T::declare("x");
        (d.type_, d.required, d.repeated)
    }

    #[test]
    fn rust_types_map_to_ceph_types() {
        assert_eq!(decl::<String>(), (ArgType::CephString, true, false));
        assert_eq!(decl::<i64>(), (ArgType::CephInt, true, false));
        assert_eq!(decl::<Option<f64>>(), (ArgType::CephFloat, false, false));
        assert_eq!(decl::<Option<bool>>(), (ArgType::CephBool, false, false));
        assert_eq!(decl::<Vec<PoolName>>(), (ArgType::CephPoolname, true, true));
        assert_eq!(
            decl::<Option<Vec<OsdName>>>(),
            (ArgType::CephOsdName, false, true)
        );
        assert_eq!(decl::<ObjectName>(), (ArgType::CephObjectname, true, false));
        assert_eq!(decl::<Pgid>(), (ArgType::CephPgid, true, false));
    }

    crate::choices! {
        enum Speed {
            Fast = "fast",
            Slow = "slow",
        }
    }

    #[test]
    fn choices_declare_their_words_and_parse_them() {
        let d = <Option<Speed>>::declare("speed");
        assert_eq!(d.type_, ArgType::CephChoices);
        assert_eq!(d.choices, ["fast", "slow"]);
        let v = json!("slow");
        assert_eq!(Speed::from_arg("speed", Some(&v)), Ok(Speed::Slow));
        let bad = json!("warp");
        let err = Speed::from_arg("speed", Some(&bad)).unwrap_err();
        assert_eq!(
            err.message,
            "argument 'speed': unknown variant `warp`, expected `fast` or `slow`"
        );
    }

    #[test]
    fn args_are_read_from_typed_json() {
        assert_eq!(i64::from_arg("n", Some(&json!(42))), Ok(42));
        assert_eq!(f64::from_arg("f", Some(&json!(1))), Ok(1.0));
        assert_eq!(<Option<String>>::from_arg("s", None), Ok(None));
        assert_eq!(
            <Vec<i64>>::from_arg("v", Some(&json!([1, 2]))),
            Ok(vec![1, 2])
        );
        let err = String::from_arg("oid", None).unwrap_err();
        assert_eq!(
            (err.retval, err.message.as_str()),
            (-22, "missing required argument 'oid'")
        );
        let err = i64::from_arg("mib", Some(&json!("ten"))).unwrap_err();
        assert_eq!(
            err.message,
            "argument 'mib': invalid type: string \"ten\", expected i64"
        );
    }

    #[test]
    fn osd_names_and_pgids_have_parts() {
        assert_eq!(OsdName("osd.12".into()).id(), Some(12));
        assert_eq!(Pgid("3.1f".into()).parts(), Some((3, 31)));
        assert_eq!(Pgid("x".into()).parts(), None);
    }
}
