//! Runs the quorum cases in `tests/testdata/*.txt` (raft-rs datadriven
//! style: rules as text tables, one interpreter).
//!
//! Each line is `COMMAND ARGS [-> KEY=VALUE ...]`; `#` starts a comment.
//! Commands:
//! - `config nodes=1,2:3,4 [expected_votes=N] [two_node=0|1] [wait_for_all=0|1]
//!   [last_man_standing=0|1] [window_ms=N] [auto_tie_breaker=0|1]
//!   [tie_breaker=lowest|highest|3,1] [allow_downscale=0|1]` starts a new
//!   node (`2:3` is node 2 with 3 votes). `-> error=MESSAGE` expects the
//!   configuration to be refused with exactly that message.
//! - `members 1,2,3|none at=MS [ring=REP.SEQHEX]`: a new membership; the ring
//!   id defaults to the lowest member and the previous seq + 4.
//! - `leave N`: node N announces a clean leave.
//! - `info N expected=E quorate=yes|no [wfa=yes|no]`: node N's [`NodeInfo`]
//!   is delivered (wfa defaults to no).
//! - `timer at=MS`: a timer tick.
//! - `status`: no input, only checks.
//!
//! Checks after `->` compare exactly: `quorate=yes|no total=N expected=N
//! highest=N quorum=N flags=A,B|(empty) wfa=yes|no members=1,2|none
//! ring=R deadline=MS|none event=none|quorate:1,2;inquorate:1
//! sent=none|E:quorate|E:inquorate[:waiting]`. Events and the node info to
//! send are drained after every line whether checked or not.

use std::fmt::Write as _;
use std::path::Path;

use baton_quorum::{
    Millis, NodeId, NodeInfo, NodeVotes, Quorum, QuorumConfig, QuorumEvent, RingId, TieBreaker,
    Votes,
};

#[test]
fn testdata() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testdata");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("read tests/testdata")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no case files in {}", dir.display());
    let mut failures = String::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read case file");
        let name = file.file_name().expect("file name").to_string_lossy();
        let checks = run_file(&name, &text, &mut failures);
        assert!(checks > 0, "{name} checks nothing");
    }
    assert!(failures.is_empty(), "case failures:\n{failures}");
}

struct Case {
    quorum: Option<Quorum>,
    config_error: Option<String>,
    events: Vec<QuorumEvent>,
    sent: Option<NodeInfo>,
}

/// Runs one file, appending failures; returns the number of checks made.
fn run_file(name: &str, text: &str, failures: &mut String) -> usize {
    let mut case = Case {
        quorum: None,
        config_error: None,
        events: Vec::new(),
        sent: None,
    };
    let mut checks = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let at = format!("{name}:{}", i + 1);
        let (command, expect) = match line.split_once("->") {
            Some((c, e)) => (c.trim(), e.trim()),
            None => (line, ""),
        };
        run_command(&at, command, &mut case);
        checks += check(&at, command, expect, &case, failures);
    }
    checks
}

