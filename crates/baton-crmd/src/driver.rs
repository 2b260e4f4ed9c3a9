//! The event loop: every input goes to the controller, then its outputs are
//! carried out in order. A persistence output is finished before the next
//! input is taken. SIGTERM asks the controller to shut the node down; crmd
//! exits when the controller says so.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use baton_cib::xml::Style;
use baton_controller::{
    Controller, Event, FenceEvent, GroupEvent, LrmEvent, Millis, OpRecord, Output, RequestError,
    RequestId, Written,
};
use baton_proto::crmd as pb;
use tokio::sync::{mpsc, oneshot, watch};

use crate::ClusterFacts;
use crate::ringd::Group;
use crate::service::{Command, version_of};
use crate::store::ConfigStore;

/// How often crmd tries to reach a missing ringd again.
const RECONNECT: Duration = Duration::from_secs(1);

pub struct Driver {
    controller: Controller,
    store: ConfigStore,
    commands: mpsc::Receiver<Command>,
    ringd_socket: PathBuf,
    lrmd_socket: PathBuf,
    fenced_socket: PathBuf,
    facts: ClusterFacts,
    started: Instant,
    group: Option<Group>,
    replies: HashMap<u64, oneshot::Sender<Result<Written, RequestError>>>,
    next_request: u64,
    history_tx: mpsc::Sender<Vec<OpRecord>>,
    history_rx: mpsc::Receiver<Vec<OpRecord>>,
    quorum: watch::Receiver<Option<crate::ringd::Quorum>>,
    lrmd: crate::lrmd::Link,
    /// Results of lrmd actions, one-shot and recurring.
    lrm_tx: mpsc::Sender<LrmEvent>,
    lrm_rx: mpsc::Receiver<LrmEvent>,
    fence_tx: mpsc::Sender<FenceEvent>,
    fence_rx: mpsc::Receiver<FenceEvent>,
    /// Set once the controller said this node may stop.
    exit: Option<String>,
    ready: bool,
}

/// Results waiting for the loop (STYLE rule 10); lrmd waits when it is full.
const RESULTS_QUEUED: usize = 1024;

impl Driver {
    pub fn new(
        controller: Controller,
        store: ConfigStore,
        commands: mpsc::Receiver<Command>,
        socket_dir: &Path,
        facts: ClusterFacts,
    ) -> Driver {
        let ringd_socket = socket_dir.join("ringd.sock");
        let lrmd_socket = socket_dir.join("lrmd.sock");
        let (history_tx, history_rx) = mpsc::channel(4);
        let (lrm_tx, lrm_rx) = mpsc::channel(RESULTS_QUEUED);
        let (fence_tx, fence_rx) = mpsc::channel(RESULTS_QUEUED);
        crate::lrmd::watch_results(lrmd_socket.clone(), lrm_tx.clone());
        Driver {
            controller,
            store,
            commands,
            quorum: crate::ringd::follow_quorum(ringd_socket.clone()),
            ringd_socket,
            lrmd: crate::lrmd::Link::new(lrmd_socket.clone()),
            lrmd_socket,
            fenced_socket: socket_dir.join("fenced.sock"),
            facts,
            started: Instant::now(),
            group: None,
            replies: HashMap::new(),
            next_request: 0,
            history_tx,
            history_rx,
            lrm_tx,
            lrm_rx,
            fence_tx,
            fence_rx,
            exit: None,
            ready: false,
        }
    }

