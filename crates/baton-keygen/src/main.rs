//! `baton-keygen`: writes the authkey every node shares, like `corosync-keygen`.
//!
//! Exit codes: 0 written; 1 bad argument or random source; 2 the key file
//! could not be written (it exists, its directory is missing, no permission).

mod key;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use key::{KeyRequest, MAX_KEY_BYTES, MIN_KEY_BYTES};

/// Write a new cluster authkey of random bytes, readable by root only (0400).
/// Copy the same file to every node.
#[derive(Debug, Parser)]
#[command(name = "baton-keygen", version)]
struct Args {
    /// Where to write the key.
    #[arg(short = 'k', long = "key-file", default_value = "/etc/baton/authkey")]
    key_file: PathBuf,
    /// Key size in bytes.
    #[arg(short = 's', long = "size", default_value_t = 256,
          value_parser = clap::value_parser!(u16).range(MIN_KEY_BYTES as i64..=MAX_KEY_BYTES as i64))]
    size: u16,
    /// Read the random bytes from this device or file instead of the
    /// kernel's CSPRNG.
    #[arg(short = 'r', long = "random-device")]
    random_device: Option<PathBuf>,
    /// Replace an existing key (every node must then get the new one).
    #[arg(long)]
    force: bool,
    /// Accepted for corosync-keygen compatibility; the kernel CSPRNG never
    /// blocks once seeded, so there is nothing to choose.
    #[arg(short = 'l', hide = true)]
    less_secure: bool,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(error) => {
            let is_usage_error = error.use_stderr();
            let _ = error.print();
            return if is_usage_error {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let request = KeyRequest {
        path: args.key_file,
        size_bytes: usize::from(args.size),
        random_device: args.random_device,
        replace: args.force,
    };
    match key::write_key(&request) {
        Ok(()) => {
            println!(
                "baton-keygen: wrote a {}-byte key to {}; copy it to every node (mode 0400, owner root)",
                request.size_bytes,
                request.path.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("baton-keygen: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
