//! Summaries of a case's samples: median, tail and spread.

/// What a case's samples measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Nanoseconds per operation; lower is better.
    Nanos,
    /// Operations per second; higher is better.
    PerSec,
    /// Bytes; lower is better.
    Bytes,
}

/// The order statistics of one case.
#[derive(Clone, Debug)]
pub struct Summary {
    pub unit: Unit,
    pub median: f64,
    /// The slow tail: p99 of times, p1 of rates.
    pub tail: f64,
    pub p10: f64,
    pub p90: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    /// `None` for no samples.
    pub fn of(unit: Unit, samples: &[f64]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let q = |p: f64| s[((s.len() - 1) as f64 * p).round() as usize];
        Some(Summary {
            unit,
            median: q(0.5),
            tail: if unit == Unit::PerSec {
                q(0.01)
            } else {
                q(0.99)
            },
            p10: q(0.1),
            p90: q(0.9),
            min: s[0],
            max: s[s.len() - 1],
        })
    }

    /// (p90 − p10) / median, in percent.
    pub fn spread_pct(&self) -> f64 {
        if self.median == 0.0 {
            return 0.0;
        }
        (self.p90 - self.p10) / self.median * 100.0
    }
}

/// A value in its unit, for people: `12.3 µs`, `41,200 /s`, `812 KiB`.
pub fn show(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Nanos => {
            if v < 1e3 {
                format!("{v:.0} ns")
            } else if v < 1e6 {
                format!("{} µs", sig3(v / 1e3))
            } else if v < 1e9 {
                format!("{} ms", sig3(v / 1e6))
            } else {
                format!("{} s", sig3(v / 1e9))
            }
        }
        Unit::PerSec => format!("{} /s", thousands(v.round() as u64)),
        Unit::Bytes => {
            if v < 1024.0 * 1024.0 {
                format!("{} KiB", sig3(v / 1024.0))
            } else {
                format!("{} MiB", sig3(v / 1024.0 / 1024.0))
            }
        }
    }
}

/// Three significant digits, without a useless fraction.
fn sig3(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_statistics_and_display() {
        let s = Summary::of(Unit::Nanos, &[5.0, 1.0, 3.0, 2.0, 4.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.tail), (3.0, 1.0, 5.0, 5.0));
        assert_eq!(show(Unit::Nanos, 12_345.0), "12.3 µs");
        assert_eq!(show(Unit::PerSec, 41_234.4), "41,234 /s");
        assert_eq!(show(Unit::Bytes, 1.5 * 1024.0 * 1024.0), "1.50 MiB");
    }
}
