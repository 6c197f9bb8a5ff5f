//! Ready-to-paste trust configuration built from the token: an AWS trust policy `Condition`
//! block, an Azure federated identity credential, a GCP attribute mapping and condition, and,
//! with `provider: vault`, a Vault JWT auth role.
//! Each consumer's module (`consumer::aws`, `consumer::azure`, `consumer::gcp`) builds its own;
//! this module picks the audience and the subject for them. JSON is produced by serde_json, so
//! claim values are escaped by construction.

use serde::Serialize;

use crate::claims::Claims;
use crate::consumer::{aws, azure, gcp, vault, Consumer};
use crate::plan::Expectations;
use crate::policy::PolicyFormat;

/// The snippets, as text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Snippets {
    /// AWS IAM role trust policy `Condition` block.
    pub aws: String,
    /// Azure federated identity credential (`az ad app federated-credential create --parameters`).
    pub azure: String,
    /// GCP workload identity provider attribute mapping and condition.
    pub gcp: String,
    /// Vault JWT auth role (`vault write auth/jwt/role/NAME`), only with `provider: vault`:
    /// Vault is the one consumer a job cannot be assumed to use. Empty (and left out of the
    /// JSON) otherwise.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub vault: String,
}

impl Snippets {
    /// Keeps only the snippet for documents of `format`, when there is one: with no
    /// provider named but trust documents of one kind given, that kind is the consumer.
    pub fn keep_only(&mut self, format: PolicyFormat) {
        let kept = match format {
            PolicyFormat::Aws => std::mem::take(&mut self.aws),
            PolicyFormat::Azure => std::mem::take(&mut self.azure),
            PolicyFormat::Gcp => std::mem::take(&mut self.gcp),
            PolicyFormat::Vault => std::mem::take(&mut self.vault),
        };
        if kept.is_empty() {
            // Not built (another provider was named): leave the others as they are.
            return;
        }
        *self = Snippets::default();
        match format {
            PolicyFormat::Aws => self.aws = kept,
            PolicyFormat::Azure => self.azure = kept,
            PolicyFormat::Gcp => self.gcp = kept,
            PolicyFormat::Vault => self.vault = kept,
        }
    }
}

/// The audience a consumer's snippet should name: what the user expects, else the token's own
/// when it is not GitHub's default, else the consumer's default.
fn audience_for(consumer: Consumer, claims: &Claims, expect: &Expectations) -> String {
    if expect.consumer == Some(consumer) {
        if let Some(aud) = expect.expected_audience() {
            return aud;
        }
    }
    consumer.default_audience().map(str::to_owned).unwrap_or_else(|| {
        claims.text("aud").unwrap_or_else(|| "https://iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER".to_owned())
    })
}

