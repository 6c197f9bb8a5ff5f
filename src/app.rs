//! Dispatch of a parsed command line: the action, `check` or `predict`. The binary only parses
//! arguments, snapshots the environment and hands over the standard streams.

use std::future::Future;
use std::io::{Read, Write};
use std::path::Path;

use crate::action::run_action;
use crate::cli::{CheckArgs, Cli, Command};
use crate::config::{ActionConfig, Env};
use crate::error::{Error, ExitStatus};
use crate::files::{self, FileError};
use crate::offline::{self, Keys, Sink};
use crate::verify::{Jwks, KeySource};

/// Largest token read. GitHub's tokens are a few kilobytes; the cap is generous so that
/// `check` can take apart crafted tokens with megabyte claims, and a larger input is refused
/// rather than cut.
const TOKEN_LIMIT: u64 = 4 * 1024 * 1024;

/// Largest `--jwks` file read: a key set is a few kilobytes; this is the size fetched ones
/// may have at most by default, four times over.
const JWKS_LIMIT: u64 = 1024 * 1024;

/// Standard input, and whether it is a terminal (then `check` does not wait on it).
pub struct Stdin<R: Read> {
    /// The stream.
    pub reader: R,
    /// True when a person would have to type the token.
    pub is_terminal: bool,
}

