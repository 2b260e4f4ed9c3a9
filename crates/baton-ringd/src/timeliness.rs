//! Keeping ringd on time. Totem declares a node failed after one token
//! timeout of silence, so a daemon that is swapped out or not scheduled
//! looks dead to its peers: lock memory, and say so when the loop was not
//! run for a long while.

use std::time::{Duration, Instant};

use nix::sys::mman::{MlockAllFlags, mlockall};

/// Locks present and future pages, faulting them in only when touched, so
/// memory use stays what it is.
pub fn lock_memory() {
    let flags = MlockAllFlags::MCL_CURRENT
        | MlockAllFlags::MCL_FUTURE
        | MlockAllFlags::from_bits_retain(libc::MCL_ONFAULT);
    match mlockall(flags) {
        Ok(()) => tracing::info!("memory locked against swapping"),
        Err(error) => tracing::warn!(
            %error,
            "cannot lock memory; under memory pressure ringd may be swapped out and miss \
             tokens; run it as root or raise LimitMEMLOCK"
        ),
    }
}

/// Notices gaps between the loop's periodic ticks.
#[derive(Debug)]
pub struct PauseDetector {
    last_tick: Instant,
    threshold: Duration,
}

impl PauseDetector {
    /// Ticks every third of a token; a gap of 80 % of the token timeout is
    /// reported, as corosync does.
    pub fn new(token: Duration) -> PauseDetector {
        PauseDetector {
            last_tick: Instant::now(),
            threshold: token * 4 / 5,
        }
    }

    pub fn period(&self) -> Duration {
        self.threshold * 5 / 12
    }

    /// The gap since the previous tick when it exceeds the threshold.
    pub fn tick(&mut self, now: Instant) -> Option<Duration> {
        let gap = now.duration_since(self.last_tick);
        self.last_tick = now;
        (gap > self.threshold).then_some(gap)
    }

    pub fn threshold(&self) -> Duration {
        self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_gaps_beyond_four_fifths_of_the_token_are_pauses() {
        let token = Duration::from_millis(1000);
        let mut detector = PauseDetector::new(token);
        let start = detector.last_tick;
        assert_eq!(detector.period().as_millis(), 333);
        assert_eq!(detector.tick(start + Duration::from_millis(333)), None);
        assert_eq!(detector.tick(start + Duration::from_millis(1133)), None);
        assert_eq!(
            detector.tick(start + Duration::from_millis(2500)),
            Some(Duration::from_millis(1367))
        );
    }
}
