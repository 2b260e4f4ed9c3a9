//! What an admin relies on: lines reach the log file, old content is kept,
//! logrotate's copytruncate leaves a clean file, and per-subsystem debug works.

use std::path::Path;
use std::time::{Duration, Instant};

use baton_log::{LogSettings, Verbosity, build_layers, filter_for};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{Layer, Registry};

fn settings(logfile: &Path) -> LogSettings {
    LogSettings {
        daemon: "baton-test".into(),
        to_stderr: false,
        to_journal: false,
        logfile: Some(logfile.to_path_buf()),
        verbosity: Verbosity::Info,
        subsystems: vec![("TOTEM".into(), Verbosity::Debug)],
    }
}

fn wait_for(path: &Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let content = std::fs::read_to_string(path).unwrap_or_default();
        if content.contains(needle) || Instant::now() > deadline {
            return content;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn appends_and_survives_copytruncate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("baton.log");
    std::fs::write(&path, "line from before the restart\n").expect("seed log");

    let settings = settings(&path);
    let (layers, guard) = build_layers(&settings, false).expect("layers");
    let subscriber = Registry::default().with(layers.with_filter(filter_for(&settings)));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("first message");
        let content = wait_for(&path, "first message");
        assert!(
            content.starts_with("line from before the restart\n"),
            "{content}"
        );
        assert!(content.contains("first message"), "{content}");

        // What logrotate's copytruncate does to the live file.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(0))
            .expect("truncate");
        tracing::info!("after rotation");
        let content = wait_for(&path, "after rotation");
        assert!(
            !content.contains('\0'),
            "hole of NUL bytes after truncation"
        );
        assert!(!content.contains("first message"), "{content}");
        assert!(content.contains("after rotation"), "{content}");
    });
    drop(guard);
}

#[test]
fn subsystem_debug_is_per_subsystem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("baton.log");
    let settings = settings(&path);
    let (layers, guard) = build_layers(&settings, false).expect("layers");
    let subscriber = Registry::default().with(layers.with_filter(filter_for(&settings)));
    tracing::subscriber::with_default(subscriber, || {
        tracing::debug!(target: "baton_totem::token", "token debug shown");
        tracing::debug!(target: "baton_crmd", "crmd debug hidden");
        tracing::info!(target: "baton_crmd", "crmd info shown");
    });
    drop(guard);
    let content = std::fs::read_to_string(&path).expect("log");
    assert!(content.contains("token debug shown"), "{content}");
    assert!(content.contains("crmd info shown"), "{content}");
    assert!(!content.contains("crmd debug hidden"), "{content}");
}

#[test]
fn an_unwritable_log_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("missing-dir/baton.log");
    let Err(error) = build_layers(&settings(&path), false) else {
        panic!("a log file in a missing directory was accepted");
    };
    let message = error.to_string();
    assert!(message.contains("missing-dir/baton.log"), "{message}");
    assert!(message.contains("to_logfile: no"), "{message}");
}

#[test]
fn the_config_logging_section_decides_where_lines_go() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("corosync.conf");
    let logfile = dir.path().join("cluster.log");
    std::fs::write(
        &conf,
        format!(
            "totem {{\n transport: udpu\n}}\nnodelist {{\n node {{\n  ring0_addr: 127.0.0.1\n  nodeid: 1\n }}\n}}\n\
             logging {{\n to_stderr: no\n to_logfile: yes\n logfile: {}\n debug: off\n \
             logger_subsys {{\n  subsys: TOTEM\n  debug: on\n }}\n}}\n",
            logfile.display()
        ),
    )
    .expect("write config");
    let loaded = baton_config::load_path(&conf).expect("load");
    let settings = LogSettings::from_config("baton-ringd", &loaded.config.logging);
    assert!(!settings.to_stderr);
    assert!(
        settings.to_journal,
        "to_syslog defaults to yes, as in corosync"
    );
    assert_eq!(settings.logfile.as_deref(), Some(logfile.as_path()));
    assert_eq!(settings.verbosity, Verbosity::Info);
    assert_eq!(
        settings.subsystems,
        vec![("TOTEM".to_owned(), Verbosity::Debug)]
    );

    let (layers, guard) = build_layers(&settings, false).expect("layers");
    let subscriber = Registry::default().with(layers.with_filter(filter_for(&settings)));
    tracing::subscriber::with_default(subscriber, || {
        tracing::debug!(target: "baton_totem", "token debug reaches the file");
    });
    drop(guard);
    assert!(
        std::fs::read_to_string(&logfile)
            .expect("log")
            .contains("token debug reaches the file")
    );
}
