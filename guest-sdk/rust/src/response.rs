//! Command results in the style of Ceph's `object_format` module.
//!
//! A handler answers in one of three ways, chosen on its command attribute:
//!
//! - **raw** (the default, Ceph's `CLICommand` returning a tuple, or `ErrorResponseHandler`):
//!   it returns a [`HandleCommandResult`], or `Result<HandleCommandResult, ErrorResponse>`,
//!   and its output is sent as is;
//! - **`responder`** (Ceph's `Responder`): it returns `Result<T, ErrorResponse>` with
//!   `T: Serialize`, and the SDK formats `T` per the command's `format` key (see [`Format`]);
//! - **`empty_responder`** (Ceph's `EmptyResponder`): it returns `Result<(), ErrorResponse>`,
//!   and success has empty output.

use std::fmt;

use serde::Serialize;

use crate::errno::EINVAL;
use crate::error::Error;

/// A command's outcome: `retval` is 0 or a negative Linux errno, as ceph-mgr's
/// `HandleCommandResult`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HandleCommandResult {
    /// 0 on success, else a negative errno such as `-errno::ENOENT`.
    pub retval: i32,
    /// The command's output.
    pub stdout: String,
    /// A status or error message for the client.
    pub stderr: String,
}

impl HandleCommandResult {
    /// Success with `stdout` as the output.
    pub fn ok(stdout: impl Into<String>) -> Self {
        HandleCommandResult {
            retval: 0,
            stdout: stdout.into(),
            stderr: String::new(),
        }
    }

    /// Failure with `retval` (a negative errno; see [`ErrorResponse::new`] for how other
    /// numbers are treated) and `stderr` as the message.
    pub fn error(retval: i32, stderr: impl Into<String>) -> Self {
        ErrorResponse::new(retval, stderr).into()
    }

    /// Whether the command succeeded.
    pub fn is_ok(&self) -> bool {
        self.retval == 0
    }
}

impl From<ErrorResponse> for HandleCommandResult {
    fn from(e: ErrorResponse) -> Self {
        HandleCommandResult {
            retval: e.retval,
            stdout: String::new(),
            stderr: e.message,
        }
    }
}

/// A failed command: a negative errno and a message for the client (Ceph's `ErrorResponse`).
///
/// `?` converts a host [`Error`] into one, keeping the host's errno and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorResponse {
    /// A negative Linux errno.
    pub retval: i32,
    /// What went wrong, and what to do about it.
    pub message: String,
}

impl ErrorResponse {
    /// An error with `retval`, a negative errno such as `-errno::ENOENT`.
    ///
    /// A positive errno is negated, as ceph-mgr does; 0 becomes `-EINVAL`, because an error
    /// reported as success would hide the failure from the client.
    pub fn new(retval: i32, message: impl Into<String>) -> Self {
        let retval = match retval {
            0 => -EINVAL,
            r if r > 0 => -r,
            r => r,
        };
        ErrorResponse {
            retval,
            message: message.into(),
        }
    }

    /// `-EINVAL` with `message`: the client's input is wrong.
    pub fn invalid(message: impl Into<String>) -> Self {
        ErrorResponse::new(-EINVAL, message)
    }

    /// A host error passed on to the client with its errno and message.
    pub fn wrap(error: Error) -> Self {
        ErrorResponse::new(-error.errno(), error.message)
    }

    /// The positive errno of this error.
    pub fn errno(&self) -> i32 {
        self.retval.saturating_neg()
    }
}

impl fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (errno {})", self.message, self.errno())
    }
}

impl std::error::Error for ErrorResponse {}

impl From<Error> for ErrorResponse {
    fn from(error: Error) -> Self {
        ErrorResponse::wrap(error)
    }
}

/// What a raw handler may return.
#[diagnostic::on_unimplemented(
    message = "a raw command handler cannot return `{Self}`",
    label = "not a command result",
    note = "return HandleCommandResult or Result<HandleCommandResult, ErrorResponse>; to have \
            a Serialize value formatted per --format, mark the command `responder`"
)]
pub trait IntoCommandResult {
    /// The command result sent to the client.
    fn into_command_result(self) -> HandleCommandResult;
}

impl IntoCommandResult for HandleCommandResult {
    fn into_command_result(self) -> HandleCommandResult {
        self
    }
}

impl IntoCommandResult for ErrorResponse {
    fn into_command_result(self) -> HandleCommandResult {
        self.into()
    }
}

impl IntoCommandResult for Result<HandleCommandResult, ErrorResponse> {
    fn into_command_result(self) -> HandleCommandResult {
        self.unwrap_or_else(HandleCommandResult::from)
    }
}

/// The output formats of a `responder` command, named as the `ceph` CLI's `--format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Compact JSON, the default.
    #[default]
    Json,
    /// JSON indented by two spaces, as Ceph's Responder indents it.
    JsonPretty,
    /// YAML.
    Yaml,
    /// Strings as they are, anything else as YAML.
    Plain,
}

