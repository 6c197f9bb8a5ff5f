//! The built binary, run as the runner runs a container action: environment variables in,
//! workflow commands on stdout, outputs in GITHUB_OUTPUT, an exit code.

use std::process::{Command, Output};

use crate::provider::{Job, Provider, REQUEST_TOKEN};
use crate::runner;

/// The binary with a clean environment: no GITHUB_*, ACTIONS_*, RUNNER_* or INPUT_* from the
/// machine running the tests.
fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oidc-preflight"));
    cmd.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_as_the_runner_would_and_outputs_parse_back() {
    let provider = Provider::start().await;
    provider.issue_tokens_for(&Job::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let output_path = dir.path().join("github_output");
    // Earlier steps' outputs must survive: the file is appended to, never truncated.
    std::fs::write(&output_path, "earlier=kept\n").unwrap();
    let mut cmd = binary();
    cmd.envs(provider.runner_env())
        .env("GITHUB_OUTPUT", &output_path)
        .env("INPUT_AUDIENCE", "sts.amazonaws.com")
        .env(
            "INPUT_SUBJECT-PATTERN",
            "repo:octo-org/octo-repo:ref:refs/heads/main",
        )
        .env("INPUT_FAIL-ON-MISMATCH", "true");
    let out: Output = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let outputs = runner::parse_outputs(&std::fs::read_to_string(&output_path).unwrap())
        .expect("strict parse");
    assert_eq!(outputs[0], ("earlier".to_owned(), "kept".to_owned()));
    let get = |name: &str| {
        outputs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let token = get("token");
    assert_eq!(token.split('.').count(), 3);
    assert_eq!(get("matched"), "true");
    assert_eq!(get("audience"), "sts.amazonaws.com");

    // The token appears once on stdout, on its mask line, before anything but the request
    // token's mask; never on stderr.
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], format!("::add-mask::{REQUEST_TOKEN}"));
    assert_eq!(lines[1], format!("::add-mask::{token}"));
    assert_eq!(stdout.matches(token.as_str()).count(), 1);
    assert!(!stderr.contains(&token));
    assert!(!stderr.contains(REQUEST_TOKEN) && stdout.matches(REQUEST_TOKEN).count() == 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn mismatch_exits_1_and_terminal_mode_prints_outputs_without_the_token() {
    let provider = Provider::start().await;
    provider.issue_tokens_for(&Job::default()).await;
    let mut cmd = binary();
    cmd.envs(provider.runner_env()).env(
        "INPUT_SUBJECT-PATTERN",
        "repo:octo-org/octo-repo:environment:prod",
    );
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("  matched: false"), "{stdout}");
    assert!(stdout.contains("  token: (not printed"), "{stdout}");
    let view = runner::process(&stdout);
    let token_mask = &view.masks[1];
    assert_eq!(stdout.matches(token_mask.as_str()).count(), 1);
}

#[test]
fn missing_permission_exits_3_with_the_yaml_to_add() {
    let out = binary().output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("ACTIONS_ID_TOKEN_REQUEST_URL is not set"),
        "{stderr}"
    );
    assert!(stderr.contains("id-token: write"), "{stderr}");
    assert!(text(&out.stdout).starts_with("::error title=No OIDC token available::"));
}

#[test]
fn bad_input_exits_2_with_a_hint() {
    let out = binary()
        .env("INPUT_FAIL-ON-MISMATCH", "maybe")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("input `fail-on-mismatch` must be `true` or `false`, got `maybe`"),
        "{stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");
}

#[test]
fn help_and_version() {
    let help = binary().arg("--help").output().unwrap();
    assert_eq!(help.status.code(), Some(0));
    let help = text(&help.stdout);
    assert!(
        help.contains("Exit codes") && help.contains("ACTIONS_ID_TOKEN_REQUEST_URL"),
        "{help}"
    );
    let version = binary().arg("--version").output().unwrap();
    assert_eq!(
        text(&version.stdout).trim(),
        format!("oidc-preflight {}", env!("CARGO_PKG_VERSION"))
    );
    let bad = binary().arg("--frobnicate").output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
