//! The audit's text report, JSON, job summary and annotations. Workflow text, claim values
//! and document paths are untrusted (a branch name is whatever someone pushed): the log shows
//! them through [`commands::inert`], the summary through [`summary::escape`], annotations
//! through the workflow command escapes.

use std::io::{self, Write};

use serde::Serialize;

use crate::commands::{self, Level};
use crate::findings::{Severity, ANNOTATIONS_PER_LEVEL, MAX_LISTED_FINDINGS};
use crate::policy::PolicyFormat;
use crate::sink::summary;

use super::workflows::{Environment, Reusable};
use super::{Located, Report};

/// The JSON's `version`: raised when a key changes meaning or goes away (keys may be added).
pub const JSON_VERSION: u32 = 1;

/// Refusing reasons listed per cell in the text report.
const REASONS_PER_CELL: usize = 2;

fn format_key(format: PolicyFormat) -> &'static str {
    match format {
        PolicyFormat::Aws => "aws",
        PolicyFormat::Azure => "azure",
        PolicyFormat::Gcp => "gcp",
        PolicyFormat::Vault => "vault",
    }
}

fn counts(report: &Report) -> [usize; 3] {
    let n = |s| {
        report
            .findings
            .iter()
            .filter(|f| f.finding.severity == s)
            .count()
    };
    [
        n(Severity::Error),
        n(Severity::Warning),
        n(Severity::Notice),
    ]
}

fn at(f: &Located) -> String {
    match (&f.file, f.line) {
        (Some(file), Some(line)) => format!(" at {file}:{line}"),
        (Some(file), None) => format!(" at {file}"),
        _ => String::new(),
    }
}

fn env_text(e: &Option<String>) -> String {
    e.as_ref()
        .map(|e| format!("  environment {e}"))
        .unwrap_or_default()
}

/// What the text and the summary say when the subject form was not given.
const ASSUMED: &str = "assumed the name form `repo:OWNER/REPO:...`; a repository on the immutable form (`repo:OWNER@ID/REPO@ID:...`, github.com's default since 2026-07-15) or with a customized subject template gets another `sub`: give `--owner-id` and `--repository-id`, or `--include-claim-keys`";

/// The report for a person reading a terminal or the step log.
pub fn write_text(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let show = |s: &str| commands::inert(s);
    writeln!(
        out,
        "Audit of {}: {} workflow(s), {} job(s) that can request a token, {} trust document(s)",
        show(&report.repository),
        report.workflows.len(),
        report.jobs.len(),
        report.documents.len()
    )?;
    if report.subject_form_assumed {
        writeln!(out, "Subject form: {ASSUMED}")?;
    }
    if !report.jobs.is_empty() {
        writeln!(out, "Jobs that can request a token:")?;
        for j in &report.jobs {
            let job = &j.job;
            let env = match &job.environment {
                Environment::None => "no environment".to_owned(),
                Environment::Names(n) => format!("environment {}", show(&n.join(", "))),
                Environment::Unknown(e) => format!("environment {} (unknown)", show(e)),
            };
            let called = match &job.reusable {
                None => String::new(),
                Some(Reusable::Local(f)) => format!("; reusable workflow {}", show(f)),
                Some(Reusable::Remote(u)) => format!("; calls {}", show(u)),
            };
            writeln!(
                out,
                "  {}:{}  {}  ({env}; {}{called})",
                show(&job.path),
                job.line,
                show(&job.name()),
                show(&job.granted_by)
            )?;
        }
    }
    if !report.rows.is_empty() {
        writeln!(out, "Matrix (job × trigger × document):")?;
    }
    for row in &report.rows {
        let job = &report.jobs[row.job];
        writeln!(
            out,
            "  {} › {}  {} {}{}{}",
            show(&job.workflow),
            show(&job.job.name()),
            show(&row.run.event),
            show(&row.run.git_ref),
            if row.run.unnamed { " (any)" } else { "" },
            show(&env_text(&row.environment))
        )?;
        writeln!(
            out,
            "      sub {}",
            show(row.claims.subject().unwrap_or_default())
        )?;
        let job_workflow_ref = row.claims.str("job_workflow_ref");
        if job_workflow_ref != row.claims.str("workflow_ref") {
            writeln!(
                out,
                "      job_workflow_ref {}",
                show(job_workflow_ref.unwrap_or_default())
            )?;
        }
        for (cell, (path, _)) in row.cells.iter().zip(&report.documents) {
            if cell.report.allowed {
                writeln!(out, "      allowed  {}", show(path))?;
            } else {
                let why: Vec<String> = cell
                    .report
                    .refusing()
                    .into_iter()
                    .take(REASONS_PER_CELL)
                    .map(|r| format!("{}: {} ({})", r.location, r.message, r.id))
                    .collect();
                writeln!(
                    out,
                    "      refused  {}: {}",
                    show(path),
                    show(&why.join("; "))
                )?;
            }
        }
    }
    if !report.findings.is_empty() {
        writeln!(out, "Findings:")?;
    }
    for f in report.findings.iter().take(MAX_LISTED_FINDINGS) {
        let level = match f.finding.severity {
            Severity::Error => "error  ",
            Severity::Warning => "warning",
            Severity::Notice => "notice ",
        };
        writeln!(
            out,
            "  {level}  {} ({}){}",
            show(&f.finding.title),
            f.finding.id,
            show(&at(f))
        )?;
        writeln!(out, "           {}", show(&f.finding.message))?;
        writeln!(out, "           hint: {}", show(&f.finding.hint))?;
    }
    if report.findings.len() > MAX_LISTED_FINDINGS {
        writeln!(
            out,
            "  … {} more finding(s) in the JSON report",
            report.findings.len() - MAX_LISTED_FINDINGS
        )?;
    }
    let [e, w, n] = counts(report);
    let verdict = if report.failed() { "FAILED" } else { "passed" };
    writeln!(
        out,
        "Verdict: {verdict} ({e} error(s), {w} warning(s), {n} notice(s))"
    )
}

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    repository: &'a str,
    failed: bool,
    /// True when the tokens were predicted in the name form, neither ids nor a template given.
    subject_form_assumed: bool,
    workflows: &'a [String],
    documents: Vec<JsonDocument<'a>>,
    jobs: Vec<JsonJob<'a>>,
    matrix: Vec<JsonRow<'a>>,
    /// Set when the matrix was left out to keep the step output within GitHub's limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    matrix_rows_left_out: Option<usize>,
    findings: &'a [Located],
}

