//! The group workload: simulated local processes on each node join one of a
//! few groups, multicast to it, and leave cleanly or vanish (process down).
//! Every choice comes from the run's seed, through a stream of its own so
//! that the network's draws stay as they were.

use baton_cpg::{ClientId, Event as GroupEvent, FRAGMENT_BYTES, Member, Reason};
use baton_quorum::{NodeVotes, QuorumConfig, TieBreaker, Votes};
use baton_totem::NodeId;

use super::services::{OUTGOING_HIGH_WATER, ServiceOutput};
use super::{Event, Simulation, Violation};
use crate::invariants::Observation;
use crate::rng::Rng;

/// The groups clients pick from: few, so that groups have several members.
pub const GROUPS: [&str; 3] = ["alpha", "beta", "gamma"];
/// Clients one node runs at a time.
const CLIENTS_PER_NODE_MAX: usize = 4;
/// How often a client's message spans two fragments.
const LARGE_MESSAGE_CHANCE: f64 = 0.01;
/// Mixed into the seed for the workload's own stream.
const WORKLOAD_STREAM: u64 = 0x6772_6f75_7073;

/// A local process that joined a group.
#[derive(Debug, Clone)]
pub struct SimClient {
    pub id: ClientId,
    pub member: Member,
    pub group: &'static str,
}

#[derive(Debug)]
pub struct Workload {
    rng: Rng,
    /// Mean gap between one node's client actions.
    gap_ms: u64,
    next_client: u64,
    next_message: u64,
}

impl Workload {
    #[must_use]
    pub fn new(seed: u64, token_ms: u64) -> Workload {
        let mut rng = Rng::new(seed ^ WORKLOAD_STREAM);
        let gap_ms = token_ms / rng.range(1, 8) + 1;
        Workload {
            rng,
            gap_ms,
            next_client: 0,
            next_message: 0,
        }
    }

    /// The nodelist's votes and quorum options for this seed: one vote each
    /// or a random spread, sometimes wait_for_all or auto_tie_breaker. Never
    /// two_node or last_man_standing: those give up "a partition and its
    /// complement are never both quorate" by design.
    pub fn quorum_config(&mut self, ids: &[NodeId]) -> QuorumConfig {
        let spread = self.rng.chance(0.3);
        let nodes = ids
            .iter()
            .map(|id| NodeVotes {
                id: baton_quorum::NodeId(id.0),
                name: None,
                votes: Votes(if spread {
                    self.rng.range(1, 3) as u32
                } else {
                    1
                }),
            })
            .collect();
        let wait_for_all = self.rng.chance(0.3);
        let auto_tie_breaker = self.rng.chance(0.3);
        let tie_breaker = if self.rng.chance(0.5) {
            TieBreaker::Lowest
        } else {
            TieBreaker::Highest
        };
        QuorumConfig {
            nodes,
            wait_for_all: Some(wait_for_all),
            auto_tie_breaker,
            auto_tie_breaker_node: tie_breaker,
            ..QuorumConfig::default()
        }
    }

    pub fn next_gap_ms(&mut self) -> u64 {
        self.rng.range(1, 2 * self.gap_ms)
    }
}

impl Simulation {
    /// One client action on `node`, then the next one is scheduled.
    pub(super) fn client_step(&mut self, node: usize) -> Result<(), Violation> {
        if self.is_draining() {
            return Ok(());
        }
        let gap = self.workload.next_gap_ms();
        self.schedule(self.now.plus(gap), Event::Client { node });
        let slot = &self.nodes[node];
        // A paused process cannot serve its clients; a busy one stops
        // reading their requests, as ringd does above its high water.
        if !slot.runnable() || slot.outgoing.len() >= OUTGOING_HIGH_WATER {
            return Ok(());
        }
        let clients = slot.clients.len();
        let rng = &mut self.workload.rng;
        if clients == 0 || (clients < CLIENTS_PER_NODE_MAX && rng.chance(0.2)) {
            self.client_join(node)?;
            return self.pump(node);
        }
        let index = rng.range(0, clients as u64 - 1) as usize;
        match rng.range(0, 99) {
            0..=84 => self.client_send(node, index)?,
            85..=92 => self.client_gone(node, index, Reason::Leave)?,
            _ => self.client_gone(node, index, Reason::ProcDown)?,
        }
        self.pump(node)
    }

    fn client_join(&mut self, node: usize) -> Result<(), Violation> {
        let group = self.workload.rng.pick(&GROUPS);
        self.workload.next_client += 1;
        let slot = &mut self.nodes[node];
        slot.next_pid += 1;
        let client = SimClient {
            id: ClientId(self.workload.next_client),
            member: Member {
                node: slot.id,
                pid: slot.next_pid,
            },
            group,
        };
        if self.options.trace {
            println!(
                "{} n{} CLIENT c{} pid {} joins {group}",
                self.now, slot.id, client.id.0, client.member.pid
            );
        }
        let Some(services) = slot.services.as_mut() else {
            return Ok(());
        };
        let outputs = services.join(client.id, group, client.member.pid);
        slot.clients.push(client);
        self.carry_out_services(node, outputs)
    }

