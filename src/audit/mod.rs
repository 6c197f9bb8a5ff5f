//! The audit: every job of a repository's workflows that can request an OIDC token, each way
//! it can run, its predicted token ([`crate::predict`]), and every trust document evaluated
//! against every prediction ([`crate::policy`]), as a matrix with findings: jobs that will be
//! refused, documents nothing satisfies, and trust wider than it looks.
//!
//! ```
//! use oidc_preflight::audit::{audit, Document, Options, WorkflowFile};
//! use oidc_preflight::Policy;
//!
//! let workflow = WorkflowFile {
//!     path: ".github/workflows/deploy.yml".into(),
//!     text: "on:\n  push:\n    branches: [main]\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    environment: prod\n    permissions:\n      id-token: write\n    steps: [{run: ./deploy}]\n".into(),
//! };
//! let policy = Policy::parse(r#"{"issuer": "https://token.actions.githubusercontent.com",
//!     "subject": "repo:octo-org/octo-repo:environment:prod",
//!     "audiences": ["api://AzureADTokenExchange"]}"#, None).unwrap();
//! let documents = [Document::new("azure.json", policy, None)];
//! let report = audit(&[workflow], &documents, &Options::new("octo-org/octo-repo")).unwrap();
//! assert!(report.rows[0].cells[0].report.allowed);
//! assert!(!report.failed());
//! ```

mod dangerous;
mod matrix;
pub mod render;
mod run;
pub mod triggers;
pub mod workflows;

use std::path::Path;
use std::rc::Rc;

use thiserror::Error;

use crate::claims::Claims;
use crate::commands::Level;
use crate::consumer::Consumer;
use crate::files::{self, FileError};
use crate::findings::{Finding, FindingId, Severity};
use crate::policy::{Policy, PolicyFormat, PolicyReport};
use crate::predict::{self, JobFacts, PredictError};
use crate::trust::{self, TrustPolicyError};

pub use run::{requested, run_action_audit, run_cli_audit, ACTION_INPUT};
pub use triggers::Run;
pub use workflows::{TokenJob, WorkflowFile};

/// Most workflow files read in one audit; a repository has tens.
pub const MAX_WORKFLOWS: usize = 500;

/// Largest workflow file read.
const MAX_WORKFLOW_BYTES: u64 = 1024 * 1024;

/// What the workflows do not say: the repository, its subject configuration, the issuer.
#[derive(Debug, Clone)]
pub struct Options {
    /// `OWNER/REPO`.
    pub repository: String,
    /// The owner's and repository's ids, when the repository uses the immutable subject.
    pub ids: Option<(String, String)>,
    /// The repository's customized subject template; empty for the default.
    pub include_claim_keys: Vec<String>,
    /// The issuer (GHES, GHE.com or an enterprise slug change it).
    pub issuer: String,
    /// The default branch: where `schedule` and most events run.
    pub default_branch: String,
    /// The audience every job requests; `None`: each document's own (see [`Document`]).
    pub audience: Option<String>,
    /// Claim values a template needs that no workflow gives.
    pub extra: Vec<(String, String)>,
}

impl Options {
    /// The defaults for `repository` on github.com, default branch `main`.
    pub fn new(repository: impl Into<String>) -> Self {
        Self {
            repository: repository.into(),
            ids: None,
            include_claim_keys: Vec::new(),
            issuer: predict::GITHUB_ISSUER.to_owned(),
            default_branch: "main".to_owned(),
            audience: None,
            extra: Vec::new(),
        }
    }
}

/// A trust document, and the audience a job logging in to its consumer requests.
#[derive(Debug)]
pub struct Document {
    /// The path as given.
    pub path: String,
    /// The parsed document.
    pub policy: Policy,
    /// The audience the job requests for this consumer: the login action's, which the
    /// workflow's step names but the audit does not read. The audit checks everything but the
    /// audience; `check` and `predict` check it.
    pub audience: String,
    /// The source, lower-cased (claim and key names are matched ignoring case, as IAM
    /// does), when given: the claims it names key the evaluation cache.
    names: Option<String>,
    /// Whether any claim may decide the verdict (no source, or CEL reading `assertion`
    /// other than by name), worked out once.
    names_all: bool,
}

