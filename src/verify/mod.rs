//! Verifying the token the way AWS STS, Entra ID and GCP STS do: an RS256 signature by a key
//! the issuer publishes, then issuer, audience and the time claims.
//!
//! The cryptography is jsonwebtoken's (ring underneath). Around it: only RS256 is accepted,
//! before any key is looked at, so neither `alg: none` nor an HMAC token "signed" with the
//! public key (key confusion) gets near a verifier; the token's `iss` must be one the caller
//! trusts ([`TrustedIssuers`]: GitHub's own by default, any other only when named), checked
//! before any request, so a token cannot choose the URL fetched; keys come from that issuer's
//! discovery document or from a JWKS the caller gives, never from the token's own header
//! (`jku`, `jwk`, `x5u` are ignored); and `iat` in the future is rejected too, which
//! jsonwebtoken does not check but the clouds do.
//!
//! Claim checks run only after the signature verified, so a claim error also says that the
//! signature is valid (see [`VerifyError::signature_status`]).

mod discovery;
mod error;
mod issuers;
mod jwks;

use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::Value;

use crate::claims::{self, Claims, DecodedToken};
use crate::request::RetryPolicy;
use crate::secret::Secret;
use crate::times::{self, TimeFact};

pub use discovery::{discover_jwks, discover_jwks_traced};
pub use error::{Document, VerifyError};
pub use issuers::{is_github_issuer, TrustedIssuers};
pub use jwks::Jwks;

use error::shown;

const MAX_LEEWAY_SECS: u64 = 24 * 60 * 60;

/// What to check besides the signature, and where the keys come from.
///
/// There is no default: every verification says which issuers it trusts
/// ([`VerifyOptions::new`]), so no code path takes keys from whatever `iss` a token names.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The issuers whose keys are used; the token's `iss` must be one of them (exactly: a
    /// trailing `/` counts, as it does for the clouds). Checked before any key is fetched.
    pub issuers: TrustedIssuers,
    /// The audiences accepted: the token's `aud` (a string or an array) must contain one of
    /// them. `None` checks no audience; an empty list accepts none.
    pub expected_audience: Option<Vec<String>>,
    /// Clock skew allowed for `exp`, `nbf` and `iat`. Default 60 s, at most one day.
    pub leeway: Duration,
    /// Where the signing keys come from.
    pub keys: KeySource,
    /// The current time in seconds since the epoch, for tests; `None` uses the system clock.
    pub now: Option<i64>,
    /// Retries and the overall deadline for fetching the discovery document and the JWKS.
    pub retry: RetryPolicy,
}

impl VerifyOptions {
    /// Options that trust `issuers` and discover their keys: no audience check, 60 s leeway,
    /// the system clock and the default retry policy.
    pub fn new(issuers: TrustedIssuers) -> Self {
        Self {
            issuers,
            expected_audience: None,
            leeway: Duration::from_secs(60),
            keys: KeySource::Discover,
            now: None,
            retry: RetryPolicy::default(),
        }
    }
}

/// Where the signing keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// From the discovery document of the trusted issuer ([`TrustedIssuers::accept`]).
    Discover,
    /// From a JWKS the caller has, for example one saved to a file; no network. The token's
    /// `iss` must still be trusted.
    Jwks(Jwks),
}

/// A token that verified.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The token's claims, now backed by the signature.
    pub claims: Claims,
    /// The id of the key that verified the signature (empty when neither the token nor the
    /// key named one).
    pub kid: String,
    /// The token's `iss`.
    pub issuer: String,
    /// Things worth knowing that did not fail verification: a trailing `/` on `iss`, a
    /// discovery fallback or retry, a JWKS on another host.
    pub notes: Vec<String>,
}

/// The signature's state, as the `signature` action output reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureStatus {
    /// Verified with a key of a trusted issuer.
    Valid,
    /// Not shown to be valid: it does not verify, cannot be valid (unsupported algorithm,
    /// unknown key, not a JWT), or could not be checked although that was asked for (an
    /// untrusted issuer, keys that could not be fetched, no way to choose the key).
    Invalid,
    /// Not checked because verification was not requested; never the result of a check.
    Skipped,
}

impl SignatureStatus {
    /// `"valid"`, `"invalid"` or `"skipped"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureStatus::Valid => "valid",
            SignatureStatus::Invalid => "invalid",
            SignatureStatus::Skipped => "skipped",
        }
    }

    /// The status a verification result implies.
    pub fn of(result: &Result<Verified, VerifyError>) -> Self {
        match result {
            Ok(_) => SignatureStatus::Valid,
            Err(e) => e.signature_status(),
        }
    }
}

