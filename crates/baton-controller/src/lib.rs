//! The cluster controller (Pacemaker's controller, CIB manager and attribute
//! manager in one) as a pure state machine: group events, local resource
//! manager answers, client requests and timer ticks in; messages for the
//! group, persistence, replies and events out. No sockets, clock, threads
//! or files: the daemon (`baton-crmd`) and the simulator drive the same core.
//!
//! - **One CIB by total order.** Every change to cluster state is a group
//!   message that every member applies when the group delivers it, never
//!   when it is sent. Members that delivered the same messages hold the same
//!   CIB, byte for byte.
//! - **Join rounds.** A view with new members opens a round: every member
//!   announces its CIB version; when all have, everyone picks the same
//!   winner (highest version, ties to the lower node id), which sends its
//!   whole CIB, and all adopt it. A configuration that loses is never
//!   dropped silently: its holder keeps it as a backup and the node gets the
//!   attribute [`DROPPED_CONFIGURATION_ATTRIBUTE`]. Messages delivered during
//!   a round wait and take effect after it, in order. Then every node
//!   publishes its own status (the operation history its lrmd holds and its
//!   transient attributes): status is rebuilt, never trusted across a join.
//! - **A computed DC.** The previous DC while it is a member, otherwise the
//!   member with the lowest node id. A cluster that never had one waits until
//!   every node of the nodelist is a member, or until membership has been
//!   quiet for the start-up settle time (`dc-deadtime` when set).
//! - **Acknowledged writes.** A client's write is answered once its own node
//!   applied and persisted it and every other member of the view confirmed
//!   that it applied it too (or left). The controllers count *terms*: every
//!   view holding a majority of the cluster's nodes starts a new one, which
//!   is established once a majority of nodes confirmed it; a join round
//!   prefers the configuration of the newest established term (unless
//!   another one simply continues it). A write answered in a majority view
//!   whose term is established is durable: it survives any merge. The answer
//!   says whether it is.
//!
//! Inputs: [`Controller::handle_group`], [`Controller::handle_lrm`],
//! [`Controller::handle_request`], [`Controller::handle_quorum`],
//! [`Controller::handle_timer`], [`Controller::handle_group_lost`]. Outputs:
//! [`Controller::poll_output`], in order; an [`Output::PersistConfiguration`]
//! or [`Output::PersistTerm`] must be carried out before the core is given
//! its next input.
//! [`Controller::next_deadline`] says when to call `handle_timer`.

mod controller;
mod engine;
pub mod history;
pub mod lrm;
mod replica;
mod round;
pub mod time;
pub mod wire;

use std::fmt;

pub use baton_cib::Version;
pub use controller::{CONTROLLER_RESTART_GRACE_MS, Controller};
pub use engine::Counts;
pub use history::{HistorySlot, OpRecord};
pub use lrm::{ExecId, LrmAction, LrmRecord, LrmResult};

/// The node attribute that records a configuration dropped by a merge.
pub const DROPPED_CONFIGURATION_ATTRIBUTE: &str = "baton-dropped-configuration";
/// How long a cluster without a DC waits for quiet membership before one
/// takes over, unless `dc-deadtime` says otherwise.
pub const DEFAULT_STARTUP_SETTLE_MS: u64 = 2_000;

/// A cluster node, numbered as ringd numbers it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct NodeId(pub u32);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One controller process: a member of the controllers' process group.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Member {
    pub node: NodeId,
    pub pid: u32,
}

impl fmt::Display for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.node, self.pid)
    }
}

/// A monotonic time in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub u64);

impl Millis {
    #[must_use]
    pub fn plus(self, ms: u64) -> Millis {
        Millis(self.0.saturating_add(ms))
    }
}

/// The controller's term: every view holding a majority of the cluster's
/// nodes counts `current` up; `established` is the newest term a majority
/// of nodes confirmed (only one group of nodes can establish a number).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Term {
    pub established: u64,
    pub current: u64,
}

/// Written as `current established`, the form the term file holds.
impl std::fmt::Display for Term {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.current, self.established)
    }
}

impl std::str::FromStr for Term {
    type Err = String;

    fn from_str(text: &str) -> Result<Term, String> {
        let mut numbers = text.split_whitespace().map(str::parse::<u64>);
        match (numbers.next(), numbers.next(), numbers.next()) {
            (Some(Ok(current)), Some(Ok(established)), None) if established <= current => {
                Ok(Term {
                    established,
                    current,
                })
            }
            _ => Err(format!(
                "expected two numbers, the current term and the established one (not larger), found {text:?}"
            )),
        }
    }
}

