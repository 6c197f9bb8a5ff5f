//! Requesting the OIDC token from the runner's token endpoint, with bounded retries.
//!
//! The protocol is the one @actions/core uses: `GET ACTIONS_ID_TOKEN_REQUEST_URL` plus
//! `&audience=<encodeURIComponent(aud)>`, `Authorization: Bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN`,
//! answer `{"value": "<jwt>"}`. Unlike @actions/core we also retry connection errors, timeouts
//! and 429, honour `Retry-After`, and stop at an overall deadline.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::{header, StatusCode, Url};
use serde_json::Value;
use thiserror::Error;

use crate::secret::Secret;

/// Characters `encodeURIComponent` leaves alone; everything else is percent-encoded, so the
/// audience arrives exactly as @actions/core would send it.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// How hard to try.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Overall deadline for all attempts, waits included.
    pub deadline: Duration,
    /// Most requests to make.
    pub max_attempts: u32,
    /// Longest a single attempt may take (capped by what is left of the deadline).
    pub attempt_timeout: Duration,
    /// First backoff delay; doubled per attempt, with jitter.
    pub base_delay: Duration,
    /// Longest backoff delay.
    pub max_delay: Duration,
    /// Largest response body read, in bytes. A token is a few kilobytes.
    pub max_body: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(30),
            max_attempts: 5,
            attempt_timeout: Duration::from_secs(10),
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(5),
            max_body: 256 * 1024,
        }
    }
}

/// One token request: where, with what bearer token, for which audience.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// `ACTIONS_ID_TOKEN_REQUEST_URL`, query string included.
    pub url: String,
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    pub bearer: Secret,
    /// The audience to ask for; `None` lets GitHub use its default (the owner URL).
    pub audience: Option<String>,
    /// Retry and size limits.
    pub policy: RetryPolicy,
}

/// Why the token could not be obtained.
#[derive(Debug, Error)]
pub enum RequestError {
    /// The URL in `ACTIONS_ID_TOKEN_REQUEST_URL` does not parse.
    #[error("ACTIONS_ID_TOKEN_REQUEST_URL is not a valid URL")]
    InvalidUrl,
    /// Only https, or http to a loopback address, carries the bearer token.
    #[error("refusing to send the request token over {scheme} to `{host}`: only https is allowed (http only to loopback)")]
    InsecureUrl {
        /// The URL's scheme.
        scheme: String,
        /// The URL's host.
        host: String,
    },
    /// A status that retrying cannot fix (400, 401, 403, 404, ...).
    #[error("the token endpoint answered HTTP {status}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Refused {
        /// The HTTP status code.
        status: u16,
        /// GitHub's message from the body, if it sent one.
        message: Option<String>,
    },
    /// A redirect was not followed: to plain http, or too many.
    #[error(
        "the token endpoint redirected the request, and the redirect was not followed: {reason}"
    )]
    Redirect {
        /// Why it was refused, with the URL.
        reason: String,
    },
    /// Transient failures until the attempts or the deadline ran out.
    #[error("no token after {attempts} attempt(s) in {:.1} s: {last}", elapsed.as_secs_f64())]
    GaveUp {
        /// Requests made.
        attempts: u32,
        /// Time spent.
        elapsed: Duration,
        /// What went wrong the last time.
        last: String,
    },
    /// The body exceeded [`RetryPolicy::max_body`].
    #[error("the token endpoint's response is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not JSON.
    #[error("the token endpoint's response is not JSON")]
    NotJson,
    /// The JSON has no `value` field.
    #[error("the token endpoint's response has no `value` field")]
    MissingValue,
    /// `value` is not a string.
    #[error("the token endpoint's `value` field is not a string")]
    ValueNotString,
    /// `value` is empty.
    #[error("the token endpoint returned an empty `value`")]
    EmptyValue,
    /// The HTTP client could not be set up (TLS roots, ...).
    #[error("could not set up the HTTP client: {0}")]
    Client(String),
}