impl std::fmt::Display for SignatureStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Verifies tokens, reusing one HTTP client (and its connections) for every discovery and
/// key fetch: what a service that receives GitHub Actions tokens keeps for its lifetime.
///
/// ```
/// use oidc_preflight::{Secret, TrustedIssuers, Verifier, VerifyError, VerifyOptions};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let verifier = Verifier::new()?; // or Verifier::with_client(your_reqwest_client)
/// let options = VerifyOptions::new(TrustedIssuers::github());
/// // A token naming an issuer nobody trusts is refused before any request is made.
/// let forged = Secret::new(
///     "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL2F0dGFja2VyLmV4YW1wbGUiLCJzdWIiOiJyZXBvOm9jdG8vYXBwOnJlZjpyZWZzL2hlYWRzL21haW4ifQ.c2ln",
/// );
/// let result = verifier.verify(&forged, &options).await;
/// assert!(matches!(result, Err(VerifyError::UntrustedIssuer { .. })));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Verifier {
    client: reqwest::Client,
}

impl Verifier {
    /// A verifier with oidc-preflight's HTTP client: rustls with the system's roots, bounded
    /// redirects that never downgrade to plain http.
    pub fn new() -> Result<Self, VerifyError> {
        let client = crate::request::http_client().map_err(|e| VerifyError::Client {
            reason: e.to_string(),
        })?;
        Ok(Self { client })
    }

    /// A verifier with the caller's HTTP client (its proxy, roots, timeouts).
    pub fn with_client(client: reqwest::Client) -> Self {
        Self { client }
    }

    /// [`verify`] with this verifier's client.
    pub async fn verify(
        &self,
        token: &Secret,
        options: &VerifyOptions,
    ) -> Result<Verified, VerifyError> {
        verify(&self.client, token, options).await
    }
}

/// Verifies the token as a receiving service does: its `iss` must be trusted by
/// [`VerifyOptions::issuers`] (checked before any request), then keys from
/// [`VerifyOptions::keys`] (the trusted issuer's discovery document and JWKS for
/// [`KeySource::Discover`]), then signature, issuer, audience, `exp`, `nbf` and `iat`.
///
/// A service that accepts GitHub Actions tokens, with the keys it has (here a JWKS from a
/// string; `KeySource::Discover` fetches them from the trusted issuer instead):
///
/// ```
/// use oidc_preflight::request::http_client;
/// use oidc_preflight::verify::{verify, Jwks, KeySource, TrustedIssuers, VerifyError, VerifyOptions};
/// use oidc_preflight::Secret;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let jwks = Jwks::from_json(r#"{"keys":[{"kty":"RSA","kid":"k1","use":"sig","alg":"RS256",
///     "n":"ka57iYjEypWPJ9mPRSfImPeTQCSTyyZM9boBNaO2j-Ksx1dutDuYeus4meFCkJ7hHRYmgQkm_zA_WzJQUcedLz2VaJaWFX1KLP890uSwLaABaYbzI_0EEu6aQoUPNJzt84YXxbjKn0rWJVZXJerPfJHyHiysAZrLxliv0MeVoY7xoIeKVcPdBJ259cQF2i80bChOdJwYaAle-zZvspAyG5OJ6qMonpba5IG40l8yYC7sIt5Li2B6kMS42PJE4ZTDmF58tWSeGQfJDHJkkg9uY_-JfvM3VQrZuHG9B7mkDVkQq5vp7IUdBjTSF_oV7gpV6vv2fMTvX4nGn8i5NCoXxw",
///     "e":"AQAB"}]}"#)?;
/// let mut options = VerifyOptions::new(TrustedIssuers::github());
/// options.expected_audience = Some(vec!["sts.amazonaws.com".to_owned()]);
/// options.keys = KeySource::Jwks(jwks);
/// // GitHub Enterprise Server, or any other issuer, only when named:
/// // VerifyOptions::new(TrustedIssuers::named("https://ghes.example.com/_services/token")?)
///
/// // A token whose `iss` no one trusts is refused before any key is looked at.
/// let forged = Secret::new(
///     "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL2F0dGFja2VyLmV4YW1wbGUiLCJzdWIiOiJyZXBvOm9jdG8vYXBwOnJlZjpyZWZzL2hlYWRzL21haW4ifQ.c2ln",
/// );
/// let result = verify(&http_client()?, &forged, &options).await;
/// assert!(matches!(result, Err(VerifyError::UntrustedIssuer { .. })));
/// # Ok(())
/// # }
/// ```
///
/// With the keys fetched from the trusted issuer (its discovery document, then its JWKS),
/// here a GitHub Enterprise Server the service was configured with:
///
/// ```no_run
/// use oidc_preflight::request::http_client;
/// use oidc_preflight::verify::{verify, SignatureStatus, TrustedIssuers, VerifyOptions};
/// use oidc_preflight::Secret;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let issuers = TrustedIssuers::named("https://ghes.example.com/_services/token")?;
/// let options = VerifyOptions {
///     expected_audience: Some(vec!["sts.amazonaws.com".to_owned()]),
///     ..VerifyOptions::new(issuers)
/// };
/// let token = Secret::new(std::env::var("OIDC_TOKEN")?);
/// let result = verify(&http_client()?, &token, &options).await;
/// println!("signature: {}", SignatureStatus::of(&result));
/// match result {
///     Ok(verified) => println!("signed by key {} of {}", verified.kid, verified.issuer),
///     Err(err) => eprintln!("error: {err}\nhelp: {}", err.hint().unwrap_or_default()),
/// }
/// # Ok(())
/// # }
/// ```
pub async fn verify(
    client: &reqwest::Client,
    token: &Secret,
    options: &VerifyOptions,
) -> Result<Verified, VerifyError> {
    verify_traced(client, token, options, &mut |_| {}).await
}

