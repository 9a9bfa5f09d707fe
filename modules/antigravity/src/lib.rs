//! The `antigravity` example of Ceph's mgr module developer guide, as a wasmgr module.
//!
//! Objects live in the module's store:
//!
//! - `object/<oid>`: the object's data;
//! - `wormholes/<oid>`: the object's wormholes, a JSON map from name to
//!   `{"created": <unix seconds>, "destination": <string or null>}`;
//! - `blackhole/<location>/<oid>`: the data of an object a black hole swallowed.
//!
//! The commands show each of ceph-mgr's response styles: raw results
//! (`send to blackhole`, `dump config`), `Responder` (`ls objects`, `list wormholes`) and
//! `EmptyResponder` (`put object`, `create wormhole`).

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wasmgr_guest::{
    ErrorResponse, HandleCommandResult, MgrModule, ModuleOption, config, errno, log, store,
};

wasmgr_guest::manifest!(
    r#"
description = "Keeps objects and their wormholes in the module store"
[requests]
store = true
"#
);

const OBJECT: &str = "object/";
const WORMHOLES: &str = "wormholes/";
const BLACKHOLE: &str = "blackhole/";

#[derive(Default)]
struct Antigravity;

impl MgrModule for Antigravity {
    const NAME: &'static str = "antigravity";
    const VERSION: &'static str = "0.1.0";

    fn options() -> Vec<ModuleOption> {
        vec![
            ModuleOption::str("default_blackhole")
                .default("sagittarius-a*")
                .desc("where objects go when no black hole is named")
                .runtime(),
            ModuleOption::int("max_objects")
                .default(100)
                .min(1)
                .max(10000)
                .desc("how many objects the module keeps")
                .runtime(),
        ]
    }
}

/// One entry of `antigravity ls objects`.
#[derive(Serialize)]
struct ObjectInfo {
    oid: String,
    size: usize,
}

/// A wormhole as stored under `wormholes/<oid>`.
#[derive(Serialize, Deserialize)]
struct Wormhole {
    created: u64,
    destination: Option<String>,
}

#[wasmgr_guest::commands]
impl Antigravity {
    /// Store an object, its data read from the input file (-i FILE)
    #[write("antigravity put object", empty_responder)]
    fn put_object(&mut self, oid: String, inbuf: &str) -> Result<(), ErrorResponse> {
        if inbuf.is_empty() {
            return Err(ErrorResponse::invalid(
                "put needs the object's data as input: -i FILE",
            ));
        }
        let key = object_key(&oid);
        if store::get(&key)?.is_none() {
            let max: i64 = config::get_module_option("max_objects")?;
            let held = store::get_prefix(OBJECT)?.len();
            if i64::try_from(held).unwrap_or(i64::MAX) >= max {
                return Err(ErrorResponse::new(
                    -errno::ENOSPC,
                    format!(
                        "antigravity already holds {held} objects (max_objects is {max}): send \
                         some to a black hole, or raise the limit with \
                         `config set mgr/antigravity/max_objects <n>`"
                    ),
                ));
            }
        }
        store::set(&key, Some(inbuf))?;
        Ok(())
    }

    /// List the stored objects and their sizes
    #[read("antigravity ls objects", responder)]
    fn ls_objects(&mut self) -> Result<Vec<ObjectInfo>, ErrorResponse> {
        let objects = store::get_prefix(OBJECT)?;
        Ok(objects
            .into_iter()
            .map(|(key, data)| ObjectInfo {
                oid: key.strip_prefix(OBJECT).unwrap_or(&key).to_owned(),
                size: data.len(),
            })
            .collect())
    }

    /// Send the specified object to black hole
    ///
    /// With both a black hole and an input file, the black hole is an encrypted location and
    /// the input file its passphrase (see `decrypt`).
    #[write("antigravity send to blackhole")]
    fn send_to_blackhole(
        &mut self,
        oid: String,
        blackhole: Option<String>,
        inbuf: &str,
    ) -> Result<HandleCommandResult, ErrorResponse> {
        let Some(data) = store::get(&object_key(&oid))? else {
            return Ok(HandleCommandResult::error(
                -errno::ENOENT,
                format!("object '{oid}' not found"),
            ));
        };
        let location = match blackhole {
            Some(encrypted) if !inbuf.is_empty() => match decrypt(&encrypted, passphrase(inbuf)) {
                Some(location) => location,
                None => {
                    return Ok(HandleCommandResult::error(
                        -errno::EINVAL,
                        "unable to decrypt location",
                    ));
                }
            },
            Some(location) => location,
            None => config::get_module_option("default_blackhole")?,
        };
        // Record first, delete after: a failure in between leaves the object in two places
        // rather than in none.
        store::set(&format!("{BLACKHOLE}{location}/{oid}"), Some(&data))?;
        store::set(&wormholes_key(&oid), None)?;
        store::set(&object_key(&oid), None)?;
        log::info!("sent '{oid}' to black hole '{location}'");
        Ok(HandleCommandResult::ok(format!(
            "the black hole swallowed '{oid}'"
        )))
    }

    /// List wormholes associated with the supplied oid
    #[read("antigravity list wormholes", responder)]
    fn list_wormholes(
        &mut self,
        oid: String,
        details: Option<bool>,
    ) -> Result<Vec<Value>, ErrorResponse> {
        ensure_object(&oid)?;
        let now = unix_now();
        Ok(wormholes(&oid)?
            .into_iter()
            .map(|(name, hole)| {
                if details.unwrap_or(false) {
                    json!({
                        "name": name,
                        "age": now.saturating_sub(hole.created),
                        "destination": hole.destination,
                    })
                } else {
                    json!({ "name": name })
                }
            })
            .collect())
    }

