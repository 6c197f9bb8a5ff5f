//! Verification end to end: tokens signed here by a key generated here, keys served on
//! loopback by wiremock the way GitHub serves discovery and JWKS.
// Tests and examples may unwrap and print (Cargo.toml's [lints] are for library code).
#![allow(
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use oidc_preflight::claims::base64url;
use oidc_preflight::request::{http_client, RetryPolicy};
use oidc_preflight::verify::{
    discover_jwks, verify, verify_with_jwks, Document, Jwks, KeySource, SignatureStatus,
    TrustedIssuers, Verified, VerifyError, VerifyOptions,
};
use oidc_preflight::Secret;
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ISSUER: &str = "https://token.actions.githubusercontent.com";
const AUDIENCE: &str = "sts.amazonaws.com";
const KID: &str = "k1";

struct TestKey {
    private_der: Vec<u8>,
    public_der: Vec<u8>,
    n: String,
    e: String,
}

/// One 2048-bit key per test binary: generating it is the slow part.
fn key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        let public = private.to_public_key();
        TestKey {
            private_der: private.to_pkcs1_der().unwrap().as_bytes().to_vec(),
            public_der: public.to_pkcs1_der().unwrap().as_bytes().to_vec(),
            n: base64url(&public.n().to_bytes_be()),
            e: base64url(&public.e().to_bytes_be()),
        }
    })
}

fn jwk(kid: Option<&str>) -> Value {
    let mut jwk = json!({"kty": "RSA", "use": "sig", "alg": "RS256", "n": key().n, "e": key().e});
    if let Some(kid) = kid {
        jwk["kid"] = json!(kid);
    }
    jwk
}

fn jwks_json() -> String {
    json!({"keys": [jwk(Some(KID)), jwk(Some("k2-unused"))]}).to_string()
}

fn jwks() -> Jwks {
    Jwks::from_json(&jwks_json()).unwrap()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims(iss: &str) -> Value {
    let now = now();
    json!({
        "iss": iss,
        "aud": AUDIENCE,
        "sub": "repo:octo-org/octo-repo:ref:refs/heads/main",
        "iat": now - 5,
        "nbf": now - 5,
        "exp": now + 300,
    })
}

fn rs256(kid: Option<&str>) -> Header {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    header
}

fn sign(header: &Header, claims: &Value) -> String {
    let key = EncodingKey::from_rsa_der(&key().private_der);
    jsonwebtoken::encode(header, claims, &key).unwrap()
}

fn token_with(claims: &Value) -> String {
    sign(&rs256(Some(KID)), claims)
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        deadline: Duration::from_secs(3),
        max_attempts: 3,
        attempt_timeout: Duration::from_secs(1),
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(50),
        max_body: 64 * 1024,
    }
}

fn options(issuer: &str, keys: KeySource) -> VerifyOptions {
    with_issuers(TrustedIssuers::named(issuer).unwrap(), keys)
}

fn with_issuers(issuers: TrustedIssuers, keys: KeySource) -> VerifyOptions {
    VerifyOptions {
        expected_audience: Some(vec![AUDIENCE.to_owned()]),
        keys,
        retry: fast_retry(),
        ..VerifyOptions::new(issuers)
    }
}

fn offline() -> VerifyOptions {
    options(ISSUER, KeySource::Jwks(jwks()))
}

fn check(token: &str, options: &VerifyOptions) -> Result<Verified, VerifyError> {
    verify_with_jwks(&Secret::new(token), &jwks(), options)
}

/// The error, its Debug form and its hint hold neither the token nor any of its parts.
fn assert_secret_free(err: &VerifyError, token: &str) {
    let shown = format!("{err} | {err:?} | {}", err.hint().unwrap_or_default());
    assert!(!shown.contains(token), "{shown}");
    for part in token.split('.').filter(|p| p.len() > 8) {
        assert!(!shown.contains(part), "{shown}");
    }
}