/// Runs what the command line asks for and returns the exit status. `clock` is read once:
/// by `check` and `predict` at the start, by the action when the token has arrived (the
/// request may have retried for most of its deadline).
pub fn run<R: Read, O: Write, E: Write>(
    cli: Cli,
    env: &Env,
    clock: &dyn Fn() -> i64,
    stdin: Stdin<R>,
    out: &mut O,
    err: &mut E,
) -> ExitStatus {
    let in_runner = env.get("GITHUB_ACTIONS") == Some("true");
    let status = match cli.command {
        None | Some(Command::Action) => action(env, in_runner, clock, out, err),
        Some(Command::Check(args)) => check(
            &args,
            clock(),
            stdin,
            Sink {
                out: &mut *out,
                err,
                in_runner,
            },
        ),
        Some(Command::Predict(args)) => offline::run_predict(
            &args,
            clock(),
            Sink {
                out: &mut *out,
                err,
                in_runner,
            },
        ),
        Some(Command::Audit(args)) => crate::audit::run_cli_audit(&args, in_runner, out, err),
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

fn action(
    env: &Env,
    in_runner: bool,
    clock: &dyn Fn() -> i64,
    out: &mut impl Write,
    err: &mut impl Write,
) -> ExitStatus {
    // Outside a runner, with nothing to request a token from, `::error` commands and CI
    // advice would only puzzle a person at a terminal.
    if !in_runner && env.get("ACTIONS_ID_TOKEN_REQUEST_URL").is_none() {
        let error = Error::Usage {
            message: "not running in GitHub Actions (GITHUB_ACTIONS is not set), so there is no token to request".to_owned(),
            hint: "to check a token you have: `oidc-preflight check TOKEN_FILE`; to predict a job's token: `oidc-preflight predict --repository OWNER/REPO`; `oidc-preflight --help` lists the rest".to_owned(),
        };
        let _ = error.report(false, out, err);
        return error.exit_status();
    }
    // `audit: true` requests no token and needs no runtime.
    let started = ActionConfig::from_env(env).map_err(Error::from);
    let started = match started {
        Ok(config) if crate::audit::requested(env) => {
            return crate::audit::run_action_audit(&config, env, out, err)
        }
        Ok(config) => runtime().map(|rt| (config, rt)),
        Err(error) => Err(error),
    };
    match started {
        Ok((config, rt)) => rt.block_on(run_action(&config, clock, out, err)),
        Err(error) => {
            let _ = error.report(true, out, err);
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
    let input = read_token(args.token.as_deref(), stdin).and_then(|token| Ok((token, keys(args)?)));
    let (token, keys) = match input {
        Ok(input) => input,
        Err(error) => {
            let _ = error.report(false, sink.out, sink.err);
            return error.exit_status();
        }
    };
    if matches!(keys, Some(KeySource::Discover)) {
        return match runtime() {
            Ok(rt) => rt.block_on(offline::run_check(&args.checks, &token, keys, now, sink)),
            Err(e) => {
                let _ = e.report(false, sink.out, sink.err);
                e.exit_status()
            }
        };
    }
    // Without discovery nothing in `run_check` waits on I/O, so its future is ready on the
    // first poll and needs no runtime (building one costs more than such a check). It also
    // lets callers already inside a runtime (the snapshot tests) run offline checks, which
    // `block_on` would refuse. An `.await` that pends added to these paths is caught by every
    // `check --no-verify`/`--jwks` test as the usage error below.
    let Sink {
        out,
        err,
        in_runner,
    } = sink;
    let ready = {
        let check = offline::run_check(
            &args.checks,
            &token,
            keys,
            now,
            Sink {
                out: &mut *out,
                err: &mut *err,
                in_runner,
            },
        );
        let mut check = std::pin::pin!(check);
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        check.as_mut().poll(&mut context)
    };
    match ready {
        std::task::Poll::Ready(status) => status,
        std::task::Poll::Pending => {
            let error = Error::Usage {
                message: "internal: an offline check waited on I/O".to_owned(),
                hint: "please report this; `--no-verify` and `--jwks` make no request".to_owned(),
            };
            let _ = error.report(false, out, err);
            error.exit_status()
        }
    }
}

/// A file or stream `check` cannot use: a usage error (exit 2).
fn unreadable(e: FileError) -> Error {
    Error::Usage {
        hint: e.hint().to_owned(),
        message: e.to_string(),
    }
}

/// The keys `check` verifies with. A `--jwks` file that cannot be read, or holds no usable
/// key, is a usage error: the user asked for those keys, so the check must not go on
/// without them.
fn keys(args: &CheckArgs) -> Result<Keys, Error> {
    match (&args.jwks, args.no_verify) {
        (Some(path), _) => {
            let text = files::read_text(path, "the JWKS file", JWKS_LIMIT).map_err(unreadable)?;
            let jwks = Jwks::from_json(&text).map_err(|e| Error::Usage {
                message: format!("the JWKS file `{}` cannot be used: {e}", path.display()),
                hint: "save the issuer's JWKS to the file: the document its discovery document's `jwks_uri` names (github.com: https://token.actions.githubusercontent.com/.well-known/jwks); or leave out --jwks to fetch it, or pass --no-verify".to_owned(),
            })?;
            Ok(Some(KeySource::Jwks(jwks)))
        }
        (None, true) => Ok(None),
        (None, false) => Ok(Some(KeySource::Discover)),
    }
}

/// The token from the file named, or from standard input for `-` or no file, whole.
fn read_token<R: Read>(path: Option<&Path>, stdin: Stdin<R>) -> Result<String, Error> {
    let pipe_hint = "pass a readable file, or pipe the token: `oidc-preflight check - < token.jwt`";
    let refused = |message: String| Error::Usage {
        message,
        hint: pipe_hint.to_owned(),
    };
    if let Some(path) = path.filter(|p| p.as_os_str() != "-") {
        return files::read_text(path, "the token file", TOKEN_LIMIT).map_err(unreadable);
    }
    if stdin.is_terminal {
        return Err(refused("no token given".to_owned()));
    }
    let mut text = String::new();
    // One byte more than the cap tells an input of exactly the cap from a larger one.
    stdin
        .reader
        .take(TOKEN_LIMIT + 1)
        .read_to_string(&mut text)
        .map_err(|e| refused(format!("cannot read the token from standard input: {e}")))?;
    if text.len() as u64 > TOKEN_LIMIT {
        return Err(refused(format!(
            "the token is larger than {TOKEN_LIMIT} bytes; a GitHub OIDC token is a few kilobytes"
        )));
    }
    Ok(text)
}
