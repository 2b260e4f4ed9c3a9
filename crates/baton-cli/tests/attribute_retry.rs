//! A node attribute write that a join round interrupts is made again:
//! against a stand-in crmd that refuses the first writes as a round would.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use baton_proto::crmd::crmd_server::{Crmd, CrmdServer};
use baton_proto::crmd::{
    QueryReply, QueryRequest, ReplaceConfigurationRequest, SetNodeAttributeRequest, WriteReply,
};
use baton_proto::socket::UnixSocket;
use tonic::{Request, Response, Status};

/// Refuses the first `refusals` attribute writes as interrupted.
struct InterruptedCrmd {
    refusals: u32,
    calls: Arc<AtomicU32>,
}

#[tonic::async_trait]
impl Crmd for InterruptedCrmd {
    async fn query(&self, _: Request<QueryRequest>) -> Result<Response<QueryReply>, Status> {
        Err(Status::unimplemented("not in this test"))
    }

    async fn replace_configuration(
        &self,
        _: Request<ReplaceConfigurationRequest>,
    ) -> Result<Response<WriteReply>, Status> {
        Err(Status::unimplemented("not in this test"))
    }

    async fn set_node_attribute(
        &self,
        _: Request<SetNodeAttributeRequest>,
    ) -> Result<Response<WriteReply>, Status> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if call <= self.refusals {
            return Err(Status::aborted(
                "a membership change interrupted the change before every node had it; nothing was changed, run the command again",
            ));
        }
        Ok(Response::new(WriteReply {
            changed: true,
            ..WriteReply::default()
        }))
    }
}

/// `baton node status-attr n1 set cache warm` against a crmd refusing
/// `refusals` times: (exit code, stderr, writes it received).
fn write_against(refusals: u32) -> (Option<i32>, String, u32) {
    let dir = tempfile::tempdir().expect("tempdir");
    let calls = Arc::new(AtomicU32::new(0));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let socket = {
        let _inside = runtime.enter();
        UnixSocket::bind(&dir.path().join("crmd.sock")).expect("bind")
    };
    let crmd = InterruptedCrmd {
        refusals,
        calls: Arc::clone(&calls),
    };
    let server = runtime.spawn(async move {
        let router = tonic::transport::Server::builder().add_service(CrmdServer::new(crmd));
        let _ = socket.serve(router, std::future::pending()).await;
    });
    let out = run_baton(dir.path());
    server.abort();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        calls.load(Ordering::SeqCst),
    )
}

fn run_baton(sockets: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_baton"))
        .arg("--socket-dir")
        .arg(sockets)
        .args(["node", "status-attr", "n1", "set", "cache", "warm"])
        .output()
        .expect("run baton")
}

#[test]
fn an_interrupted_attribute_write_is_made_again() {
    let (code, stderr, calls) = write_against(2);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(calls, 3, "two refusals, then the write");
}

#[test]
fn a_write_interrupted_every_time_gives_up_and_says_why() {
    let (code, stderr, calls) = write_against(u32::MAX);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("run the command again"), "{stderr}");
    assert_eq!(calls, 3, "it tries three times, not forever");
}
