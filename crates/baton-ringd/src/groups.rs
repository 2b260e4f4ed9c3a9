//! The `ProcessGroups` gRPC service: each `Join` stream is one local group
//! member. The service only relays; the driver owns the group state
//! machine, so group changes and ring events stay in one order.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};

use baton_cpg::{ClientId, Event, JoinError, Member, Reason};
use baton_proto::ring::process_groups_server::ProcessGroups;
use baton_proto::ring::{
    ChangeReason, GroupEvent, GroupEvents, GroupMember, GroupMessage, GroupRequest, GroupView,
    ListGroupsReply, ListGroupsRequest, MemberChange, RingChange, group_event, group_request,
};
use prost::Message as _;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::Stream;
use tonic::transport::server::UdsConnectInfo;
use tonic::{Request, Response, Status, Streaming};

/// Requests from the service to the driver. Bounded, so a client that
/// sends faster than the ring carries is slowed down by gRPC flow control.
pub const COMMAND_QUEUE: usize = 1024;
/// Events queued for one client; a client this far behind is disconnected
/// rather than letting ringd's memory grow.
pub const CLIENT_EVENT_QUEUE: usize = 8192;
/// A batch of events sent as one stream message grows to about this size;
/// the first event always goes, so the gRPC limit (4 MiB) is never reached
/// with 1 MiB group messages.
const EVENT_BATCH_BYTES: usize = 1024 * 1024;

#[derive(Debug)]
pub enum GroupCommand {
    Join {
        client: ClientId,
        group: String,
        pid: u32,
        sink: ClientSink,
        reply: oneshot::Sender<Result<(), JoinError>>,
    },
    Send {
        client: ClientId,
        payload: Vec<u8>,
    },
    Leave {
        client: ClientId,
        reason: Reason,
    },
    List {
        reply: oneshot::Sender<ListGroupsReply>,
    },
}

/// Where the driver puts one client's events.
#[derive(Debug)]
pub struct ClientSink {
    pub events: mpsc::Sender<GroupEvent>,
    /// Set by the driver when it drops the client for falling behind.
    pub evicted: Arc<AtomicBool>,
}

#[derive(Debug, Clone)]
pub struct GroupService {
    commands: mpsc::Sender<GroupCommand>,
    next_client: Arc<AtomicU64>,
}

impl GroupService {
    pub fn new(commands: mpsc::Sender<GroupCommand>) -> GroupService {
        GroupService {
            commands,
            next_client: Arc::new(AtomicU64::new(1)),
        }
    }

    async fn command(&self, command: GroupCommand) -> Result<(), Status> {
        self.commands
            .send(command)
            .await
            .map_err(|_| Status::unavailable("baton-ringd is shutting down"))
    }
}

#[tonic::async_trait]
impl ProcessGroups for GroupService {
    type JoinStream = EventStream;

    async fn join(
        &self,
        request: Request<Streaming<GroupRequest>>,
    ) -> Result<Response<EventStream>, Status> {
        let peer_pid = request
            .extensions()
            .get::<UdsConnectInfo>()
            .and_then(|info| info.peer_cred)
            .and_then(|cred| cred.pid())
            .and_then(|pid| u32::try_from(pid).ok());
        let mut inbound = request.into_inner();
        let join = match inbound.message().await? {
            Some(GroupRequest {
                request: Some(group_request::Request::Join(join)),
            }) => join,
            _ => return Err(Status::invalid_argument("the first request must be join")),
        };
        let pid = match (join.pid, peer_pid) {
            (0, Some(pid)) => pid,
            (0, None) => {
                return Err(Status::invalid_argument(
                    "the connection has no process id; give pid in join",
                ));
            }
            (pid, _) => pid,
        };
        let client = ClientId(self.next_client.fetch_add(1, Ordering::Relaxed));
        let (events, receiver) = mpsc::channel(CLIENT_EVENT_QUEUE);
        let evicted = Arc::new(AtomicBool::new(false));
        let (reply, joined) = oneshot::channel();
        self.command(GroupCommand::Join {
            client,
            group: join.group.clone(),
            pid,
            sink: ClientSink {
                events,
                evicted: evicted.clone(),
            },
            reply,
        })
        .await?;
        match joined.await {
            Ok(Ok(())) => {}
            Ok(Err(error @ JoinError::PidInGroup { .. })) => {
                return Err(Status::already_exists(error.to_string()));
            }
            Ok(Err(error @ JoinError::TooManyMemberships)) => {
                return Err(Status::resource_exhausted(error.to_string()));
            }
            Ok(Err(error)) => return Err(Status::invalid_argument(error.to_string())),
            Err(_) => return Err(Status::unavailable("baton-ringd is shutting down")),
        }
        tracing::info!(group = %join.group, pid, client = client.0, "process joined a group");
        let service = self.clone();
        tokio::spawn(async move { service.relay(client, inbound).await });
        Ok(Response::new(EventStream { receiver, evicted }))
    }

