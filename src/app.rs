//! Dispatch of a parsed command line: the action, `check` or `predict`. The binary only parses
//! arguments, snapshots the environment and hands over the standard streams.

use std::io::{Read, Write};
use std::path::Path;

use crate::action::{report_error, run_action};
use crate::cli::{CheckArgs, Cli, Command};
use crate::config::{ActionConfig, Env};
use crate::error::{Error, ExitStatus};
use crate::offline::{self, Keys, Sink};

/// Largest token read. GitHub's tokens are a few kilobytes; the cap is generous so that
/// `check` can take apart crafted tokens with megabyte claims, and a larger input is refused
/// rather than cut.
const TOKEN_LIMIT: u64 = 4 * 1024 * 1024;

/// Standard input, and whether it is a terminal (then `check` does not wait on it).
pub struct Stdin<R: Read> {
    /// The stream.
    pub reader: R,
    /// True when a person would have to type the token.
    pub is_terminal: bool,
}

/// Runs what the command line asks for and returns the exit status.
pub fn run<R: Read, O: Write, E: Write>(
    cli: Cli,
    env: &Env,
    now: i64,
    stdin: Stdin<R>,
    out: &mut O,
    err: &mut E,
) -> ExitStatus {
    let in_runner = env.get("GITHUB_ACTIONS") == Some("true");
    let status = match cli.command {
        None | Some(Command::Action) => action(env, out, err),
        Some(Command::Check(args)) => check(
            &args,
            now,
            stdin,
            Sink {
                out: &mut *out,
                err,
                in_runner,
            },
        ),
        Some(Command::Predict(args)) => offline::run_predict(
            &args,
            now,
            Sink {
                out: &mut *out,
                err,
                in_runner,
            },
        ),
    };
    let _ = out.flush();
    status
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    // One request at a time: a current-thread runtime is all the action needs, and the
    // cheapest to start.
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn action(env: &Env, out: &mut impl Write, err: &mut impl Write) -> ExitStatus {
    let started = ActionConfig::from_env(env)
        .map_err(Error::from)
        .and_then(|c| Ok((c, runtime()?)));
    match started {
        Ok((config, rt)) => rt.block_on(run_action(&config, out, err)),
        Err(error) => {
            let _ = report_error(&error, out, err);
            error.exit_status()
        }
    }
}

fn check<R: Read, O: Write, E: Write>(
    args: &CheckArgs,
    now: i64,
    stdin: Stdin<R>,
    sink: Sink<'_, O, E>,
) -> ExitStatus {
    let input = read_token(args.token.as_deref(), stdin).and_then(|token| {
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
            let _ = writeln!(
                sink.err,
                "error: {message}\n  hint: pass a readable file, or pipe the token: `oidc-preflight check - < token.jwt`"
            );
            return ExitStatus::Usage;
        }
    };
    match runtime() {
        Ok(rt) => rt.block_on(offline::run_check(&args.checks, &token, keys, now, sink)),
        Err(e) => {
            let _ = writeln!(sink.err, "error: {e}");
            ExitStatus::Usage
        }
    }
}

/// The token from the file named, or from standard input for `-` or no file, whole.
fn read_token<R: Read>(path: Option<&Path>, stdin: Stdin<R>) -> Result<String, String> {
    let mut text = String::new();
    // One byte more than the cap tells an input of exactly the cap from a larger one.
    match path.filter(|p| p.as_os_str() != "-") {
        Some(path) => std::fs::File::open(path)
            .and_then(|f| f.take(TOKEN_LIMIT + 1).read_to_string(&mut text))
            .map_err(|e| format!("cannot read the token file `{}`: {e}", path.display()))?,
        None if stdin.is_terminal => return Err("no token given".to_owned()),
        None => stdin
            .reader
            .take(TOKEN_LIMIT + 1)
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read the token from standard input: {e}"))?,
    };
    if text.len() as u64 > TOKEN_LIMIT {
        return Err(format!(
            "the token is larger than {TOKEN_LIMIT} bytes; a GitHub OIDC token is a few kilobytes"
        ));
    }
    Ok(text)
}
