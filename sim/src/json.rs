//! Writing JSON text straight into a `String`, for the documents that grow with the cluster
//! (one entry per PG or per OSD), where building a `serde_json::Value` first would cost more
//! than the text itself. Small documents use `serde_json::json!`.

/// Appends `s` as a JSON string literal.
pub(crate) fn push_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                out.push_str("\\u00");
                out.push(hex(b >> 4));
                out.push(hex(b & 0xf));
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

fn hex(n: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(n & 0xf)])
}

/// Appends an unsigned integer.
pub(crate) fn push_u(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends a signed integer.
pub(crate) fn push_i(out: &mut String, n: i64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends a float the way `serde_json` writes one (always with a `.` or an exponent, so it
/// reads back as a float); non-finite values become `0.0`.
pub(crate) fn push_f(out: &mut String, x: f64) {
    if x.is_finite() {
        out.push_str(ryu::Buffer::new().format_finite(x));
    } else {
        out.push_str("0.0");
    }
}

/// Appends `"key":`.
pub(crate) fn key(out: &mut String, k: &str) {
    push_str(out, k);
    out.push(':');
}

/// Appends a JSON array of integers.
pub(crate) fn push_int_list(out: &mut String, xs: impl IntoIterator<Item = i64>) {
    out.push('[');
    for (i, x) in xs.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_i(out, x);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let mut s = String::new();
        push_str(&mut s, "a\"b\\c\n\u{1}é");
        assert_eq!(s, r#""a\"b\\c\n\u0001é""#);
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "a\"b\\c\n\u{1}é");
    }

    #[test]
    fn floats_read_back_as_floats() {
        let mut s = String::new();
        push_f(&mut s, 1.0);
        s.push(',');
        push_f(&mut s, f64::NAN);
        assert_eq!(s, "1.0,0.0");
    }
}
