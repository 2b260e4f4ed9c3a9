//! A process-group member talking to one node's ringd over its socket, as
//! crmd will: join, send, read events with a deadline, leave or vanish.
// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::path::Path;
use std::time::Duration;

use baton_proto::ring::process_groups_client::ProcessGroupsClient;
use baton_proto::ring::{
    ChangeReason, GroupEvents, GroupMember, GroupRequest, JoinGroup, LeaveGroup, group_event,
    group_request,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Streaming;

pub struct Member {
    requests: mpsc::Sender<GroupRequest>,
    events: Streaming<GroupEvents>,
    /// Events of the last batch not read yet.
    pending: VecDeque<group_event::Event>,
}

/// A membership change as (node id, pid, reason).
pub type Change = (u32, u32, ChangeReason);

impl Member {
    pub async fn join(socket: &Path, group: &str, pid: u32) -> Member {
        let channel = baton_proto::client::connect(socket, Duration::from_secs(5))
            .await
            .unwrap_or_else(|e| panic!("connect {}: {e}", socket.display()));
        let (requests, outbound) = mpsc::channel(64);
        requests
            .send(request(group_request::Request::Join(JoinGroup {
                group: group.into(),
                pid,
            })))
            .await
            .expect("queue join");
        let events = ProcessGroupsClient::new(channel)
            .join(ReceiverStream::new(outbound))
            .await
            .unwrap_or_else(|status| panic!("join {group} refused: {status}"))
            .into_inner();
        Member {
            requests,
            events,
            pending: VecDeque::new(),
        }
    }

    /// The request sender and the event stream, to drive them from two
    /// tasks.
    pub fn split(self) -> (mpsc::Sender<GroupRequest>, Streaming<GroupEvents>) {
        (self.requests, self.events)
    }

    pub async fn send(&self, payload: Vec<u8>) {
        self.requests
            .send(request(group_request::Request::Send(payload)))
            .await
            .expect("queue send");
    }

    pub async fn leave(self) {
        self.requests
            .send(request(group_request::Request::Leave(LeaveGroup {})))
            .await
            .expect("queue leave");
        let mut events = self.events;
        // ringd ends the stream once the leave is through.
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            while let Ok(Some(_)) = events.message().await {}
        })
        .await;
        assert!(ended.is_ok(), "the stream did not end after leave");
    }

    /// The next event, or a panic after `within`.
    pub async fn next(&mut self, within: Duration) -> group_event::Event {
        while self.pending.is_empty() {
            let batch = tokio::time::timeout(within, self.events.message())
                .await
                .expect("timed out waiting for a group event")
                .expect("group stream failed")
                .expect("group stream ended");
            self.pending.extend(
                batch
                    .events
                    .into_iter()
                    .map(|e| e.event.expect("event body")),
            );
        }
        self.pending.pop_front().expect("an event")
    }

    /// Reads until a view with `count` members arrives; returns its members.
    pub async fn wait_for_members(&mut self, count: usize, within: Duration) -> Vec<(u32, u32)> {
        loop {
            if let group_event::Event::View(view) = self.next(within).await
                && view.members.len() == count
            {
                return view.members.iter().map(ids).collect();
            }
        }
    }

    /// Reads until a view with a leave arrives; messages in between are
    /// skipped.
    pub async fn next_leave(&mut self, within: Duration) -> Vec<Change> {
        loop {
            if let group_event::Event::View(view) = self.next(within).await
                && !view.left.is_empty()
            {
                return view
                    .left
                    .iter()
                    .map(|c| {
                        let (node, pid) = ids(c.member.as_ref().expect("member"));
                        (node, pid, c.reason())
                    })
                    .collect();
            }
        }
    }

    /// Reads `count` messages as (sender node, sender pid, payload),
    /// skipping membership events.
    pub async fn messages(&mut self, count: usize, within: Duration) -> Vec<(u32, u32, Vec<u8>)> {
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            if let group_event::Event::Message(message) = self.next(within).await {
                let (node, pid) = ids(message.sender.as_ref().expect("sender"));
                out.push((node, pid, message.payload));
            }
        }
        out
    }
}

fn ids(member: &GroupMember) -> (u32, u32) {
    (member.node_id, member.pid)
}

fn request(request: group_request::Request) -> GroupRequest {
    GroupRequest {
        request: Some(request),
    }
}
