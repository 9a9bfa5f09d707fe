//! Plain-text output as the `ceph` CLI prints it: sizes and counts in Ceph's units, aligned
//! tables, `ceph -s`, `osd tree`, `osd df`, `df`, `pg stat`, `health`, `mon dump`.

use std::fmt::Write as _;

use crate::model::{Cluster, PoolKind};
use crate::render::pgmap;
use crate::time::{age, stamp};

/// `format_u`: the number in `units` of `step`, with as many decimals (2, 1, 0) as fit.
fn format_u(v: u64, step: u64, units: &[&str], max_len: usize) -> String {
    let mut n = v;
    let mut index = 0;
    while n >= step && index + 1 < units.len() {
        n /= step;
        index += 1;
    }
    let unit = units.get(index).copied().unwrap_or("");
    if index == 0 {
        return format!("{n}{unit}");
    }
    let mult = step.saturating_pow(index as u32);
    if v.is_multiple_of(mult) {
        return format!("{n}{unit}");
    }
    let x = v as f64 / mult as f64;
    for prec in (0..=2).rev() {
        let s = format!("{x:.prec$}{unit}");
        if s.len() <= max_len || prec == 0 {
            return s;
        }
    }
    format!("{n}{unit}")
}

/// `byte_u_t`: `0 B`, `60 KiB`, `1.2 MiB`, `3.6 TiB`.
pub(crate) fn bytes(v: u64) -> String {
    format_u(
        v,
        1024,
        &[" B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB"],
        7,
    )
}

/// `si_u_t`: `5`, `1.23k`, `2.5M`.
pub(crate) fn si(v: u64) -> String {
    format_u(v, 1000, &["", "k", "M", "G", "T", "P", "E"], 7)
}

fn rate(bytes_per_sec: f64) -> String {
    format!("{}/s", bytes(bytes_per_sec.max(0.0) as u64))
}

/// A column's alignment.
#[derive(Clone, Copy)]
pub(crate) enum Align {
    Left,
    Right,
}

/// `TextTable`: columns two spaces apart, each as wide as its widest cell.
pub(crate) struct Table {
    heads: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
    left_headings: bool,
}

impl Table {
    pub(crate) fn new(heads: &[(&str, Align)]) -> Self {
        Self {
            heads: heads.iter().map(|(h, a)| ((*h).to_owned(), *a)).collect(),
            rows: Vec::new(),
            left_headings: false,
        }
    }

