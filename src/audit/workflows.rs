//! Reading workflow files with the typed model of `github-actions-models` (zizmor's), and
//! finding every job that can request an OIDC token, through local reusable workflows.
//!
//! Permissions: GitHub docs, "Controlling permissions for GITHUB_TOKEN"
//! (<https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/controlling-permissions-for-github_token>):
//! a job's `permissions:` replaces the workflow's; `write-all` includes `id-token: write`; the
//! default token permissions never include `id-token: write`. Reusable workflows: GitHub docs,
//! "Reusing workflows", access and permissions
//! (<https://docs.github.com/en/actions/sharing-automations/reusing-workflows>): the called
//! workflow's permissions can only downgrade the caller's, and without its own
//! `permissions:` it gets the caller's; nesting goes at most ten levels deep.

use github_actions_models::common::expr::LoE;
use github_actions_models::common::{BasePermission, If, Permission, Permissions, Uses};
use github_actions_models::workflow::job::{DeploymentEnvironment, NormalJob};
use github_actions_models::workflow::{Job, Workflow};

use super::matrix;

/// One workflow file as read from the repository.
#[derive(Debug, Clone)]
pub struct WorkflowFile {
    /// The path shown and used in annotations, relative to the repository root, e.g.
    /// `.github/workflows/deploy.yml`.
    pub path: String,
    /// The file's text.
    pub text: String,
}

impl WorkflowFile {
    /// The file name (what `workflow_ref` and local `uses:` name).
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// A workflow that parsed.
#[derive(Debug)]
pub struct Parsed {
    /// The file.
    pub file: WorkflowFile,
    /// The typed model.
    pub workflow: Workflow,
    /// The keys of `on:` as written (the model drops names it does not know, so they are
    /// read from the YAML itself).
    pub triggers: Vec<String>,
}

/// A file that does not parse as a workflow: where, and what the parser says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseProblem {
    /// The path.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// The parser's message.
    pub message: String,
}

/// Parses one workflow file: the YAML first (a syntax error has a position), then the model
/// (a shape error from the typed pass is parsed again from the text for its position).
pub fn parse(file: &WorkflowFile) -> Result<Parsed, ParseProblem> {
    let problem = |e: yaml_serde::Error| ParseProblem {
        path: file.path.clone(),
        line: e.location().map_or(1, |l| l.line()),
        message: e.to_string(),
    };
    let value: yaml_serde::Value = yaml_serde::from_str(&file.text).map_err(problem)?;
    let triggers = trigger_names(&value);
    let workflow = match yaml_serde::from_value::<Workflow>(value) {
        Ok(w) => w,
        Err(e) => {
            return Err(match yaml_serde::from_str::<Workflow>(&file.text) {
                Err(located) => problem(located),
                Ok(_) => problem(e),
            })
        }
    };
    Ok(Parsed {
        file: file.clone(),
        workflow,
        triggers,
    })
}

fn trigger_names(value: &yaml_serde::Value) -> Vec<String> {
    use yaml_serde::Value;
    match value.get("on") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(Value::Mapping(map)) => map
            .keys()
            .filter_map(|k| k.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// The 1-based line of `jobs.<id>:` in a workflow's text, found by a light text search (the
/// model keeps no positions): the first line under `jobs:` indented like its first child and
/// naming the id. Falls back to the `jobs:` line, then to line 1.
pub fn job_line(text: &str, job: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let Some(jobs) = lines.iter().position(|l| {
        let t = l.trim_end();
        t == "jobs:" || t.starts_with("jobs: #") || t.starts_with("\"jobs\":")
    }) else {
        return 1;
    };
    let mut indent = None;
    for (i, line) in lines.iter().enumerate().skip(jobs + 1) {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let here = line.len() - trimmed.len();
        if here == 0 {
            break;
        }
        let want = *indent.get_or_insert(here);
        if here != want {
            continue;
        }
        let key = trimmed.split(':').next().unwrap_or_default();
        if key.trim_matches(|c| c == '"' || c == '\'') == job {
            return i + 1;
        }
    }
    jobs + 1
}

/// The job's `environment:` as the audit can use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Environment {
    /// None declared.
    None,
    /// Literal names: one, or each value of a matrix dimension it names.
    Names(Vec<String>),
    /// An expression the audit cannot evaluate, as written.
    Unknown(String),
}

/// Why a job has `id-token: write`.
fn id_token(perms: &Permissions) -> Option<bool> {
    match perms {
        Permissions::Base(BasePermission::Default) => None,
        Permissions::Base(BasePermission::WriteAll) => Some(true),
        Permissions::Base(BasePermission::ReadAll) => Some(false),
        Permissions::Explicit(map) => Some(map.get("id-token") == Some(&Permission::Write)),
    }
}

fn where_granted(job: &Permissions, workflow: &Permissions) -> &'static str {
    match (job, workflow) {
        (Permissions::Base(BasePermission::WriteAll), _) => "job permissions: write-all",
        (Permissions::Explicit(_), _) => "job permissions: id-token: write",
        (_, Permissions::Base(BasePermission::WriteAll)) => "workflow permissions: write-all",
        _ => "workflow permissions: id-token: write",
    }
}