/// [`verify`], telling `trace` what it does (for `::debug::` lines): the header's `alg` and
/// `kid`, every request of the key discovery with its timing, and the keys found. The lines
/// hold URLs, key ids and statuses, never the token; `kid` is untrusted text from the token,
/// shortened to one line, and the caller escapes the lines for where it writes them.
pub async fn verify_traced(
    client: &reqwest::Client,
    token: &Secret,
    options: &VerifyOptions,
    trace: &mut dyn FnMut(String),
) -> Result<Verified, VerifyError> {
    let decoded = claims::decode(token.reveal())?;
    verify_decoded_traced(client, token, &decoded, options, trace).await
}

/// [`verify_traced`] for a token the caller has decoded already (the action and `check`
/// decode it once, for the analysis and for this).
pub(crate) async fn verify_decoded_traced(
    client: &reqwest::Client,
    token: &Secret,
    decoded: &DecodedToken,
    options: &VerifyOptions,
    trace: &mut dyn FnMut(String),
) -> Result<Verified, VerifyError> {
    // Reject what no key could verify, and any issuer no one trusts, before touching the
    // network: the URL fetched must never be one the token's sender chose.
    let kid = precheck(token, decoded)?;
    trace(format!(
        "token header: alg `{}`, kid `{}`",
        decoded
            .header
            .get("alg")
            .and_then(Value::as_str)
            .map(shown)
            .unwrap_or_default(),
        kid.as_deref()
            .map(shown)
            .unwrap_or_else(|| "(none)".to_owned())
    ));
    let issuer = options.issuers.accept(decoded.claims.str("iss"))?;
    let jwks = match &options.keys {
        KeySource::Jwks(jwks) => {
            return verify_with_keys(token, decoded, kid, &issuer, jwks, options)
        }
        KeySource::Discover => {
            trace(format!(
                "discovering the signing keys of `{}` (deadline {:.1} s)",
                shown(&issuer),
                options.retry.deadline.as_secs_f64()
            ));
            discover_jwks_traced(client, &issuer, &options.retry, trace).await?
        }
    };
    let mut verified = verify_with_keys(token, decoded, kid, &issuer, &jwks, options)?;
    let mut notes = jwks.notes().to_vec();
    notes.append(&mut verified.notes);
    verified.notes = notes;
    Ok(verified)
}

/// Verifies the token with the keys given, without network: the issuer against
/// [`VerifyOptions::issuers`], then signature, issuer, audience, `exp`, `nbf` and `iat`.
/// [`VerifyOptions::keys`] is ignored.
pub fn verify_with_jwks(
    token: &Secret,
    jwks: &Jwks,
    options: &VerifyOptions,
) -> Result<Verified, VerifyError> {
    let decoded = claims::decode(token.reveal())?;
    verify_decoded_with_jwks(token, &decoded, jwks, options)
}

