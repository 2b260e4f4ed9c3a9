//! An LSB service for namespace clusters: an init script (in each node's
//! own /etc/init.d, see `Stack::install_lsb_script`) whose service is a
//! sleeping process, with a pid file and a `broken` marker (its start then
//! fails) per node that tests read and set.
// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use crate::stack::Stack;

fn script(name: &str, state: &Path) -> String {
    format!(
        r#"#!/bin/sh
### BEGIN INIT INFO
# Provides: {name}
# Short-Description: a service for baton's tests
### END INIT INFO
state={state}
running() {{ [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; }}
case "$1" in
    start)
        [ -e "$state/broken" ] && {{ echo "{name} is broken" >&2; exit 1; }}
        running && exit 0
        setsid sleep 100000 </dev/null >/dev/null 2>&1 &
        echo $! > "$state/pid"
        ;;
    stop)
        running && kill "$(cat "$state/pid")"
        rm -f "$state/pid"
        ;;
    status)
        running || exit 3
        ;;
    *) exit 3 ;;
esac
exit 0
"#,
        state = state.display()
    )
}

/// The service on every node; its processes end with this value, however
/// the test ends (the daemons that would stop them are gone by then).
pub struct Services {
    states: Vec<PathBuf>,
}

impl Services {
    /// Installs `/etc/init.d/NAME` on every node of `stack`.
    pub fn install(stack: &Stack, name: &str) -> Services {
        let states: Vec<PathBuf> = (1..=stack.nodes())
            .map(|n| stack.dir.path().join(format!("{name}-n{n}")))
            .collect();
        for state in &states {
            std::fs::create_dir_all(state).expect("service state dir");
        }
        stack.install_lsb_script(name, |n| script(name, &states[n - 1]));
        Services { states }
    }

    pub fn pid(&self, node: usize) -> Option<u32> {
        std::fs::read_to_string(self.states[node - 1].join("pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    pub fn alive(&self, node: usize) -> bool {
        self.pid(node)
            .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists())
    }

    /// Kills the service on `node` behind the cluster's back; its pid.
    pub fn kill(&self, node: usize) -> u32 {
        let pid = self.pid(node).expect("the service runs there");
        kill9(pid);
        pid
    }

    /// From now on its start on `node` fails (or works again).
    pub fn set_broken(&self, node: usize, broken: bool) {
        let marker = self.states[node - 1].join("broken");
        if broken {
            std::fs::write(marker, "").expect("mark broken");
        } else {
            std::fs::remove_file(marker).expect("unmark broken");
        }
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        for node in 1..=self.states.len() {
            if let Some(pid) = self.pid(node) {
                kill9(pid);
            }
        }
    }
}

fn kill9(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status();
}