/// The error a token fails with, checked to be free of the token.
fn failure(token: &str, options: &VerifyOptions) -> VerifyError {
    let err = check(token, options).expect_err("the token should fail verification");
    assert_secret_free(&err, token);
    err
}

/// Mounts discovery at `<prefix>/.well-known/openid-configuration`, with the JWKS at the
/// root host as GitHub has it.
async fn serve_issuer(server: &MockServer, prefix: &str) -> String {
    let issuer = format!("{}{prefix}", server.uri());
    Mock::given(method("GET"))
        .and(path(format!("{prefix}/.well-known/openid-configuration")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": issuer,
            "jwks_uri": format!("{}/.well-known/jwks", server.uri()),
            "id_token_signing_alg_values_supported": ["RS256"],
        })))
        .mount(server)
        .await;
    serve_jwks(server).await;
    issuer
}

async fn serve_jwks(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/.well-known/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_string(jwks_json()))
        .mount(server)
        .await;
}

#[test]
fn valid_token_verifies() {
    let token = token_with(&claims(ISSUER));
    let verified = check(&token, &offline()).unwrap();
    assert_eq!(verified.kid, KID);
    assert_eq!(verified.issuer, ISSUER);
    assert_eq!(
        verified.claims.subject(),
        Some("repo:octo-org/octo-repo:ref:refs/heads/main")
    );
    assert!(verified.notes.is_empty(), "{:?}", verified.notes);
    assert_eq!(SignatureStatus::of(&Ok(verified)), SignatureStatus::Valid);
}

#[test]
fn tampered_payload_is_a_bad_signature() {
    let token = token_with(&claims(ISSUER));
    let mut other = claims(ISSUER);
    other["sub"] = json!("repo:attacker/repo:ref:refs/heads/main");
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        base64url(other.to_string().as_bytes()),
        parts[2]
    );
    let err = failure(&forged, &offline());
    assert!(
        matches!(&err, VerifyError::BadSignature { kid } if kid == KID),
        "{err}"
    );
    assert_eq!(err.signature_status(), SignatureStatus::Invalid);
}

#[test]
fn tampered_signature_is_a_bad_signature() {
    let token = token_with(&claims(ISSUER));
    let (message, signature) = token.rsplit_once('.').unwrap();
    let mut sig: Vec<char> = signature.chars().collect();
    let middle = sig.len() / 2;
    sig[middle] = if sig[middle] == 'A' { 'B' } else { 'A' };
    let forged = format!("{message}.{}", sig.into_iter().collect::<String>());
    let err = failure(&forged, &offline());
    assert!(matches!(err, VerifyError::BadSignature { .. }), "{err}");
}

#[test]
fn expired_token_says_how_long_ago() {
    let mut c = claims(ISSUER);
    let exp = c["exp"].as_i64().unwrap();
    let token = token_with(&c);
    // With a given clock.
    let opts = VerifyOptions {
        now: Some(exp + 600),
        ..offline()
    };
    let err = failure(&token, &opts);
    assert!(
        matches!(&err, VerifyError::Expired { ago, .. } if *ago == Duration::from_secs(600)),
        "{err}"
    );
    assert_eq!(err.to_string(), "the token expired 10m ago");
    assert_eq!(err.signature_status(), SignatureStatus::Valid);
    // With the system clock, where jsonwebtoken checks too.
    c["iat"] = json!(now() - 1000);
    c["nbf"] = json!(now() - 1000);
    c["exp"] = json!(now() - 700);
    let err = failure(&token_with(&c), &offline());
    assert!(
        matches!(&err, VerifyError::Expired { ago, .. } if ago.as_secs() >= 700),
        "{err}"
    );
    // Within the leeway it is still accepted.
    c["exp"] = json!(now() - 30);
    assert!(check(&token_with(&c), &offline()).is_ok());
}

