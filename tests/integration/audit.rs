//! The audit over realistic workflow sets (tests/fixtures/audit/*: a repository root each,
//! with `.github/workflows/` and `policies/`): which findings fire, the exit status, and the
//! text and JSON a person or a program reads (snapshots).

use std::path::{Path, PathBuf};

use oidc_preflight::audit::{self, render, Options, Report};
use oidc_preflight::cli::Cli;
use oidc_preflight::config::{input_variable, Env};
use oidc_preflight::ExitStatus;

fn root(set: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/audit")
        .join(set)
}

fn audit_set(set: &str) -> Report {
    let root = root(set);
    let workflows =
        audit::load_workflows(&root.join(".github/workflows"), ".github/workflows").unwrap();
    let documents = audit::load_documents(&["policies".to_owned()], Some(&root), None).unwrap();
    audit::audit(&workflows, &documents, &Options::new("octo-org/octo-repo")).unwrap()
}

fn ids(report: &Report) -> Vec<String> {
    let mut ids: Vec<String> = report
        .findings
        .iter()
        .map(|f| f.finding.id.as_str().to_owned())
        .collect();
    ids.sort();
    ids
}

fn text(report: &Report) -> String {
    let mut out = Vec::new();
    render::write_text(&mut out, report).unwrap();
    String::from_utf8(out).unwrap()
}

fn snapshot(set: &str, report: &Report) {
    insta::assert_snapshot!(format!("audit_{set}_text"), text(report));
    insta::assert_snapshot!(format!("audit_{set}_json"), render::to_json(report, true));
}

fn cell(report: &Report, sub: &str, document: &str) -> bool {
    let d = report
        .documents
        .iter()
        .position(|(p, _)| p.ends_with(document))
        .unwrap();
    report
        .rows
        .iter()
        .find(|r| r.claims.subject() == Some(sub))
        .unwrap_or_else(|| panic!("no row with sub {sub}"))
        .cells[d]
        .report
        .allowed
}

#[test]
fn deploy_on_an_environment_passes_and_names_the_dead_document() {
    let report = audit_set("deploy-environment");
    assert!(!report.failed());
    assert!(cell(
        &report,
        "repo:octo-org/octo-repo:environment:prod",
        "aws-deploy.json"
    ));
    assert_eq!(
        ids(&report),
        ["audit-document-unused", "audit-unnamed-refs"]
    );
    let unused = &report.findings[0];
    assert_eq!(unused.file.as_deref(), Some("policies/azure-main.json"));
    // The `test` job has no id-token permission: not in the matrix.
    assert_eq!(report.jobs.len(), 1);
    snapshot("deploy_environment", &report);
}

#[test]
fn release_on_tags_against_a_branch_policy_is_refused() {
    let report = audit_set("release-tags");
    assert!(report.failed());
    let refused: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.finding.id.as_str() == "audit-job-refused")
        .collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused[0].finding.message.contains("refs/tags/v1"));
    assert!(refused[0].finding.message.contains("aws-condition-failed"));
    assert_eq!(
        refused[0].file.as_deref(),
        Some(".github/workflows/release.yml")
    );
    assert_eq!(refused[0].line, Some(8));
    snapshot("release_tags", &report);
}

#[test]
fn reusable_workflows_name_the_called_file_and_the_caller_caps_permissions() {
    let report = audit_set("reusable");
    assert_eq!(ids(&report), ["audit-token-capped"]);
    let row = &report.rows[0];
    assert_eq!(
        row.claims.str("job_workflow_ref"),
        Some("octo-org/octo-repo/.github/workflows/deploy-reusable.yml@refs/heads/main")
    );
    assert_eq!(
        row.claims.str("workflow_ref"),
        Some("octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main")
    );
    assert!(row.cells[0].report.allowed);
    // nightly.yml calls it without id-token: write, so that run has no token at all.
    assert_eq!(report.rows.len(), 1);
    let capped = &report.findings[0];
    assert_eq!(
        capped.file.as_deref(),
        Some(".github/workflows/deploy-reusable.yml")
    );
    assert!(capped.finding.message.contains("nightly.yml"));
    snapshot("reusable", &report);
}

#[test]
fn a_role_for_pull_request_checks_is_dangerous() {
    let report = audit_set("pull-request");
    assert_eq!(ids(&report), ["audit-trust-pull-request"]);
    assert!(report.failed());
    snapshot("pull_request", &report);
}