impl Document {
    /// A document; `text` (the document's source) gives the audience it names, else the
    /// consumer's default.
    pub fn new(path: impl Into<String>, policy: Policy, text: Option<&str>) -> Self {
        let audience = text
            .and_then(|t| audience_named(t, policy.format()))
            .unwrap_or_else(|| default_audience(policy.format()));
        let names_all = match text {
            None => true,
            Some(t) => {
                let uses = t.matches("assertion").count();
                let named = t.matches("assertion.").count()
                    + t.matches("assertion['").count()
                    + t.matches("assertion[\"").count();
                uses != named
            }
        };
        Self {
            path: path.into(),
            policy,
            audience,
            names: text.map(str::to_ascii_lowercase),
            names_all,
        }
    }

    /// What of `claims` can decide this document's verdict, as a cache key: the claims whose
    /// names occur in its text (every evaluator reads only claims the document names, plus
    /// `iss`, `aud` and `sub`), or all of them without a text, or when a CEL expression uses
    /// `assertion` other than as `assertion.NAME` / `assertion['NAME']` (then any claim may
    /// matter).
    fn key(&self, claims: &Claims) -> String {
        let names = self.names.as_deref().unwrap_or_default();
        let seen: serde_json::Map<String, serde_json::Value> = claims
            .0
            .iter()
            .filter(|(k, _)| {
                self.names_all
                    || matches!(k.as_str(), "iss" | "aud" | "sub" | "azp")
                    || if k.bytes().any(|b| b.is_ascii_uppercase()) {
                        names.contains(k.to_ascii_lowercase().as_str())
                    } else {
                        // GitHub's claim names are lower case: no copy on the hot path.
                        names.contains(k.as_str())
                    }
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        serde_json::Value::Object(seen).to_string()
    }
}

/// Evaluations, each (document, what it can see of the claims) once: 50 workflows give
/// hundreds of tokens that differ only in claims a document never reads (`workflow_ref`), and
/// a GCP evaluation runs CEL on its own thread.
struct Evaluations<'a> {
    documents: &'a [Document],
    cache: std::cell::RefCell<std::collections::HashMap<(usize, String), Rc<PolicyReport>>>,
}

impl<'a> Evaluations<'a> {
    fn new(documents: &'a [Document]) -> Self {
        Self {
            documents,
            cache: Default::default(),
        }
    }

