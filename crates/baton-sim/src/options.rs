//! Command-line level options and the per-seed swarm parameters.

use baton_totem::Config;

use crate::rng::Rng;

/// Which fault kinds a run may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultKinds {
    pub loss: bool,
    pub duplication: bool,
    pub reorder: bool,
    pub partition: bool,
    pub crash: bool,
    pub pause: bool,
}

impl FaultKinds {
    #[must_use]
    pub fn all() -> FaultKinds {
        FaultKinds {
            loss: true,
            duplication: true,
            reorder: true,
            partition: true,
            crash: true,
            pause: true,
        }
    }

    #[must_use]
    pub fn none() -> FaultKinds {
        FaultKinds {
            loss: false,
            duplication: false,
            reorder: false,
            partition: false,
            crash: false,
            pause: false,
        }
    }

    /// Parses `all`, `none` or a comma list of `loss,dup,reorder,partition,crash,pause`.
    pub fn parse(text: &str) -> Result<FaultKinds, String> {
        match text {
            "all" => return Ok(FaultKinds::all()),
            "none" => return Ok(FaultKinds::none()),
            _ => {}
        }
        let mut kinds = FaultKinds::none();
        for word in text.split(',') {
            match word.trim() {
                "loss" => kinds.loss = true,
                "dup" => kinds.duplication = true,
                "reorder" => kinds.reorder = true,
                "partition" => kinds.partition = true,
                "crash" => kinds.crash = true,
                "pause" => kinds.pause = true,
                other => {
                    return Err(format!(
                        "unknown fault kind {other:?}; use all, none or a list of loss,dup,reorder,partition,crash,pause"
                    ));
                }
            }
        }
        Ok(kinds)
    }

    #[must_use]
    pub fn describe(&self) -> String {
        if *self == FaultKinds::all() {
            return "all".to_owned();
        }
        let names = [
            (self.loss, "loss"),
            (self.duplication, "dup"),
            (self.reorder, "reorder"),
            (self.partition, "partition"),
            (self.crash, "crash"),
            (self.pause, "pause"),
        ];
        let enabled: Vec<&str> = names
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, n)| *n)
            .collect();
        if enabled.is_empty() {
            "none".to_owned()
        } else {
            enabled.join(",")
        }
    }
}

#[derive(Debug, Clone)]
pub struct SimOptions {
    pub seed: u64,
    /// `None`: the seed picks 2..=16 nodes.
    pub nodes: Option<usize>,
    pub faults: FaultKinds,
    pub trace: bool,
    /// Run a controller (baton-controller) on every node, with its workload
    /// and invariants.
    pub controllers: bool,
}

/// Everything a seed decides about its run (swarm testing: each seed gets its
/// own mix and intensity of faults).
#[derive(Debug, Clone)]
pub struct Swarm {
    pub nodes: usize,
    pub token_ms: u64,
    pub token_coefficient_ms: u64,
    /// Largest one-way base latency; each link draws its own in 1..=this.
    pub latency_ms: u64,
    pub jitter_ms: u64,
    pub loss: f64,
    pub duplication: f64,
    pub reorder_ms: u64,
    pub partitions: bool,
    pub asymmetric_partitions: bool,
    pub crashes: bool,
    pub pauses: bool,
    /// Mean gap between fault events.
    pub fault_gap_ms: u64,
    /// Mean gap between submissions on one node.
    pub submit_gap_ms: u64,
    pub payload_padding: usize,
    pub fault_phase_ms: u64,
}

impl Swarm {
    #[must_use]
    pub fn draw(rng: &mut Rng, options: &SimOptions) -> Swarm {
        // Drawn first, and always, so --nodes does not shift the stream.
        let drawn_nodes = if rng.chance(0.1) {
            rng.range(9, 16)
        } else {
            rng.range(2, 8)
        };
        let nodes = options.nodes.unwrap_or(drawn_nodes as usize);
        let faults = options.faults;
        let token_ms = rng.pick(&[200, 300, 500, 1000]);
        let token_coefficient_ms = rng.pick(&[0, token_ms / 10]);
        // At least 1 ms: a zero-latency network lets join storms spin without
        // virtual time ever advancing.
        let latency_ms = rng.range(1, 6);
        let jitter_ms = rng.range(0, 2);
        let loss = rng.pick(&[0.0, 0.01, 0.05, 0.2]);
        let duplication = rng.pick(&[0.0, 0.01, 0.1]);
        let reorder_ms = rng.pick(&[0, 5, 20]);
        let partitions = rng.chance(0.6);
        let asymmetric_partitions = rng.chance(0.4);
        let crashes = rng.chance(0.6);
        let pauses = rng.chance(0.5);
        let fault_gap_ms = token_ms * rng.range(1, 6);
        let submit_gap_ms = rng.range(5, 200);
        let payload_padding = rng.pick(&[0, 16, 200]) as usize;
        let fault_phase_ms = token_ms * rng.range(10, 40);
        Swarm {
            nodes,
            token_ms,
            token_coefficient_ms,
            latency_ms,
            jitter_ms,
            loss: if faults.loss { loss } else { 0.0 },
            duplication: if faults.duplication { duplication } else { 0.0 },
            reorder_ms: if faults.reorder { reorder_ms } else { 0 },
            partitions: faults.partition && partitions,
            asymmetric_partitions,
            crashes: faults.crash && crashes,
            pauses: faults.pause && pauses,
            fault_gap_ms,
            submit_gap_ms,
            payload_padding,
            fault_phase_ms,
        }
    }

    #[must_use]
    pub fn config(&self, nodes: Vec<baton_totem::NodeId>) -> Config {
        Config::with_token(nodes, self.token_ms, self.token_coefficient_ms)
    }
}
