//! An embedded GitHub OIDC provider on loopback, built on wiremock: the token endpoint as the
//! runner calls it, and the discovery and key documents a cloud would fetch. Tokens carry a
//! realistic GitHub claim set, signed RS256 with a key generated on first use.
//!
//! Shared by the integration tests and `examples/demo.rs` (through `#[path]`), so the demo
//! runs against exactly what the tests check.
#![allow(dead_code)]

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use oidc_preflight::claims::base64url;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Map, Value};
use wiremock::matchers::{header, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The bearer token the provider accepts, as the runner's ACTIONS_ID_TOKEN_REQUEST_TOKEN.
pub const REQUEST_TOKEN: &str = "rqt-4f1c9e2b7d5a48e6b3c0a9f8e7d6c5b4";
/// Path of the token endpoint, shaped like the runner's.
pub const TOKEN_PATH: &str = "/_apis/distributedtask/hubs/Actions/plans/5a3b/jobs/9c1d/idtoken";
/// The key id in the JWKS and in token headers.
pub const KID: &str = "38826b17-6a30-5f9b-b169-8beb8202f723";

/// The signing key, generated once per process (2048-bit RSA, as GitHub uses).
pub struct TestKey {
    pkcs1_der: Vec<u8>,
    n: String,
    e: String,
}

pub fn test_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let key =
            rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key generation");
        TestKey {
            pkcs1_der: key
                .to_pkcs1_der()
                .expect("PKCS#1 encoding")
                .as_bytes()
                .to_vec(),
            n: base64url(&key.n().to_bytes_be()),
            e: base64url(&key.e().to_bytes_be()),
        }
    })
}

impl TestKey {
    /// The public key as a JWKS document.
    pub fn jwks(&self) -> Value {
        json!({"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": KID, "n": self.n, "e": self.e}]})
    }

    /// Signs a payload given as raw bytes (not necessarily JSON, not necessarily UTF-8) RS256
    /// with the provider's key and `kid`: for tokens no JSON serializer would produce, such as
    /// duplicate claim names.
    pub fn sign_raw(&self, payload: &[u8]) -> String {
        let header = format!(r#"{{"typ":"JWT","alg":"RS256","kid":"{KID}"}}"#);
        self.sign_raw_with_header(&header, payload)
    }

    /// Signs RS256 with the given header text (for a hostile `kid`, say) and raw payload.
    pub fn sign_raw_with_header(&self, header: &str, payload: &[u8]) -> String {
        let message = format!("{}.{}", base64url(header.as_bytes()), base64url(payload));
        let signature = jsonwebtoken::crypto::sign(
            message.as_bytes(),
            &EncodingKey::from_rsa_der(&self.pkcs1_der),
            Algorithm::RS256,
        )
        .expect("signing");
        format!("{message}.{signature}")
    }

    /// Signs claims RS256 with the provider's key and `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(KID.to_owned());
        header.typ = Some("JWT".to_owned());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(&self.pkcs1_der))
            .expect("signing")
    }
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// What a workflow run looks like, to build claims from.
#[derive(Debug, Clone)]
pub struct Job {
    pub repository: String,
    pub git_ref: String,
    pub environment: Option<String>,
    pub event_name: String,
    pub workflow_file: String,
    /// `None`: the provider that issues the token is its issuer (its URI), so discovery and
    /// signature verification work on loopback; offline tests get GitHub's issuer.
    pub issuer: Option<String>,
}

/// github.com's issuer.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

impl Default for Job {
    fn default() -> Self {
        Self {
            repository: "octo-org/octo-repo".into(),
            git_ref: "refs/heads/main".into(),
            environment: None,
            event_name: "push".into(),
            workflow_file: "deploy.yml".into(),
            issuer: None,
        }
    }
}

impl Job {
    /// The default `sub` GitHub derives, in its precedence order: environment, pull request,
    /// then ref. A `:` inside a value is written `%3A`.
    pub fn subject(&self) -> String {
        let context = if let Some(env) = &self.environment {
            format!("environment:{}", env.replace(':', "%3A"))
        } else if self.event_name == "pull_request" {
            "pull_request".to_owned()
        } else {
            format!("ref:{}", self.git_ref.replace(':', "%3A"))
        };
        format!("repo:{}:{context}", self.repository)
    }

    /// A claim set like GitHub's, without `aud` (set per request), valid for five minutes.
    pub fn claims(&self) -> Map<String, Value> {
        let (owner, _) = self
            .repository
            .split_once('/')
            .unwrap_or((&self.repository, ""));
        let now = now();
        let workflow_ref = format!(
            "{}/.github/workflows/{}@{}",
            self.repository, self.workflow_file, self.git_ref
        );
        let ref_type = if self.git_ref.starts_with("refs/tags/") {
            "tag"
        } else {
            "branch"
        };
        let mut claims = json!({
            "jti": "6f7c1b2a-0d9e-4c1f-8a7b-3e2d1c0b9a8f",
            "sub": self.subject(),
            "ref": self.git_ref,
            "sha": "d6b1f3a0e4c2b5a7d9e8f1c3b2a4d6e8f0a1b3c5",
            "repository": self.repository,
            "repository_owner": owner,
            "repository_owner_id": "65432",
            "repository_id": "123456789",
            "repository_visibility": "private",
            "run_id": "9876543210",
            "run_number": "42",
            "run_attempt": "1",
            "runner_environment": "github-hosted",
            "actor": "octocat",
            "actor_id": "583231",
            "workflow": "Deploy",
            "head_ref": "",
            "base_ref": "",
            "event_name": self.event_name,
            "ref_type": ref_type,
            "ref_protected": "true",
            "workflow_ref": workflow_ref,
            "workflow_sha": "d6b1f3a0e4c2b5a7d9e8f1c3b2a4d6e8f0a1b3c5",
            "job_workflow_ref": workflow_ref,
            "job_workflow_sha": "d6b1f3a0e4c2b5a7d9e8f1c3b2a4d6e8f0a1b3c5",
            "check_run_id": "31415926535",
            "iss": self.issuer.as_deref().unwrap_or(GITHUB_ISSUER),
            "nbf": now - 5,
            "iat": now,
            "exp": now + 300,
        });
        if let Some(env) = &self.environment {
            claims["environment"] = json!(env);
        }
        claims.as_object().cloned().unwrap_or_default()
    }