    /// The time for the next input: monotonic for timers, and the wall
    /// clock given to the controller with it.
    fn now(&mut self) -> Millis {
        let wall_s = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        self.controller.handle_wall_clock(wall_s);
        Millis(u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    pub async fn run(mut self) -> anyhow::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            anyhow::bail!("cannot watch SIGTERM and SIGINT");
        };
        let mut watchdog = tokio::time::interval(watchdog_period());
        let mut reconnect = tokio::time::interval(RECONNECT);
        let mut events = None;
        while self.exit.is_none() {
            let deadline = self.controller.next_deadline().map(|at| {
                let wait = Duration::from_millis(at.0.saturating_sub(self.now().0));
                tokio::time::Instant::now() + wait
            });
            tokio::select! {
                _ = term.recv() => self.shut_down(),
                _ = int.recv() => self.shut_down(),
                event = next_event(&mut events) => {
                    let now = self.now();
                    match event {
                        Some(event) => self.controller.handle_group(now, event),
                        None => {
                            tracing::warn!("lost baton-ringd; every unconfirmed write fails, and crmd joins again when ringd is back");
                            self.group = None;
                            events = None;
                            self.controller.handle_group_lost(now);
                        }
                    }
                }
                Some(command) = self.commands.recv() => self.command(command),
                Some(records) = self.history_rx.recv() => {
                    let now = self.now();
                    self.controller.handle_lrm(now, LrmEvent::History(records));
                }
                Some(event) = self.lrm_rx.recv() => {
                    let now = self.now();
                    self.controller.handle_lrm(now, event);
                }
                Some(event) = self.fence_rx.recv() => {
                    let now = self.now();
                    self.controller.handle_fence(now, event);
                }
                Ok(()) = self.quorum.changed() => {
                    let (quorate, members) =
                        self.quorum.borrow_and_update().clone().unwrap_or_default();
                    let now = self.now();
                    self.controller.handle_quorum(now, quorate, &members);
                }
                () = sleep_until(deadline) => {
                    let now = self.now();
                    self.controller.handle_timer(now);
                }
                _ = reconnect.tick(), if self.group.is_none() => events = self.connect().await,
                _ = watchdog.tick() => {
                    let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
                }
            }
            self.carry_out().await?;
        }
        if let Some(reason) = &self.exit {
            tracing::info!(%reason, "stopping");
        }
        if let Some(group) = self.group.take() {
            group.leave().await;
        }
        Ok(())
    }

    fn shut_down(&mut self) {
        tracing::info!("asked to stop: this node's resources move or stop first");
        let now = self.now();
        self.controller.handle_shutdown(now);
    }

    /// Joins the group; its events, once joined.
    async fn connect(&mut self) -> Option<mpsc::Receiver<GroupEvent>> {
        match crate::ringd::join_group(&self.ringd_socket, self.controller.me().pid).await {
            Ok((group, events)) => {
                tracing::info!(
                    group = crate::ringd::GROUP,
                    "joining the controllers' group"
                );
                self.group = Some(group);
                Some(events)
            }
            Err(error) => {
                tracing::debug!(%error, "baton-ringd not reachable yet");
                None
            }
        }
    }

    fn command(&mut self, command: Command) {
        let now = self.now();
        match command {
            Command::Query(reply) => {
                let _ = reply.send(self.query());
            }
            Command::Change(change, reply) => {
                self.next_request += 1;
                let id = self.next_request;
                self.replies.insert(id, reply);
                self.controller.handle_request(now, RequestId(id), change);
            }
        }
    }

    fn query(&self) -> pb::QueryReply {
        let c = &self.controller;
        let node = |id: baton_controller::NodeId| pb::Node {
            id: id.0,
            name: c.node_name(id).unwrap_or_default().to_owned(),
        };
        let mut members: Vec<pb::Node> = c.view().iter().map(|m| node(m.node)).collect();
        members.dedup_by_key(|n| n.id);
        pb::QueryReply {
            cib: c.cib().to_xml(Style::Pretty),
            version: Some(version_of(c.version())),
            node: Some(pb::Node {
                id: c.me().node.0,
                name: c.name().to_owned(),
            }),
            dc: c
                .dc()
                .and_then(|d| c.node_name(d))
                .unwrap_or_default()
                .to_owned(),
            quorate: c.quorate(),
            joined: c.is_joined(),
            members,
            cluster_name: self.facts.cluster_name.clone(),
            baton_version: env!("CARGO_PKG_VERSION").to_owned(),
            config_digest: c.config_digest(),
        }
    }

