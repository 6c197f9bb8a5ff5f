//! The built binary, run as the runner runs a container action: environment variables in,
//! workflow commands on stdout, outputs in GITHUB_OUTPUT, an exit code.

use std::process::{Command, Output};

use crate::provider::{test_key, Job, Provider, REQUEST_TOKEN};
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
    // A runner always sets GITHUB_ACTIONS; without `id-token: write` it gives no request URL.
    let out = binary().env("GITHUB_ACTIONS", "true").output().unwrap();
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
fn at_a_terminal_without_a_runner_it_points_to_check_and_predict() {
    let out = binary().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout), "", "no workflow commands at a terminal");
    assert_eq!(
        text(&out.stderr),
        "error: not running in GitHub Actions (GITHUB_ACTIONS is not set), so there is no token to request\n  hint: to check a token you have: `oidc-preflight check TOKEN_FILE`; to predict a job's token: `oidc-preflight predict --repository OWNER/REPO`; `oidc-preflight --help` lists the rest\n"
    );
}

#[test]
fn bad_input_exits_2_with_a_hint() {
    let out = binary()
        .env("GITHUB_ACTIONS", "true")
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

/// Failure paths run through the binary for the leak checks (stated in docs/reliability.md).
pub const BINARY_LEAK_CASES: usize = 6;

/// A failure path, as the built binary meets it with step debug logging on.
struct LeakCase {
    name: &'static str,
    /// What the token endpoint answers (after `answers`, the provider issues real tokens).
    answers: Vec<(wiremock::ResponseTemplate, Option<u64>)>,
    inputs: &'static [(&'static str, &'static str)],
    exit: i32,
    /// A value served as the token, which must appear only on its mask line.
    served: Option<String>,
    /// Debug lines that must be there.
    debug: &'static [&'static str],
}

fn served(token: &str) -> (wiremock::ResponseTemplate, Option<u64>) {
    (
        wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({ "value": token })),
        None,
    )
}

