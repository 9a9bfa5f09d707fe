//! Fuzz targets for the places where wasmgr reads input it does not control: a client's command
//! words, Ceph command signatures, module manifests and the host config file, the admin API's
//! HTTP requests, and component files. Each target takes any bytes and must never panic; a
//! panic is the bug the fuzzer reports. `cargo xtask fuzz` runs them (see the README's
//! "Fuzzing" section, and `docs/design/0009-fuzzing.md` for why the driver is our own).
//!
//! ```
//! use wasmgr_fuzz::{Features, target};
//!
//! let mut seen = Features::default();
//! let manifest = target("manifest").expect("a target of that name");
//! (manifest.run)(b"[limits]\nmemory_mib = 8\n", &mut seen);
//! assert!(!seen.is_empty());
//! ```
#![deny(missing_docs)]

use std::hash::{DefaultHasher, Hash, Hasher};

pub mod mutate;
pub mod targets;

/// One fuzz target.
#[derive(Debug)]
pub struct Target {
    /// Its name: the directory of its seeds (`fuzz/corpus/<name>/`), its dictionary
    /// (`fuzz/dict/<name>.dict`) and its crashes (`fuzz/artifacts/<name>/`).
    pub name: &'static str,
    /// What it feeds its input to.
    pub about: &'static str,
    /// Runs one input, recording what it did in the [`Features`].
    pub run: fn(&[u8], &mut Features),
    /// The longest input the driver makes by mutation. Seeds may be longer.
    pub max_len: usize,
}

/// Every target, in the order the driver runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "command",
        about: "a client's command (argv words, or the JSON request) matched against the \
                daemon's, example modules' and cluster's commands, and its arguments checked",
        run: targets::command::command,
        max_len: 1024,
    },
    Target {
        name: "signature",
        about: "a Ceph command signature parsed into a declaration, declared as a module \
                would, and words checked against it",
        run: targets::command::signature,
        max_len: 1024,
    },
    Target {
        name: "manifest",
        about: "a module manifest and a host config file (TOML), and the limits they lower",
        run: targets::manifest::manifest,
        max_len: 2048,
    },
    Target {
        name: "admin",
        about: "the bytes of one admin API connection through the daemon's HTTP/1.1 reader \
                and writer, read whole and in small pieces",
        run: targets::admin::admin,
        max_len: 4096,
    },
    Target {
        name: "loader",
        about: "a component file through the daemon's loader (read, digest, manifest, \
                compile, artifact cache, link), stopped before any of its code runs",
        run: targets::loader::loader,
        max_len: 8192,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// What one input did, as the target saw it: which command matched, which error it got, which
/// route answered. The driver keeps an input that does something no input did before, so that
/// later mutations start from it: feedback from behaviour rather than from code coverage,
/// which stable Rust cannot measure without rebuilding everything instrumented.
///
/// Each feature is a kind and a detail. The driver counts at most a few details of one kind
/// as new, so that a kind of message whose shape still varies with the input (an unknown
/// field listed among the known ones) cannot fill the corpus with inputs that differ only
/// there.
#[derive(Debug, Default)]
pub struct Features {
    found: Vec<(u64, u64)>,
    /// The bytes of the input being run that can be part of a word, which
    /// [`Features::message`] leaves out of messages.
    input_words: Vec<u8>,
}

impl Features {
    /// Forgets what was recorded, for the next input, `input`.
    pub fn start(&mut self, input: &[u8]) {
        self.found.clear();
        self.input_words.clear();
        self.input_words
            .extend(input.iter().copied().filter(|&b| is_word_byte(b)));
    }

    /// Records one thing the input did.
    pub fn add(&mut self, what: impl Hash) {
        self.found.push((hash(what), 0));
    }

    /// Records a message of kind `kind` by its [`shape`], so that one kind of error counts
    /// once whatever numbers and pieces of the input it quotes. The feature's kind is `kind`
    /// with the shape's first three words.
    pub fn message(&mut self, kind: &str, message: &str) {
        let shape = shape_among(message, &self.input_words);
        let head: Vec<&str> = shape.split(' ').take(3).collect();
        self.found.push((hash((kind, head)), hash(&shape)));
    }

    /// The recorded features, as (kind, detail).
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.found.iter().copied()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }
}

