//! The offline commands: `check` (a token you have) and `predict` (the token a job will get).
//! `predict` uses no network; `check` fetches only the trusted issuer's discovery document
//! and JWKS, and none with `--jwks FILE` or `--no-verify`.

use std::io::Write;

use crate::claims::{self, Claims};
use crate::cli::{CheckOptions, Format, PredictArgs};
use crate::commands;
use crate::config::InputError;
use crate::diagnose::{self, Clock, Expectations, Surface};
use crate::error::{Error, ExitStatus};
use crate::predict;
use crate::report::Report;
use crate::request;
use crate::secret::Secret;
use crate::trust;
use crate::verify::{self, KeySource, SignatureStatus, TrustedIssuers, VerifyOptions};

/// Where the report goes and how.
pub struct Sink<'a, O: Write, E: Write> {
    /// The report.
    pub out: &'a mut O,
    /// Errors.
    pub err: &'a mut E,
    /// Inside a GitHub runner (`GITHUB_ACTIONS=true`): untrusted text is fenced off from
    /// workflow command parsing.
    pub in_runner: bool,
}

fn invalid(name: &str, reason: impl Into<String>, hint: impl Into<String>) -> Error {
    Error::Input(InputError::Invalid {
        name: name.to_owned(),
        reason: reason.into(),
        hint: hint.into(),
    })
}

/// The trust policy documents named on the command line (paths relative to the current
/// directory).
fn load_policies(opts: &CheckOptions) -> Result<Vec<trust::LoadedPolicy>, Error> {
    // The loader's hints speak of the action's inputs and workspace; here they name flags.
    let flagged = |e: trust::TrustPolicyError| {
        let hint = match &e {
            trust::TrustPolicyError::UnknownFormat(_) => {
                "use `--trust-policy-format aws`, `azure`, `gcp`, `vault` or `auto` (the default)"
                    .to_owned()
            }
            trust::TrustPolicyError::Read { .. }
            | trust::TrustPolicyError::EmptyDirectory { .. }
            | trust::TrustPolicyError::File(crate::files::FileError::Unreadable { .. }) => {
                "check the `--trust-policy` path: a relative one is read from the current directory"
                    .to_owned()
            }
            other => other.hint(),
        };
        Error::Usage {
            message: e.to_string(),
            hint,
        }
    };
    let format = trust::parse_format(&opts.trust_policy_format).map_err(flagged)?;
    trust::load(&opts.trust_policies, None, format).map_err(flagged)
}

/// The expectations from the command-line options.
pub fn expectations(opts: &CheckOptions) -> Result<Expectations, Error> {
    Ok(crate::plan::expectations(
        &crate::plan::Requested {
            subject_patterns: opts.subject_patterns.iter().map(String::as_str).collect(),
            claims: opts.claims.iter().map(String::as_str).collect(),
            audience: opts.audience.as_deref(),
            issuer: opts.issuer.as_deref(),
            provider: opts.provider.as_deref(),
            job_environment: opts.job_environment.as_deref(),
            trusted_publisher: opts.trusted_publisher.as_deref(),
        },
        diagnose::Surface::Check,
    )?)
}

/// Where `check` gets the signing keys: the verifier's own key source, or `None` for
/// `--no-verify`.
pub type Keys = Option<KeySource>;

/// The issuers `check` trusts: the one `--issuer` names, else GitHub's own. A pasted token
/// came from anyone, so its own `iss` is never trusted for being there.
pub fn trusted_issuers(opts: &CheckOptions) -> Result<TrustedIssuers, Error> {
    match opts.issuer.as_deref().filter(|i| !i.is_empty()) {
        None => Ok(TrustedIssuers::github()),
        Some(issuer) => TrustedIssuers::named(issuer).map_err(|e| {
            invalid(
                "--issuer",
                e.to_string(),
                "name the issuer as the token's `iss` has it: an https URL such as https://HOST/_services/token (GitHub Enterprise Server); plain http only to a loopback host",
            )
        }),
    }
}