/// [`verify_with_jwks`] for a token the caller has decoded already.
pub(crate) fn verify_decoded_with_jwks(
    token: &Secret,
    decoded: &DecodedToken,
    jwks: &Jwks,
    options: &VerifyOptions,
) -> Result<Verified, VerifyError> {
    let kid = precheck(token, decoded)?;
    let trusted = options.issuers.accept(decoded.claims.str("iss"))?;
    verify_with_keys(token, decoded, kid, &trusted, jwks, options)
}

/// The signature and the claims, once the precheck has passed and the issuer is trusted.
fn verify_with_keys(
    token: &Secret,
    decoded: &DecodedToken,
    kid: Option<String>,
    trusted: &str,
    jwks: &Jwks,
    options: &VerifyOptions,
) -> Result<Verified, VerifyError> {
    let candidates = jwks.candidates(kid.as_deref())?;
    let now = options.now.unwrap_or_else(times::system_now);
    // Capped so that jsonwebtoken's unsigned `now - leeway` cannot underflow; a day of clock
    // skew is far beyond what any cloud accepts anyway.
    let leeway_secs = options.leeway.as_secs().min(MAX_LEEWAY_SECS);
    let leeway = i64::try_from(leeway_secs).unwrap_or(0);

    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = leeway_secs;
    // jsonwebtoken reads the system clock; with a given `now` the time checks below are the
    // only ones, with the system clock they run twice and agree.
    validation.validate_exp = options.now.is_none();
    validation.validate_nbf = options.now.is_none();
    let mut required = vec!["exp", "iss"];
    // Always the trusted issuer, exactly: a named one pins `iss`.
    validation.set_issuer(&[&trusted]);
    match &options.expected_audience {
        Some(audiences) => {
            validation.set_audience(audiences);
            required.push("aud");
        }
        // Otherwise jsonwebtoken rejects every token that has an `aud`.
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&required);

    // A token without `kid` is tried against each key (a handful at most, see
    // `Jwks::candidates`); the claims are checked only with the key that verified.
    let tried = candidates.len();
    let mut chosen = None;
    for key in candidates {
        let kid = key.kid.clone().or(kid.clone()).unwrap_or_default();
        match jsonwebtoken::decode::<Value>(token.reveal().trim(), &key.decoding_key(), &validation)
        {
            Err(err) if kid_less_miss(&err, tried) => continue,
            Err(err) => {
                return Err(library_error(
                    err.into_kind(),
                    &decoded.claims,
                    &kid,
                    trusted,
                    options,
                    now,
                ))
            }
            Ok(_) => {
                chosen = Some(kid);
                break;
            }
        }
    }
    let Some(kid) = chosen else {
        return Err(VerifyError::NoKeyVerifies { keys: tried });
    };
    check_times(&decoded.claims, now, leeway)?;

    let issuer = decoded.claims.str("iss").unwrap_or_default().to_owned();
    let mut notes = Vec::new();
    if issuer.len() > 1 && issuer.ends_with('/') {
        notes.push(format!(
            "the token's iss `{}` ends with `/`: AWS, Entra ID and GCP compare issuers exactly, so the identity provider must be configured with the `/`",
            shown(&issuer)
        ));
    }
    Ok(Verified {
        claims: decoded.claims.clone(),
        kid,
        issuer,
        notes,
    })
}

/// A bad signature while trying the keys for a token that names none: the next key may be
/// the one. With one candidate the error is reported as it is.
fn kid_less_miss(err: &jsonwebtoken::errors::Error, tried: usize) -> bool {
    tried > 1 && matches!(err.kind(), ErrorKind::InvalidSignature)
}

/// Accepts only RS256, before any key is chosen; returns the `kid`.
fn precheck(token: &Secret, decoded: &DecodedToken) -> Result<Option<String>, VerifyError> {
    let header = &decoded.header;
    match header.get("alg") {
        Some(Value::String(alg)) if alg == "RS256" => {}
        Some(Value::String(alg)) => {
            return Err(VerifyError::UnsupportedAlgorithm { alg: shown(alg) })
        }
        Some(_) | None => {
            return Err(VerifyError::UnsupportedAlgorithm {
                alg: "(missing)".to_owned(),
            })
        }
    }
    // RFC 7515 4.1.11: a verifier must reject extensions it does not understand; we know none.
    if header.contains_key("crit") {
        return Err(VerifyError::Undecodable {
            reason: "the header lists critical extensions (`crit`), which are not supported"
                .to_owned(),
        });
    }
    // Nothing can verify an empty signature; say so before any key or request.
    if token.reveal().trim().ends_with('.') {
        return Err(VerifyError::Undecodable {
            reason: "the signature part is empty".to_owned(),
        });
    }
    let kid = match header.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => {
            return Err(VerifyError::Undecodable {
                reason: "the header's `kid` is not a string".to_owned(),
            })
        }
    };
    Ok(kid)
}

