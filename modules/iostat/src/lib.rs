//! ceph-mgr's `iostat` module as a wasmgr module.
//!
//! `wasmgr iostat` prints the cluster's read and write throughput and IOPS as one table row,
//! from `get("io_rate")` (the change of the PG stats over the last few seconds);
//! `--print-header` adds the table's title, `--period N` repeats it every N seconds, as
//! `ceph iostat -p N` does. `--pgs` adds a column of active+clean PGs out of all, from
//! `get("pg_summary")`. `--format json` gives the numbers as an object.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wasmgr_guest::{ErrorResponse, Format, HandleCommandResult, MgrModule, cluster};

wasmgr_guest::manifest!(
    r#"
description = "Shows the cluster's I/O rates"
[requests]
get = ["io_rate", "pg_summary"]
"#
);

#[derive(Default)]
struct Iostat;

impl MgrModule for Iostat {
    const NAME: &'static str = "iostat";
    const VERSION: &'static str = "0.1.0";
}

/// `io_rate`: the change of the summed PG stats over `stamp_delta` seconds.
#[derive(Deserialize)]
struct IoRate {
    pg_stats_delta: PgStatsDelta,
}

#[derive(Deserialize)]
struct PgStatsDelta {
    /// Seconds, as Ceph prints it: a string such as `"12.002480"`.
    stamp_delta: Value,
    stat_sum: StatSum,
}

#[derive(Deserialize)]
struct StatSum {
    num_read: i64,
    num_read_kb: i64,
    num_write: i64,
    num_write_kb: i64,
}

/// `pg_summary`: PG counts by state.
#[derive(Deserialize)]
struct PgSummary {
    all: std::collections::BTreeMap<String, u64>,
}

/// One row of the table, per second.
#[derive(Serialize, Debug, PartialEq)]
struct Rates {
    read_bytes_sec: i64,
    write_bytes_sec: i64,
    total_bytes_sec: i64,
    read_op_per_sec: i64,
    write_op_per_sec: i64,
    total_op_per_sec: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pgs_active_clean: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pgs_total: Option<u64>,
}

impl Rates {
    /// The rates of `io_rate`, as ceph's iostat computes them: whole seconds, whole KiB, and
    /// nothing when the delta covers less than a second.
    fn from_io_rate(rate: &IoRate) -> Rates {
        let delta = &rate.pg_stats_delta;
        let seconds = match &delta.stamp_delta {
            Value::String(s) => s.parse::<f64>().unwrap_or(0.0),
            v => v.as_f64().unwrap_or(0.0),
        };
        // Whole seconds, as Python's int(float(..)); `as` saturates and maps NaN to 0.
        let seconds = seconds.trunc() as i64;
        let per_sec = |n: i64| if seconds > 0 { n.max(0) / seconds } else { 0 };
        let sum = &delta.stat_sum;
        let read = per_sec(sum.num_read_kb).saturating_mul(1024);
        let write = per_sec(sum.num_write_kb).saturating_mul(1024);
        let read_ops = per_sec(sum.num_read);
        let write_ops = per_sec(sum.num_write);
        Rates {
            read_bytes_sec: read,
            write_bytes_sec: write,
            total_bytes_sec: read.saturating_add(write),
            read_op_per_sec: read_ops,
            write_op_per_sec: write_ops,
            total_op_per_sec: read_ops.saturating_add(write_ops),
            pgs_active_clean: None,
            pgs_total: None,
        }
    }

    fn with_pgs(mut self, summary: &PgSummary) -> Rates {
        self.pgs_active_clean = Some(summary.all.get("active+clean").copied().unwrap_or(0));
        self.pgs_total = Some(summary.all.values().sum());
        self
    }

    /// The table cells, in the order of [`HEADER`].
    fn cells(&self) -> Vec<String> {
        let mut cells = vec![
            format!("{}B/s", to_pretty_iec(self.read_bytes_sec)),
            format!("{}B/s", to_pretty_iec(self.write_bytes_sec)),
            format!("{}B/s", to_pretty_iec(self.total_bytes_sec)),
            self.read_op_per_sec.to_string(),
            self.write_op_per_sec.to_string(),
            self.total_op_per_sec.to_string(),
        ];
        if let (Some(clean), Some(total)) = (self.pgs_active_clean, self.pgs_total) {
            cells.push(format!("{clean}/{total}"));
        }
        cells
    }
}

const HEADER: [&str; 6] = [
    "Read",
    "Write",
    "Total",
    "Read IOPS",
    "Write IOPS",
    "Total IOPS",
];
const PGS_HEADER: &str = "Clean PGs";

/// `MgrModule.to_pretty_iec`: `n` in the largest binary unit of which it is more than ten.
fn to_pretty_iec(n: i64) -> String {
    for (bits, suffix) in [
        (60, "Ei"),
        (50, "Pi"),
        (40, "Ti"),
        (30, "Gi"),
        (20, "Mi"),
        (10, "Ki"),
    ] {
        // i128: ten exbibytes do not fit an i64 (Python's ints have no such limit).
        if i128::from(n) > 10i128 << bits {
            return format!("{} {suffix}", n >> bits);
        }
    }
    format!("{n} ")
}

