//! Durations as written in the CIB (`interval`, `timeout`, option values).

/// A duration string that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration `{0}`, expected a number with an optional ms/s/m/h unit or ISO 8601 such as PT10S"
)]
pub struct DurationError(pub String);

/// Reads a duration into milliseconds. A bare number is seconds; `ms`,
/// `us`, `s`, `m`, `h` (and their long spellings) and ISO 8601 (`PT1M30S`,
/// `P1D`) are accepted.
pub fn parse_duration_ms(s: &str) -> Result<u64, DurationError> {
    let bad = || DurationError(s.to_owned());
    let t = s.trim();
    if let Some(iso) = t.strip_prefix('P').or_else(|| t.strip_prefix('p')) {
        return parse_iso8601(iso).ok_or_else(bad);
    }
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let unit = unit.trim().to_ascii_lowercase();
    let ms = match unit.as_str() {
        "ms" | "msec" => Some(number),
        "us" | "usec" => Some(number / 1000),
        "" | "s" | "sec" => number.checked_mul(1000),
        "m" | "min" => number.checked_mul(60_000),
        "h" | "hr" => number.checked_mul(3_600_000),
        _ => None,
    };
    ms.ok_or_else(bad)
}

/// The part after `P`: `[nY][nM][nW][nD][T[nH][nM][n[.f]S]]`. `H` and `S`
/// are unambiguous, so like Pacemaker we also take them before the `T`
/// (`P10S` appears in real configurations). Months and years count as 30
/// and 365 days; such lengths are not used for operation intervals.
fn parse_iso8601(s: &str) -> Option<u64> {
    let (date, time) = match s.find(['T', 't']) {
        Some(i) => (s.get(..i)?, s.get(i + 1..)?),
        None => (s, ""),
    };
    let mut total: u64 = 0;
    let mut seen = false;
    for (part, in_time) in [(date, false), (time, true)] {
        for (value, unit) in iso_fields(part)? {
            let ms = match (unit, in_time) {
                ('Y', false) => value.whole?.checked_mul(365 * 86_400_000)?,
                ('M', false) => value.whole?.checked_mul(30 * 86_400_000)?,
                ('W', false) => value.whole?.checked_mul(7 * 86_400_000)?,
                ('D', false) => value.whole?.checked_mul(86_400_000)?,
                ('H', _) => value.whole?.checked_mul(3_600_000)?,
                ('M', true) => value.whole?.checked_mul(60_000)?,
                ('S', _) => value.millis()?,
                _ => return None,
            };
            total = total.checked_add(ms)?;
            seen = true;
        }
    }
    if s.contains(['T', 't']) && time.is_empty() {
        return None;
    }
    seen.then_some(total)
}

struct IsoNumber<'a> {
    whole: Option<u64>,
    fraction: &'a str,
}

impl IsoNumber<'_> {
    fn millis(&self) -> Option<u64> {
        let mut frac = 0;
        for (i, b) in self.fraction.bytes().take(3).enumerate() {
            frac += u64::from(b - b'0') * [100, 10, 1][i];
        }
        self.whole?.checked_mul(1000)?.checked_add(frac)
    }
}

fn iso_fields(s: &str) -> Option<Vec<(IsoNumber<'_>, char)>> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))?;
        let (number, tail) = rest.split_at(end);
        let unit = tail.chars().next()?.to_ascii_uppercase();
        let (whole, fraction) = match number.find(['.', ',']) {
            Some(i) => (number.get(..i)?, number.get(i + 1..)?),
            None => (number, ""),
        };
        if whole.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if !fraction.is_empty() && unit != 'S' {
            return None;
        }
        out.push((
            IsoNumber {
                whole: whole.parse().ok(),
                fraction,
            },
            unit,
        ));
        rest = tail.get(unit.len_utf8()..)?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::parse_duration_ms as p;

    #[test]
    fn reads_plain_and_suffixed_numbers() {
        assert_eq!(p("10s"), Ok(10_000));
        assert_eq!(p("30"), Ok(30_000));
        assert_eq!(p("1m"), Ok(60_000));
        assert_eq!(p("2min"), Ok(120_000));
        assert_eq!(p("500ms"), Ok(500));
        assert_eq!(p("1h"), Ok(3_600_000));
        assert_eq!(p(" 0 "), Ok(0));
        assert_eq!(p("15 s"), Ok(15_000));
    }

    #[test]
    fn reads_iso8601() {
        assert_eq!(p("PT10S"), Ok(10_000));
        assert_eq!(p("PT1M30S"), Ok(90_000));
        assert_eq!(p("PT1.5S"), Ok(1_500));
        assert_eq!(p("P1DT1H"), Ok(90_000_000));
        assert_eq!(p("PT2H"), Ok(7_200_000));
        assert_eq!(p("P10S"), Ok(10_000));
        assert_eq!(p("P1M"), Ok(30 * 86_400_000));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "s",
            "10x",
            "-5",
            "P",
            "PT",
            "PT1.5M",
            "P1DT",
            "PT5",
            "PT1D",
            "99999999999999999999h",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }
}
