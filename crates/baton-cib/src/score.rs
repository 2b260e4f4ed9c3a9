//! Placement scores: integers saturating at ±INFINITY (1,000,000).

use std::fmt;
use std::ops::{Add, Neg};
use std::str::FromStr;

/// A score clamped to `[-INFINITY, +INFINITY]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Score(i32);

/// A score string that is neither an integer nor an INFINITY spelling.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid score `{0}`, expected an integer, INFINITY, +INFINITY or -INFINITY")]
pub struct ScoreError(pub String);

impl Score {
    pub const INFINITY_VALUE: i32 = 1_000_000;
    pub const INFINITY: Score = Score(Self::INFINITY_VALUE);
    pub const NEG_INFINITY: Score = Score(-Self::INFINITY_VALUE);
    pub const ZERO: Score = Score(0);

    /// Clamps `v` into range.
    pub fn new(v: i64) -> Score {
        let inf = i64::from(Self::INFINITY_VALUE);
        // The clamp keeps the value inside i32.
        Score(i32::try_from(v.clamp(-inf, inf)).unwrap_or(0))
    }

    pub fn value(self) -> i32 {
        self.0
    }

    pub fn is_infinite(self) -> bool {
        self.0.abs() == Self::INFINITY_VALUE
    }

    /// Adds with the cluster's rule that -INFINITY wins over +INFINITY:
    /// a ban must never be cancelled by a preference.
    pub fn saturating_add(self, other: Score) -> Score {
        if self == Score::NEG_INFINITY || other == Score::NEG_INFINITY {
            return Score::NEG_INFINITY;
        }
        if self == Score::INFINITY || other == Score::INFINITY {
            return Score::INFINITY;
        }
        Score::new(i64::from(self.0) + i64::from(other.0))
    }
}

impl Add for Score {
    type Output = Score;
    fn add(self, other: Score) -> Score {
        self.saturating_add(other)
    }
}

impl Neg for Score {
    type Output = Score;
    fn neg(self) -> Score {
        Score(-self.0)
    }
}

impl FromStr for Score {
    type Err = ScoreError;

    fn from_str(s: &str) -> Result<Score, ScoreError> {
        let t = s.trim();
        let (negative, body) = match t.as_bytes().first() {
            Some(b'-') => (true, t.get(1..).unwrap_or_default()),
            Some(b'+') => (false, t.get(1..).unwrap_or_default()),
            _ => (false, t),
        };
        if body.eq_ignore_ascii_case("infinity") || body.eq_ignore_ascii_case("inf") {
            return Ok(if negative {
                Score::NEG_INFINITY
            } else {
                Score::INFINITY
            });
        }
        if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ScoreError(s.to_owned()));
        }
        // Digits only, so a parse failure means overflow: saturate.
        let magnitude = body.parse::<i64>().unwrap_or(i64::MAX);
        Ok(Score::new(if negative { -magnitude } else { magnitude }))
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Score::INFINITY => f.write_str("INFINITY"),
            Score::NEG_INFINITY => f.write_str("-INFINITY"),
            Score(v) => write!(f, "{v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Score {
        s.parse().expect("valid score")
    }

    #[test]
    fn parses_every_spelling() {
        assert_eq!(p("INFINITY"), Score::INFINITY);
        assert_eq!(p("+INFINITY"), Score::INFINITY);
        assert_eq!(p("-INFINITY"), Score::NEG_INFINITY);
        assert_eq!(p("inf"), Score::INFINITY);
        assert_eq!(p("-inf"), Score::NEG_INFINITY);
        assert_eq!(p("42"), Score::new(42));
        assert_eq!(p("-7"), Score::new(-7));
        assert_eq!(p("+7"), Score::new(7));
        assert_eq!(p("5000000"), Score::INFINITY);
        assert_eq!(p("-99999999999999999999999"), Score::NEG_INFINITY);
        for bad in ["", "-", "abc", "1.5", "--1", "1e3"] {
            assert!(bad.parse::<Score>().is_err(), "{bad}");
        }
    }

    #[test]
    fn arithmetic_saturates_and_bans_win() {
        assert_eq!(Score::new(999_999) + Score::new(5), Score::INFINITY);
        assert_eq!(Score::new(-999_999) + Score::new(-5), Score::NEG_INFINITY);
        assert_eq!(Score::INFINITY + Score::NEG_INFINITY, Score::NEG_INFINITY);
        assert_eq!(Score::INFINITY + Score::new(-5), Score::INFINITY);
        assert_eq!(Score::new(3) + Score::new(4), Score::new(7));
        assert_eq!(-Score::INFINITY, Score::NEG_INFINITY);
        assert_eq!(Score::INFINITY.to_string(), "INFINITY");
        assert_eq!(Score::new(-3).to_string(), "-3");
    }
}