impl RequestError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            RequestError::InvalidUrl | RequestError::InsecureUrl { .. } => {
                "this variable is set by the runner; do not override ACTIONS_ID_TOKEN_REQUEST_URL in the workflow"
            }
            RequestError::Refused { status: 401, .. } => {
                "the request token was refused: it expires when the job ends, so the job may no longer be running, or the token was copied from another job"
            }
            RequestError::Refused { status: 403, .. } => {
                "GitHub refused to issue the token: an organization or repository policy (for example the OIDC subject customization or an IP allow list) or the job's permissions do not allow it; this is not transient, retrying fails the same way"
            }
            RequestError::Refused { status: 404, .. } => {
                "the token endpoint does not exist: on GitHub Enterprise Server, OIDC needs version 3.5 or later with Actions OIDC enabled"
            }
            RequestError::Refused { status: 400, .. } => {
                "the request was rejected as malformed: check the `audience` input for unusual characters"
            }
            RequestError::Refused { .. } => return None,
            RequestError::Redirect { .. } => {
                "GitHub's token endpoint does not redirect: a proxy or an overridden ACTIONS_ID_TOKEN_REQUEST_URL sends the request elsewhere; the bearer token is never sent over plain http or to another host"
            }
            RequestError::GaveUp { .. } => {
                "the token endpoint kept failing transiently; re-run the job, or raise the `timeout` and `max-attempts` inputs"
            }
            RequestError::BodyTooLarge { .. }
            | RequestError::NotJson
            | RequestError::MissingValue
            | RequestError::ValueNotString
            | RequestError::EmptyValue => {
                "the endpoint did not answer like GitHub's token service (`{\"value\": \"<jwt>\"}`); check that ACTIONS_ID_TOKEN_REQUEST_URL was not overridden and that no proxy rewrites the response"
            }
            RequestError::Client(_) => "check the runner's TLS configuration (CA certificates)",
        };
        Some(hint.to_owned())
    }
}

/// What happened on one attempt, for progress and debug lines. Never holds a secret.
#[derive(Debug, Clone)]
pub struct AttemptReport {
    /// 1-based attempt number.
    pub attempt: u32,
    /// What went wrong; `None` on success.
    pub failure: Option<String>,
    /// How long the attempt took.
    pub took: Duration,
    /// The wait before the next attempt, if there will be one.
    pub retry_in: Option<Duration>,
}

/// Builds the request URL: the runner's URL with its query kept and `audience` appended.
pub fn request_url(base: &str, audience: Option<&str>) -> Result<Url, RequestError> {
    let mut url = Url::parse(base).map_err(|_| RequestError::InvalidUrl)?;
    check_transport(&url)?;
    if let Some(audience) = audience {
        let encoded = utf8_percent_encode(audience, URI_COMPONENT).to_string();
        let query = match url.query() {
            Some(q) if !q.is_empty() => format!("{q}&audience={encoded}"),
            _ => format!("audience={encoded}"),
        };
        url.set_query(Some(&query));
    }
    Ok(url)
}

/// Only https carries the bearer token, except plain http to a loopback address (tests, local
/// providers), where nothing crosses a network. Also the rule for fetching signing keys.
pub(crate) fn check_transport(url: &Url) -> Result<(), RequestError> {
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        scheme => Err(RequestError::InsecureUrl {
            scheme: scheme.to_owned(),
            host: url.host_str().unwrap_or_default().to_owned(),
        }),
    }
}

/// An HTTP client for the token endpoint and key servers: rustls, bounded redirects that never
/// downgrade to plain http, and no bearer header carried to another host (reqwest drops
/// `Authorization` when a redirect changes scheme, host or port).
pub fn http_client() -> Result<reqwest::Client, RequestError> {
    client_builder()
        .build()
        .map_err(|e| RequestError::Client(e.to_string()))
}

/// The client for requests to `url`: [`http_client`] for https; for plain http (loopback
/// only) a client without any proxy and without root certificates.
///
/// No proxy: through an `HTTP_PROXY` or `ALL_PROXY` the bearer header would reach the proxy in
/// clear (over https the proxy only relays a CONNECT tunnel, so the bearer stays encrypted and
/// the proxy is kept). No roots: loading and parsing the system's CA bundle is most of what a
/// loopback run costs (about 140 certificates, milliseconds), and plain http needs none. A
/// loopback server that redirects to https is then refused by TLS, which only test setups do.
pub fn http_client_for(url: &reqwest::Url) -> Result<reqwest::Client, RequestError> {
    if url.scheme() != "http" {
        return http_client();
    }
    client_builder()
        .no_proxy()
        .tls_built_in_root_certs(false)
        .build()
        .map_err(|e| RequestError::Client(e.to_string()))
}