    fn evaluate(&self, d: usize, claims: &Claims) -> Rc<PolicyReport> {
        let document = &self.documents[d];
        let key = (d, document.key(claims));
        if let Some(report) = self.cache.borrow().get(&key) {
            return Rc::clone(report);
        }
        let report = Rc::new(document.policy.evaluate(claims));
        self.cache.borrow_mut().insert(key, Rc::clone(&report));
        report
    }
}

fn default_audience(format: PolicyFormat) -> String {
    match format {
        PolicyFormat::Aws => Consumer::Aws
            .default_audience()
            .unwrap_or_default()
            .to_owned(),
        PolicyFormat::Azure => Consumer::Azure
            .default_audience()
            .unwrap_or_default()
            .to_owned(),
        // google-github-actions/auth requests the provider's URL, which the document names;
        // without it any audience is as good.
        PolicyFormat::Gcp => "https://iam.googleapis.com/".to_owned(),
        // hashicorp/vault-action without `jwtGithubAudience` requests no audience, so the
        // token has GitHub's default, the owner URL; a role without bound_audiences refuses
        // it (Vault 1.17 and later), which the evaluator reports.
        PolicyFormat::Vault => String::new(),
    }
}

/// The audience a document names: an AWS condition on `...:aud`, an Azure credential's first
/// audience, a GCP provider's first allowed audience or its resource URL (the audience
/// google-github-actions/auth requests by default).
fn audience_named(text: &str, format: PolicyFormat) -> Option<String> {
    let doc: serde_json::Value = yaml_serde::from_str(text).ok()?;
    let first = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(a) => a.first().and_then(|x| x.as_str()).map(str::to_owned),
        _ => None,
    };
    match format {
        PolicyFormat::Aws => {
            let statements = match &doc["Statement"] {
                serde_json::Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            statements.iter().find_map(|s| {
                s["Condition"].as_object()?.values().find_map(|op| {
                    op.as_object()?
                        .iter()
                        .find(|(k, _)| k.to_ascii_lowercase().ends_with(":aud"))
                        .and_then(|(_, v)| first(v))
                        .filter(|a| !a.contains(['*', '?']))
                })
            })
        }
        PolicyFormat::Azure => {
            let credential = if doc.is_array() { &doc[0] } else { &doc };
            first(&credential["audiences"])
        }
        PolicyFormat::Vault => {
            let role = doc.get("data").unwrap_or(&doc);
            first(&role["bound_audiences"])
        }
        PolicyFormat::Gcp => first(&doc["oidc"]["allowedAudiences"]).or_else(|| {
            doc["name"]
                .as_str()
                .map(|n| format!("https://iam.googleapis.com/{n}"))
        }),
    }
}

/// One (job, run, environment) with its predicted token and a verdict per document.
#[derive(Debug, Clone)]
pub struct Row {
    /// Index into [`Report::jobs`].
    pub job: usize,
    /// The trigger and ref.
    pub run: Run,
    /// The environment, when the job has one.
    pub environment: Option<String>,
    /// The predicted claims (`aud` as for the first document, or GitHub's default).
    pub claims: Claims,
    /// One per document, in document order.
    pub cells: Vec<Cell>,
    facts: JobFacts,
}

/// One document's verdict on one row.
#[derive(Debug, Clone)]
pub struct Cell {
    /// The evaluation, shared by every cell whose token the document sees alike.
    pub report: Rc<PolicyReport>,
}

/// A finding and where in the repository it points.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Located {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// The file it is about (a workflow, or a trust document).
    pub file: Option<String>,
    /// The 1-based line in that file, when known.
    pub line: Option<usize>,
}

/// A job of the report: where it is and what the audit read of it.
#[derive(Debug, Clone)]
pub struct JobInfo {
    /// The top workflow's path (whose triggers run the job).
    pub workflow: String,
    /// The job.
    pub job: TokenJob,
}

/// The audit's outcome.
#[derive(Debug)]
pub struct Report {
    /// `OWNER/REPO`.
    pub repository: String,
    /// Workflow paths read, parsed or not.
    pub workflows: Vec<String>,
    /// Jobs that can request a token.
    pub jobs: Vec<JobInfo>,
    /// The matrix.
    pub rows: Vec<Row>,
    /// Document paths and formats, in the order of the cells.
    pub documents: Vec<(String, PolicyFormat)>,
    /// Findings, errors first.
    pub findings: Vec<Located>,
    /// The tokens were predicted in the name form because neither ids nor a template were
    /// given: a repository on the immutable form (github.com's default for repositories
    /// created, renamed or transferred since 2026-07-15; facts file) or with a customized
    /// template gets another `sub`, so every sink says so.
    pub subject_form_assumed: bool,
}

impl Report {
    /// True when a job will be refused or trust is dangerous (an error finding): exit 1.
    pub fn failed(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.finding.severity == Severity::Error)
    }
}