/// Where a job in a reusable workflow comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reusable {
    /// A workflow of this repository (`uses: ./.github/workflows/FILE`): its file name.
    Local(String),
    /// Another repository's (`uses: OWNER/REPO/.github/workflows/FILE@REF`), as written.
    Remote(String),
}

/// A job that can request a token, and what decides its token.
#[derive(Debug, Clone)]
pub struct TokenJob {
    /// Index of the top workflow (the one whose triggers run it) in the parsed list.
    pub top: usize,
    /// The job ids from the top workflow down to the job, through reusable workflow calls.
    pub chain: Vec<String>,
    /// The file that holds the job itself.
    pub path: String,
    /// The job's line in that file.
    pub line: usize,
    /// Set when the job runs in a reusable workflow.
    pub reusable: Option<Reusable>,
    /// Its environment.
    pub environment: Environment,
    /// Its `if:` expression, when it has one the audit does not evaluate.
    pub condition: Option<String>,
    /// Why it gets `id-token: write`.
    pub granted_by: String,
}

impl TokenJob {
    /// `deploy` or `release › deploy` (the caller's job, then the called workflow's).
    pub fn name(&self) -> String {
        self.chain.join(" › ")
    }
}

/// A reusable workflow's job that asks for `id-token: write` while its caller does not grant
/// it: GitHub gives it no token.
#[derive(Debug, Clone)]
pub struct CappedJob {
    /// The caller's file and job.
    pub caller_path: String,
    /// The caller's job id chain.
    pub chain: Vec<String>,
    /// The called file.
    pub path: String,
    /// The called job's line.
    pub line: usize,
}

/// What the walk over the workflows finds.
#[derive(Debug, Default)]
pub struct Found {
    /// Jobs that can request a token.
    pub jobs: Vec<TokenJob>,
    /// Jobs a caller's permissions deny the token they ask for.
    pub capped: Vec<CappedJob>,
    /// Local `uses:` that name no parsed workflow: (caller path, line, what it names).
    pub missing: Vec<(String, usize, String)>,
}

/// GitHub's limit on nested reusable workflows.
const MAX_DEPTH: usize = 10;

/// Every job that can request a token, starting from each workflow that has a trigger other
/// than `workflow_call` (a workflow only called runs under its callers' triggers).
pub fn token_jobs(parsed: &[Parsed]) -> Found {
    let mut found = Found::default();
    for (top, p) in parsed.iter().enumerate() {
        if p.triggers.iter().all(|t| t == "workflow_call") {
            continue;
        }
        walk(parsed, top, p, None, &mut Vec::new(), None, &mut found);
    }
    found
}