#[test]
fn a_monorepo_goes_on_past_a_broken_workflow() {
    let report = audit_set("monorepo");
    assert_eq!(
        ids(&report),
        [
            "audit-condition-unevaluated",
            "audit-document-unused",
            "audit-environment-expression",
            "audit-trigger-unknown",
            "audit-unnamed-refs",
            "audit-unnamed-refs",
            "audit-workflow-invalid",
        ]
    );
    let broken = report
        .findings
        .iter()
        .find(|f| f.finding.id.as_str() == "audit-workflow-invalid")
        .unwrap();
    assert_eq!(broken.file.as_deref(), Some(".github/workflows/broken.yml"));
    assert_eq!(broken.line, Some(7));
    let unknown = report
        .findings
        .iter()
        .find(|f| f.finding.id.as_str() == "audit-trigger-unknown")
        .unwrap();
    assert!(unknown.finding.message.contains("`deploy_infra`"));
    // The matrix environment expands to both stages, each allowed by the web role only.
    for stage in ["web-staging", "web-prod"] {
        let sub = format!("repo:octo-org/octo-repo:environment:{stage}");
        assert!(cell(&report, &sub, "aws-web.json"));
        assert!(!cell(&report, &sub, "aws-api.json"));
    }
    assert!(cell(
        &report,
        "repo:octo-org/octo-repo:environment:infra",
        "azure-infra.json"
    ));
    assert!(!report.failed());
    snapshot("monorepo", &report);
}

#[test]
fn each_dangerous_trust_class_is_named_with_its_document() {
    let report = audit_set("dangerous");
    let of = |document: &str| {
        let mut ids: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.file.as_deref() == Some(&format!("policies/{document}")[..]))
            .map(|f| f.finding.id.as_str())
            .collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(of("aws-any-branch.json"), ["audit-trust-any-branch"]);
    assert_eq!(
        of("aws-any-environment.json"),
        ["audit-trust-any-environment"]
    );
    assert_eq!(
        of("aws-audience-only.json"),
        [
            "audit-trust-any-branch",
            "audit-trust-any-environment",
            "audit-trust-any-repository"
        ]
    );
    assert_eq!(of("aws-owner-prefix.json"), ["audit-trust-owner-prefix"]);
    assert_eq!(of("aws-forallvalues.json"), ["audit-trust-forallvalues"]);
    assert_eq!(
        of("gcp-no-owner.yaml"),
        ["audit-trust-any-environment", "audit-trust-gcp-any-owner"]
    );
    assert_eq!(of("azure-flexible.json"), ["audit-trust-azure-wildcard"]);
    // Each names the job and trigger whose token the document accepts.
    for f in &report.findings {
        assert!(
            f.finding.message.contains("on push refs/heads/main"),
            "{f:?}"
        );
    }
    snapshot("dangerous", &report);
}

#[test]
fn a_narrow_document_raises_no_dangerous_trust() {
    // The deploy set's AWS role names the environment exactly: none of the probes pass.
    let report = audit_set("deploy-environment");
    assert!(report
        .findings
        .iter()
        .all(|f| !f.finding.id.as_str().starts_with("audit-trust-")));
}

