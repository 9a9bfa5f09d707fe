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
                "unknown format '{}': use one of {}",
                crate::sanitize::quote(other),
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

/// Bytes of one table cell; longer cells are cut (marked with `…`).
pub const CELL_BYTES: usize = 16 << 10;

/// Render rows as an aligned text table with a header. Every cell is made safe to show as one
/// line ([`crate::sanitize::line`]): a value cannot forge a row or drive the terminal.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| crate::sanitize::line(c, CELL_BYTES))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            s.push_str(c);
            if i + 1 < cells.len() {
                // Padded by hand: a width taken from the data may exceed what `format!`
                // accepts as a width.
                let pad = widths[i].saturating_sub(c.chars().count()) + 2;
                s.extend(std::iter::repeat_n(' ', pad));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_with_huge_or_hostile_cells_stays_one_row_per_line() {
        let big = "v".repeat(70 << 10);
        let rows = vec![
            vec!["a".into(), big],
            vec!["b\nFAKE".into(), "\u{1b}[2J".into()],
        ];
        let t = table(&["K", "V"], &rows);
        assert_eq!(t.lines().count(), 3, "{}", &t[..200]);
        assert!(!t.contains('\u{1b}'));
        assert!(t.lines().nth(1).is_some_and(|l| l.len() < (17 << 10)));
    }
}