#[test]
fn not_yet_valid_nbf() {
    let mut c = claims(ISSUER);
    c["nbf"] = json!(now() + 600);
    let token = token_with(&c);
    let err = failure(&token, &offline());
    assert!(
        matches!(err, VerifyError::NotYetValid { claim: "nbf", .. }),
        "{err}"
    );
    let opts = VerifyOptions {
        now: Some(now()),
        ..offline()
    };
    let err = failure(&token, &opts);
    assert!(
        matches!(err, VerifyError::NotYetValid { claim: "nbf", .. }),
        "{err}"
    );
}

#[test]
fn iat_in_the_future_is_clock_skew() {
    let mut c = claims(ISSUER);
    c["iat"] = json!(now() + 600);
    let token = token_with(&c);
    let err = failure(&token, &offline());
    assert!(
        matches!(err, VerifyError::NotYetValid { claim: "iat", .. }),
        "{err}"
    );
    assert!(err
        .to_string()
        .starts_with("the token is not yet valid (iat)"));
    assert!(err.hint().unwrap().contains("clock"));
}

#[test]
fn unknown_kid_lists_the_available_keys() {
    let token = sign(&rs256(Some("rotated-away")), &claims(ISSUER));
    let err = failure(&token, &offline());
    match &err {
        VerifyError::KeyNotFound { kid, available } => {
            assert_eq!(kid, "rotated-away");
            assert_eq!(available, &[KID, "k2-unused"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("`k1`, `k2-unused`"), "{err}");
}

#[test]
fn no_kid_uses_the_single_key() {
    let token = sign(&rs256(None), &claims(ISSUER));
    let single = Jwks::from_json(&json!({"keys": [jwk(Some(KID))]}).to_string()).unwrap();
    let verified = verify_with_jwks(&Secret::new(&token), &single, &offline()).unwrap();
    assert_eq!(verified.kid, KID);
    // Neither names the key: verified, with an empty id.
    let anonymous = Jwks::from_json(&json!({"keys": [jwk(None)]}).to_string()).unwrap();
    let verified = verify_with_jwks(&Secret::new(&token), &anonymous, &offline()).unwrap();
    assert_eq!(verified.kid, "");
    // Several keys: each is tried, and the one that verifies is named.
    let decoy = json!({"kty": "RSA", "kid": "decoy", "n": decoy_modulus(), "e": "AQAB"});
    let two = Jwks::from_json(&json!({"keys": [decoy, jwk(Some(KID))]}).to_string()).unwrap();
    let verified = verify_with_jwks(&Secret::new(&token), &two, &offline()).unwrap();
    assert_eq!(verified.kid, KID);
    // None verifies: refused, as invalid.
    let decoys = Jwks::from_json(&json!({"keys": [decoy.clone(), decoy]}).to_string()).unwrap();
    let err = verify_with_jwks(&Secret::new(&token), &decoys, &offline()).unwrap_err();
    assert!(
        matches!(err, VerifyError::NoKeyVerifies { keys: 2 }),
        "{err}"
    );
    assert_eq!(err.signature_status(), SignatureStatus::Invalid);
    // A claim error with the key that verified is reported as such, not as "no key".
    let mut late = claims(ISSUER);
    late["exp"] = json!(now() - 3600);
    let err =
        verify_with_jwks(&Secret::new(sign(&rs256(None), &late)), &two, &offline()).unwrap_err();
    assert!(matches!(err, VerifyError::Expired { .. }), "{err}");
}

/// A 2048-bit modulus no key here signs with: a key that never verifies.
fn decoy_modulus() -> String {
    let mut n = vec![0xC5u8; 256];
    n[255] |= 1;
    base64url(&n)
}

#[test]
fn wrong_issuer_names_both() {
    let slug = format!("{ISSUER}/acme");
    let token = token_with(&claims(&slug));
    let err = failure(&token, &offline());
    match &err {
        VerifyError::WrongIssuer { expected, actual } => {
            assert_eq!(expected, ISSUER);
            assert_eq!(actual, &slug);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.signature_status(), SignatureStatus::Valid);
    // A trailing `/` is a different issuer, as it is for the clouds.
    let token = token_with(&claims(&format!("{ISSUER}/")));
    assert!(matches!(
        failure(&token, &offline()),
        VerifyError::WrongIssuer { .. }
    ));
}

#[test]
fn wrong_audience_names_both() {
    let mut c = claims(ISSUER);
    c["aud"] = json!("https://github.com/octo-org");
    let err = failure(&token_with(&c), &offline());
    match &err {
        VerifyError::WrongAudience { expected, actual } => {
            assert_eq!(expected, &[AUDIENCE]);
            assert_eq!(actual, &["https://github.com/octo-org"]);
        }
        other => panic!("{other:?}"),
    }
    // No `aud` at all when one is expected.
    c.as_object_mut().unwrap().remove("aud");
    let err = failure(&token_with(&c), &offline());
    assert!(
        matches!(&err, VerifyError::MissingClaim { claim } if claim == "aud"),
        "{err}"
    );
}

#[test]
fn audience_array_containing_an_expected_one_is_accepted() {
    let mut c = claims(ISSUER);
    c["aud"] = json!(["https://github.com/octo-org", AUDIENCE]);
    let token = token_with(&c);
    assert!(check(&token, &offline()).is_ok());
    // Any of several expected audiences.
    let opts = VerifyOptions {
        expected_audience: Some(vec!["api://AzureADTokenExchange".into(), AUDIENCE.into()]),
        ..offline()
    };
    assert!(check(&token, &opts).is_ok());
    // No audience expected: any is fine.
    let opts = VerifyOptions {
        expected_audience: None,
        ..offline()
    };
    assert!(check(&token, &opts).is_ok());
}

#[test]
fn alg_none_is_rejected() {
    let header = base64url(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
    let payload = base64url(claims(ISSUER).to_string().as_bytes());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}.c2ln"),
    ] {
        let err = failure(&token, &offline());
        assert!(
            matches!(&err, VerifyError::UnsupportedAlgorithm { alg } if alg == "none"),
            "{err}"
        );
        assert_eq!(err.signature_status(), SignatureStatus::Invalid);
    }
}

#[test]
fn hs256_signed_with_the_public_key_is_rejected() {
    // Key confusion: a verifier that lets the header choose the algorithm would use the
    // public key as the HMAC secret and accept this.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KID.to_owned());
    for secret in [key().public_der.clone(), key().n.clone().into_bytes()] {
        let token =
            jsonwebtoken::encode(&header, &claims(ISSUER), &EncodingKey::from_secret(&secret))
                .unwrap();
        let err = failure(&token, &offline());
        assert!(
            matches!(&err, VerifyError::UnsupportedAlgorithm { alg } if alg == "HS256"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn discovered_keys_verify_a_valid_token() {
    let server = MockServer::start().await;
    let issuer = serve_issuer(&server, "").await;
    let token = Secret::new(token_with(&claims(&issuer)));
    let client = http_client().unwrap();
    let verified = verify(&client, &token, &options(&issuer, KeySource::Discover))
        .await
        .unwrap();
    assert_eq!(verified.issuer, issuer);
    assert!(verified.notes.is_empty(), "{:?}", verified.notes);

    // A token that came from the runner: keys from its own iss.
    let opts = with_issuers(TrustedIssuers::from_runner(), KeySource::Discover);
    let verified = verify(&client, &token, &opts).await.unwrap();
    assert_eq!(verified.issuer, issuer);
}

#[tokio::test]
async fn alg_none_fails_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let issuer = server.uri();
    let token = format!(
        "{}.{}.",
        base64url(br#"{"alg":"none"}"#),
        base64url(claims(&issuer).to_string().as_bytes())
    );
    let opts = with_issuers(TrustedIssuers::from_runner(), KeySource::Discover);
    let err = verify(&http_client().unwrap(), &Secret::new(&token), &opts)
        .await
        .unwrap_err();
    assert!(
        matches!(err, VerifyError::UnsupportedAlgorithm { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn jwks_500_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/jwks"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    let issuer = serve_issuer(&server, "").await;
    let jwks = discover_jwks(&http_client().unwrap(), &issuer, &fast_retry())
        .await
        .unwrap();
    assert_eq!(jwks.kids(), [KID, "k2-unused"]);
    assert_eq!(
        jwks.url(),
        Some(format!("{issuer}/.well-known/jwks").as_str())
    );
    assert!(
        jwks.notes().iter().any(|n| n.contains("HTTP 500")),
        "{:?}",
        jwks.notes()
    );
    let token = Secret::new(token_with(&claims(&issuer)));
    let verified = verify_with_jwks(&token, &jwks, &options(&issuer, KeySource::Discover));
    assert!(verified.is_ok());
}

#[tokio::test]
async fn jwks_404_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/jwks"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    let issuer = serve_issuer(&server, "").await;
    let err = discover_jwks(&http_client().unwrap(), &issuer, &fast_retry())
        .await
        .unwrap_err();
    match &err {
        VerifyError::Unreachable {
            document: Document::Jwks,
            url,
            status: Some(404),
            ..
        } => assert_eq!(url, &format!("{issuer}/.well-known/jwks")),
        other => panic!("{other:?}"),
    }
    // Keys that cannot be had do not make the signature "skipped": it was to be checked.
    assert_eq!(err.signature_status(), SignatureStatus::Invalid);
}

#[tokio::test]
async fn unreachable_jwks_fails_within_the_deadline() {
    // A port that was just free: connecting is refused.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/.well-known/jwks", dead.local_addr().unwrap());
    drop(dead);
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"jwks_uri": dead_url})))
        .mount(&server)
        .await;
    let token = Secret::new(token_with(&claims(&server.uri())));
    let opts = options(&server.uri(), KeySource::Discover);
    let started = Instant::now();
    let err = verify(&http_client().unwrap(), &token, &opts)
        .await
        .unwrap_err();
    assert!(started.elapsed() < opts.retry.deadline + Duration::from_secs(1));
    match &err {
        VerifyError::Unreachable {
            document: Document::Jwks,
            url,
            status: None,
            reason,
        } => {
            assert_eq!(url, &dead_url);
            assert!(reason.contains("3 attempt(s)"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains(&dead_url), "{err}");
    assert_secret_free(&err, token.reveal());
}

#[tokio::test]
async fn hanging_jwks_fails_within_the_deadline() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/jwks"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let issuer = serve_issuer(&server, "").await;
    let policy = RetryPolicy {
        deadline: Duration::from_millis(1500),
        attempt_timeout: Duration::from_millis(400),
        ..fast_retry()
    };
    let started = Instant::now();
    let err = discover_jwks(&http_client().unwrap(), &issuer, &policy)
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(&err, VerifyError::Unreachable { document: Document::Jwks, status: None, reason, .. } if reason.contains("no complete answer")),
        "{err}"
    );
}

#[tokio::test]
async fn discovery_without_jwks_uri() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"issuer": server.uri()})))
        .mount(&server)
        .await;
    let token = Secret::new(token_with(&claims(&server.uri())));
    let err = verify(
        &http_client().unwrap(),
        &token,
        &options(&server.uri(), KeySource::Discover),
    )
    .await
    .unwrap_err();
    match &err {
        VerifyError::MissingJwksUri { url } => assert_eq!(
            url,
            &format!("{}/.well-known/openid-configuration", server.uri())
        ),
        other => panic!("{other:?}"),
    }
    assert_secret_free(&err, token.reveal());
}

#[tokio::test]
async fn plain_http_jwks_uri_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"jwks_uri": "http://keys.example/.well-known/jwks"})),
        )
        .mount(&server)
        .await;
    let err = discover_jwks(&http_client().unwrap(), &server.uri(), &fast_retry())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, VerifyError::InsecureUrl { document: Document::Jwks, url } if url.starts_with("http://keys.example/")),
        "{err}"
    );
}

