//! Hostile but small inputs must cost bounded work: glob patterns against megabyte claims,
//! patterns past the cap, floods of trust documents and of findings. Each test would hang or
//! flood the log on the code before the bounds; the wall-clock limits here are hang guards,
//! hundreds of times what the work takes.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use oidc_preflight::findings::{ANNOTATIONS_PER_LEVEL, MAX_FINDINGS_JSON_BYTES};
use oidc_preflight::pattern::MAX_PATTERN_CHARS;
use oidc_preflight::trust::MAX_TRUST_DOCUMENTS;
use oidc_preflight::ExitStatus;
use serde_json::{json, Value};

use crate::common::run_with;
use crate::provider::{test_key, Job, Provider};

const HANG_GUARD: Duration = Duration::from_secs(120);

/// Runs the binary with `args`, killing it and failing the test if it outlives the guard.
/// Output goes to files, not pipes: a child blocked on a full pipe would look like a hang.
fn run_guarded(args: &[&str]) -> Output {
    let stdout = tempfile::tempfile().unwrap();
    let stderr = tempfile::tempfile().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_oidc-preflight"))
        .env_clear()
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout.try_clone().unwrap())
        .stderr(stderr.try_clone().unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > HANG_GUARD {
            let _ = child.kill();
            panic!("`{}` did not finish within {HANG_GUARD:?}", args[0]);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read = |mut file: std::fs::File| {
        use std::io::{Read, Seek};
        let mut bytes = Vec::new();
        file.rewind().unwrap();
        file.read_to_end(&mut bytes).unwrap();
        bytes
    };
    Output {
        status,
        stdout: read(stdout),
        stderr: read(stderr),
    }
}

fn token_file(sub: &str, aud: &str) -> tempfile::NamedTempFile {
    let mut map = Job::default().claims();
    map.insert("sub".into(), json!(sub));
    map.insert("aud".into(), json!(aud));
    let token = test_key().sign(&Value::Object(map));
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(token.as_bytes()).unwrap();
    file
}

fn aws_policy(sub_pattern: &str) -> String {
    let host = "token.actions.githubusercontent.com";
    json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": format!("arn:aws:iam::123456789012:oidc-provider/{host}")},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {format!("{host}:aud"): "sts.amazonaws.com"},
            "StringLike": {format!("{host}:sub"): sub_pattern},
        }
    }]})
    .to_string()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_backtracking_pattern_against_a_megabyte_subject_ends() {
    // `*`, 5,000 `a` and a `b` against a 1 MB subject of `a`: more than 120 s before.
    let sub = "a".repeat(1 << 20);
    let pattern = format!("*{}b", "a".repeat(5000));
    let token = token_file(&sub, "sts.amazonaws.com");
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("role.json");
    std::fs::write(&policy, aws_policy(&pattern)).unwrap();
    let out = run_guarded(&[
        "check",
        "--no-verify",
        "--subject-pattern",
        &pattern,
        "--claim",
        &format!("sub={pattern}"),
        "--trust-policy",
        policy.to_str().unwrap(),
        "--format",
        "json",
        token.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["policy_result"], "deny");
}

#[test]
fn patterns_past_the_cap_are_usage_errors() {
    let token = token_file(
        "repo:octo-org/octo-repo:ref:refs/heads/main",
        "sts.amazonaws.com",
    );
    let token = token.path().to_str().unwrap();
    let long = format!("repo:octo-org/*{}", "?".repeat(MAX_PATTERN_CHARS));
    let claim = format!("ref={long}");
    for args in [
        vec!["--subject-pattern", long.as_str()],
        vec!["--claim", claim.as_str()],
    ] {
        let mut all = vec!["check", "--no-verify"];
        all.extend(&args);
        all.push(token);
        let out = run_guarded(&all);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("longer than the {MAX_PATTERN_CHARS} characters")),
            "{stderr}"
        );
        assert!(stderr.contains(args[0]), "{stderr}");
    }
    // In a trust policy: the document cannot be used.
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("role.json");
    std::fs::write(&policy, aws_policy(&long)).unwrap();
    let out = run_guarded(&[
        "check",
        "--no-verify",
        "--trust-policy",
        policy.to_str().unwrap(),
        token,
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("role.json") && stderr.contains("8192"),
        "{stderr}"
    );
}

#[test]
fn twenty_thousand_trust_documents_are_refused_before_any_is_read() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..20_000 {
        std::fs::write(dir.path().join(format!("{i:05}.json")), "{}").unwrap();
    }
    let token = token_file(
        "repo:octo-org/octo-repo:ref:refs/heads/main",
        "sts.amazonaws.com",
    );
    let out = run_guarded(&[
        "check",
        "--no-verify",
        "--trust-policy",
        dir.path().to_str().unwrap(),
        token.path().to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "20000 trust policy documents were given, more than the {MAX_TRUST_DOCUMENTS}"
        )),
        "{stderr}"
    );
    assert!(out.stdout.len() + out.stderr.len() < 4096);
}

