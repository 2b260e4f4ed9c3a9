//! `crm_node`: what agents ask about the local node and the partition.

use std::process::ExitCode;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "crm_node",
    about = "baton's crm_node: this node's name and id, the partition and quorum",
    disable_version_flag = true
)]
struct Args {
    /// This node's name.
    #[arg(short = 'n', long = "name")]
    name: bool,
    /// This node's id.
    #[arg(short = 'i', long = "cluster-id")]
    id: bool,
    /// 1 when the partition has quorum, else 0.
    #[arg(short = 'q', long = "quorum")]
    quorum: bool,
    /// The names of the nodes in this partition.
    #[arg(short = 'p', long = "partition")]
    partition: bool,
    /// Every member: id, name, state.
    #[arg(short = 'l', long = "list")]
    list: bool,
}

pub fn run() -> anyhow::Result<ExitCode> {
    let args = match super::parse::<Args>() {
        Ok(args) => args,
        Err(code) => return Ok(code),
    };
    let reply = super::live().query()?;
    let me = reply.node.clone().unwrap_or_default();
    let mut members: Vec<(u32, String)> = reply
        .members
        .iter()
        .map(|m| (m.id, m.name.clone()))
        .collect();
    members.sort();
    let text = if args.id {
        me.id.to_string()
    } else if args.quorum {
        u8::from(reply.quorate).to_string()
    } else if args.partition {
        let names: Vec<&str> = members.iter().map(|(_, n)| n.as_str()).collect();
        names.join(" ")
    } else if args.list {
        let lines: Vec<String> = members
            .iter()
            .map(|(id, name)| format!("{id} {name} member"))
            .collect();
        lines.join("\n")
    } else if args.name {
        me.name
    } else {
        eprintln!("crm_node: say what to show: -n, -i, -q, -p or -l");
        return Ok(ExitCode::from(super::EXIT_USAGE));
    };
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}