    async fn list_groups(
        &self,
        _request: Request<ListGroupsRequest>,
    ) -> Result<Response<ListGroupsReply>, Status> {
        let (reply, listed) = oneshot::channel();
        self.command(GroupCommand::List { reply }).await?;
        listed
            .await
            .map(Response::new)
            .map_err(|_| Status::unavailable("baton-ringd is shutting down"))
    }
}

impl GroupService {
    /// Forwards one member's sends until it leaves or its stream ends.
    async fn relay(self, client: ClientId, mut inbound: Streaming<GroupRequest>) {
        let reason = loop {
            let request = match inbound.message().await {
                Ok(Some(GroupRequest { request })) => request,
                Ok(None) | Err(_) => break Reason::ProcDown,
            };
            match request {
                Some(group_request::Request::Send(payload)) => {
                    let command = GroupCommand::Send { client, payload };
                    if self.command(command).await.is_err() {
                        return;
                    }
                }
                Some(group_request::Request::Leave(_)) => break Reason::Leave,
                Some(group_request::Request::Join(_)) | None => {
                    tracing::warn!(
                        client = client.0,
                        "a group member sent a second join or an empty request; treating it as gone"
                    );
                    break Reason::ProcDown;
                }
            }
        };
        let _ = self.command(GroupCommand::Leave { client, reason }).await;
    }
}

/// One member's events; ends with RESOURCE_EXHAUSTED if it was evicted.
#[derive(Debug)]
pub struct EventStream {
    receiver: mpsc::Receiver<GroupEvent>,
    evicted: Arc<AtomicBool>,
}

impl Stream for EventStream {
    type Item = Result<GroupEvents, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.receiver.poll_recv(cx) {
            Poll::Ready(Some(first)) => {
                let mut bytes = first.encoded_len();
                let mut events = vec![first];
                while bytes < EVENT_BATCH_BYTES {
                    let Ok(event) = self.receiver.try_recv() else {
                        break;
                    };
                    bytes += event.encoded_len();
                    events.push(event);
                }
                Poll::Ready(Some(Ok(GroupEvents { events })))
            }
            Poll::Ready(None) if self.evicted.swap(false, Ordering::Relaxed) => {
                Poll::Ready(Some(Err(Status::resource_exhausted(format!(
                    "this member fell {CLIENT_EVENT_QUEUE} events behind its group and was \
                     removed from it; read events faster, then join again"
                )))))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

pub fn to_proto(event: Event) -> GroupEvent {
    let event = match event {
        Event::View {
            group,
            members,
            joined,
            left,
        } => group_event::Event::View(GroupView {
            group,
            members: members.into_iter().map(member).collect(),
            joined: joined.into_iter().map(change).collect(),
            left: left.into_iter().map(change).collect(),
        }),
        Event::Message {
            group,
            sender,
            payload,
        } => group_event::Event::Message(GroupMessage {
            group,
            sender: Some(member(sender)),
            payload,
        }),
        Event::Ring { ring_id, members } => group_event::Event::Ring(RingChange {
            ring_id: ring_id.to_string(),
            members: members.into_iter().map(|n| n.0).collect(),
        }),
    };
    GroupEvent { event: Some(event) }
}

pub fn member(m: Member) -> GroupMember {
    GroupMember {
        node_id: m.node.0,
        pid: m.pid,
    }
}

fn change((m, reason): (Member, Reason)) -> MemberChange {
    let reason = match reason {
        Reason::Join => ChangeReason::Join,
        Reason::Leave => ChangeReason::Leave,
        Reason::NodeDown => ChangeReason::NodeDown,
        Reason::NodeUp => ChangeReason::NodeUp,
        Reason::ProcDown => ChangeReason::ProcDown,
    };
    MemberChange {
        member: Some(member(m)),
        reason: reason.into(),
    }
}
