//! The embedded store: one SQLite database file in the data directory, WAL journal,
//! `synchronous=FULL`, so a committed write survives a crash or `kill -9` right after it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use super::{PersistError, Persistence, Space};

/// The embedded, single-node, durable store.
pub struct SqliteStore {
    path: PathBuf,
    /// The connection that writes. Writes are serialised through it, in turn ([`Turns`]).
    conn: Mutex<Connection>,
    /// Connections that only read: in WAL mode they read the last committed state while a
    /// write is being made durable, so reads never wait behind another module's writes, and
    /// with several, nor behind one module's long read.
    readers: Vec<Mutex<Connection>>,
    /// Where the next reader search starts, so that readers are used in turn.
    next_reader: std::sync::atomic::AtomicUsize,
    /// Writes so far, to look for space to give back every [`RECLAIM_EVERY`] writes.
    writes: std::sync::atomic::AtomicU64,
    /// Who uses the connection next: first come, first served.
    turns: Turns,
}

/// A first-come, first-served queue for the connection (a ticket lock): `std`'s mutex lets a
/// thread that releases it take it straight back, so one busy writer could starve the rest.
#[derive(Default)]
struct Turns {
    /// (next ticket to hand out, ticket being served)
    state: Mutex<(u64, u64)>,
    cv: std::sync::Condvar,
}

/// A caller's turn; the next caller's begins when it is dropped.
struct Turn<'a>(&'a Turns);

impl Turns {
    fn take(&self) -> Turn<'_> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let ticket = st.0;
        st.0 += 1;
        while st.1 != ticket {
            st = self.cv.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        Turn(self)
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut st = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
        st.1 += 1;
        drop(st);
        self.0.cv.notify_all();
    }
}

/// Read-only connections: reads of several modules run side by side.
const READERS: usize = 4;

/// SQLite's `auto_vacuum` value for incremental vacuum.
const INCREMENTAL: i64 = 2;
/// Bytes of WAL kept after a checkpoint; the rest is truncated.
const WAL_KEEP_BYTES: i64 = 1 << 20;
/// Free pages that make a write look for space to give back.
const RECLAIM_PAGES: i64 = 256;
/// Pages one reclaim returns at most, so that it holds the connection only briefly.
const RECLAIM_MAX_PAGES: i64 = 1024;
/// How often (in writes) a write that deletes nothing also looks for space to give back: an
/// overwrite with a smaller value frees pages too.
const RECLAIM_EVERY: u64 = 32;

/// Gives freed pages back to the file system and truncates the WAL, when enough pages are
/// free to be worth it. Bounded by [`RECLAIM_MAX_PAGES`]. Runs after a write has committed,
/// so a failure here is only logged: the write stands.
fn reclaim(c: &Connection) {
    let run = || -> rusqlite::Result<()> {
        let free: i64 = c.pragma_query_value(None, "freelist_count", |r| r.get(0))?;
        if free < RECLAIM_PAGES {
            return Ok(());
        }
        // Each step of this pragma frees one page: step it to the end.
        let mut stmt = c.prepare(&format!("PRAGMA incremental_vacuum({RECLAIM_MAX_PAGES})"))?;
        let mut rows = stmt.query([])?;
        while rows.next()?.is_some() {}
        drop(rows);
        drop(stmt);
        // The file shrinks once the vacuum is checkpointed; a passive checkpoint waits for
        // nobody, and `journal_size_limit` then truncates the WAL.
        c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
    };
    if let Err(e) = run() {
        tracing::warn!(error = %e, "cannot give freed database pages back; will try again");
    }
}

/// Permissions of the database and its WAL and shared-memory files. They hold every
/// config-key (secrets among them), every module's store and the ledger: with the umask's
/// usual 0644, any local user could read them without a token.
const DB_FILE_MODE: u32 = 0o600;

/// Gives `path`, if it exists, [`DB_FILE_MODE`]. A file the daemon cannot change (another
/// user owns it) is left as it is, with a warning saying what to run.
fn restrict(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    if meta.permissions().mode() & 0o777 == DB_FILE_MODE {
        return;
    }
    if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(DB_FILE_MODE)) {
        tracing::warn!(
            path = %path.display(),
            "cannot make the database file readable only by its owner ({e}); run `chmod {DB_FILE_MODE:o} {}` as its owner",
            path.display()
        );
    }
}