/// Through the binary, with `RUNNER_DEBUG=1`: on every failure path neither the request token
/// nor the token shows anywhere but on its own mask line (stdout, stderr, summary, outputs,
/// debug lines), and untrusted text in debug lines (a `kid`) injects nothing.
#[tokio::test(flavor = "multi_thread")]
async fn secrets_stay_masked_on_every_failure_path_with_debug_on() {
    use serde_json::{json, Value};
    let _ = test_key();
    let provider = Provider::start().await;
    let mut claims = Job::default().claims();
    claims.insert("iss".into(), json!(provider.server.uri()));
    claims.insert("aud".into(), json!("sts.amazonaws.com"));
    let good = test_key().sign(&Value::Object(claims.clone()));
    let (head, _) = good.rsplit_once('.').unwrap();
    let forged = format!("{head}.{}", oidc_preflight::claims::base64url(&[7u8; 256]));
    let hostile_kid = test_key().sign_raw_with_header(
        &json!({"alg": "RS256", "kid": "k1\n::error::injected %0A ##[add-mask]octo ::stop-commands::x"}).to_string(),
        Value::Object(claims).to_string().as_bytes(),
    );
    let cases = vec![
        LeakCase {
            name: "malformed token",
            answers: vec![served("e30.bm90IGpzb24gc2VjcmV0.c2ln")],
            inputs: &[],
            exit: 4,
            served: Some("e30.bm90IGpzb24gc2VjcmV0.c2ln".into()),
            debug: &["token request attempt 1 got the token in"],
        },
        LeakCase {
            name: "bad signature",
            answers: vec![served(&forged)],
            inputs: &[],
            exit: 1,
            served: Some(forged.clone()),
            debug: &[
                "token header: alg `RS256`, kid `38826b17",
                "(discovery document): attempt 1 answered in",
                "usable RS256 key(s): 38826b17",
                "signature check: the token's signature does not verify",
            ],
        },
        LeakCase {
            name: "check failure",
            answers: vec![served(&good)],
            inputs: &[("INPUT_SUBJECT-PATTERN", "repo:other/*")],
            exit: 1,
            served: Some(good.clone()),
            debug: &["signature verified with key `38826b17"],
        },
        LeakCase {
            name: "HTTP 401 quoting the request token",
            answers: vec![(
                wiremock::ResponseTemplate::new(401)
                    .set_body_json(json!({"message": format!("token {REQUEST_TOKEN} expired")})),
                None,
            )],
            inputs: &[],
            exit: 3,
            served: None,
            debug: &[
                "token request attempt 1 failed after",
                "HTTP 401: token *** expired",
            ],
        },
        LeakCase {
            name: "HTTP 503 then a token",
            answers: vec![
                (wiremock::ResponseTemplate::new(503), Some(1)),
                served(&good),
            ],
            inputs: &[],
            exit: 0,
            served: Some(good.clone()),
            debug: &[
                "deadline 30.0 s, at most 5 attempt(s)",
                "token request attempt 2 got the token in",
            ],
        },
        LeakCase {
            name: "hostile kid in the token header",
            answers: vec![served(&hostile_kid)],
            inputs: &[],
            exit: 1,
            served: Some(hostile_kid.clone()),
            debug: &["kid `k1 ::error::injected %0A ##[add-mask]octo ::stop-commands::x`"],
        },
    ];
    assert_eq!(cases.len(), BINARY_LEAK_CASES);
    for case in cases {
        provider.server.reset().await;
        for (response, times) in &case.answers {
            provider.answer(response.clone(), *times).await;
        }
        provider.serve_keys().await;
        let dir = tempfile::tempdir().unwrap();
        let (output_path, summary_path) = (dir.path().join("out"), dir.path().join("summary"));
        let mut cmd = binary();
        cmd.envs(provider.runner_env())
            .envs(case.inputs.iter().copied())
            .env("GITHUB_OUTPUT", &output_path)
            .env("GITHUB_STEP_SUMMARY", &summary_path)
            .env("RUNNER_DEBUG", "1");
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .unwrap();
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        let name = case.name;
        assert_eq!(
            out.status.code(),
            Some(case.exit),
            "{name}: {stdout}\n{stderr}"
        );
        let summary = std::fs::read_to_string(&summary_path).unwrap_or_default();
        let outputs =
            runner::parse_outputs(&std::fs::read_to_string(&output_path).unwrap_or_default())
                .expect("strict parse");
        // The request's debug line names host, port and path, never the query.
        let uri = provider.server.uri();
        assert!(
            stdout.contains(&format!("::debug::requesting the OIDC token from {uri}/")),
            "{name}: {stdout}"
        );
        // The request token: first line, its mask, and nowhere else.
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines[0], format!("::add-mask::{REQUEST_TOKEN}"), "{name}");
        assert_eq!(stdout.matches(REQUEST_TOKEN).count(), 1, "{name}");
        for (what, text) in [("stderr", &stderr), ("summary", &summary)] {
            assert!(
                !text.contains(REQUEST_TOKEN),
                "{name}: request token in {what}"
            );
        }
        assert!(
            outputs.iter().all(|(_, v)| !v.contains(REQUEST_TOKEN)),
            "{name}"
        );
        // The token: only on its mask line, which comes before any line written after it.
        if let Some(token) = &case.served {
            let mask = format!("::add-mask::{token}");
            let at = lines.iter().position(|l| *l == mask).expect("mask line");
            assert_eq!(stdout.matches(token.as_str()).count(), 1, "{name}");
            assert!(
                lines[1..at].iter().all(|l| l.starts_with("::debug::")
                    || (l.starts_with("Attempt ") && l.contains("; retrying in "))),
                "{name}: {:?}",
                &lines[1..at]
            );
            assert!(
                !stderr.contains(token) && !summary.contains(token),
                "{name}"
            );
            for (output, value) in &outputs {
                assert!(
                    output == "token" || !value.contains(token.as_str()),
                    "{name}: {output}"
                );
            }
        }
        // Debug lines: there, escaped one per line, and injecting nothing.
        let view = runner::process(&format!("{stdout}\n{stderr}"));
        assert!(
            view.unexpected_commands().is_empty(),
            "{name}: {:?}",
            view.unexpected_commands()
        );
        assert_eq!(
            view.masks.len(),
            1 + usize::from(case.served.is_some()),
            "{name}"
        );
        let debug: Vec<&str> = view
            .commands
            .iter()
            .filter(|c| c.name == "debug")
            .map(|c| c.data.as_str())
            .collect();
        for want in case.debug {
            assert!(
                debug.iter().any(|d| d.contains(want)),
                "{name}: no debug `{want}` in {debug:#?}"
            );
        }
        assert!(
            debug.iter().all(|d| !d.contains("audience=")),
            "{name}: query in debug"
        );
        assert!(
            view.annotations()
                .iter()
                .all(|a| !a.data.contains("injected")
                    || a.properties.get("title").map(String::as_str)
                        == Some("Signature does not verify")),
            "{name}: {:?}",
            view.annotations()
        );
    }
}

