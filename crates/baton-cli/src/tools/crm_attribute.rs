//! `crm_attribute` (and the old `crm_master`, which always works on the
//! promotion score): node attributes, permanent or transient, and cluster
//! options, as agents set and read them.

use std::process::ExitCode;

use baton_cib::Cib;
use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "crm_attribute",
    about = "baton's crm_attribute: query and change node attributes and cluster options",
    disable_version_flag = true
)]
struct Args {
    /// The attribute's name.
    #[arg(short = 'n', long = "name")]
    name: Option<String>,
    /// Set it to this value.
    #[arg(short = 'v', long = "update", visible_alias = "attr-value")]
    update: Option<String>,
    /// Print its value.
    #[arg(short = 'G', long = "query", visible_alias = "get-value")]
    query: bool,
    /// Delete it.
    #[arg(short = 'D', long = "delete", visible_alias = "delete-attr")]
    delete: bool,
    /// The node (default: this node, for node attributes).
    #[arg(short = 'N', long = "node")]
    node: Option<String>,
    /// reboot (transient, in the status) or forever (in the configuration).
    #[arg(short = 'l', long = "lifetime")]
    lifetime: Option<String>,
    /// crm_config, nodes or status.
    #[arg(short = 't', long = "type")]
    kind: Option<String>,
    /// The promotion score of RSC (default: OCF_RESOURCE_INSTANCE).
    #[arg(short = 'p', long = "promotion", num_args = 0..=1, default_missing_value = "")]
    promotion: Option<String>,
    /// Print only the value.
    #[arg(short = 'q', long = "quiet")]
    quiet: bool,
    /// crm_master's spelling of --quiet.
    #[arg(short = 'Q', hide = true)]
    quiet_master: bool,
    /// The value to print when the attribute is not set.
    #[arg(short = 'd', long = "default")]
    default: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    ClusterOption,
    Permanent,
    Transient,
}

impl Scope {
    fn word(self) -> &'static str {
        match self {
            Scope::ClusterOption => "crm_config",
            Scope::Permanent => "nodes",
            Scope::Transient => "status",
        }
    }
}

pub fn run(master: bool) -> anyhow::Result<ExitCode> {
    let args = match super::parse::<Args>() {
        Ok(args) => args,
        Err(code) => return Ok(code),
    };
    let promotion = if master {
        Some(args.promotion.clone().unwrap_or_default())
    } else {
        args.promotion.clone()
    };
    let name = match (&promotion, &args.name) {
        (Some(rsc), _) => {
            let rsc = Some(rsc.clone())
                .filter(|r| !r.is_empty())
                .or_else(|| std::env::var("OCF_RESOURCE_INSTANCE").ok())
                .filter(|r| !r.is_empty());
            let Some(rsc) = rsc else {
                return usage("--promotion needs a resource, or OCF_RESOURCE_INSTANCE set");
            };
            format!("master-{rsc}")
        }
        (None, Some(name)) => name.clone(),
        (None, None) => return usage("name the attribute with -n NAME"),
    };
    let scope = match (args.kind.as_deref(), args.lifetime.as_deref()) {
        (Some("crm_config"), _) => Scope::ClusterOption,
        (Some("nodes"), _) => Scope::Permanent,
        (Some("status"), _) => Scope::Transient,
        (Some(other), _) => {
            return usage(&format!(
                "type {other:?} is not supported; use crm_config, nodes or status"
            ));
        }
        (None, Some("reboot")) => Scope::Transient,
        (None, Some("forever" | "permanent")) => Scope::Permanent,
        (None, Some(other)) => {
            return usage(&format!("lifetime {other:?} is not one of reboot, forever"));
        }
        (None, None) if promotion.is_some() => Scope::Transient,
        (None, None) if args.node.is_some() => Scope::Permanent,
        (None, None) => Scope::ClusterOption,
    };
    let live = super::live();
    let node = match (&args.node, scope) {
        (_, Scope::ClusterOption) => String::new(),
        (Some(node), _) => node.clone(),
        (None, _) => match std::env::var("OCF_RESKEY_CRM_meta_on_node") {
            Ok(node) if !node.is_empty() => node,
            _ => live.query()?.node.unwrap_or_default().name,
        },
    };
    let quiet = args.quiet || args.quiet_master;
    if args.query {
        return query(&live, scope, &node, &name, args.default.as_deref(), quiet);
    }
    let value = match (&args.update, args.delete) {
        (Some(value), false) => Some(value.as_str()),
        (None, true) => None,
        _ => return usage("say what to do: -v VALUE, -G or -D"),
    };
    match scope {
        Scope::ClusterOption => {
            let Some(value) = value else {
                anyhow::bail!("deleting a cluster option is done with `baton configure`");
            };
            let (mut cib, base) = live.cib()?;
            cib.set_property(&name, value);
            live.replace(&cib, Some(&base), "crm_attribute")?;
        }
        Scope::Permanent | Scope::Transient => {
            live.set_attribute(&node, &name, value, scope == Scope::Permanent)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn query(
    live: &crate::live::Live,
    scope: Scope,
    node: &str,
    name: &str,
    default: Option<&str>,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    let (cib, _) = live.cib()?;
    let found = lookup(&cib, scope, node, name).or_else(|| default.map(str::to_owned));
    let Some(value) = found else {
        eprintln!("crm_attribute: Error performing operation: No such device or address");
        return Ok(ExitCode::from(super::EXIT_NO_SUCH_OBJECT));
    };
    if quiet {
        println!("{value}");
    } else {
        println!("scope={}  name={name} value={value}", scope.word());
    }
    Ok(ExitCode::SUCCESS)
}

fn lookup(cib: &Cib, scope: Scope, node: &str, name: &str) -> Option<String> {
    match scope {
        Scope::ClusterOption => cib.property(name).map(str::to_owned),
        Scope::Permanent => cib
            .nodes()
            .find(|n| n.uname() == Some(node))?
            .attribute(name)
            .map(str::to_owned),
        Scope::Transient => cib
            .node_states()
            .find(|s| s.uname() == Some(node))?
            .transient_attributes()
            .find_map(|set| set.get(name))
            .map(str::to_owned),
    }
}

fn usage(message: &str) -> anyhow::Result<ExitCode> {
    eprintln!("crm_attribute: {message}");
    Ok(ExitCode::from(super::EXIT_USAGE))
}
