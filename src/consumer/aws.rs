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

/// The claims STS puts in the IAM request context for any OIDC provider, as
/// `PREFIX:CLAIM` condition keys. Source: IAM User Guide, "Available keys for AWS OIDC
/// federation", Default tab
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif>).
const DEFAULT_KEYS: &[&str] = &["aud", "sub", "amr", "email", "oaud"];

/// The further claims STS passes for GitHub's provider. Source: the same page, GitHub tab,
/// and the AWS announcement "AWS STS supports validation of identity provider claims"
/// (<https://aws.amazon.com/about-aws/whats-new/2026/01/aws-sts-supports-validation-identity-provider-claims/>),
/// as quoted in the project's facts file. Secondary sources quote this list differently on the
/// edges: one omits `repository_owner_id`, another adds `runner_environment`. We follow the
/// facts file (with `repository_owner_id`, without `runner_environment`), and a finding on
/// either key says the source is thin.
const GITHUB_KEYS: &[&str] = &[
    "actor",
    "actor_id",
    "job_workflow_ref",
    "repository",
    "repository_id",
    "repository_owner_id",
    "workflow",
    "ref",
    "environment",
    "enterprise_id",
];

/// Claims on which secondary sources disagree about whether STS passes them.
const DISPUTED_KEYS: &[&str] = &["repository_owner_id", "runner_environment"];

/// For a claim the facts file leaves out but a secondary source lists (`runner_environment`),
/// what the not-passed finding adds: it follows the facts file, and says the source is thin.
pub(crate) fn disputed_note(claim: &str) -> Option<&'static str> {
    DISPUTED_KEYS
        .contains(&claim.to_ascii_lowercase().as_str())
        .then_some(" (secondary sources disagree on whether STS passes this key: read the AWS page \"Available keys for AWS OIDC federation\" before relying on it)")
}

/// The host of GitHub's issuers for which the AWS page documents the GitHub keys. A GHES or
/// GHE.com issuer is not named there.
const GITHUB_HOST: &str = "token.actions.githubusercontent.com";

/// Whether STS passes a claim to IAM as a condition key, for a token from `issuer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Passed {
    /// Documented as passed.
    Yes,
    /// Passed by our reading, but the sources disagree or are silent for this issuer: the
    /// finding says so.
    Unsure(&'static str),
    /// Not passed: IAM sees the key as absent whatever the token holds.
    No,
}

/// Whether STS passes `claim` (case-insensitive, as IAM key names are) to IAM.
pub(crate) fn passes(issuer: &str, claim: &str) -> Passed {
    let claim = claim.to_ascii_lowercase();
    if DEFAULT_KEYS.contains(&claim.as_str()) {
        return Passed::Yes;
    }
    let github_host = key_prefix(issuer)
        .split('/')
        .next()
        .is_some_and(|host| host.eq_ignore_ascii_case(GITHUB_HOST));
    if GITHUB_KEYS.contains(&claim.as_str()) {
        if !github_host {
            return Passed::Unsure(
                "the AWS page documents the GitHub keys for the github.com provider \
                 (token.actions.githubusercontent.com); whether STS passes them for this \
                 issuer is not documented",
            );
        }
        if DISPUTED_KEYS.contains(&claim.as_str()) {
            return Passed::Unsure(
                "secondary sources disagree on whether STS passes this key; read the AWS page \
                 \"Available keys for AWS OIDC federation\" before relying on it",
            );
        }
        return Passed::Yes;
    }
    Passed::No
}

/// For a claim STS does not pass, the key to use instead and how, when there is one.
pub(crate) fn instead_of(claim: &str) -> Option<&'static str> {
    Some(match claim.to_ascii_lowercase().as_str() {
        "repository_owner" => "use `repository_owner_id` (the owner's numeric id), or `repository` with `StringLike` `OWNER/*`",
        "enterprise" => "use `enterprise_id`",
        "workflow_ref" => "use `job_workflow_ref` (equal to `workflow_ref` unless the job runs in a reusable workflow) or `workflow` (the workflow's name)",
        "ref_type" => "use `ref` with `StringLike` `refs/heads/*` or `refs/tags/*`",
        "event_name" => "use `sub`: a pull_request run without an environment has the subject `repo:OWNER/REPO:pull_request`",
        "head_ref" | "base_ref" => "use `sub` or `ref`: a pull_request run has `ref` `refs/pull/N/merge`",
        "sha" | "workflow_sha" | "job_workflow_sha" => "use `ref` or `job_workflow_ref`: no passed key carries a commit",
        _ => return None,
    })
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