/// What a node keeps on disk for its controller.
#[derive(Debug, Clone)]
pub struct Persisted {
    /// The configuration (the status is rebuilt).
    pub cib: baton_cib::Cib,
    pub term: Term,
}

/// What a controller is told about itself when it starts.
#[derive(Debug, Clone)]
pub struct Settings {
    /// This controller's group member (its node and process id).
    pub me: Member,
    /// This node's name.
    pub name: String,
    /// The nodes of the cluster configuration's nodelist; empty when it has
    /// none (nodes are then learned as they join).
    pub nodelist: Vec<NodeId>,
    /// The start-up settle time, unless the CIB sets `dc-deadtime`.
    pub startup_settle_ms: u64,
    /// In a two-node cluster (`two_node`), how long this node waits before
    /// fencing a peer that held the DC when the two were split (baton's
    /// default: 2 × the effective token), so that only one of them shoots;
    /// `None` in other clusters.
    pub fence_race_delay_ms: Option<u64>,
}

/// Why a member left the group, from the mildest to the most severe.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum LeaveReason {
    /// It left cleanly.
    Leave,
    /// Its process went away without leaving.
    ProcessDown,
    /// Its node left the ring.
    NodeDown,
}

/// What the controllers' process group delivers, in agreed order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GroupEvent {
    /// The group's membership changed; members are sorted.
    View {
        members: Vec<Member>,
        joined: Vec<Member>,
        left: Vec<(Member, LeaveReason)>,
    },
    Message {
        sender: Member,
        payload: Vec<u8>,
    },
    /// The ring's membership changed (nodes, whether or not a controller
    /// runs on them).
    Ring {
        members: Vec<NodeId>,
    },
}

/// What the local resource manager answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LrmEvent {
    /// Its operation history, asked for by [`Output::QueryLrmHistory`].
    History(Vec<OpRecord>),
    /// A one-shot action of [`Output::LrmExec`] finished.
    Done { exec: ExecId, result: LrmResult },
    /// A recurring action's result: its first, then each change.
    Recurring(LrmResult),
    /// A one-shot action's recorded result, which lrmd tells every
    /// subscriber: how a controller process hears the end of an action its
    /// predecessor asked for.
    Recorded(LrmResult),
    /// lrmd came back as a new process: its history and recurring actions
    /// are gone, while the agents' resources are as they were left.
    Restarted,
}

/// What the node's fencer answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FenceEvent {
    /// The outcome of [`Output::Fence`] `request`: done, or why not.
    Done {
        request: u64,
        result: Result<(), String>,
    },
}

/// Chosen by the caller to match a [`Output::Reply`] to its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

/// Who asks for a change, stamped into the CIB as Pacemaker does
/// (`update-client`, `update-user`, `cib-last-written`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    /// The tool, e.g. `baton configure`.
    pub client: String,
    pub user: String,
    /// The wall-clock time of the request, seconds since the epoch.
    pub wall_s: i64,
}

/// How long a node attribute lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Lifetime {
    /// In the status section until the node leaves the cluster.
    Reboot,
    /// In the configuration's nodes section.
    Forever,
}

/// A client's change to the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Replace the configuration section with the one of `cib` (a whole
    /// `<cib>` document; its status is ignored). With a `base`, the write is
    /// refused unless the cluster's configuration is still that one, so a
    /// change made from an older copy cannot undo someone else's.
    ReplaceConfiguration {
        cib: String,
        base: Option<Base>,
        origin: Origin,
    },
    /// Set (or, with no value, delete) a node attribute.
    SetNodeAttribute {
        node: String,
        name: String,
        value: Option<String>,
        lifetime: Lifetime,
        origin: Origin,
    },
    /// Clear resources' fail counts and erase their operation history on
    /// nodes (`crm_resource --cleanup`/`--refresh`): each target is a
    /// (node name, history id) pair; the DC probes them again.
    Cleanup { targets: Vec<(String, String)> },
}

/// The configuration a change was made from: its version and its digest
/// (two partitions can reach one version with different contents).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Base {
    pub admin_epoch: u64,
    pub epoch: u64,
    /// [`Controller::config_digest`] of that configuration.
    pub digest: String,
}

/// A write the cluster applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub version: Version,
    /// False when the write changed nothing.
    pub changed: bool,
    /// The partition had no quorum when the write was sent: a merge with a
    /// partition that changed the configuration too may drop it.
    pub without_quorum: bool,
}

