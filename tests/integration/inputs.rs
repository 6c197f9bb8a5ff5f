//! Inputs that cannot carry their check: a value that is not UTF-8, a misspelt input name.
//! Each must stop the run with exit 2 naming the input, never pass it with the check gone.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::process::{Command, Output};

use oidc_preflight::config::INPUTS;

use oidc_preflight::ExitStatus;

use crate::provider::{test_key, Job, Provider};

/// The binary with the provider's runner variables and nothing from the machine.
async fn run_binary(provider: &Provider, vars: Vec<(OsString, OsString)>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oidc-preflight"));
    cmd.env_clear().envs(provider.runner_env()).envs(vars);
    tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_non_utf8_input_exits_2_naming_it() {
    let provider = Provider::start().await;
    provider.issue_tokens_for(&Job::default()).await;
    // The pattern does not match the token: had the input been dropped, as it was, the step
    // would have passed with no subject check at all.
    let out = run_binary(
        &provider,
        vec![(
            "INPUT_SUBJECT-PATTERN".into(),
            OsString::from_vec(b"repo:other/\xff:*".to_vec()),
        )],
    )
    .await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("input `subject-pattern` is not valid UTF-8"),
        "{stderr}"
    );
    assert!(!stdout.contains("matched"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_misspelt_input_exits_2_with_the_input_meant() {
    let provider = Provider::start().await;
    provider.issue_tokens_for(&Job::default()).await;
    for (variable, value, meant) in [
        ("INPUT_SUBJECT-PATTERNS", "repo:other/*", "subject-pattern"),
        ("INPUT_SUBJECT_PATTERN", "repo:other/*", "subject-pattern"),
        ("INPUT_SUBJECT-PATTERNS", "", "subject-pattern"),
    ] {
        let out = run_binary(&provider, vec![(variable.into(), value.into())]).await;
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(2), "{variable}: {stdout}\n{stderr}");
        assert!(
            stderr.contains(&format!("did you mean `{meant}`?")),
            "{stderr}"
        );
        assert!(stderr.contains(variable), "{stderr}");
        assert!(
            stdout.starts_with("::error title=Invalid input::"),
            "{stdout}"
        );
    }
}

#[test]
fn the_known_inputs_are_those_of_action_yml() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml"))
        .expect("action.yml");
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).expect("action.yml parses");
    let inputs = docs[0]["inputs"].as_hash().expect("an inputs mapping");
    // `binary` is the composite's resolver's input (which binary to run), never passed to
    // the binary: a `binary` variable reaching it is as unknown as any typo.
    let mut declared: Vec<&str> = inputs
        .keys()
        .map(|k| k.as_str().expect("input names are strings"))
        .filter(|name| *name != "binary")
        .collect();
    let mut known = INPUTS.to_vec();
    declared.sort_unstable();
    known.sort_unstable();
    assert_eq!(declared, known);
}

#[tokio::test]
async fn a_run_that_checks_nothing_says_so_and_is_not_matched() {
    let provider = Provider::start().await;
    provider.issue_tokens_for(&Job::default()).await;
    let run = crate::common::run_with(Some(&provider), &[], &[]).await;
    // Printing the claims is what such a run is for (examples/debug-claims.yml): exit 0.
    assert_eq!(run.status, ExitStatus::Success, "{}", run.stdout);
    // Fail closed: `if: steps.x.outputs.matched == 'true'` must not pass on it.
    assert_eq!(run.output("matched"), Some("false"));
    assert_eq!(run.output("signature"), Some("valid"));
    assert!(
        run.stdout
            .contains("Verdict: claims printed; nothing was checked (the signature verified)"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("Verdict: passed"), "{}", run.stdout);
    assert!(
        run.summary.starts_with(
            "## ℹ️ OIDC preflight: claims printed; nothing was checked (the signature verified)"
        ),
        "{}",
        run.summary
    );
    assert!(!run.summary.contains("passed"), "{}", run.summary);

    // One check requested and holding: a real pass, matched.
    let run = crate::common::run_with(
        Some(&provider),
        &[("subject-pattern", "repo:octo-org/octo-repo:*")],
        &[],
    )
    .await;
    assert_eq!(run.output("matched"), Some("true"));
    assert!(run.stdout.contains("Verdict: passed"), "{}", run.stdout);
    assert!(run.summary.starts_with("## ✅ OIDC preflight passed"));
}

/// `oidc-preflight check ARGS` with the token on standard input.
fn check(args: &[&str], token: &str) -> Output {
    let mut full = vec!["check"];
    full.extend_from_slice(args);
    crate::cli::run(&full, token)
}

#[test]
fn check_without_expectations_says_nothing_was_checked() {
    use std::io::Write;
    let mut claims = Job::default().claims();
    claims.insert("aud".into(), serde_json::json!("sts.amazonaws.com"));
    let token = test_key().sign(&serde_json::Value::Object(claims));
    let mut jwks = tempfile::NamedTempFile::new().unwrap();
    jwks.write_all(test_key().jwks().to_string().as_bytes())
        .unwrap();
    let jwks = jwks.path().to_str().unwrap();

    let out = check(&["-", "--jwks", jwks], &token);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("Verdict: claims printed; nothing was checked (the signature verified)"),
        "{stdout}"
    );

    let out = check(&["-", "--no-verify", "--format", "json"], &token);
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["verdict"], "nothing-checked");
    assert_eq!(report["passed"], false);

    let out = check(
        &["-", "--no-verify", "--format", "json", "--provider", "aws"],
        &token,
    );
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["verdict"], "passed");
    assert_eq!(report["passed"], true);
}

/// A loopback "proxy" that counts the connections it gets and answers none of them.
struct CountingProxy {
    address: std::net::SocketAddr,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl CountingProxy {
    fn start() -> Self {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        use std::sync::Arc;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, stopped) = (connections.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut held = Vec::new();
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        count.fetch_add(1, Ordering::Relaxed);
                        held.push(stream);
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                }
            }
        });
        Self {
            address,
            connections,
            stop,
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bearer_never_goes_through_a_proxy_over_plain_http() {
    let provider = Provider::start().await;
    provider.issue_tokens_for(&Job::default()).await;
    let proxy = CountingProxy::start();
    let url = format!("http://{}", proxy.address);
    let mut vars: Vec<(OsString, OsString)> = Vec::new();
    for name in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        vars.push((name.into(), url.clone().into()));
    }
    vars.push(("INPUT_SUBJECT-PATTERN".into(), "repo:octo-org/*".into()));
    vars.push(("INPUT_TIMEOUT".into(), "5".into()));
    // The keys carry no secret; they are left out so the proxy's count is the token's.
    vars.push(("INPUT_VERIFY-SIGNATURE".into(), "false".into()));
    let out = run_binary(&provider, vars).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        proxy.connections(),
        0,
        "the proxy was used:\n{stdout}\n{stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let requests = provider.server.received_requests().await.unwrap();
    assert!(
        requests
            .iter()
            .any(|r| r.headers.contains_key("authorization")),
        "the token server got the request"
    );
}
