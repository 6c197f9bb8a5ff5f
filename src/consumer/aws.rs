//! AWS STS `AssumeRoleWithWebIdentity`: the audience it expects, how IAM names the token's
//! claims as condition keys, and the trust policy `Condition` snippet. The trust policy
//! evaluator (`policy::aws`) takes its key prefix from here, so that the snippet the project
//! prints is one its own evaluator accepts.

use serde_json::json;

/// How hints name it.
pub(crate) const NAME: &str = "AWS STS";
/// The audience STS expects (China: `sts.amazonaws.com.cn`, set with input `audience`).
pub(crate) const AUDIENCE: &str = "sts.amazonaws.com";
/// What STS answers for a wrong audience, as users search for it.
pub(crate) const AUDIENCE_ERROR: &str = "Incorrect token audience";

/// The condition-key prefix for an issuer: the issuer without its scheme, e.g.
/// `token.actions.githubusercontent.com/acme` for an enterprise-slug issuer. Source: the facts
/// file ("PREFIX is the provider URL without `https://`, enterprise slug included", from the
/// IAM User Guide's "Available keys for AWS OIDC federation"). What IAM does with a trailing
/// `/` is not in that source: we keep it (the key names the provider whose URL equals the
/// token's `iss`), and the `issuer-trailing-slash` finding tells the user that the provider
/// must be registered exactly so. The one rule for the snippet and the evaluator.
pub(crate) fn key_prefix(issuer: &str) -> &str {
    issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://"))
        .unwrap_or(issuer)
}

/// The trust policy `Condition` block for a token from `issuer`: the audience exact
/// (`StringEquals`), the subject as a `StringLike` pattern.
pub(crate) fn snippet(issuer: &str, subject_pattern: &str, audience: &str) -> String {
    let prefix = key_prefix(issuer);
    let condition = json!({
        "Condition": {
            "StringEquals": { format!("{prefix}:aud"): audience },
            "StringLike": { format!("{prefix}:sub"): subject_pattern },
        }
    });
    serde_json::to_string_pretty(&condition).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Claims;
    use crate::diagnose::{analyze, Clock, Expectations};
    use crate::policy;
    use serde_json::Value;

    /// The project's own AWS snippet, wrapped into a whole trust policy for the OIDC provider
    /// of the token's issuer, is accepted by the project's own AWS evaluator: for the
    /// github.com issuer, an enterprise slug and GHES, with and without a trailing `/`.
    #[test]
    fn own_snippet_is_accepted_by_own_evaluator() {
        for (issuer, provider) in [
            (
                "https://token.actions.githubusercontent.com",
                "token.actions.githubusercontent.com",
            ),
            (
                "https://token.actions.githubusercontent.com/",
                "token.actions.githubusercontent.com/",
            ),
            (
                "https://token.actions.githubusercontent.com/acme",
                "token.actions.githubusercontent.com/acme",
            ),
            (
                "https://token.actions.githubusercontent.com/acme/",
                "token.actions.githubusercontent.com/acme/",
            ),
            (
                "https://ghes.example.com/_services/token",
                "ghes.example.com/_services/token",
            ),
            (
                "https://ghes.example.com/_services/token/",
                "ghes.example.com/_services/token/",
            ),
        ] {
            let claims = Claims(
                json!({
                    "iss": issuer,
                    "aud": AUDIENCE,
                    "sub": "repo:octo-org/octo-repo:ref:refs/heads/main",
                    "repository": "octo-org/octo-repo",
                    "repository_owner": "octo-org",
                    "ref": "refs/heads/main",
                })
                .as_object()
                .cloned()
                .unwrap_or_default(),
            );
            let expect = Expectations {
                consumer: Some(crate::consumer::Consumer::Aws),
                ..Expectations::default()
            };
            let clock = Clock {
                now: 0,
                fresh: false,
            };
            let analysis = analyze(&claims, &expect, clock);
            let snippet: Value = serde_json::from_str(&analysis.snippets.aws).unwrap();
            let document = json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {
                        "Federated": format!("arn:aws:iam::111122223333:oidc-provider/{provider}"),
                    },
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": snippet["Condition"],
                }],
            });
            let parsed = policy::parse(&document.to_string(), None).unwrap();
            let report = policy::evaluate(&parsed, &claims);
            assert!(
                report.allowed,
                "{issuer}: {}\n{:#?}",
                analysis.snippets.aws, report.reasons
            );
        }
    }

    #[test]
    fn prefix_is_the_issuer_without_its_scheme() {
        for (issuer, prefix) in [
            (
                "https://token.actions.githubusercontent.com",
                "token.actions.githubusercontent.com",
            ),
            (
                "https://token.actions.githubusercontent.com/acme",
                "token.actions.githubusercontent.com/acme",
            ),
            (
                "https://token.actions.githubusercontent.com/acme/",
                "token.actions.githubusercontent.com/acme/",
            ),
            (
                "https://ghes.example.com/_services/token",
                "ghes.example.com/_services/token",
            ),
            ("http://127.0.0.1:8080", "127.0.0.1:8080"),
        ] {
            assert_eq!(key_prefix(issuer), prefix, "{issuer}");
        }
    }
}