fn table(space: Space) -> &'static str {
    match space {
        Space::Config => "config",
        Space::Kv => "kv",
        Space::Modules => "modules",
        Space::Claims => "claims",
        Space::Grants => "grants",
        Space::Events => "events",
        Space::Tally => "tally",
        Space::Learning => "learning",
        Space::Clients => "clients",
    }
}

impl SqliteStore {
    /// Opens (creating if needed) `wasmgr.db` in `dir`.
    pub fn open(dir: &Path) -> Result<Self, PersistError> {
        let path = dir.join("wasmgr.db");
        let err = |e: rusqlite::Error| {
            PersistError(format!(
                "{}: {e}; check the data directory is writable and not used by another daemon",
                path.display()
            ))
        };
        let conn = Connection::open(&path).map_err(err)?;
        // Before anything creates the WAL: SQLite gives it and the shared-memory file the
        // main file's permissions.
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            restrict(Path::new(&file));
        }
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        // Deleted data gives its space back: freed pages are returned to the file system by
        // `reclaim` (incremental vacuum), and the WAL is truncated after checkpoints. A
        // database made before this setting is vacuumed once to take it up.
        let auto_vacuum: i64 = conn
            .pragma_query_value(None, "auto_vacuum", |r| r.get(0))
            .map_err(err)?;
        if auto_vacuum != INCREMENTAL {
            conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")
                .map_err(err)?;
            conn.execute_batch("VACUUM").map_err(err)?;
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "journal_size_limit", WAL_KEEP_BYTES)
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        for t in [
            "config", "kv", "modules", "claims", "grants", "events", "tally", "learning", "clients",
        ] {
            conn.execute(
                &format!("CREATE TABLE IF NOT EXISTS {t} (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID"),
                [],
            )
            .map_err(err)?;
        }
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let reader = Connection::open_with_flags(
                &path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(err)?;
            reader
                .busy_timeout(std::time::Duration::from_secs(5))
                .map_err(err)?;
            readers.push(Mutex::new(reader));
        }
        Ok(SqliteStore {
            path,
            conn: Mutex::new(conn),
            readers,
            next_reader: std::sync::atomic::AtomicUsize::new(0),
            writes: std::sync::atomic::AtomicU64::new(0),
            turns: Turns::default(),
        })
    }

    fn err(&self, e: rusqlite::Error) -> PersistError {
        PersistError(format!("{}: {e}", self.path.display()))
    }

    fn with<R>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<R>,
    ) -> Result<R, PersistError> {
        // In turn: a caller that writes back to back (a module flooding its store) cannot
        // keep taking the connection ahead of callers already waiting for it.
        let _turn = self.turns.take();
        // A poisoned lock only means another thread panicked mid-call; SQLite's own
        // transactions keep the data consistent, so the connection is still usable.
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn).map_err(|e| self.err(e))
    }
}

/// The smallest string greater than every string starting with `prefix`, for range scans.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(c) = chars.pop() {
        if let Some(next) = char::from_u32(c as u32 + 1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

impl SqliteStore {
    /// Run `f` on a free reader, else wait for one (taken in turn).
    fn read<R>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<R>,
    ) -> Result<R, PersistError> {
        let start = self
            .next_reader
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let n = self.readers.len().max(1);
        let free = (0..n).find_map(|i| match self.readers.get((start + i) % n)?.try_lock() {
            Ok(conn) => Some(conn),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        });
        let conn = match free {
            Some(conn) => conn,
            None => match self.readers.get(start % n) {
                Some(reader) => reader.lock().unwrap_or_else(|p| p.into_inner()),
                None => return Err(PersistError("no database reader is open".into())),
            },
        };
        f(&conn).map_err(|e| self.err(e))
    }
}

