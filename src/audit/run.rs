//! `oidc-preflight audit` and the action's `audit: true`: read the workflows and documents,
//! audit, write the report. Exit codes as the other commands: 0 ok, 1 a job will be refused
//! or trust is dangerous, 2 usage.

use std::io::{self, Write};
use std::path::Path;

use crate::cli::{AuditArgs, Format};
use crate::commands;
use crate::config::{ActionConfig, Env};
use crate::error::ExitStatus;
use crate::outputs;
use crate::trust;

use super::{audit, load_documents, load_workflows, render, AuditError, Options, Report};

/// The action input that turns the step into the audit.
pub const ACTION_INPUT: &str = "audit";

/// Where the workflows are, relative to the repository root.
const WORKFLOWS_DIR: &str = ".github/workflows";

/// A usage error, through the one error printer.
fn usage(err: &mut impl Write, message: &str, hint: &str) -> ExitStatus {
    let error = crate::error::Error::Usage {
        message: message.to_owned(),
        hint: hint.to_owned(),
    };
    let _ = error.report(false, &mut io::sink(), err);
    error.exit_status()
}

fn refused(err: &mut impl Write, e: &AuditError) -> ExitStatus {
    usage(err, &e.to_string(), &e.hint())
}

fn status(report: &Report) -> ExitStatus {
    if report.failed() {
        ExitStatus::CheckFailed
    } else {
        ExitStatus::Success
    }
}

/// `oidc-preflight audit`.
pub fn run_cli_audit<O: Write, E: Write>(
    args: &AuditArgs,
    in_runner: bool,
    out: &mut O,
    err: &mut E,
) -> ExitStatus {
    let ids = match (&args.owner_id, &args.repository_id) {
        (Some(o), Some(r)) => Some((o.clone(), r.clone())),
        (None, None) => None,
        _ => {
            return usage(
                err,
                "--owner-id: the immutable form needs both ids",
                "pass both `--owner-id` and `--repository-id`, or neither",
            )
        }
    };
    let mut extra = Vec::new();
    for pair in &args.set {
        match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => extra.push((k.trim().to_owned(), v.to_owned())),
            _ => {
                return usage(
                    err,
                    &format!("--set: `{pair}` is not of the form `name=value`"),
                    "write `--set name=value`",
                )
            }
        }
    }
    let options = Options {
        repository: args.repository.clone(),
        ids,
        include_claim_keys: args.include_claim_keys.clone(),
        issuer: args.token_issuer.clone(),
        default_branch: args.default_branch.clone(),
        audience: args.audience.clone(),
        extra,
    };
    // Without documents every row would be unjudged and the audit would "pass".
    if args.trust_policies.is_empty() {
        return usage(
            err,
            "no trust documents given: the audit checks each job's predicted token against them",
            "pass `--trust-policy PATH` (repeatable; a directory takes every .json, .yaml and .yml in it)",
        );
    }
    let format = match trust::parse_format(&args.trust_policy_format) {
        Ok(f) => f,
        Err(e) => return usage(err, &e.to_string(), &e.hint()),
    };
    let loaded = load_workflows(Path::new(&args.workflows), &args.workflows)
        .and_then(|w| Ok((w, load_documents(&args.trust_policies, None, format)?)))
        .and_then(|(w, d)| audit(&w, &d, &options));
    let report = match loaded {
        Ok(r) => r,
        Err(e) => return refused(err, &e),
    };
    let written = match args.format {
        Format::Text => commands::fenced_if(out, in_runner, |o| render::write_text(o, &report)),
        Format::Json => writeln!(out, "{}", render::to_json(&report, true)),
    };
    match written {
        Ok(()) => status(&report),
        Err(e) => usage(
            err,
            &format!("cannot write the report: {e}"),
            "check the output stream",
        ),
    }
}

/// Whether the action's `audit` input asks for the audit.
/// Anything but empty or `false` takes the audit path, whose first step refuses a value that
/// is not `true`: `audit: yes` must not quietly run the token check instead.
pub fn requested(env: &Env) -> bool {
    env.input(ACTION_INPUT)
        .is_some_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "false"))
}

