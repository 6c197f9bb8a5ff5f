//! Why a token did not verify, with what to do about it.
//!
//! Messages name what happened and show issuer, audience, `kid` and `alg` values (shortened,
//! on one line), but never the token or any of its three base64url parts: a rejected token may
//! still be a live credential.

use std::fmt;
use std::time::Duration;

use thiserror::Error;

use crate::claims::MalformedToken;

use super::SignatureStatus;

/// Which document of the key discovery chain an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// `<issuer>/.well-known/openid-configuration`.
    Discovery,
    /// The JSON Web Key Set named by the discovery document's `jwks_uri`, or given directly.
    Jwks,
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Document::Discovery => "discovery document",
            Document::Jwks => "JWKS",
        })
    }
}

/// Why the token was not accepted, or could not be checked.
#[derive(Debug, Error)]
pub enum VerifyError {
    /// The token is not a JWT.
    #[error(transparent)]
    Malformed(#[from] MalformedToken),
    /// The header's `alg` is not RS256 (`none`, an HMAC algorithm, or anything else).
    #[error("the token's algorithm is `{alg}`; only RS256 is accepted")]
    UnsupportedAlgorithm {
        /// The header's `alg`, shortened.
        alg: String,
    },
    /// No `iss` claim, and no issuer was named, so no trusted issuer vouches for it.
    #[error("the token has no `iss` claim, so no trusted issuer vouches for it")]
    NoIssuer,
    /// The token's `iss` is not among the trusted issuers; nothing was fetched from it.
    #[error("the token's issuer `{issuer}` is not trusted, so its signature was not accepted (nothing was fetched from it)")]
    UntrustedIssuer {
        /// The token's `iss`, shortened.
        issuer: String,
    },
    /// The issuer is not an http(s) URL without query or fragment.
    #[error("the issuer `{issuer}` is not an https URL, so its signing keys cannot be discovered")]
    InvalidIssuerUrl {
        /// The issuer, shortened.
        issuer: String,
    },
    /// A discovery document or JWKS URL is plain http to a host that is not loopback.
    #[error("refusing to fetch the {document} from `{url}`: only https is allowed (plain http only to loopback)")]
    InsecureUrl {
        /// Which document.
        document: Document,
        /// Its URL.
        url: String,
    },
    /// A discovery document or JWKS could not be fetched: a status retrying cannot fix, or
    /// connection errors, timeouts and 5xx until the attempts or the deadline ran out.
    #[error("could not fetch the {document} from {url}: {reason}")]
    Unreachable {
        /// Which document.
        document: Document,
        /// Its URL.
        url: String,
        /// The HTTP status when the server answered with one that is not retried.
        status: Option<u16>,
        /// What went wrong (the status, or the last connection error).
        reason: String,
    },
    /// A discovery document or JWKS is not what an OpenID provider serves.
    #[error("the {document}{} is not valid: {reason}", url.as_deref().map(|u| format!(" at {u}")).unwrap_or_default())]
    InvalidDocument {
        /// Which document.
        document: Document,
        /// Where it came from; `None` for a JWKS given as text.
        url: Option<String>,
        /// What is wrong with it.
        reason: String,
    },
    /// The discovery document has no `jwks_uri`.
    #[error("the discovery document at {url} has no `jwks_uri`")]
    MissingJwksUri {
        /// The discovery document's URL.
        url: String,
    },
    /// The token's `kid` is not among the JWKS's usable keys.
    #[error("the JWKS has no key with id `{kid}` (available: {})", list(available))]
    KeyNotFound {
        /// The header's `kid`, shortened.
        kid: String,
        /// The ids of the JWKS's usable RSA keys.
        available: Vec<String>,
    },
    /// The token's `kid` names a key the JWKS has but that cannot verify RS256.
    #[error("the JWKS key `{kid}` cannot verify RS256: {reason}")]
    UnusableKey {
        /// The key id.
        kid: String,
        /// Why it was set aside.
        reason: String,
    },
    /// The header has no `kid` and the JWKS has more RSA keys than are tried for such a token.
    #[error("the token's header has no `kid` and the JWKS has {keys} RSA keys, more than the {tried} tried for a token that names none")]
    AmbiguousKey {
        /// How many usable RSA keys the JWKS has.
        keys: usize,
        /// How many are tried at most.
        tried: usize,
    },
    /// The header has no `kid` and the signature verifies with none of the keys tried.
    #[error("the token's header has no `kid`, and its signature verifies with none of the JWKS's {keys} RSA keys")]
    NoKeyVerifies {
        /// How many keys were tried.
        keys: usize,
    },
    /// The signature does not verify with the selected key.
    #[error("the token's signature does not verify with key `{kid}`")]
    BadSignature {
        /// The key used.
        kid: String,
    },
    /// `exp` is in the past, beyond the leeway.
    #[error("the token expired {} ago", human(*ago))]
    Expired {
        /// The `exp` claim.
        exp: i64,
        /// How long ago it expired.
        ago: Duration,
    },
    /// `nbf` or `iat` is in the future, beyond the leeway.
    #[error("the token is not yet valid ({claim}): it is {} ahead of this machine's clock", human(*ahead))]
    NotYetValid {
        /// `"nbf"` or `"iat"`.
        claim: &'static str,
        /// The claim's value.
        at: i64,
        /// How far in the future it is.
        ahead: Duration,
    },
    /// `iss` is not the expected issuer (compared exactly, as the clouds do).
    #[error("wrong issuer: expected `{expected}`, the token has `{actual}`")]
    WrongIssuer {
        /// The expected issuer.
        expected: String,
        /// The token's `iss`, shortened; empty when it is not a string.
        actual: String,
    },
    /// None of the token's audiences is expected.
    #[error(
        "wrong audience: expected {}, the token has {}",
        list(expected),
        list(actual)
    )]
    WrongAudience {
        /// The accepted audiences.
        expected: Vec<String>,
        /// The token's `aud` values, shortened.
        actual: Vec<String>,
    },
    /// A claim the check needs is absent or not of the right type.
    #[error("the token has no valid `{claim}` claim")]
    MissingClaim {
        /// The claim's name.
        claim: String,
    },
    /// The JWT library could not process the token although it decoded as a JWT.
    #[error("the token could not be checked: {reason}")]
    Undecodable {
        /// What it could not process; never the content.
        reason: String,
    },
    /// No HTTP client could be built for the key discovery (the TLS back end did not start).
    #[error("no HTTP client for the key discovery could be built: {reason}")]
    Client {
        /// What the HTTP library said.
        reason: String,
    },
}

