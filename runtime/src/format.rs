//! Output formats for the host's own commands, as the `ceph` CLI names them.

use serde_json::Value;

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Human text (the default for the host's commands).
    Plain,
    /// Compact JSON.
    Json,
    /// Indented JSON.
    JsonPretty,
    /// YAML.
    Yaml,
}

/// The formats clients may ask for.
pub const FORMATS: &[&str] = &["plain", "json", "json-pretty", "yaml"];

impl Format {
    /// Parse a `--format` value.
    pub fn parse(s: &str) -> Result<Format, String> {
        match s {
            "plain" => Ok(Format::Plain),
            "json" => Ok(Format::Json),
            "json-pretty" => Ok(Format::JsonPretty),
            "yaml" => Ok(Format::Yaml),
            other => Err(format!(
                "unknown format '{other}': use one of {}",
                FORMATS.join(", ")
            )),
        }
    }
}

/// Render `value` in `format`; `plain` renders the human form.
pub fn render(value: &Value, format: Format, plain: impl FnOnce() -> String) -> String {
    match format {
        Format::Plain => plain(),
        Format::Json => format!("{value}\n"),
        Format::JsonPretty => serde_json::to_string_pretty(value)
            .map(|s| s + "\n")
            .unwrap_or_default(),
        Format::Yaml => serde_norway::to_string(value).unwrap_or_default(),
    }
}

/// Render rows as an aligned text table with a header.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}