    /// Headings aligned left whatever their column's alignment, as `osd tree` and `osd df`
    /// define them.
    pub(crate) fn left_headings(mut self) -> Self {
        self.left_headings = true;
        self
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub(crate) fn render(&self, header: bool) -> String {
        let n = self.heads.len();
        let mut widths: Vec<usize> = self
            .heads
            .iter()
            .map(|(h, _)| if header { h.chars().count() } else { 0 })
            .collect();
        for r in &self.rows {
            for (i, cell) in r.iter().enumerate().take(n) {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let mut out = String::new();
        let line = |cells: &[String], heading: bool, out: &mut String| {
            let mut s = String::new();
            for (i, (_, align)) in self.heads.iter().enumerate() {
                let align = if heading && self.left_headings {
                    &Align::Left
                } else {
                    align
                };
                let cell = cells.get(i).map_or("", String::as_str);
                let w = widths.get(i).copied().unwrap_or(0);
                if i > 0 {
                    s.push_str("  ");
                }
                // Padded by hand: a width from the data (a pool name, a config value) may
                // exceed what `format!` accepts as a width, and it panics then.
                let pad = w.saturating_sub(cell.chars().count());
                match align {
                    Align::Left => {
                        s.push_str(cell);
                        s.extend(std::iter::repeat_n(' ', pad));
                    }
                    Align::Right => {
                        s.extend(std::iter::repeat_n(' ', pad));
                        s.push_str(cell);
                    }
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        };
        if header {
            let heads: Vec<String> = self.heads.iter().map(|(h, _)| h.clone()).collect();
            line(&heads, true, &mut out);
        }
        for r in &self.rows {
            line(r, false, &mut out);
        }
        out
    }
}

/// `pgs: N state, M state; 1.2 TiB data, ...` (without the `pgs:` prefix).
fn pgmap_summary(c: &Cluster) -> String {
    let counts = pgmap::state_counts(c);
    let (sum, num_pg) = pgmap::cluster_sum(c);
    let (raw_total, raw_used) = c.raw_totals();
    let states: Vec<String> = pgmap::states_by_count(&counts)
        .into_iter()
        .rev()
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let mut s = format!(
        "{num_pg} pgs: {}; {} data, {} used, {} / {} avail",
        states.join(", "),
        bytes(sum.bytes()),
        bytes(raw_used),
        bytes(raw_total.saturating_sub(raw_used)),
        bytes(raw_total)
    );
    let (rd, wr, rd_ops, wr_ops) = pgmap::client_rates(c);
    if rd + wr + rd_ops + wr_ops > 0.0 {
        let _ = write!(
            s,
            "; {} rd, {} wr, {} op/s",
            rate(rd),
            rate(wr),
            si((rd_ops + wr_ops) as u64)
        );
    }
    if sum.degraded() > 0 {
        let _ = write!(
            s,
            "; {}/{} objects degraded ({:.3}%)",
            sum.degraded(),
            sum.copies(),
            sum.degraded() as f64 * 100.0 / sum.copies().max(1) as f64
        );
    }
    if sum.misplaced() > 0 {
        let _ = write!(
            s,
            "; {}/{} objects misplaced ({:.3}%)",
            sum.misplaced(),
            sum.copies(),
            sum.misplaced() as f64 * 100.0 / sum.copies().max(1) as f64
        );
    }
    let (rec_objs, rec_bytes) = pgmap::recovery_rates(c);
    if rec_objs > 0.0 {
        let _ = write!(
            s,
            "; {}, {} objects/s recovering",
            rate(rec_bytes),
            rec_objs as u64
        );
    }
    s
}

/// The cluster log's `pgmap v…` line.
pub(crate) fn pgmap_line(c: &Cluster) -> String {
    format!("pgmap v{}: {}", c.pg_version + 1, pgmap_summary(c))
}

/// `ceph pg stat`.
pub(crate) fn pg_stat(c: &Cluster) -> String {
    format!("{}\n", pgmap_summary(c))
}

/// `ceph health [detail]`.
pub(crate) fn health(c: &Cluster, detail: bool) -> String {
    let checks = &c.health.checks;
    let status = c.health.status();
    let mut out = status.to_owned();
    if !checks.is_empty() {
        out.push(' ');
        out.push_str(
            &checks
                .iter()
                .map(|k| k.summary.clone())
                .collect::<Vec<_>>()
                .join("; "),
        );
    }
    out.push('\n');
    if detail {
        for k in checks {
            let tag = if k.severity == crate::Severity::Err {
                "[ERR]"
            } else {
                "[WRN]"
            };
            let _ = writeln!(out, "{tag} {}: {}", k.code, k.summary);
            for d in &k.detail {
                let _ = writeln!(out, "    {d}");
            }
        }
    }
    out
}

/// `ceph -s`.
pub(crate) fn status(c: &Cluster) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "  cluster:");
    let _ = writeln!(out, "    id:     {}", c.fsid);
    let _ = writeln!(out, "    health: {}", c.health.status());
    for k in &c.health.checks {
        let _ = writeln!(out, "            {}", k.summary);
    }
    let _ = writeln!(out, " ");
    let _ = writeln!(out, "  services:");
    let quorum = c.quorum_names();
    let mut mon = format!(
        "{} daemons, quorum {} (age {})",
        c.mons.len(),
        quorum.join(","),
        age(c.now - c.quorum_since)
    );
    let out_of: Vec<String> = c
        .mons
        .iter()
        .filter(|m| !m.in_quorum)
        .map(|m| m.name.clone())
        .collect();
    if !out_of.is_empty() {
        let _ = write!(mon, ", out of quorum: {}", out_of.join(", "));
    }
    let _ = writeln!(out, "    mon: {mon}");
    let _ = writeln!(
        out,
        "    mgr: {}(active, since {})",
        c.mgr.id,
        age(c.now - c.mgr.since)
    );
    let active = c.fs.mds.iter().filter(|m| m.state == "up:active").count();
    let standby = c.fs.mds.iter().filter(|m| m.state == "up:standby").count();
    let _ = writeln!(
        out,
        "    mds: {active}/1 daemons up{}",
        if standby > 0 {
            format!(", {standby} standby")
        } else {
            String::new()
        }
    );
    let up = c.osds.iter().filter(|o| o.up).count();
    let inn = c.osds.iter().filter(|o| o.is_in).count();
    let remapped: usize = c
        .pools
        .values()
        .map(|p| p.pgs.iter().filter(|g| g.up != g.acting).count())
        .sum();
    let mut osd = format!(
        "{} osds: {up} up (since {}), {inn} in (since {})",
        c.osds.len(),
        age(c.now - c.last_up_change),
        age(c.now - c.last_in_change)
    );
    if remapped > 0 {
        let _ = write!(osd, "; {remapped} remapped pgs");
    }
    let _ = writeln!(out, "    osd: {osd}");
    if !c.services.rgw.is_empty() {
        let hosts: std::collections::BTreeSet<usize> =
            c.services.rgw.iter().map(|d| d.host).collect();
        let _ = writeln!(
            out,
            "    rgw: {} daemon{} active ({} host{}, 1 zones)",
            c.services.rgw.len(),
            if c.services.rgw.len() == 1 { "" } else { "s" },
            hosts.len(),
            if hosts.len() == 1 { "" } else { "s" }
        );
    }
    let _ = writeln!(out, " ");
    let _ = writeln!(out, "  data:");
    let healthy = if active > 0 {
        "1/1 healthy"
    } else {
        "0/1 healthy, 1 recovering"
    };
    let _ = writeln!(out, "    volumes: {healthy}");
    let (sum, num_pg) = pgmap::cluster_sum(c);
    let (raw_total, raw_used) = c.raw_totals();
    let _ = writeln!(out, "    pools:   {} pools, {num_pg} pgs", c.pools.len());
    let _ = writeln!(
        out,
        "    objects: {} objects, {}",
        si(sum.objects()),
        bytes(sum.bytes())
    );
    let _ = writeln!(
        out,
        "    usage:   {} used, {} / {} avail",
        bytes(raw_used),
        bytes(raw_total.saturating_sub(raw_used)),
        bytes(raw_total)
    );
    let mut lines: Vec<String> = Vec::new();
    if sum.degraded() > 0 {
        lines.push(format!(
            "{}/{} objects degraded ({:.3}%)",
            sum.degraded(),
            sum.copies(),
            sum.degraded() as f64 * 100.0 / sum.copies().max(1) as f64
        ));
    }
    if sum.misplaced() > 0 {
        lines.push(format!(
            "{}/{} objects misplaced ({:.3}%)",
            sum.misplaced(),
            sum.copies(),
            sum.misplaced() as f64 * 100.0 / sum.copies().max(1) as f64
        ));
    }
    let by_count = pgmap::states_by_count(&pgmap::state_counts(c));
    let width = by_count
        .iter()
        .map(|(_, n)| n.to_string().len())
        .max()
        .unwrap_or(1);
    for (s, n) in by_count {
        lines.push(format!("{n:<width$} {s}"));
    }
    for (i, l) in lines.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}{l}",
            if i == 0 {
                "    pgs:     "
            } else {
                "             "
            }
        );
    }
    let (rd, wr, rd_ops, wr_ops) = pgmap::client_rates(c);
    let (rec_objs, rec_bytes) = pgmap::recovery_rates(c);
    if rd + wr + rd_ops + wr_ops + rec_objs > 0.0 {
        let _ = writeln!(out, " ");
        let _ = writeln!(out, "  io:");
        if rd + wr + rd_ops + wr_ops > 0.0 {
            let _ = writeln!(
                out,
                "    client:   {} rd, {} wr, {} op/s rd, {} op/s wr",
                rate(rd),
                rate(wr),
                si(rd_ops as u64),
                si(wr_ops as u64)
            );
        }
        if rec_objs > 0.0 {
            let _ = writeln!(
                out,
                "    recovery: {}, {} objects/s",
                rate(rec_bytes),
                rec_objs as u64
            );
        }
    }
    let _ = writeln!(out, " ");
    out
}

