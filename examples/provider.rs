//! `cargo run --profile action --example provider [-- --env-file PATH]`: a long-running GitHub-like
//! OIDC provider on loopback, for benchmarks and manual runs of the binary.
//!
//! It is the provider the integration tests use (token endpoint, discovery, JWKS, RSA key
//! generated at start; tokens are issued for a push to `main` of `octo-org/octo-repo`, with the
//! provider as issuer so signature verification works). It prints the runner's variables as
//! shell `export` lines on standard output, or writes them to PATH (atomically, so a script can
//! wait for the file to appear), then serves until killed:
//!
//! ```sh
//! eval "$(cargo run --profile action --example provider)"   # or --env-file, in the background
//! INPUT_AUDIENCE=sts.amazonaws.com oidc-preflight
//! ```
// Tests and examples may unwrap and print (Cargo.toml's [lints] are for library code).
#![allow(
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

#[path = "../tests/support/provider.rs"]
mod provider;

use std::path::PathBuf;

use provider::{Job, Provider, REQUEST_TOKEN};
use wiremock::MockServer;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env_file = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [] => None,
        [flag, path] if flag == "--env-file" => Some(PathBuf::from(path)),
        _ => return Err("usage: provider [--env-file PATH]".into()),
    };
    // Not recording requests keeps memory flat however many runs a benchmark makes.
    let provider = Provider {
        server: MockServer::builder()
            .disable_request_recording()
            .start()
            .await,
    };
    let job = Job::default();
    provider.issue_tokens_for(&job).await;
    // The key is generated lazily; make it now so the first request is not slower.
    provider::test_key();

    let exports = format!(
        "export ACTIONS_ID_TOKEN_REQUEST_URL='{}'\n\
         export ACTIONS_ID_TOKEN_REQUEST_TOKEN='{REQUEST_TOKEN}'\n\
         export OIDC_PROVIDER_SUBJECT='{}'\n",
        provider.request_url(),
        job.subject(),
    );
    match env_file {
        Some(path) => {
            let partial = path.with_extension("partial");
            std::fs::write(&partial, exports)?;
            std::fs::rename(&partial, &path)?;
            eprintln!(
                "provider listening on {}; variables in {}",
                provider.server.uri(),
                path.display()
            );
        }
        None => print!("{exports}"),
    }
    // The server runs on its own thread; serve until the process is killed.
    std::future::pending::<()>().await;
    Ok(())
}