/// Why the audit could not run at all (a usage error, exit 2).
#[derive(Debug, Error)]
pub enum AuditError {
    /// The workflows directory cannot be listed.
    #[error("cannot read the workflows directory `{path}`: {source}")]
    Directory {
        /// The path as given.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// More files than [`MAX_WORKFLOWS`].
    #[error(
        "`{path}` holds {count} workflow files, more than the {MAX_WORKFLOWS} audited in one run"
    )]
    TooMany {
        /// The directory.
        path: String,
        /// How many.
        count: usize,
    },
    /// A workflow file that cannot be read.
    #[error(transparent)]
    File(#[from] FileError),
    /// A trust document that cannot be used.
    #[error(transparent)]
    Trust(#[from] TrustPolicyError),
    /// The facts give no prediction.
    #[error(transparent)]
    Predict(#[from] PredictError),
}

impl AuditError {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            AuditError::Directory { .. } => "run from the repository's root, or name the directory with `--workflows DIR` (default `.github/workflows`)".to_owned(),
            AuditError::TooMany { .. } => "name a directory holding only workflow files".to_owned(),
            AuditError::File(e) => e.hint().to_owned(),
            AuditError::Trust(e) => e.hint(),
            AuditError::Predict(PredictError::Unpredictable(key)) => format!("pass its value with `--set {key}=VALUE`, or leave `{key}` out of `--include-claim-keys` if the repository's template does not have it"),
            AuditError::Predict(e) => e.hint(),
        }
    }
}

/// The `.yml` and `.yaml` files of `dir`, in name order, each shown as `shown/NAME`.
pub fn load_workflows(dir: &Path, shown: &str) -> Result<Vec<WorkflowFile>, AuditError> {
    let read_err = |source| AuditError::Directory {
        path: shown.to_owned(),
        source,
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml") && p.is_file())
        .collect();
    if paths.len() > MAX_WORKFLOWS {
        return Err(AuditError::TooMany {
            path: shown.to_owned(),
            count: paths.len(),
        });
    }
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = format!(
                "{}/{}",
                shown.trim_end_matches('/'),
                p.file_name().unwrap_or_default().to_string_lossy()
            );
            let text = files::read_text_as(&p, &name, "the workflow", MAX_WORKFLOW_BYTES)?;
            Ok(WorkflowFile { path: name, text })
        })
        .collect()
}

/// The trust documents named (files or directories, relative to `base`), each with the
/// audience it names.
pub fn load_documents(
    paths: &[String],
    base: Option<&Path>,
    format: Option<PolicyFormat>,
) -> Result<Vec<Document>, AuditError> {
    let loaded = trust::load(paths, base, format)?;
    Ok(loaded
        .into_iter()
        .map(|l| {
            let file = match base {
                Some(b) if Path::new(&l.path).is_relative() => b.join(&l.path),
                _ => Path::new(&l.path).to_path_buf(),
            };
            // Read again for the audience only; trust::load has checked the file.
            let text = files::read_text_as(&file, &l.path, "the trust policy", 1024 * 1024).ok();
            Document::new(l.path, l.policy, text.as_deref())
        })
        .collect())
}

fn located(
    id: FindingId,
    severity: Level,
    title: &str,
    message: String,
    hint: impl Into<String>,
    file: Option<&str>,
    line: Option<usize>,
) -> Located {
    Located {
        finding: Finding::new(id, severity, title, message, hint),
        file: file.map(str::to_owned),
        line,
    }
}