fn hash(what: impl Hash) -> u64 {
    // `DefaultHasher::new` hashes the same way every time, so features compare across inputs
    // and runs.
    let mut h = DefaultHasher::new();
    what.hash(&mut h);
    h.finish()
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || !b.is_ascii()
}

/// The shape of a message: its first 40 words, where each run of words that hold a digit or
/// occur in `input` becomes one `…`. `line 3, column 7: unknown field `memory_mb`` (for an
/// input holding `memory_mb`) has the shape `line … column … unknown field …`. Messages quote
/// input, and quoted input may hold quotes or anything else, so the words are what counts.
/// A word counts as the input's if it occurs in the input's word bytes run together, since
/// messages may escape or drop what lies between them (control characters, a cut), or if
/// it is not ASCII.
pub fn shape(message: &str, input: &[u8]) -> String {
    let words: Vec<u8> = input.iter().copied().filter(|&b| is_word_byte(b)).collect();
    shape_among(message, &words)
}

fn shape_among(message: &str, input_words: &[u8]) -> String {
    let mut out = String::new();
    // Messages write a newline or tab of the input as `\n`, `\t` (`runtime::sanitize`): its
    // letter must not join the input's next word.
    let message = message.replace("\\n", " ").replace("\\t", " ");
    let words = message
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .take(40);
    let in_input = |part: &str| {
        input_words
            .windows(part.len())
            .any(|w| w == part.as_bytes())
    };
    for word in words {
        // The messages' own words are ASCII; a word with other characters in it is the
        // input's, perhaps with its escapes decoded (`\u00e9` in a TOML or JSON string).
        let varies = !word.is_ascii() || word.bytes().any(|b| b.is_ascii_digit()) || in_input(word);
        if varies && out.ends_with('…') {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(if varies { "…" } else { word });
    }
    out
}

/// Reports a broken invariant: the crash the fuzzer is looking for.
#[allow(
    clippy::panic,
    reason = "a fuzz target reports a bug by panicking; the driver saves the input"
)]
pub(crate) fn broken(what: std::fmt::Arguments<'_>) -> ! {
    panic!("invariant broken: {what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_leaves_out_numbers_and_input() {
        assert_eq!(
            shape(
                "line 3, column 7: unknown field `memory_mb`, expected `x`",
                b"memory_mb = 1"
            ),
            "line … column … unknown field … expected x"
        );
        // Quotes inside the quoted input, and a control character the message leaves out.
        assert_eq!(
            shape(
                "invalid value 'a'bc' for <n:int>: between 1 and 10",
                b"a'b\x01c"
            ),
            "invalid value … for n int between … and …"
        );
        assert_eq!(shape("0x1f at offset 0x2a", b""), "… at offset …");
        assert_eq!(
            shape("unknown field `abcéxyz`", b"\"abc\\u00e9xyz\" = 1"),
            "unknown field …"
        );
        // An escaped tab does not join the words around it.
        assert_eq!(
            shape("unexpected argument 'a\\tbcd'", b"a\tbcd"),
            "unexpected argument …"
        );
    }

    /// The seeds are what every run starts from, and what a change to a parser is most
    /// likely to break first.
    #[test]
    fn every_seed_runs_and_every_dictionary_parses() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for target in TARGETS {
            let seeds = std::fs::read_dir(dir.join("corpus").join(target.name)).unwrap();
            let mut count = 0;
            for seed in seeds {
                let path = seed.unwrap().path();
                let input = std::fs::read(&path).unwrap();
                let mut seen = Features::default();
                seen.start(&input);
                (target.run)(&input, &mut seen);
                assert!(!seen.is_empty(), "{} recorded nothing", path.display());
                count += 1;
            }
            assert!(count >= 5, "{} has {count} seeds", target.name);
            let dict = dir.join("dict").join(format!("{}.dict", target.name));
            let text = std::fs::read_to_string(&dict).unwrap();
            let tokens = mutate::Dictionary::parse(&text).unwrap();
            assert!(!tokens.tokens().is_empty(), "{}", dict.display());
        }
        targets::loader::cleanup();
    }

    #[test]
    fn targets_have_unique_names() {
        let mut names: Vec<_> = TARGETS.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TARGETS.len());
    }
}