impl VerifyError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            VerifyError::Malformed(e) => e.hint(),
            VerifyError::UnsupportedAlgorithm { .. } => {
                "GitHub signs its tokens with RS256, and AWS, Entra ID and GCP accept nothing else from it: an unsigned token (`alg: none`) or an HMAC one (HS256, the key-confusion attack that uses the public key as a secret) was not issued by GitHub"
            }
            VerifyError::UntrustedIssuer { .. } => {
                "keys are taken only from a trusted issuer: GitHub's own (https://token.actions.githubusercontent.com, with or without an enterprise slug, and https://token.actions.<subdomain>.ghe.com) unless one is named; anyone can run an OpenID provider whose tokens name any repository. If you do mean to trust this issuer (GitHub Enterprise Server: https://HOST/_services/token), name it exactly"
            }
            VerifyError::NoIssuer | VerifyError::MissingClaim { .. } => {
                "GitHub's tokens always carry iss, aud, exp, iat and nbf; this token was not issued by GitHub Actions, or was cut short when copied"
            }
            VerifyError::InvalidIssuerUrl { .. } | VerifyError::InsecureUrl { .. } => {
                "GitHub's issuers are https URLs: https://token.actions.githubusercontent.com (optionally /<enterprise-slug>), https://token.actions.<subdomain>.ghe.com, or https://HOST/_services/token on GitHub Enterprise Server"
            }
            VerifyError::Unreachable { status: Some(404), .. } => {
                "the issuer does not publish this document: check the issuer URL; GitHub Enterprise Server needs 3.5 or later with Actions OIDC enabled"
            }
            VerifyError::Unreachable { .. } => {
                "the cloud fetches these documents too, from its own network: if they are unreachable from there (a GitHub Enterprise Server behind a firewall), AWS answers `Couldn't retrieve verification key from your identity provider`; if the failure is transient, re-run (the action: raise its `timeout` input)"
            }
            VerifyError::InvalidDocument { .. } | VerifyError::MissingJwksUri { .. } => {
                "the issuer did not answer like an OpenID provider: check the issuer URL, and that no proxy rewrites the response"
            }
            VerifyError::KeyNotFound { .. } => {
                "the token was not signed by a key this issuer publishes now: it comes from another issuer, or the JWKS is stale (GitHub rotates its keys; fetch it again from the issuer's jwks_uri)"
            }
            VerifyError::UnusableKey { .. } | VerifyError::AmbiguousKey { .. } => {
                "GitHub's JWKS holds RSA keys of 2048 bits or more, each named by the token's `kid`; check that the JWKS is the issuer's"
            }
            VerifyError::BadSignature { .. } | VerifyError::NoKeyVerifies { .. } => {
                "the token was changed after it was issued, or signed by another key with the same id: use the token exactly as the token endpoint returned it"
            }
            VerifyError::Expired { .. } => {
                "request the token right before the step that uses it: its lifetime is exp - iat, and a long job or a retry loop can outlast it (Entra ID: AADSTS700024)"
            }
            VerifyError::NotYetValid { .. } => {
                "this machine's clock is behind GitHub's: synchronise it (NTP); the clouds allow only a few minutes of clock skew"
            }
            VerifyError::WrongIssuer { .. } => {
                "the cloud's identity provider must name the token's issuer exactly: no trailing `/`, and the enterprise slug if the enterprise uses one (Entra ID: AADSTS700211)"
            }
            VerifyError::WrongAudience { .. } => {
                "request the token with the audience the cloud expects (the action's `audience` input; `check --audience` names the one you expect): AWS `sts.amazonaws.com`, Azure `api://AzureADTokenExchange`, GCP the workload identity provider's full resource URL"
            }
            VerifyError::Undecodable { .. } => {
                "pass the token exactly as the token endpoint returned it (the `value` field)"
            }
            VerifyError::Client { .. } => {
                "the system's TLS set-up could not be used; pass an HTTP client of your own with `Verifier::with_client`"
            }
        };
        Some(hint.to_owned())
    }

    /// What this failure says about the signature, for the `signature` output: claim checks
    /// run only after the signature verified, so a failed claim check means a valid signature.
    /// Every other failure is `Invalid`, those that stopped the check before the signature
    /// could be tried included: the check was asked for and did not show the signature valid.
    /// `Skipped` is never the result of a check.
    pub fn signature_status(&self) -> SignatureStatus {
        match self {
            VerifyError::Expired { .. }
            | VerifyError::NotYetValid { .. }
            | VerifyError::WrongIssuer { .. }
            | VerifyError::WrongAudience { .. }
            | VerifyError::MissingClaim { .. } => SignatureStatus::Valid,
            VerifyError::Malformed(_)
            | VerifyError::UnsupportedAlgorithm { .. }
            | VerifyError::KeyNotFound { .. }
            | VerifyError::BadSignature { .. }
            | VerifyError::NoKeyVerifies { .. }
            | VerifyError::Undecodable { .. }
            | VerifyError::NoIssuer
            | VerifyError::UntrustedIssuer { .. }
            | VerifyError::InvalidIssuerUrl { .. }
            | VerifyError::InsecureUrl { .. }
            | VerifyError::Unreachable { .. }
            | VerifyError::InvalidDocument { .. }
            | VerifyError::MissingJwksUri { .. }
            | VerifyError::UnusableKey { .. }
            | VerifyError::AmbiguousKey { .. }
            | VerifyError::Client { .. } => SignatureStatus::Invalid,
        }
    }

    /// True when the signature itself was checked and failed; false when the check stopped
    /// before (an untrusted issuer, keys that could not be had) or after it (a claim).
    pub fn signature_checked(&self) -> bool {
        matches!(
            self,
            VerifyError::Malformed(_)
                | VerifyError::UnsupportedAlgorithm { .. }
                | VerifyError::KeyNotFound { .. }
                | VerifyError::BadSignature { .. }
                | VerifyError::NoKeyVerifies { .. }
                | VerifyError::Undecodable { .. }
        )
    }
}