/// jsonwebtoken's verdict in our terms, with the details it does not give.
fn library_error(
    kind: ErrorKind,
    claims: &Claims,
    kid: &str,
    trusted: &str,
    options: &VerifyOptions,
    now: i64,
) -> VerifyError {
    match kind {
        ErrorKind::InvalidSignature => VerifyError::BadSignature { kid: shown(kid) },
        ErrorKind::ExpiredSignature => {
            let exp = claims.timestamp("exp").unwrap_or_default();
            VerifyError::Expired {
                exp,
                ago: seconds(now.saturating_sub(exp)),
            }
        }
        ErrorKind::ImmatureSignature => {
            let nbf = claims.timestamp("nbf").unwrap_or_default();
            VerifyError::NotYetValid {
                claim: "nbf",
                at: nbf,
                ahead: seconds(nbf.saturating_sub(now)),
            }
        }
        ErrorKind::InvalidIssuer => VerifyError::WrongIssuer {
            expected: shown(trusted),
            actual: claims.str("iss").map(shown).unwrap_or_default(),
        },
        ErrorKind::InvalidAudience => VerifyError::WrongAudience {
            expected: options.expected_audience.clone().unwrap_or_default(),
            actual: audiences(claims),
        },
        ErrorKind::MissingRequiredClaim(claim) => VerifyError::MissingClaim { claim },
        // The rest describe the encoding; their messages could quote bytes of the token, so
        // they are named, not shown.
        ErrorKind::Base64(_) => undecodable("a part is not unpadded base64url"),
        // serde's message would quote the offending value; the likely causes are named.
        ErrorKind::Json(_) | ErrorKind::Utf8(_) => undecodable(
            "the header or claims do not have the types RFC 7519 requires (a registered claim such as exp, nbf, iss, sub or aud of the wrong type, or a claim name that appears twice)",
        ),
        ErrorKind::InvalidToken => undecodable("it is not three dot-separated parts"),
        ErrorKind::Crypto(_) | ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidKeyFormat => {
            VerifyError::UnusableKey {
                kid: shown(kid),
                reason: "the RSA key was rejected by the crypto library".to_owned(),
            }
        }
        _ => undecodable("the JWT library rejected it"),
    }
}

fn undecodable(reason: &str) -> VerifyError {
    VerifyError::Undecodable {
        reason: reason.to_owned(),
    }
}

/// `exp`, `nbf` and `iat` against `now` with the leeway, by the rules of [`crate::times`]
/// (the analysis explains the same facts): the first that refuses the token is the error.
fn check_times(claims: &Claims, now: i64, leeway: i64) -> Result<(), VerifyError> {
    let refusal = times::facts(claims, now)
        .into_iter()
        .find(|f| f.refuses(leeway));
    match refusal {
        None => Ok(()),
        Some(TimeFact::NotANumber { claim }) => Err(VerifyError::MissingClaim {
            claim: claim.to_owned(),
        }),
        Some(TimeFact::Expired { exp, ago }) => Err(VerifyError::Expired {
            exp,
            ago: seconds(ago),
        }),
        Some(TimeFact::InFuture { claim, at, ahead }) => Err(VerifyError::NotYetValid {
            claim,
            at,
            ahead: seconds(ahead),
        }),
        // Never refusing (TimeFact::refuses): warnings for the analysis only.
        Some(TimeFact::ExpiresSoon { .. } | TimeFact::IssuedEarlier { .. }) => Ok(()),
    }
}

fn audiences(claims: &Claims) -> Vec<String> {
    claims
        .values("aud")
        .unwrap_or_default()
        .iter()
        .map(|aud| shown(aud))
        .collect()
}

