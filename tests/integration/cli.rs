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

/// The binary with `args` and `stdin`, in a clean environment.
pub(crate) fn run(args: &[&str], stdin: &str) -> Output {
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
    let out = run(
        &["check", "--no-verify", "--provider", "hashicorp"],
        "a.b.c",
    );
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

/// A Vault role, named by `--trust-policy-format vault` or detected, with `--provider vault`:
/// the example role pins `environment: prod`, so only the prod job logs in.
#[test]
fn check_evaluates_a_vault_role_named_or_detected() {
    let role = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/policies/vault-role.json"
    );
    let prod = Job {
        environment: Some("prod".into()),
        ..Job::default()
    };
    let audience = "https://github.com/octo-org";
    for (job, code, result) in [(&prod, 0, "allow"), (&Job::default(), 1, "deny")] {
        let (token, _) = token_and_jwks(job, audience);
        for format in [["--trust-policy-format", "vault"], ["--provider", "vault"]] {
            let mut args = vec![
                "check",
                "--no-verify",
                "--trust-policy",
                role,
                "--format",
                "json",
            ];
            args.extend(format);
            let out = run(&args, &token);
            assert_eq!(out.status.code(), Some(code), "{}", text(&out.stdout));
            let report: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(report["policy_result"], result);
            assert_eq!(
                report["policies"][0]["format"],
                "HashiCorp Vault JWT auth role"
            );
            // The snippet is printed for the Vault consumer only.
            assert_eq!(
                report["snippets"].get("vault").is_some(),
                format[0] == "--provider"
            );
        }
    }
    // An AWS document read as a Vault role is a usage error naming Vault's requirement.
    let aws = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/policies/aws-trust-policy.json"
    );
    let (token, _) = token_and_jwks(&prod, audience);
    let out = run(
        &[
            "check",
            "--no-verify",
            "--trust-policy-format",
            "vault",
            "--trust-policy",
            aws,
        ],
        &token,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("user_claim"),
        "{}",
        text(&out.stderr)
    );
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
            "conjur",
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

