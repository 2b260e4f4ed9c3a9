//! Compiles `proto/` with protox, a pure-Rust protobuf compiler, so that a
//! fresh machine needs no `protoc`.

use std::path::PathBuf;

const PROTO_FILES: &[&str] = &[
    "baton/crmd/v1/crmd.proto",
    "baton/daemon/v1/daemon.proto",
    "baton/fenced/v1/fenced.proto",
    "baton/lrmd/v1/lrmd.proto",
    "baton/ring/v1/groups.proto",
    "baton/ring/v1/ring.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read at run time: a build script binary reused from another checkout
    // of the same sources must still look in this one.
    let proto_root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let descriptors = protox::compile(PROTO_FILES, [&proto_root])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    // compile_fds knows no file paths, so it cannot ask cargo to rerun by itself.
    println!("cargo:rerun-if-changed={}", proto_root.display());
    Ok(())
}
