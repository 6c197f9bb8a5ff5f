//! PyPI trusted publishing: the audience it expects and what its trusted publisher matches (the rule the
//! package registries share is in [`super::trusted_publishing`]).

use crate::claims::Claims;
use crate::findings::Finding;

/// How hints name it.
pub(crate) const NAME: &str = "PyPI";
/// The audience it expects.
pub(crate) const AUDIENCE: &str = "pypi";
/// What it answers for a wrong audience, as users search for it.
pub(crate) const AUDIENCE_ERROR: &str =
    "invalid-publisher: valid token, but no corresponding publisher";

/// PyPI takes the workflow file from `job_workflow_ref` (pypi/warehouse
/// `warehouse/oidc/models/github.py`, `_check_job_workflow_ref`).
const WORKFLOW_CLAIM: &str = "job_workflow_ref";

/// What its trusted publisher matches in this token.
pub(crate) fn publisher_claims(claims: &Claims) -> Finding {
    super::trusted_publishing::matched_claims(NAME, WORKFLOW_CLAIM, claims)
}
