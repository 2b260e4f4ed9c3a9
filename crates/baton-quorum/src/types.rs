//! Small value types: node ids, votes, monotonic time and ring ids.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Sub};

use serde::{Serialize, Serializer};

/// A node id as Totem numbers processors (0 is reserved; the config check
/// rejects it in the nodelist).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct NodeId(pub u32);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A count of quorum votes. Arithmetic saturates: vote sums are bounded by
/// the validated nodelist sum plus one vote per unknown member, so
/// saturation only guards against a misbehaving membership source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Votes(pub u32);

impl Votes {
    /// The smallest vote count that is a strict majority of `self`:
    /// floor(n/2)+1, the votequorum formula `(n+2)/2`.
    pub fn majority(self) -> Votes {
        Votes(self.0 / 2 + 1)
    }

    /// Whether `self` is exactly half of `total`: one side of an even
    /// split, whose other side cannot hold a majority either. With an odd
    /// total there is no such half.
    pub fn is_exact_half_of(self, total: Votes) -> bool {
        u64::from(self.0) * 2 == u64::from(total.0)
    }
}

impl Add for Votes {
    type Output = Votes;
    fn add(self, rhs: Votes) -> Votes {
        Votes(self.0.saturating_add(rhs.0))
    }
}

impl Sub for Votes {
    type Output = Votes;
    fn sub(self, rhs: Votes) -> Votes {
        Votes(self.0.saturating_sub(rhs.0))
    }
}

impl Sum for Votes {
    fn sum<I: Iterator<Item = Votes>>(iter: I) -> Votes {
        iter.fold(Votes(0), Add::add)
    }
}

impl fmt::Display for Votes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Monotonic time in milliseconds, supplied by the driver (the core never
/// reads a clock).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(pub u64);

impl Millis {
    pub fn saturating_add_ms(self, ms: u64) -> Millis {
        Millis(self.0.saturating_add(ms))
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

/// A Totem ring id: the representative (lowest node id of the ring) and the
/// ring sequence number. Ordered by `seq` first because that is what rises
/// from one ring to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RingId {
    pub rep: NodeId,
    pub seq: u64,
}

impl PartialOrd for RingId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RingId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.seq, self.rep).cmp(&(other.seq, other.rep))
    }
}

/// Shown as `rep.seqhex` (`1.5`, `3.1c`), the form `quorumtool -s` prints.
impl fmt::Display for RingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:x}", self.rep, self.seq)
    }
}

/// Serialized as its display form so that json and text output agree.
impl Serialize for RingId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
