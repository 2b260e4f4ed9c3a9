//! The `Daemon` service, identical in every daemon.

use crate::daemon::daemon_server::{Daemon, DaemonServer};
use crate::daemon::{InfoReply, InfoRequest};

#[derive(Debug, Clone)]
pub struct DaemonInfo {
    reply: InfoReply,
}

impl DaemonInfo {
    pub fn new(daemon: &str, version: &str, node: &str) -> DaemonServer<Self> {
        DaemonServer::new(Self {
            reply: InfoReply {
                daemon: daemon.to_owned(),
                version: version.to_owned(),
                node: node.to_owned(),
                pid: std::process::id(),
            },
        })
    }
}

#[tonic::async_trait]
impl Daemon for DaemonInfo {
    async fn info(
        &self,
        _request: tonic::Request<InfoRequest>,
    ) -> Result<tonic::Response<InfoReply>, tonic::Status> {
        Ok(tonic::Response::new(self.reply.clone()))
    }
}
