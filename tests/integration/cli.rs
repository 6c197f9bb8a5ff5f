//! The offline subcommands, run as a user would from a terminal.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

use crate::provider::{test_key, Job};

fn binary(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oidc-preflight"));
    cmd.env_clear().args(args);
    cmd
}

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = binary(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

/// A signed token for `job` valid for five minutes, and the JWKS file that verifies it.
fn token_and_jwks(job: &Job, aud: &str) -> (String, tempfile::NamedTempFile) {
    let mut claims = job.claims();
    claims.insert("aud".into(), json!(aud));
    let token = test_key().sign(&Value::Object(claims));
    let mut jwks = tempfile::NamedTempFile::new().unwrap();
    jwks.write_all(test_key().jwks().to_string().as_bytes())
        .unwrap();
    (token, jwks)
}

#[test]
fn check_verifies_with_a_jwks_file_and_passes() {
    let (token, jwks) = token_and_jwks(&Job::default(), "sts.amazonaws.com");
    let jwks_path = jwks.path().to_str().unwrap();
    let out = run(
        &[
            "check",
            "--jwks",
            jwks_path,
            "--provider",
            "aws",
            "--subject-pattern",
            "repo:octo-org/octo-repo:ref:refs/heads/*",
        ],
        &token,
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("Signature: valid (RS256, key `38826b17"),
        "{stdout}"
    );
    assert!(stdout.contains("Verdict: passed"), "{stdout}");
    assert!(
        !stdout.contains(&token) && !text(&out.stderr).contains(&token),
        "the token is never printed"
    );
}

#[test]
fn check_reports_a_bad_signature_and_json_findings() {
    let (token, jwks) = token_and_jwks(&Job::default(), "sts.amazonaws.com");
    let (head, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{head}.{}", oidc_preflight::claims::base64url(&[7u8; 256]));
    let out = run(
        &[
            "check",
            "-",
            "--jwks",
            jwks.path().to_str().unwrap(),
            "--format",
            "json",
        ],
        &forged,
    );
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["passed"], false);
    assert_eq!(report["findings"][0]["id"], "signature-invalid");
    assert!(report["signature"].as_str().unwrap().starts_with("invalid"));
    assert_eq!(report["subject_form"], "branch");
    assert!(!text(&out.stdout).contains(&forged));
}

#[test]
fn check_without_verification_explains_the_mismatch() {
    let (token, _) = token_and_jwks(
        &Job {
            environment: Some("prod".into()),
            ..Job::default()
        },
        "https://github.com/octo-org",
    );
    let out = run(
        &[
            "check",
            "--no-verify",
            "--provider",
            "aws",
            "--subject-pattern",
            "repo:octo-org/octo-repo:ref:refs/heads/main",
        ],
        &token,
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("(subject-form-environment)") && stdout.contains("(audience-is-default)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Signature: skipped (--no-verify)"),
        "{stdout}"
    );
}

#[test]
fn check_exit_codes_for_bad_input() {
    let out = run(&["check", "--no-verify"], "not-a-jwt");
    assert_eq!(out.status.code(), Some(4));
    assert!(text(&out.stderr).contains("not a JWT") && text(&out.stderr).contains("hint:"));
    assert!(
        !text(&out.stderr).contains("not-a-jwt"),
        "the input is never echoed"
    );
    let out = run(&["check", "/nonexistent/token.jwt"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read the token file"));
    let out = run(&["check", "--no-verify", "--claim", "environment"], "a.b.c");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("name=pattern"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["check", "--no-verify", "--provider", "vault"], "a.b.c");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn predict_prints_sub_and_aud_and_checks_them() {
    let out = run(
        &[
            "predict",
            "--repository",
            "octo-org/octo-repo",
            "--environment",
            "prod",
            "--provider",
            "aws",
            "--subject-pattern",
            "repo:octo-org/octo-repo:environment:prod",
        ],
        "",
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("Predicted sub: repo:octo-org/octo-repo:environment:prod\nPredicted aud: sts.amazonaws.com\n"), "{stdout}");

    let out = run(
        &[
            "predict",
            "--repository",
            "octo-org/octo-repo",
            "--ref",
            "refs/tags/v1.0.0",
            "--subject-pattern",
            "repo:octo-org/octo-repo:ref:refs/heads/main",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("(subject-form-tag)"));
}

#[test]
fn predict_custom_and_immutable_forms() {
    let out = run(
        &[
            "predict",
            "--repository",
            "octo-org/octo-repo",
            "--event",
            "pull_request",
            "--owner-id",
            "65432",
            "--repository-id",
            "123",
            "--include-claim-keys",
            "repo,context,job_workflow_ref",
            "--workflow",
            "ci.yml",
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["subject"],
        "repo:octo-org@65432/octo-repo@123:pull_request:job_workflow_ref:octo-org/octo-repo/.github/workflows/ci.yml@refs/heads/main"
    );
    assert_eq!(report["subject_form"], "custom");
    assert_eq!(report["claims"]["aud"], "https://github.com/octo-org");

    let out = run(
        &[
            "predict",
            "--repository",
            "o/r",
            "--include-claim-keys",
            "repo,actor",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--set actor=VALUE"),
        "{}",
        text(&out.stderr)
    );
    let out = run(
        &[
            "predict",
            "--repository",
            "o/r",
            "--include-claim-keys",
            "repo,actor",
            "--set",
            "actor=octocat",
        ],
        "",
    );
    assert!(
        text(&out.stdout).starts_with("Predicted sub: repo:o/r:actor:octocat\n"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn inside_a_runner_the_report_is_fenced_from_command_parsing() {
    let job = Job {
        git_ref: "refs/heads/x\n::error::pwned".into(),
        ..Job::default()
    };
    let (token, _) = token_and_jwks(&job, "sts.amazonaws.com");
    let mut cmd = binary(&["check", "--no-verify"]);
    cmd.env("GITHUB_ACTIONS", "true")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(token.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let view = crate::runner::process(&text(&out.stdout));
    assert!(view.annotations().is_empty(), "{:?}", view.annotations());
    assert!(view.unexpected_commands().is_empty());
}

#[test]
fn check_evaluates_the_example_trust_policies() {
    let prod = Job {
        environment: Some("prod".into()),
        ..Job::default()
    };
    let (token, _) = token_and_jwks(&prod, "sts.amazonaws.com");
    let aws = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/policies/aws-trust-policy.json"
    );
    let out = run(
        &[
            "check",
            "--no-verify",
            "--trust-policy",
            aws,
            "--format",
            "json",
        ],
        &token,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["policy_result"], "allow");
    assert_eq!(report["policies"][0]["allowed"], true);

    // The same policy refuses a job without the environment, and names the condition.
    let (token, _) = token_and_jwks(&Job::default(), "sts.amazonaws.com");
    let out = run(&["check", "--no-verify", "--trust-policy", aws], &token);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("REFUSES the token"), "{stdout}");
    assert!(stdout.contains("(aws-condition-failed)"), "{stdout}");
    assert!(stdout.contains("StringLike"), "{stdout}");

    // Azure expects its own audience: the AWS-audience token is refused, as Entra would.
    let azure = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/policies/azure-flexible-credential.json"
    );
    let (token, _) = token_and_jwks(&prod, "sts.amazonaws.com");
    let out = run(
        &[
            "check",
            "--no-verify",
            "--trust-policy",
            azure,
            "--format",
            "json",
        ],
        &token,
    );
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["policy_result"], "deny");
    let ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(ids.contains(&"azure-audience-mismatch"), "{ids:?}");
}

#[test]
fn an_unusable_trust_policy_is_a_usage_error_that_points_at_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\n  \"Statement\": [\n    {\"Effect\": \"Allow\",, }\n  ]\n}\n",
    )
    .unwrap();
    let (token, _) = token_and_jwks(&Job::default(), "sts.amazonaws.com");
    let out = run(
        &[
            "check",
            "--no-verify",
            "--trust-policy",
            bad.to_str().unwrap(),
        ],
        &token,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("bad.json") && stderr.contains("line 3"),
        "{stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");
    let out = run(
        &[
            "check",
            "--no-verify",
            "--trust-policy",
            "/nonexistent.json",
        ],
        &token,
    );
    assert_eq!(out.status.code(), Some(2));
    let out = run(
        &[
            "check",
            "--no-verify",
            "--trust-policy-format",
            "vault",
            "--trust-policy",
            bad.to_str().unwrap(),
        ],
        &token,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown trust policy format"));
}

#[test]
fn check_refuses_an_oversized_token_file_instead_of_truncating_it() {
    // Read whole up to the cap, refused beyond it: a silently cut token would be reported as
    // malformed for a reason that is not the real one.
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let chunk = "A".repeat(1024 * 1024);
    for _ in 0..5 {
        file.write_all(chunk.as_bytes()).unwrap();
    }
    let out = binary(&["check", "--no-verify", file.path().to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("larger than 4194304 bytes"), "{stderr}");
    assert!(!stderr.contains(&chunk[..64]), "the content is not echoed");
}