#[tokio::test]
async fn enterprise_slug_issuer_follows_jwks_uri_to_the_root() {
    let server = MockServer::start().await;
    let issuer = serve_issuer(&server, "/acme").await;
    assert!(issuer.ends_with("/acme"));
    let token = Secret::new(token_with(&claims(&issuer)));
    let verified = verify(
        &http_client().unwrap(),
        &token,
        &options(&issuer, KeySource::Discover),
    )
    .await
    .unwrap();
    assert_eq!(verified.issuer, issuer);
    assert!(verified.notes.is_empty(), "{:?}", verified.notes);
}

#[tokio::test]
async fn enterprise_slug_without_discovery_falls_back_to_the_root() {
    let server = MockServer::start().await;
    let root = serve_issuer(&server, "").await;
    let issuer = format!("{root}/acme");
    let token = Secret::new(token_with(&claims(&issuer)));
    let verified = verify(
        &http_client().unwrap(),
        &token,
        &options(&issuer, KeySource::Discover),
    )
    .await
    .unwrap();
    let notes = verified.notes.join("\n");
    assert!(notes.contains("answered HTTP 404"), "{notes}");
    assert!(
        notes.contains(&format!("{root}/.well-known/openid-configuration")),
        "{notes}"
    );
}

#[tokio::test]
async fn trailing_slash_issuer_is_discovered_and_reported() {
    let server = MockServer::start().await;
    let issuer = format!("{}/", serve_issuer(&server, "").await);
    let token = Secret::new(token_with(&claims(&issuer)));
    let verified = verify(
        &http_client().unwrap(),
        &token,
        &options(&issuer, KeySource::Discover),
    )
    .await
    .unwrap();
    assert_eq!(verified.issuer, issuer);
    assert!(
        verified.notes.iter().any(|n| n.contains("ends with `/`")),
        "{:?}",
        verified.notes
    );
}

