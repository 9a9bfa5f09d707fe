//! How the cluster changes over time: one tick per simulated second (failures, daemons coming
//! back, peering finishing, map changes), and every `STATS_PERIOD` seconds a stats report
//! (client IO, data growth, recovery and backfill progress, scrubs, perf counters), as OSDs
//! report to ceph-mgr every `mgr_stats_period`.

use crate::clog::Priority;
use crate::crush::NONE;
use crate::model::{Cluster, IoDelta, osdflag, pgstate};
use crate::rng::{frac, hash3};
use crate::{NotifyKind, perf};

/// Seconds between two stats reports (`mgr_stats_period`).
pub(crate) const STATS_PERIOD: f64 = 5.0;
/// Objects one PG recovers or backfills per second.
const RECOVERY_OBJECTS_PER_SEC: f64 = 60.0;
/// Recoveries one OSD serves at once (`osd_recovery_max_active_hdd`).
const RECOVERY_SLOTS: u8 = 3;
/// Backfills one OSD takes part in at once (`osd_max_backfills`).
const BACKFILL_SLOTS: u8 = 1;
/// How long `osd down` keeps a healthy OSD down before its daemon, wrongly marked down,
/// boots again.
const WRONGLY_DOWN_SECS: (f64, f64) = (6.0, 14.0);

impl Cluster {
    /// Runs `dt` seconds of simulated time, one tick per whole second.
    pub(crate) fn advance(&mut self, dt: f64) {
        if !(dt.is_finite() && dt > 0.0) {
            return;
        }
        self.pending_time += dt.min(86_400.0 * 365.0);
        while self.pending_time >= 1.0 - 1e-9 {
            self.pending_time -= 1.0;
            self.tick();
        }
    }

    fn tick(&mut self) {
        self.now += 1.0;
        let epoch_before = self.osd_epoch;
        self.failures();
        self.revivals();
        self.down_out();
        self.mon_events();
        self.mds_events();
        self.rgw_events();
        self.settle_busy();
        let stats = self.now >= self.next_stats - 1e-9;
        if stats {
            self.stats_report();
            self.next_stats += STATS_PERIOD;
        }
        self.finish(stats || self.osd_epoch != epoch_before);
    }

    /// Ends a tick or a command: a new PG map version if PGs changed, health re-evaluated and
    /// announced when it changed or on a stats report.
    pub(crate) fn finish(&mut self, announce: bool) {
        if self.pg_dirty {
            self.pg_version += 1;
            self.pg_dirty = false;
        }
        let checks = crate::health::compute(self);
        let changed = crate::health::transition(self, checks);
        if announce {
            self.push_event(NotifyKind::PgSummary);
        }
        if changed || announce {
            self.push_event(NotifyKind::Health);
        }
    }

    /// Spontaneous failures: on average one every `failures` seconds, an OSD (or, one time in
    /// ten, a whole host) goes down for a while.
    fn failures(&mut self) {
        let mean = self.settings.failure_interval.as_secs_f64();
        if mean <= 0.0 || !self.rng.chance(1.0 / mean) {
            return;
        }
        if self.flags & osdflag::NODOWN != 0 {
            return;
        }
        let up: Vec<i32> = self.osds.iter().filter(|o| o.up).map(|o| o.id).collect();
        if up.is_empty() {
            return;
        }
        let pick = up
            .get(self.rng.below(up.len() as u64) as usize)
            .copied()
            .unwrap_or(0);
        let victims: Vec<i32> = if self.hosts.len() >= 3 && self.rng.chance(0.1) {
            let host = self.osds.get(pick as usize).map_or(0, |o| o.host);
            self.hosts
                .get(host)
                .map(|h| h.osds.clone())
                .unwrap_or_default()
        } else {
            vec![pick]
        };
        let mean_down = self.settings.down_time.as_secs_f64();
        // Most failures are restarts; some last past `mon_osd_down_out_interval`, so the
        // mons mark the OSD out and its data moves.
        let down_for = if self.rng.chance(0.15) {
            self.rng.range_f(650.0, 1300.0)
        } else {
            mean_down * self.rng.range_f(0.3, 1.7)
        };
        for id in victims {
            if !self.osd_is_up(id) {
                continue;
            }
            let host = self.host_name_of(id).to_owned();
            let grace = 20.0 + self.rng.range_f(0.0, 3.0);
            self.log(
                "mon",
                Priority::Inf,
                format!(
                    "osd.{id} failed (root=default,host={host}) (2 reporters from different host after {grace:.6} >= grace 20.000000)"
                ),
            );
            self.mark_down(id);
            if let Some(o) = self.osds.get_mut(id as usize) {
                o.revive_at = Some(self.now + down_for);
            }
        }
    }

