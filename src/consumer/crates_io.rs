//! crates.io trusted publishing: the audience it expects and what its trusted publisher matches (the rule the
//! package registries share is in [`super::trusted_publishing`]).

use super::trusted_publishing::{shared_checks, unsupported, Compare, Rules, TrustedPublisher};
use crate::claims::Claims;
use crate::findings::Finding;

/// How hints name it.
pub(crate) const NAME: &str = "crates.io";
/// The audience it expects.
pub(crate) const AUDIENCE: &str = "crates.io";
/// What it answers for a wrong audience, as users search for it.
pub(crate) const AUDIENCE_ERROR: &str = "the token's audience is not accepted";

/// It takes the workflow file from the calling workflow's `workflow_ref` (facts file,
/// "Registries (trusted publishing)").
const WORKFLOW_CLAIM: &str = "workflow_ref";

/// How it compares a trusted publisher with the token.
const RULES: Rules = Rules {
    name: NAME,
    workflow_claim: WORKFLOW_CLAIM,
    repository: Compare::IgnoringCase,
    workflow: Compare::Exact,
    environment: Compare::IgnoringCase,
};

/// What its trusted publisher matches in this token.
pub(crate) fn publisher_claims(claims: &Claims) -> Finding {
    super::trusted_publishing::matched_claims(NAME, WORKFLOW_CLAIM, claims)
}

/// The issuer crates.io accepts, and nothing else (crates_io_trustpub `GITHUB_ISSUER_URL`).
const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// crates.io's checks of a token against the trusted publisher `p`, as rust-lang/crates.io
/// makes them: `crates/crates_io_trustpub/src/github/claims.rs` (the token must have one `aud`
/// string and GitHub's issuer exactly) and `src/controllers/trustpub/tokens/exchange.rs`
/// (`repository_owner_id` equal, owner and repository compared with `lower()`, the workflow file
/// from `workflow_ref` exactly, the environment ignoring case when the config has one).
pub(crate) fn check_publisher(p: &TrustedPublisher, claims: &Claims) -> Vec<Finding> {
    let mut findings = Vec::new();
    if matches!(claims.get("aud"), Some(serde_json::Value::Array(_))) {
        findings.push(unsupported(
            "the token's `aud` is a list; crates.io reads it as one string and refuses a list".to_owned(),
            "request the token with exactly one audience, `crates.io` (rust-lang/crates-io-auth-action does)",
        ));
    }
    if let Some(iss) = claims.str("iss").filter(|iss| *iss != ISSUER) {
        findings.push(unsupported(
            format!("crates.io accepts tokens from `{ISSUER}` only; this token's issuer is `{iss}` (GitHub Enterprise Server, GHE.com and enterprise issuer slugs are not supported)"),
            "publish from a repository on github.com whose enterprise has no custom issuer",
        ));
    }
    findings.extend(shared_checks(p, claims, &RULES, true));
    findings
}