/// `oidc-preflight check`: decodes `token_text`, verifies its signature unless `keys` is
/// `None`, and reports on it. Verification that was asked for and did not succeed
/// fails the check.
pub async fn run_check<O: Write, E: Write>(
    opts: &CheckOptions,
    token_text: &str,
    keys: Keys,
    now: i64,
    sink: Sink<'_, O, E>,
) -> ExitStatus {
    let result = expectations(opts).and_then(|expect| {
        if let Some(mistake) = paste_mistake(token_text) {
            return Err(mistake);
        }
        let decoded = claims::decode(token_text)?;
        Ok((expect, decoded))
    });
    let (expect, decoded) = match result {
        Ok(ok) => ok,
        Err(e) => return fail(&e, sink),
    };
    let policies = match load_policies(opts) {
        Ok(p) => p,
        Err(e) => return fail(&e, sink),
    };
    let issuers = match &keys {
        None => None,
        Some(_) => match trusted_issuers(opts) {
            Ok(issuers) => Some(issuers),
            Err(e) => return fail(&e, sink),
        },
    };
    let mut analysis = diagnose::analyze(&decoded.claims, &expect, Clock { now, fresh: false });
    trust::apply(&mut analysis, &policies);
    let token = Secret::new(token_text.trim());
    let result = match (keys, issuers) {
        (None, _) | (_, None) => None,
        (Some(KeySource::Jwks(jwks)), Some(issuers)) => {
            let options = VerifyOptions {
                now: Some(now),
                ..VerifyOptions::new(issuers)
            };
            Some(verify::verify_decoded_with_jwks(
                &token, &decoded, &jwks, &options,
            ))
        }
        (Some(KeySource::Discover), Some(issuers)) => {
            let options = VerifyOptions {
                now: Some(now),
                ..VerifyOptions::new(issuers)
            };
            // Keys come from the named issuer, or from the token's `iss` once verify accepts
            // it; a loopback issuer's client loads no root certificates.
            let key_source = opts
                .issuer
                .clone()
                .filter(|i| !i.is_empty())
                .or_else(|| decoded.claims.str("iss").map(str::to_owned))
                .unwrap_or_default();
            match request::client_for(&key_source) {
                Ok(client) => Some(
                    verify::verify_decoded_traced(&client, &token, &decoded, &options, &mut |_| {})
                        .await,
                ),
                Err(e) => return fail(&Error::Request(e), sink),
            }
        }
    };
    let signature = match &result {
        Some(result) => {
            analysis.record_signature(result, Surface::Check);
            SignatureStatus::of(result)
        }
        None => {
            analysis.signature = Some("skipped (--no-verify)".to_owned());
            SignatureStatus::Skipped
        }
    };
    let report = Report::finish(analysis, decoded.claims, signature, now, true);
    emit(&report, opts.format, sink)
}

/// What was pasted instead of the token, when it is one of the usual mistakes: said plainly
/// rather than as "not three dot-separated parts". Never quotes the text: it may hold the
/// token.
fn paste_mistake(text: &str) -> Option<Error> {
    let text = text.trim();
    let usage = |message: &str, hint: &str| Error::Usage {
        message: message.to_owned(),
        hint: hint.to_owned(),
    };
    if text.starts_with('{') && text.contains("\"value\"") {
        return Some(usage(
            "this is the token endpoint's JSON answer (`{\"count\":...,\"value\":\"eyJ...\"}`), not the token",
            "pass its `value` alone: `jq -r .value < answer.json | oidc-preflight check -`",
        ));
    }
    if text
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("bearer "))
    {
        return Some(usage(
            "the text begins with `Bearer `, an HTTP Authorization header's scheme, not part of the token",
            "remove `Bearer ` and pass the token alone",
        ));
    }
    let quoted = |q: char| text.len() > 1 && text.starts_with(q) && text.ends_with(q);
    if quoted('"') || quoted('\'') {
        return Some(usage(
            "the token is wrapped in quotes",
            "remove the quotes around it",
        ));
    }
    if text.contains("***") {
        return Some(usage(
            "the text holds `***`, the runner's mask: a token copied from a step log was replaced when it was printed",
            "get the token from the job itself: the action's `token` output written to a file and uploaded as an artifact, or run the checks in the job with the action",
        ));
    }
    None
}

/// `oidc-preflight predict`: derives the claims a job will get and reports on them.
pub fn run_predict<O: Write, E: Write>(
    args: &PredictArgs,
    now: i64,
    sink: Sink<'_, O, E>,
) -> ExitStatus {
    let result = expectations(&args.checks)
        .and_then(|expect| Ok((predicted_claims(args, &expect)?, expect)));
    match result {
        Ok((claims, expect)) => {
            let mut analysis = diagnose::analyze(&claims, &expect, Clock { now, fresh: false });
            match load_policies(&args.checks) {
                Ok(policies) => trust::apply(&mut analysis, &policies),
                Err(e) => return fail(&e, sink),
            }
            if opts_is_text(args.checks.format) {
                let sub = claims.subject().unwrap_or_default();
                let aud = claims.text("aud").unwrap_or_default();
                let _ = commands::fenced_if(sink.out, sink.in_runner, |out| {
                    writeln!(out, "Predicted sub: {}", commands::inert(sub))?;
                    writeln!(out, "Predicted aud: {}", commands::inert(&aud))
                });
            }
            let report = Report::finish(analysis, claims, SignatureStatus::Skipped, now, true);
            emit(&report, args.checks.format, sink)
        }
        Err(e) => fail(&e, sink),
    }
}