/// Untrusted text (a header or claim value, a URL from a document) as shown in a message: on
/// one line, and short enough that a hostile value cannot flood the log.
pub(crate) fn shown(text: &str) -> String {
    const MAX: usize = 200;
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX)
        .collect();
    if text.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn human(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_lowercase_and_specific() {
        let cases = [
            (
                VerifyError::Expired {
                    exp: 0,
                    ago: Duration::from_secs(303),
                },
                "the token expired 5m 3s ago",
            ),
            (
                VerifyError::NotYetValid {
                    claim: "iat",
                    at: 0,
                    ahead: Duration::from_secs(120),
                },
                "the token is not yet valid (iat): it is 2m ahead of this machine's clock",
            ),
            (
                VerifyError::KeyNotFound {
                    kid: "k9".into(),
                    available: vec!["k1".into(), "k2".into()],
                },
                "the JWKS has no key with id `k9` (available: `k1`, `k2`)",
            ),
            (
                VerifyError::WrongAudience {
                    expected: vec!["sts.amazonaws.com".into()],
                    actual: vec![],
                },
                "wrong audience: expected `sts.amazonaws.com`, the token has none",
            ),
            (
                VerifyError::InvalidDocument {
                    document: Document::Jwks,
                    url: None,
                    reason: "not JSON".into(),
                },
                "the JWKS is not valid: not JSON",
            ),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want);
            assert!(err.hint().is_some());
        }
    }

    #[test]
    fn shown_is_one_short_line() {
        assert_eq!(shown("a\nb"), "a b");
        let long = "x".repeat(500);
        assert_eq!(shown(&long).chars().count(), 201);
        assert_eq!(shown("RS256"), "RS256");
    }
}
