//! npm trusted publishing: the audience it expects and what its trusted publisher matches (the rule the
//! package registries share is in [`super::trusted_publishing`]).

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

/// What its trusted publisher matches in this token.
pub(crate) fn publisher_claims(claims: &Claims) -> Finding {
    super::trusted_publishing::matched_claims(NAME, WORKFLOW_CLAIM, claims)
}
