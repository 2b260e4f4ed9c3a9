//! pcs's command forms, for the users and tutorials that speak pcs:
//! `property set|unset`, `resource create|delete|enable|disable|group add`
//! and `constraint order|colocation add|location|list|delete`. Each becomes
//! the crmsh configure command (or the change) that means the same, with
//! the ids pcs gives constraints, applied like `baton configure`.

use std::path::Path;

use baton_configure::{ResourceChange, change_resource};
use clap::{Args, Subcommand};

use crate::cib_cmd::{CibArg, target};
use crate::exit::Code;

#[derive(Debug, Subcommand)]
pub enum PropertyCommand {
    /// Set cluster options: NAME=VALUE… (`pcs property set`).
    Set {
        #[arg(required = true, value_name = "NAME=VALUE")]
        options: Vec<String>,
        #[command(flatten)]
        cib: CibArg,
    },
    /// Remove cluster options, back to their defaults.
    Unset {
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
        #[command(flatten)]
        cib: CibArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConstraintCommand {
    /// `[ACTION] FIRST then [ACTION] THEN [kind=Mandatory|Optional|Serialize]`
    /// (options such as --cib go before the words).
    Order {
        #[arg(required = true, allow_hyphen_values = true, value_name = "WORDS")]
        words: Vec<String>,
        #[command(flatten)]
        cib: CibArg,
    },
    /// `add [ROLE] RSC [with] [ROLE] WITH_RSC [SCORE]` (options such as
    /// --cib go before the words, which may hold a negative score).
    Colocation {
        #[arg(required = true, allow_hyphen_values = true, value_name = "WORDS")]
        words: Vec<String>,
        #[command(flatten)]
        cib: CibArg,
    },
    /// `RSC prefers|avoids NODE[=SCORE]…`.
    Location {
        resource: String,
        #[arg(value_parser = ["prefers", "avoids"])]
        relation: String,
        #[arg(required = true, value_name = "NODE[=SCORE]")]
        nodes: Vec<String>,
        #[command(flatten)]
        cib: CibArg,
    },
    /// Every constraint, in the crmsh language.
    List(CibArg),
    /// Remove constraints by id.
    Delete {
        #[arg(required = true)]
        ids: Vec<String>,
        #[command(flatten)]
        cib: CibArg,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    pub id: String,
    /// `ocf:heartbeat:IPaddr2`, or `IPaddr2` for the heartbeat provider.
    pub agent: String,
    /// `NAME=VALUE…`, then `op ACTION NAME=VALUE…` and `meta NAME=VALUE…`.
    #[arg(value_name = "WORDS")]
    pub words: Vec<String>,
    /// Also put it at the end of this group (created if needed).
    #[arg(long)]
    pub group: Option<String>,
    /// Create it stopped (target-role=Stopped).
    #[arg(long)]
    pub disabled: bool,
    #[command(flatten)]
    pub cib: CibArg,
}

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Put resources at the end of a group, creating it if needed.
    Add {
        group: String,
        #[arg(required = true)]
        resources: Vec<String>,
        #[command(flatten)]
        cib: CibArg,
    },
}

pub fn property(command: &PropertyCommand, socket_dir: &Path) -> anyhow::Result<Code> {
    match command {
        PropertyCommand::Set { options, cib } => {
            if let Some(bad) = options.iter().find(|o| !o.contains('=')) {
                anyhow::bail!("{bad:?} is not NAME=VALUE (as in stonith-enabled=false)");
            }
            configure_line(cib, socket_dir, &format!("property {}", options.join(" ")))
        }
        PropertyCommand::Unset { names, cib } => {
            let target = target(cib, socket_dir);
            crate::configure_cmd::change(&target, |cib| {
                for name in names {
                    let Some(pair) = cib.property_pair(name).map(|p| p.element().id()) else {
                        return Err(baton_configure::ApplyError::NotFound { id: name.clone() });
                    };
                    let _ = cib.document_mut().detach(pair);
                }
                Ok(Vec::new())
            })
        }
    }
}

/// `resource create`: crmsh's primitive, with `params` before the instance
/// attributes pcs lists bare.
pub fn create(args: &CreateArgs, socket_dir: &Path) -> anyhow::Result<Code> {
    let params_end = args
        .words
        .iter()
        .position(|w| w == "op" || w == "meta")
        .unwrap_or(args.words.len());
    let (params, rest) = args.words.split_at(params_end);
    let mut rest = rest.to_vec();
    if args.disabled {
        let stopped = "target-role=Stopped".to_owned();
        match rest.iter().position(|w| w == "meta") {
            Some(meta) => rest.insert(meta + 1, stopped),
            None => rest.extend(["meta".to_owned(), stopped]),
        }
    }
    let mut line = format!("primitive {} {}", args.id, args.agent);
    if !params.is_empty() {
        line.push_str(" params ");
        line.push_str(&crate::configure_cmd::join(params));
    }
    if !rest.is_empty() {
        line.push(' ');
        line.push_str(&crate::configure_cmd::join(&rest));
    }
    configure_line(&args.cib, socket_dir, &line)?;
    if let Some(group) = &args.group {
        group_add(&args.cib, socket_dir, group, std::slice::from_ref(&args.id))?;
    }
    Ok(Code::Success)
}

pub fn group(command: &GroupCommand, socket_dir: &Path) -> anyhow::Result<Code> {
    match command {
        GroupCommand::Add {
            group,
            resources,
            cib,
        } => group_add(cib, socket_dir, group, resources),
    }
}

fn group_add(
    cib: &CibArg,
    socket_dir: &Path,
    group: &str,
    members: &[String],
) -> anyhow::Result<Code> {
    let change = ResourceChange::AddToGroup {
        group: group.to_owned(),
        members: members.to_vec(),
    };
    crate::configure_cmd::change(&target(cib, socket_dir), |cib| {
        change_resource(cib, &change).map(|_| Vec::new())
    })
}

pub fn constraint(command: &ConstraintCommand, socket_dir: &Path) -> anyhow::Result<Code> {
    match command {
        ConstraintCommand::Order { words, cib } => {
            configure_line(cib, socket_dir, &order_line(words)?)
        }
        ConstraintCommand::Colocation { words, cib } => {
            configure_line(cib, socket_dir, &colocation_line(words)?)
        }
        ConstraintCommand::Location {
            resource,
            relation,
            nodes,
            cib,
        } => {
            for node in nodes {
                let line = location_line(resource, relation == "avoids", node)?;
                configure_line(cib, socket_dir, &line)?;
            }
            Ok(Code::Success)
        }
        ConstraintCommand::List(cib) => {
            let (loaded, _) = target(cib, socket_dir).load()?;
            let text = baton_configure::show_text(&loaded, &[])?;
            let constraints: Vec<&str> = text
                .lines()
                .filter(|l| {
                    ["location ", "colocation ", "order ", "rsc_ticket "]
                        .iter()
                        .any(|k| l.starts_with(k))
                })
                .collect();
            crate::output::print_text(&constraints.join("\n"))?;
            Ok(Code::Success)
        }
        ConstraintCommand::Delete { ids, cib } => {
            configure_line(cib, socket_dir, &format!("delete {}", ids.join(" ")))
        }
    }
}

const ACTIONS: [&str; 4] = ["start", "stop", "promote", "demote"];

/// `[ACTION] A then [ACTION] B [kind=K]` → crmsh's order, id
/// `order-A-B-<kind>` as pcs names it.
fn order_line(words: &[String]) -> anyhow::Result<String> {
    let usage = "usage: constraint order [ACTION] FIRST then [ACTION] THEN [kind=Mandatory|Optional|Serialize]";
    let Some(then) = words.iter().position(|w| w == "then") else {
        anyhow::bail!("{usage}");
    };
    let side = |part: &[String]| -> Option<(String, String)> {
        match part {
            [rsc] => Some(("start".to_owned(), rsc.clone())),
            [action, rsc] if ACTIONS.contains(&action.as_str()) => {
                Some((action.clone(), rsc.clone()))
            }
            _ => None,
        }
    };
    let (options, after): (Vec<&String>, Vec<&String>) =
        words[then + 1..].iter().partition(|w| w.contains('='));
    let after: Vec<String> = after.into_iter().cloned().collect();
    let (Some((first_action, first)), Some((then_action, then_rsc))) =
        (side(&words[..then]), side(&after))
    else {
        anyhow::bail!("{usage}");
    };
    let mut kind = "Mandatory".to_owned();
    for option in options {
        match option.split_once('=') {
            Some(("kind", value)) => kind = value.to_owned(),
            _ => anyhow::bail!("{option:?} is not an option of order; use kind=…"),
        }
    }
    let id = format!("order-{first}-{then_rsc}-{}", kind.to_lowercase());
    Ok(format!(
        "order {id} {kind}: {first}:{first_action} {then_rsc}:{then_action}"
    ))
}

/// `add [ROLE] A [with] [ROLE] B [SCORE]` → crmsh's colocation, id
/// `colocation-A-B-<score>`.
fn colocation_line(words: &[String]) -> anyhow::Result<String> {
    let usage = "usage: constraint colocation add [ROLE] RSC [with] [ROLE] WITH_RSC [SCORE]";
    let Some(("add", rest)) = words.split_first().map(|(w, r)| (w.as_str(), r)) else {
        anyhow::bail!("{usage}");
    };
    let mut rest: Vec<&str> = rest
        .iter()
        .map(String::as_str)
        .filter(|w| *w != "with")
        .collect();
    let is_role = |w: &str| ["Started", "Promoted", "Unpromoted", "Master", "Slave"].contains(&w);
    let take = |rest: &mut Vec<&str>| -> Option<String> {
        let role = rest.first().filter(|w| is_role(w)).map(|w| w.to_owned());
        if role.is_some() {
            rest.remove(0);
        }
        let rsc = (!rest.is_empty()).then(|| rest.remove(0))?;
        Some(match role {
            Some(role) => format!("{rsc}:{role}"),
            None => rsc.to_owned(),
        })
    };
    let (Some(dependent), Some(with)) = (take(&mut rest), take(&mut rest)) else {
        anyhow::bail!("{usage}");
    };
    let score = match rest.as_slice() {
        [] => "INFINITY",
        [score] => score,
        _ => anyhow::bail!("{usage}"),
    };
    let base = |r: &str| r.split(':').next().unwrap_or(r).to_owned();
    let id = format!("colocation-{}-{}-{score}", base(&dependent), base(&with));
    Ok(format!("colocation {id} {score}: {dependent} {with}"))
}

/// `NODE[=SCORE]` of `prefers`/`avoids` → crmsh's location, id
/// `location-RSC-NODE-SCORE`.
fn location_line(resource: &str, avoids: bool, node: &str) -> anyhow::Result<String> {
    let (node, score) = node.split_once('=').unwrap_or((node, "INFINITY"));
    if node.is_empty() || score.is_empty() {
        anyhow::bail!("{node:?}: write NODE or NODE=SCORE");
    }
    let score = if avoids {
        score
            .strip_prefix('-')
            .map_or_else(|| format!("-{score}"), str::to_owned)
    } else {
        score.to_owned()
    };
    Ok(format!(
        "location location-{resource}-{node}-{score} {resource} {score}: {node}"
    ))
}

fn configure_line(cib: &CibArg, socket_dir: &Path, line: &str) -> anyhow::Result<Code> {
    crate::configure_cmd::apply_line(&target(cib, socket_dir), line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn orders_colocations_and_locations_get_pcs_ids() {
        assert_eq!(
            order_line(&words("start vip then start web")).expect("order"),
            "order order-vip-web-mandatory Mandatory: vip:start web:start"
        );
        assert_eq!(
            order_line(&words("promote db then fs kind=Optional")).expect("order"),
            "order order-db-fs-optional Optional: db:promote fs:start"
        );
        assert_eq!(
            colocation_line(&words("add web with vip")).expect("colocation"),
            "colocation colocation-web-vip-INFINITY INFINITY: web vip"
        );
        assert_eq!(
            colocation_line(&words("add fs with Promoted db-clone 500")).expect("colocation"),
            "colocation colocation-fs-db-clone-500 500: fs db-clone:Promoted"
        );
        assert_eq!(
            location_line("web", false, "web1=50").expect("location"),
            "location location-web-web1-50 web 50: web1"
        );
        assert_eq!(
            location_line("vip", true, "node1").expect("location"),
            "location location-vip-node1--INFINITY vip -INFINITY: node1"
        );
    }

    #[test]
    fn malformed_forms_say_how_to_write_them() {
        assert!(order_line(&words("vip web")).is_err());
        assert!(order_line(&words("vip then web kind")).is_err());
        assert!(colocation_line(&words("web vip")).is_err());
        assert!(location_line("vip", false, "=5").is_err());
    }
}
