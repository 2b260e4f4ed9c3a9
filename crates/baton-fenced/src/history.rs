//! The fencing history: every fencing this node's fencer ran or heard of
//! from the other fencers, newest first and bounded (Pacemaker keeps 500
//! and trims to 250). It is also kept on disk, so that even a restart of
//! every node keeps it, which Pacemaker's in-memory history does not.

use std::path::{Path, PathBuf};

use baton_proto::fenced::{FenceEvent, FenceState, HistoryReply};
use prost::Message;

const MOST: usize = 500;
const TRIMMED_TO: usize = 250;

#[derive(Debug)]
pub struct History {
    events: Vec<FenceEvent>,
    file: PathBuf,
}

impl History {
    /// The history kept in `file`; an unreadable file is set aside (as
    /// `FILE.bad`, for a look) and the history starts empty.
    pub fn load(file: PathBuf) -> History {
        let events = match std::fs::read(&file) {
            Ok(bytes) => match HistoryReply::decode(bytes.as_slice()) {
                Ok(kept) => kept.events,
                Err(error) => {
                    let aside = file.with_extension("bad");
                    tracing::warn!(file = %file.display(), %error, aside = %aside.display(), "the fencing history on disk does not decode; starting a new one");
                    let _ = std::fs::rename(&file, aside);
                    Vec::new()
                }
            },
            Err(_) => Vec::new(),
        };
        let mut history = History {
            events: Vec::new(),
            file,
        };
        for event in events {
            history.merge(event);
        }
        history
    }

    /// Adds or updates `event` (a finished fencing replaces its pending
    /// record, never the other way round) and saves; whether it changed
    /// anything.
    pub fn record(&mut self, event: FenceEvent) -> bool {
        let changed = self.merge(event);
        if changed && let Err(error) = self.save() {
            tracing::warn!(file = %self.file.display(), %error, "cannot keep the fencing history on disk");
        }
        changed
    }

    fn merge(&mut self, event: FenceEvent) -> bool {
        match self.events.iter_mut().find(|e| e.id == event.id) {
            Some(known)
                if known.state() == FenceState::Pending && event.state() != known.state() =>
            {
                *known = event;
            }
            Some(_) => return false,
            None => self.events.push(event),
        }
        self.events
            .sort_by(|a, b| b.requested_ms.cmp(&a.requested_ms).then(b.id.cmp(&a.id)));
        if self.events.len() > MOST {
            self.events.truncate(TRIMMED_TO);
        }
        true
    }

    /// Fencings of `target` (every one for an empty target), newest first.
    pub fn of(&self, target: &str) -> Vec<FenceEvent> {
        self.events
            .iter()
            .filter(|e| target.is_empty() || e.target == target)
            .cloned()
            .collect()
    }

    fn save(&self) -> std::io::Result<()> {
        let bytes = HistoryReply {
            events: self.events.clone(),
        }
        .encode_to_vec();
        write_atomically(&self.file, &bytes)
    }
}

/// Writes a temporary file beside `path`, then renames it over `path`: a
/// crash leaves the old history or the new one, never half of one.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, target: &str, state: FenceState, requested_ms: i64) -> FenceEvent {
        let mut event = FenceEvent {
            id: id.into(),
            target: target.into(),
            action: "reboot".into(),
            requested_ms,
            ..FenceEvent::default()
        };
        event.set_state(state);
        event
    }

    #[test]
    fn a_result_replaces_the_pending_record_and_a_late_pending_one_changes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut history = History::load(dir.path().join("fence-history"));
        assert!(history.record(event("a", "n2", FenceState::Pending, 1)));
        assert!(history.record(event("a", "n2", FenceState::Successful, 1)));
        assert!(!history.record(event("a", "n2", FenceState::Pending, 1)));
        let states: Vec<FenceState> = history.of("n2").iter().map(FenceEvent::state).collect();
        assert_eq!(states, [FenceState::Successful]);
    }

    #[test]
    fn newest_first_filtered_by_target_and_kept_across_a_restart() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("fence-history");
        let mut history = History::load(file.clone());
        history.record(event("a", "n2", FenceState::Failed, 1));
        history.record(event("b", "n3", FenceState::Successful, 2));
        history.record(event("c", "n2", FenceState::Successful, 3));
        let again = History::load(file);
        let ids: Vec<String> = again.of("n2").into_iter().map(|e| e.id).collect();
        assert_eq!(ids, ["c", "a"]);
        assert_eq!(again.of("").len(), 3);
    }

    #[test]
    fn a_long_history_is_trimmed_to_its_newest_and_a_garbled_file_is_set_aside() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("fence-history");
        let mut history = History::load(file.clone());
        for i in 0..=MOST {
            let requested = i64::try_from(i).expect("small");
            history.record(event(
                &format!("e{i}"),
                "n2",
                FenceState::Successful,
                requested,
            ));
        }
        let kept = history.of("n2");
        assert_eq!(kept.len(), TRIMMED_TO);
        assert_eq!(kept[0].id, format!("e{MOST}"));

        std::fs::write(&file, b"\xff\xff not a history").expect("garble");
        assert!(History::load(file.clone()).of("").is_empty());
        assert!(
            file.with_extension("bad").exists(),
            "the garbled file is kept aside"
        );
    }
}