    /// Create a wormhole from the supplied oid
    #[write("antigravity create wormhole", empty_responder)]
    fn create_wormhole(
        &mut self,
        oid: String,
        name: String,
        destination: Option<String>,
    ) -> Result<(), ErrorResponse> {
        ensure_object(&oid)?;
        let well_formed = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !well_formed {
            return Err(ErrorResponse::invalid(format!(
                "invalid wormhole name '{name}': use lowercase letters, digits and '-'"
            )));
        }
        let mut holes = wormholes(&oid)?;
        if holes.contains_key(&name) {
            return Err(ErrorResponse::new(
                -errno::EEXIST,
                format!("wormhole '{name}' of '{oid}' already exists"),
            ));
        }
        holes.insert(
            name,
            Wormhole {
                created: unix_now(),
                destination,
            },
        );
        let json = serde_json::to_string(&holes)
            .map_err(|e| ErrorResponse::new(-errno::EIO, format!("cannot save wormholes: {e}")))?;
        store::set(&wormholes_key(&oid), Some(&json))?;
        Ok(())
    }

    /// Dump an object's data as it was stored
    #[read("antigravity dump config")]
    fn dump_config(&mut self, oid: String) -> Result<HandleCommandResult, ErrorResponse> {
        match store::get(&object_key(&oid))? {
            Some(blob) => Ok(HandleCommandResult::ok(blob)),
            None => Err(ErrorResponse::new(-errno::ENOENT, "Blob does not exist")),
        }
    }
}

fn object_key(oid: &str) -> String {
    format!("{OBJECT}{oid}")
}

fn wormholes_key(oid: &str) -> String {
    format!("{WORMHOLES}{oid}")
}

fn ensure_object(oid: &str) -> Result<(), ErrorResponse> {
    match store::get(&object_key(oid))? {
        Some(_) => Ok(()),
        None => Err(ErrorResponse::new(
            -errno::ENOENT,
            format!("Unknown oid: {oid}"),
        )),
    }
}

/// The wormholes of `oid`, by name.
fn wormholes(oid: &str) -> Result<BTreeMap<String, Wormhole>, ErrorResponse> {
    let Some(json) = store::get(&wormholes_key(oid))? else {
        return Ok(BTreeMap::new());
    };
    serde_json::from_str(&json).map_err(|e| {
        ErrorResponse::new(
            -errno::EIO,
            format!(
                "the wormholes of '{oid}' are unreadable ({e}): remove them with \
                 `config-key rm mgr/antigravity/{WORMHOLES}{oid}`"
            ),
        )
    })
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The passphrase in an input file: its text without one trailing line ending, since
/// `echo secret > FILE` writes one.
fn passphrase(inbuf: &str) -> &str {
    let text = inbuf.strip_suffix('\n').unwrap_or(inbuf);
    text.strip_suffix('\r').unwrap_or(text)
}

/// Decrypts a black hole location: `encrypted` is the hex of the location's UTF-8 bytes,
/// each XOR-ed with the passphrase's bytes repeated. `None` for invalid hex, an empty
/// passphrase or location, or a result that is not UTF-8.
fn decrypt(encrypted: &str, passphrase: &str) -> Option<String> {
    let key = passphrase.as_bytes();
    if key.is_empty() || encrypted.is_empty() || !encrypted.len().is_multiple_of(2) {
        return None;
    }
    let bytes = encrypted
        .as_bytes()
        .chunks(2)
        .zip(key.iter().cycle())
        .map(|(pair, k)| match pair {
            // `from_str_radix` would also take a sign; only two hex digits are a byte here.
            [hi, lo] if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                let digits = std::str::from_utf8(pair).ok()?;
                u8::from_str_radix(digits, 16).ok().map(|b| b ^ k)
            }
            _ => None,
        })
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

wasmgr_guest::export_module!(Antigravity);

#[cfg(test)]
mod tests {
    use super::*;

    fn encrypt(location: &str, passphrase: &str) -> String {
        location
            .bytes()
            .zip(passphrase.bytes().cycle())
            .map(|(b, k)| format!("{:02x}", b ^ k))
            .collect()
    }

    #[test]
    fn decrypt_inverts_the_xor_hex_encoding() {
        let hidden = encrypt("cygnus-x1", "key");
        assert_eq!(decrypt(&hidden, "key").as_deref(), Some("cygnus-x1"));
        assert_eq!(
            decrypt(&hidden.to_uppercase(), "key").as_deref(),
            Some("cygnus-x1")
        );
    }

    #[test]
    fn decrypt_refuses_bad_input() {
        assert_eq!(decrypt("zz", "key"), None);
        assert_eq!(decrypt("+1", "key"), None);
        assert_eq!(decrypt("abc", "key"), None);
        assert_eq!(decrypt("", "key"), None);
        assert_eq!(decrypt("41", ""), None);
        // 0xff ^ 0x00 is not UTF-8 on its own.
        assert_eq!(decrypt("ff", "\0"), None);
    }

    #[test]
    fn one_trailing_line_ending_is_not_part_of_the_passphrase() {
        assert_eq!(passphrase("key\n"), "key");
        assert_eq!(passphrase("key\r\n"), "key");
        assert_eq!(passphrase("key\n\n"), "key\n");
    }
}