    fn client_send(&mut self, node: usize, index: usize) -> Result<(), Violation> {
        self.workload.next_message += 1;
        let mut payload = self.workload.next_message.to_le_bytes().to_vec();
        // Now and then a message too big for one ring payload, so that
        // fragments, their reassembly and the dropping of a departed
        // sender's half-sent message are exercised too.
        if self.workload.rng.chance(LARGE_MESSAGE_CHANCE) {
            let extra = self.workload.rng.range(1, FRAGMENT_BYTES as u64) as usize;
            payload.resize(FRAGMENT_BYTES + extra, 0x5A);
        }
        let slot = &mut self.nodes[node];
        let client = &slot.clients[index];
        if self.options.trace {
            println!(
                "{} n{} CLIENT c{} sends #{} to {}",
                self.now, slot.id, client.id.0, self.workload.next_message, client.group
            );
        }
        let Some(services) = slot.services.as_mut() else {
            return Ok(());
        };
        let outputs = services.send(client.id, &payload);
        self.carry_out_services(node, outputs)
    }

    fn client_gone(&mut self, node: usize, index: usize, reason: Reason) -> Result<(), Violation> {
        let slot = &mut self.nodes[node];
        let client = slot.clients.remove(index);
        if self.options.trace {
            println!(
                "{} n{} CLIENT c{} {}",
                self.now,
                slot.id,
                client.id.0,
                match reason {
                    Reason::Leave => "leaves",
                    _ => "vanishes",
                }
            );
        }
        let Some(services) = slot.services.as_mut() else {
            return Ok(());
        };
        let outputs = services.leave(client.id, reason);
        self.check(&Observation::ClientGone { client: client.id })?;
        self.carry_out_services(node, outputs)
    }

    /// Queues a node's service payloads for the ring and shows the checkers
    /// its quorum and group events.
    pub(super) fn carry_out_services(
        &mut self,
        node: usize,
        outputs: Vec<ServiceOutput>,
    ) -> Result<(), Violation> {
        let at = self.nodes[node].incarnation();
        for output in outputs {
            match output {
                ServiceOutput::Submit(body) => {
                    self.queue_payload(node, &body)?;
                }
                ServiceOutput::Quorum { quorate, members } => {
                    if self.options.trace {
                        println!(
                            "{} n{} QUORUM {} members {members:?}",
                            self.now,
                            at.node,
                            if quorate { "quorate" } else { "not quorate" }
                        );
                    }
                    self.check(&Observation::Quorum {
                        at,
                        quorate,
                        members: &members,
                    })?;
                    self.controller_quorum(node, quorate, &members)?;
                }
                ServiceOutput::Group { client, event } => {
                    if self.options.trace {
                        println!(
                            "{} n{} GROUP c{} {}",
                            self.now,
                            at.node,
                            client.0,
                            describe(&event)
                        );
                    }
                    let slot = &self.nodes[node];
                    let member = slot
                        .clients
                        .iter()
                        .find(|c| c.id == client)
                        .map(|c| c.member)
                        .or_else(|| {
                            slot.controller
                                .as_ref()
                                .filter(|c| c.client == client)
                                .map(|c| c.member)
                        });
                    if let Some(member) = member {
                        self.check(&Observation::GroupEvent {
                            at,
                            client,
                            member,
                            event: &event,
                        })?;
                    }
                    if self.is_controller(node, client) {
                        self.controller_group_event(node, &event)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// One line per group event for traces: members as `node:pid`, messages by
/// the workload number they carry.
fn describe(event: &GroupEvent) -> String {
    let list = |entries: &[(Member, Reason)]| -> String {
        let words: Vec<String> = entries
            .iter()
            .map(|(m, reason)| format!("{m} ({})", reason.as_str()))
            .collect();
        words.join(", ")
    };
    match event {
        GroupEvent::View {
            group,
            members,
            joined,
            left,
        } => {
            let members: Vec<String> = members.iter().map(Member::to_string).collect();
            format!(
                "VIEW {group} members [{}] joined [{}] left [{}]",
                members.join(" "),
                list(joined),
                list(left)
            )
        }
        GroupEvent::Message {
            group,
            sender,
            payload,
        } => match payload.first_chunk::<8>() {
            Some(number) => format!(
                "MESSAGE {group} #{} ({} bytes) from {sender}",
                u64::from_le_bytes(*number),
                payload.len()
            ),
            None => format!("MESSAGE {group} of {} bytes from {sender}", payload.len()),
        },
        GroupEvent::Ring { ring_id, members } => format!("RING {ring_id} {members:?}"),
    }
}
