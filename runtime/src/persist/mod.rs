//! Durable state behind one trait: module options, the config-key (KV) store and which modules
//! are enabled. The store knows nothing about wasm or modules; keys are plain strings such as
//! `mgr/hello/place`.

mod sqlite;

pub use sqlite::SqliteStore;

/// The three key spaces the host keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    /// Module options, keyed `mgr/<module>/<option>` or `mgr/<module>/<mgr-id>/<option>`.
    Config,
    /// The config-key store; modules own `mgr/<module>/…`.
    Kv,
    /// Whether each module is enabled, keyed by module name (`true`/`false`).
    Modules,
    /// Which module first served each command prefix, keyed by prefix: that module keeps it
    /// against newcomers, whatever order modules load in.
    Claims,
    /// Capability grants, keyed `<module>\t<digest>\t<capability>`: who granted it, when.
    Grants,
    /// The audit ledger's events, keyed by time (`<microseconds, 20 digits>-<sequence>`).
    Events,
    /// Use and denial counters, keyed `used|denied\t<module>\t<capability>`.
    Tally,
    /// Modules in learning mode, keyed by module name, valued by the digest it applies to.
    Learning,
    /// Named admin clients, keyed by name: role and token hash.
    Clients,
}

/// A storage failure. The message says where the store lives, so the operator can look.
#[derive(Debug, thiserror::Error)]
#[error("storage error: {0}")]
pub struct PersistError(pub String);

/// Key-value persistence. Every write returns only once it is durable on disk (or, for a
/// distributed backend, acknowledged by a quorum).
pub trait Persistence: Send + Sync + 'static {
    /// The value of `key`, if any.
    fn get(&self, space: Space, key: &str) -> Result<Option<String>, PersistError>;
    /// Set `key` to `value`; `None` deletes it.
    fn set(&self, space: Space, key: &str, value: Option<&str>) -> Result<(), PersistError>;
    /// Every key starting with `prefix`, with its value, in key order.
    fn list(&self, space: Space, prefix: &str) -> Result<Vec<(String, String)>, PersistError>;
    /// Like [`Persistence::list`], but reading no further than `max_bytes` of keys plus values
    /// (with `keys_only`, of keys): `None` when the listing would be larger. A listing for a
    /// client is bounded before it is built, not after.
    fn list_within(
        &self,
        space: Space,
        prefix: &str,
        max_bytes: usize,
        keys_only: bool,
    ) -> Result<Option<Vec<(String, String)>>, PersistError>;
    /// The length in bytes of `key`'s value, if it has one, without reading the value.
    fn value_len(&self, space: Space, key: &str) -> Result<Option<u64>, PersistError>;
    /// How many keys start with `prefix` and how many bytes (keys plus values) they hold.
    fn usage(&self, space: Space, prefix: &str) -> Result<(u64, u64), PersistError>;
    /// Apply several writes atomically (all or none).
    fn set_many(
        &self,
        space: Space,
        writes: &[(String, Option<String>)],
    ) -> Result<(), PersistError>;
}