/// `ceph osd tree`.
pub(crate) fn osd_tree(c: &Cluster) -> String {
    let mut t = Table::new(&[
        ("ID", Align::Right),
        ("CLASS", Align::Right),
        ("WEIGHT", Align::Right),
        ("TYPE NAME", Align::Left),
        ("STATUS", Align::Right),
        ("REWEIGHT", Align::Right),
        ("PRI-AFF", Align::Right),
    ])
    .left_headings();
    let total: f64 = c.osds.iter().map(|o| o.crush_weight).sum();
    t.row(vec![
        "-1".into(),
        String::new(),
        format!("{total:.5}"),
        "root default".into(),
        String::new(),
        String::new(),
        String::new(),
    ]);
    for h in &c.hosts {
        let w: f64 = h
            .osds
            .iter()
            .filter_map(|&o| c.osds.get(o as usize))
            .map(|o| o.crush_weight)
            .sum();
        t.row(vec![
            h.bucket.to_string(),
            String::new(),
            format!("{w:.5}"),
            format!("    host {}", h.name),
            String::new(),
            String::new(),
            String::new(),
        ]);
        for &id in &h.osds {
            let Some(o) = c.osds.get(id as usize) else {
                continue;
            };
            t.row(vec![
                o.id.to_string(),
                o.class.name().to_owned(),
                format!("{:.5}", o.crush_weight),
                format!("        {}", o.name()),
                if o.up { "up".into() } else { "down".into() },
                format!("{:.5}", o.reweight()),
                "1.00000".into(),
            ]);
        }
    }
    t.render(true)
}