#[test]
fn non_numeric_exp_is_not_a_token_that_never_expires() {
    // `exp` is required and must be a NumericDate (RFC 7519 4.1.4); a string, null, an object
    // or an array must not slip past the time check, with the system clock or a given one.
    for (bad, missing) in [
        (json!("never"), true),
        (json!(null), true),
        (json!({"at": 1}), false),
        (json!([1]), false),
    ] {
        let mut c = claims(ISSUER);
        c["exp"] = bad.clone();
        let token = token_with(&c);
        for opts in [
            offline(),
            VerifyOptions {
                now: Some(now()),
                ..offline()
            },
        ] {
            let err = failure(&token, &opts);
            let ok = if missing {
                matches!(&err, VerifyError::MissingClaim { claim } if claim == "exp")
            } else {
                matches!(&err, VerifyError::Undecodable { .. })
            };
            assert!(ok, "exp {bad}: {err}");
        }
    }
}

#[tokio::test]
async fn an_untrusted_issuer_gets_no_request_and_is_invalid() {
    // An attacker's provider, serving discovery and keys that do verify its token.
    let server = MockServer::start().await;
    let issuer = serve_issuer(&server, "").await;
    let token = Secret::new(token_with(&claims(&issuer)));
    let client = http_client().unwrap();
    let err = verify(
        &client,
        &token,
        &with_issuers(TrustedIssuers::github(), KeySource::Discover),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, VerifyError::UntrustedIssuer { issuer: i } if i == &issuer),
        "{err}"
    );
    assert_eq!(err.signature_status(), SignatureStatus::Invalid);
    assert!(err.hint().unwrap().contains("name it"), "{:?}", err.hint());
    assert_secret_free(&err, token.reveal());
    let requests = server.received_requests().await.unwrap();
    assert!(requests.is_empty(), "{} request(s) sent", requests.len());
    // The same with the keys at hand: an untrusted `iss` is refused whatever key signed it.
    let err = verify_with_jwks(
        &token,
        &jwks(),
        &with_issuers(TrustedIssuers::github(), KeySource::Discover),
    )
    .unwrap_err();
    assert!(matches!(err, VerifyError::UntrustedIssuer { .. }), "{err}");
}