    /// Down OSDs whose daemons are back boot, unless `noup` is set.
    fn revivals(&mut self) {
        if self.flags & osdflag::NOUP != 0 {
            return;
        }
        let due: Vec<i32> = self
            .osds
            .iter()
            .filter(|o| !o.up && o.revive_at.is_some_and(|t| t <= self.now))
            .map(|o| o.id)
            .collect();
        for id in due {
            self.mark_up(id);
            let addr = self
                .osds
                .get(id as usize)
                .map(|o| self.osd_addrvec_text(o))
                .unwrap_or_default();
            self.log("mon", Priority::Inf, format!("osd.{id} {addr} boot"));
        }
    }

    /// The mons mark OSDs out that have been down for `mon_osd_down_out_interval`, unless
    /// `noout` is set.
    fn down_out(&mut self) {
        if self.flags & osdflag::NOOUT != 0 {
            return;
        }
        let interval = self.config.mon_f64("mon_osd_down_out_interval", 600.0);
        if interval <= 0.0 {
            return;
        }
        let due: Vec<i32> = self
            .osds
            .iter()
            .filter(|o| !o.up && o.is_in && self.now - o.down_since >= interval)
            .map(|o| o.id)
            .collect();
        for id in due {
            let secs = self
                .osds
                .get(id as usize)
                .map_or(0.0, |o| self.now - o.down_since);
            self.log(
                "mon",
                Priority::Inf,
                format!(
                    "Marking osd.{id} out (has been down for {} seconds)",
                    secs as u64
                ),
            );
            self.set_in(id, false, true);
        }
    }

    /// `osd down` of a healthy OSD: its daemon notices and boots again shortly.
    pub(crate) fn schedule_wrongly_down(&mut self, id: i32) {
        let at = self.now + self.rng.range_f(WRONGLY_DOWN_SECS.0, WRONGLY_DOWN_SECS.1);
        if let Some(o) = self.osds.get_mut(id as usize)
            && o.revive_at.is_none_or(|t| t < at)
        {
            o.revive_at = Some(at);
        }
    }

    /// Now and then a peon mon restarts: it leaves the quorum for a while.
    fn mon_events(&mut self) {
        if self.mons.len() >= 3 && self.rng.chance(1.0 / 5400.0) {
            let i = 1 + self.rng.below(self.mons.len() as u64 - 1) as usize;
            let back = self.now + self.rng.range_f(20.0, 60.0);
            if let Some(m) = self.mons.get_mut(i)
                && m.in_quorum
            {
                m.in_quorum = false;
                m.back_at = Some(back);
                self.election_epoch += 2;
                self.quorum_since = self.now;
                let quorum = self.quorum_names().join(",");
                self.log(
                    "mon",
                    Priority::Inf,
                    format!(
                        "mon.a is new leader, mons {quorum} in quorum (ranks {})",
                        self.quorum_ranks_text()
                    ),
                );
            }
        }
        let due: Vec<usize> = self
            .mons
            .iter()
            .enumerate()
            .filter(|(_, m)| m.back_at.is_some_and(|t| t <= self.now))
            .map(|(i, _)| i)
            .collect();
        for i in due {
            if let Some(m) = self.mons.get_mut(i) {
                m.in_quorum = true;
                m.back_at = None;
            }
            self.election_epoch += 2;
            self.quorum_since = self.now;
            let quorum = self.quorum_names().join(",");
            self.log(
                "mon",
                Priority::Inf,
                format!(
                    "mon.a is new leader, mons {quorum} in quorum (ranks {})",
                    self.quorum_ranks_text()
                ),
            );
        }
    }

