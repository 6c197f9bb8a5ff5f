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
/// `token.actions.githubusercontent.com/acme` for an enterprise-slug issuer. IAM names the
/// OIDC provider (`oidc-provider/PREFIX`) and the condition keys (`PREFIX:sub`) after the
/// provider URL, and STS takes the provider whose URL equals the token's `iss` exactly. So a
/// trailing `/` is kept: trimming it would name keys of a provider that the token's `iss` does
/// not equal (the `issuer-trailing-slash` finding explains that mismatch). The one rule for
/// the snippet and the evaluator.
pub(crate) fn key_prefix(issuer: &str) -> &str {
    issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://"))
        .unwrap_or(issuer)
}

/// The trust policy `Condition` block for a token from `issuer`: the audience exact
/// (`StringEquals`), the subject as a `StringLike` pattern.
pub(crate) fn snippet(issuer: &str, subject_pattern: &str, audience: &str) -> String {
    let prefix = key_prefix(issuer).trim_end_matches('/');
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