fn opts_is_text(format: Format) -> bool {
    format == Format::Text
}

fn fail<O: Write, E: Write>(error: &Error, sink: Sink<'_, O, E>) -> ExitStatus {
    let _ = error.report(false, sink.out, sink.err);
    error.exit_status()
}

fn emit<O: Write, E: Write>(report: &Report, format: Format, sink: Sink<'_, O, E>) -> ExitStatus {
    let written = match format {
        Format::Text => commands::fenced_if(sink.out, sink.in_runner, |out| {
            crate::sink::log::write(out, report)
        }),
        Format::Json => crate::sink::json::write(sink.out, report),
    };
    match written {
        Err(e) => fail(&Error::Io(e), sink),
        Ok(()) if report.fails_the_step() => ExitStatus::CheckFailed,
        Ok(()) => ExitStatus::Success,
    }
}

fn split_pair(text: &str, flag: &str) -> Result<(String, String), Error> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(invalid(
            flag,
            format!("`{text}` is not of the form `name=value`"),
            format!("write `{flag} name=value`"),
        )),
    }
}

/// The claims GitHub would issue for the job described by `args`: the flags as
/// [`predict::JobFacts`], predicted by [`predict::predict`].
pub fn predicted_claims(args: &PredictArgs, expect: &Expectations) -> Result<Claims, Error> {
    let refused = |e: predict::PredictError| {
        let flag = match e {
            predict::PredictError::Repository(_) | predict::PredictError::RepositoryName(_) => {
                "--repository"
            }
            predict::PredictError::Unpredictable(_) => "--include-claim-keys",
        };
        invalid(flag, e.to_string(), e.hint())
    };
    predict::owner_and_repo(&args.repository).map_err(refused)?;
    // GitHub's `ref` claim is always a full ref; `main` alone would predict a `sub` GitHub
    // never issues.
    if !args.git_ref.starts_with("refs/") {
        let looks_like_tag = args.git_ref.starts_with('v')
            && args.git_ref[1..].starts_with(|c: char| c.is_ascii_digit());
        let full = if looks_like_tag {
            format!("refs/tags/{}", args.git_ref)
        } else {
            format!("refs/heads/{}", args.git_ref)
        };
        return Err(invalid(
            "--ref",
            format!("`{}` is not a full ref, and GitHub's `ref` claim always is", args.git_ref),
            format!("did you mean `--ref {full}`? (branches are `refs/heads/NAME`, tags `refs/tags/NAME`, pull requests `refs/pull/N/merge`)"),
        ));
    }
    // `--job-environment` derives another job's token from a token that exists; `predict`
    // has none, and its job's environment is `--environment`.
    if args.checks.job_environment.is_some() {
        return Err(invalid(
            "--job-environment",
            "`predict` describes the job itself, so there is no other job's token to derive",
            "give the job's environment with `--environment NAME` (and leave out --job-environment)",
        ));
    }
    let ids = match (&args.owner_id, &args.repository_id) {
        (Some(o), Some(r)) => Some((o.clone(), r.clone())),
        (None, None) => None,
        _ => {
            return Err(invalid(
                "--owner-id",
                "the immutable form needs both ids",
                "pass both `--owner-id` and `--repository-id`, or neither",
            ))
        }
    };
    let mut extra = Vec::new();
    for pair in &args.set {
        extra.push(split_pair(pair, "--set")?);
    }
    let facts = predict::JobFacts {
        repository: args.repository.clone(),
        ids,
        git_ref: args.git_ref.clone(),
        event: args.event.clone(),
        environment: args.environment.clone(),
        workflow: args.workflow.clone(),
        job_workflow_ref: None,
        issuer: args.token_issuer.clone(),
        include_claim_keys: args.include_claim_keys.clone(),
        audience: expect.expected_audience(),
        extra,
    };
    predict::predict(&facts).map_err(refused)
}
