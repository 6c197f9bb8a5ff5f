//! PyPI trusted publishing: the audience it expects and what its trusted publisher matches (the rule the
//! package registries share is in [`super::trusted_publishing`]).

use super::trusted_publishing::{shared_checks, unsupported, Compare, Rules, TrustedPublisher};
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

/// How it compares a trusted publisher with the token.
const RULES: Rules = Rules {
    name: NAME,
    workflow_claim: WORKFLOW_CLAIM,
    repository: Compare::IgnoringCase,
    workflow: Compare::Exact,
    // `_check_environment` lowercases both.
    environment: Compare::IgnoringCase,
};

/// What its trusted publisher matches in this token.
pub(crate) fn publisher_claims(claims: &Claims) -> Finding {
    super::trusted_publishing::matched_claims(NAME, WORKFLOW_CLAIM, claims)
}

/// PyPI's checks of a token against the trusted publisher `p`, as pypi/warehouse
/// `warehouse/oidc/models/github.py` makes them (`lookup_by_claims`, `_check_sub`,
/// `_check_job_workflow_ref`, `_check_environment`; read at commit 00be88b). Owner and
/// repository: PyPI stores them as GitHub spells them when the publisher is created, and the
/// token carries GitHub's spelling, so what the user typed may differ in case only.
pub(crate) fn check_publisher(p: &TrustedPublisher, claims: &Claims) -> Vec<Finding> {
    let mut findings = Vec::new();
    // The facts file: tokens from `pull_request_target` are refused outright
    // (warehouse `_check_event_name`, newer than the commit read above).
    if claims.str("event_name") == Some("pull_request_target") {
        findings.push(unsupported(
            "PyPI refuses tokens from `pull_request_target` events, whatever its trusted publishers say".to_owned(),
            "publish from a `push`, `release` or `workflow_dispatch` run instead",
        ));
    }
    let sub = claims.subject().unwrap_or_default();
    let repository = claims.str("repository").unwrap_or_default();
    // `_check_sub`: the first two `:`-separated parts must be `repo` and OWNER/REPO, compared
    // ignoring case with the publisher's `repo:OWNER/REPO`.
    let mut parts = sub.split(':');
    let (head, repo_part) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    if head != "repo" {
        findings.push(unsupported(
            format!("PyPI requires `sub` to begin with `repo:OWNER/REPO`; this token's sub `{sub}` comes from a customized subject template"),
            "reset the repository's OIDC subject template (`PUT /repos/OWNER/REPO/actions/oidc/customization/sub` with `{\"use_default\": true}`), or keep `repo` as its first claim key; PyPI cannot be configured to accept another form",
        ));
    } else if repo_part.contains('@') {
        findings.push(unsupported(
            format!("`sub` `{sub}` is in the immutable form (`repo:OWNER@ID/REPO@ID`); the PyPI source read (`_check_sub` at warehouse commit 00be88b) compares `repo:OWNER/REPO` and would refuse it, and newer PyPI releases may not: the source this is modelled on is older than the immutable form"),
            "try the publish once; if PyPI answers `invalid-publisher`, check PyPI's trusted publishing troubleshooting page for the immutable subject form before changing the repository's subject setting",
        ));
    }
    // `_check_job_workflow_ref` against the publisher's repository: a job in a reusable
    // workflow of another repository has a job_workflow_ref PyPI cannot match
    // (pypi/warehouse#11096).
    let job_ref = claims.str(WORKFLOW_CLAIM).unwrap_or_default();
    let job_repo = job_ref.split("/.github/").next().unwrap_or_default();
    let other_repository = !job_repo.is_empty() && !job_repo.eq_ignore_ascii_case(repository);
    if other_repository {
        findings.push(unsupported(
            format!("this job runs in a reusable workflow of another repository (job_workflow_ref `{job_ref}`); PyPI matches the file in job_workflow_ref against the publisher's repository and does not support reusable workflows from other repositories (pypi/warehouse#11096)"),
            format!("run the publish step in a workflow of `{repository}` itself (the reusable workflow can build; the upload job must live in this repository)"),
        ));
    }
    // `_check_job_workflow_ref`: what follows the `@` must be the `ref` or the `sha` claim,
    // so a reusable workflow called at another ref (`@main` from a tag run) is refused.
    let called_at = job_ref.rsplit_once('@').map(|(_, at)| at);
    let (git_ref, sha) = (claims.str("ref"), claims.str("sha"));
    if let Some(at) = called_at.filter(|at| Some(*at) != git_ref && Some(*at) != sha) {
        findings.push(unsupported(
            format!("job_workflow_ref `{job_ref}` names `@{at}`, but PyPI requires it to be this run's ref `{}` or sha `{}` (`_check_job_workflow_ref`): the reusable workflow is called at another ref", git_ref.unwrap_or("(absent)"), sha.unwrap_or("(absent)")),
            "call the reusable workflow at the ref being published (`uses: ./.github/workflows/FILE` from the same repository), or run the upload in the triggered workflow",
        ));
    }
    // A reusable workflow of another repository is that finding's cause: registering its
    // file on PyPI would not help, so the workflow comparison is not offered beside it.
    findings.extend(shared_checks(p, claims, &RULES, !other_repository));
    findings
}
