//! The running cluster's CIB through this node's baton-crmd (crmd.sock):
//! read from the node's replica, written through the cluster (a write
//! returns once every node has it).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use baton_cib::{Cib, Version};
use baton_proto::crmd as pb;
use baton_proto::crmd::crmd_client::CrmdClient;
use tonic::Code as GrpcCode;

use crate::lrm_cmd::block_on;

/// A write waits for every node; give a slow cluster time.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// crmd answered that this node is not part of a running cluster yet, or
/// could not be reached: exit 3, like an absent daemon.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unreachable(pub String);

#[derive(Debug, Clone)]
pub struct Live {
    socket: PathBuf,
}

/// The cluster's configuration a change is made from.
#[derive(Debug, Clone)]
pub struct Base {
    pub version: Version,
    pub digest: String,
}

/// A write's outcome as the user sees it.
#[derive(Debug)]
pub struct Outcome {
    pub changed: bool,
}

pub fn version(v: Option<pb::CibVersion>) -> Version {
    let v = v.unwrap_or_default();
    Version {
        admin_epoch: v.admin_epoch,
        epoch: v.epoch,
        num_updates: v.num_updates,
    }
}

impl Live {
    pub fn new(socket_dir: &Path) -> Live {
        Live {
            socket: socket_dir.join("crmd.sock"),
        }
    }

    async fn client(&self) -> anyhow::Result<CrmdClient<tonic::transport::Channel>> {
        let channel = baton_proto::client::connect(&self.socket, CALL_TIMEOUT)
            .await
            .context("cannot reach baton-crmd, which serves the running cluster's CIB")?;
        Ok(CrmdClient::new(channel))
    }

    /// What this node's crmd holds and knows.
    pub fn query(&self) -> anyhow::Result<pb::QueryReply> {
        block_on(async {
            let reply = self
                .client()
                .await?
                .query(pb::QueryRequest {})
                .await
                .map_err(refused)?;
            Ok(reply.into_inner())
        })
    }

    /// The cluster's CIB and what a change to it is made from.
    pub fn cib(&self) -> anyhow::Result<(Cib, Base)> {
        let reply = self.query()?;
        let cib = Cib::parse(&reply.cib).context("baton-crmd sent a CIB that does not parse")?;
        let base = Base {
            version: version(reply.version),
            digest: reply.config_digest,
        };
        Ok((cib, base))
    }

    /// Replaces the cluster's configuration with `cib`'s; with `base`, only
    /// if the cluster's configuration is still that one.
    pub fn replace(&self, cib: &Cib, base: Option<&Base>, client: &str) -> anyhow::Result<Outcome> {
        let request = pb::ReplaceConfigurationRequest {
            cib: cib.to_xml(baton_cib::xml::Style::Compact),
            base: base.map(|b| pb::CibVersion {
                admin_epoch: b.version.admin_epoch,
                epoch: b.version.epoch,
                num_updates: b.version.num_updates,
            }),
            base_digest: base.map(|b| b.digest.clone()).unwrap_or_default(),
            client: client.to_owned(),
            user: user(),
        };
        let reply = block_on(async {
            let reply = self
                .client()
                .await?
                .replace_configuration(request)
                .await
                .map_err(refused)?;
            Ok(reply.into_inner())
        })?;
        Ok(outcome(&reply))
    }

    pub fn set_attribute(
        &self,
        node: &str,
        name: &str,
        value: Option<&str>,
        forever: bool,
    ) -> anyhow::Result<Outcome> {
        let request = pb::SetNodeAttributeRequest {
            node: node.to_owned(),
            name: name.to_owned(),
            value: value.map(str::to_owned),
            forever,
            client: "baton node".to_owned(),
            user: user(),
        };
        let reply =
            self.retrying(async |mut client| client.set_node_attribute(request.clone()).await)?;
        Ok(outcome(&reply))
    }

    /// Clears fail counts and erases the history of each target; the
    /// cluster probes them again.
    pub fn cleanup(&self, targets: &[baton_configure::CleanupTarget]) -> anyhow::Result<Outcome> {
        let request = pb::CleanupRequest {
            targets: targets
                .iter()
                .map(|t| pb::CleanupTarget {
                    node: t.node.clone(),
                    resource: t.resource.clone(),
                })
                .collect(),
        };
        let reply = self.retrying(async |mut client| client.cleanup(request.clone()).await)?;
        Ok(outcome(&reply))
    }

    /// Makes a write that is whole, not made from a base: its only
    /// refusal is a join round that interrupted it, and rounds end in
    /// moments, so it is made again a few times.
    fn retrying(
        &self,
        call: impl AsyncFn(
            CrmdClient<tonic::transport::Channel>,
        ) -> Result<tonic::Response<pb::WriteReply>, tonic::Status>,
    ) -> anyhow::Result<pb::WriteReply> {
        block_on(async {
            let client = self.client().await?;
            let mut attempt = 1;
            loop {
                match call(client.clone()).await {
                    Ok(reply) => return Ok(reply.into_inner()),
                    Err(status)
                        if status.code() == GrpcCode::Aborted && attempt < WHOLE_WRITE_ATTEMPTS =>
                    {
                        attempt += 1;
                        tokio::time::sleep(WHOLE_WRITE_RETRY_AFTER).await;
                    }
                    Err(status) => return Err(refused(status)),
                }
            }
        })
    }
}

/// How often a whole write (a node attribute, a clean-up) that a join
/// round interrupted is made.
const WHOLE_WRITE_ATTEMPTS: u32 = 3;
const WHOLE_WRITE_RETRY_AFTER: Duration = Duration::from_millis(300);

fn outcome(reply: &pb::WriteReply) -> Outcome {
    if reply.without_quorum {
        eprintln!(
            "warning: this node's partition has no quorum; if another partition changes the configuration too, this change may be dropped when they merge (it is then kept as a backup, and `baton status` says so)"
        );
    }
    Outcome {
        changed: reply.changed,
    }
}

/// crmd's refusal as an error; "not in a cluster yet" counts as
/// unreachable (exit 3).
fn refused(status: tonic::Status) -> anyhow::Error {
    match status.code() {
        GrpcCode::Unavailable => Unreachable(format!("baton-crmd: {}", status.message())).into(),
        _ => anyhow::anyhow!("{}", status.message()),
    }
}

fn user() -> String {
    std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "root".to_owned())
}
