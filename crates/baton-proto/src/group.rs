//! A membership of one of ringd's process groups over ringd.sock: payloads
//! go out through `sends`; events come in on the receiver
//! [`Group::join`] returns, in the group's agreed order, until ringd goes
//! away.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

use crate::ring::process_groups_client::ProcessGroupsClient;
use crate::ring::{GroupRequest, JoinGroup, LeaveGroup, group_event, group_request};

/// A group stream lives as long as its daemon.
const STREAM_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);
/// Sends waiting for ringd's flow control, and events waiting to be read.
const QUEUE: usize = 256;

#[derive(Debug)]
pub struct Group {
    pub sends: mpsc::Sender<Vec<u8>>,
    leave: mpsc::Sender<GroupRequest>,
}

impl Group {
    /// Joins `group` as process `pid`.
    pub async fn join(
        socket: &Path,
        group: &str,
        pid: u32,
    ) -> anyhow::Result<(Group, mpsc::Receiver<group_event::Event>)> {
        let channel = crate::client::connect(socket, STREAM_TIMEOUT).await?;
        let (requests, outbound) = mpsc::channel(QUEUE);
        requests
            .send(GroupRequest {
                request: Some(group_request::Request::Join(JoinGroup {
                    group: group.into(),
                    pid,
                })),
            })
            .await
            .context("ringd's group stream closed")?;
        let mut inbound = ProcessGroupsClient::new(channel)
            .join(ReceiverStream::new(outbound))
            .await
            .context("ringd refused to join the group")?
            .into_inner();
        let (events_tx, events) = mpsc::channel(QUEUE);
        tokio::spawn(async move {
            while let Some(batch) = inbound.next().await {
                let Ok(batch) = batch else { break };
                for event in batch.events.into_iter().filter_map(|e| e.event) {
                    if events_tx.send(event).await.is_err() {
                        return;
                    }
                }
            }
        });
        let (sends, mut payloads) = mpsc::channel::<Vec<u8>>(QUEUE);
        let forward = requests.clone();
        tokio::spawn(async move {
            while let Some(payload) = payloads.recv().await {
                let request = GroupRequest {
                    request: Some(group_request::Request::Send(payload)),
                };
                if forward.send(request).await.is_err() {
                    return;
                }
            }
        });
        Ok((
            Group {
                sends,
                leave: requests,
            },
            events,
        ))
    }

    /// Leaves the group cleanly, so the others see a clean leave.
    pub async fn leave(self) {
        let request = GroupRequest {
            request: Some(group_request::Request::Leave(LeaveGroup {})),
        };
        let _ = self.leave.send(request).await;
    }
}
