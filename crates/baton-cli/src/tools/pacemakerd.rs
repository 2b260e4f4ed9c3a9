//! `pacemakerd -$`: resource-agents' shell library asks pacemakerd's
//! version before it trusts `crm_node -n` for the local node's name (else
//! it takes `uname -n`, which need not be the cluster's name for the node).
//! baton answers as the Pacemaker release whose tools it mirrors; it runs
//! no pacemakerd: its daemons are baton-ringd, -lrmd, -fenced and -crmd.

use std::process::ExitCode;

/// The Pacemaker release baton's tools answer as.
const PACEMAKER_VERSION: &str = "2.1.5";

pub fn run() -> ExitCode {
    let asked_version = std::env::args()
        .skip(1)
        .any(|a| a == "-$" || a == "--version");
    if asked_version {
        println!("Pacemaker {PACEMAKER_VERSION}");
        println!(
            "answered by baton {}, whose daemons are baton-ringd, baton-lrmd, baton-fenced and baton-crmd",
            env!("CARGO_PKG_VERSION")
        );
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "pacemakerd: baton runs no pacemakerd; start this node's cluster with `systemctl start baton.target`"
    );
    ExitCode::from(super::EXIT_USAGE)
}