/// [`run`] on a thread of its own, killed after a generous bound: a hang guard only (the
/// old code blocked forever opening a FIFO), never a speed check.
fn run_guarded(args: &[&str], stdin: &str) -> Output {
    let mut child = binary(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("`check {}` hung", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn ids(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_refuses_a_token_from_an_untrusted_issuer_without_asking_it() {
    // Anyone's OpenID provider on loopback, serving keys that verify its own token, whose
    // `sub` names a repository it has nothing to do with.
    let attacker = crate::provider::Provider::start().await;
    attacker.serve_keys().await;
    let uri = attacker.server.uri();
    let (token, _) = token_and_jwks(
        &Job {
            issuer: Some(uri.clone()),
            ..Job::default()
        },
        "sts.amazonaws.com",
    );
    let pattern = "repo:octo-org/octo-repo:ref:refs/heads/*";
    let args = ["check", "--subject-pattern", pattern, "--format", "json"];
    let out = tokio::task::spawn_blocking({
        let token = token.clone();
        move || run(&args, &token)
    })
    .await
    .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["passed"], false);
    assert!(
        report["signature"].as_str().unwrap().starts_with("invalid"),
        "{stdout}"
    );
    assert!(
        ids(&report).contains(&"issuer-untrusted".to_owned()),
        "{stdout}"
    );
    assert!(stdout.contains("--issuer URL"), "{stdout}");
    let asked = attacker.server.received_requests().await.unwrap();
    assert!(
        asked.is_empty(),
        "{} request(s) to the untrusted issuer",
        asked.len()
    );

    // Named, the same provider is trusted: its keys verify the token.
    let named = ["check", "--issuer", &uri, "--subject-pattern", pattern];
    let named: Vec<String> = named.iter().map(|s| s.to_string()).collect();
    let out = tokio::task::spawn_blocking({
        let token = token.clone();
        move || {
            run(
                &named.iter().map(String::as_str).collect::<Vec<_>>(),
                &token,
            )
        }
    })
    .await
    .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("Signature: valid"), "{stdout}");
    assert!(stdout.contains("Verdict: passed"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_with_an_issuer_named_takes_the_keys_from_it_only() {
    let token_provider = crate::provider::Provider::start().await;
    token_provider.serve_keys().await;
    let named = crate::provider::Provider::start().await;
    named.serve_keys().await;
    let (token, _) = token_and_jwks(
        &Job {
            issuer: Some(token_provider.server.uri()),
            ..Job::default()
        },
        "sts.amazonaws.com",
    );
    let args: Vec<String> = ["check", "--issuer", &named.server.uri()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let out = tokio::task::spawn_blocking(move || {
        run(&args.iter().map(String::as_str).collect::<Vec<_>>(), &token)
    })
    .await
    .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("(issuer-mismatch)"), "{stdout}");
    assert!(token_provider
        .server
        .received_requests()
        .await
        .unwrap()
        .is_empty());
    assert_eq!(named.server.received_requests().await.unwrap().len(), 2);
}

#[test]
fn check_fails_closed_on_a_token_that_makes_itself_unverifiable() {
    let (token, jwks) = token_and_jwks(&Job::default(), "sts.amazonaws.com");
    let jwks_path = jwks.path().to_str().unwrap();
    let payload = |claims: Value| oidc_preflight::claims::base64url(claims.to_string().as_bytes());
    let mut no_iss = Job::default().claims();
    no_iss.remove("iss");
    no_iss.insert("aud".into(), json!("sts.amazonaws.com"));
    let mut http_iss = no_iss.clone();
    http_iss.insert("iss".into(), json!("http://issuer.example"));
    let (message, _) = token.rsplit_once('.').unwrap();
    let cases = [
        ("no iss", test_key().sign(&Value::Object(no_iss.clone()))),
        (
            "a plain http iss",
            test_key().sign(&Value::Object(http_iss)),
        ),
        ("an empty signature", format!("{message}.")),
        (
            "alg none",
            format!(
                "{}.{}.",
                oidc_preflight::claims::base64url(br#"{"alg":"none"}"#),
                payload(Value::Object(no_iss))
            ),
        ),
    ];
    for (name, token) in &cases {
        for keys in [vec!["--jwks", jwks_path], vec![]] {
            let mut args = vec!["check", "--format", "json"];
            args.extend(&keys);
            let out = run(&args, token);
            let stdout = text(&out.stdout);
            assert_eq!(out.status.code(), Some(1), "{name} {keys:?}: {stdout}");
            let report: Value = serde_json::from_str(&stdout).unwrap();
            assert!(
                report["signature"].as_str().unwrap().starts_with("invalid"),
                "{name} {keys:?}: {stdout}"
            );
            assert!(
                report["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["severity"] == "error"),
                "{name} {keys:?}: {stdout}"
            );
        }
    }
}

#[test]
fn check_tries_each_key_for_a_token_without_kid() {
    let mut claims = Job::default().claims();
    claims.insert("aud".into(), json!("sts.amazonaws.com"));
    let token = test_key().sign_raw_with_header(
        r#"{"typ":"JWT","alg":"RS256"}"#,
        Value::Object(claims).to_string().as_bytes(),
    );
    let mut decoy_n = vec![0xC5u8; 256];
    decoy_n[255] |= 1;
    let decoy = json!({"kty": "RSA", "kid": "decoy", "n": oidc_preflight::claims::base64url(&decoy_n), "e": "AQAB"});
    let mut keys = test_key().jwks();
    keys["keys"]
        .as_array_mut()
        .unwrap()
        .insert(0, decoy.clone());
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(keys.to_string().as_bytes()).unwrap();
    let out = run(&["check", "--jwks", file.path().to_str().unwrap()], &token);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("Signature: valid"), "{stdout}");
    // Only keys that do not verify: refused.
    let only_decoys = json!({"keys": [decoy.clone(), decoy]});
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(only_decoys.to_string().as_bytes()).unwrap();
    let out = run(&["check", "--jwks", file.path().to_str().unwrap()], &token);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("(signature-invalid)"));
}

#[test]
fn check_fails_when_verification_refuses_a_claim_no_other_check_does() {
    // `iat` ten minutes ahead: the report only warns about clock skew, but the verifier (like
    // the clouds) refuses the token, and its verdict is the verdict.
    let mut claims = Job::default().claims();
    claims.insert("aud".into(), json!("sts.amazonaws.com"));
    claims.insert("iat".into(), json!(crate::provider::now() + 600));
    let token = test_key().sign(&Value::Object(claims));
    let (_, jwks) = token_and_jwks(&Job::default(), "sts.amazonaws.com");
    let out = run(&["check", "--jwks", jwks.path().to_str().unwrap()], &token);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("(token-refused)"), "{stdout}");
    assert!(stdout.contains("not yet valid (iat)"), "{stdout}");
    // An expired token is refused too, reported once (token-expired), not twice.
    let mut claims = Job::default().claims();
    claims.insert("aud".into(), json!("sts.amazonaws.com"));
    claims.insert("exp".into(), json!(crate::provider::now() - 3600));
    let token = test_key().sign(&Value::Object(claims));
    let out = run(&["check", "--jwks", jwks.path().to_str().unwrap()], &token);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("(token-expired)"), "{stdout}");
    assert!(!stdout.contains("(token-refused)"), "{stdout}");
}

#[test]
fn an_unusable_jwks_file_is_a_usage_error_naming_it() {
    let (token, _) = token_and_jwks(&Job::default(), "sts.amazonaws.com");
    for content in [
        "nope",
        r#"{"keys":[]}"#,
        r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#,
    ] {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(content.as_bytes()).unwrap();
        let path = file.path().to_str().unwrap();
        let out = run(&["check", "--jwks", path], &token);
        let stderr = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{content}: {stderr}{}",
            text(&out.stdout)
        );
        assert!(stderr.contains(path), "{content}: {stderr}");
        assert!(stderr.contains("hint:"), "{content}: {stderr}");
    }
    let out = run(&["check", "--jwks", "/nonexistent/jwks.json"], &token);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/jwks.json"));
}

#[test]
fn only_regular_files_are_read() {
    let (token, jwks) = token_and_jwks(&Job::default(), "sts.amazonaws.com");
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let fifo = fifo.to_str().unwrap();
    let folder = dir.path().join("folder.json");
    std::fs::create_dir(&folder).unwrap();
    let folder = folder.to_str().unwrap();
    let big = dir.path().join("big.json");
    std::fs::write(&big, "x".repeat(2 * 1024 * 1024)).unwrap();
    let big = big.to_str().unwrap();
    let token_file = dir.path().join("token.jwt");
    std::fs::write(&token_file, &token).unwrap();
    let token_file = token_file.to_str().unwrap();
    let jwks = jwks.path().to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec!["check", "--no-verify", fifo],
            fifo,
            "a pipe (FIFO), not a regular file",
        ),
        (
            vec!["check", "--no-verify", "/dev/zero"],
            "/dev/zero",
            "a device, not a regular file",
        ),
        (
            vec!["check", "--no-verify", folder],
            folder,
            "a directory, not a regular file",
        ),
        (
            vec!["check", "--jwks", fifo, token_file],
            fifo,
            "a pipe (FIFO)",
        ),
        (
            vec!["check", "--jwks", "/dev/zero", token_file],
            "/dev/zero",
            "a device",
        ),
        (
            vec!["check", "--jwks", folder, token_file],
            folder,
            "a directory",
        ),
        (
            vec!["check", "--jwks", big, token_file],
            big,
            "larger than 1048576 bytes",
        ),
        (
            vec!["check", "--jwks", jwks, "--trust-policy", fifo, token_file],
            fifo,
            "a pipe (FIFO)",
        ),
        (
            vec![
                "check",
                "--no-verify",
                "--trust-policy",
                "/dev/zero",
                token_file,
            ],
            "/dev/zero",
            "a device",
        ),
        (
            vec!["check", "--no-verify", "--trust-policy", big, token_file],
            big,
            "larger than 1048576 bytes",
        ),
    ];
    for (args, path, what) in cases {
        let out = run_guarded(&args, "");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(path) && stderr.contains(what),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains("hint:"), "{args:?}: {stderr}");
    }
}

