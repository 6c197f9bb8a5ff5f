//! What PyPI, crates.io and npm trusted publishing share: a trusted publisher names the
//! repository, a workflow file and optionally an environment. Which claim the workflow file
//! comes from differs: PyPI reads `job_workflow_ref` (pypi/warehouse
//! `warehouse/oidc/models/github.py`, so a job in a reusable workflow is matched by the
//! reusable workflow's file), crates.io and npm the calling workflow's `workflow_ref`
//! (facts file, "Registries (trusted publishing) each read different claims").

use crate::claims::Claims;
use crate::findings::{Finding, FindingId, Severity};

/// The workflow file name from a `workflow_ref` or `job_workflow_ref`
/// (`o/r/.github/workflows/deploy.yml@refs/heads/main`).
pub(crate) fn workflow_file(workflow_ref: &str) -> &str {
    let path = workflow_ref.split('@').next().unwrap_or(workflow_ref);
    path.rsplit('/').next().unwrap_or(path)
}

/// The notice naming what the registry `name` will compare with its trusted publisher, the
/// workflow file taken from the claim `workflow_claim` that registry reads.
pub(crate) fn matched_claims(name: &str, workflow_claim: &str, claims: &Claims) -> Finding {
    Finding::new(
        FindingId::TrustedPublisherClaims,
        Severity::Notice,
        "What the registry matches",
        format!(
            "{name} matches repository `{}`, workflow file `{}` and environment `{}`",
            claims.str("repository").unwrap_or_default(),
            workflow_file(claims.str(workflow_claim).unwrap_or_default()),
            claims.str("environment").unwrap_or("(none)")
        ),
        "the trusted publisher must name exactly this workflow file (renamed files do not match) and, if it requires one, this environment",
    )
}
