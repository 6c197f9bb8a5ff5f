//! Finding an issuer's signing keys the way the clouds do: the OpenID discovery document at
//! `<issuer>/.well-known/openid-configuration` names the JWKS in `jwks_uri`.
//!
//! The issuer forms GitHub uses:
//! - github.com: `https://token.actions.githubusercontent.com`;
//! - an enterprise slug: `https://token.actions.githubusercontent.com/<slug>`, whose discovery
//!   document is at the slug path while its `jwks_uri` points at the root host;
//! - GHE.com: `https://token.actions.<subdomain>.ghe.com`;
//! - GitHub Enterprise Server: `https://HOST/_services/token`.
//!
//! We follow `jwks_uri` wherever it points (https only, plain http only to loopback) and note
//! when that is another host than the issuer's.

use std::time::Instant;

use reqwest::{header, Url};
use serde_json::{Map, Value};

use super::error::{shown, Document, VerifyError};
use super::Jwks;
use crate::request::{check_transport, get_with_retries, AttemptReport, HttpFailure, RetryPolicy};

/// Fetches the issuer's JWKS through its discovery document, retrying transient failures as
/// the token request does. `policy.deadline` bounds the whole chain, not each request.
///
/// A trailing `/` on the issuer is dropped to build the discovery URL. When an issuer with one
/// path segment (an enterprise slug) has no discovery document there (HTTP 404), the root
/// host's is used instead, and [`Jwks::notes`] says so.
pub async fn discover_jwks(
    client: &reqwest::Client,
    issuer: &str,
    policy: &RetryPolicy,
) -> Result<Jwks, VerifyError> {
    discover_jwks_traced(client, issuer, policy, &mut |_| {}).await
}

/// [`discover_jwks`], telling `trace` about every request: URL, attempt, outcome and timing
/// (for `::debug::` lines). The lines hold URLs and statuses, never a token.
pub async fn discover_jwks_traced(
    client: &reqwest::Client,
    issuer: &str,
    policy: &RetryPolicy,
    trace: &mut dyn FnMut(String),
) -> Result<Jwks, VerifyError> {
    let started = Instant::now();
    let mut notes = Vec::new();
    let base = issuer_url(issuer)?;
    let discovery_url = well_known(&base);
    let mut fetcher = Fetcher {
        client,
        policy,
        started,
        notes: &mut notes,
        trace,
    };
    let (document_url, document) = match fetcher.discovery(&discovery_url).await {
        Ok(document) => (discovery_url, document),
        Err(
            err @ VerifyError::Unreachable {
                status: Some(404), ..
            },
        ) if is_single_segment(&base) => {
            let mut root = base.clone();
            root.set_path("");
            let root_url = well_known(&root);
            match fetcher.discovery(&root_url).await {
                Ok(document) => {
                    fetcher.notes.push(format!(
                        "{discovery_url} answered HTTP 404; used the root host's discovery document {root_url} instead"
                    ));
                    (root_url, document)
                }
                // The issuer's own document is the one that should exist: report its 404.
                Err(_) => return Err(err),
            }
        }
        Err(err) => return Err(err),
    };

    let Some(jwks_uri) = document.get("jwks_uri").and_then(Value::as_str) else {
        return Err(VerifyError::MissingJwksUri { url: document_url });
    };
    let jwks_url = Url::parse(jwks_uri).map_err(|_| VerifyError::InvalidDocument {
        document: Document::Discovery,
        url: Some(document_url.clone()),
        reason: format!("`jwks_uri` `{}` is not a URL", shown(jwks_uri)),
    })?;
    if check_transport(&jwks_url).is_err() {
        return Err(VerifyError::InsecureUrl {
            document: Document::Jwks,
            url: jwks_url.to_string(),
        });
    }
    let advertised = document.get("issuer").and_then(Value::as_str);
    if advertised.is_some_and(|a| a.trim_end_matches('/') != base.as_str().trim_end_matches('/')) {
        fetcher.notes.push(format!(
            "the discovery document {document_url} names the issuer `{}`, not `{}`",
            shown(advertised.unwrap_or_default()),
            shown(issuer)
        ));
    }
    if jwks_url.host_str() != base.host_str() {
        fetcher.notes.push(format!(
            "the JWKS is served from {}, not from the issuer's host {}",
            jwks_url.host_str().unwrap_or_default(),
            base.host_str().unwrap_or_default()
        ));
    }
    let mut jwks = fetcher.jwks(&jwks_url).await?;
    (fetcher.trace)(format!(
        "the JWKS at {jwks_url} has {} usable RS256 key(s): {}",
        jwks.len(),
        jwks.kids().join(", ")
    ));
    jwks.url = Some(jwks_url.to_string());
    jwks.notes = notes;
    Ok(jwks)
}