/// `ceph osd df`, of the OSDs `keep` selects.
pub(crate) fn osd_df(c: &Cluster, keep: &dyn Fn(&crate::model::Osd) -> bool) -> String {
    let mut t = Table::new(&[
        ("ID", Align::Right),
        ("CLASS", Align::Right),
        ("WEIGHT", Align::Right),
        ("REWEIGHT", Align::Right),
        ("SIZE", Align::Right),
        ("RAW USE", Align::Right),
        ("DATA", Align::Right),
        ("OMAP", Align::Right),
        ("META", Align::Right),
        ("AVAIL", Align::Right),
        ("%USE", Align::Right),
        ("VAR", Align::Right),
        ("PGS", Align::Right),
        ("STATUS", Align::Right),
    ])
    .left_headings();
    let (raw_total, raw_used) = c.raw_totals();
    let avg = if raw_total == 0 {
        0.0
    } else {
        raw_used as f64 / raw_total as f64
    };
    let mut vars = Vec::new();
    for o in c.osds.iter().filter(|o| keep(o)) {
        let u = o.utilization();
        let var = if avg > 0.0 { u / avg } else { 0.0 };
        if o.is_in {
            vars.push(var);
        }
        t.row(vec![
            o.id.to_string(),
            o.class.name().to_owned(),
            format!("{:.5}", o.crush_weight),
            format!("{:.5}", o.reweight()),
            bytes(o.total_bytes),
            bytes(o.used_bytes()),
            bytes(o.data_bytes),
            bytes(o.omap_bytes),
            bytes(o.meta_bytes),
            bytes(o.avail_bytes()),
            format!("{:.2}", u * 100.0),
            format!("{var:.2}"),
            o.num_pgs.to_string(),
            if o.up { "up".into() } else { "down".into() },
        ]);
    }
    let data: u64 = c.osds.iter().map(|o| o.data_bytes).sum();
    let omap: u64 = c.osds.iter().map(|o| o.omap_bytes).sum();
    let meta: u64 = c.osds.iter().map(|o| o.meta_bytes).sum();
    t.row(vec![
        String::new(),
        String::new(),
        String::new(),
        "TOTAL".into(),
        bytes(raw_total),
        bytes(raw_used),
        bytes(data),
        bytes(omap),
        bytes(meta),
        bytes(raw_total.saturating_sub(raw_used)),
        format!("{:.2}", avg * 100.0),
        String::new(),
        String::new(),
        String::new(),
    ]);
    let min = vars.iter().copied().fold(f64::MAX, f64::min);
    let max = vars.iter().copied().fold(0.0, f64::max);
    let n = vars.len().max(1) as f64;
    let mean_u = avg * 100.0;
    let dev = (c
        .osds
        .iter()
        .filter(|o| o.is_in)
        .map(|o| (o.utilization() * 100.0 - mean_u).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    let mut out = t.render(true);
    let _ = writeln!(
        out,
        "MIN/MAX VAR: {:.2}/{:.2}  STDDEV: {dev:.2}",
        if min == f64::MAX { 0.0 } else { min },
        max
    );
    out
}

/// `ceph df`.
pub(crate) fn df(c: &Cluster) -> String {
    let mut raw = Table::new(&[
        ("CLASS", Align::Left),
        ("SIZE", Align::Right),
        ("AVAIL", Align::Right),
        ("USED", Align::Right),
        ("RAW USED", Align::Right),
        ("%RAW USED", Align::Right),
    ]);
    let mut classes: std::collections::BTreeMap<&str, (u64, u64)> =
        std::collections::BTreeMap::new();
    for o in &c.osds {
        let e = classes.entry(o.class.name()).or_default();
        e.0 += o.total_bytes;
        e.1 += o.used_bytes();
    }
    let pct = |u: u64, t: u64| {
        if t == 0 {
            0.0
        } else {
            u as f64 * 100.0 / t as f64
        }
    };
    for (class, (t, u)) in &classes {
        raw.row(vec![
            (*class).to_owned(),
            bytes(*t),
            bytes(t.saturating_sub(*u)),
            bytes(*u),
            bytes(*u),
            format!("{:.2}", pct(*u, *t)),
        ]);
    }
    let (t, u) = c.raw_totals();
    raw.row(vec![
        "TOTAL".into(),
        bytes(t),
        bytes(t.saturating_sub(u)),
        bytes(u),
        bytes(u),
        format!("{:.2}", pct(u, t)),
    ]);
    let mut pools = Table::new(&[
        ("POOL", Align::Left),
        ("ID", Align::Right),
        ("PGS", Align::Right),
        ("STORED", Align::Right),
        ("OBJECTS", Align::Right),
        ("USED", Align::Right),
        ("%USED", Align::Right),
        ("MAX AVAIL", Align::Right),
    ]);
    let avail = pgmap::avail_raw(c);
    let sums = pgmap::pool_sums(c);
    for p in c.pools.values() {
        let sum = sums.get(&p.id).map(|s| s.sum).unwrap_or_default();
        let used = (sum.bytes() as f64 * p.raw_factor()) as u64;
        let percent = if used + avail == 0 {
            0.0
        } else {
            used as f64 * 100.0 / (used + avail) as f64
        };
        let percent = if percent == 0.0 {
            "0".to_owned()
        } else {
            format!("{percent:.2}")
        };
        pools.row(vec![
            p.name.clone(),
            p.id.to_string(),
            p.pg_num().to_string(),
            bytes(sum.bytes()),
            si(sum.objects()),
            bytes(used),
            percent,
            bytes((avail as f64 / p.raw_factor()) as u64),
        ]);
    }
    format!(
        "--- RAW STORAGE ---\n{}\n--- POOLS ---\n{}",
        raw.render(true),
        pools.render(true)
    )
}

/// One line of `osd pool ls detail`.
pub(crate) fn pool_detail_line(c: &Cluster, p: &crate::model::Pool) -> String {
    let kind = match &p.kind {
        PoolKind::Replicated => "replicated".to_owned(),
        PoolKind::Erasure { .. } => "erasure".to_owned(),
    };
    let profile = match &p.kind {
        PoolKind::Erasure { profile, .. } => format!(" profile {profile}"),
        PoolKind::Replicated => String::new(),
    };
    let stripe = match &p.kind {
        PoolKind::Erasure { k, .. } => 4096 * k,
        PoolKind::Replicated => 0,
    };
    let apps: Vec<&str> = p.application.keys().map(String::as_str).collect();
    let _ = c;
    format!(
        "pool {} '{}' {kind} size {} min_size {} crush_rule {} object_hash rjenkins pg_num {n} pgp_num {n} autoscale_mode {} last_change {} flags {} stripe_width {stripe}{}{profile}",
        p.id,
        p.name,
        p.size,
        p.min_size,
        p.crush_rule,
        p.autoscale_mode,
        p.last_change,
        crate::model::poolflag::names(p.flags),
        if apps.is_empty() {
            String::new()
        } else {
            format!(" application {}", apps.join(","))
        },
        n = p.pg_num(),
    )
}

/// `ceph mon dump`.
pub(crate) fn mon_dump(c: &Cluster) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "epoch {}", c.mon_epoch);
    let _ = writeln!(out, "fsid {}", c.fsid);
    let _ = writeln!(out, "last_changed {}", stamp(c.monmap_created));
    let _ = writeln!(out, "created {}", stamp(c.monmap_created));
    let _ = writeln!(out, "min_mon_release 16 (pacific)");
    let _ = writeln!(out, "election_strategy: 1");
    for (i, m) in c.mons.iter().enumerate() {
        let ip = c.hosts.get(m.host).map_or("0.0.0.0", |h| h.ip.as_str());
        let _ = writeln!(out, "{i}: [v2:{ip}:3300/0,v1:{ip}:6789/0] mon.{}", m.name);
    }
    out
}