    async fn carry_out(&mut self) -> anyhow::Result<()> {
        while let Some(output) = self.controller.poll_output() {
            match output {
                Output::GroupSend(payload) => {
                    if let Some(group) = &self.group
                        && group.sends.send(payload).await.is_err()
                    {
                        tracing::warn!("the group stream closed while sending");
                    }
                }
                Output::PersistConfiguration { cib, term } => {
                    self.store.save(&cib, term)?;
                }
                Output::PersistTerm(term) => self.store.save_term(term)?,
                Output::KeepDroppedConfiguration {
                    cib,
                    version,
                    replaced_by,
                } => {
                    let wall_s = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs());
                    match self.store.keep_dropped(&cib, version, replaced_by, wall_s) {
                        Ok(path) => tracing::error!(
                            %version, %replaced_by, kept = %path.display(),
                            "this node's configuration lost a join round to a newer one and was replaced; the old one is kept"
                        ),
                        Err(error) => {
                            tracing::error!(%error, "cannot keep the configuration that lost the join round")
                        }
                    }
                }
                Output::QueryLrmHistory => {
                    let socket = self.lrmd_socket.clone();
                    let tx = self.history_tx.clone();
                    tokio::spawn(async move {
                        let _ = tx.send(crate::lrmd::history(&socket).await).await;
                    });
                }
                Output::Reply { request, result } => {
                    if let Some(reply) = self.replies.remove(&request.0) {
                        let _ = reply.send(result);
                    }
                }
                Output::Event(event) => self.log(&event),
                Output::LrmExec {
                    exec,
                    action,
                    record,
                } => {
                    let socket = self.lrmd_socket.clone();
                    let tx = self.lrm_tx.clone();
                    tokio::spawn(async move {
                        let result = crate::lrmd::exec(&socket, action, record).await;
                        let _ = tx.send(LrmEvent::Done { exec, result }).await;
                    });
                }
                Output::LrmStartRecurring { action, record } => {
                    self.lrmd.start_recurring(&action, &record).await;
                }
                Output::LrmCancel {
                    resource,
                    operation,
                    interval_ms,
                } => self.lrmd.cancel(resource, operation, interval_ms).await,
                Output::LrmForget { resource } => self.lrmd.forget(resource).await,
                Output::Fence {
                    request,
                    target,
                    action,
                    timeout_ms,
                    delay_ms,
                } => {
                    let socket = self.fenced_socket.clone();
                    let tx = self.fence_tx.clone();
                    tokio::spawn(async move {
                        let result =
                            crate::fenced::fence(&socket, target, action, timeout_ms, delay_ms)
                                .await;
                        let _ = tx.send(FenceEvent::Done { request, result }).await;
                    });
                }
                Output::Exit { reason } => self.exit = Some(reason),
            }
        }
        if !self.ready && self.controller.is_joined() {
            self.ready = true;
            let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
        }
        Ok(())
    }

    fn log(&self, event: &Event) {
        let name = |id: &baton_controller::NodeId| {
            self.controller
                .node_name(*id)
                .map_or_else(|| id.to_string(), str::to_owned)
        };
        match event {
            Event::DcChanged { dc: Some(dc) } => tracing::info!(dc = %name(dc), "DC"),
            Event::DcChanged { dc: None } => tracing::info!("no DC while membership settles"),
            Event::JoinRoundStarted { members } => {
                tracing::info!(members = members.len(), "join round started")
            }
            Event::JoinRoundDecided { winner } => {
                tracing::debug!(winner = %name(winner), "join round decided")
            }
            Event::JoinRoundCompleted { winner, version } => {
                tracing::info!(winner = %name(winner), %version, "join round completed")
            }
            Event::ConfigurationDropped {
                node,
                version,
                replaced_by,
            } => tracing::error!(
                node = %name(node), %version, %replaced_by,
                "a node's configuration lost the join round; it keeps the old one as a backup, and `baton status` warns"
            ),
            Event::MalformedMessage { sender, error } => {
                tracing::warn!(%sender, %error, "dropped a group message")
            }
            Event::TransitionStarted {
                id,
                cause,
                actions,
                summary,
            } => {
                tracing::info!(transition = id, %cause, actions, "calculated a transition");
                for line in summary {
                    tracing::info!(transition = id, "{}", line.trim());
                }
            }
            Event::ActionInitiated {
                transition,
                operation,
                key,
                node,
            } => tracing::info!(
                transition, %key, node = node.as_deref().unwrap_or(""),
                "initiating {operation}"
            ),
            Event::ActionFailed {
                transition,
                key,
                node,
                reason,
            } => tracing::warn!(
                transition, %key, node = node.as_deref().unwrap_or(""), %reason,
                "action failed"
            ),
            Event::TransitionAborted { id, reason } => {
                tracing::info!(transition = id, %reason, "transition aborted")
            }
            Event::TransitionCompleted { id, counts } => tracing::info!(
                transition = id,
                complete = counts.complete,
                failed = counts.failed,
                skipped = counts.skipped,
                "transition complete"
            ),
            Event::SchedulerFailed { error } => {
                tracing::error!(%error, "the scheduler cannot plan from this CIB")
            }
            Event::ShutdownRequested => {
                tracing::info!("asked the DC to move this node's resources before it stops")
            }
        }
    }
}

async fn next_event(events: &mut Option<mpsc::Receiver<GroupEvent>>) -> Option<GroupEvent> {
    match events {
        Some(events) => events.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn watchdog_period() -> Duration {
    sd_notify::watchdog_enabled().map_or(Duration::from_secs(3600), |period| period / 2)
}
