//! `baton sandbox`: a whole cluster on this machine, as an ordinary user —
//! each node's four daemons with their own sockets and state under one
//! directory, rings on 127.0.0.N, demo agents shipped in this binary, a
//! fence agent that kills a node's daemons (CONTROLLER.md §9).

mod agents;
mod http;
mod layout;
mod processes;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Subcommand;
use serde::Serialize;

use crate::exit::Code;
use crate::output::{Format, print_json, print_text};
pub use layout::Layout;
use layout::{address, node_name, parse_node};

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Start a cluster of N nodes on this machine with demo resources;
    /// returns once it is up.
    Up {
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=i64::from(layout::MAX_NODES)))]
        nodes: u32,
    },
    /// Each node's daemons, and where the web service answers.
    Status,
    /// Kill a node's daemons at once, as if the machine died (`node2` or `2`).
    Kill { node: String },
    /// Start a node's daemons again (stopping them first if they run).
    Restart { node: String },
    /// Stop everything and remove the sandbox directory.
    Down,
    /// The demo web server (run by the ocf:baton:WebServer agent).
    #[command(hide = true)]
    Http(http::HttpArgs),
}

/// How long the cluster may take to come up before `up` gives up.
const UP_TIMEOUT: Duration = Duration::from_secs(60);

pub fn run(command: &SandboxCommand, dir: Option<&Path>, format: Format) -> anyhow::Result<Code> {
    let layout = Layout::resolve(dir);
    match command {
        SandboxCommand::Up { nodes } => up(&layout, *nodes),
        SandboxCommand::Status => status(&layout, format),
        SandboxCommand::Kill { node } => {
            let node = existing_node(&layout, node)?;
            processes::cancel_boot(&layout, node);
            let killed = power_off(&layout, node)?;
            print_text(&format!(
                "{}: killed {killed} daemon(s) and its services, as if the machine died\n",
                node_name(node)
            ))?;
            Ok(Code::Success)
        }
        SandboxCommand::Restart { node } => {
            let node = existing_node(&layout, node)?;
            processes::cancel_boot(&layout, node);
            processes::stop(&layout, node, Duration::from_secs(30))?;
            start_node(&layout, &processes::binaries()?, node)?;
            print_text(&format!("{}: started again\n", node_name(node)))?;
            Ok(Code::Success)
        }
        SandboxCommand::Down => {
            let nodes = layout.nodes();
            if nodes.is_empty() && !layout.root.exists() {
                print_text(&format!("No sandbox in {}\n", layout.root.display()))?;
                return Ok(Code::Success);
            }
            remove(&layout)?;
            print_text(&format!(
                "Sandbox in {} stopped and removed\n",
                layout.root.display()
            ))?;
            Ok(Code::Success)
        }
        SandboxCommand::Http(args) => http::serve(args).map(|()| Code::Success),
    }
}

pub fn existing_node(layout: &Layout, text: &str) -> anyhow::Result<u32> {
    let node = parse_node(text)
        .with_context(|| format!("`{text}` is not a sandbox node (node1, node2… or 1, 2…)"))?;
    if !layout.node(node).is_dir() {
        bail!(
            "the sandbox in {} has no {} (see `baton sandbox status`)",
            layout.root.display(),
            node_name(node)
        );
    }
    Ok(node)
}

fn up(layout: &Layout, nodes: u32) -> anyhow::Result<Code> {
    let began = Instant::now();
    let running: Vec<u32> = layout
        .nodes()
        .into_iter()
        .filter(|&n| !processes::running(layout, n).is_empty())
        .collect();
    if !running.is_empty() {
        bail!(
            "a sandbox already runs in {} (nodes {running:?}); `baton sandbox status` shows it, `baton sandbox down` ends it",
            layout.root.display()
        );
    }
    if layout.root.exists() {
        // What a crashed sandbox left behind.
        remove(layout)?;
    }
    ports_free(nodes)?;
    let bin = processes::binaries()?;
    create(layout, nodes)?;
    for node in 1..=nodes {
        start_node(layout, &bin, node)?;
    }
    let first = layout.sockets(1);
    wait_until(layout, "every node to join and a DC to be chosen", || {
        let reply = crate::live::Live::new(&first).query().ok()?;
        (reply.joined && !reply.dc.is_empty() && reply.members.len() == nodes as usize)
            .then_some(())
    })?;
    load_demo(&first)?;
    let status = wait_until(layout, "the demo resources to start", || {
        let status = crate::status_cmd::snapshot(&first).ok()?;
        let web = web_node(&status).and_then(|n| parse_node(&n))?;
        (all_started(&status.resources) && answers(web)).then_some(status)
    })?;
    let dc = status.dc.clone().unwrap_or_default();
    let mut text = format!(
        "Sandbox cluster up in {:.1} s: {nodes} node(s) on 127.0.0.1–{}, DC {dc}, in {}\n",
        began.elapsed().as_secs_f64(),
        address(nodes),
        layout.root.display()
    );
    let web = web_node(&status).and_then(|n| parse_node(&n)).unwrap_or(1);
    text.push_str(&format!(
        "The web group runs on {}: curl http://{}:8080/\n",
        node_name(web),
        address(web)
    ));
    let baton = invocation(layout);
    text.push_str(&format!(
        "\nTry:\n  {baton} --node 1 status\n  {baton} sandbox kill {web}      # {} dies; web moves to a survivor\n  {baton} sandbox status\n  {baton} sandbox restart {web}\n  {baton} sandbox down\nLogs: {}/nodeN/log/\n",
        node_name(web),
        layout.root.display()
    ));
    print_text(&text)?;
    Ok(Code::Success)
}

