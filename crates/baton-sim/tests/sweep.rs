//! Seed sweeps through the simulator. Every failure prints its replay line.

use baton_sim::{FaultKinds, SimOptions, run};

fn check(seed: u64, nodes: Option<usize>, faults: FaultKinds) {
    check_with(seed, nodes, faults, false);
}

fn check_with(seed: u64, nodes: Option<usize>, faults: FaultKinds, controllers: bool) {
    let options = SimOptions {
        seed,
        nodes,
        faults,
        trace: false,
        controllers,
    };
    if let Err(violation) = run(&options) {
        panic!("{violation}");
    }
}

/// The CI sweep: 2,000 seeds mixing every fault kind, in two halves so the
/// test harness runs them on both cores. `BATON_SIM_SEEDS=A..B` sweeps
/// another range instead (a soak), e.g. `BATON_SIM_SEEDS=0..100000 cargo
/// test --release -p baton-sim --test sweep sweep_`.
fn sweep(default: std::ops::Range<u64>) {
    for seed in seeds("BATON_SIM_SEEDS", default) {
        check(seed, None, FaultKinds::all());
    }
}

/// `default`, or this half of the range in the environment variable `var`.
fn seeds(var: &str, default: std::ops::Range<u64>) -> std::ops::Range<u64> {
    match std::env::var(var) {
        Ok(text) => {
            let (start, end) = text
                .split_once("..")
                .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)))
                .unwrap_or_else(|| panic!("{var} must look like 0..2000, not {text}"));
            let middle = start + (end - start) / 2;
            if default.start == 0 {
                start..middle
            } else {
                middle..end
            }
        }
        Err(_) => default,
    }
}

/// The controller layer on every node with its simulated lrmd and fencer
/// (one CIB per delivered prefix, one DC per view, acknowledged writes
/// survive, never two active, fence before recover, convergence), 60 seeds
/// in two halves (a seed now runs resources through failures, fencing and
/// a settled end, several times the work of a controllers-only seed);
/// `baton-sim --seeds 0..100000 --controllers --keep-going` soaks.
fn controller_sweep(default: std::ops::Range<u64>) {
    for seed in seeds("BATON_SIM_CONTROLLER_SEEDS", default) {
        check_with(seed, None, FaultKinds::all(), true);
    }
}

#[test]
fn controllers_first_half() {
    controller_sweep(0..30);
}

#[test]
fn controllers_second_half() {
    controller_sweep(30..60);
}

#[test]
fn sweep_first_half_every_fault_kind() {
    sweep(0..1000);
}

#[test]
fn sweep_second_half_every_fault_kind() {
    sweep(1000..2000);
}

#[test]
fn fault_free_runs_converge() {
    for seed in 0..20 {
        check(seed, None, FaultKinds::none());
    }
}

/// Seeds that once failed. The swarm has changed since (so a seed may no
/// longer build the same scenario), but each still exercises the area.
#[test]
fn pinned_regressions() {
    let parse = |text: &str| FaultKinds::parse(text).expect("valid fault list");
    let pinned: &[(u64, usize, &str, &str)] = &[
        (
            20,
            6,
            "partition",
            "zero-latency links let a join storm spin without time advancing",
        ),
        (
            39,
            12,
            "loss",
            "every join answered with a join: traffic grew without bound",
        ),
        (
            15,
            7,
            "crash",
            "failed lists carried past COMMIT kept excluding healthy nodes",
        ),
        (
            3,
            7,
            "partition",
            "same: stale failed list spread by a member stuck in RECOVERY",
        ),
        (
            15,
            7,
            "all",
            "joins that changed nothing restarted the consensus timer forever",
        ),
        (
            60,
            6,
            "all",
            "token aru raised past a slower member; recovery installed early (EVS)",
        ),
        (
            220,
            16,
            "all",
            "every survivor re-sent all old messages; recovery outran the bound",
        ),
        (
            9,
            10,
            "loss",
            "probe drain bound ignored the backlog queued during the faults",
        ),
        (
            9,
            10,
            "pause",
            "merge never happened while failed lists were stale",
        ),
        (
            2538,
            11,
            "all",
            "three rings needed several merge rounds; the bound allowed two",
        ),
        (
            2231,
            11,
            "all",
            "a paused node's buffered packets arrived late in the quiet phase",
        ),
        (
            3486,
            4,
            "all",
            "two groups failed each other every round on the other's stale joins",
        ),
        (
            87,
            16,
            "all",
            "same: one node and the rest re-formed apart forever",
        ),
        (
            198,
            16,
            "all",
            "three groups gathering out of step: a ring pulled into a gather took stale verdicts",
        ),
        (
            442,
            9,
            "all",
            "the first fix for 198 also ignored nodes the gather waited for; five groups stayed apart",
        ),
        (
            5459,
            4,
            "all",
            "the fix for 442 followed the late join of the node whose ring pulled the gather in",
        ),
        (
            2848,
            8,
            "all",
            "the fix for 442 as well: one node and the rest re-formed apart",
        ),
    ];
    for (seed, nodes, faults, why) in pinned {
        let options = SimOptions {
            seed: *seed,
            nodes: Some(*nodes),
            faults: parse(faults),
            trace: false,
            controllers: false,
        };
        if let Err(violation) = run(&options) {
            panic!("pinned seed ({why}) failed again: {violation}");
        }
    }
}

/// Controller-layer seeds that once failed, with the reason; the seed draws
/// its own node count.
#[test]
fn pinned_controller_regressions() {
    let pinned: &[(u64, &str)] = &[
        (
            53,
            "a node cut off alone planned on the quorum verdict of the old ring and started what the others ran",
        ),
        (
            36,
            "an orphan's history was erased only after the recheck interval: no replan after a transition that acted",
        ),
        (
            434,
            "a controller declared lost on a node still in the ring was read as cleanly offline: its resource started elsewhere unfenced",
        ),
        (
            517,
            "a ring change held while a join round decided was lost: the crashed node stayed in_ccm and was not fenced",
        ),
        (
            1279,
            "a start asked by a controller process that then restarted ended unheard: its history stayed pending and the resource was never monitored",
        ),
    ];
    for (seed, why) in pinned {
        let options = SimOptions {
            seed: *seed,
            nodes: None,
            faults: FaultKinds::all(),
            trace: false,
            controllers: true,
        };
        if let Err(violation) = run(&options) {
            panic!("pinned controller seed ({why}) failed again: {violation}");
        }
    }
}

/// A seed replays bit-for-bit: the same steps, deliveries and end time.
#[test]
fn a_seed_replays_exactly() {
    let options = SimOptions {
        seed: 4242,
        nodes: None,
        faults: FaultKinds::all(),
        trace: false,
        controllers: false,
    };
    let first = run(&options).map_err(|v| v.to_string());
    let second = run(&options).map_err(|v| v.to_string());
    let key = |r: &Result<baton_sim::RunSummary, String>| {
        r.as_ref()
            .map(|s| {
                (
                    s.steps,
                    s.deliveries,
                    s.submitted,
                    s.virtual_end,
                    s.convergence_ms,
                )
            })
            .map_err(Clone::clone)
    };
    assert_eq!(key(&first), key(&second));
}