fn run_command(at: &str, command: &str, case: &mut Case) {
    let mut words = command.split_whitespace();
    let verb = words.next().expect("a command");
    let args: Vec<&str> = words.collect();
    if verb == "config" {
        match Quorum::new(&parse_config(at, &args)) {
            Ok(q) => {
                case.quorum = Some(q);
                case.config_error = None;
            }
            Err(e) => {
                case.quorum = None;
                case.config_error = Some(e.to_string());
            }
        }
        case.events.clear();
        case.sent = None;
        return;
    }
    let q = case
        .quorum
        .as_mut()
        .unwrap_or_else(|| panic!("{at}: `{verb}` needs a valid config first"));
    match verb {
        "members" => {
            let members = parse_ids(
                at,
                args.first()
                    .copied()
                    .unwrap_or_else(|| panic!("{at}: members needs a list")),
            );
            let now = Millis(num(
                at,
                &key(at, &args[1..], "at").unwrap_or_else(|| panic!("{at}: members needs at=")),
            ));
            let ring = match key(at, &args[1..], "ring") {
                Some(r) => parse_ring(at, &r),
                None => {
                    let seq = q.status().ring_id.map_or(4, |r| r.seq + 4);
                    let rep = members.iter().min().copied().unwrap_or(NodeId(1));
                    RingId { rep, seq }
                }
            };
            q.membership_changed(now, ring, &members);
        }
        "leave" => {
            let node = NodeId(num(
                at,
                args.first()
                    .unwrap_or_else(|| panic!("{at}: leave needs a node")),
            ) as u32);
            q.node_left_cleanly(node);
        }
        "timer" => {
            let now = Millis(num(
                at,
                &key(at, &args, "at").unwrap_or_else(|| panic!("{at}: timer needs at=")),
            ));
            q.handle_timer(now);
        }
        "info" => {
            let node = NodeId(num(
                at,
                args.first()
                    .unwrap_or_else(|| panic!("{at}: info needs a node")),
            ) as u32);
            let yes = |name: &str, default: bool| match key(at, &args[1..], name).as_deref() {
                Some("yes") => true,
                Some("no") => false,
                None => default,
                Some(other) => panic!("{at}: {name} is yes or no, got `{other}`"),
            };
            let expected = key(at, &args[1..], "expected")
                .unwrap_or_else(|| panic!("{at}: info needs expected="));
            let info = NodeInfo {
                expected_votes: Votes(num(at, &expected) as u32),
                quorate: yes("quorate", false),
                wait_for_all_status: yes("wfa", false),
            };
            q.handle_node_info(node, info);
        }
        "status" => {}
        other => panic!("{at}: unknown command `{other}`"),
    }
    case.events.clear();
    while let Some(e) = q.poll_event() {
        case.events.push(e);
    }
    case.sent = q.poll_transmit();
}

fn parse_config(at: &str, args: &[&str]) -> QuorumConfig {
    let mut config = QuorumConfig::default();
    for arg in args {
        let (k, v) = arg
            .split_once('=')
            .unwrap_or_else(|| panic!("{at}: expected key=value, got `{arg}`"));
        match k {
            "nodes" => {
                config.nodes = v
                    .split(',')
                    .map(|n| match n.split_once(':') {
                        Some((id, votes)) => NodeVotes {
                            votes: Votes(num(at, votes) as u32),
                            ..NodeVotes::new(NodeId(num(at, id) as u32))
                        },
                        None => NodeVotes::new(NodeId(num(at, n) as u32)),
                    })
                    .collect();
            }
            "expected_votes" => config.expected_votes = Some(Votes(num(at, v) as u32)),
            "two_node" => config.two_node = flag(at, v),
            "wait_for_all" => config.wait_for_all = Some(flag(at, v)),
            "last_man_standing" => config.last_man_standing = flag(at, v),
            "window_ms" => config.last_man_standing_window_ms = num(at, v),
            "auto_tie_breaker" => config.auto_tie_breaker = flag(at, v),
            "tie_breaker" => {
                config.auto_tie_breaker_node = match v {
                    "lowest" => TieBreaker::Lowest,
                    "highest" => TieBreaker::Highest,
                    "none" => TieBreaker::Nodes(Vec::new()),
                    list => TieBreaker::Nodes(parse_ids(at, list)),
                }
            }
            "allow_downscale" => config.allow_downscale = flag(at, v),
            other => panic!("{at}: unknown config key `{other}`"),
        }
    }
    config
}