#[derive(Serialize)]
struct JsonDocument<'a> {
    path: &'a str,
    format: &'static str,
    allowed_rows: usize,
}

#[derive(Serialize)]
struct JsonJob<'a> {
    workflow: &'a str,
    job: String,
    file: &'a str,
    line: usize,
    reusable_workflow: Option<&'a str>,
    environments: Option<&'a [String]>,
    environment_expression: Option<&'a str>,
    condition: Option<&'a str>,
    granted_by: &'a str,
}

#[derive(Serialize)]
struct JsonRow<'a> {
    job: usize,
    trigger: &'a str,
    #[serde(rename = "ref")]
    git_ref: &'a str,
    unnamed_ref: bool,
    environment: Option<&'a str>,
    sub: Option<&'a str>,
    workflow_ref: Option<&'a str>,
    job_workflow_ref: Option<&'a str>,
    cells: Vec<JsonCell<'a>>,
}

#[derive(Serialize)]
struct JsonCell<'a> {
    document: &'a str,
    allowed: bool,
    reasons: Vec<JsonReason<'a>>,
    reasons_left_out: usize,
}

#[derive(Serialize)]
struct JsonReason<'a> {
    id: &'static str,
    location: &'a str,
    message: &'a str,
}

/// The report as one JSON object (keys documented in docs/audit.md), indented or on
/// one line.
pub fn to_json(report: &Report, pretty: bool) -> String {
    to_json_with(report, pretty, true)
}

/// GitHub refuses a step output over 1 MB; the `audit` output stays well inside it.
pub const OUTPUT_LIMIT: usize = 512 * 1024;

/// The `audit` step output: the whole report on one line, or, past [`OUTPUT_LIMIT`] (a large
/// repository: 50 workflows by 20 documents make megabytes of matrix), the report without the
/// matrix and with the number of rows left out. The job summary and the log keep the matrix;
/// `oidc-preflight audit --format json` gives it whole.
pub fn to_output(report: &Report) -> String {
    let full = to_json_with(report, false, true);
    if full.len() <= OUTPUT_LIMIT {
        return full;
    }
    to_json_with(report, false, false)
}