/// [`http_client_for`] a URL given as text; text that does not parse gets the full client, and
/// the request itself reports what is wrong with it.
pub(crate) fn client_for(url: &str) -> Result<reqwest::Client, RequestError> {
    match reqwest::Url::parse(url) {
        Ok(url) => http_client_for(&url),
        Err(_) => http_client(),
    }
}

fn client_builder() -> reqwest::ClientBuilder {
    let redirects = reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= 5 {
            attempt.error("too many redirects")
        } else if check_transport(attempt.url()).is_err() {
            attempt.error("refusing to follow a redirect to plain http")
        } else {
            attempt.follow()
        }
    });
    reqwest::Client::builder()
        .redirect(redirects)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("oidc-preflight/", env!("CARGO_PKG_VERSION")))
}

/// Why [`get_with_retries`] produced no usable answer, apart from the caller's own parse
/// errors. Each caller turns it into its own error type, with its own wording.
#[derive(Debug)]
pub(crate) enum HttpFailure {
    /// A status that retrying cannot fix, with the (bounded) body for the caller to explain.
    Status {
        /// The HTTP status code.
        status: u16,
        /// The response body, at most [`RetryPolicy::max_body`] bytes.
        body: Vec<u8>,
    },
    /// A redirect was refused: too many, or to plain http.
    Redirect(String),
    /// The body exceeded [`RetryPolicy::max_body`].
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Transient failures until the attempts or the deadline ran out.
    GaveUp {
        /// Requests made.
        attempts: u32,
        /// Time spent.
        elapsed: Duration,
        /// What went wrong the last time.
        last: String,
    },
}

enum Attempt<T, E> {
    Done(T),
    Fatal(E),
    Transient {
        why: String,
        retry_after: Option<Duration>,
    },
}

/// Requests the token, retrying transient failures with exponential backoff and full jitter
/// until `max_attempts` or the deadline. `report` sees every attempt.
pub async fn fetch_token(
    client: &reqwest::Client,
    request: &TokenRequest,
    report: &mut dyn FnMut(&AttemptReport),
) -> Result<Secret, RequestError> {
    let url = request_url(&request.url, request.audience.as_deref())?;
    // Decided here, where the bearer is attached, whatever client the caller passed.
    let direct;
    let client = if url.scheme() == "http" {
        direct = http_client_for(&url)?;
        &direct
    } else {
        client
    };
    let build = || {
        client
            .get(url.clone())
            .bearer_auth(request.bearer.reveal())
            .header(header::ACCEPT, "application/json")
    };
    get_with_retries(
        &request.policy,
        report,
        build,
        token_from_body,
        |failure| match failure {
            HttpFailure::Status { status, body } => RequestError::Refused {
                status,
                message: error_message(&body, &request.bearer),
            },
            HttpFailure::Redirect(reason) => RequestError::Redirect { reason },
            HttpFailure::TooLarge { limit } => RequestError::BodyTooLarge { limit },
            HttpFailure::GaveUp {
                attempts,
                elapsed,
                last,
            } => RequestError::GaveUp {
                attempts,
                elapsed,
                last,
            },
        },
    )
    .await
}

