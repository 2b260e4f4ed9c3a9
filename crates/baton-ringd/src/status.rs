//! The `Ring` gRPC service: answers from a snapshot the driver publishes,
//! so a status call never waits for (or blocks) the protocol loop.

use std::sync::{Arc, Mutex};

use baton_proto::ring::ring_server::Ring;
use baton_proto::ring::{
    QuorumStatusReply, QuorumStatusRequest, RingStatusReply, RingStatusRequest,
};
use tonic::{Request, Response, Status};

/// Shared between the driver (writer) and the service (readers).
pub type Snapshot = Arc<Mutex<RingStatusReply>>;
pub type QuorumSnapshot = Arc<Mutex<QuorumStatusReply>>;

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
        let reply = self
            .quorum
            .lock()
            .map_err(|_| Status::internal(POISONED))?
            .clone();
        Ok(Response::new(reply))
    }
}
