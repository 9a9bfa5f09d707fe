//! Creates pools with mon commands, in both of `send_command`'s forms, and follows the pools in
//! the OSD map.
//!
//! - `wasmgr poolmgr create <pool> [<pg_num>]` sends `osd pool create` without waiting and
//!   answers `queued`; when the mon answers, the host calls `notify(Command, tag)` and the
//!   module takes the reply, logs it and keeps it in its store.
//! - `wasmgr poolmgr create-now <pool> [<pg_num>] [<timeout_ms>]` sends it and waits for the
//!   reply, which it passes on as its own result.
//! - `wasmgr poolmgr last` shows the last reply either form got.
//!
//! On each `osd_map` notify the module logs the pools that appeared or went away.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use wasmgr_guest::command::{self, Reply};
use wasmgr_guest::{
    ErrorCode, ErrorResponse, HandleCommandResult, MgrModule, NotifyKind, PoolName, cluster, errno,
    log, store,
};

wasmgr_guest::manifest!(
    r#"
description = "Creates pools through the cluster"
[requests]
get = ["osd_map"]
store = true
send_command = ["osd pool create"]
"#
);

/// The store key of the last reply, as JSON ([`LastReply`]).
const LAST: &str = "last";
/// The tag prefix of this module's `osd pool create` commands: `create/<pool>`.
const CREATE_TAG: &str = "create/";

#[derive(Default)]
struct Poolmgr {
    /// The pool names in the last OSD map read; `None` until this instance has read one.
    pools: Option<BTreeSet<String>>,
}

impl MgrModule for Poolmgr {
    const NAME: &'static str = "poolmgr";
    const VERSION: &'static str = "0.1.0";
    // Command completions come whatever the module subscribes to.
    const NOTIFY: &'static [NotifyKind] = &[NotifyKind::OsdMap];

    fn notify(&mut self, kind: NotifyKind, id: &str) {
        let done = match kind {
            NotifyKind::OsdMap => self.follow_pools(),
            NotifyKind::Command => take_reply(id),
            _ => Ok(()),
        };
        if let Err(e) = done {
            log::error!("notify {kind:?} {id}: {e}");
        }
    }
}

/// What `poolmgr last` shows: one reply and how it came.
#[derive(Serialize, Deserialize)]
struct LastReply {
    pool: String,
    /// `send` (the reply came with a notify) or `send-wait`.
    via: String,
    retval: i32,
    outb: String,
    outs: String,
}

impl LastReply {
    fn new(pool: &str, via: &str, reply: &Reply) -> LastReply {
        LastReply {
            pool: pool.to_owned(),
            via: via.to_owned(),
            retval: reply.retval,
            outb: reply.outb.clone(),
            outs: reply.outs.clone(),
        }
    }

    fn save(&self) -> wasmgr_guest::Result<()> {
        let json = serde_json::to_string(self).map_err(|e| {
            wasmgr_guest::Error::new(ErrorCode::Invalid, format!("cannot encode the reply: {e}"))
        })?;
        store::set(LAST, Some(&json))
    }
}

/// The mon command that creates `pool`.
fn pool_create(pool: &str, pg_num: Option<i64>) -> Value {
    let mut cmd = Map::new();
    cmd.insert("prefix".into(), json!("osd pool create"));
    cmd.insert("pool".into(), json!(pool));
    if let Some(pg_num) = pg_num {
        cmd.insert("pg_num".into(), json!(pg_num));
    }
    Value::Object(cmd)
}

/// `notify(Command, tag)`: takes the reply of one of this module's creates and records it.
fn take_reply(tag: &str) -> wasmgr_guest::Result<()> {
    let Some(pool) = tag.strip_prefix(CREATE_TAG) else {
        return Ok(());
    };
    let Some(reply) = command::take_reply(tag) else {
        log::warning!("no reply for command {tag}");
        return Ok(());
    };
    if reply.is_ok() {
        log::info!("created pool {pool}: {}", reply.outs);
    } else {
        log::warning!(
            "cannot create pool {pool} ({}): {}",
            reply.retval,
            reply.outs
        );
    }
    LastReply::new(pool, "send", &reply).save()
}

/// The pool names of `osd_map`.
#[derive(Deserialize)]
struct OsdMap {
    epoch: u64,
    pools: Vec<Pool>,
}

#[derive(Deserialize)]
struct Pool {
    pool_name: String,
}

impl Poolmgr {
    /// Logs the pools that appeared or went away since the last OSD map.
    fn follow_pools(&mut self) -> wasmgr_guest::Result<()> {
        let map: OsdMap = cluster::get("osd_map")?;
        let pools: BTreeSet<String> = map.pools.into_iter().map(|p| p.pool_name).collect();
        if let Some(before) = &self.pools {
            for added in pools.difference(before) {
                log::info!("epoch {}: pool {added} appeared", map.epoch);
            }
            for removed in before.difference(&pools) {
                log::info!("epoch {}: pool {removed} went away", map.epoch);
            }
        }
        self.pools = Some(pools);
        Ok(())
    }
}

#[wasmgr_guest::commands]
impl Poolmgr {
    /// Create a pool without waiting; `poolmgr last` shows the mon's answer
    #[write("poolmgr create")]
    fn create(
        &mut self,
        pool: PoolName,
        #[arg(range = 1..=32768)] pg_num: Option<i64>,
    ) -> Result<HandleCommandResult, ErrorResponse> {
        let tag = format!("{CREATE_TAG}{pool}");
        match command::send_mon(&pool_create(&pool, pg_num), "", &tag) {
            Ok(()) => Ok(HandleCommandResult::ok("queued")),
            Err(e) if e.code == ErrorCode::Exists => Err(ErrorResponse::new(
                -errno::EEXIST,
                format!("pool {pool} is already being created: see `poolmgr last`"),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Create a pool and wait for the mon's answer
    #[write("poolmgr create-now")]
    fn create_now(
        &mut self,
        pool: PoolName,
        #[arg(range = 1..=32768)] pg_num: Option<i64>,
        #[arg(range = 1..=60000)] timeout_ms: Option<i64>,
    ) -> Result<HandleCommandResult, ErrorResponse> {
        let timeout = Duration::from_millis(timeout_ms.map_or(500, |ms| ms.unsigned_abs()));
        let reply = command::mon_command(&pool_create(&pool, pg_num), "", timeout)?;
        LastReply::new(&pool, "send-wait", &reply).save()?;
        Ok(reply.into())
    }

    /// Show the last answer to a pool creation
    #[read("poolmgr last", responder)]
    fn last(&mut self) -> Result<LastReply, ErrorResponse> {
        let json = store::get(LAST)?
            .ok_or_else(|| ErrorResponse::new(-errno::ENOENT, "no pool created yet"))?;
        serde_json::from_str(&json).map_err(|e| {
            ErrorResponse::new(-errno::EIO, format!("the stored reply is damaged: {e}"))
        })
    }
}

wasmgr_guest::export_module!(Poolmgr);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_create_command_is_cephs() {
        assert_eq!(
            pool_create("foo", Some(16)).to_string(),
            r#"{"prefix":"osd pool create","pool":"foo","pg_num":16}"#
        );
        assert_eq!(
            pool_create("foo", None).to_string(),
            r#"{"prefix":"osd pool create","pool":"foo"}"#
        );
    }
}
