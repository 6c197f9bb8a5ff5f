//! Inputs that cannot carry their check: a value that is not UTF-8, a misspelt input name.
//! Each must stop the run with exit 2 naming the input, never pass it with the check gone.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::process::{Command, Output};

use oidc_preflight::config::INPUTS;

use crate::provider::{Job, Provider};

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
    let mut declared: Vec<&str> = inputs
        .keys()
        .map(|k| k.as_str().expect("input names are strings"))
        .collect();
    let mut known = INPUTS.to_vec();
    declared.sort_unstable();
    known.sort_unstable();
    assert_eq!(declared, known);
}
