//! A daemon's socket as an admin experiences it: it answers, it refuses to be
//! stolen by a second daemon, it recovers from a crash, it has the right mode,
//! and a client never hangs on a wedged daemon.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use baton_proto::client::{ConnectError, connect};
use baton_proto::daemon::InfoRequest;
use baton_proto::daemon::daemon_client::DaemonClient;
use baton_proto::daemon_info::DaemonInfo;
use baton_proto::socket::{SOCKET_MODE, SocketError, UnixSocket};
use tokio::sync::oneshot;

const CALL_TIMEOUT: Duration = Duration::from_secs(5);

fn spawn_server(socket: UnixSocket) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let router = tonic::transport::Server::builder().add_service(DaemonInfo::new(
        "baton-test",
        "9.9.9",
        "node1",
    ));
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(error) = socket.serve(router, shutdown).await {
            panic!("server failed: {error}");
        }
    });
    (stop, task)
}

async fn ask_info(path: &Path) -> baton_proto::daemon::InfoReply {
    let channel = connect(path, CALL_TIMEOUT).await.expect("connect");
    DaemonClient::new(channel)
        .info(InfoRequest {})
        .await
        .expect("info call")
        .into_inner()
}

#[tokio::test]
async fn a_served_socket_answers_and_is_removed_on_shutdown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run/baton/ringd.sock");
    let socket = UnixSocket::bind(&path).expect("bind in a fresh directory");
    let mode = std::fs::metadata(&path)
        .expect("socket exists")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, SOCKET_MODE, "socket mode is {mode:o}");

    let (stop, task) = spawn_server(socket);
    let reply = ask_info(&path).await;
    assert_eq!(reply.daemon, "baton-test");
    assert_eq!(reply.version, "9.9.9");
    assert_eq!(reply.node, "node1");
    assert_eq!(reply.pid, std::process::id());

    stop.send(()).expect("server still running");
    task.await.expect("server task");
    assert!(!path.exists(), "socket file left behind after shutdown");
}

#[tokio::test]
async fn a_live_socket_is_never_taken_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crmd.sock");
    let (stop, task) = spawn_server(UnixSocket::bind(&path).expect("first bind"));

    let second = UnixSocket::bind(&path);
    assert!(
        matches!(second, Err(SocketError::Busy { .. })),
        "second bind: {second:?}"
    );
    let message = second.expect_err("busy").to_string();
    assert!(message.contains("already serving"), "{message}");
    assert_eq!(
        ask_info(&path).await.daemon,
        "baton-test",
        "first server disturbed"
    );

    stop.send(()).expect("server still running");
    task.await.expect("server task");
}

#[tokio::test]
async fn a_stale_socket_from_a_dead_daemon_is_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lrmd.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).expect("bind a socket and abandon it"));
    assert!(path.exists());

    let (stop, task) = spawn_server(UnixSocket::bind(&path).expect("stale socket replaced"));
    assert_eq!(ask_info(&path).await.node, "node1");
    stop.send(()).expect("server still running");
    task.await.expect("server task");
}

#[tokio::test]
async fn a_regular_file_in_the_way_is_refused_and_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("fenced.sock");
    std::fs::write(&path, "precious").expect("write");

    let result = UnixSocket::bind(&path);
    assert!(
        matches!(result, Err(SocketError::NotASocket { .. })),
        "{result:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).expect("still there"),
        "precious"
    );
}

#[tokio::test]
async fn connecting_to_nothing_says_no_daemon_is_listening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ringd.sock");
    let error = connect(&path, CALL_TIMEOUT)
        .await
        .expect_err("nothing there");
    assert!(
        matches!(error, ConnectError::NotListening { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains(&path.display().to_string()));
}

#[tokio::test]
async fn a_wedged_daemon_turns_into_an_error_not_a_hang() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wedged.sock");
    // Accepts connections at the kernel level but never speaks.
    let _listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");

    let attempt = async {
        let channel = connect(&path, Duration::from_millis(300)).await?;
        let reply = DaemonClient::new(channel).info(InfoRequest {}).await;
        Ok::<_, ConnectError>(reply.is_ok())
    };
    let outcome = tokio::time::timeout(Duration::from_secs(10), attempt)
        .await
        .expect("the call deadline did not fire: the client hung");
    assert!(
        !matches!(outcome, Ok(true)),
        "a silent daemon cannot answer"
    );
}
