//! Queuing in front of the agents: one action at a time per resource, and at
//! most `slots` agents at a time on the node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use baton_agents::exec::Limits;
use baton_agents::request::ActionRequest;
use baton_agents::run::{ActionResult, Roots, execute};
use tokio::sync::Semaphore;

#[derive(Debug)]
pub struct Executor {
    roots: Roots,
    limits: Limits,
    slots: Semaphore,
    /// One lock per resource with an action queued or running; removed when
    /// the last user lets go, so the map is bounded by the actions in flight.
    resources: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// A result and how long it waited before its agent started.
#[derive(Debug, Clone)]
pub struct Ran {
    pub result: ActionResult,
    pub queue_ms: u64,
}

impl Executor {
    pub fn new(roots: Roots, limits: Limits, slots: usize) -> Self {
        Self {
            roots,
            limits,
            slots: Semaphore::new(slots),
            resources: Mutex::new(HashMap::new()),
        }
    }

    pub fn roots(&self) -> &Roots {
        &self.roots
    }

    /// Runs `request` (validated) once its resource and a slot are free.
    /// Dropping the future kills the agent's process group.
    pub async fn run(&self, request: &ActionRequest) -> Ran {
        let queued = Instant::now();
        let lock = self.resource_lock(&request.resource_id);
        let result = {
            let _resource = lock.lock().await;
            // The semaphore is never closed, so acquire cannot fail.
            let _slot = self.slots.acquire().await;
            let queue_ms = millis(queued);
            Ran {
                result: execute(&self.roots, request, &self.limits).await,
                queue_ms,
            }
        };
        drop(lock);
        self.forget_idle(&request.resource_id);
        result
    }

    fn resource_lock(&self, resource_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut resources = self
            .resources
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(resources.entry(resource_id.to_owned()).or_default())
    }

    fn forget_idle(&self, resource_id: &str) {
        let mut resources = self
            .resources
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if resources
            .get(resource_id)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            resources.remove(resource_id);
        }
    }
}

pub fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}