/// Audits `files` against `documents`. Files that do not parse are findings; the others
/// are audited.
pub fn audit(
    files: &[WorkflowFile],
    documents: &[Document],
    options: &Options,
) -> Result<Report, AuditError> {
    predict::owner_and_repo(&options.repository)?;
    let mut findings = Vec::new();
    let mut parsed = Vec::new();
    for file in files {
        match workflows::parse(file) {
            Ok(p) => parsed.push(p),
            Err(problem) => findings.push(located(
                FindingId::AuditWorkflowInvalid,
                Severity::Warning,
                "Workflow does not parse",
                format!(
                    "`{}` line {}: {}; its jobs are not audited (GitHub will not run it either, or reads it differently)",
                    problem.path, problem.line, problem.message
                ),
                "fix the workflow at the line given (actionlint or zizmor name the problem too)",
                Some(&problem.path),
                Some(problem.line),
            )),
        }
    }
    let found = workflows::token_jobs(&parsed);
    let evaluations = Evaluations::new(documents);
    let mut report = Report {
        subject_form_assumed: options.ids.is_none() && options.include_claim_keys.is_empty(),
        repository: options.repository.clone(),
        workflows: files.iter().map(|f| f.path.clone()).collect(),
        jobs: Vec::new(),
        rows: Vec::new(),
        documents: documents
            .iter()
            .map(|d| (d.path.clone(), d.policy.format()))
            .collect(),
        findings: Vec::new(),
    };
    // The triggers of each top workflow, once.
    let runs: Vec<triggers::Runs> = parsed
        .iter()
        .map(|p| triggers::runs(&p.triggers, &p.workflow.on.events, &options.default_branch))
        .collect();
    for (i, p) in parsed.iter().enumerate() {
        let has_jobs = found.jobs.iter().any(|j| j.top == i);
        if !runs[i].unknown.is_empty() {
            findings.push(located(
                FindingId::AuditTriggerUnknown,
                Severity::Warning,
                "Unknown trigger",
                format!(
                    "`{}` has trigger(s) {} that the audit does not know; runs for them are not audited",
                    p.file.path,
                    quoted(&runs[i].unknown)
                ),
                "check the spelling against GitHub's list of events that trigger workflows",
                Some(&p.file.path),
                Some(key_line(&p.file.text, "on")),
            ));
        }
        if has_jobs && !runs[i].notes.is_empty() {
            findings.push(located(
                FindingId::AuditUnnamedRefs,
                Severity::Notice,
                "Refs nobody named",
                format!("`{}`: {}", p.file.path, runs[i].notes.join("; ")),
                "nothing to change; rows marked `(any)` stand for refs the workflow does not name",
                Some(&p.file.path),
                Some(key_line(&p.file.text, "on")),
            ));
        }
    }
    for capped in &found.capped {
        findings.push(located(
            FindingId::AuditTokenCapped,
            Severity::Error,
            "No token: the caller caps permissions",
            format!(
                "job `{}` asks for `id-token: write` in `{}`, but the calling job in `{}` does not grant it, so GitHub gives it no token and its login fails",
                capped.chain.join(" › "),
                capped.path,
                capped.caller_path
            ),
            "add `permissions: id-token: write` (and what else the job needs) to the calling job in the caller workflow",
            Some(&capped.path),
            Some(capped.line),
        ));
    }
    for (path, line, uses) in &found.missing {
        findings.push(located(
            FindingId::AuditReusableMissing,
            Severity::Warning,
            "Reusable workflow not found",
            format!("`{path}` calls `{uses}`, which is not among the workflows read; its jobs are not audited"),
            "check the path, or audit the directory that holds it",
            Some(path),
            Some(*line),
        ));
    }
    for job in found.jobs {
        let top = &parsed[job.top];
        let workflow = top.file.path.clone();
        let index = report.jobs.len();
        let environments: Vec<Option<String>> = match &job.environment {
            workflows::Environment::None => vec![None],
            workflows::Environment::Names(names) => names.iter().cloned().map(Some).collect(),
            workflows::Environment::Unknown(expr) => {
                findings.push(located(
                    FindingId::AuditEnvironmentExpression,
                    Severity::Warning,
                    "Environment unknown",
                    format!(
                        "job `{}` in `{}` has `environment: {expr}`, an expression the audit does not evaluate; the job's `sub` has the environment form with whatever it gives, so its runs are not audited",
                        job.name(), job.path
                    ),
                    "name the environment literally, or through `${{ matrix.NAME }}` over a literal matrix, to have the job audited",
                    Some(&job.path),
                    Some(job.line),
                ));
                Vec::new()
            }
        };
        if let Some(cond) = &job.condition {
            findings.push(located(
                FindingId::AuditConditionUnevaluated,
                Severity::Notice,
                "Condition not evaluated",
                format!(
                    "job `{}` in `{}` runs only `if: {cond}`; the audit does not evaluate it and checks every trigger",
                    job.name(), job.path
                ),
                "nothing to change; rows for triggers the condition excludes never run",
                Some(&job.path),
                Some(job.line),
            ));
        }
        if let Some(workflows::Reusable::Remote(uses)) = &job.reusable {
            findings.push(located(
                FindingId::AuditReusableRemote,
                Severity::Notice,
                "Reusable workflow of another repository",
                format!(
                    "job `{}` in `{}` calls `{uses}` with `id-token: write`: its jobs' `job_workflow_ref` names that workflow; their `environment:` is not here to read, so the audit predicts them without one",
                    job.name(), job.path
                ),
                "audit that repository too, or check the job's real token with the action",
                Some(&job.path),
                Some(job.line),
            ));
        }
        for r in &runs[job.top].runs {
            for env in &environments {
                let facts = facts_for(options, top.file.file_name(), &job, r, env.clone());
                let claims = predict::predict(&facts)?;
                // One token per audience: most documents share their consumer's.
                let mut by_audience: Vec<(&str, Claims)> = Vec::new();
                let mut cells = Vec::with_capacity(documents.len());
                for (i, d) in documents.iter().enumerate() {
                    let aud = audience(options, d);
                    let at = match by_audience.iter().position(|(a, _)| *a == aud) {
                        Some(at) => at,
                        None => {
                            by_audience.push((aud, with_audience(&claims, aud)));
                            by_audience.len() - 1
                        }
                    };
                    cells.push(Cell {
                        report: evaluations.evaluate(i, &by_audience[at].1),
                    });
                }
                report.rows.push(Row {
                    job: index,
                    run: r.clone(),
                    environment: env.clone(),
                    claims,
                    cells,
                    facts,
                });
            }
        }
        report.jobs.push(JobInfo { workflow, job });
    }
    findings.extend(matrix_findings(&report, documents));
    findings.extend(dangerous::findings(&report, documents, &evaluations));
    // Errors first, then warnings, then notices; stable within a severity.
    findings.sort_by_key(|f| f.finding.severity);
    report.findings = findings;
    Ok(report)
}

