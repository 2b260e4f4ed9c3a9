//! Wall-clock stamps in the form Pacemaker writes them (`cib-last-written`),
//! computed from seconds since the epoch without a clock.

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Thu Dec  3 06:42:30 2026` (ctime's layout, UTC).
#[must_use]
pub fn ctime(epoch_s: i64) -> String {
    let days = epoch_s.div_euclid(86_400);
    let secs = epoch_s.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let weekday = DAYS[usize::try_from(days.rem_euclid(7)).unwrap_or(0)];
    let month_name = MONTHS[usize::try_from(month - 1).unwrap_or(0)];
    format!(
        "{weekday} {month_name} {day:>2} {:02}:{:02}:{:02} {year}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// (year, month 1..=12, day 1..=31) of a day count since 1970-01-01, by
/// Howard Hinnant's civil calendar algorithm.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::ctime;

    #[test]
    fn stamps_read_as_ctime_does() {
        assert_eq!(ctime(0), "Thu Jan  1 00:00:00 1970");
        // date -u -d @1796280150
        assert_eq!(ctime(1_796_280_150), "Thu Dec  3 06:42:30 2026");
        assert_eq!(ctime(951_782_400), "Tue Feb 29 00:00:00 2000");
    }
}
