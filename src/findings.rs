//! Findings: one diagnosis each, with a stable id, a severity, a one-line message and a hint.
//! The same list drives the log, the annotations, the job summary, the JSON output and tests.

use serde::Serialize;

pub use crate::commands::Level as Severity;

/// One diagnosis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable kebab-case id, e.g. `subject-form-environment` (documented in the README).
    pub id: &'static str,
    /// Error: a check failed. Warning: likely to break the login. Notice: context.
    pub severity: Severity,
    /// A short title for annotations.
    pub title: String,
    /// What is the case, in one line. May quote claim values (untrusted: escape to display).
    pub message: String,
    /// What to change.
    pub hint: String,
}

impl Finding {
    /// Builds a finding.
    pub fn new(
        id: &'static str,
        severity: Severity,
        title: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self {
            id,
            severity,
            title: title.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// True when any finding is an error, i.e. a requested check failed.
pub fn any_error(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// The findings as a JSON array (the `findings` output).
pub fn to_json(findings: &[Finding]) -> String {
    serde_json::to_string(findings).unwrap_or_else(|_| "[]".to_owned())
}