impl Persistence for SqliteStore {
    fn get(&self, space: Space, key: &str) -> Result<Option<String>, PersistError> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT value FROM {} WHERE key = ?1",
                table(space)
            ))?
            .query_row(params![key], |r| r.get(0))
            .optional()
        })
    }

    fn set(&self, space: Space, key: &str, value: Option<&str>) -> Result<(), PersistError> {
        self.with(|c| {
            match value {
                Some(v) => c
                    .prepare_cached(&format!(
                        "INSERT INTO {} (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        table(space)
                    ))?
                    .execute(params![key, v])?,
                None => c
                    .prepare_cached(&format!("DELETE FROM {} WHERE key = ?1", table(space)))?
                    .execute(params![key])?,
            };
            let n = self.writes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if value.is_none() || n.is_multiple_of(RECLAIM_EVERY) {
                reclaim(c);
            }
            Ok(())
        })
    }

    fn list(&self, space: Space, prefix: &str) -> Result<Vec<(String, String)>, PersistError> {
        self.read(|c| {
            let t = table(space);
            let map = |r: &rusqlite::Row<'_>| Ok((r.get(0)?, r.get(1)?));
            match prefix_end(prefix) {
                Some(end) => c
                    .prepare_cached(&format!(
                        "SELECT key, value FROM {t} WHERE key >= ?1 AND key < ?2 ORDER BY key"
                    ))?
                    .query_map(params![prefix, end], map)?
                    .collect(),
                None => c
                    .prepare_cached(&format!(
                        "SELECT key, value FROM {t} WHERE key >= ?1 ORDER BY key"
                    ))?
                    .query_map(params![prefix], map)?
                    .collect(),
            }
        })
    }

    fn list_within(
        &self,
        space: Space,
        prefix: &str,
        max_bytes: usize,
        keys_only: bool,
    ) -> Result<Option<Vec<(String, String)>>, PersistError> {
        self.read(|c| {
            let t = table(space);
            let value = if keys_only { "''" } else { "value" };
            let end = prefix_end(prefix).unwrap_or_else(|| "\u{10FFFF}".repeat(2));
            let mut stmt = c.prepare_cached(&format!(
                "SELECT key, {value} FROM {t} WHERE key >= ?1 AND key < ?2 ORDER BY key"
            ))?;
            let mut rows = stmt.query(params![prefix, end])?;
            let (mut out, mut size) = (Vec::new(), 0usize);
            while let Some(row) = rows.next()? {
                let (k, v): (String, String) = (row.get(0)?, row.get(1)?);
                size = size.saturating_add(k.len() + v.len());
                if size > max_bytes {
                    return Ok(None);
                }
                out.push((k, v));
            }
            Ok(Some(out))
        })
    }

    fn value_len(&self, space: Space, key: &str) -> Result<Option<u64>, PersistError> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT length(CAST(value AS BLOB)) FROM {} WHERE key = ?1",
                table(space)
            ))?
            .query_row(params![key], |r| r.get::<_, i64>(0))
            .optional()
            .map(|n| n.map(|n| n.max(0) as u64))
        })
    }

    fn usage(&self, space: Space, prefix: &str) -> Result<(u64, u64), PersistError> {
        self.read(|c| {
            let t = table(space);
            let end = prefix_end(prefix).unwrap_or_else(|| "\u{10FFFF}".repeat(2));
            c.prepare_cached(&format!(
                "SELECT count(*), coalesce(sum(length(CAST(key AS BLOB)) + length(CAST(value AS BLOB))), 0) FROM {t} WHERE key >= ?1 AND key < ?2"
            ))?
            .query_row(params![prefix, end], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)))
        })
    }

    fn set_many(
        &self,
        space: Space,
        writes: &[(String, Option<String>)],
    ) -> Result<(), PersistError> {
        self.with(|c| {
            let tx = c.transaction()?;
            for (k, v) in writes {
                match v {
                    Some(v) => tx.execute(
                        &format!("INSERT INTO {} (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value", table(space)),
                        params![k, v],
                    )?,
                    None => tx.execute(&format!("DELETE FROM {} WHERE key = ?1", table(space)), params![k])?,
                };
            }
            tx.commit()?;
            reclaim(c);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_read_back_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = SqliteStore::open(dir.path()).unwrap();
            s.set(Space::Kv, "mgr/a/x", Some("1")).unwrap();
            s.set(Space::Kv, "mgr/a/y", Some("22")).unwrap();
            s.set(Space::Kv, "mgr/b/x", Some("3")).unwrap();
            s.set(Space::Config, "mgr/a/x", Some("c")).unwrap();
        }
        let s = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(s.get(Space::Kv, "mgr/a/x").unwrap().as_deref(), Some("1"));
        assert_eq!(
            s.list(Space::Kv, "mgr/a/").unwrap(),
            vec![
                ("mgr/a/x".into(), "1".into()),
                ("mgr/a/y".into(), "22".into())
            ]
        );
        assert_eq!(s.usage(Space::Kv, "mgr/a/").unwrap(), (2, 7 + 1 + 7 + 2));
        s.set(Space::Kv, "mgr/a/x", None).unwrap();
        assert_eq!(s.get(Space::Kv, "mgr/a/x").unwrap(), None);
        assert_eq!(
            s.get(Space::Config, "mgr/a/x").unwrap().as_deref(),
            Some("c")
        );
    }
}
