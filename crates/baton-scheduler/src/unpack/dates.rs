//! Date expressions in rules (`date_expression` with `gt`, `lt` or
//! `in_range`) against "now". Recurring `date_spec` schedules are not
//! evaluated: such an expression never matches.

use baton_cib::model::DateExpression;

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day count from 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SSZ`, the way
/// `crm_simulate` prints an execution date.
pub fn format_timestamp(epoch_s: i64) -> String {
    let (days, secs) = (epoch_s.div_euclid(86_400), epoch_s.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn number(s: &str) -> Option<i64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Seconds east of UTC in `+HH:MM`, `+HHMM`, `+HH` or `Z`.
fn zone_offset(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() || s == "Z" {
        return Some(0);
    }
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = s[1..].chars().filter(|c| *c != ':').collect();
    let (h, m) = match digits.len() {
        2 => (number(&digits)?, 0),
        4 => (number(&digits[..2])?, number(&digits[2..])?),
        _ => return None,
    };
    Some(sign * (h * 3600 + m * 60))
}

/// An ISO 8601 date and time as seconds since the epoch: `YYYY-MM-DD` or
/// the ordinal `YYYY-DDD`, optionally followed (after a space or `T`) by
/// `HH:MM[:SS]` and a zone.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, rest) = match s.find([' ', 'T']) {
        Some(i) => (&s[..i], s[i + 1..].trim()),
        None => (s, ""),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let days = match parts.as_slice() {
        [y, m, d] => days_from_civil(number(y)?, number(m)?, number(d)?),
        [y, ordinal] if ordinal.len() == 3 => {
            days_from_civil(number(y)?, 1, 1) + number(ordinal)? - 1
        }
        _ => return None,
    };
    let (time, zone) = match rest.find(['+', '-', 'Z', ' ']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let mut seconds = 0;
    if !time.is_empty() {
        let hms: Vec<&str> = time.split(':').collect();
        let field = |i: usize| hms.get(i).map_or(Some(0), |v| number(v));
        seconds = field(0)? * 3600 + field(1)? * 60 + field(2)?;
    }
    Some(days * 86_400 + seconds - zone_offset(zone)?)
}

/// Whether the expression holds at `now_s`.
pub fn matches(e: DateExpression<'_>, now_s: i64) -> bool {
    let start = e.start().and_then(parse_timestamp);
    let end = e.end().and_then(parse_timestamp);
    match e.operation().unwrap_or("in_range") {
        "gt" => start.is_some_and(|s| now_s > s),
        "lt" => end.is_some_and(|t| now_s < t),
        "in_range" if start.is_some() || end.is_some() => {
            start.is_none_or(|s| now_s >= s) && end.is_none_or(|t| now_s <= t)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{format_timestamp, parse_timestamp};

    #[test]
    fn reads_calendar_ordinal_and_zoned_forms() {
        assert_eq!(parse_timestamp("1970-01-01"), Some(0));
        assert_eq!(
            parse_timestamp("2019-09-20 15:10:52 +00:00"),
            Some(1_568_992_252)
        );
        assert_eq!(
            parse_timestamp("2019-09-20T17:10:52+02:00"),
            Some(1_568_992_252)
        );
        assert_eq!(parse_timestamp("2005-001"), parse_timestamp("2005-01-01"));
        assert_eq!(parse_timestamp("not a date"), None);
    }

    #[test]
    fn formats_what_it_reads() {
        assert_eq!(format_timestamp(1_568_992_252), "2019-09-20 15:10:52Z");
        assert_eq!(format_timestamp(951_782_400), "2000-02-29 00:00:00Z");
        for t in [0, 1_648_835_858, 4_102_444_800] {
            assert_eq!(parse_timestamp(&format_timestamp(t)), Some(t));
        }
    }
}