#[test]
fn check_fails_when_the_trusted_issuers_keys_cannot_be_fetched() {
    // A loopback port that was just free: connecting is refused at once.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let (token, _) = token_and_jwks(
        &Job {
            issuer: Some(issuer.clone()),
            ..Job::default()
        },
        "sts.amazonaws.com",
    );
    let out = run_guarded(&["check", "--issuer", &issuer, "--format", "json"], &token);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        ids(&report).contains(&"signature-unverified".to_owned()),
        "{stdout}"
    );
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "signature-unverified")
        .unwrap();
    assert_eq!(finding["severity"], "error");
    assert!(
        finding["hint"].as_str().unwrap().contains("--jwks FILE"),
        "{finding}"
    );
    assert!(
        report["signature"].as_str().unwrap().starts_with("invalid"),
        "{stdout}"
    );
}

#[test]
fn check_names_the_usual_paste_mistakes_without_quoting_the_token() {
    let (token, _) = token_and_jwks(&Job::default(), "sts.amazonaws.com");
    let cases = [
        (
            format!("{{\"count\":1234,\"value\":\"{token}\"}}"),
            "the token endpoint's JSON answer",
            "jq -r .value",
        ),
        (
            format!("Bearer {token}"),
            "begins with `Bearer `",
            "remove `Bearer `",
        ),
        (
            format!("\"{token}\"\n"),
            "wrapped in quotes",
            "remove the quotes",
        ),
        (
            format!("'{token}'"),
            "wrapped in quotes",
            "remove the quotes",
        ),
        ("***".to_owned(), "the runner's mask", "`token` output"),
    ];
    for (pasted, says, fix) in cases {
        let out = run(&["check", "--no-verify", "-"], &pasted);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{says}: {stderr}");
        assert!(stderr.contains(says), "{says}: {stderr}");
        assert!(stderr.contains(fix), "{says}: {stderr}");
        let payload = token.split('.').nth(1).unwrap();
        assert!(!stderr.contains(payload) && !text(&out.stdout).contains(payload));
    }
    // A multibyte character where `Bearer ` would end is not a paste mistake, nor a panic.
    let out = run(&["check", "--no-verify", "-"], "Beareré.x.y");
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
}

#[test]
fn predict_refuses_what_github_never_issues_and_says_what_was_meant() {
    let cases: [(&[&str], &str, &str); 4] = [
        (
            &["--ref", "main"],
            "option `--ref` is invalid",
            "did you mean `--ref refs/heads/main`?",
        ),
        (
            &["--ref", "v1.2.3"],
            "not a full ref",
            "did you mean `--ref refs/tags/v1.2.3`?",
        ),
        (
            &["--repository", "octo org/x y"],
            "not a GitHub repository name",
            "--repository octo-org/octo-repo",
        ),
        (
            &["--environment", "staging", "--job-environment", "prod"],
            "no other job's token",
            "--environment NAME",
        ),
    ];
    for (args, says, hint) in cases {
        let mut all = vec!["predict"];
        if !args.contains(&"--repository") {
            all.extend(["--repository", "octo-org/octo-repo"]);
        }
        all.extend(args);
        let out = run(&all, "");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(says) && stderr.contains(hint),
            "{args:?}: {stderr}"
        );
        assert_eq!(text(&out.stdout), "", "{args:?}: no prediction is printed");
    }
}
