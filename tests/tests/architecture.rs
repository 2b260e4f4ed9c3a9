//! The architecture invariants of ARCHITECTURE.md that the dependency graph
//! can show: pure cores stay pure, nothing imports a daemon, and only
//! baton-proto generates code from the .proto files.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// Crates that hold protocol or policy logic: no I/O runtime, no RPC, no
/// process control may reach them, even transitively.
const PURE_CORES: [&str; 11] = [
    "baton-totem",
    "baton-fencing",
    "baton-controller",
    "baton-cpg",
    "baton-sim",
    "baton-quorum",
    "baton-cib",
    "baton-scheduler",
    "baton-config",
    "baton-crmsh",
    "baton-configure",
];
const IMPURE: [&str; 6] = ["tokio", "tonic", "prost", "nix", "hyper", "mio"];
const DAEMONS: [&str; 4] = ["baton-ringd", "baton-crmd", "baton-lrmd", "baton-fenced"];

struct Graph {
    /// Package name → names of its normal (non-dev, non-build) dependencies.
    deps: BTreeMap<String, BTreeSet<String>>,
    /// Package name → names of its build dependencies.
    build_deps: BTreeMap<String, BTreeSet<String>>,
    workspace: BTreeSet<String>,
}

fn graph() -> Graph {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata json");
    let name_of: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().expect("id"),
                p["name"].as_str().expect("name"),
            )
        })
        .collect();
    let workspace = meta["workspace_members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|id| name_of[id.as_str().expect("id")].to_owned())
        .collect();
    let mut deps = BTreeMap::new();
    let mut build_deps = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().expect("resolve") {
        let name = name_of[node["id"].as_str().expect("id")].to_owned();
        for dep in node["deps"].as_array().expect("deps") {
            let dep_name = name_of[dep["pkg"].as_str().expect("pkg")].to_owned();
            for kind in dep["dep_kinds"].as_array().expect("kinds") {
                let target = match kind["kind"].as_str() {
                    None => &mut deps,
                    Some("build") => &mut build_deps,
                    Some(_) => continue,
                };
                target
                    .entry(name.clone())
                    .or_insert_with(BTreeSet::new)
                    .insert(dep_name.clone());
            }
        }
    }
    Graph {
        deps,
        build_deps,
        workspace,
    }
}

impl Graph {
    fn reachable(&self, from: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_owned()];
        while let Some(name) = todo.pop() {
            for dep in self.deps.get(&name).into_iter().flatten() {
                if seen.insert(dep.clone()) {
                    todo.push(dep.clone());
                }
            }
        }
        seen
    }
}

#[test]
fn pure_cores_reach_no_runtime_rpc_or_process_control() {
    let graph = graph();
    for core in PURE_CORES.iter().filter(|c| graph.workspace.contains(**c)) {
        let reachable = graph.reachable(core);
        let impure: Vec<_> = IMPURE.iter().filter(|i| reachable.contains(**i)).collect();
        assert!(impure.is_empty(), "{core} depends on {impure:?}");
    }
}

#[test]
fn nothing_depends_on_a_daemon_crate() {
    let graph = graph();
    for (name, deps) in &graph.deps {
        for daemon in DAEMONS {
            assert!(
                !deps.contains(daemon),
                "{name} depends on the daemon crate {daemon}"
            );
        }
    }
}

#[test]
fn only_baton_proto_generates_grpc_code() {
    let graph = graph();
    for name in &graph.workspace {
        let build = graph.build_deps.get(name).cloned().unwrap_or_default();
        if name != "baton-proto" {
            assert!(
                !build.contains("tonic-prost-build") && !build.contains("protox"),
                "{name} compiles .proto files; keep them in baton-proto"
            );
        }
    }
    assert!(
        graph.build_deps["baton-proto"].contains("protox"),
        "baton-proto must compile with the pure-Rust protox, never a system protoc"
    );
}

/// The multi-node tests run the daemons' binaries from the target dir, and
/// `cargo test --workspace` builds a package's binaries only for its own
/// integration tests: a binary crate without one is missing on a clean clone.
#[test]
fn every_binary_crate_has_an_integration_test_so_the_test_run_builds_it() {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--no-deps"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata json");
    for package in meta["packages"].as_array().expect("packages") {
        let kinds: BTreeSet<&str> = package["targets"]
            .as_array()
            .expect("targets")
            .iter()
            .flat_map(|t| t["kind"].as_array().expect("kind"))
            .filter_map(Value::as_str)
            .collect();
        if kinds.contains("bin") {
            assert!(
                kinds.contains("test"),
                "{} has a binary but no tests/*.rs, so the workspace test run does not build it",
                package["name"]
            );
        }
    }
}