/// `ceph osd dump` (plain).
pub(crate) fn osd_dump(c: &Cluster) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "epoch {}", c.osd_epoch);
    let _ = writeln!(out, "fsid {}", c.fsid);
    let _ = writeln!(out, "created {}", stamp(c.created));
    let _ = writeln!(out, "modified {}", stamp(c.osdmap_modified));
    let _ = writeln!(out, "flags {}", crate::model::osdflag::string(c.flags));
    let _ = writeln!(out, "crush_version {}", c.crush_version);
    let _ = writeln!(out, "full_ratio {}", (c.full_ratio * 100.0).round() / 100.0);
    let _ = writeln!(
        out,
        "backfillfull_ratio {}",
        (c.backfillfull_ratio * 100.0).round() / 100.0
    );
    let _ = writeln!(
        out,
        "nearfull_ratio {}",
        (c.nearfull_ratio * 100.0).round() / 100.0
    );
    let _ = writeln!(out, "require_min_compat_client luminous");
    let _ = writeln!(out, "min_compat_client jewel");
    let _ = writeln!(out, "require_osd_release pacific");
    let _ = writeln!(out, "stretch_mode_enabled false");
    out.push('\n');
    for p in c.pools.values() {
        let _ = writeln!(out, "{}", pool_detail_line(c, p));
    }
    out.push('\n');
    let _ = writeln!(out, "max_osd {}", c.osds.len());
    for o in &c.osds {
        let a = |k: u16| c.osd_addr(o, k);
        let _ = writeln!(
            out,
            "osd.{} {} {} weight {} up_from {} up_thru {} down_at {} last_clean_interval [{},{}) [v2:{}/{n},v1:{}/{n}] [v2:{}/{n},v1:{}/{n}] exists{} {}",
            o.id,
            if o.up { "up  " } else { "down" },
            if o.is_in { "in " } else { "out" },
            if o.is_in { "1" } else { "0" },
            o.up_from,
            o.up_thru,
            o.down_at,
            o.last_clean_begin,
            o.last_clean_end,
            a(0),
            a(1),
            a(2),
            a(3),
            if o.up { ",up" } else { "" },
            o.uuid,
            n = o.nonce
        );
    }
    out
}