fn seconds(secs: i64) -> Duration {
    Duration::from_secs(u64::try_from(secs).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decode and precheck, as verification does.
    fn pre(token: &Secret) -> Result<Option<String>, VerifyError> {
        let decoded = claims::decode(token.reveal())?;
        precheck(token, &decoded)
    }
    use crate::claims::base64url;
    use serde_json::json;

    fn unsigned(header: &str, claims: &str) -> Secret {
        Secret::new(format!(
            "{}.{}.c2lnbmF0dXJl",
            base64url(header.as_bytes()),
            base64url(claims.as_bytes())
        ))
    }

    fn claims(value: Value) -> Claims {
        match value {
            Value::Object(map) => Claims(map),
            _ => unreachable!("test claims are objects"),
        }
    }

    #[test]
    fn only_rs256_passes_the_precheck() {
        for (header, want) in [
            (r#"{"alg":"none"}"#, "none"),
            (r#"{"alg":"HS256","kid":"k"}"#, "HS256"),
            (r#"{"alg":"RS512"}"#, "RS512"),
            (r#"{"alg":"rs256"}"#, "rs256"),
            (r#"{"typ":"JWT"}"#, "(missing)"),
            (r#"{"alg":7}"#, "(missing)"),
        ] {
            match pre(&unsigned(header, "{}")) {
                Err(VerifyError::UnsupportedAlgorithm { alg }) => assert_eq!(alg, want),
                other => panic!("{header}: {other:?}"),
            }
        }
        let kid = pre(&unsigned(r#"{"alg":"RS256","kid":"k1"}"#, "{}")).unwrap();
        assert_eq!(kid.as_deref(), Some("k1"));
        assert!(matches!(
            pre(&unsigned(r#"{"alg":"RS256","kid":1}"#, "{}")),
            Err(VerifyError::Undecodable { .. })
        ));
        assert!(matches!(
            pre(&unsigned(r#"{"alg":"RS256","crit":["exp"]}"#, "{}")),
            Err(VerifyError::Undecodable { .. })
        ));
        assert!(matches!(
            pre(&Secret::new("not-a-jwt")),
            Err(VerifyError::Malformed(_))
        ));
    }

    #[test]
    fn time_claims_with_leeway() {
        let now = 1_700_000_000;
        let ok = claims(json!({"exp": now + 300, "nbf": now - 5, "iat": now + 30}));
        assert!(check_times(&ok, now, 60).is_ok());
        let edge = claims(json!({"exp": now - 60, "iat": now + 60}));
        assert!(check_times(&edge, now, 60).is_ok());

        match check_times(&claims(json!({"exp": now - 61})), now, 60) {
            Err(VerifyError::Expired { ago, .. }) => assert_eq!(ago, Duration::from_secs(61)),
            other => panic!("{other:?}"),
        }
        match check_times(
            &claims(json!({"exp": now + 300, "iat": now + 600})),
            now,
            60,
        ) {
            Err(VerifyError::NotYetValid {
                claim: "iat",
                ahead,
                ..
            }) => assert_eq!(ahead, Duration::from_secs(600)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            check_times(&claims(json!({"nbf": now + 61})), now, 60),
            Err(VerifyError::NotYetValid { claim: "nbf", .. })
        ));
        assert!(matches!(
            check_times(&claims(json!({"iat": "yesterday"})), now, 60),
            Err(VerifyError::MissingClaim { claim }) if claim == "iat"
        ));
        // Hostile extremes must not overflow.
        assert!(check_times(&claims(json!({"exp": i64::MAX, "iat": i64::MIN})), now, 60).is_ok());
        assert!(matches!(
            check_times(&claims(json!({"exp": i64::MIN})), now, i64::MAX),
            Err(VerifyError::Expired { .. })
        ));
    }

    #[test]
    fn audiences_from_string_or_array() {
        assert_eq!(audiences(&claims(json!({"aud": "a"}))), ["a"]);
        assert_eq!(audiences(&claims(json!({"aud": ["a", 1]}))), ["a", "1"]);
        assert!(audiences(&claims(json!({}))).is_empty());
    }

    #[test]
    fn signature_status_strings() {
        assert_eq!(SignatureStatus::Valid.as_str(), "valid");
        assert_eq!(SignatureStatus::Invalid.to_string(), "invalid");
        assert_eq!(SignatureStatus::Skipped.as_str(), "skipped");
        let expired = VerifyError::Expired {
            exp: 0,
            ago: Duration::ZERO,
        };
        assert_eq!(SignatureStatus::of(&Err(expired)), SignatureStatus::Valid);
        // A check that was asked for and could not run is not "skipped".
        assert_eq!(
            SignatureStatus::of(&Err(VerifyError::NoIssuer)),
            SignatureStatus::Invalid
        );
    }
}
