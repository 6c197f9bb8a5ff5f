//! The action end to end: request, mask, decode, report, check, write outputs.

use std::fs::OpenOptions;
use std::io::{self, Write};

use crate::claims::{self, DecodedToken};
use crate::commands::{self, inert};
use crate::config::{ActionConfig, InputError};
use crate::diagnose::{self, Clock, Surface};
use crate::error::{Error, ExitStatus};
use crate::outputs;
use crate::report::Report;
use crate::request::{self, AttemptReport, TokenRequest};
use crate::secret::Secret;
use crate::sink;
use crate::trust;
use crate::verify::{self, SignatureStatus, TrustedIssuers, Verified, VerifyError, VerifyOptions};

/// Runs the action with `config`, writing the step log to `out` (stdout, which the runner reads
/// for workflow commands) and error details to `err`. Returns the exit status; never panics on
/// bad input.
pub async fn run_action(
    config: &ActionConfig,
    clock: &dyn Fn() -> i64,
    out: &mut impl Write,
    err: &mut impl Write,
) -> ExitStatus {
    match run(config, clock, out).await {
        Ok(status) => status,
        Err(error) => {
            // Best effort: if stdout itself is broken there is nowhere left to report.
            let _ = error.report(true, out, err);
            error.exit_status()
        }
    }
}

