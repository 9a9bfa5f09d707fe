//! The mutation engine: a seeded generator, dictionaries in the AFL/libFuzzer format, and the
//! mutations the driver stacks on an input from the corpus.

/// A small, fast, seeded generator (SplitMix64). The same seed gives the same run, as long as
/// the targets behave the same.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// A range `start..end` inside `0..len`, of at least one byte when `len` > 0, and mostly
    /// short.
    fn range(&mut self, len: usize) -> (usize, usize) {
        if len == 0 {
            return (0, 0);
        }
        let start = self.below(len);
        let most = (len - start).min(if self.one_in(4) { len } else { 16 });
        (start, start + 1 + self.below(most))
    }
}

/// Tokens worth inserting whole: keywords, field names, separators, magic numbers.
#[derive(Debug, Clone, Default)]
pub struct Dictionary {
    tokens: Vec<Vec<u8>>,
}

impl Dictionary {
    /// Parses a dictionary in the AFL/libFuzzer format: one `"token"` per line, optionally
    /// after `name=`, with `\\`, `\"` and `\xNN` escapes; blank lines and `#` comments are
    /// skipped. The line number of the first bad line is the error.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut tokens = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let quoted = line
                .find('"')
                .filter(|_| line.ends_with('"') && line.len() >= 2)
                .map(|start| &line[start + 1..line.len() - 1])
                .ok_or_else(|| format!("line {}: expected \"token\" or name=\"token\"", i + 1))?;
            tokens.push(unescape(quoted).map_err(|e| format!("line {}: {e}", i + 1))?);
        }
        Ok(Dictionary { tokens })
    }

    /// The tokens.
    pub fn tokens(&self) -> &[Vec<u8>] {
        &self.tokens
    }
}

fn unescape(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(b'\\') => out.push(b'\\'),
            Some(b'"') => out.push(b'"'),
            Some(b'x') => {
                let hex = [bytes.next(), bytes.next()];
                let digits: Option<Vec<u8>> = hex.into_iter().collect();
                let value = digits
                    .and_then(|d| std::str::from_utf8(&d).ok().map(str::to_owned))
                    .and_then(|d| u8::from_str_radix(&d, 16).ok())
                    .ok_or("\\x needs two hex digits")?;
                out.push(value);
            }
            _ => return Err("unknown escape: use \\\\, \\\" or \\xNN".into()),
        }
    }
    Ok(out)
}

/// Bytes that often sit on a boundary: zero, sign bits, all ones, and the separators of the
/// text formats the targets read.
const INTERESTING_BYTES: &[u8] = &[
    0, 1, 0x7f, 0x80, 0xff, b' ', b'\n', b'\r', b'\t', b'=', b',', b'|', b'"', b'\'', b'\\', b'[',
    b']', b'{', b'}', b':', b'.', b'-', b'#',
];

/// Numbers that sit on a boundary, for replacing a number written in text.
const INTERESTING_NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "2",
    "255",
    "256",
    "65535",
    "65536",
    "2147483647",
    "2147483648",
    "-2147483649",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "1e308",
    "1e309",
    "-1e309",
    "1.5",
    "0.0000001",
    "nan",
    "inf",
    "-inf",
    "0x10",
    "1_000",
    "00",
];

/// Applies one to eight random mutations to `data`, leaving it at most `max_len` bytes.
/// `corpus` supplies other inputs for splicing, `dict` tokens to insert.
pub fn mutate(
    rng: &mut Rng,
    data: &mut Vec<u8>,
    corpus: &[Vec<u8>],
    dict: &Dictionary,
    max_len: usize,
) {
    let rounds = 1 << rng.below(4);
    for _ in 0..rounds {
        mutate_once(rng, data, corpus, dict);
    }
    data.truncate(max_len);
}

fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, corpus: &[Vec<u8>], dict: &Dictionary) {
    let len = data.len();
    match rng.below(14) {
        // Flip one bit.
        0 if len > 0 => {
            let i = rng.below(len);
            data[i] ^= 1 << rng.below(8);
        }
        // Set a byte to a boundary value.
        1 if len > 0 => {
            let i = rng.below(len);
            data[i] = INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())];
        }
        // Set a byte to anything.
        2 if len > 0 => {
            let i = rng.below(len);
            data[i] = rng.next_u64() as u8;
        }
        // Add or subtract a little.
        3 if len > 0 => {
            let i = rng.below(len);
            let delta = 1 + rng.below(16) as u8;
            data[i] = if rng.one_in(2) {
                data[i].wrapping_add(delta)
            } else {
                data[i].wrapping_sub(delta)
            };
        }
        // Insert a few random or boundary bytes.
        4 => {
            let at = rng.below(len + 1);
            let n = 1 + rng.below(4);
            let bytes: Vec<u8> = (0..n)
                .map(|_| {
                    if rng.one_in(2) {
                        INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())]
                    } else {
                        rng.next_u64() as u8
                    }
                })
                .collect();
            data.splice(at..at, bytes);
        }
        // Delete a range.
        5 if len > 0 => {
            let (start, end) = rng.range(len);
            data.drain(start..end);
        }
        // Repeat a range, up to 64 times: long runs find limits and quadratic paths.
        6 if len > 0 => {
            let (start, end) = rng.range(len);
            let chunk = data[start..end].to_vec();
            let most = if rng.one_in(8) { 64 } else { 4 };
            let times = 1 + rng.below(most);
            let at = rng.below(len + 1);
            let repeated: Vec<u8> = chunk
                .iter()
                .copied()
                .cycle()
                .take(chunk.len() * times)
                .collect();
            data.splice(at..at, repeated);
        }
        // Insert a range of another input.
        7 if !corpus.is_empty() => {
            let other = &corpus[rng.below(corpus.len())];
            let (start, end) = rng.range(other.len());
            let at = rng.below(len + 1);
            data.splice(at..at, other[start..end].iter().copied());
        }
        // Cross over: this input's start, another's end.
        8 if !corpus.is_empty() => {
            let other = &corpus[rng.below(corpus.len())];
            let cut = rng.below(len + 1);
            let from = rng.below(other.len() + 1);
            data.truncate(cut);
            data.extend_from_slice(&other[from..]);
        }
        // Insert a dictionary token.
        9 if !dict.tokens.is_empty() => {
            let token = &dict.tokens[rng.below(dict.tokens.len())];
            let at = rng.below(len + 1);
            data.splice(at..at, token.iter().copied());
        }
        // Overwrite with a dictionary token.
        10 if !dict.tokens.is_empty() && len > 0 => {
            let token = &dict.tokens[rng.below(dict.tokens.len())];
            let at = rng.below(len);
            let end = (at + token.len()).min(len);
            data.splice(at..end, token.iter().copied());
        }
        // Cut the end off.
        11 if len > 0 => data.truncate(rng.below(len)),
        // Replace a number written in text with a boundary number.
        12 => {
            let digits: Vec<usize> = (0..len).filter(|&i| data[i].is_ascii_digit()).collect();
            let number = INTERESTING_NUMBERS[rng.below(INTERESTING_NUMBERS.len())].as_bytes();
            if digits.is_empty() {
                let at = rng.below(len + 1);
                data.splice(at..at, number.iter().copied());
            } else {
                let start = digits[rng.below(digits.len())];
                let end = (start..len)
                    .find(|&i| !data[i].is_ascii_digit())
                    .unwrap_or(len);
                data.splice(start..end, number.iter().copied());
            }
        }
        // Copy a range over another place.
        13 if len > 1 => {
            let (start, end) = rng.range(len);
            let chunk = data[start..end].to_vec();
            let at = rng.below(len);
            let end = (at + chunk.len()).min(len);
            data.splice(at..end, chunk);
        }
        // The mutation needs bytes the input does not have: add some.
        _ => {
            let at = rng.below(len + 1);
            data.insert(at, rng.next_u64() as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionaries_parse_escapes_and_names() {
        let dict =
            Dictionary::parse("# comment\n\nkw=\"[limits]\"\n\"a\\\"b\\\\c\\x00\\xff\"\n").unwrap();
        assert_eq!(
            dict.tokens(),
            [b"[limits]".to_vec(), b"a\"b\\c\x00\xff".to_vec()]
        );
        assert!(
            Dictionary::parse("no quotes\n")
                .unwrap_err()
                .starts_with("line 1")
        );
        assert!(Dictionary::parse("\"\\xZZ\"").is_err());
    }

    #[test]
    fn mutations_stay_under_the_limit_and_change_the_input() {
        let dict = Dictionary::parse("\"token\"").unwrap();
        let corpus = vec![b"other input".to_vec(), Vec::new()];
        let mut rng = Rng::new(7);
        let mut changed = 0;
        for _ in 0..10_000 {
            let mut data = b"name=x,type=CephInt 42".to_vec();
            let before = data.clone();
            mutate(&mut rng, &mut data, &corpus, &dict, 64);
            assert!(data.len() <= 64);
            changed += usize::from(data != before);
        }
        assert!(changed > 9_000, "{changed}");
        // From nothing, too.
        let mut data = Vec::new();
        for _ in 0..1_000 {
            mutate(&mut rng, &mut data, &[], &Dictionary::default(), 16);
            assert!(data.len() <= 16);
        }
    }

    #[test]
    fn the_same_seed_makes_the_same_mutations() {
        let run = |seed| {
            let mut rng = Rng::new(seed);
            let mut data = b"seed".to_vec();
            for _ in 0..100 {
                mutate(&mut rng, &mut data, &[], &Dictionary::default(), 128);
            }
            data
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }
}