/// The action with `audit: true`: audits the checked-out repository's workflows against the
/// `trust-policy` documents. No token is requested, so it runs on pull requests from forks.
/// Writes the report to the log, the findings as annotations on their files and lines, the
/// matrix to the job summary and the JSON report to the `audit` output.
pub fn run_action_audit<O: Write, E: Write>(
    config: &ActionConfig,
    env: &Env,
    out: &mut O,
    err: &mut E,
) -> ExitStatus {
    if let Some(v) = env.input(ACTION_INPUT) {
        if !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "" | "true" | "false"
        ) {
            return usage(
                err,
                &format!("input `audit` is `{v}`, not `true` or `false`"),
                "set `audit: true` to audit the workflows, or leave it out",
            );
        }
    }
    if config.trust_policies.is_empty() {
        return usage(
            err,
            "`audit: true` but no `trust-policy` documents: the audit checks each job's predicted token against them",
            "set `trust-policy:` to the roles', credentials' and providers' documents in the repository, one path per line",
        );
    }
    let Some(repository) = env.get("GITHUB_REPOSITORY").filter(|r| !r.is_empty()) else {
        return usage(
            err,
            "GITHUB_REPOSITORY is not set",
            "run the audit inside a GitHub Actions job, or use `oidc-preflight audit --repository OWNER/REPO`",
        );
    };
    let root = config
        .workspace
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let mut options = Options::new(repository);
    if let Some(issuer) = config.expect.issuer.as_ref().filter(|i| !i.is_empty()) {
        options.issuer = issuer.clone();
    }
    if let Some(branch) = config.run.event_path.as_deref().and_then(default_branch) {
        options.default_branch = branch;
    }
    let loaded = load_workflows(&root.join(WORKFLOWS_DIR), WORKFLOWS_DIR)
        .and_then(|w| {
            Ok((
                w,
                load_documents(
                    &config.trust_policies,
                    Some(&root),
                    config.trust_policy_format,
                )?,
            ))
        })
        .and_then(|(w, d)| audit(&w, &d, &options));
    let report = match loaded {
        Ok(r) => r,
        Err(e) => return refused(err, &e),
    };
    let written = commands::fenced_if(out, true, |o| render::write_text(o, &report))
        .and_then(|()| render::write_annotations(out, &report));
    if let Err(e) = written {
        return usage(
            err,
            &format!("cannot write the log: {e}"),
            "check the output stream",
        );
    }
    if let Some(path) = &config.summary_path {
        let result = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .and_then(|mut f| render::write_summary(&mut f, &report));
        if let Err(e) = result {
            return usage(
                err,
                &format!("cannot write the job summary: {e}"),
                "check that GITHUB_STEP_SUMMARY names a writable file",
            );
        }
    }
    let json = render::to_output(&report);
    let result = match &config.output_path {
        Some(path) => std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| e.to_string())
            .and_then(|mut f| {
                outputs::write_output(&mut f, ACTION_INPUT, &json).map_err(|e| e.to_string())
            }),
        None => Ok(()),
    };
    if let Err(e) = result {
        return usage(
            err,
            &format!("cannot write the `audit` output: {e}"),
            "check that GITHUB_OUTPUT names a writable file",
        );
    }
    match (report.failed(), config.fail_on_mismatch) {
        (true, true) => ExitStatus::CheckFailed,
        _ => ExitStatus::Success,
    }
}

/// The repository's default branch, from the event payload the runner writes
/// (`repository.default_branch`, present in every event that has a repository).
fn default_branch(event_path: &Path) -> Option<String> {
    let text = crate::files::read_text(event_path, "the event payload", 64 * 1024 * 1024).ok()?;
    let event: serde_json::Value = serde_json::from_str(&text).ok()?;
    event["repository"]["default_branch"]
        .as_str()
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
}