/// Compares each `key=value` in `expect` with the actual state; returns the
/// number of checks.
fn check(at: &str, command: &str, expect: &str, case: &Case, failures: &mut String) -> usize {
    if expect.is_empty() {
        return 0;
    }
    if let Some(message) = expect.strip_prefix("error=") {
        let want = message.trim_matches('"');
        let got = case.config_error.as_deref().unwrap_or("(no error)");
        if want != got {
            let _ = writeln!(
                failures,
                "{at}: {command}\n  want error: {want}\n  got error:  {got}"
            );
        }
        return 1;
    }
    if let Some(err) = &case.config_error {
        let _ = writeln!(
            failures,
            "{at}: {command}\n  want a valid config, got error: {err}"
        );
        return 1;
    }
    let q = case.quorum.as_ref().expect("a config before checks");
    let actual = actual_values(q, &case.events, case.sent);
    let mut count = 0;
    for item in expect.split_whitespace() {
        let (k, want) = item
            .split_once('=')
            .unwrap_or_else(|| panic!("{at}: expected key=value, got `{item}`"));
        let got = actual
            .iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{at}: unknown check `{k}`"));
        if want != got {
            let full: Vec<String> = actual.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let _ = writeln!(
                failures,
                "{at}: {command}\n  {k}: want `{want}`, got `{got}`\n  actual: {}",
                full.join(" ")
            );
        }
        count += 1;
    }
    count
}

fn actual_values(
    q: &Quorum,
    events: &[QuorumEvent],
    sent: Option<NodeInfo>,
) -> Vec<(&'static str, String)> {
    let s = q.status();
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_owned();
    let ids = |ids: &mut dyn Iterator<Item = NodeId>| {
        let list: Vec<String> = ids.map(|n| n.to_string()).collect();
        if list.is_empty() {
            "none".to_owned()
        } else {
            list.join(",")
        }
    };
    let events = if events.is_empty() {
        "none".to_owned()
    } else {
        let list: Vec<String> = events
            .iter()
            .map(
                |QuorumEvent::QuorumChanged {
                     quorate, members, ..
                 }| {
                    let state = if *quorate { "quorate" } else { "inquorate" };
                    format!("{state}:{}", ids(&mut members.iter().copied()))
                },
            )
            .collect();
        list.join(";")
    };
    vec![
        ("quorate", yes_no(s.quorate)),
        ("total", s.total_votes.to_string()),
        ("expected", s.expected_votes.to_string()),
        ("highest", s.highest_expected.to_string()),
        ("quorum", s.quorum.to_string()),
        ("flags", s.flags.names().collect::<Vec<_>>().join(",")),
        ("wfa", yes_no(s.wait_for_all_status)),
        ("members", ids(&mut s.members.iter().map(|m| m.node_id))),
        (
            "ring",
            s.ring_id.map_or("none".to_owned(), |r| r.to_string()),
        ),
        (
            "deadline",
            q.next_deadline()
                .map_or("none".to_owned(), |d| d.0.to_string()),
        ),
        ("event", events),
        (
            "sent",
            sent.map_or("none".to_owned(), |i| {
                let state = if i.quorate { "quorate" } else { "inquorate" };
                let wait = if i.wait_for_all_status {
                    ":waiting"
                } else {
                    ""
                };
                format!("{}:{state}{wait}", i.expected_votes)
            }),
        ),
    ]
}

fn key(at: &str, args: &[&str], name: &str) -> Option<String> {
    args.iter().find_map(|a| {
        let (k, v) = a
            .split_once('=')
            .unwrap_or_else(|| panic!("{at}: expected key=value, got `{a}`"));
        (k == name).then(|| v.to_owned())
    })
}

fn parse_ids(at: &str, list: &str) -> Vec<NodeId> {
    if list == "none" {
        return Vec::new();
    }
    list.split(',').map(|n| NodeId(num(at, n) as u32)).collect()
}

fn parse_ring(at: &str, text: &str) -> RingId {
    let (rep, seq) = text
        .split_once('.')
        .unwrap_or_else(|| panic!("{at}: ring id is REP.SEQHEX, got `{text}`"));
    RingId {
        rep: NodeId(num(at, rep) as u32),
        seq: u64::from_str_radix(seq, 16).unwrap_or_else(|_| panic!("{at}: bad ring seq `{seq}`")),
    }
}

fn num(at: &str, text: &str) -> u64 {
    text.parse()
        .unwrap_or_else(|_| panic!("{at}: expected a number, got `{text}`"))
}

fn flag(at: &str, text: &str) -> bool {
    match text {
        "0" => false,
        "1" => true,
        _ => panic!("{at}: expected 0 or 1, got `{text}`"),
    }
}