/// The retry loop shared by every GET this crate makes (token endpoint, discovery, JWKS).
///
/// `build` makes a fresh request for each attempt (a request builder cannot be reused).
/// Connection errors, timeouts, 408, 429 and 5xx are retried with exponential backoff and full
/// jitter, honouring `Retry-After`, until `max_attempts` or the overall deadline; a redirect
/// refusal, any other status and an oversized body end at once. A 2xx body goes to `parse`,
/// inside the attempt, so a parse error is reported as that attempt's failure; every other
/// failure goes through `fail` into the caller's error type. `report` sees every attempt.
pub(crate) async fn get_with_retries<T, E: std::fmt::Display>(
    policy: &RetryPolicy,
    report: &mut dyn FnMut(&AttemptReport),
    build: impl Fn() -> reqwest::RequestBuilder,
    parse: impl Fn(&[u8]) -> Result<T, E>,
    fail: impl Fn(HttpFailure) -> E,
) -> Result<T, E> {
    let started = Instant::now();
    let max_attempts = policy.max_attempts.max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let attempt_started = Instant::now();
        let left = policy.deadline.saturating_sub(started.elapsed());
        let budget = policy.attempt_timeout.min(left);
        let outcome = match tokio::time::timeout(
            budget,
            one_attempt(build(), policy.max_body, &parse, &fail),
        )
        .await
        {
            Ok(outcome) => outcome,
            Err(_) => Attempt::Transient {
                why: format!("no complete answer within {:.1} s", budget.as_secs_f64()),
                retry_after: None,
            },
        };
        let took = attempt_started.elapsed();
        let (why, retry_after) = match outcome {
            Attempt::Done(value) => {
                report(&AttemptReport {
                    attempt,
                    failure: None,
                    took,
                    retry_in: None,
                });
                return Ok(value);
            }
            Attempt::Fatal(err) => {
                report(&AttemptReport {
                    attempt,
                    failure: Some(err.to_string()),
                    took,
                    retry_in: None,
                });
                return Err(err);
            }
            Attempt::Transient { why, retry_after } => (why, retry_after),
        };
        let left = policy.deadline.saturating_sub(started.elapsed());
        let wait = retry_after.unwrap_or_else(|| backoff(policy, attempt));
        // Give up rather than wait past the deadline: a wait that cannot be followed by a
        // useful attempt only delays the error.
        let retry_in = (attempt < max_attempts && wait < left).then_some(wait);
        // The server's own wait is the reason to stop early: say so, or the error reads as if
        // the deadline had been spent.
        let why = match retry_after {
            Some(asked) if attempt < max_attempts && asked >= left => format!(
                "{why} (Retry-After {} s is beyond the deadline)",
                asked.as_secs()
            ),
            _ => why,
        };
        report(&AttemptReport {
            attempt,
            failure: Some(why.clone()),
            took,
            retry_in,
        });
        match retry_in {
            Some(wait) => tokio::time::sleep(wait).await,
            None => {
                return Err(fail(HttpFailure::GaveUp {
                    attempts: attempt,
                    elapsed: started.elapsed(),
                    last: why,
                }))
            }
        }
    }
}

/// `base * 2^(n-1)` capped at `max_delay`, then full jitter down to half of it, so that many
/// jobs retrying at once spread out.
fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let exp = policy
        .base_delay
        .saturating_mul(1u32 << (attempt - 1).min(16))
        .min(policy.max_delay);
    exp.mul_f64(0.5 + 0.5 * crate::random::unit_fraction())
}

async fn one_attempt<T, E>(
    request: reqwest::RequestBuilder,
    max_body: usize,
    parse: &impl Fn(&[u8]) -> Result<T, E>,
    fail: &impl Fn(HttpFailure) -> E,
) -> Attempt<T, E> {
    let mut response = match request.send().await {
        Ok(r) => r,
        Err(e) if e.is_redirect() => {
            return Attempt::Fatal(fail(HttpFailure::Redirect(describe(&e))))
        }
        Err(e) => {
            return Attempt::Transient {
                why: describe(&e),
                retry_after: None,
            }
        }
    };
    let status = response.status();
    let retry_after = parse_retry_after(response.headers());
    let body = match read_bounded(&mut response, max_body).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            return Attempt::Fatal(fail(HttpFailure::TooLarge { limit: max_body }))
        }
        Err(BodyError::Transport(why)) => {
            return Attempt::Transient {
                why,
                retry_after: None,
            }
        }
    };
    if status.is_success() {
        return match parse(&body) {
            Ok(value) => Attempt::Done(value),
            Err(e) => Attempt::Fatal(e),
        };
    }
    if is_transient(status) {
        return Attempt::Transient {
            why: format!("HTTP {}", status.as_u16()),
            retry_after,
        };
    }
    Attempt::Fatal(fail(HttpFailure::Status {
        status: status.as_u16(),
        body,
    }))
}

fn is_transient(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
}

/// reqwest's message plus its causes ("error sending request: connection refused"), which hold
/// the URL at most, never a header.
fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `Retry-After` in its delta-seconds form; an HTTP date is ignored (backoff applies).
fn parse_retry_after(headers: &header::HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?;
    let secs: u64 = value.trim().parse().ok()?;
    Some(Duration::from_secs(secs.min(3600)))
}

enum BodyError {
    TooLarge,
    Transport(String),
}

async fn read_bounded(
    response: &mut reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(BodyError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(BodyError::Transport(describe(&e))),
        }
    }
}

