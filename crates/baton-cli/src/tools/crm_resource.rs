//! `crm_resource`, the subset resource agents call: where a resource runs
//! (`-W`), the resources (`-L`), and one of a resource's parameters, meta
//! attributes (`-m`) or utilization (`-z`): get (`-g`), set (`-p … -v`),
//! delete (`-d`). Changes go through the cluster like `baton configure`.

use std::process::ExitCode;

use baton_configure::{AttributeSet, ResourceChange, change_resource};
use clap::Parser;

use crate::cib_cmd::Target;
use crate::output::Format;

#[derive(Debug, Parser)]
#[command(
    name = "crm_resource",
    about = "baton's crm_resource: where resources run and their attributes",
    disable_version_flag = true
)]
struct Args {
    /// The resource.
    #[arg(short = 'r', long = "resource", value_name = "RSC")]
    resource: Option<String>,
    /// Where the resource runs.
    #[arg(short = 'W', long = "locate")]
    locate: bool,
    /// Every resource and its state.
    #[arg(short = 'L', long = "list")]
    list: bool,
    /// Print the attribute's value.
    #[arg(short = 'g', long = "get-parameter", value_name = "NAME")]
    get: Option<String>,
    /// Set the attribute to the value of -v.
    #[arg(short = 'p', long = "set-parameter", value_name = "NAME")]
    set: Option<String>,
    /// Remove the attribute.
    #[arg(short = 'd', long = "delete-parameter", value_name = "NAME")]
    delete: Option<String>,
    /// The value for -p.
    #[arg(short = 'v', long = "parameter-value", value_name = "VALUE")]
    value: Option<String>,
    /// A meta attribute rather than a parameter.
    #[arg(short = 'm', long = "meta")]
    meta: bool,
    /// A utilization attribute rather than a parameter.
    #[arg(short = 'z', long = "utilization")]
    utilization: bool,
    /// Print only what was asked (with -W: the nodes' names).
    #[arg(short = 'Q', long = "quiet")]
    quiet: bool,
}

pub fn run() -> anyhow::Result<ExitCode> {
    let args = match super::parse::<Args>() {
        Ok(args) => args,
        Err(code) => return Ok(code),
    };
    let socket_dir = super::socket_dir();
    if args.list {
        let status = crate::status_cmd::rendered(&socket_dir)?;
        let resources: Vec<&str> = status
            .lines()
            .skip_while(|l| !l.ends_with("Resources:"))
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .collect();
        println!("{}", resources.join("\n"));
        return Ok(ExitCode::SUCCESS);
    }
    let Some(resource) = args.resource.clone() else {
        eprintln!("crm_resource: name the resource with -r");
        return Ok(ExitCode::from(super::EXIT_USAGE));
    };
    if args.locate && args.quiet {
        let status = crate::status_cmd::snapshot(&socket_dir)?;
        let mut nodes = Vec::new();
        if let Some(found) = crate::resource_cmd::find(&status.resources, &resource) {
            crate::resource_cmd::running_on(found, &mut nodes);
        }
        nodes.sort();
        nodes.dedup();
        for node in nodes {
            println!("{node}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.locate {
        crate::resource_cmd::locate(&resource, &socket_dir, Format::Text)?;
        return Ok(ExitCode::SUCCESS);
    }
    let set = if args.meta {
        AttributeSet::Meta
    } else if args.utilization {
        AttributeSet::Utilization
    } else {
        AttributeSet::Params
    };
    if let Some(name) = &args.get {
        return get(&resource, set, name);
    }
    let change = match (&args.set, &args.delete, &args.value) {
        (Some(name), None, Some(value)) => (name, Some(value.clone())),
        (None, Some(name), None) => (name, None),
        _ => {
            eprintln!("crm_resource: say what to do: -W, -L, -g NAME, -p NAME -v VALUE or -d NAME");
            return Ok(ExitCode::from(super::EXIT_USAGE));
        }
    };
    let (name, value) = change;
    let target = Target::Live(super::live());
    let change = ResourceChange::Attribute {
        resource,
        set,
        name: name.clone(),
        value,
    };
    crate::configure_cmd::change(&target, |cib| {
        change_resource(cib, &change).map(|_| Vec::new())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Prints one attribute of `resource`; a missing one is Pacemaker's "no
/// such object" (105).
fn get(resource: &str, set: AttributeSet, name: &str) -> anyhow::Result<ExitCode> {
    let (cib, _) = super::live().cib()?;
    let element = set.element();
    let Some(found) = cib
        .section("resources")
        .into_iter()
        .flat_map(|r| r.descendants())
        .find(|e| e.xml_id() == resource && e.name() != "nvpair")
    else {
        eprintln!("crm_resource: there is no resource {resource:?} in the cluster");
        return Ok(ExitCode::from(super::EXIT_NO_SUCH_OBJECT));
    };
    let value = found
        .children_named(element)
        .flat_map(|set| set.children_named("nvpair"))
        .find(|p| p.attr("name") == Some(name))
        .and_then(|p| p.attr("value"));
    match value {
        Some(value) => {
            println!("{value}");
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprintln!("Attribute '{name}' not found for '{resource}'");
            Ok(ExitCode::from(super::EXIT_NO_SUCH_OBJECT))
        }
    }
}