/// Why a request was not carried out. Nothing was changed unless said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("this node's controller has not joined the cluster yet; try again in a moment")]
    NotJoined,
    #[error(
        "the configuration changed while this change was being made (it was made from version {base}, the cluster is at {current}{by}); nothing was changed, run the command again"
    )]
    Conflict {
        base: Version,
        current: Version,
        /// ", last written by NODE" when known.
        by: String,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("there is no node named {0:?} in the cluster")]
    UnknownNode(String),
    #[error(
        "the connection to baton-ringd was lost before the change was confirmed; check with `baton cib query` whether it took effect"
    )]
    ConnectionLost,
    #[error(
        "a membership change interrupted the change before every node had it; nothing was changed, run the command again"
    )]
    Interrupted,
}

/// What the core asks its driver to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Multicast this payload to the controllers' group.
    GroupSend(Vec<u8>),
    /// Write this CIB (configuration only, status empty) and the term to
    /// disk before giving the core its next input.
    PersistConfiguration { cib: String, term: Term },
    /// Only the term changed: write it to disk before giving the core its
    /// next input.
    PersistTerm(Term),
    /// A join round replaced this node's configuration: keep the old one
    /// (a whole CIB) as a backup the user can look at.
    KeepDroppedConfiguration {
        cib: String,
        version: Version,
        replaced_by: Version,
    },
    /// Ask the local resource manager for its operation history and give it
    /// to [`Controller::handle_lrm`].
    QueryLrmHistory,
    /// Run a one-shot action on the local resource manager (recording its
    /// result in lrmd's history when `record` is set); its result comes
    /// back as [`LrmEvent::Done`].
    LrmExec {
        exec: ExecId,
        action: LrmAction,
        record: Option<LrmRecord>,
    },
    /// Start (or restart) a recurring action; its results come back as
    /// [`LrmEvent::Recurring`].
    LrmStartRecurring {
        action: LrmAction,
        record: LrmRecord,
    },
    /// Stop a recurring action, before what follows.
    LrmCancel {
        resource: String,
        operation: String,
        interval_ms: u64,
    },
    /// Erase a resource's history in the local resource manager.
    LrmForget { resource: String },
    /// Fence `target` (`reboot`, `off` or `on`) through the fencer; the
    /// outcome comes back as [`FenceEvent::Done`].
    Fence {
        request: u64,
        target: String,
        action: String,
        timeout_ms: u64,
        /// How long the fencer waits before it shoots (part of the
        /// timeout): a two-node tie-break or `priority-fencing-delay`.
        delay_ms: u64,
    },
    /// This node may stop now: the DC confirmed its shutdown, or the
    /// shutdown escalated. Leave the group and exit.
    Exit { reason: String },
    Reply {
        request: RequestId,
        result: Result<Written, RequestError>,
    },
    /// Something worth a log line.
    Event(Event),
}

/// Noteworthy changes, for logs and observers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The DC changed; `None` while a join round decides.
    DcChanged {
        dc: Option<NodeId>,
    },
    JoinRoundStarted {
        members: Vec<Member>,
    },
    /// Every member announced: the winner is chosen. Everyone decides at
    /// the same point of the group's order; what follows is applied alike.
    JoinRoundDecided {
        winner: NodeId,
    },
    JoinRoundCompleted {
        winner: NodeId,
        version: Version,
    },
    /// A node's configuration lost a join round.
    ConfigurationDropped {
        node: NodeId,
        version: Version,
        replaced_by: Version,
    },
    /// A group message that did not decode (a peer of another version?).
    MalformedMessage {
        sender: Member,
        error: String,
    },
    /// The DC calculated a transition; `summary` is crm_simulate's.
    TransitionStarted {
        id: u64,
        /// What made the DC plan (Pacemaker's abort reason).
        cause: String,
        actions: usize,
        summary: Vec<String>,
    },
    /// The DC started an action ("Initiating start operation vip_start_0
    /// on node2").
    ActionInitiated {
        transition: u64,
        operation: String,
        key: String,
        node: Option<String>,
    },
    /// An action of the DC's transition failed or was lost.
    ActionFailed {
        transition: u64,
        key: String,
        node: Option<String>,
        reason: String,
    },
    TransitionAborted {
        id: u64,
        reason: String,
    },
    TransitionCompleted {
        id: u64,
        counts: Counts,
    },
    /// The scheduler could not plan (the CIB holds something it cannot read).
    SchedulerFailed {
        error: String,
    },
    /// This node asked to shut down.
    ShutdownRequested,
}
