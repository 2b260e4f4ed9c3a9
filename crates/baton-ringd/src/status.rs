//! The `Ring` gRPC service: answers from a snapshot the driver publishes,
//! so a status call never waits for (or blocks) the protocol loop.

use std::pin::Pin;
use std::sync::{Arc, Mutex};

use baton_proto::ring::ring_server::Ring;
use baton_proto::ring::{
    QuorumStatusReply, QuorumStatusRequest, RingStatusReply, RingStatusRequest,
};
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

/// Shared between the driver (writer) and the service (readers).
pub type Snapshot = Arc<Mutex<RingStatusReply>>;
/// The latest quorum status; watchers see each change.
pub type QuorumSnapshot = Arc<tokio::sync::watch::Sender<QuorumStatusReply>>;

/// A quorum snapshot before the first membership.
pub fn quorum_snapshot() -> QuorumSnapshot {
    Arc::new(tokio::sync::watch::channel(QuorumStatusReply::default()).0)
}

type QuorumStream = Pin<Box<dyn Stream<Item = Result<QuorumStatusReply, Status>> + Send>>;

const POISONED: &str =
    "ringd's status is unavailable after a crash in its loop; restart baton-ringd";

#[derive(Debug, Clone)]
pub struct RingService {
    snapshot: Snapshot,
    quorum: QuorumSnapshot,
}

impl RingService {
    pub fn new(snapshot: Snapshot, quorum: QuorumSnapshot) -> RingService {
        RingService { snapshot, quorum }
    }
}

#[tonic::async_trait]
impl Ring for RingService {
    async fn ring_status(
        &self,
        _request: Request<RingStatusRequest>,
    ) -> Result<Response<RingStatusReply>, Status> {
        let reply = self
            .snapshot
            .lock()
            .map_err(|_| Status::internal(POISONED))?
            .clone();
        Ok(Response::new(reply))
    }

    async fn quorum_status(
        &self,
        _request: Request<QuorumStatusRequest>,
    ) -> Result<Response<QuorumStatusReply>, Status> {
        Ok(Response::new(self.quorum.borrow().clone()))
    }

    type WatchQuorumStream = QuorumStream;

    async fn watch_quorum(
        &self,
        _request: Request<QuorumStatusRequest>,
    ) -> Result<Response<Self::WatchQuorumStream>, Status> {
        let changes = tokio_stream::wrappers::WatchStream::new(self.quorum.subscribe());
        Ok(Response::new(Box::pin(changes.map(Ok))))
    }
}