/// The issuer as a URL to append `/.well-known/...` to: http(s), no query or fragment, no
/// trailing `/`.
pub(super) fn issuer_url(issuer: &str) -> Result<Url, VerifyError> {
    let invalid = || VerifyError::InvalidIssuerUrl {
        issuer: shown(issuer),
    };
    let trimmed = issuer.trim().trim_end_matches('/');
    let url = Url::parse(trimmed).map_err(|_| invalid())?;
    let usable = matches!(url.scheme(), "https" | "http")
        && url.host().is_some()
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if !usable {
        return Err(invalid());
    }
    if check_transport(&url).is_err() {
        return Err(VerifyError::InsecureUrl {
            document: Document::Discovery,
            url: well_known(&url),
        });
    }
    Ok(url)
}

fn well_known(base: &Url) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        base.as_str().trim_end_matches('/')
    )
}

fn is_single_segment(url: &Url) -> bool {
    url.path_segments()
        .is_some_and(|s| s.filter(|p| !p.is_empty()).count() == 1)
}

/// The GETs of one discovery: they share the deadline and collect notes about retries.
struct Fetcher<'a> {
    client: &'a reqwest::Client,
    policy: &'a RetryPolicy,
    started: Instant,
    notes: &'a mut Vec<String>,
    trace: &'a mut dyn FnMut(String),
}

impl Fetcher<'_> {
    async fn discovery(&mut self, url: &str) -> Result<Map<String, Value>, VerifyError> {
        // Built from an issuer that already parsed and passed the transport check.
        let parsed =
            Url::parse(url).map_err(|_| VerifyError::InvalidIssuerUrl { issuer: shown(url) })?;
        self.get(
            &parsed,
            Document::Discovery,
            |body| match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => Ok(map),
                Ok(_) => Err(invalid_body(Document::Discovery, url, "not a JSON object")),
                Err(_) => Err(invalid_body(Document::Discovery, url, "not JSON")),
            },
        )
        .await
    }

    async fn jwks(&mut self, url: &Url) -> Result<Jwks, VerifyError> {
        self.get(url, Document::Jwks, |body| {
            let text = std::str::from_utf8(body)
                .map_err(|_| invalid_body(Document::Jwks, url.as_str(), "not UTF-8"))?;
            Jwks::from_json(text).map_err(|e| match e {
                VerifyError::InvalidDocument { reason, .. } => {
                    invalid_body(Document::Jwks, url.as_str(), &reason)
                }
                other => other,
            })
        })
        .await
    }

    async fn get<T>(
        &mut self,
        url: &Url,
        document: Document,
        parse: impl Fn(&[u8]) -> Result<T, VerifyError>,
    ) -> Result<T, VerifyError> {
        // One deadline for the whole chain: an unreachable JWKS must not get a fresh one
        // after a slow discovery document.
        let policy = RetryPolicy {
            deadline: self.policy.deadline.saturating_sub(self.started.elapsed()),
            ..self.policy.clone()
        };
        let notes = &mut *self.notes;
        let trace = &mut *self.trace;
        let mut report = |a: &AttemptReport| {
            let took = a.took.as_secs_f64();
            let line = match (&a.failure, a.retry_in) {
                (None, _) => format!("GET {url} ({document}): attempt {} answered in {took:.3} s", a.attempt),
                (Some(why), Some(wait)) => {
                    notes.push(format!(
                        "fetching the {document} from {url}: attempt {} failed after {took:.1} s ({why}); retried in {:.1} s",
                        a.attempt,
                        wait.as_secs_f64()
                    ));
                    format!(
                        "GET {url} ({document}): attempt {} failed after {took:.3} s ({why}); retrying in {:.3} s",
                        a.attempt,
                        wait.as_secs_f64()
                    )
                }
                (Some(why), None) => format!(
                    "GET {url} ({document}): attempt {} failed after {took:.3} s ({why}); not retrying",
                    a.attempt
                ),
            };
            trace(line);
        };
        let build = || {
            self.client
                .get(url.clone())
                .header(header::ACCEPT, "application/json")
        };
        let fail = |failure: HttpFailure| fetch_error(document, url.as_str(), failure);
        get_with_retries(&policy, &mut report, build, parse, fail).await
    }
}

