//! Recurring actions. Each runs in its own task, every `interval_ms` after
//! the previous run ends, through the executor like any other action. Its
//! result is published on the first run and whenever rc or status changes,
//! so that subscribers (crmd) hear about failures without polling.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use baton_agents::outcome::{OpStatus, Verdict, rc};
use baton_agents::request::ActionRequest;
use baton_agents::run::ActionResult;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use baton_proto::lrmd as pb;

use crate::executor::{Executor, Ran};
use crate::history::History;

/// Recurring actions one node may carry (STYLE rule 10).
pub const MONITORS_MAX: usize = 10_000;
/// Results a slow subscriber may fall behind by before it is told to resync.
const EVENTS_BUFFERED: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MonitorKey {
    pub resource_id: String,
    pub action: String,
    pub interval_ms: u64,
}

impl MonitorKey {
    pub fn of(request: &ActionRequest) -> Self {
        Self {
            resource_id: request.resource_id.clone(),
            action: request.action.clone(),
            interval_ms: request.interval_ms,
        }
    }
}

/// A recurring action's last result, with its call id and last change
/// time when recorded.
type LastResult = Arc<Mutex<Option<(Ran, Option<(i64, i64)>)>>>;

/// One published result.
#[derive(Debug, Clone)]
pub struct MonitorEvent {
    pub request: Arc<ActionRequest>,
    pub ran: Ran,
    /// The call id and last change time, when recorded in the history.
    pub recorded: Option<(i64, i64)>,
}

#[derive(Debug)]
struct Running {
    request: Arc<ActionRequest>,
    task: JoinHandle<()>,
    /// The last published result, for new subscribers.
    last: LastResult,
}

#[derive(Debug, thiserror::Error)]
#[error("{MONITORS_MAX} recurring actions are already registered; cancel some first")]
pub struct TooManyMonitors;

#[derive(Debug)]
pub struct Monitors {
    executor: Arc<Executor>,
    history: Arc<History>,
    running: Mutex<HashMap<MonitorKey, Running>>,
    events: broadcast::Sender<MonitorEvent>,
}

impl Monitors {
    pub fn new(executor: Arc<Executor>, history: Arc<History>) -> Self {
        Self {
            executor,
            history,
            running: Mutex::new(HashMap::new()),
            events: broadcast::channel(EVENTS_BUFFERED).0,
        }
    }

    /// Starts `request` (validated, interval > 0), replacing the same
    /// resource/action/interval if it was already registered; with a
    /// `record`, its results go to the history too.
    pub fn start(
        &self,
        request: ActionRequest,
        record: Option<pb::Record>,
    ) -> Result<(), TooManyMonitors> {
        let key = MonitorKey::of(&request);
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if !running.contains_key(&key) && running.len() >= MONITORS_MAX {
            return Err(TooManyMonitors);
        }
        let request = Arc::new(request);
        let last = Arc::new(Mutex::new(None));
        let recorder = record.map(|record| (Arc::clone(&self.history), record));
        let task = tokio::spawn(recur(
            Arc::clone(&self.executor),
            Arc::clone(&request),
            Arc::clone(&last),
            self.events.clone(),
            recorder,
        ));
        if let Some(old) = running.insert(
            key,
            Running {
                request,
                task,
                last,
            },
        ) {
            old.task.abort();
        }
        Ok(())
    }

    /// Stops a recurring action (killing its agent if one runs) and tells
    /// subscribers. False when there was none.
    pub fn cancel(&self, key: &MonitorKey) -> bool {
        let removed = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
        let Some(old) = removed else { return false };
        old.task.abort();
        self.history
            .cancelled(&key.resource_id, &key.action, key.interval_ms);
        let verdict = Verdict::failed(
            OpStatus::Cancelled,
            rc::ERR_GENERIC,
            "the recurring action was cancelled",
        );
        let ran = Ran {
            result: ActionResult::not_run(verdict),
            queue_ms: 0,
        };
        let _ = self.events.send(MonitorEvent {
            request: old.request,
            ran,
            recorded: None,
        });
        true
    }

    /// Tells subscribers a recorded one-shot action's result.
    pub fn publish(&self, event: MonitorEvent) {
        // No subscriber is not an error: the history keeps the result.
        let _ = self.events.send(event);
    }

    /// A receiver of every result from now on, and the last result of each
    /// recurring action known so far.
    pub fn subscribe(&self) -> (broadcast::Receiver<MonitorEvent>, Vec<MonitorEvent>) {
        let receiver = self.events.subscribe();
        let running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        let current = running
            .values()
            .filter_map(|r| {
                let (ran, recorded) = r
                    .last
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone()?;
                Some(MonitorEvent {
                    request: Arc::clone(&r.request),
                    ran,
                    recorded,
                })
            })
            .collect();
        (receiver, current)
    }
}

impl Drop for Monitors {
    fn drop(&mut self) {
        for (_, running) in self
            .running
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
        {
            running.task.abort();
        }
    }
}

async fn recur(
    executor: Arc<Executor>,
    request: Arc<ActionRequest>,
    last: LastResult,
    events: broadcast::Sender<MonitorEvent>,
    recorder: Option<(Arc<History>, pb::Record)>,
) {
    let interval = Duration::from_millis(request.interval_ms);
    loop {
        let ran = executor.run(&request).await;
        let changed = last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_none_or(|(prev, _)| {
                (prev.result.rc, prev.result.status) != (ran.result.rc, ran.result.status)
            });
        if changed {
            let recorded = recorder.as_ref().map(|(history, record)| {
                let result = crate::service::encode(&request, ran.clone());
                history.record(&result, record, crate::history::now_s())
            });
            *last.lock().unwrap_or_else(PoisonError::into_inner) = Some((ran.clone(), recorded));
            tracing::info!(
                resource = %request.resource_id,
                action = %request.action,
                interval_ms = request.interval_ms,
                rc = ran.result.rc,
                status = %ran.result.status,
                "recurring action result changed"
            );
            // No subscriber is not an error: results are kept in `last`.
            let _ = events.send(MonitorEvent {
                request: Arc::clone(&request),
                ran,
                recorded,
            });
        }
        tokio::time::sleep(interval).await;
    }
}
