//! The step outputs' values (the action writes them to `GITHUB_OUTPUT`, two-phase).

use crate::findings;
use crate::report::Report;
use crate::secret::Secret;
use crate::trust;

/// The step outputs, in the order they are written.
pub fn values(token: &Secret, report: &Report) -> Vec<(&'static str, String)> {
    let analysis = report;
    let c = report.token_claims();
    let text = |name: &str| c.text(name).unwrap_or_default();
    vec![
        ("token", token.reveal().to_owned()),
        ("claims", c.to_json()),
        ("subject", text("sub")),
        ("audience", text("aud")),
        ("issuer", text("iss")),
        ("repository", text("repository")),
        ("ref", text("ref")),
        ("environment", text("environment")),
        ("job-workflow-ref", text("job_workflow_ref")),
        (
            "expires-at",
            c.timestamp("exp")
                .map(|e| e.to_string())
                .unwrap_or_default(),
        ),
        ("matched", analysis.passed().to_string()),
        ("subject-form", analysis.subject_form.kind().to_owned()),
        (
            "suggested-pattern",
            analysis.suggested_pattern().unwrap_or_default().to_owned(),
        ),
        ("findings", findings::to_json(&analysis.findings)),
        ("signature", report.signature_status().as_str().to_owned()),
        (
            "policy-result",
            trust::result(&analysis.policies).to_owned(),
        ),
    ]
}
