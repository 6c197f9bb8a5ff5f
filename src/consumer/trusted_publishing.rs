//! What PyPI, crates.io and npm trusted publishing share: a trusted publisher names the
//! repository, the top-level workflow file (from `workflow_ref`, not `job_workflow_ref`) and
//! optionally an environment.

use crate::claims::Claims;
use crate::findings::{Finding, FindingId, Severity};

/// The workflow file name from a `workflow_ref` (`o/r/.github/workflows/deploy.yml@refs/heads/main`).
pub(crate) fn workflow_file(workflow_ref: &str) -> &str {
    let path = workflow_ref.split('@').next().unwrap_or(workflow_ref);
    path.rsplit('/').next().unwrap_or(path)
}

/// The notice naming what the registry `name` will compare with its trusted publisher.
pub(crate) fn matched_claims(name: &str, claims: &Claims) -> Finding {
    Finding::new(
        FindingId::TrustedPublisherClaims,
        Severity::Notice,
        "What the registry matches",
        format!(
            "{name} matches repository `{}`, workflow file `{}` and environment `{}`",
            claims.str("repository").unwrap_or_default(),
            workflow_file(claims.str("workflow_ref").unwrap_or_default()),
            claims.str("environment").unwrap_or("(none)")
        ),
        "the trusted publisher must name exactly this workflow file (renamed files do not match) and, if it requires one, this environment",
    )
}
