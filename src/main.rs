//! The binary: parse arguments, read the environment once, run, exit with the status.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use oidc_preflight::cli::{CheckArgs, Cli, Command};
use oidc_preflight::offline::{self, Keys, Sink};
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
    let env = Env::from_process();
    let in_runner = env.get("GITHUB_ACTIONS") == Some("true");
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let status = match cli.command {
        None | Some(Command::Action) => action(&env, &mut out, &mut err),
        Some(Command::Check(args)) => check(
            &args,
            now,
            Sink {
                out: &mut out,
                err: &mut err,
                in_runner,
            },
        ),
        Some(Command::Predict(args)) => offline::run_predict(
            &args,
            now,
            Sink {
                out: &mut out,
                err: &mut err,
                in_runner,
            },
        ),
    };
    let _ = out.flush();
    ExitCode::from(status.code())
}

fn check(args: &CheckArgs, now: i64, sink: Sink<'_, impl Write, impl Write>) -> ExitStatus {
    let input = read_token(args).and_then(|token| {
        let keys = match (&args.jwks, args.no_verify) {
            (Some(path), _) => Keys::Jwks(
                std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read the JWKS file `{}`: {e}", path.display()))?,
            ),
            (None, true) => Keys::None,
            (None, false) => Keys::Discover,
        };
        Ok((token, keys))
    });
    let (token, keys) = match input {
        Ok(input) => input,
        Err(message) => {
            let _ = writeln!(sink.err, "error: {message}\n  hint: pass a readable file, or pipe the token: `oidc-preflight check - < token.jwt`");
            return ExitStatus::Usage;
        }
    };
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(offline::run_check(&args.checks, &token, keys, now, sink)),
        Err(e) => {
            let _ = writeln!(sink.err, "error: cannot start the runtime: {e}");
            ExitStatus::Usage
        }
    }
}

/// The token from the file named, or standard input, whole: at most [`TOKEN_LIMIT`] bytes.
/// GitHub's tokens are a few kilobytes; the cap is generous so that `check` can take apart
/// crafted tokens with megabyte claims, and a larger input is refused rather than cut.
fn read_token(args: &CheckArgs) -> Result<String, String> {
    const TOKEN_LIMIT: u64 = 4 * 1024 * 1024;
    let mut text = String::new();
    // One byte more than the cap tells a file of exactly the cap from a larger one.
    let result = match args.token.as_deref().filter(|p| p.as_os_str() != "-") {
        Some(path) => std::fs::File::open(path)
            .and_then(|f| f.take(TOKEN_LIMIT + 1).read_to_string(&mut text))
            .map_err(|e| format!("cannot read the token file `{}`: {e}", path.display())),
        None if std::io::stdin().is_terminal() => Err("no token given".to_owned()),
        None => std::io::stdin()
            .take(TOKEN_LIMIT + 1)
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read the token from standard input: {e}")),
    };
    result?;
    if text.len() as u64 > TOKEN_LIMIT {
        return Err(format!(
            "the token is larger than {TOKEN_LIMIT} bytes; a GitHub OIDC token is a few kilobytes"
        ));
    }
    Ok(text)
}

fn action(env: &Env, out: &mut impl Write, err: &mut impl Write) -> ExitStatus {
    let config = match ActionConfig::from_env(env) {
        Ok(config) => config,
        Err(e) => {
            let error = Error::from(e);
            let _ = report_error(&error, out, err);
            return error.exit_status();
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    match runtime {
        Ok(rt) => rt.block_on(run_action(&config, out, err)),
        Err(e) => {
            let _ = report_error(&Error::Io(e), out, err);
            ExitStatus::Usage
        }
    }
}