fn to_json_with(report: &Report, pretty: bool, with_matrix: bool) -> String {
    let json = JsonReport {
        version: JSON_VERSION,
        repository: &report.repository,
        failed: report.failed(),
        subject_form_assumed: report.subject_form_assumed,
        workflows: &report.workflows,
        documents: report
            .documents
            .iter()
            .enumerate()
            .map(|(i, (path, format))| JsonDocument {
                path,
                format: format_key(*format),
                allowed_rows: report
                    .rows
                    .iter()
                    .filter(|r| r.cells[i].report.allowed)
                    .count(),
            })
            .collect(),
        jobs: report
            .jobs
            .iter()
            .map(|j| JsonJob {
                workflow: &j.workflow,
                job: j.job.name(),
                file: &j.job.path,
                line: j.job.line,
                reusable_workflow: match &j.job.reusable {
                    None => None,
                    Some(Reusable::Local(f)) | Some(Reusable::Remote(f)) => Some(f),
                },
                environments: match &j.job.environment {
                    Environment::Names(n) => Some(n),
                    _ => None,
                },
                environment_expression: match &j.job.environment {
                    Environment::Unknown(e) => Some(e),
                    _ => None,
                },
                condition: j.job.condition.as_deref(),
                granted_by: &j.job.granted_by,
            })
            .collect(),
        matrix_rows_left_out: (!with_matrix).then_some(report.rows.len()),
        matrix: report
            .rows
            .iter()
            .filter(|_| with_matrix)
            .map(|r| JsonRow {
                job: r.job,
                trigger: &r.run.event,
                git_ref: &r.run.git_ref,
                unnamed_ref: r.run.unnamed,
                environment: r.environment.as_deref(),
                sub: r.claims.subject(),
                workflow_ref: r.claims.str("workflow_ref"),
                job_workflow_ref: r.claims.str("job_workflow_ref"),
                cells: r
                    .cells
                    .iter()
                    .zip(&report.documents)
                    .map(|(c, (path, _))| {
                        // A refusal's first reason (the most specific: a condition, a
                        // subject); an allow needs none. 50 workflows x 20 documents are
                        // 10,000 cells, so the rest are counted, not listed: `check` and
                        // `predict` list them for one token.
                        let refusing = c.report.refusing();
                        let listed = if c.report.allowed { 0 } else { 1 };
                        JsonCell {
                            document: path,
                            allowed: c.report.allowed,
                            reasons: refusing
                                .iter()
                                .take(listed)
                                .map(|x| JsonReason {
                                    id: x.id.as_str(),
                                    location: &x.location,
                                    message: &x.message,
                                })
                                .collect(),
                            reasons_left_out: refusing.len().saturating_sub(listed),
                        }
                    })
                    .collect(),
            })
            .collect(),
        findings: &report.findings,
    };
    // serde_json escapes control characters; `##[` is the runner's legacy command marker,
    // read anywhere in a line, so its `[` is written as the same character escaped.
    let text = if pretty {
        serde_json::to_string_pretty(&json)
    } else {
        serde_json::to_string(&json)
    };
    text.unwrap_or_default().replace("##[", "##\\u005b")
}

fn icon(allowed: bool) -> &'static str {
    if allowed {
        "✅"
    } else {
        "❌"
    }
}

fn severity_icon(s: Severity) -> &'static str {
    match s {
        Severity::Error => "❌",
        Severity::Warning => "⚠️",
        Severity::Notice => "ℹ️",
    }
}

/// A message with its `backticked` spans as code, escaped; all plain when they do not pair.
fn escape_message(text: &str) -> String {
    let spans: Vec<&str> = text.split('`').collect();
    if spans.len().is_multiple_of(2) {
        return summary::escape(text);
    }
    spans
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", summary::escape(s))
            } else {
                summary::escape(s)
            }
        })
        .collect()
}

/// Rows shown in the job summary's table; the JSON output has them all.
const SUMMARY_ROWS: usize = 200;

/// A workflow's path without the folder every workflow is in, for the matrix's narrow job
/// column.
fn workflow_file(path: &str) -> &str {
    path.strip_prefix(".github/workflows/").unwrap_or(path)
}

