//! The packages `packaging/build` writes to `target/packages/` (`.ci/run`
//! builds them first): the .deb installs on this host (root) with the
//! cluster's user, directories and units, its tools run from PATH, removal
//! keeps the configuration, purge leaves nothing; the .rpm holds the same
//! files and scripts. Elsewhere than CI, without root or the packages, the
//! test is skipped loudly (it would install onto this machine).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use baton_tests::{prerequisite, require_root, require_tool};

const BINARIES: [&str; 6] = [
    "/usr/bin/baton",
    "/usr/sbin/baton-ringd",
    "/usr/sbin/baton-crmd",
    "/usr/sbin/baton-lrmd",
    "/usr/sbin/baton-fenced",
    "/usr/sbin/baton-keygen",
];
const UNITS: [&str; 5] = [
    "baton-ringd.service",
    "baton-crmd.service",
    "baton-lrmd.service",
    "baton-fenced.service",
    "baton.target",
];

fn packages_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/packages")
}

/// The one package in target/packages ending in `suffix`.
fn package(suffix: &str) -> Option<PathBuf> {
    let found = std::fs::read_dir(packages_dir())
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with(suffix));
    prerequisite(found.is_some(), || {
        format!(
            "no {suffix} in {}: run packaging/build first",
            packages_dir().display()
        )
    })
    .then_some(found)
    .flatten()
}

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

fn ok(program: &str, args: &[&str]) -> String {
    let out = run(program, args);
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Purges the package even when the test fails midway.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = run("dpkg", &["--purge", "baton"]);
    }
}

#[test]
fn the_deb_installs_runs_keeps_local_configuration_on_removal_and_purges_clean() {
    if !require_root("install a package on this host")
        || !require_tool("dpkg", "install the .deb")
        || !require_tool("systemd-analyze", "verify the installed units")
    {
        return;
    }
    let Some(deb) = package(".deb") else {
        return;
    };
    let already = run("dpkg-query", &["-W", "-f=${Status}", "baton"]);
    if !prerequisite(
        !String::from_utf8_lossy(&already.stdout).contains("installed"),
        || "a baton package is already installed on this host; this test will not touch it".into(),
    ) {
        return;
    }
    let deb = deb.to_string_lossy().into_owned();
    let listed = ok("dpkg-deb", &["-c", &deb]);
    // What the package brings that was not there before: all of it must
    // be gone after a purge (shared directories such as /usr/bin stay).
    let new_paths: Vec<String> = listed
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .map(|entry| entry.trim_start_matches('.').to_owned())
        .filter(|path| !Path::new(path).exists())
        .collect();

    let _installed = Installed;
    ok("dpkg", &["--install", &deb]);
    for file in BINARIES {
        assert!(Path::new(file).exists(), "{file} is not installed");
    }
    let units: Vec<String> = UNITS
        .iter()
        .map(|u| format!("/usr/lib/systemd/system/{u}"))
        .collect();
    for unit in &units {
        assert!(Path::new(unit).exists(), "{unit} is not installed");
    }
    let mut verify = vec!["verify"];
    verify.extend(units.iter().map(String::as_str));
    let checked = run("systemd-analyze", &verify);
    assert!(
        checked.status.success() && checked.stderr.is_empty(),
        "systemd-analyze verify: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
    ok("getent", &["passwd", "hacluster"]);
    ok("getent", &["group", "haclient"]);
    for page in ["baton.8.gz", "baton-fence-test.8.gz", "baton-status.8.gz"] {
        let page = format!("/usr/share/man/man8/{page}");
        assert!(Path::new(&page).exists(), "{page} is not installed");
    }
    assert!(
        std::fs::read_to_string("/usr/share/bash-completion/completions/baton")
            .is_ok_and(|script| script.contains("_baton()")),
        "the bash completion is not installed"
    );
    let state = ok("stat", &["-c", "%G %a", "/var/lib/baton"]);
    assert_eq!(state.trim(), "haclient 750");

    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("authkey");
    let key = key.to_string_lossy();
    ok("baton-keygen", &["-k", &key]);
    assert_eq!(ok("stat", &["-c", "%a %s", &key]).trim(), "400 256");
    assert!(ok("baton", &["--version"]).starts_with("baton "));

    let local = "# edited on this node\n";
    std::fs::write("/etc/baton/cluster.toml", local).expect("edit the configuration");
    ok("dpkg", &["--remove", "baton"]);
    assert!(!Path::new("/usr/sbin/baton-crmd").exists(), "removed");
    assert_eq!(
        std::fs::read_to_string("/etc/baton/cluster.toml")
            .ok()
            .as_deref(),
        Some(local),
        "removal keeps the local configuration"
    );

    ok("dpkg", &["--purge", "baton"]);
    for path in &new_paths {
        assert!(!Path::new(path).exists(), "{path} is left after purge");
    }
    for dir in ["/etc/baton", "/var/lib/baton", "/var/log/baton"] {
        assert!(!Path::new(dir).exists(), "{dir} is left after purge");
    }
}

#[test]
fn the_rpm_holds_the_same_files_and_creates_the_user_without_starting_anything() {
    if !require_tool("rpm", "read the .rpm") {
        return;
    }
    let Some(rpm) = package(".rpm") else {
        return;
    };
    let rpm = rpm.to_string_lossy().into_owned();
    let files = ok("rpm", &["-qlp", &rpm]);
    for file in BINARIES
        .iter()
        .map(ToString::to_string)
        .chain(UNITS.iter().map(|u| format!("/usr/lib/systemd/system/{u}")))
        .chain(
            [
                "/etc/baton/cluster.toml",
                "/usr/lib/sysusers.d/baton.conf",
                "/usr/share/man/man8/baton.8.gz",
                "/usr/share/bash-completion/completions/baton",
            ]
            .map(str::to_owned),
        )
    {
        assert!(
            files.lines().any(|l| l == file),
            "{file} is not in the rpm:\n{files}"
        );
    }
    let configs = ok("rpm", &["-qcp", &rpm]);
    assert!(
        configs.lines().any(|l| l == "/etc/baton/cluster.toml"),
        "{configs}"
    );
    let scripts = ok("rpm", &["-qp", "--scripts", &rpm]);
    assert!(scripts.contains("systemd-sysusers baton.conf"), "{scripts}");
    assert!(
        !scripts.contains("systemctl start") && !scripts.contains("systemctl enable"),
        "installing never starts the cluster:\n{scripts}"
    );
}