/// Builds the snippets for `claims`, using `subject_pattern` for AWS (`StringLike`).
pub fn build(claims: &Claims, subject_pattern: Option<&str>, expect: &Expectations) -> Snippets {
    let iss = claims
        .str("iss")
        .unwrap_or("https://token.actions.githubusercontent.com");
    let sub = claims.subject().unwrap_or_default();
    // Only the named consumer's: `provider: aws` is AWS alone; the three clouds when none is
    // named; none for a registry, whose trusted publisher is set up on the registry's site.
    let wants = |c: Consumer| {
        expect
            .consumer
            .map_or(c != Consumer::Vault, |named| named == c)
    };
    let only =
        |c: Consumer, build: &dyn Fn() -> String| if wants(c) { build() } else { String::new() };
    Snippets {
        aws: only(Consumer::Aws, &|| {
            aws::snippet(
                iss,
                subject_pattern.unwrap_or(sub),
                &audience_for(Consumer::Aws, claims, expect),
            )
        }),
        azure: only(Consumer::Azure, &|| {
            azure::snippet(iss, sub, &audience_for(Consumer::Azure, claims, expect))
        }),
        gcp: only(Consumer::Gcp, &|| gcp::snippet(claims)),
        vault: if expect.consumer == Some(Consumer::Vault) {
            // The role binds the audience the step requests (the token's own, unless one is
            // expected): Vault has none of its own.
            let audiences = expect
                .expected_audience()
                .map(|a| vec![a])
                .or_else(|| claims.values("aud"))
                .unwrap_or_default();
            vault::snippet(claims, &audiences)
        } else {
            String::new()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn claims(v: Value) -> Claims {
        Claims(v.as_object().cloned().unwrap_or_default())
    }

    #[test]
    fn snippets_are_valid_json_with_escaped_values() {
        let c = claims(json!({
            "iss": "https://token.actions.githubusercontent.com/acme",
            "sub": "repo:o/r:ref:refs/heads/x\"}",
            "aud": "https://github.com/o",
            "repository": "o/r'x", "repository_owner": "o", "ref": "refs/heads/x\"}",
        }));
        let s = build(&c, Some("repo:o/r:*"), &Expectations::default());
        let aws: Value = serde_json::from_str(&s.aws).unwrap();
        assert_eq!(
            aws["Condition"]["StringLike"]["token.actions.githubusercontent.com/acme:sub"],
            "repo:o/r:*"
        );
        assert_eq!(
            aws["Condition"]["StringEquals"]["token.actions.githubusercontent.com/acme:aud"],
            "sts.amazonaws.com"
        );
        let azure: Value = serde_json::from_str(&s.azure).unwrap();
        assert_eq!(azure["subject"], "repo:o/r:ref:refs/heads/x\"}");
        assert_eq!(azure["audiences"][0], "api://AzureADTokenExchange");
        assert!(azure["name"]
            .as_str()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert!(
            // `\'` for CEL, its backslash escaped for the shell's double quotes.
            s.gcp.contains(r"assertion.repository == 'o/r\\'x'"),
            "{}",
            s.gcp
        );
    }

    /// Every AWS and Azure snippet the project prints for a token is accepted by the
    /// project's own evaluator for that token: branch, tag, environment, pull_request, a
    /// customized subject, the immutable subject, and an enterprise-slug issuer (with and
    /// without a trailing `/`).
    #[test]
    fn own_aws_and_azure_snippets_are_accepted_for_the_token_they_were_built_from() {
        let github = "https://token.actions.githubusercontent.com";
        let cases: &[(&str, &str, &str)] = &[
            (
                "branch",
                github,
                "repo:octo-org/octo-repo:ref:refs/heads/main",
            ),
            (
                "tag",
                github,
                "repo:octo-org/octo-repo:ref:refs/tags/v1.2.3",
            ),
            (
                "environment",
                github,
                "repo:octo-org/octo-repo:environment:prod",
            ),
            (
                "environment with a colon",
                github,
                "repo:octo-org/octo-repo:environment:stage%3Aeu",
            ),
            (
                "pull_request",
                github,
                "repo:octo-org/octo-repo:pull_request",
            ),
            (
                "custom subject",
                github,
                "repository_owner_id:65:repository_id:74:environment:prod",
            ),
            (
                "immutable subject",
                github,
                "repo:octo-org@65/octo-repo@74:ref:refs/heads/main",
            ),
            (
                "enterprise slug",
                "https://token.actions.githubusercontent.com/octo-enterprise",
                "repo:octo-org/octo-repo:ref:refs/heads/main",
            ),
            (
                "enterprise slug, trailing slash",
                "https://token.actions.githubusercontent.com/octo-enterprise/",
                "repo:octo-org/octo-repo:ref:refs/heads/main",
            ),
            (
                "GHES",
                "https://ghes.example.com/_services/token",
                "repo:octo-org/octo-repo:ref:refs/heads/main",
            ),
        ];
        for (name, iss, sub) in cases {
            for aud in [aws::AUDIENCE, azure::AUDIENCE] {
                let c = claims(json!({
                    "iss": iss, "sub": sub, "aud": aud,
                    "repository": "octo-org/octo-repo", "repository_owner": "octo-org",
                    "ref": "refs/heads/main",
                }));
                let s = build(&c, None, &Expectations::default());
                let provider = crate::consumer::aws::key_prefix(iss);
                let condition: Value = serde_json::from_str(&s.aws).unwrap();
                let aws_policy = json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Principal": {"Federated": format!("arn:aws:iam::111122223333:oidc-provider/{provider}")},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Condition": condition["Condition"],
                    }],
                });
                let (document, snippet) = if aud == aws::AUDIENCE {
                    (aws_policy.to_string(), &s.aws)
                } else {
                    (s.azure.clone(), &s.azure)
                };
                let policy = crate::policy::parse(&document, None)
                    .unwrap_or_else(|e| panic!("{name}: {e}\n{snippet}"));
                let report = crate::policy::evaluate(&policy, &c);
                assert!(
                    report.allowed,
                    "{name} ({aud}): {snippet}\n{:#?}",
                    report.reasons
                );
                assert!(
                    report.warnings.is_empty(),
                    "{name} ({aud}): {:#?}",
                    report.warnings
                );
            }
        }
    }
}
