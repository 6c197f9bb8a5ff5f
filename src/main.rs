//! The binary: parse arguments, read the environment once, run, exit with the status.

use std::io::Write;
use std::process::ExitCode;

use oidc_preflight::cli::{Cli, Command};
use oidc_preflight::{config::ActionConfig, report_error, run_action, Env, Error, ExitStatus};

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
    let status = match cli.command {
        None | Some(Command::Action) => action(&Env::from_process()),
    };
    ExitCode::from(status.code())
}

fn action(env: &Env) -> ExitStatus {
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    let config = match ActionConfig::from_env(env) {
        Ok(config) => config,
        Err(e) => {
            let error = Error::from(e);
            let _ = report_error(&error, &mut out, &mut err);
            return error.exit_status();
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let status = match runtime {
        Ok(rt) => rt.block_on(run_action(&config, &mut out, &mut err)),
        Err(e) => {
            let _ = report_error(&Error::Io(e), &mut out, &mut err);
            ExitStatus::Usage
        }
    };
    let _ = out.flush();
    status
}