/// The ring's port and the web server's on every 127.0.0.N: one sandbox
/// per user fits on a machine, and another program may hold them.
fn ports_free(nodes: u32) -> anyhow::Result<()> {
    for node in 1..=nodes {
        let ring = format!("{}:{}", address(node), layout::port());
        let web = format!("{}:8080", address(node));
        let in_use = |what: &str, at: &str| {
            anyhow::anyhow!(
                "{at} ({what}) is in use: another sandbox of yours (`baton sandbox status --sandbox-dir DIR`, then `down`) or another program holds it"
            )
        };
        std::net::UdpSocket::bind(&ring).map_err(|_| in_use("the sandbox ring's port", &ring))?;
        std::net::TcpListener::bind(&web)
            .map_err(|_| in_use("the demo web server's port", &web))?;
    }
    Ok(())
}

/// The sandbox's files: the directory (private), key, configuration and
/// agents.
fn create(layout: &Layout, nodes: u32) -> anyhow::Result<()> {
    std::fs::create_dir_all(&layout.root)
        .with_context(|| format!("cannot create {}", layout.root.display()))?;
    std::fs::set_permissions(
        &layout.root,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )?;
    let mut key = [0u8; 256];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| std::io::Read::read_exact(&mut random, &mut key))
        .context("cannot read /dev/urandom for the sandbox's key")?;
    write_file(&layout.authkey(), &key)?;
    std::fs::set_permissions(
        layout.authkey(),
        std::os::unix::fs::PermissionsExt::from_mode(0o400),
    )?;
    write_file(
        &layout.config(),
        layout::corosync_conf(layout, nodes).as_bytes(),
    )?;
    let baton = std::env::current_exe().context("cannot tell where this baton binary is")?;
    agents::install(layout, nodes, &baton)
}

fn start_node(layout: &Layout, bin: &Path, node: u32) -> anyhow::Result<()> {
    for daemon in processes::DAEMONS {
        processes::start(layout, bin, node, daemon)?;
    }
    Ok(())
}

/// Polls `ready` until it answers or [`UP_TIMEOUT`] passes.
fn wait_until<T>(
    layout: &Layout,
    what: &str,
    mut ready: impl FnMut() -> Option<T>,
) -> anyhow::Result<T> {
    let deadline = Instant::now() + UP_TIMEOUT;
    loop {
        if let Some(value) = ready() {
            return Ok(value);
        }
        if Instant::now() > deadline {
            bail!(
                "timed out waiting for {what}; the daemons' logs are in {}/nodeN/log/",
                layout.root.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn load_demo(socket_dir: &Path) -> anyhow::Result<()> {
    let commands =
        crate::configure_cmd::parse(agents::DEMO_CONFIGURATION, "the demo configuration")?;
    let target = crate::cib_cmd::Target::Live(crate::live::Live::new(socket_dir));
    crate::configure_cmd::change(&target, |cib| {
        baton_configure::apply(cib, &commands, &agents::SandboxAgents)
    })
    .map(|_| ())
}

/// Every resource runs, and every promotable clone has promoted one.
fn all_started(resources: &[crate::status_cmd::ResourceJson]) -> bool {
    resources.iter().all(|r| {
        if r.children.is_empty() {
            matches!(r.role, "Started" | "Promoted" | "Unpromoted") && !r.nodes.is_empty()
        } else {
            let promoted =
                r.kind != "promotable" || r.children.iter().any(|c| c.role == "Promoted");
            promoted && all_started(&r.children)
        }
    })
}

fn web_node(status: &crate::status_cmd::StatusJson) -> Option<String> {
    let web = status.resources.iter().find(|r| r.id == "web")?;
    web.children
        .iter()
        .find(|c| c.id == "web-server")?
        .nodes
        .first()
        .cloned()
}

/// Whether the demo web server on `node` answers.
fn answers(node: u32) -> bool {
    let Ok(at) = format!("{}:8080", address(node)).parse() else {
        return false;
    };
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&at, Duration::from_secs(1)) else {
        return false;
    };
    let mut reply = String::new();
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .is_ok()
        && stream.write_all(b"GET / HTTP/1.0\r\n\r\n").is_ok()
        && std::io::Read::read_to_string(&mut stream, &mut reply).is_ok()
        && reply.contains(&node_name(node))
}

/// How the user runs this binary (`baton` when it is the one on PATH),
/// with `--sandbox-dir` when the sandbox is not where it is by default.
fn invocation(layout: &Layout) -> String {
    let program = program();
    if layout.root == Layout::resolve(None).root {
        program
    } else {
        format!("{program} --sandbox-dir {}", layout.root.display())
    }
}

fn program() -> String {
    let Ok(exe) = std::env::current_exe() else {
        return "baton".into();
    };
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("baton") == exe));
    if on_path {
        return "baton".into();
    }
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| exe.strip_prefix(cwd).ok().map(Path::to_path_buf));
    relative
        .map_or(exe.clone(), |r| Path::new(".").join(r))
        .display()
        .to_string()
}