async fn run(
    config: &ActionConfig,
    clock: &dyn Fn() -> i64,
    out: &mut impl Write,
) -> Result<ExitStatus, Error> {
    // The request token is masked before anything else is printed.
    if let Some(bearer) = &config.request_token {
        commands::add_mask(out, bearer.reveal())?;
    }
    // Policy files are read before the token is requested: a typo in one should not cost a
    // token request, and needs no token to report.
    let policies = trust::load(
        &config.trust_policies,
        config.workspace.as_deref(),
        config.trust_policy_format,
    )?;
    let missing = |name| Error::MissingVariable {
        name,
        cause: Box::new(diagnose::no_token(&config.run, read_event(config).as_ref())),
    };
    // The issuer input is checked before the token is requested, like the policy files.
    let issuers = if config.verify_signature {
        Some(trusted_issuers(config)?)
    } else {
        None
    };
    let url = config
        .request_url
        .clone()
        .ok_or_else(|| missing("ACTIONS_ID_TOKEN_REQUEST_URL"))?;
    let bearer = config
        .request_token
        .clone()
        .ok_or_else(|| missing("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))?;
    let request = TokenRequest {
        url,
        bearer,
        audience: config.expect.audience.clone(),
        policy: config.retry.clone(),
    };
    // Each client is built for the URLs it will fetch (see request::http_client_for): a
    // loopback provider's run loads no root certificates at all.
    let client = request::client_for(&request.url)?;
    let token = fetch(config, &client, &request, out).await?;
    // Masked the moment it exists, before it is even checked to be a JWT: a malformed value
    // may still be a credential.
    commands::add_mask(out, token.reveal())?;
    let decoded = claims::decode(token.reveal())?;
    // Read once, when the token exists: every check and the signature's use this instant.
    let now = clock();
    let mut analysis =
        diagnose::analyze(&decoded.claims, &config.expect, Clock { now, fresh: true });
    trust::apply(&mut analysis, &policies);
    let signature = match issuers {
        Some(issuers) => {
            // The keys come from the pinned issuer, or else from the token's own `iss`.
            let key_source = config
                .expect
                .issuer
                .clone()
                .or_else(|| decoded.claims.str("iss").map(str::to_owned))
                .unwrap_or_default();
            let keys_client;
            let client = if same_scheme(&key_source, &request.url) {
                &client
            } else {
                keys_client = request::client_for(&key_source)?;
                &keys_client
            };
            let result =
                check_signature(config, issuers, client, &token, &decoded, now, out).await?;
            analysis.record_signature(&result, Surface::Action);
            SignatureStatus::of(&result)
        }
        None => SignatureStatus::Skipped,
    };
    // Built once; every sink reads it, with the same severities.
    let report = Report::finish(
        analysis,
        decoded.claims,
        signature,
        now,
        config.fail_on_mismatch,
    );
    commands::without_commands(out, |out| sink::log::write(out, &report))?;
    sink::annotations::write(out, &report)?;
    if let Some(path) = &config.summary_path {
        let mut file = OpenOptions::new().append(true).create(true).open(path)?;
        sink::summary::write(&mut file, &report)?;
    }
    write_outputs(config, &token, &report, out)?;
    Ok(if report.fails_the_step() {
        ExitStatus::CheckFailed
    } else {
        ExitStatus::Success
    })
}

fn same_scheme(a: &str, b: &str) -> bool {
    let scheme = |u: &str| reqwest::Url::parse(u).map(|u| u.scheme().to_owned()).ok();
    scheme(a).is_some() && scheme(a) == scheme(b)
}

/// The issuers the action trusts. The token came from the runner's own authenticated
/// endpoint, not from whoever could send one, so its `iss` is the issuer whose keys are
/// fetched (GitHub Enterprise Server and test providers need no naming), unless the `issuer`
/// input names one, which then pins the keys and the `iss` the token must have.
fn trusted_issuers(config: &ActionConfig) -> Result<TrustedIssuers, Error> {
    match config.expect.issuer.as_deref().filter(|i| !i.is_empty()) {
        None => Ok(TrustedIssuers::from_runner()),
        Some(issuer) => TrustedIssuers::named(issuer).map_err(|e| {
            Error::Input(InputError::Invalid {
                name: "issuer".to_owned(),
                reason: e.to_string(),
                hint: "give the issuer exactly as the cloud is configured with it: an https URL such as https://token.actions.githubusercontent.com or https://HOST/_services/token; plain http only to a loopback host".to_owned(),
            })
        }),
    }
}

/// Verifies the signature with the keys of the trusted issuer (the clouds do the same); the
/// audience is the findings' business, so it is not checked here.
async fn check_signature(
    config: &ActionConfig,
    issuers: TrustedIssuers,
    client: &reqwest::Client,
    token: &Secret,
    decoded: &DecodedToken,
    now: i64,
    out: &mut impl Write,
) -> Result<Result<Verified, VerifyError>, Error> {
    let options = VerifyOptions {
        now: Some(now),
        retry: config.retry.clone(),
        ..VerifyOptions::new(issuers)
    };
    let mut written: io::Result<()> = Ok(());
    let mut trace = |line: String| {
        if config.debug && written.is_ok() {
            written = commands::debug(out, &line);
        }
    };
    let result = verify::verify_decoded_traced(client, token, decoded, &options, &mut trace).await;
    written?;
    if config.debug {
        match &result {
            Ok(v) => {
                commands::debug(
                    out,
                    &format!("signature verified with key `{}` of `{}`", v.kid, v.issuer),
                )?;
                for note in &v.notes {
                    commands::debug(out, note)?;
                }
            }
            Err(e) => commands::debug(out, &format!("signature check: {e}"))?,
        }
    }
    Ok(result)
}

/// The event payload, to tell a fork pull request from a missing permission. Unreadable or
/// absent is not an error here: the diagnosis just has less to go on.
fn read_event(config: &ActionConfig) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(config.run.event_path.as_ref()?).ok()?;
    serde_json::from_str(&text).ok()
}

async fn fetch(
    config: &ActionConfig,
    client: &reqwest::Client,
    request: &TokenRequest,
    out: &mut impl Write,
) -> Result<Secret, Error> {
    if config.debug {
        let url = request::request_url(&request.url, request.audience.as_deref())?;
        // Scheme, host, port and path only: the query is the api-version and the audience,
        // shown on its own; the bearer token travels in a header and is never shown.
        commands::debug(
            out,
            &format!(
                "requesting the OIDC token from {}://{}{}{} (audience: {}; deadline {:.1} s, at most {} attempt(s) of at most {:.1} s each)",
                url.scheme(),
                url.host_str().unwrap_or_default(),
                url.port().map(|p| format!(":{p}")).unwrap_or_default(),
                url.path(),
                request.audience.as_deref().unwrap_or("GitHub's default"),
                request.policy.deadline.as_secs_f64(),
                request.policy.max_attempts,
                request.policy.attempt_timeout.as_secs_f64(),
            ),
        )?;
    }
    // Each attempt is reported as it ends, so a long retry loop shows progress; the first
    // write error is kept and returned after the request.
    let mut written: io::Result<()> = Ok(());
    let mut on_attempt = |a: &AttemptReport| {
        if let (Ok(()), Some(line)) = (&written, attempt_line(a, config.debug)) {
            written = out.write_all(line.as_bytes());
        }
    };
    let result = request::fetch_token(client, request, &mut on_attempt).await;
    written?;
    Ok(result?)
}

fn attempt_line(a: &AttemptReport, debug: bool) -> Option<String> {
    let took = a.took.as_secs_f64();
    match (&a.failure, a.retry_in) {
        (None, _) if debug => Some(format!(
            "::debug::token request attempt {} got the token in {took:.3} s\n",
            a.attempt
        )),
        (None, _) => None,
        (Some(why), Some(wait)) => Some(format!(
            "Attempt {} to get the token failed after {took:.1} s ({}); retrying in {:.1} s\n",
            a.attempt,
            inert(why),
            wait.as_secs_f64()
        )),
        (Some(why), None) if debug => Some(format!(
            "::debug::{}\n",
            commands::escape_data(&format!(
                "token request attempt {} failed after {took:.3} s: {why}; not retrying",
                a.attempt
            ))
        )),
        (Some(_), None) => None,
    }
}

fn write_outputs(
    config: &ActionConfig,
    token: &Secret,
    report: &Report,
    out: &mut impl Write,
) -> Result<(), Error> {
    let values = sink::outputs::values(token, report);
    match &config.output_path {
        Some(path) => {
            // Every value is checked before the first is written: a refused value must not
            // leave the step with half of its outputs.
            let records: Vec<(&str, &str, String)> = values
                .iter()
                .map(|(name, value)| (*name, value.as_str(), outputs::new_delimiter()))
                .collect();
            for (name, value, delimiter) in &records {
                outputs::check_output(name, value, delimiter)?;
            }
            // Append: earlier steps' outputs live in the same file.
            let mut file = OpenOptions::new().append(true).create(true).open(path)?;
            for (name, value, delimiter) in &records {
                outputs::write_output_with_delimiter(&mut file, name, value, delimiter)?;
            }
            file.flush()?;
        }
        None => commands::without_commands(out, |out| {
            writeln!(
                out,
                "Outputs (GITHUB_OUTPUT is not set, so they are printed):"
            )?;
            for (name, value) in &values {
                let shown = if *name == "token" {
                    "(not printed: the token is only written to GITHUB_OUTPUT)".to_owned()
                } else {
                    inert(value)
                };
                writeln!(out, "  {name}: {shown}")?;
            }
            Ok(())
        })?,
    }
    Ok(())
}