fn walk(
    parsed: &[Parsed],
    top: usize,
    here: &Parsed,
    caller_grant: Option<bool>,
    chain: &mut Vec<String>,
    reusable: Option<&Reusable>,
    found: &mut Found,
) {
    if chain.len() > MAX_DEPTH {
        return;
    }
    let workflow_perms = &here.workflow.permissions;
    for (id, job) in &here.workflow.jobs {
        let line = job_line(&here.file.text, id);
        chain.push(id.clone());
        match job {
            Job::NormalJob(job) => {
                let own = id_token(&job.permissions).or_else(|| id_token(workflow_perms));
                // Top level: unset means GitHub's defaults, which never include id-token.
                // Called: unset means the caller's; set can only narrow it.
                let grant = match caller_grant {
                    None => own.unwrap_or(false),
                    Some(caller) => own.map_or(caller, |o| o && caller),
                };
                if grant {
                    let granted_by = match (caller_grant, own) {
                        (Some(_), None) => "the caller's permissions (id-token: write)".to_owned(),
                        _ => where_granted(&job.permissions, workflow_perms).to_owned(),
                    };
                    found.jobs.push(TokenJob {
                        top,
                        chain: chain.clone(),
                        path: here.file.path.clone(),
                        line,
                        reusable: reusable.cloned(),
                        environment: environment(job),
                        condition: condition(&job.r#if),
                        granted_by,
                    });
                } else if own == Some(true) && caller_grant == Some(false) {
                    found.capped.push(CappedJob {
                        caller_path: parsed[top].file.path.clone(),
                        chain: chain.clone(),
                        path: here.file.path.clone(),
                        line,
                    });
                }
            }
            Job::ReusableWorkflowCallJob(call) => {
                let own = id_token(&call.permissions).or_else(|| id_token(workflow_perms));
                let grant = match caller_grant {
                    None => own.unwrap_or(false),
                    Some(caller) => own.map_or(caller, |o| o && caller),
                };
                match &call.uses {
                    Uses::Local(local) => {
                        let name = local.raw().rsplit('/').next().unwrap_or_default();
                        match parsed.iter().find(|p| p.file.file_name() == name) {
                            Some(called) => walk(
                                parsed,
                                top,
                                called,
                                Some(grant),
                                chain,
                                Some(&Reusable::Local(name.to_owned())),
                                found,
                            ),
                            None => found.missing.push((
                                here.file.path.clone(),
                                line,
                                local.raw().to_owned(),
                            )),
                        }
                    }
                    other if grant => found.jobs.push(TokenJob {
                        top,
                        chain: chain.clone(),
                        path: here.file.path.clone(),
                        line,
                        reusable: Some(Reusable::Remote(other.raw().to_owned())),
                        // The called workflow is not here to read.
                        environment: Environment::None,
                        condition: condition(&call.r#if),
                        granted_by: where_granted(&call.permissions, workflow_perms).to_owned(),
                    }),
                    _ => {}
                }
            }
        }
        chain.pop();
    }
}

fn environment(job: &NormalJob) -> Environment {
    let name = match &job.environment {
        None => return Environment::None,
        Some(DeploymentEnvironment::Name(n)) => n,
        Some(DeploymentEnvironment::NameURL { name, .. }) => name,
    };
    if !name.contains("${{") {
        return Environment::Names(vec![name.clone()]);
    }
    match matrix::values_of(job, name) {
        Some(values) if !values.is_empty() => Environment::Names(values),
        _ => Environment::Unknown(name.clone()),
    }
}

fn condition(cond: &Option<If>) -> Option<String> {
    match cond {
        Some(If::Expr(e)) => Some(e.clone()),
        _ => None,
    }
}

/// The literal strings of a matrix value list; `None` for an expression.
pub(super) fn literal_strings(values: &LoE<Vec<yaml_serde::Value>>) -> Option<Vec<String>> {
    match values {
        LoE::Literal(items) => items
            .iter()
            .map(|v| match v {
                yaml_serde::Value::String(s) => Some(s.clone()),
                yaml_serde::Value::Number(n) => Some(n.to_string()),
                yaml_serde::Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
            .collect(),
        LoE::Expr(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> WorkflowFile {
        WorkflowFile {
            path: path.into(),
            text: text.into(),
        }
    }

    #[test]
    fn the_job_line_is_found_under_jobs() {
        let text = "on: push\n# jobs: no\njobs:\n  # a comment\n  build:\n    steps: []\n  deploy:\n    needs: build\n";
        assert_eq!(job_line(text, "deploy"), 7);
        assert_eq!(job_line(text, "build"), 5);
        assert_eq!(job_line(text, "missing"), 3);
    }

    #[test]
    fn a_broken_file_is_a_problem_with_its_line() {
        let p = parse(&file("w.yml", "on: push\njobs:\n  a: [\n")).unwrap_err();
        assert_eq!(p.path, "w.yml");
        assert!(p.line >= 3, "{p:?}");
    }

    #[test]
    fn permissions_decide_who_gets_a_token() {
        let text = "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps: []\n  b:\n    runs-on: x\n    permissions: write-all\n    steps: []\n  c:\n    runs-on: x\n    permissions:\n      id-token: write\n    steps: []\n";
        let parsed = vec![parse(&file(".github/workflows/w.yml", text)).unwrap()];
        let found = token_jobs(&parsed);
        let names: Vec<String> = found.jobs.iter().map(TokenJob::name).collect();
        assert_eq!(names, ["b", "c"]);
    }
}