fn run_cli(args: &[&str]) -> (ExitStatus, String, String) {
    let cli = Cli::parse_from_args(args).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = oidc_preflight::app::run(
        cli,
        &Env::from_pairs(Vec::<(String, String)>::new()),
        &|| 0,
        oidc_preflight::app::Stdin {
            reader: std::io::empty(),
            is_terminal: true,
        },
        &mut out,
        &mut err,
    );
    (
        status,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[test]
fn the_command_exits_as_the_other_commands() {
    let cli = |set: &str, extra: &[&str]| {
        let root = root(set);
        let workflows = root.join(".github/workflows").display().to_string();
        let policies = root.join("policies").display().to_string();
        let mut args = vec![
            "oidc-preflight",
            "audit",
            "--repository",
            "octo-org/octo-repo",
            "--workflows",
            &workflows,
            "--trust-policy",
            &policies,
        ];
        args.extend_from_slice(extra);
        let (status, out, err) = run_cli(&args);
        (status, out, err)
    };
    assert_eq!(cli("deploy-environment", &[]).0, ExitStatus::Success);
    let (status, out, _) = cli("release-tags", &["--format", "json"]);
    assert_eq!(status, ExitStatus::CheckFailed);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["failed"], true);
    let (status, _, err) = cli("deploy-environment", &["--owner-id", "1"]);
    assert_eq!(status, ExitStatus::Usage);
    assert!(err.contains("--repository-id"), "{err}");
    let (status, _, err) = run_cli(&[
        "oidc-preflight",
        "audit",
        "--repository",
        "octo-org/octo-repo",
        "--workflows",
        "/nonexistent/workflows",
    ]);
    assert_eq!(status, ExitStatus::Usage);
    assert!(err.contains("hint:"), "{err}");
    let (status, _, err) = cli(
        "deploy-environment",
        &["--include-claim-keys", "repo,actor"],
    );
    assert_eq!(status, ExitStatus::Usage);
    assert!(err.contains("--set actor=VALUE"), "{err}");
}

#[test]
fn the_immutable_form_and_a_template_reach_the_predicted_sub() {
    let root = root("deploy-environment");
    let workflows =
        audit::load_workflows(&root.join(".github/workflows"), ".github/workflows").unwrap();
    let mut options = Options::new("octo-org/octo-repo");
    options.ids = Some(("65".into(), "74".into()));
    let report = audit::audit(&workflows, &[], &options).unwrap();
    assert_eq!(
        report.rows[0].claims.subject(),
        Some("repo:octo-org@65/octo-repo@74:environment:prod")
    );
    options.include_claim_keys = vec!["repo".into(), "context".into(), "job_workflow_ref".into()];
    let report = audit::audit(&workflows, &[], &options).unwrap();
    assert_eq!(
        report.rows[0].claims.subject(),
        Some("repo:octo-org@65/octo-repo@74:environment:prod:job_workflow_ref:octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main")
    );
}

#[test]
fn the_action_input_audits_the_checked_out_repository() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("output");
    let summary = dir.path().join("summary");
    let vars = vec![
        (input_variable("audit"), "true".to_owned()),
        (input_variable("trust-policy"), "policies".to_owned()),
        (
            "GITHUB_WORKSPACE".to_owned(),
            root("release-tags").display().to_string(),
        ),
        (
            "GITHUB_REPOSITORY".to_owned(),
            "octo-org/octo-repo".to_owned(),
        ),
        ("GITHUB_ACTIONS".to_owned(), "true".to_owned()),
        ("GITHUB_OUTPUT".to_owned(), output.display().to_string()),
        (
            "GITHUB_STEP_SUMMARY".to_owned(),
            summary.display().to_string(),
        ),
    ];
    let (mut out, mut err) = (Vec::new(), Vec::new());
    // No ACTIONS_ID_TOKEN_REQUEST_* variables: the audit needs no token.
    let status = oidc_preflight::app::run(
        Cli::parse_from_args(["oidc-preflight"]).unwrap(),
        &Env::from_pairs(vars),
        &|| 0,
        oidc_preflight::app::Stdin {
            reader: std::io::empty(),
            is_terminal: true,
        },
        &mut out,
        &mut err,
    );
    let out = String::from_utf8(out).unwrap();
    assert_eq!(
        status,
        ExitStatus::CheckFailed,
        "{out}\n{}",
        String::from_utf8_lossy(&err)
    );
    assert!(
        out.contains("::error file=.github/workflows/release.yml,line=8,title=Job will be refused (audit-job-refused)::"),
        "{out}"
    );
    assert!(
        out.contains("::warning file=policies/aws-release.json,title="),
        "{out}"
    );
    // The report itself is printed with workflow commands stopped.
    assert!(out.starts_with("::stop-commands::"), "{out}");
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(summary.contains("OIDC audit failed"), "{summary}");
    // The cause first: the findings, then the matrix, whose documents are numbered columns.
    let findings = summary.find("### Findings").expect("findings");
    let matrix = summary
        .find("| job | trigger and ref | sub | 1 |")
        .expect("matrix");
    assert!(findings < matrix, "{summary}");
    crate::common::assert_summary_inert(&summary);
    insta::assert_snapshot!("audit_release_tags_summary", summary);
    let output = std::fs::read_to_string(&output).unwrap();
    assert!(output.starts_with("audit<<"), "{output}");
    let json = output.lines().nth(1).unwrap();
    let json: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(json["matrix"].as_array().unwrap().len(), 2);
}

#[test]
fn a_branch_name_cannot_inject_commands_or_markup() {
    let workflow = audit::WorkflowFile {
        path: ".github/workflows/w.yml".into(),
        text: "on:\n  push:\n    branches: ['::error::x', '<img src=x>@evil.example']\njobs:\n  j:\n    runs-on: x\n    permissions: write-all\n    steps: []\n".into(),
    };
    let report = audit::audit(&[workflow], &[], &Options::new("o/r")).unwrap();
    let text = text(&report);
    assert!(
        text.lines().all(|l| !l.trim_start().starts_with("::")),
        "{text}"
    );
    let mut summary = Vec::new();
    render::write_summary(&mut summary, &report).unwrap();
    let summary = String::from_utf8(summary).unwrap();
    assert!(!summary.contains("<img"), "{summary}");
}

