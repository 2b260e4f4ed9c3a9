//! `baton sandbox http`: the sandbox's web server (run by the
//! ocf:baton:WebServer agent). Every request gets one line naming the node
//! that serves it, so `curl` shows where the service runs.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

#[derive(Debug, Args)]
pub struct HttpArgs {
    /// The address to listen on (the node's 127.0.0.N).
    #[arg(long)]
    pub address: String,
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The node's name, for the page.
    #[arg(long)]
    pub node_name: String,
    /// Written once the server listens.
    #[arg(long, value_name = "FILE")]
    pub pid_file: PathBuf,
}

/// A request's headers larger than this are not read further.
const MAX_REQUEST_BYTES: usize = 8192;

pub fn serve(args: &HttpArgs) -> anyhow::Result<()> {
    let at = format!("{}:{}", args.address, args.port);
    let listener = TcpListener::bind(&at).with_context(|| format!("cannot listen on {at}"))?;
    let page = format!(
        "baton sandbox: served by {} ({})\n",
        args.node_name, args.address
    );
    super::write_file(
        &args.pid_file,
        format!("{}\n", std::process::id()).as_bytes(),
    )?;
    // One client's trouble is its own; the server goes on.
    for stream in listener.incoming().flatten() {
        let _ = answer(stream, &page);
    }
    Ok(())
}

fn answer(stream: TcpStream, page: &str) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut reader = BufReader::new(&stream);
    let mut read = 0;
    let mut line = String::new();
    while read < MAX_REQUEST_BYTES {
        line.clear();
        let n = reader.read_line(&mut line)?;
        read += n;
        if n == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut stream = &stream;
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
        page.len()
    )?;
    stream.flush()
}
