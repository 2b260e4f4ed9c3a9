//! `baton quorum status`: votequorum as baton-ringd sees it, in the layout
//! of `corosync-quorumtool -s`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use baton_proto::ring::ring_client::RingClient;
use baton_proto::ring::{QuorumStatusReply, QuorumStatusRequest, RingStatusRequest};
use clap::Subcommand;
use serde::Serialize;

use crate::exit::Code;
use crate::lrm_cmd::block_on;
use crate::output::{Format, print_json, print_text};

#[derive(Debug, Subcommand)]
pub enum QuorumCommand {
    /// Show quorum, votes, flags and members; exit 0 when quorate, 1 when
    /// not, 3 when baton-ringd cannot be reached.
    Status,
}

const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The JSON schema of `baton quorum status --output json` (stable).
#[derive(Debug, Serialize)]
struct QuorumJson<'a> {
    quorate: bool,
    expected_votes: u32,
    highest_expected: u32,
    total_votes: u32,
    quorum: u32,
    flags: &'a [String],
    wait_for_all_status: bool,
    /// Null before the first membership.
    ring_id: Option<&'a str>,
    members: Vec<MemberJson<'a>>,
}

#[derive(Debug, Serialize)]
struct MemberJson<'a> {
    node_id: u32,
    name: Option<&'a str>,
    votes: u32,
}

pub fn run(command: &QuorumCommand, socket_dir: &Path, format: Format) -> anyhow::Result<Code> {
    let QuorumCommand::Status = command;
    let (local, reply) = block_on(async {
        let channel = baton_proto::client::connect(&socket_dir.join("ringd.sock"), CALL_TIMEOUT)
            .await
            .context("cannot reach baton-ringd")?;
        let mut client = RingClient::new(channel);
        let refused =
            |status: tonic::Status| anyhow::anyhow!("baton-ringd refused: {}", status.message());
        let ring = client
            .ring_status(RingStatusRequest {})
            .await
            .map_err(refused)?;
        let quorum = client
            .quorum_status(QuorumStatusRequest {})
            .await
            .map_err(refused)?;
        Ok((ring.into_inner().node_id, quorum.into_inner()))
    })?;
    match format {
        Format::Json => print_json(&QuorumJson {
            quorate: reply.quorate,
            expected_votes: reply.expected_votes,
            highest_expected: reply.highest_expected,
            total_votes: reply.total_votes,
            quorum: reply.quorum,
            flags: &reply.flags,
            wait_for_all_status: reply.wait_for_all_status,
            ring_id: (!reply.ring_id.is_empty()).then_some(reply.ring_id.as_str()),
            members: reply
                .members
                .iter()
                .map(|m| MemberJson {
                    node_id: m.node_id,
                    name: (!m.name.is_empty()).then_some(m.name.as_str()),
                    votes: m.votes,
                })
                .collect(),
        })?,
        Format::Text => print_text(&render(&reply, local, &ctime(SystemTime::now())))?,
    }
    Ok(if reply.quorate {
        Code::Success
    } else {
        Code::Problems
    })
}

fn render(reply: &QuorumStatusReply, local: u32, date: &str) -> String {
    let yes_no = if reply.quorate { "Yes" } else { "No" };
    let blocked = if reply.quorate {
        ""
    } else {
        " Activity blocked"
    };
    let mut text = format!(
        "Quorum information\n------------------\nDate:             {date}\nQuorum provider:  corosync_votequorum\nNodes:            {}\nNode ID:          {local}\nRing ID:          {}\nQuorate:          {yes_no}\n\nVotequorum information\n----------------------\nExpected votes:   {}\nHighest expected: {}\nTotal votes:      {}\nQuorum:           {}{blocked}\nFlags:            {}\n\nMembership information\n----------------------\n    Nodeid      Votes Name\n",
        reply.members.len(),
        reply.ring_id,
        reply.expected_votes,
        reply.highest_expected,
        reply.total_votes,
        reply.quorum,
        reply.flags.join(" "),
    );
    for m in &reply.members {
        let me = if m.node_id == local { " (local)" } else { "" };
        let _ = writeln!(text, "{:>10} {:>10} {}{me}", m.node_id, m.votes, m.name);
    }
    text
}

/// `Sun Nov 22 07:31:26 2026` in UTC: the C library's ctime layout, without
/// a date crate for one line.
fn ctime(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {} {day:>2} {:02}:{:02}:{:02} {year}",
        WEEKDAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use baton_proto::ring::QuorumMember;

    use super::*;

    #[test]
    fn ctime_matches_the_c_layout() {
        let at = UNIX_EPOCH + Duration::from_secs(1_795_332_686);
        assert_eq!(ctime(at), "Sun Nov 22 07:31:26 2026");
        assert_eq!(ctime(UNIX_EPOCH), "Thu Jan  1 00:00:00 1970");
    }

    #[test]
    fn renders_quorumtool_layout() {
        let reply = QuorumStatusReply {
            quorate: false,
            expected_votes: 3,
            highest_expected: 3,
            total_votes: 1,
            quorum: 2,
            flags: vec![],
            wait_for_all_status: false,
            ring_id: "1.d".into(),
            members: vec![QuorumMember {
                node_id: 1,
                name: "n1".into(),
                votes: 1,
            }],
        };
        let text = render(&reply, 1, "D");
        assert!(text.contains("Ring ID:          1.d\nQuorate:          No\n"));
        assert!(text.contains("Quorum:           2 Activity blocked\n"));
        assert!(text.ends_with("    Nodeid      Votes Name\n         1          1 n1 (local)\n"));
    }
}