    pub(crate) fn quorum_names(&self) -> Vec<String> {
        self.mons
            .iter()
            .filter(|m| m.in_quorum)
            .map(|m| m.name.clone())
            .collect()
    }

    fn quorum_ranks_text(&self) -> String {
        self.mons
            .iter()
            .enumerate()
            .filter(|(_, m)| m.in_quorum)
            .map(|(i, _)| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Now and then the active MDS fails and the standby takes over rank 0 (replay,
    /// reconnect, rejoin, active); the failed daemon restarts as the new standby.
    fn mds_events(&mut self) {
        if let Some(at) = self.fs.next_transition {
            if at > self.now {
                return;
            }
            self.fs.next_transition = None;
            let mut msgs = Vec::new();
            for mds in &mut self.fs.mds {
                let next = match mds.state {
                    "up:replay" => Some("up:reconnect"),
                    "up:reconnect" => Some("up:rejoin"),
                    "up:rejoin" => Some("up:active"),
                    "down" => Some("up:standby"),
                    _ => None,
                };
                if let Some(next) = next {
                    if next == "up:active" {
                        msgs.push(format!(
                            "daemon mds.{} is now active in filesystem {} as rank 0",
                            mds.name, self.fs.name
                        ));
                    }
                    if next == "up:standby" {
                        mds.gid += 1000;
                        mds.incarnation = 0;
                    }
                    mds.state = next;
                    mds.state_seq += 1;
                }
            }
            for m in msgs {
                self.log("mon", Priority::Inf, m);
            }
            let pending = self
                .fs
                .mds
                .iter()
                .any(|m| m.state != "up:active" && m.state != "up:standby");
            if pending {
                self.fs.next_transition = Some(self.now + 2.0);
            }
            self.bump_fsmap();
            return;
        }
        if !self.rng.chance(1.0 / 7200.0) {
            return;
        }
        let active = self.fs.mds.iter().position(|m| m.state == "up:active");
        let standby = self.fs.mds.iter().position(|m| m.state == "up:standby");
        if let (Some(a), Some(s)) = (active, standby) {
            let (a_name, s_name) = match (self.fs.mds.get(a), self.fs.mds.get(s)) {
                (Some(x), Some(y)) => (x.name.clone(), y.name.clone()),
                _ => return,
            };
            if let Some(m) = self.fs.mds.get_mut(a) {
                m.state = "down";
            }
            let epoch = self.fs.epoch + 1;
            if let Some(m) = self.fs.mds.get_mut(s) {
                m.state = "up:replay";
                m.state_seq += 1;
                m.incarnation = epoch;
            }
            self.fs.last_failure_osd_epoch = self.osd_epoch;
            self.log(
                "mon",
                Priority::Wrn,
                format!("Replacing daemon mds.{a_name} as rank 0 with standby daemon mds.{s_name}"),
            );
            self.fs.next_transition = Some(self.now + 2.0);
            self.bump_fsmap();
        }
    }

    pub(crate) fn bump_fsmap(&mut self) {
        self.fs.epoch += 1;
        self.fs.modified = self.now;
        self.push_event(NotifyKind::FsMap);
    }

    /// Now and then an RGW restarts: it leaves the service map and registers again.
    fn rgw_events(&mut self) {
        if self.services.rgw.is_empty() || !self.rng.chance(1.0 / 3600.0) {
            return;
        }
        let i = self.rng.below(self.services.rgw.len() as u64) as usize;
        let epoch = self.services.epoch + 1;
        let now = self.now;
        if let Some(d) = self.services.rgw.get_mut(i) {
            d.gid += 100;
            d.start_epoch = epoch;
            d.start_stamp = now;
            d.nonce = d.nonce.wrapping_add(7);
        }
        self.services.epoch = epoch;
        self.services.modified = now;
        self.push_event(NotifyKind::ServiceMap);
    }

    /// Finishes peering and scrubs that are due.
    fn settle_busy(&mut self) {
        let now_ms = self.now_ms();
        let busy: Vec<(u32, u32)> = self.busy.iter().copied().collect();
        for (pool, ps) in busy {
            let due = self
                .pools
                .get(&pool)
                .and_then(|p| p.pgs.get(ps as usize))
                .is_some_and(|pg| pg.until_ms != 0 && pg.until_ms <= now_ms);
            if due {
                self.settle(pool, ps);
            }
        }
    }

    /// Sets a PG's state from its sets and pending work, once peering (or a scrub) is over.
    pub(crate) fn settle(&mut self, pool_id: u32, ps: u32) {
        let now_ms = self.now_ms();
        let epoch = self.osd_epoch;
        let Some(pool) = self.pools.get(&pool_id) else {
            self.busy.remove(&(pool_id, ps));
            return;
        };
        let (size, min_size) = (pool.size as usize, pool.min_size as usize);
        let Some(pg) = pool.pgs.get(ps as usize) else {
            self.busy.remove(&(pool_id, ps));
            return;
        };
        let acting_up = pg.acting.osds().filter(|&o| self.osd_is_up(o)).count();
        let was_scrubbing = pg.state & pgstate::SCRUBBING != 0 && pg.state & pgstate::PEERING == 0;
        let deep = pg.state & pgstate::DEEP_SCRUB != 0;
        let mut state;
        if acting_up == 0 {
            state = pgstate::STALE | pgstate::UNDERSIZED | pgstate::DEGRADED | pgstate::PEERED;
        } else if acting_up < min_size {
            state = pgstate::UNDERSIZED | pgstate::DEGRADED | pgstate::PEERED;
            if pg.acting != pg.up {
                state |= pgstate::REMAPPED | pgstate::BACKFILL_WAIT;
            }
        } else {
            state = pgstate::ACTIVE;
            if acting_up < size {
                state |= pgstate::UNDERSIZED | pgstate::DEGRADED;
            }
            if pg.missing > 0 && acting_up >= size {
                state |= pgstate::DEGRADED | pgstate::RECOVERY_WAIT;
            }
            if pg.acting != pg.up {
                state |= pgstate::REMAPPED | pgstate::BACKFILL_WAIT;
            }
            if state == pgstate::ACTIVE {
                state |= pgstate::CLEAN;
            }
        }
        let Some(pg) = self
            .pools
            .get_mut(&pool_id)
            .and_then(|p| p.pgs.get_mut(ps as usize))
        else {
            return;
        };
        if was_scrubbing {
            pg.t_scrub = now_ms;
            if deep {
                pg.t_deep_scrub = now_ms;
            }
        }
        let became_active = state & pgstate::ACTIVE != 0 && pg.state & pgstate::ACTIVE == 0;
        if became_active {
            pg.t_became_active = now_ms;
        }
        if state & (pgstate::ACTIVE | pgstate::PEERED) != 0 && pg.state & pgstate::PEERING != 0 {
            pg.t_became_peered = now_ms;
        }
        if state & pgstate::CLEAN != 0 {
            pg.last_epoch_clean = epoch;
            pg.t_clean = now_ms;
        }
        pg.state = state;
        pg.until_ms = 0;
        pg.t_change = now_ms;
        pg.reported_epoch = epoch;
        if state & pgstate::CLEAN != 0 {
            self.busy.remove(&(pool_id, ps));
        } else {
            self.busy.insert((pool_id, ps));
        }
        self.pg_dirty = true;
    }

    /// One stats report: client IO and data growth over every PG, recovery and backfill
    /// progress, scrubs, OSD usage and perf counters, and a new PG map.
    fn stats_report(&mut self) {
        let dt = (self.now - self.pg_stamp).max(1.0);
        self.pg_stamp = self.now;
        self.delta_secs = dt;
        let t = self.now - self.start;
        let ids: Vec<u32> = self.pools.keys().copied().collect();
        for id in &ids {
            self.refresh_pool_io(*id, t);
        }
        self.wander_fill();
        let growth = self.pool_growth();
        let now_ms = self.now_ms();
        let epoch = self.osd_epoch;
        let tick = (self.now as u64) / 5;
        let n_osds = self.osds.len();
        let mut osd_io = vec![perf::OsdIo::default(); n_osds];
        let mut deltas = std::collections::BTreeMap::new();
        let up: Vec<bool> = self.osds.iter().map(|o| o.up).collect();
        for pool in self.pools.values_mut() {
            let ws = pool.weight_sum.max(1e-9);
            let grow = growth.get(&pool.id).copied().unwrap_or(0.0);
            let mut d = IoDelta::default();
            let (rd_ops, wr_ops) = (pool.rd_ops * dt, pool.wr_ops * dt);
            let (rd_b, wr_b) = (pool.rd_op_bytes, pool.wr_op_bytes);
            let size = pool.size as usize;
            let object_size = pool.object_size.max(1);
            for (ps, pg) in pool.pgs.iter_mut().enumerate() {
                let share = f64::from(pg.weight) / ws;
                let dither = frac(hash3(tick, u64::from(pool.id), ps as u64));
                let active = pg.state & pgstate::ACTIVE != 0;
                let (rd, wr) = if active {
                    (
                        (rd_ops * share + dither) as u64,
                        (wr_ops * share + (1.0 - dither)) as u64,
                    )
                } else {
                    (0, 0)
                };
                let rd_kb = (rd as f64 * rd_b / 1024.0) as u64;
                let wr_kb = (wr as f64 * wr_b / 1024.0) as u64;
                pg.rd += rd;
                pg.rd_kb += rd_kb;
                pg.wr += wr;
                pg.wr_kb += wr_kb;
                pg.version += wr;
                if wr > 0 {
                    pg.version_epoch = epoch;
                }
                if active {
                    let db = grow * dt * share;
                    pg.bytes = if db >= 0.0 {
                        pg.bytes.saturating_add(db as u64)
                    } else {
                        pg.bytes.saturating_sub((-db) as u64)
                    };
                }
                let acting_up = pg
                    .acting
                    .osds()
                    .filter(|&o| up.get(o as usize).copied().unwrap_or(false))
                    .count();
                if acting_up < size && wr > 0 {
                    let objects = pg.bytes.div_ceil(object_size);
                    pg.missing = (pg.missing + wr / 2).min(objects);
                }
                pg.reported_seq += 1;
                pg.reported_epoch = epoch;
                pg.t_report = now_ms;
                if acting_up > 0 {
                    pg.t_unstale = now_ms;
                }
                if active {
                    pg.t_active = now_ms;
                }
                if pg.state & (pgstate::ACTIVE | pgstate::PEERED) != 0 {
                    pg.t_peered = now_ms;
                }
                if pg.state & pgstate::CLEAN != 0 {
                    pg.t_clean = now_ms;
                }
                if pg.state & pgstate::DEGRADED == 0 {
                    pg.t_undegraded = now_ms;
                }
                if pg.state & pgstate::UNDERSIZED == 0 {
                    pg.t_fullsized = now_ms;
                }
                let primary = pg.acting.primary();
                if primary != NONE
                    && let Some(io) = osd_io.get_mut(primary as usize)
                {
                    io.rd += rd;
                    io.wr += wr;
                    io.rd_bytes += rd_kb * 1024;
                    io.wr_bytes += wr_kb * 1024;
                }
                d.rd += rd;
                d.rd_kb += rd_kb;
                d.wr += wr;
                d.wr_kb += wr_kb;
            }
            deltas.insert(pool.id, d);
        }
        self.progress_recovery(dt, &mut deltas, &mut osd_io);
        self.start_scrubs(dt);
        self.delta = deltas;
        self.recount_osds();
        perf::sample(self, &osd_io);
        for osd in &mut self.osds {
            if osd.up {
                osd.seq += 1;
            }
        }
        self.pg_dirty = true;
        let line = crate::render::text::pgmap_line(self);
        let mgr = self.mgr.id.clone();
        self.log_as(&format!("mgr.{mgr}"), "cluster", Priority::Dbg, line);
    }

    /// The cluster's target fill wanders: a slow random walk pulled back towards 40 %.
    fn wander_fill(&mut self) {
        let step = (self.rng.unit() - 0.5) * 0.01 + (0.4 - self.fill_target) * 0.002;
        self.fill_target = (self.fill_target + step).clamp(0.05, 0.9);
    }

    /// Bytes per second each pool grows (or shrinks) by, to approach its part of the target
    /// fill over about half an hour; never growing while an OSD is nearly full.
    fn pool_growth(&self) -> std::collections::BTreeMap<u32, f64> {
        let (raw_total, _) = self.raw_totals();
        let shares: f64 = self
            .pools
            .values()
            .map(|p| p.data_share)
            .sum::<f64>()
            .max(1e-9);
        let max_util = self
            .osds
            .iter()
            .filter(|o| o.up)
            .map(|o| o.utilization())
            .fold(0.0, f64::max);
        let paused = self.flags & osdflag::PAUSEWR != 0;
        self.pools
            .values()
            .map(|p| {
                let target =
                    raw_total as f64 * self.fill_target * p.data_share / shares / p.raw_factor();
                let mut g = (target - p.stored_bytes() as f64) / 1800.0;
                if max_util > self.full_ratio - 0.02 && g > 0.0 {
                    g = -g.abs().max(1.0);
                }
                if paused {
                    g = 0.0;
                }
                (p.id, g)
            })
            .collect()
    }

    /// Recovery and backfill of busy PGs, within each OSD's slots and the `norecover`,
    /// `nobackfill` and `norebalance` flags.
    fn progress_recovery(
        &mut self,
        dt: f64,
        deltas: &mut std::collections::BTreeMap<u32, IoDelta>,
        osd_io: &mut [perf::OsdIo],
    ) {
        let norecover = self.flags & (osdflag::NORECOVER | osdflag::PAUSEREC) != 0;
        let nobackfill = self.flags & (osdflag::NOBACKFILL | osdflag::PAUSEREC) != 0;
        let norebalance = self.flags & osdflag::NOREBALANCE != 0;
        let mut rec_slots = vec![0u8; self.osds.len()];
        let mut bf_slots = vec![0u8; self.osds.len()];
        let budget = (RECOVERY_OBJECTS_PER_SEC * dt) as u64;
        let busy: Vec<(u32, u32)> = self.busy.iter().copied().collect();
        let mut finished = Vec::new();
        for (pool_id, ps) in busy {
            let Some(pool) = self.pools.get_mut(&pool_id) else {
                continue;
            };
            let object_size = pool.object_size.max(1);
            let Some(pg) = pool.pgs.get_mut(ps as usize) else {
                continue;
            };
            // PGs recover and backfill below min_size too (`osd_allow_recovery_below_min_size`),
            // but not while peering or with no OSD left.
            if pg.state & (pgstate::ACTIVE | pgstate::PEERED) == 0
                || pg.state & pgstate::PEERING != 0
            {
                continue;
            }
            let mut progressed = 0u64;
            let had_work = pg.missing > 0 || pg.backfill_left > 0;
            let undersized = pg.state & pgstate::UNDERSIZED != 0;
            // An undersized PG has nowhere to recover to until its replica returns.
            if pg.missing > 0 && !undersized {
                let primary = pg.acting.primary();
                let slot = rec_slots.get_mut(primary as usize);
                let can = !norecover && slot.as_ref().is_some_and(|s| **s < RECOVERY_SLOTS);
                pg.state &= !(pgstate::RECOVERING | pgstate::RECOVERY_WAIT);
                if can {
                    if let Some(s) = slot {
                        *s += 1;
                    }
                    let n = pg.missing.min(budget.max(1));
                    pg.missing -= n;
                    progressed += n;
                    pg.state |= pgstate::RECOVERING;
                } else {
                    pg.state |= pgstate::RECOVERY_WAIT;
                }
                pg.state |= pgstate::DEGRADED;
            }
            if pg.backfill_left > 0 {
                let degraded = pg.state & pgstate::UNDERSIZED != 0;
                let targets: Vec<i32> = pg.up.osds().filter(|o| !pg.acting.contains(*o)).collect();
                let free = targets.iter().all(|&o| {
                    bf_slots
                        .get(o as usize)
                        .is_some_and(|s| *s < BACKFILL_SLOTS)
                });
                let allowed = !nobackfill && (!norebalance || degraded);
                pg.state &= !(pgstate::BACKFILLING | pgstate::BACKFILL_WAIT);
                if allowed && free {
                    for &o in &targets {
                        if let Some(s) = bf_slots.get_mut(o as usize) {
                            *s += 1;
                        }
                    }
                    let n = pg.backfill_left.min(budget.max(1));
                    pg.backfill_left -= n;
                    progressed += n;
                    pg.state |= pgstate::BACKFILLING;
                } else {
                    pg.state |= pgstate::BACKFILL_WAIT;
                }
                pg.state |= pgstate::REMAPPED;
            }
            if progressed > 0 {
                pg.recovered += progressed;
                pg.recovered_bytes += progressed * object_size;
                if let Some(d) = deltas.get_mut(&pool_id) {
                    d.recovered += progressed;
                    d.recovered_bytes += progressed * object_size;
                }
                let primary = pg.acting.primary();
                if let Some(io) = osd_io.get_mut(primary as usize) {
                    io.recovery_ops += progressed;
                    io.recovery_bytes += progressed * object_size;
                }
            }
            let done = if pg.acting != pg.up {
                pg.backfill_left == 0
            } else {
                pg.missing == 0 && !undersized
            };
            if had_work && done {
                finished.push((pool_id, ps));
            }
        }
        for (pool_id, ps) in finished {
            let Some(pg) = self
                .pools
                .get_mut(&pool_id)
                .and_then(|p| p.pgs.get_mut(ps as usize))
            else {
                continue;
            };
            if pg.acting != pg.up {
                // Backfill done: the pg_temp goes away and the PG peers on its up set, whose
                // members now have every object.
                pg.acting = pg.up;
                pg.missing = 0;
                self.start_peering(pool_id, ps, 1.0);
            } else {
                self.settle(pool_id, ps);
            }
        }
    }

    /// Clean PGs scrub now and then (each about every six hours; one scrub in seven is
    /// deep), unless `noscrub`/`nodeep-scrub` are set.
    fn start_scrubs(&mut self, dt: f64) {
        if self.flags & osdflag::NOSCRUB != 0 {
            return;
        }
        let total: usize = self.pools.values().map(|p| p.pgs.len()).sum();
        let expected = total as f64 * dt / 21_600.0;
        let mut count = expected.floor() as u64 + u64::from(self.rng.chance(expected.fract()));
        count = count.min(64);
        let nodeep = self.flags & osdflag::NODEEP_SCRUB != 0;
        let pools: Vec<(u32, u32)> = self.pools.values().map(|p| (p.id, p.pg_num())).collect();
        for _ in 0..count {
            let mut k = self.rng.below(total as u64);
            let mut target = None;
            for &(id, n) in &pools {
                if k < u64::from(n) {
                    target = Some((id, k as u32));
                    break;
                }
                k -= u64::from(n);
            }
            let Some((pool, ps)) = target else {
                continue;
            };
            if self.busy.contains(&(pool, ps)) {
                continue;
            }
            let deep = !nodeep && self.rng.chance(1.0 / 7.0);
            let secs = self.rng.range_f(8.0, 40.0);
            let until = self.now_ms().saturating_add((secs * 1000.0) as u32);
            if let Some(pg) = self
                .pools
                .get_mut(&pool)
                .and_then(|p| p.pgs.get_mut(ps as usize))
                && pg.state == pgstate::ACTIVE | pgstate::CLEAN
            {
                pg.state |= pgstate::SCRUBBING | if deep { pgstate::DEEP_SCRUB } else { 0 };
                pg.until_ms = until;
                self.busy.insert((pool, ps));
            }
        }
    }

    /// `[v2:10.0.0.1:6800/1234,v1:10.0.0.1:6801/1234]`.
    pub(crate) fn osd_addrvec_text(&self, osd: &crate::model::Osd) -> String {
        format!(
            "[v2:{}/{n},v1:{}/{n}]",
            self.osd_addr(osd, 0),
            self.osd_addr(osd, 1),
            n = osd.nonce
        )
    }
}