#[derive(Serialize)]
struct StatusJson {
    dir: PathBuf,
    nodes: Vec<NodeJson>,
}

#[derive(Serialize)]
struct NodeJson {
    name: String,
    address: String,
    daemons: Vec<DaemonJson>,
}

#[derive(Serialize)]
struct DaemonJson {
    name: String,
    pid: u32,
}

fn status(layout: &Layout, format: Format) -> anyhow::Result<Code> {
    let nodes: Vec<NodeJson> = layout
        .nodes()
        .into_iter()
        .map(|n| NodeJson {
            name: node_name(n),
            address: address(n),
            daemons: processes::running(layout, n)
                .into_iter()
                .map(|(name, pid)| DaemonJson { name, pid })
                .collect(),
        })
        .collect();
    if nodes.is_empty() {
        bail!(
            "no sandbox in {} (`baton sandbox up` starts one)",
            layout.root.display()
        );
    }
    let status = StatusJson {
        dir: layout.root.clone(),
        nodes,
    };
    if format == Format::Json {
        print_json(&status)?;
        return Ok(Code::Success);
    }
    let mut text = format!("Sandbox in {}\n", status.dir.display());
    for node in &status.nodes {
        let state = if node.daemons.is_empty() {
            "down".to_owned()
        } else {
            let list: Vec<String> = node
                .daemons
                .iter()
                .map(|d| format!("{} {}", d.name.trim_start_matches("baton-"), d.pid))
                .collect();
            format!("running ({})", list.join(", "))
        };
        text.push_str(&format!(
            "  {:<7} {:<11} {state}\n",
            node.name, node.address
        ));
    }
    let up = layout
        .nodes()
        .into_iter()
        .find(|&n| !processes::running(layout, n).is_empty());
    if let Some(web) = up
        .and_then(|n| crate::status_cmd::snapshot(&layout.sockets(n)).ok())
        .and_then(|s| web_node(&s))
    {
        text.push_str(&format!(
            "The web group runs on {web}: curl http://{}:8080/\n",
            address(parse_node(&web).unwrap_or(1))
        ));
    }
    print_text(&text)?;
    Ok(Code::Success)
}

/// Ends every process the sandbox started (its daemons, then what its
/// agents left running) and removes its directory. Refuses a directory
/// that is not a sandbox's.
fn remove(layout: &Layout) -> anyhow::Result<()> {
    let is_sandbox = std::fs::read_to_string(layout.config())
        .is_ok_and(|text| text.starts_with("# baton sandbox"));
    let is_empty = std::fs::read_dir(&layout.root).is_ok_and(|mut d| d.next().is_none());
    if layout.root.exists() && !is_sandbox && !is_empty {
        bail!(
            "{} exists and is not a baton sandbox; choose another --sandbox-dir",
            layout.root.display()
        );
    }
    for node in layout.nodes() {
        processes::cancel_boot(layout, node);
        power_off(layout, node)?;
    }
    std::fs::remove_dir_all(&layout.root)
        .with_context(|| format!("cannot remove {}", layout.root.display()))
}

/// What a machine's death does: its daemons and the services they ran
/// end at once, and what the services kept in memory (`/run`) is gone.
/// Returns how many daemons were running.
fn power_off(layout: &Layout, node: u32) -> anyhow::Result<usize> {
    let killed = processes::kill(layout, node)?;
    agents::power_off(layout, node);
    Ok(killed)
}

/// Writes `path` whole or not at all (a temporary file renamed over it).
pub fn write_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let temporary = path.with_extension("tmp");
    let mut file = std::fs::File::create(&temporary)
        .with_context(|| format!("cannot create {}", temporary.display()))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("cannot write {}", path.display()))
}
