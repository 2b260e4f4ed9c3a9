//! A stand-in for baton-crmd in process tests of its clients (fenced, the
//! CLI): it answers queries with a fixed CIB and refuses the first whole
//! writes (node attributes, clean-ups) as an interrupting join round would.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use baton_proto::crmd::crmd_server::{Crmd, CrmdServer};
use baton_proto::crmd::{
    CleanupRequest, Node, QueryReply, QueryRequest, ReplaceConfigurationRequest,
    SetNodeAttributeRequest, WriteReply,
};
use baton_proto::socket::UnixSocket;
use tonic::{Request, Response, Status};

#[derive(Debug, Clone, Default)]
pub struct StandInCrmd {
    /// What a query answers.
    pub cib: String,
    /// How many whole writes are refused before one is taken.
    pub refusals: u32,
    /// Whole writes received, refused or not.
    pub writes: Arc<AtomicU32>,
    /// This node's name, as a query answers it.
    pub node: String,
    /// Node attributes written, as `NODE NAME=VALUE` (`NODE NAME` for a
    /// deletion).
    pub attributes: Arc<Mutex<Vec<String>>>,
}

impl StandInCrmd {
    /// Serves on `socket_dir/crmd.sock` from the current tokio runtime
    /// until the task is aborted.
    pub fn serve(self, socket_dir: &Path) -> tokio::task::JoinHandle<()> {
        let socket = UnixSocket::bind(&socket_dir.join("crmd.sock")).expect("bind crmd.sock");
        tokio::spawn(async move {
            let router = tonic::transport::Server::builder().add_service(CrmdServer::new(self));
            let _ = socket.serve(router, std::future::pending()).await;
        })
    }

    fn whole_write(&self) -> Result<Response<WriteReply>, Status> {
        let write = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
        if write <= self.refusals {
            return Err(Status::aborted(
                "a membership change interrupted the change before every node had it; nothing was changed, run the command again",
            ));
        }
        Ok(Response::new(WriteReply {
            changed: true,
            ..WriteReply::default()
        }))
    }
}

#[tonic::async_trait]
impl Crmd for StandInCrmd {
    async fn query(&self, _: Request<QueryRequest>) -> Result<Response<QueryReply>, Status> {
        Ok(Response::new(QueryReply {
            cib: self.cib.clone(),
            joined: true,
            node: Some(Node {
                id: 1,
                name: self.node.clone(),
            }),
            ..QueryReply::default()
        }))
    }

    async fn replace_configuration(
        &self,
        _: Request<ReplaceConfigurationRequest>,
    ) -> Result<Response<WriteReply>, Status> {
        Err(Status::unimplemented(
            "the stand-in crmd takes no configuration",
        ))
    }

    async fn set_node_attribute(
        &self,
        request: Request<SetNodeAttributeRequest>,
    ) -> Result<Response<WriteReply>, Status> {
        let reply = self.whole_write()?;
        let request = request.into_inner();
        let written = match request.value {
            Some(value) => format!("{} {}={value}", request.node, request.name),
            None => format!("{} {}", request.node, request.name),
        };
        self.attributes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(written);
        Ok(reply)
    }

    async fn cleanup(&self, _: Request<CleanupRequest>) -> Result<Response<WriteReply>, Status> {
        self.whole_write()
    }
}