fn invalid_body(document: Document, url: &str, reason: &str) -> VerifyError {
    VerifyError::InvalidDocument {
        document,
        url: Some(url.to_owned()),
        reason: reason.to_owned(),
    }
}

fn fetch_error(document: Document, url: &str, failure: HttpFailure) -> VerifyError {
    let unreachable = |status, reason| VerifyError::Unreachable {
        document,
        url: url.to_owned(),
        status,
        reason,
    };
    match failure {
        HttpFailure::Status { status, .. } => unreachable(Some(status), format!("HTTP {status}")),
        HttpFailure::Redirect(why) => unreachable(None, why),
        HttpFailure::GaveUp {
            attempts,
            elapsed,
            last,
        } => unreachable(
            None,
            format!(
                "no answer after {attempts} attempt(s) in {:.1} s: {last}",
                elapsed.as_secs_f64()
            ),
        ),
        HttpFailure::TooLarge { limit } => {
            invalid_body(document, url, &format!("larger than {limit} bytes"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_forms_give_the_discovery_url() {
        for (issuer, want) in [
            (
                "https://token.actions.githubusercontent.com",
                "https://token.actions.githubusercontent.com/.well-known/openid-configuration",
            ),
            (
                "https://token.actions.githubusercontent.com/",
                "https://token.actions.githubusercontent.com/.well-known/openid-configuration",
            ),
            (
                "https://token.actions.githubusercontent.com/acme",
                "https://token.actions.githubusercontent.com/acme/.well-known/openid-configuration",
            ),
            (
                "https://token.actions.octo.ghe.com",
                "https://token.actions.octo.ghe.com/.well-known/openid-configuration",
            ),
            (
                "https://github.example.net/_services/token",
                "https://github.example.net/_services/token/.well-known/openid-configuration",
            ),
            (
                "http://127.0.0.1:8080/acme/",
                "http://127.0.0.1:8080/acme/.well-known/openid-configuration",
            ),
        ] {
            assert_eq!(well_known(&issuer_url(issuer).unwrap()), want, "{issuer}");
        }
        assert!(is_single_segment(
            &issuer_url("https://token.actions.githubusercontent.com/acme/").unwrap()
        ));
        assert!(!is_single_segment(
            &issuer_url("https://github.example.net/_services/token").unwrap()
        ));
        assert!(!is_single_segment(
            &issuer_url("https://token.actions.githubusercontent.com").unwrap()
        ));
    }

    #[test]
    fn rejects_unusable_issuers() {
        for bad in [
            "token.actions.githubusercontent.com",
            "ftp://x.example",
            "https://x.example/?q=1",
            "https://user@x.example",
            "",
        ] {
            assert!(
                matches!(issuer_url(bad), Err(VerifyError::InvalidIssuerUrl { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            issuer_url("http://issuer.example"),
            Err(VerifyError::InsecureUrl {
                document: Document::Discovery,
                ..
            })
        ));
    }
}
