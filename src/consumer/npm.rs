//! npm trusted publishing: the audience it expects and what its trusted publisher matches (the rule the
//! package registries share is in [`super::trusted_publishing`]).

use super::trusted_publishing::{shared_checks, unsupported, Compare, Rules, TrustedPublisher};
use crate::claims::Claims;
use crate::findings::Finding;

/// How hints name it.
pub(crate) const NAME: &str = "npm";
/// The audience it expects.
pub(crate) const AUDIENCE: &str = "npm:registry.npmjs.org";
/// What it answers for a wrong audience, as users search for it.
pub(crate) const AUDIENCE_ERROR: &str = "the token's audience is not accepted";

/// It takes the workflow file from the calling workflow's `workflow_ref` (facts file,
/// "Registries (trusted publishing)").
const WORKFLOW_CLAIM: &str = "workflow_ref";

/// How it compares a trusted publisher with the token.
const RULES: Rules = Rules {
    name: NAME,
    workflow_claim: WORKFLOW_CLAIM,
    repository: Compare::Exact,
    workflow: Compare::Exact,
    environment: Compare::Exact,
};

/// What its trusted publisher matches in this token.
pub(crate) fn publisher_claims(claims: &Claims) -> Finding {
    super::trusted_publishing::matched_claims(NAME, WORKFLOW_CLAIM, claims)
}

/// npm's checks of a token against the trusted publisher `p`. The registry's code is not
/// public: the rules are npm's documentation (docs.npmjs.com/trusted-publishers,
/// "Troubleshooting": "All fields are case-sensitive and must be exact", and self-hosted
/// runners "are not currently supported"; npm/documentation#1793), so the findings say so.
pub(crate) fn check_publisher(p: &TrustedPublisher, claims: &Claims) -> Vec<Finding> {
    let mut findings = Vec::new();
    if claims.str("runner_environment") == Some("self-hosted") {
        findings.push(unsupported(
            "this job runs on a self-hosted runner, and npm's documentation says trusted publishing does not support self-hosted runners yet".to_owned(),
            "run the publishing job on a GitHub-hosted runner (`runs-on: ubuntu-latest`)",
        ));
    }
    let mut found = shared_checks(p, claims, &RULES, true);
    for f in &mut found {
        f.message.push_str(
            " (npm's matching is documented, not published as code: modelled on its documentation)",
        );
    }
    findings.extend(found);
    findings
}
