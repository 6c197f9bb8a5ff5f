//! `cargo run --example receiver`: a service that receives GitHub Actions OIDC tokens (a
//! deploy API, an internal registry) and admits a caller the way a cloud would: the signature
//! by a key of an issuer the service trusts, then the service's own trust policy.
//!
//! `admit` is the part to copy. `main` runs it against the embedded loopback provider the
//! tests use (a GitHub-like issuer with its own key), so the example needs no network: the
//! provider is trusted by name, as a GitHub Enterprise Server would be; a service for
//! github.com would use `TrustedIssuers::github()` instead.
// Tests and examples may unwrap and print (Cargo.toml's [lints] are for library code).
#![allow(
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

#[path = "../tests/support/provider.rs"]
mod provider;

use oidc_preflight::{
    Claims, Policy, PolicyFormat, Secret, TrustedIssuers, Verifier, VerifyOptions,
};

use provider::{Job, Provider, REQUEST_TOKEN};

/// A token from the provider's runner endpoint, as a workflow step would get it.
async fn token_for(
    provider: &Provider,
    audience: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    use oidc_preflight::request::{fetch_token, http_client, RetryPolicy, TokenRequest};
    let request = TokenRequest {
        url: provider.request_url(),
        bearer: Secret::new(REQUEST_TOKEN),
        audience: Some(audience.to_owned()),
        policy: RetryPolicy::default(),
    };
    let token = fetch_token(&http_client()?, &request, &mut |_| {}).await?;
    Ok(token.reveal().to_owned())
}

/// Who was admitted, and why a caller was not.
#[derive(Debug)]
enum Admission {
    Admitted { repository: String, subject: String },
    Refused { reason: String },
}

/// What a service sets up once at start: one verifier (it pools connections), the issuer it
/// trusts and the audience it accepts, and its trust policy, parsed once.
struct Service {
    verifier: Verifier,
    options: VerifyOptions,
    policy: Policy,
}

impl Service {
    fn new(
        issuer: &str,
        audience: &str,
        trust_policy: &str,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let mut options = VerifyOptions::new(TrustedIssuers::named(issuer)?);
        options.expected_audience = Some(vec![audience.to_owned()]);
        Ok(Self {
            verifier: Verifier::new()?,
            options,
            policy: Policy::parse(trust_policy, Some(PolicyFormat::Aws))?,
        })
    }
}

/// Verifies `jwt` against the keys of the service's issuer only (never the issuer the token
/// names), for its audience, then evaluates its AWS-style trust policy on the verified claims.
async fn admit(service: &Service, jwt: &str) -> Admission {
    let verified = match service
        .verifier
        .verify(&Secret::new(jwt), &service.options)
        .await
    {
        Ok(verified) => verified,
        Err(err) => {
            return Admission::Refused {
                reason: format!("{err} ({})", err.hint().unwrap_or_default()),
            }
        }
    };
    let report = service.policy.evaluate(&verified.claims);
    if !report.allowed {
        let why = report
            .reasons
            .iter()
            .filter(|r| !r.holds())
            .map(|r| format!("{} [{}] {}", r.location, r.id, r.message))
            .collect::<Vec<_>>()
            .join("; ");
        return Admission::Refused { reason: why };
    }
    Admission::Admitted {
        repository: text(&verified.claims, "repository"),
        subject: text(&verified.claims, "sub"),
    }
}

impl std::fmt::Display for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Admission::Admitted {
                repository,
                subject,
            } => write!(f, "admitted {repository} as `{subject}`"),
            Admission::Refused { reason } => write!(f, "refused: {reason}"),
        }
    }
}

fn text(claims: &Claims, name: &str) -> String {
    claims.str(name).unwrap_or_default().to_owned()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = Provider::start().await;
    let job = Job {
        environment: Some("prod".to_owned()),
        ..Job::default()
    };
    provider.issue_tokens_for(&job).await;
    let issuer = provider.server.uri();
    let jwt = token_for(&provider, "deploy.example.com").await?;
    let host = issuer.trim_start_matches("http://");
    let policy = |subject: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::123456789012:oidc-provider/{host}"}},
            "Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{{"StringEquals":{{"{host}:aud":"deploy.example.com","{host}:sub":"{subject}"}}}}}}]}}"#
        )
    };
    // The job declares `environment: prod`, so only the environment form is admitted.
    for (subject, admitted) in [
        ("repo:octo-org/octo-repo:environment:prod", true),
        ("repo:octo-org/octo-repo:ref:refs/heads/main", false),
    ] {
        let service = Service::new(&issuer, "deploy.example.com", &policy(subject))?;
        let admission = admit(&service, &jwt).await;
        println!("policy for {subject}:\n  {admission}");
        if matches!(admission, Admission::Admitted { .. }) != admitted {
            return Err(format!("expected admitted={admitted} for {subject}").into());
        }
    }
    // A token for another audience is refused by verification itself.
    let other = token_for(&provider, "sts.amazonaws.com").await?;
    let service = Service::new(&issuer, "deploy.example.com", &policy("repo:*"))?;
    let admission = admit(&service, &other).await;
    println!("token for sts.amazonaws.com:\n  {admission}");
    if !matches!(admission, Admission::Refused { .. }) {
        return Err("a token for another audience was admitted".into());
    }
    Ok(())
}
