//! `--format json`: the report as one JSON document (keys documented in docs/command-line.md).

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::findings::Finding;
use crate::report::Report;
use crate::snippets::Snippets;
use crate::trust;

/// One trust policy's verdict in the JSON report.
#[derive(Serialize)]
struct JsonPolicy<'a> {
    path: &'a str,
    format: String,
    allowed: bool,
    reasons: Vec<JsonReason<'a>>,
    warnings: Vec<JsonReason<'a>>,
}

#[derive(Serialize)]
struct JsonReason<'a> {
    id: &'a str,
    location: &'a str,
    message: &'a str,
    hint: Option<&'a str>,
}

impl<'a> From<&'a crate::policy::Reason> for JsonReason<'a> {
    fn from(r: &'a crate::policy::Reason) -> Self {
        Self {
            id: r.id.as_str(),
            location: &r.location,
            message: &r.message,
            hint: r.hint.as_deref(),
        }
    }
}

impl<'a> From<&'a trust::PolicyOutcome> for JsonPolicy<'a> {
    fn from(o: &'a trust::PolicyOutcome) -> Self {
        Self {
            path: &o.path,
            format: o.report.format.to_string(),
            allowed: o.report.allowed,
            reasons: o.report.reasons.iter().map(JsonReason::from).collect(),
            warnings: o.report.warnings.iter().map(JsonReason::from).collect(),
        }
    }
}

/// The JSON report of `--format json`.
#[derive(Serialize)]
struct JsonReport<'a> {
    /// True only when checks were requested and all held (as the `matched` output).
    passed: bool,
    /// `passed`, `failed` or `nothing-checked`.
    verdict: &'static str,
    predicted_for: Option<&'a str>,
    subject: Option<&'a str>,
    subject_form: &'a str,
    suggested_pattern: Option<&'a str>,
    signature: Option<&'a str>,
    policy_result: &'a str,
    policies: Vec<JsonPolicy<'a>>,
    suggestions: &'a [String],
    findings: &'a [Finding],
    snippets: &'a Snippets,
    claims: &'a Map<String, Value>,
}

/// Writes the report as pretty JSON and a line break.
pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let analysis = report;
    let json = JsonReport {
        passed: analysis.passed(),
        verdict: analysis.verdict().as_str(),
        predicted_for: analysis.predicted_for.as_deref(),
        subject: analysis.claims.subject(),
        subject_form: analysis.subject_form.kind(),
        suggested_pattern: analysis.suggested_pattern(),
        signature: analysis.signature.as_deref(),
        policy_result: trust::result(&analysis.policies),
        policies: analysis.policies.iter().map(JsonPolicy::from).collect(),
        suggestions: &analysis.suggestions,
        findings: &analysis.findings,
        snippets: &analysis.snippets,
        claims: analysis.claims.as_map(),
    };
    // serde_json escapes control characters, so no value can start a line. The runner
    // also reads a legacy `##[command]` anywhere in a line; `#` occurs only inside
    // strings, where `\u005b` is the same `[` to any JSON reader.
    serde_json::to_string_pretty(&json)
        .map_err(io::Error::other)
        .and_then(|json| writeln!(out, "{}", json.replace("##[", "##\\u005b")))
}