/// `ceph pg dump pgs_brief` (plain).
pub(crate) fn pg_dump_brief(c: &Cluster) -> String {
    let mut t = Table::new(&[
        ("PG_STAT", Align::Left),
        ("STATE", Align::Left),
        ("UP", Align::Left),
        ("UP_PRIMARY", Align::Right),
        ("ACTING", Align::Left),
        ("ACTING_PRIMARY", Align::Right),
    ]);
    let list = |s: &crate::crush::OsdSet| {
        format!(
            "[{}]",
            s.iter()
                .map(|o| if o == crate::crush::NONE {
                    "NONE".to_owned()
                } else {
                    o.to_string()
                })
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    for p in c.pools.values() {
        for (ps, pg) in p.pgs.iter().enumerate() {
            t.row(vec![
                format!("{}.{ps:x}", p.id),
                crate::model::pgstate::name(pg.state),
                list(&pg.up),
                pg.up.primary().to_string(),
                list(&pg.acting),
                pg.acting.primary().to_string(),
            ]);
        }
    }
    t.render(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_match_ceph() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(61_440), "60 KiB");
        assert_eq!(bytes(91_462), "89 KiB");
        assert_eq!(bytes(1_073_741_824), "1 GiB");
        assert_eq!(bytes(1_228), "1.2 KiB");
        assert_eq!(bytes(4_000_787_030_016), "3.6 TiB");
        assert_eq!(si(5), "5");
        assert_eq!(si(1_234), "1.23k");
        assert_eq!(si(2_000_000), "2M");
    }

    #[test]
    fn tables_align() {
        let mut t = Table::new(&[("ID", Align::Right), ("NAME", Align::Left)]);
        t.row(vec!["1".into(), "a".into()]);
        t.row(vec!["10".into(), "bb".into()]);
        assert_eq!(t.render(true), "ID  NAME\n 1  a\n10  bb\n");
    }
}
