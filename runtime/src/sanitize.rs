//! Making text a module supplied safe to show: the one place where it is escaped and bounded
//! before it reaches an operator's terminal, the daemon's log or a listing.
//!
//! A module's version, descriptions, option values, health text, log lines and command output
//! are attacker-controlled. Raw, they could clear the operator's screen or set the terminal's
//! title (escape sequences), forge rows of `module ls` or lines of the daemon's log
//! (newlines), or reorder what is shown (bidirectional overrides). Every such character is
//! written as a visible escape instead: `\x1b`, `\n`, `\u{202e}`.
//!
//! ```
//! use wasmgr_runtime::sanitize;
//! assert_eq!(sanitize::line("v1\u{1b}[2J\nroot", 64), "v1\\x1b[2J\\nroot");
//! assert_eq!(sanitize::block("a\tb\nc\u{7}"), "a\tb\nc\\x07");
//! assert_eq!(sanitize::quote(&"x".repeat(100)).len(), 64 + "… (100 bytes)".len());
//! ```

use std::fmt::Write as _;

/// How many characters of an input [`quote`] keeps.
pub const QUOTE_CHARS: usize = 64;

/// Whether `c` must be escaped even in multi-line text: C0 controls other than tab and
/// newline, DEL, C1 controls, line and paragraph separators, bidirectional controls and marks,
/// and zero-width characters (which make two different words look the same).
fn dangerous(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{2028}' | '\u{2029}' | '\u{200b}'..='\u{200f}' | '\u{061c}'
        | '\u{2060}' | '\u{feff}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// `s` as one line: newlines, tabs and every [`dangerous`] character escaped, cut to at most
/// `max_bytes` bytes of input (a cut is marked with `…`).
pub fn line(s: &str, max_bytes: usize) -> String {
    let cut = truncate(s, max_bytes);
    let mut out = String::with_capacity(cut.len());
    for c in cut.chars() {
        if c == '\n' || c == '\t' || dangerous(c) {
            escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    if cut.len() < s.len() {
        out.push('…');
    }
    out
}

/// `s` with its lines and tabs kept and every other [`dangerous`] character escaped: for
/// command output, which is meant to span lines. Allocates only when something is escaped.
pub fn block(s: &str) -> String {
    if !s.chars().any(dangerous) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if dangerous(c) {
            escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out
}

/// An input quoted inside a message: at most [`QUOTE_CHARS`] characters of it, escaped as
/// [`line`] does, followed by `… (N bytes)` when it was longer. A message never grows with
/// the input it complains about.
pub fn quote(s: &str) -> String {
    let end = s
        .char_indices()
        .nth(QUOTE_CHARS)
        .map_or(s.len(), |(i, _)| i);
    let mut out = line(&s[..end], end);
    if end < s.len() {
        let _ = write!(out, "… ({} bytes)", s.len());
    }
    out
}

/// Whether `s` is one word that needs no escaping: no whitespace, no control characters,
/// nothing [`line`] would escape.
pub fn is_plain_word(s: &str) -> bool {
    s.chars()
        .all(|c| !c.is_whitespace() && !c.is_control() && !dangerous(c))
}

/// `s` cut to at most `max` bytes, on a character boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_cannot_forge_rows_or_drive_a_terminal() {
        let hostile = "0.1\u{1b}]0;pwned\u{7}\r\nFAKE row\u{202e}x\u{9b}2J";
        let shown = line(hostile, 1024);
        assert!(
            !shown.chars().any(|c| c.is_control() || dangerous(c)),
            "{shown}"
        );
        assert_eq!(
            shown,
            "0.1\\x1b]0;pwned\\x07\\x0d\\nFAKE row\\u{202e}x\\u{9b}2J"
        );
    }

    #[test]
    fn blocks_keep_their_lines() {
        assert_eq!(block("a\nb\tc"), "a\nb\tc");
        assert_eq!(block("\u{1b}[31mred\r\n"), "\\x1b[31mred\\x0d\n");
    }

    #[test]
    fn quotes_and_lines_are_bounded() {
        let big = "é".repeat(1 << 20);
        let q = quote(&big);
        assert!(q.len() < 200, "{}", q.len());
        assert!(q.ends_with(&format!("… ({} bytes)", big.len())));
        assert_eq!(quote("short"), "short");
        let l = line(&big, 7);
        assert_eq!(l, "ééé…");
    }
}
