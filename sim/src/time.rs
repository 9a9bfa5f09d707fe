//! Time stamps in the spellings Ceph uses. Simulated time is seconds since the Unix epoch as an
//! `f64`; nothing here reads the wall clock.

/// `2026-11-22T22:03:54.745186+0000`: `utime_t`'s spelling in most dumps.
pub(crate) fn stamp(t: f64) -> String {
    let (date, micros) = civil(t);
    format!("{date}.{micros:06}+0000")
}

/// `2026-11-22T22:03:54.673163Z`: the mon map's spelling.
pub(crate) fn stamp_z(t: f64) -> String {
    let (date, micros) = civil(t);
    format!("{date}.{micros:06}Z")
}

/// `1795385053.291172`: `utime_t` as seconds, for small values and some fields.
pub(crate) fn secs(t: f64) -> String {
    format!("{t:.6}")
}

/// `YYYY-MM-DDTHH:MM:SS` and the microseconds of `t`.
fn civil(t: f64) -> (String, u64) {
    let t = if t.is_finite() && t > 0.0 { t } else { 0.0 };
    let mut whole = t.floor() as i64;
    let mut micros = ((t - t.floor()) * 1e6).round() as u64;
    if micros >= 1_000_000 {
        whole += 1;
        micros -= 1_000_000;
    }
    let days = whole.div_euclid(86_400);
    let rem = whole.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    (
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            rem / 3600,
            rem / 60 % 60,
            rem % 60
        ),
        micros,
    )
}

/// Howard Hinnant's days-to-civil conversion.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A duration as `ceph -s` prints ages: `63s`, `5m`, `2h`, `3d`.
pub(crate) fn age(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    if s < 120 {
        format!("{s}s")
    } else if s < 120 * 60 {
        format!("{}m", s / 60)
    } else if s < 48 * 3600 {
        format!("{}h", s / 3600)
    } else {
        format!("{}d", s / 86_400)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_match_ceph_spelling() {
        assert_eq!(
            stamp(1_795_385_034.745_186),
            "2026-11-22T22:03:54.745186+0000"
        );
        assert_eq!(stamp_z(0.5), "1970-01-01T00:00:00.500000Z");
        assert_eq!(secs(12.00248), "12.002480");
        assert_eq!(age(63.0), "63s");
        assert_eq!(age(600.0), "10m");
    }
}