fn facts_for(
    options: &Options,
    workflow_file: &str,
    job: &TokenJob,
    run: &Run,
    environment: Option<String>,
) -> JobFacts {
    let job_workflow_ref = match &job.reusable {
        None => None,
        // A local call runs the called file at the caller's commit and ref.
        Some(workflows::Reusable::Local(file)) => Some(format!(
            "{}/.github/workflows/{file}@{}",
            options.repository, run.git_ref
        )),
        Some(workflows::Reusable::Remote(uses)) => Some(uses.clone()),
    };
    JobFacts {
        repository: options.repository.clone(),
        ids: options.ids.clone(),
        git_ref: run.git_ref.clone(),
        event: run.event.clone(),
        environment,
        workflow: workflow_file.to_owned(),
        job_workflow_ref,
        issuer: options.issuer.clone(),
        include_claim_keys: options.include_claim_keys.clone(),
        audience: options.audience.clone(),
        extra: options.extra.clone(),
    }
}

/// The audience a job requests for the document's consumer: the one given for every job,
/// else the document's.
fn audience<'a>(options: &'a Options, document: &'a Document) -> &'a str {
    options.audience.as_deref().unwrap_or(&document.audience)
}

/// The claims with `aud` set.
fn with_audience(claims: &Claims, audience: &str) -> Claims {
    let mut c = claims.clone();
    c.0.insert("aud".into(), serde_json::Value::String(audience.to_owned()));
    c
}

/// The line of a top-level key (`on:`), 1 when not found.
fn key_line(text: &str, key: &str) -> usize {
    let forms = [
        format!("{key}:"),
        format!("\"{key}\":"),
        format!("'{key}':"),
    ];
    text.lines()
        .position(|l| forms.iter().any(|f| l.starts_with(f.as_str())))
        .map_or(1, |i| i + 1)
}

fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Most refusing reasons quoted per document in a finding.
const REASONS_QUOTED: usize = 1;

/// Most documents whose reasons a refused job's finding quotes; the matrix has them all.
const DOCUMENTS_QUOTED: usize = 3;

/// Refused jobs and unused documents.
fn matrix_findings(report: &Report, documents: &[Document]) -> Vec<Located> {
    let mut out = Vec::new();
    if documents.is_empty() {
        return out;
    }
    for row in &report.rows {
        if row.run.unnamed || row.cells.iter().any(|c| c.report.allowed) {
            continue;
        }
        let job = &report.jobs[row.job].job;
        let mut why: Vec<String> = row
            .cells
            .iter()
            .zip(documents)
            .take(DOCUMENTS_QUOTED)
            .map(|(c, d)| {
                let reasons: Vec<String> = c
                    .report
                    .refusing()
                    .into_iter()
                    .take(REASONS_QUOTED)
                    .map(|r| format!("{} ({})", r.message, r.id))
                    .collect();
                format!("`{}`: {}", d.path, reasons.join("; "))
            })
            .collect();
        if documents.len() > DOCUMENTS_QUOTED {
            why.push(format!(
                "and {} more document(s) (see the matrix)",
                documents.len() - DOCUMENTS_QUOTED
            ));
        }
        out.push(located(
            FindingId::AuditJobRefused,
            Severity::Error,
            "Job will be refused",
            format!(
                "job `{}` on {} {}{} gets `sub` `{}`, which no trust document accepts: {}",
                job.name(),
                row.run.event,
                row.run.git_ref,
                row.environment
                    .as_ref()
                    .map(|e| format!(" (environment {e})"))
                    .unwrap_or_default(),
                row.claims.subject().unwrap_or_default(),
                why.join("; ")
            ),
            // The workflow-side change first; allowing this token is a widening, said so.
            crate::policy::then_widening(
                "change the job (its trigger, ref or `environment:`) so that its token is one the document of the role or credential it uses accepts",
                &format!(
                    "allow `{}` in that document",
                    row.claims.subject().unwrap_or_default()
                ),
            ),
            Some(&job.path),
            Some(job.line),
        ));
    }
    for (i, d) in documents.iter().enumerate() {
        if report.rows.iter().any(|r| r.cells[i].report.allowed) {
            continue;
        }
        out.push(located(
            FindingId::AuditDocumentUnused,
            Severity::Warning,
            "No job can use this document",
            format!(
                "`{}` ({}) accepts none of the {} predicted token(s) of this repository's jobs: a dead or mistyped document, or one for another repository",
                d.path,
                d.policy.format(),
                report.rows.len()
            ),
            "compare its subject and conditions with the matrix's `sub` values; remove it if no job should use it",
            Some(&d.path),
            None,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_cache_key_sees_claims_the_document_names_in_any_case() {
        // IAM reads condition keys ignoring case: `Job_Workflow_Ref` names job_workflow_ref.
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Principal":{"Federated":"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
            "Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{"StringLike":{"token.actions.githubusercontent.com:Job_Workflow_Ref":"o/r/.github/workflows/deploy.yml@*"}}}]}"#;
        let policy = Policy::parse(text, None).unwrap();
        let document = Document::new("role.json", policy, Some(text));
        let claims = |file: &str| {
            Claims::from(
                json!({"sub": "repo:o/r:ref:refs/heads/main", "actor": "x",
                       "job_workflow_ref": format!("o/r/.github/workflows/{file}@refs/heads/main")})
                .as_object()
                .unwrap()
                .clone(),
            )
        };
        assert_ne!(
            document.key(&claims("deploy.yml")),
            document.key(&claims("other.yml"))
        );
        // A claim the document never names does not split the cache.
        let mut other = claims("deploy.yml");
        other.0.insert("actor".into(), json!("y"));
        assert_eq!(document.key(&claims("deploy.yml")), document.key(&other));
    }
}
