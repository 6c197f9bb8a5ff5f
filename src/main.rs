//! The binary: parse arguments, snapshot the environment, run, exit with the status.

use std::io::IsTerminal;
use std::process::ExitCode;

use oidc_preflight::app::{self, Stdin};
use oidc_preflight::cli::Cli;
use oidc_preflight::times::system_now;
use oidc_preflight::{Env, ExitStatus};

fn main() -> ExitCode {
    let cli = match Cli::parse_from_args(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are "errors" to clap that print to stdout and succeed.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                ExitStatus::Usage.code()
            } else {
                0
            });
        }
    };
    let stdin = std::io::stdin();
    let stdin = Stdin {
        is_terminal: stdin.is_terminal(),
        reader: stdin.lock(),
    };
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    let status = app::run(
        cli,
        &Env::from_process(),
        &system_now,
        stdin,
        &mut out,
        &mut err,
    );
    ExitCode::from(status.code())
}