/// `MgrModule.get_pretty_row`: the cells right-aligned in equal columns of `width / n`.
fn pretty_row<S: AsRef<str>>(cells: &[S], width: usize) -> String {
    let column = width / cells.len().max(1);
    let mut row = String::from("|");
    for cell in cells {
        row += &format!("{:>w$} |", cell.as_ref(), w = column.saturating_sub(2));
    }
    row
}

/// `MgrModule.get_pretty_header`: the titles between two dash lines.
fn pretty_header(titles: &[&str], width: usize) -> String {
    let column = width / titles.len().max(1);
    let dashes = format!(
        "+{}\n",
        format!("{}+", "-".repeat(column.saturating_sub(1))).repeat(titles.len())
    );
    format!("{dashes}{}\n{dashes}", pretty_row(titles, width))
}

#[wasmgr_guest::commands]
impl Iostat {
    /// Get IO rates
    #[read("iostat", poll)]
    fn iostat(
        &mut self,
        #[arg(range = 24..=1024)] width: Option<i64>,
        print_header: Option<bool>,
        pgs: Option<bool>,
        format: Option<&str>,
    ) -> Result<HandleCommandResult, ErrorResponse> {
        let mut rates = Rates::from_io_rate(&cluster::get("io_rate")?);
        let pgs = pgs.unwrap_or(false);
        if pgs {
            rates = rates.with_pgs(&cluster::get("pg_summary")?);
        }
        // The table is the plain output; the other formats get the numbers.
        if let Some(name) = format.filter(|f| *f != Format::Plain.name()) {
            let rendered = Format::parse(Some(name))?.render(&rates)?;
            return Ok(HandleCommandResult::ok(rendered));
        }
        let width = width.and_then(|w| usize::try_from(w).ok()).unwrap_or(80);
        let mut out = String::new();
        if print_header.unwrap_or(false) {
            let mut titles = HEADER.to_vec();
            if pgs {
                titles.push(PGS_HEADER);
            }
            out += &pretty_header(&titles, width);
        }
        out += &pretty_row(&rates.cells(), width);
        Ok(HandleCommandResult::ok(out))
    }
}

wasmgr_guest::export_module!(Iostat);

#[cfg(test)]
mod tests {
    use super::*;

    fn io_rate(json: &str) -> IoRate {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn rates_are_per_whole_second_in_bytes() {
        let rate = io_rate(
            r#"{"pg_stats_delta": {"stamp_delta": "5.9", "stat_sum": {"num_read": 100,
            "num_read_kb": 50, "num_write": 12, "num_write_kb": 4096}}}"#,
        );
        let rates = Rates::from_io_rate(&rate);
        assert_eq!(
            (
                rates.read_bytes_sec,
                rates.write_bytes_sec,
                rates.total_bytes_sec
            ),
            (10 * 1024, 819 * 1024, 829 * 1024)
        );
        assert_eq!(
            (
                rates.read_op_per_sec,
                rates.write_op_per_sec,
                rates.total_op_per_sec
            ),
            (20, 2, 22)
        );
        let idle = io_rate(
            r#"{"pg_stats_delta": {"stamp_delta": 0.5, "stat_sum": {"num_read": 100,
            "num_read_kb": 50, "num_write": 12, "num_write_kb": 4096}}}"#,
        );
        assert_eq!(Rates::from_io_rate(&idle).total_op_per_sec, 0);
    }

    #[test]
    fn the_table_is_ceph_iostats() {
        assert_eq!(to_pretty_iec(0), "0 ");
        assert_eq!(to_pretty_iec(10 * 1024), "10240 ");
        assert_eq!(to_pretty_iec(10 * 1024 + 1), "10 Ki");
        assert_eq!(to_pretty_iec(3 << 30), "3072 Mi");
        assert_eq!(to_pretty_iec(i64::MAX), "8191 Pi");
        let rates = Rates::from_io_rate(&io_rate(
            r#"{"pg_stats_delta": {"stamp_delta": "12.002480", "stat_sum": {"num_read": 0,
            "num_read_kb": 0, "num_write": 0, "num_write_kb": 0}}}"#,
        ));
        let titles = HEADER.to_vec();
        let table = pretty_header(&titles, 80) + &pretty_row(&rates.cells(), 80);
        let expected = "\
+------------+------------+------------+------------+------------+------------+
|       Read |      Write |      Total |  Read IOPS | Write IOPS | Total IOPS |
+------------+------------+------------+------------+------------+------------+
|      0 B/s |      0 B/s |      0 B/s |          0 |          0 |          0 |";
        assert_eq!(table, expected);
    }

    #[test]
    fn pgs_count_active_clean_out_of_all() {
        let summary: PgSummary =
            serde_json::from_str(r#"{"all": {"active+clean": 7, "active+degraded": 2}}"#).unwrap();
        let rates = Rates::from_io_rate(&io_rate(
            r#"{"pg_stats_delta": {"stamp_delta": "1", "stat_sum": {"num_read": 0,
            "num_read_kb": 0, "num_write": 0, "num_write_kb": 0}}}"#,
        ))
        .with_pgs(&summary);
        assert_eq!(rates.cells().last().map(String::as_str), Some("7/9"));
    }
}