/// The job summary: verdict, the findings (the cause first), then the matrix, its documents
/// numbered so that the table stays within the page with several of them.
pub fn write_summary(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let e = summary::escape;
    writeln!(
        out,
        "## {} OIDC audit {}\n",
        icon(!report.failed()),
        if report.failed() { "failed" } else { "passed" }
    )?;
    writeln!(
        out,
        "{} workflow(s), {} job(s) that can request a token, {} trust document(s).\n",
        report.workflows.len(),
        report.jobs.len(),
        report.documents.len()
    )?;
    if report.subject_form_assumed {
        // Our own text, escaped like everything else; its backticks would show literally.
        writeln!(
            out,
            "> **Subject form:** {}\n",
            e(&ASSUMED.replace('`', ""))
        )?;
    }
    if !report.findings.is_empty() {
        writeln!(out, "### Findings\n")?;
    }
    for f in report.findings.iter().take(MAX_LISTED_FINDINGS) {
        let place = match (&f.file, f.line) {
            (Some(file), Some(line)) => format!(" at <code>{}:{line}</code>", e(file)),
            (Some(file), None) => format!(" at <code>{}</code>", e(file)),
            _ => String::new(),
        };
        writeln!(
            out,
            "- {} **{}** (<code>{}</code>){place}: {}<br>*Hint:* {}",
            severity_icon(f.finding.severity),
            e(&f.finding.title),
            f.finding.id,
            escape_message(&f.finding.message),
            escape_message(&f.finding.hint)
        )?;
    }
    if report.findings.len() > MAX_LISTED_FINDINGS {
        writeln!(
            out,
            "- … and {} more finding(s) in the step log's JSON output",
            report.findings.len() - MAX_LISTED_FINDINGS
        )?;
    }
    if !report.findings.is_empty() {
        writeln!(out)?;
    }
    if report.rows.is_empty() {
        return Ok(());
    }
    writeln!(out, "### Each job's token against each document\n")?;
    // The documents' paths as column headers made the table several pages wide: numbered
    // columns, and the paths here.
    for (i, (path, format)) in report.documents.iter().enumerate() {
        let allowed = report
            .rows
            .iter()
            .filter(|r| r.cells[i].report.allowed)
            .count();
        writeln!(
            out,
            "{}. <code>{}</code> ({format}): allows {allowed} of {} token(s)",
            i + 1,
            e(path),
            report.rows.len()
        )?;
    }
    if !report.documents.is_empty() {
        writeln!(out)?;
    }
    write!(out, "| job | trigger and ref | sub |")?;
    for i in 0..report.documents.len() {
        write!(out, " {} |", i + 1)?;
    }
    writeln!(out)?;
    writeln!(out, "|{}", "---|".repeat(3 + report.documents.len()))?;
    for row in report.rows.iter().take(SUMMARY_ROWS) {
        let job = &report.jobs[row.job];
        let environment = row
            .environment
            .as_deref()
            .map(|env| format!("<br>environment <code>{}</code>", e(env)))
            .unwrap_or_default();
        write!(
            out,
            "| {} › {} | {} <code>{}</code>{}{environment} | <code>{}</code> |",
            e(workflow_file(&job.workflow)),
            e(&job.job.name()),
            e(&row.run.event),
            e(&row.run.git_ref),
            if row.run.unnamed { " (any)" } else { "" },
            e(row.claims.subject().unwrap_or_default())
        )?;
        for cell in &row.cells {
            write!(out, " {} |", icon(cell.report.allowed))?;
        }
        writeln!(out)?;
    }
    if report.rows.len() > SUMMARY_ROWS {
        writeln!(
            out,
            "\n{} more row(s) in the JSON output.",
            report.rows.len() - SUMMARY_ROWS
        )?;
    }
    writeln!(out)?;
    Ok(())
}

/// One annotation per finding on the file and line that causes it, at most
/// [`ANNOTATIONS_PER_LEVEL`] per level (GitHub shows no more), the last of a full level
/// saying how many more the log lists.
pub fn write_annotations(out: &mut impl Write, report: &Report) -> io::Result<()> {
    for level in [Level::Error, Level::Warning, Level::Notice] {
        let of_level: Vec<&Located> = report
            .findings
            .iter()
            .filter(|f| f.finding.severity == level)
            .collect();
        let shown = if of_level.len() > ANNOTATIONS_PER_LEVEL {
            ANNOTATIONS_PER_LEVEL - 1
        } else {
            of_level.len()
        };
        for f in &of_level[..shown] {
            let mut props = String::new();
            if let Some(file) = &f.file {
                props.push_str(&format!("file={},", commands::escape_property(file)));
                if let Some(line) = f.line {
                    props.push_str(&format!("line={line},"));
                }
            }
            let message = format!("{}\nhint: {}", f.finding.message, f.finding.hint);
            writeln!(
                out,
                "::{} {props}title={}::{}",
                level.command(),
                commands::escape_property(&commands::inert(&format!(
                    "{} ({})",
                    f.finding.title, f.finding.id
                ))),
                commands::escape_data(&commands::escape_controls(&commands::shorten(
                    &message,
                    commands::ANNOTATION_LIMIT
                )))
            )?;
        }
        if of_level.len() > shown {
            writeln!(
                out,
                "::{} title=More audit findings::{} more {} finding(s): see the step log",
                level.command(),
                of_level.len() - shown,
                level.command()
            )?;
        }
    }
    Ok(())
}
