//! The `Crmd` gRPC service: requests become commands for the driver, which
//! owns the controller; answers come back on a oneshot.

use baton_controller::{Base, Lifetime, Origin, Request as Change, RequestError, Version, Written};
use baton_proto::crmd as pb;
use baton_proto::crmd::crmd_server::{Crmd, CrmdServer};
use tokio::sync::{mpsc, oneshot};
use tonic::{Request, Response, Status};

/// Client commands waiting for the driver (STYLE rule 10).
pub const COMMAND_QUEUE: usize = 256;

#[derive(Debug)]
pub enum Command {
    Query(oneshot::Sender<pb::QueryReply>),
    Change(Change, oneshot::Sender<Result<Written, RequestError>>),
}

#[derive(Debug)]
pub struct CrmdService {
    commands: mpsc::Sender<Command>,
}

pub fn server(commands: mpsc::Sender<Command>) -> CrmdServer<CrmdService> {
    CrmdServer::new(CrmdService { commands })
}

const GONE: &str = "baton-crmd is shutting down";

pub fn version_of(v: Version) -> pb::CibVersion {
    pb::CibVersion {
        admin_epoch: v.admin_epoch,
        epoch: v.epoch,
        num_updates: v.num_updates,
    }
}

fn origin(client: String, user: String) -> Origin {
    let wall_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    Origin {
        client: if client.is_empty() {
            "unknown".into()
        } else {
            client
        },
        user: if user.is_empty() { "root".into() } else { user },
        wall_s,
    }
}

fn status_of(error: &RequestError) -> Status {
    let message = error.to_string();
    match error {
        RequestError::Conflict { .. } | RequestError::Interrupted => Status::aborted(message),
        RequestError::Invalid(_) => Status::invalid_argument(message),
        RequestError::UnknownNode(_) => Status::not_found(message),
        RequestError::NotJoined | RequestError::ConnectionLost => Status::unavailable(message),
    }
}

impl CrmdService {
    async fn change(&self, change: Change) -> Result<Response<pb::WriteReply>, Status> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Change(change, tx))
            .await
            .map_err(|_| Status::unavailable(GONE))?;
        let written = rx
            .await
            .map_err(|_| Status::unavailable(GONE))?
            .map_err(|e| status_of(&e))?;
        Ok(Response::new(pb::WriteReply {
            version: Some(version_of(written.version)),
            changed: written.changed,
            without_quorum: written.without_quorum,
        }))
    }
}

#[tonic::async_trait]
impl Crmd for CrmdService {
    async fn query(
        &self,
        _request: Request<pb::QueryRequest>,
    ) -> Result<Response<pb::QueryReply>, Status> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Query(tx))
            .await
            .map_err(|_| Status::unavailable(GONE))?;
        Ok(Response::new(
            rx.await.map_err(|_| Status::unavailable(GONE))?,
        ))
    }

    async fn replace_configuration(
        &self,
        request: Request<pb::ReplaceConfigurationRequest>,
    ) -> Result<Response<pb::WriteReply>, Status> {
        let request = request.into_inner();
        let base = request.base.map(|v| Base {
            admin_epoch: v.admin_epoch,
            epoch: v.epoch,
            digest: request.base_digest.clone(),
        });
        self.change(Change::ReplaceConfiguration {
            cib: request.cib,
            base,
            origin: origin(request.client, request.user),
        })
        .await
    }

    async fn set_node_attribute(
        &self,
        request: Request<pb::SetNodeAttributeRequest>,
    ) -> Result<Response<pb::WriteReply>, Status> {
        let request = request.into_inner();
        self.change(Change::SetNodeAttribute {
            node: request.node,
            name: request.name,
            value: request.value,
            lifetime: if request.forever {
                Lifetime::Forever
            } else {
                Lifetime::Reboot
            },
            origin: origin(request.client, request.user),
        })
        .await
    }

    async fn cleanup(
        &self,
        request: Request<pb::CleanupRequest>,
    ) -> Result<Response<pb::WriteReply>, Status> {
        let targets = request
            .into_inner()
            .targets
            .into_iter()
            .map(|t| (t.node, t.resource))
            .collect();
        self.change(Change::Cleanup { targets }).await
    }
}