    /// GitHub's default audience: the owner URL.
    pub fn default_audience(&self) -> String {
        let owner = self.repository.split('/').next().unwrap_or_default();
        format!("https://github.com/{owner}")
    }
}

/// Answers a token request like GitHub: `aud` is the requested audience or the owner URL.
struct TokenResponder {
    claims: Map<String, Value>,
    default_audience: String,
}

impl Respond for TokenResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let audience = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "audience")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| self.default_audience.clone());
        let mut claims = self.claims.clone();
        claims.insert("aud".into(), Value::String(audience));
        // A provider that runs for long (examples/provider.rs, under a benchmark) renews the
        // times once the token would be near expiry, so it never serves an expired token;
        // tests, which run in seconds, keep the times they were given.
        let now = now();
        if claims
            .get("exp")
            .and_then(Value::as_i64)
            .is_some_and(|exp| exp < now + 60)
        {
            for (name, time) in [("nbf", now - 5), ("iat", now), ("exp", now + 300)] {
                claims.insert(name.into(), Value::from(time));
            }
        }
        let token = test_key().sign(&Value::Object(claims));
        ResponseTemplate::new(200).set_body_json(json!({"count": 2304, "value": token}))
    }
}

/// The running provider.
pub struct Provider {
    pub server: MockServer,
}

impl Provider {
    /// Starts an empty provider; mount behaviour with the methods below.
    pub async fn start() -> Self {
        Self {
            server: MockServer::start().await,
        }
    }

    /// ACTIONS_ID_TOKEN_REQUEST_URL for this provider.
    pub fn request_url(&self) -> String {
        format!("{}{TOKEN_PATH}?api-version=2.0", self.server.uri())
    }

    /// The runner's variables for a job with `id-token: write`.
    pub fn runner_env(&self) -> Vec<(String, String)> {
        vec![
            ("ACTIONS_ID_TOKEN_REQUEST_URL".into(), self.request_url()),
            (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(),
                REQUEST_TOKEN.into(),
            ),
        ]
    }

    /// Issues tokens for `job` to requests that present the bearer token and the api-version,
    /// as GitHub does; anything else gets GitHub's 401.
    pub async fn issue_tokens_for(&self, job: &Job) {
        let job = Job {
            issuer: Some(job.issuer.clone().unwrap_or_else(|| self.server.uri())),
            ..job.clone()
        };
        self.token_endpoint()
            .respond_with(TokenResponder {
                claims: job.claims(),
                default_audience: job.default_audience(),
            })
            .with_priority(5)
            .mount(&self.server)
            .await;
        self.serve_keys().await;
        self.refuse_unauthenticated().await;
    }

    /// Answers every well-formed token request with `response`, `times` times (or always).
    pub async fn answer(&self, response: ResponseTemplate, times: Option<u64>) {
        let mut mock = self
            .token_endpoint()
            .respond_with(response)
            .with_priority(1);
        if let Some(n) = times {
            mock = mock.up_to_n_times(n);
        }
        mock.mount(&self.server).await;
    }

    /// The matchers a request must satisfy to be a real runner's token request.
    pub fn token_endpoint(&self) -> wiremock::MockBuilder {
        Mock::given(method("GET"))
            .and(path(TOKEN_PATH))
            .and(query_param("api-version", "2.0"))
            .and(header(
                "authorization",
                format!("Bearer {REQUEST_TOKEN}").as_str(),
            ))
            .and(header("accept", "application/json"))
    }

    async fn refuse_unauthenticated(&self) {
        Mock::given(path_regex(".*"))
            .respond_with(
                ResponseTemplate::new(401)
                    .set_body_json(json!({"message": "Unauthorized: bad or missing bearer token"})),
            )
            .with_priority(10)
            .mount(&self.server)
            .await;
    }

    /// Discovery and JWKS documents for `issuer` (which should be this server's URI).
    pub async fn serve_keys(&self) {
        let uri = self.server.uri();
        Mock::given(method("GET"))
            .and(path("/.well-known/openid-configuration"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "issuer": uri,
                "jwks_uri": format!("{uri}/.well-known/jwks"),
                "subject_types_supported": ["public", "pairwise"],
                "response_types_supported": ["id_token"],
                "id_token_signing_alg_values_supported": ["RS256"],
            })))
            .with_priority(2)
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path("/.well-known/jwks"))
            .respond_with(ResponseTemplate::new(200).set_body_json(test_key().jwks()))
            .with_priority(2)
            .mount(&self.server)
            .await;
    }

    /// Number of token requests received so far.
    pub async fn token_requests(&self) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == TOKEN_PATH)
            .count()
    }
}