/// Error lines go to stderr outside any `stop-commands` block, and the runner reads a legacy
/// `##[command]` anywhere in a line of either stream: text from a trust policy (its content
/// and its file name) and from the token endpoint's error body must not become commands.
#[tokio::test(flavor = "multi_thread")]
async fn error_lines_quoting_untrusted_text_run_no_command() {
    const INJECTED: &str = "##[set-output name=matched]true";
    let provider = Provider::start().await;
    provider
        .answer(
            wiremock::ResponseTemplate::new(403)
                .set_body_json(serde_json::json!({ "message": INJECTED })),
            None,
        )
        .await;
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::write(
        policies.join("##[error]named.json"),
        format!(r#"{{"Statement": [{{"Effect": "{INJECTED}", "Principal": {{}}}}]}}"#),
    )
    .unwrap();
    for trust_policy in [Some(policies.as_path()), None] {
        let mut cmd = binary();
        cmd.envs(provider.runner_env())
            .env("GITHUB_ACTIONS", "true")
            .env("INPUT_AUDIENCE", "sts.amazonaws.com");
        if let Some(path) = trust_policy {
            cmd.env("INPUT_TRUST-POLICY", path);
        }
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .unwrap();
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_ne!(out.status.code(), Some(0), "{stdout}\n{stderr}");
        // The untrusted text is quoted (so the user sees what is wrong), defused.
        let quoted = if trust_policy.is_some() {
            "named.json"
        } else {
            "set-output"
        };
        assert!(stderr.contains(quoted), "{stderr}");
        let view = runner::process(&format!("{stdout}\n{stderr}"));
        assert!(
            view.unexpected_commands().is_empty(),
            "{:?}\n{stdout}\n{stderr}",
            view.unexpected_commands()
        );
        assert!(
            view.annotations().iter().all(|a| a.name == "error"),
            "{:?}",
            view.annotations()
        );
    }
}

/// A run against a plain-http (loopback) provider loads no root certificates: with a CA
/// bundle that holds only a broken certificate, building a client that loads the system roots
/// fails ("zero valid certificates"), so this run passes only if none is loaded.
#[tokio::test(flavor = "multi_thread")]
async fn a_loopback_run_loads_no_root_certificates() {
    let provider = Provider::start().await;
    provider.issue_tokens_for(&Job::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("broken.pem");
    std::fs::write(
        &bundle,
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let output_path = dir.path().join("github_output");
    let mut cmd = binary();
    cmd.envs(provider.runner_env())
        .env("GITHUB_OUTPUT", &output_path)
        .env("SSL_CERT_FILE", &bundle)
        .env("SSL_CERT_DIR", dir.path())
        .env(
            "INPUT_SUBJECT-PATTERN",
            "repo:octo-org/octo-repo:ref:refs/heads/main",
        );
    let out: Output = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let outputs = runner::parse_outputs(&std::fs::read_to_string(&output_path).unwrap()).unwrap();
    let get = |name: &str| {
        outputs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(
        get("signature"),
        Some("valid"),
        "keys fetched over loopback http too"
    );
    assert_eq!(get("matched"), Some("true"));
}