#[test]
fn the_step_output_stays_within_githubs_limit_and_says_what_it_left_out() {
    // A small repository: the whole matrix fits.
    let report = audit_set("monorepo");
    let small: serde_json::Value = serde_json::from_str(&render::to_output(&report)).unwrap();
    assert!(small["matrix"].as_array().is_some_and(|m| !m.is_empty()));
    assert!(small.get("matrix_rows_left_out").is_none());
    // The same report as many times over as it takes to pass the limit: the matrix goes,
    // its row count stays, and the findings are all there.
    let mut big = audit_set("monorepo");
    let rows = big.rows.clone();
    while render::to_json(&big, false).len() <= render::OUTPUT_LIMIT {
        big.rows.extend(rows.iter().cloned());
    }
    let output = render::to_output(&big);
    assert!(
        output.len() <= render::OUTPUT_LIMIT,
        "{} bytes",
        output.len()
    );
    let value: serde_json::Value = serde_json::from_str(&output).unwrap();
    assert_eq!(value["matrix"], serde_json::json!([]));
    assert_eq!(value["matrix_rows_left_out"], big.rows.len());
    assert_eq!(
        value["findings"].as_array().map(Vec::len),
        Some(big.findings.len())
    );
}

#[test]
fn environment_and_uses_text_cannot_inject_commands_into_the_log() {
    let workflow = audit::WorkflowFile {
        path: ".github/workflows/w.yml".into(),
        text: "on: push\njobs:\n  j:\n    runs-on: x\n    permissions: write-all\n    environment: \"prod\\n::error::injected\"\n    steps: []\n  k:\n    permissions: write-all\n    uses: \"o/r/.github/workflows/x.yml@v1\\n##[error]injected\"\n".into(),
    };
    let report = audit::audit(&[workflow], &[], &Options::new("o/r")).unwrap();
    let text = text(&report);
    assert!(text.contains("prod\\n::error::injected"), "{text}");
    assert!(
        text.lines()
            .all(|l| !l.trim_start().starts_with("::") && !l.contains("##[")),
        "{text}"
    );
}

/// The action's audit as the runner would start it, with `inputs` on top of a checked-out
/// release-tags repository.
fn action_audit(inputs: &[(&str, &str)]) -> (ExitStatus, String) {
    let mut vars = vec![
        (
            "GITHUB_WORKSPACE".to_owned(),
            root("release-tags").display().to_string(),
        ),
        (
            "GITHUB_REPOSITORY".to_owned(),
            "octo-org/octo-repo".to_owned(),
        ),
        ("GITHUB_ACTIONS".to_owned(), "true".to_owned()),
    ];
    vars.extend(
        inputs
            .iter()
            .map(|(k, v)| (input_variable(k), v.to_string())),
    );
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = oidc_preflight::app::run(
        Cli::parse_from_args(["oidc-preflight"]).unwrap(),
        &Env::from_pairs(vars),
        &|| 0,
        oidc_preflight::app::Stdin {
            reader: std::io::empty(),
            is_terminal: true,
        },
        &mut out,
        &mut err,
    );
    (status, String::from_utf8(err).unwrap())
}

#[test]
fn an_audit_that_could_judge_nothing_or_a_misread_input_stops_with_a_usage_error() {
    // `audit: yes` takes the audit path and is refused, not silently the token check.
    let (status, err) = action_audit(&[("audit", "yes"), ("trust-policy", "policies")]);
    assert_eq!(status, ExitStatus::Usage, "{err}");
    assert!(
        err.contains("input `audit` is `yes`, not `true` or `false`"),
        "{err}"
    );
    // No documents: every row would be unjudged, and the audit would pass.
    let (status, err) = action_audit(&[("audit", "true")]);
    assert_eq!(status, ExitStatus::Usage, "{err}");
    assert!(err.contains("no `trust-policy` documents"), "{err}");
    let workflows = root("release-tags").join(".github/workflows");
    let (status, _, err) = run_cli(&[
        "oidc-preflight",
        "audit",
        "--repository",
        "octo-org/octo-repo",
        "--workflows",
        workflows.to_str().unwrap(),
    ]);
    assert_eq!(status, ExitStatus::Usage, "{err}");
    assert!(err.contains("no trust documents given"), "{err}");
}