impl Format {
    /// Every format, in the order error messages list them.
    pub const ALL: [Format; 4] = [
        Format::Json,
        Format::JsonPretty,
        Format::Yaml,
        Format::Plain,
    ];

    /// The format's name as the `format` key carries it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::JsonPretty => "json-pretty",
            Format::Yaml => "yaml",
            Format::Plain => "plain",
        }
    }

    /// The format the client asked for: `None` is the default, JSON; an unknown name is
    /// `-EINVAL` with a message listing the supported ones.
    pub fn parse(requested: Option<&str>) -> Result<Format, ErrorResponse> {
        let Some(name) = requested else {
            return Ok(Format::default());
        };
        Format::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                ErrorResponse::invalid(format!(
                    "unknown format '{name}': use one of {}",
                    names.join(", ")
                ))
            })
    }

    /// `value` rendered in this format, without a trailing newline.
    ///
    /// Keys appear in the order the value serializes them (a struct's field order), not
    /// sorted. A value that cannot be represented (a map with non-string keys in JSON, a
    /// failing `Serialize` impl) is `-EINVAL` naming the reason, never a panic.
    pub fn render<T: Serialize + ?Sized>(self, value: &T) -> Result<String, ErrorResponse> {
        let unrenderable = |e: &dyn fmt::Display| {
            ErrorResponse::invalid(format!("cannot render the result as {}: {e}", self.name()))
        };
        match self {
            Format::Json => serde_json::to_string(value).map_err(|e| unrenderable(&e)),
            Format::JsonPretty => serde_json::to_string_pretty(value).map_err(|e| unrenderable(&e)),
            Format::Yaml => yaml(value).map_err(|e| unrenderable(&e)),
            Format::Plain => {
                let json = serde_json::to_value(value).map_err(|e| unrenderable(&e))?;
                match json {
                    serde_json::Value::String(s) => Ok(s),
                    other => yaml(&other).map_err(|e| unrenderable(&e)),
                }
            }
        }
    }
}

fn yaml<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_norway::Error> {
    let mut text = serde_norway::to_string(value)?;
    if text.ends_with('\n') {
        text.pop();
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_is_compact_and_keeps_field_order() {
        #[derive(Serialize)]
        struct Stats {
            greetings: u64,
            place: &'static str,
        }
        let out = Format::Json.render(&Stats {
            greetings: 3,
            place: "world",
        });
        assert_eq!(out, Ok(r#"{"greetings":3,"place":"world"}"#.to_owned()));
    }

    #[test]
    fn json_pretty_indents_by_two() {
        let out = Format::JsonPretty.render(&json!({"a": [1]}));
        assert_eq!(out, Ok("{\n  \"a\": [\n    1\n  ]\n}".to_owned()));
    }

    #[test]
    fn yaml_has_no_trailing_newline() {
        let out = Format::Yaml.render(&json!({"greetings": 3, "place": "world"}));
        assert_eq!(out, Ok("greetings: 3\nplace: world".to_owned()));
    }

    #[test]
    fn plain_prints_strings_raw_and_the_rest_as_yaml() {
        assert_eq!(
            Format::Plain.render("Hello, world!"),
            Ok("Hello, world!".to_owned())
        );
        assert_eq!(
            Format::Plain.render(&json!(["a", "b"])),
            Ok("- a\n- b".to_owned())
        );
    }

    #[test]
    fn missing_format_means_json_and_unknown_lists_the_supported_ones() {
        assert_eq!(Format::parse(None), Ok(Format::Json));
        assert_eq!(Format::parse(Some("yaml")), Ok(Format::Yaml));
        let err = Format::parse(Some("xml")).unwrap_err();
        assert_eq!(err.retval, -22);
        assert_eq!(
            err.message,
            "unknown format 'xml': use one of json, json-pretty, yaml, plain"
        );
    }

    #[test]
    fn error_response_keeps_errnos_negative() {
        assert_eq!(ErrorResponse::new(-2, "x").retval, -2);
        assert_eq!(ErrorResponse::new(2, "x").retval, -2);
        assert_eq!(ErrorResponse::new(0, "x").retval, -22);
        let host = Error::new(crate::ErrorCode::NoSpace, "quota full");
        assert_eq!(
            ErrorResponse::wrap(host),
            ErrorResponse::new(-28, "quota full")
        );
    }

    #[test]
    fn error_response_becomes_stderr() {
        let r: HandleCommandResult = ErrorResponse::new(-2, "object 'a' not found").into();
        assert_eq!(
            r,
            HandleCommandResult {
                retval: -2,
                stdout: "".into(),
                stderr: "object 'a' not found".into()
            }
        );
    }
}