fn token_from_body(body: &[u8]) -> Result<Secret, RequestError> {
    let json: Value = serde_json::from_slice(body).map_err(|_| RequestError::NotJson)?;
    match json.get("value") {
        None | Some(Value::Null) => Err(RequestError::MissingValue),
        Some(Value::String(s)) if s.trim().is_empty() => Err(RequestError::EmptyValue),
        Some(Value::String(s)) => Ok(Secret::new(s.clone())),
        Some(_) => Err(RequestError::ValueNotString),
    }
}

/// Shortest run of the request token (or of one of its encodings) that is redacted. A server
/// may echo the token cut, quoted, inside a longer word or encoded, so whole-token replacement
/// is not enough. Eight characters of a token's alphabet carry about 48 bits: a shorter
/// fragment left visible tells an attacker little about a token of hundreds of characters,
/// while a body's own words almost never share 8 characters in a row with a random token, so
/// the message stays readable. A token shorter than this is redacted whole.
const REDACT_RUN: usize = 8;

/// The forms in which a server may echo `secret`: as is, percent-encoded (upper- and
/// lower-case hex; `encodeURIComponent`'s set and every non-alphanumeric), and in standard
/// and URL-safe base64 at each of the 3 alignments (the token may sit at any byte offset of
/// an encoded `user:token` or JSON). Base64 characters that also depend on the bytes before
/// the token are dropped, so every kept character encodes token bits only.
fn secret_forms(secret: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use base64::Engine;
    let mut forms = vec![secret.to_owned()];
    for set in [NON_ALPHANUMERIC, URI_COMPONENT] {
        let upper = utf8_percent_encode(secret, set).to_string();
        // Lower-case hex: only the two digits after each `%`.
        let mut lower = String::with_capacity(upper.len());
        let mut hex_left = 0;
        for c in upper.chars() {
            if c == '%' {
                hex_left = 2;
                lower.push(c);
            } else if hex_left > 0 {
                hex_left -= 1;
                lower.push(c.to_ascii_lowercase());
            } else {
                lower.push(c);
            }
        }
        forms.push(upper);
        forms.push(lower);
    }
    for offset in 0..3 {
        let mut bytes = vec![0u8; offset];
        bytes.extend_from_slice(secret.as_bytes());
        // 6 bits a character: characters 0..ceil(8 * offset / 6) see a prefix byte.
        let skip = (8 * offset).div_ceil(6);
        for engine in [STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
            forms.push(
                engine
                    .encode(&bytes)
                    .get(skip..)
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    }
    forms.sort();
    forms.dedup();
    forms
}

/// `text` with every run of at least [`REDACT_RUN`] characters that occurs in `secret` or in
/// one of its [`secret_forms`] replaced by `***`; a shorter secret is replaced where it occurs
/// whole. Linear in the sizes: each form's windows of [`REDACT_RUN`] bytes go into a set, and
/// every byte of `text` in a window found there is redacted (so is a run whose every window
/// occurs in the token without the whole run occurring: more redaction, never less).
fn redact(text: String, secret: &Secret) -> String {
    let secret = secret.reveal();
    if secret.is_empty() {
        return text;
    }
    if secret.len() < REDACT_RUN {
        return text.replace(secret, "***");
    }
    let forms = secret_forms(secret);
    let windows: std::collections::HashSet<&[u8]> = forms
        .iter()
        .flat_map(|f| f.as_bytes().windows(REDACT_RUN))
        .collect();
    let bytes = text.as_bytes();
    let mut hidden = vec![false; bytes.len()];
    for (at, window) in bytes.windows(REDACT_RUN).enumerate() {
        if windows.contains(window) {
            hidden[at..at + REDACT_RUN].fill(true);
        }
    }
    if !hidden.contains(&true) {
        return text;
    }
    // Whole characters: a window may begin or end inside a multi-byte one.
    let mut shown = String::with_capacity(text.len());
    let mut in_run = false;
    for (at, c) in text.char_indices() {
        if hidden[at..at + c.len_utf8()].contains(&true) {
            if !in_run {
                shown.push_str("***");
            }
            in_run = true;
        } else {
            in_run = false;
            shown.push(c);
        }
    }
    shown
}

/// GitHub's explanation from an error body: the `message` field of a JSON body, or the text.
/// A server may quote the bearer token back; it is shown as `***`, replaced before the text is
/// shortened, which could otherwise cut the token and leave a prefix no replacement finds.
/// Shortened and put on one line; it is shown to the user as is.
fn error_message(body: &[u8], bearer: &Secret) -> Option<String> {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(json) => json.get("message")?.as_str()?.to_owned(),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let one_line: String = redact(text, bearer)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(500)
        .collect();
    let trimmed = one_line.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audience_is_appended_encoded_and_query_kept() {
        let url = request_url(
            "https://runner.example/idtoken?api-version=2.0",
            Some("https://iam.googleapis.com/projects/1/providers/p a"),
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://runner.example/idtoken?api-version=2.0&audience=https%3A%2F%2Fiam.googleapis.com%2Fprojects%2F1%2Fproviders%2Fp%20a"
        );
        let bare =
            request_url("https://runner.example/idtoken", Some("sts.amazonaws.com")).unwrap();
        assert_eq!(bare.query(), Some("audience=sts.amazonaws.com"));
        let none = request_url("https://runner.example/idtoken?api-version=2.0", None).unwrap();
        assert_eq!(none.query(), Some("api-version=2.0"));
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "http://127.0.0.1:8080/t",
            "http://[::1]/t",
            "http://localhost/t",
            "https://x.example/t",
        ] {
            assert!(request_url(ok, None).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/t",
            "http://runner.example/t",
            "ftp://127.0.0.1/t",
        ] {
            assert!(
                matches!(
                    request_url(bad, None),
                    Err(RequestError::InsecureUrl { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            request_url("not a url", None),
            Err(RequestError::InvalidUrl)
        ));
    }

    #[test]
    fn body_parsing() {
        assert_eq!(
            token_from_body(br#"{"value":"a.b.c"}"#).unwrap().reveal(),
            "a.b.c"
        );
        assert!(matches!(
            token_from_body(b"<html>"),
            Err(RequestError::NotJson)
        ));
        assert!(matches!(
            token_from_body(br#"{"token":"a"}"#),
            Err(RequestError::MissingValue)
        ));
        assert!(matches!(
            token_from_body(br#"{"value":""}"#),
            Err(RequestError::EmptyValue)
        ));
        assert!(matches!(
            token_from_body(br#"{"value":7}"#),
            Err(RequestError::ValueNotString)
        ));
    }

    #[test]
    fn error_message_prefers_json_message() {
        let none = Secret::new("");
        assert_eq!(
            error_message(br#"{"message":"Forbidden\nby policy"}"#, &none).as_deref(),
            Some("Forbidden by policy")
        );
        assert_eq!(
            error_message(b"plain text", &none).as_deref(),
            Some("plain text")
        );
        assert_eq!(error_message(b"", &none).as_deref(), None);
    }

    #[test]
    fn a_bearer_echoed_across_the_length_limit_leaves_no_prefix() {
        let bearer = Secret::new("eyJhbGciOiJSUzI1NiJ9.".repeat(10));
        let body = format!("{} {}", "x".repeat(480), bearer.reveal());
        let shown = error_message(body.as_bytes(), &bearer).unwrap();
        assert!(!shown.contains("eyJhbGciOiJ"), "{shown}");
        assert!(shown.ends_with(" ***"), "{shown}");
    }

    /// A request token as GitHub issues them: long, JWT-like, with `.` `-` `_`.
    const BEARER: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJydW4iOiI0MiIsInNjcCI6IkFjdGlvbnMuUmVzdWx0cyJ9.c2ln-_x";

    fn b64(engine: base64::engine::GeneralPurpose, bytes: &[u8]) -> String {
        use base64::Engine;
        engine.encode(bytes)
    }

    #[test]
    fn echoed_pieces_and_encodings_of_the_bearer_are_redacted() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE};
        let bearer = Secret::new(BEARER);
        let encoded = utf8_percent_encode(BEARER, NON_ALPHANUMERIC).to_string();
        for (name, echoed) in [
            ("whole", BEARER.to_owned()),
            ("quoted prefix", format!("'{}'", &BEARER[..30])),
            ("suffix", BEARER[70..].to_owned()),
            ("middle, 8 characters", BEARER[40..48].to_owned()),
            ("base64", b64(STANDARD, BEARER.as_bytes())),
            (
                "base64 user:token",
                b64(STANDARD, format!("x:{BEARER}").as_bytes()),
            ),
            (
                "base64 offset 2",
                b64(STANDARD, format!("ab{BEARER}").as_bytes()),
            ),
            (
                "url-safe base64",
                b64(URL_SAFE, format!("a{BEARER}").as_bytes()),
            ),
            (
                "base64 of a piece",
                b64(STANDARD, &BEARER.as_bytes()[10..60]),
            ),
            ("percent-encoded", encoded.clone()),
            (
                "percent-encoded, lower-case hex",
                encoded.replace("%2E", "%2e").replace("%5F", "%5f"),
            ),
            (
                "encodeURIComponent",
                utf8_percent_encode(BEARER, URI_COMPONENT).to_string(),
            ),
        ] {
            let body = format!("{{\"message\":\"token {echoed} is not valid\"}}");
            let shown = error_message(body.as_bytes(), &bearer).unwrap();
            assert!(
                shown.starts_with("token ") && shown.ends_with(" is not valid"),
                "{name}: {shown}"
            );
            assert!(shown.contains("***"), "{name}: {shown}");
            // At most the few base64 characters that mix in a neighbour's bits are left.
            let left = shown.len() - "token *** is not valid".len();
            assert!(left <= 4, "{name}: {shown}");
        }
        // Ordinary words, and fragments shorter than 8 characters, stay readable.
        let body = format!("bearer for run {} expired: invalid JWT", &BEARER[..7]);
        assert_eq!(error_message(body.as_bytes(), &bearer).unwrap(), body);
        // A short token is redacted where it occurs whole.
        let short = Secret::new("s3cr3t");
        assert_eq!(error_message(b"bad s3cr3t!", &short).unwrap(), "bad ***!");
    }

    proptest::proptest! {
        #[test]
        fn no_run_of_8_from_the_bearer_or_its_encodings_survives(
            bearer in "[A-Za-z0-9._~+/=-]{8,120}",
            start in 0usize..120,
            len in 8usize..120,
            form in 0usize..4,
            offset in 0usize..3,
            before in "[ a-z:\"']{0,20}",
            after in "[ a-z:\"']{0,20}",
        ) {
            use base64::engine::general_purpose::{STANDARD, URL_SAFE};
            let start = start % (bearer.len() - 7);
            let piece = &bearer[start..(start + len).min(bearer.len())];
            let padded = format!("{}{piece}", "x".repeat(offset));
            let echoed = match form {
                0 => piece.to_owned(),
                1 => b64(STANDARD, padded.as_bytes()),
                2 => b64(URL_SAFE, padded.as_bytes()),
                _ => utf8_percent_encode(piece, NON_ALPHANUMERIC).to_string(),
            };
            let shown = redact(format!("{before}{echoed}{after}"), &Secret::new(bearer.clone()));
            for f in secret_forms(&bearer) {
                for w in f.as_bytes().windows(REDACT_RUN) {
                    let w = std::str::from_utf8(w).unwrap();
                    proptest::prop_assert!(!shown.contains(w), "{w} of {f} in {shown}");
                }
            }
        }
    }

    fn fast_policy() -> RetryPolicy {
        RetryPolicy {
            deadline: Duration::from_secs(5),
            max_attempts: 3,
            attempt_timeout: Duration::from_secs(2),
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(20),
            max_body: 1024,
        }
    }

    fn token_request(server: &wiremock::MockServer) -> TokenRequest {
        TokenRequest {
            url: format!("{}/idtoken?api-version=2.0", server.uri()),
            bearer: Secret::new("request-token"),
            audience: Some("sts.amazonaws.com".to_owned()),
            policy: fast_policy(),
        }
    }

    // The retry loop is shared with key discovery; these pin what the token request does
    // through it: headers sent, what is retried, and what each attempt reports.
    #[tokio::test]
    async fn fetch_token_retries_5xx_then_succeeds() {
        use wiremock::matchers::{header, method, path, query_param};
        use wiremock::{Mock, ResponseTemplate};
        let server = wiremock::MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/idtoken"))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/idtoken"))
            .and(query_param("api-version", "2.0"))
            .and(query_param("audience", "sts.amazonaws.com"))
            .and(header("authorization", "Bearer request-token"))
            .and(header("accept", "application/json"))
            .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"value":"a.b.c"}"#))
            .mount(&server)
            .await;
        let client = http_client().unwrap();
        let mut reports = Vec::new();
        let token = fetch_token(&client, &token_request(&server), &mut |r| {
            reports.push(r.clone())
        })
        .await
        .unwrap();
        assert_eq!(token.reveal(), "a.b.c");
        assert_eq!(reports.len(), 2);
        assert_eq!(reports[0].failure.as_deref(), Some("HTTP 503"));
        assert!(reports[0].retry_in.is_some());
        assert!(reports[1].failure.is_none());
    }

    #[tokio::test]
    async fn fetch_token_does_not_retry_403_or_a_bad_body() {
        use wiremock::matchers::method;
        use wiremock::{Mock, ResponseTemplate};
        let server = wiremock::MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(403).set_body_string(r#"{"message":"nope"}"#))
            .expect(1)
            .mount(&server)
            .await;
        let client = http_client().unwrap();
        let mut reports = Vec::new();
        let err = fetch_token(&client, &token_request(&server), &mut |r| {
            reports.push(r.clone())
        })
        .await
        .unwrap_err();
        assert!(
            matches!(&err, RequestError::Refused { status: 403, message: Some(m) } if m == "nope")
        );
        assert_eq!(reports.len(), 1);
        assert_eq!(
            reports[0].failure.as_deref(),
            Some(err.to_string().as_str())
        );
        assert!(reports[0].retry_in.is_none());

        let server = wiremock::MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string("<html>"))
            .expect(1)
            .mount(&server)
            .await;
        let err = fetch_token(&client, &token_request(&server), &mut |_| {})
            .await
            .unwrap_err();
        assert!(matches!(err, RequestError::NotJson));
    }

    #[tokio::test]
    async fn fetch_token_gives_up_on_repeated_5xx() {
        use wiremock::matchers::method;
        use wiremock::{Mock, ResponseTemplate};
        let server = wiremock::MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(500))
            .expect(3)
            .mount(&server)
            .await;
        let client = http_client().unwrap();
        let err = fetch_token(&client, &token_request(&server), &mut |_| {})
            .await
            .unwrap_err();
        assert!(
            matches!(&err, RequestError::GaveUp { attempts: 3, last, .. } if last == "HTTP 500"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn an_error_message_echoing_the_request_token_is_redacted() {
        use wiremock::matchers::method;
        use wiremock::{Mock, ResponseTemplate};
        let server = wiremock::MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(401).set_body_string(
                    r#"{"message":"bearer request-token is not valid for this job"}"#,
                ),
            )
            .mount(&server)
            .await;
        let client = http_client().unwrap();
        let mut reports = Vec::new();
        let err = fetch_token(&client, &token_request(&server), &mut |r| {
            reports.push(r.clone())
        })
        .await
        .unwrap_err();
        let shown = format!("{err} {err:?} {reports:?}");
        assert!(!shown.contains("request-token"), "{shown}");
        assert!(err.to_string().contains("bearer *** is not valid"), "{err}");
    }

    #[tokio::test]
    async fn a_refused_redirect_is_named_as_such() {
        use wiremock::matchers::method;
        use wiremock::{Mock, ResponseTemplate};
        let server = wiremock::MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(302).insert_header("location", "http://runner.example/t"),
            )
            .expect(1)
            .mount(&server)
            .await;
        let client = http_client().unwrap();
        let err = fetch_token(&client, &token_request(&server), &mut |_| {})
            .await
            .unwrap_err();
        assert!(matches!(err, RequestError::Redirect { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains("refusing to follow a redirect to plain http"),
            "{err}"
        );
        assert!(!err.to_string().contains("HTTP 0"), "{err}");
        assert!(err.hint().is_some());
    }

    #[tokio::test]
    async fn a_retry_after_beyond_the_deadline_ends_at_once_and_says_so() {
        use wiremock::matchers::method;
        use wiremock::{Mock, ResponseTemplate};
        let server = wiremock::MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "120"))
            .expect(1)
            .mount(&server)
            .await;
        let client = http_client().unwrap();
        let err = fetch_token(&client, &token_request(&server), &mut |_| {})
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("HTTP 429 (Retry-After 120 s is beyond the deadline)"),
            "{err}"
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy::default();
        for attempt in 1..10 {
            let full = policy
                .base_delay
                .saturating_mul(1 << (attempt - 1))
                .min(policy.max_delay);
            let d = backoff(&policy, attempt);
            assert!(
                d >= full / 2 && d <= full,
                "attempt {attempt}: {d:?} vs {full:?}"
            );
        }
    }
}