#[test]
fn the_default_policy_trusts_github_issuers_parsed_not_by_suffix() {
    let github = with_issuers(TrustedIssuers::github(), KeySource::Jwks(jwks()));
    for trusted in [
        ISSUER,
        "https://token.actions.githubusercontent.com/acme",
        "https://token.actions.octo.ghe.com",
    ] {
        let verified = check(&token_with(&claims(trusted)), &github);
        assert_eq!(verified.unwrap().issuer, trusted);
    }
    for untrusted in [
        "https://token.actions.attacker.example/x.ghe.com",
        "https://token.actions.githubusercontent.com/a/b",
        "https://github.example.net/_services/token",
        "http://127.0.0.1:1",
    ] {
        let err = failure(&token_with(&claims(untrusted)), &github);
        assert!(
            matches!(err, VerifyError::UntrustedIssuer { .. }),
            "{untrusted}: {err}"
        );
    }
    let mut no_iss = claims(ISSUER);
    no_iss.as_object_mut().unwrap().remove("iss");
    let err = failure(&token_with(&no_iss), &github);
    assert!(matches!(err, VerifyError::NoIssuer), "{err}");
    assert_eq!(err.signature_status(), SignatureStatus::Invalid);
}

#[tokio::test]
async fn a_named_issuer_pins_the_keys_and_the_iss() {
    // The token names `token_issuer`; the caller trusts `trusted` only.
    let token_server = MockServer::start().await;
    let token_issuer = serve_issuer(&token_server, "").await;
    let trusted_server = MockServer::start().await;
    let trusted = serve_issuer(&trusted_server, "").await;
    let token = Secret::new(token_with(&claims(&token_issuer)));
    let client = http_client().unwrap();
    let err = verify(&client, &token, &options(&trusted, KeySource::Discover))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, VerifyError::WrongIssuer { expected, actual } if expected == &trusted && actual == &token_issuer),
        "{err}"
    );
    assert!(token_server.received_requests().await.unwrap().is_empty());
    assert_eq!(trusted_server.received_requests().await.unwrap().len(), 2);
    // Exactly: a trailing `/` on the named issuer is another issuer.
    let own = Secret::new(token_with(&claims(&trusted)));
    let err = verify(
        &client,
        &own,
        &options(&format!("{trusted}/"), KeySource::Discover),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, VerifyError::WrongIssuer { .. }), "{err}");
    assert!(
        verify(&client, &own, &options(&trusted, KeySource::Discover))
            .await
            .is_ok()
    );
    // Plain http only to loopback.
    assert!(matches!(
        TrustedIssuers::named("http://issuer.example"),
        Err(VerifyError::InsecureUrl { .. })
    ));
}

#[tokio::test]
async fn an_empty_signature_is_refused_before_any_request() {
    let server = MockServer::start().await;
    let issuer = serve_issuer(&server, "").await;
    let signed = token_with(&claims(&issuer));
    let (message, _) = signed.rsplit_once('.').unwrap();
    let token = Secret::new(format!("{message}."));
    let err = verify(
        &http_client().unwrap(),
        &token,
        &with_issuers(TrustedIssuers::from_runner(), KeySource::Discover),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, VerifyError::Undecodable { .. }), "{err}");
    assert_eq!(err.signature_status(), SignatureStatus::Invalid);
    assert!(server.received_requests().await.unwrap().is_empty());
}
