//! Findings: one diagnosis each, with a stable id, a severity, a one-line message and a hint.
//! The same list drives the log, the annotations, the job summary, the JSON output and tests.

use serde::Serialize;

pub use crate::commands::Level as Severity;

/// Largest `findings` output, in bytes. A real run has a few kilobytes of findings; a flood
/// (many trust documents, or claims quoted at length) is cut at a whole finding and ends with
/// a `findings-truncated` entry that says how many were left out, so the output stays valid
/// JSON.
pub const MAX_FINDINGS_JSON_BYTES: usize = 256 * 1024;

/// Annotations written per level (error, warning, notice) in one step: GitHub shows only the
/// first 10 of each. With more, the first 9 are written and the 10th says how many more the
/// log lists.
pub const ANNOTATIONS_PER_LEVEL: usize = 10;

/// Findings listed in the step log and the job summary; a line says how many more there are.
pub const MAX_LISTED_FINDINGS: usize = 100;

/// Reasons listed per trust document in the step log and the job summary.
pub const MAX_LISTED_REASONS: usize = 20;

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

/// The findings as a JSON array (the `findings` output), at most
/// [`MAX_FINDINGS_JSON_BYTES`] long.
pub fn to_json(findings: &[Finding]) -> String {
    to_json_within(findings, MAX_FINDINGS_JSON_BYTES)
}

/// The entry that ends a cut `findings` output.
pub fn truncation_marker(left_out: usize, limit: usize) -> Finding {
    Finding::new(
        "findings-truncated",
        Severity::Notice,
        "More findings",
        format!(
            "{left_out} more finding(s) are left out of this output, which is capped at {limit} bytes"
        ),
        "fix the findings above first; the step log counts them all",
    )
}

fn to_json_within(findings: &[Finding], limit: usize) -> String {
    let items: Vec<String> = findings
        .iter()
        .map(|f| serde_json::to_string(f).unwrap_or_else(|_| "null".to_owned()))
        .collect();
    let whole = items.iter().map(|i| i.len() + 1).sum::<usize>() + 1;
    if whole <= limit {
        return format!("[{}]", items.join(","));
    }
    // Room for the marker with the largest count it can carry, so that whatever is kept, the
    // marker still fits.
    let marker = |n| serde_json::to_string(&truncation_marker(n, limit)).unwrap_or_default();
    let reserve = marker(findings.len()).len() + 2;
    let mut kept = Vec::new();
    let mut size = reserve;
    for item in &items {
        if size + item.len() + 1 > limit {
            break;
        }
        size += item.len() + 1;
        kept.push(item.as_str());
    }
    let last = marker(findings.len() - kept.len());
    kept.push(&last);
    format!("[{}]", kept.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(i: usize) -> Finding {
        Finding::new(
            "policy-allows",
            Severity::Error,
            "t",
            format!("message {i} \"quoted\" {}", "é".repeat(i % 7)),
            "h",
        )
    }

    #[test]
    fn a_flood_of_findings_is_cut_at_a_whole_finding_with_a_count() {
        let findings: Vec<Finding> = (0..20_000).map(finding).collect();
        let json = to_json(&findings);
        assert!(json.len() <= MAX_FINDINGS_JSON_BYTES, "{}", json.len());
        let parsed: Vec<serde_json::Value> = serde_json::from_str(&json).expect("valid JSON");
        let last = parsed.last().unwrap();
        assert_eq!(last["id"], "findings-truncated");
        let kept = parsed.len() - 1;
        assert!(kept > 100, "{kept}");
        let message = last["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("{} more finding(s)", 20_000 - kept)),
            "{message}"
        );
        for (i, item) in parsed[..kept].iter().enumerate() {
            assert_eq!(item["message"], findings[i].message);
        }
    }

    #[test]
    fn the_cut_holds_at_every_size() {
        let findings: Vec<Finding> = (0..40).map(finding).collect();
        let whole = serde_json::to_string(&findings).unwrap();
        assert_eq!(to_json_within(&findings, whole.len()), whole);
        for limit in (300..whole.len()).step_by(37) {
            let json = to_json_within(&findings, limit);
            assert!(json.len() <= limit, "{limit}: {}", json.len());
            let parsed: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
            assert_eq!(parsed.last().unwrap()["id"], "findings-truncated");
        }
    }
}