#[tokio::test]
async fn a_flood_of_findings_is_bounded_in_annotations_outputs_and_log() {
    let job = Job::default();
    let provider = Provider::start().await;
    provider.issue_tokens_for(&job).await;
    let host = provider
        .server
        .uri()
        .trim_start_matches("http://")
        .to_owned();
    // As many documents as a run takes, half allowing with a likely mistake (a warning each:
    // ForAllValues over a claim the token lacks holds) and half refusing (an error each).
    let dir = tempfile::tempdir().unwrap();
    let mut names = Vec::new();
    // Bounded on its own too: with the cap raised by mistake, an unbounded loop here wrote
    // files until the disk was full (42 GB, seen once).
    for i in 0..MAX_TRUST_DOCUMENTS.min(200) {
        let sub = if i % 2 == 0 {
            "repo:octo-org/octo-repo:*".to_owned()
        } else {
            format!("repo:octo-org/other-{i}:*")
        };
        let policy = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::123456789012:oidc-provider/{host}")},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {format!("{host}:aud"): "sts.amazonaws.com"},
                "StringLike": {format!("{host}:sub"): sub},
                "ForAllValues:StringLike": {format!("{host}:environment"): "prod"},
            }
        }]});
        let name = format!("role-{i:03}.json");
        std::fs::write(dir.path().join(&name), policy.to_string()).unwrap();
        names.push(name);
    }
    let workspace = dir.path().display().to_string();
    let env = [("GITHUB_WORKSPACE", workspace.as_str())];
    let list = names.join("\n");
    let run = run_with(
        Some(&provider),
        &[("provider", "aws"), ("trust-policy", list.as_str())],
        &env,
    )
    .await;
    assert_eq!(run.status, ExitStatus::CheckFailed, "{}", run.stderr);
    let annotations = run.view.annotations();
    for level in ["error", "warning"] {
        let of_level: Vec<_> = annotations.iter().filter(|a| a.name == level).collect();
        assert_eq!(of_level.len(), ANNOTATIONS_PER_LEVEL, "{level}");
        let last = of_level.last().unwrap();
        assert_eq!(last.properties["title"], "More findings", "{level}");
        assert!(
            last.data.contains("more finding(s) of this level"),
            "{}",
            last.data
        );
    }
    assert!(annotations.len() <= 3 * ANNOTATIONS_PER_LEVEL);
    // The output: valid JSON, within its cap, every finding or a count of those left out.
    let findings = run.output("findings").unwrap();
    assert!(findings.len() <= MAX_FINDINGS_JSON_BYTES);
    let parsed: Vec<Value> = serde_json::from_str(findings).expect("valid JSON");
    assert!(parsed.len() >= MAX_TRUST_DOCUMENTS, "{}", parsed.len());
    // The log lists at most the first findings, and says how many more.
    assert!(run.stdout.len() < 512 * 1024, "{} bytes", run.stdout.len());
    assert!(
        run.summary.len() < 512 * 1024,
        "{} bytes",
        run.summary.len()
    );
}

#[tokio::test]
async fn the_log_and_summary_count_findings_they_do_not_list() {
    let job = Job::default();
    let provider = Provider::start().await;
    provider.issue_tokens_for(&job).await;
    // 150 claim checks that fail: one error finding each.
    let claims: Vec<String> = (0..150)
        .map(|i| format!("ref=refs/heads/other-{i}"))
        .collect();
    let claims = claims.join("\n");
    let run = run_with(
        Some(&provider),
        &[
            ("audience", "sts.amazonaws.com"),
            ("claims", claims.as_str()),
        ],
        &[],
    )
    .await;
    assert_eq!(run.status, ExitStatus::CheckFailed, "{}", run.stderr);
    let listed = oidc_preflight::findings::MAX_LISTED_FINDINGS;
    assert!(
        run.stdout.contains("more finding(s), not listed"),
        "{}",
        run.stdout
    );
    assert!(
        run.summary.contains("more finding(s), not listed"),
        "{}",
        run.summary
    );
    let errors = run
        .view
        .annotations()
        .into_iter()
        .filter(|a| a.name == "error")
        .count();
    assert_eq!(errors, ANNOTATIONS_PER_LEVEL);
    let parsed: Vec<Value> = serde_json::from_str(run.output("findings").unwrap()).unwrap();
    assert!(
        parsed.len() > listed,
        "the output keeps what fits: {}",
        parsed.len()
    );
}
