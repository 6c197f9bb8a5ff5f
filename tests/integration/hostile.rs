//! Hostile claim values, as one table: tokens signed by the provider whose claims hold workflow
//! commands, line breaks, percent escapes, the output delimiter pattern, Markdown and HTML,
//! terminal controls, long values, wrong JSON types, duplicate names and bytes that are not
//! UTF-8. For each the action runs end to end (token endpoint, signature, report, annotations,
//! outputs, job summary) and must inject nothing: no workflow command but its own, the
//! expected annotations only, masks only for the two tokens, every output reading back exactly
//! with the strict parser, a summary that renders every value inertly, and no panic.
//!
//! Values longer than the token endpoint's 256 KiB body cap cannot arrive through it: the
//! 1 MB cases go through the library and the `check` command instead (after the table).

use std::io::Write;

use oidc_preflight::claims::{self, Claims};
use oidc_preflight::commands::{self, inert, DISPLAY_LIMIT};
use oidc_preflight::diagnose::{analyze, Clock, Expectations};
use oidc_preflight::pattern::PatternSet;
use oidc_preflight::report::Report;
use oidc_preflight::sink::{self, summary::SUMMARY_LIMIT};
use oidc_preflight::verify::SignatureStatus;
use oidc_preflight::{ExitStatus, Secret};
use serde_json::{json, Map, Value};
use wiremock::ResponseTemplate;

use crate::common::{
    assert_request_token_only_masked, assert_summary_inert, assert_token_only_masked, run_table,
    run_with,
};
use crate::provider::{now, test_key, Job, Provider, REQUEST_TOKEN};
use crate::runner;

/// How a row's token payload is made from GitHub's claim set (with the provider as issuer).
enum Payload {
    /// The claim set with these claims replaced.
    Set(Vec<(&'static str, Value)>),
    /// Raw payload bytes built from the claim set: what no JSON serializer would produce.
    Raw(fn(&Map<String, Value>) -> Vec<u8>),
}

struct Row {
    name: &'static str,
    payload: Payload,
    inputs: &'static [(&'static str, &'static str)],
    exit: ExitStatus,
    /// The annotations' titles, in order.
    annotations: &'static [&'static str],
    /// Outputs that must read back exactly as given.
    outputs: Vec<(&'static str, String)>,
}

/// The subject-pattern and claims inputs make the checks quote the hostile values in findings,
/// annotations and the summary, not only in the claims block.
const CHECK_REF: &[(&str, &str)] = &[
    ("audience", "sts.amazonaws.com"),
    ("claims", "ref=refs/heads/main"),
];
const CHECK_ENV: &[(&str, &str)] = &[
    ("audience", "sts.amazonaws.com"),
    ("claims", "environment=prod"),
];
const CHECK_SUB: &[(&str, &str)] = &[
    ("audience", "sts.amazonaws.com"),
    (
        "subject-pattern",
        "repo:octo-org/octo-repo:ref:refs/heads/main",
    ),
];

const CLAIM_DIFFERS: &[&str] = &["Expected claim differs"];

fn set(claim: &'static str, value: &str) -> Payload {
    Payload::Set(vec![(claim, json!(value))])
}

/// The claim's value, and the output that carries it.
fn out(name: &'static str, value: &str) -> Vec<(&'static str, String)> {
    vec![(name, value.to_owned())]
}

const LONG_LEN: usize = 150_000;

fn long_sub() -> String {
    // Long, and hostile all along: every kind of breaker repeats through it.
    let unit = "repo:o/r:ref:x|`<b>*_[]\n::error::x%0A";
    unit.repeat(LONG_LEN / unit.len())
}

fn rows() -> Vec<Row> {
    let fenced_ref = "refs/heads/a\n::stop-commands::pwn\n::error::injected\n::pwn::";
    let delimiter = "x\nghadelimiter_00000000000000000000000000000000\nmatched<<EOF\ntrue\nEOF";
    let markdown = "| a | b |\n|---|---|\n`code` ```fence``` ` [link](https://x.example) *b* _i_";
    let html = "refs/heads/<script>alert(1)</script><img src=x onerror=alert(1)>";
    vec![
        Row {
            name: "a line starting with ::set-output",
            payload: set("ref", "refs/heads/x\n::set-output name=matched::true"),
            inputs: CHECK_REF,
            exit: ExitStatus::CheckFailed,
            annotations: CLAIM_DIFFERS,
            outputs: out("ref", "refs/heads/x\n::set-output name=matched::true"),
        },
        Row {
            name: "::add-mask:: as the whole value",
            payload: set("environment", "::add-mask::octo-org"),
            inputs: CHECK_ENV,
            exit: ExitStatus::CheckFailed,
            annotations: CLAIM_DIFFERS,
            outputs: out("environment", "::add-mask::octo-org"),
        },
        Row {
            name: "its own ::stop-commands:: block",
            payload: set("ref", fenced_ref),
            inputs: CHECK_REF,
            exit: ExitStatus::CheckFailed,
            annotations: CLAIM_DIFFERS,
            outputs: out("ref", fenced_ref),
        },
        Row {
            name: "CR, LF and CRLF inside",
            payload: set("environment", "a\rb\r\nc\nd"),
            inputs: CHECK_ENV,
            exit: ExitStatus::CheckFailed,
            annotations: CLAIM_DIFFERS,
            outputs: out("environment", "a\rb\r\nc\nd"),
        },
        Row {
            name: "%0A, %0D and %25",
            payload: set("ref", "refs/heads/%0A::error::x%25%0D"),
            inputs: CHECK_REF,
            exit: ExitStatus::CheckFailed,
            annotations: CLAIM_DIFFERS,
            outputs: out("ref", "refs/heads/%0A::error::x%25%0D"),
        },
        Row {
            name: "the output delimiter pattern and a forged heredoc",
            payload: set("environment", delimiter),
            inputs: CHECK_ENV,
            exit: ExitStatus::CheckFailed,
            annotations: CLAIM_DIFFERS,
            outputs: out("environment", delimiter),
        },
        Row {
            name: "Markdown table breakers, backticks, links and emphasis",
            payload: set("environment", markdown),
            inputs: CHECK_ENV,
            exit: ExitStatus::CheckFailed,
            annotations: CLAIM_DIFFERS,
            outputs: out("environment", markdown),
        },
        Row {
            name: "HTML <script> and <img>",
            payload: set("ref", html),
            inputs: CHECK_REF,
            exit: ExitStatus::CheckFailed,
            annotations: CLAIM_DIFFERS,
            outputs: out("ref", html),
        },
        Row {
            name: "legacy ##[command] anywhere in a line",
            payload: set(
                "ref",
                "x ##[error]legacy ##[set-output name=a]b ##[add-mask]octo",
            ),
            inputs: CHECK_REF,
            exit: ExitStatus::CheckFailed,
            annotations: CLAIM_DIFFERS,
            outputs: out(
                "ref",
                "x ##[error]legacy ##[set-output name=a]b ##[add-mask]octo",
            ),
        },
        Row {
            name: "terminal escapes, bidi override and NUL",
            payload: set("environment", "\u{1b}[2J\u{202e}lave\u{0}x"),
            inputs: CHECK_ENV,
            exit: ExitStatus::CheckFailed,
            annotations: CLAIM_DIFFERS,
            outputs: out("environment", "\u{1b}[2J\u{202e}lave\u{0}x"),
        },
        Row {
            name: "a 150 kB subject through the endpoint (under its 256 KiB cap)",
            payload: Payload::Set(vec![("sub", json!(long_sub()))]),
            inputs: CHECK_SUB,
            exit: ExitStatus::CheckFailed,
            annotations: &["Subject form mismatch", "Subject too long for GCP"],
            outputs: out("subject", &long_sub()),
        },
        Row {
            name: "`sub` an object",
            payload: Payload::Set(vec![(
                "sub",
                json!({"repo": "octo-org/octo-repo", "ref": "main"}),
            )]),
            inputs: CHECK_SUB,
            exit: ExitStatus::CheckFailed,
            // jsonwebtoken decodes `sub` as a string, so the verifier rejects it too.
            annotations: &["No sub claim", "Signature does not verify"],
            outputs: out("subject", r#"{"ref":"main","repo":"octo-org/octo-repo"}"#),
        },
        Row {
            name: "`aud` nested arrays",
            payload: Payload::Set(vec![(
                "aud",
                json!([["sts.amazonaws.com", ["x"]], {"a": 1}]),
            )]),
            inputs: CHECK_SUB,
            exit: ExitStatus::CheckFailed,
            annotations: &["Audience mismatch"],
            outputs: out("audience", r#"[["sts.amazonaws.com",["x"]],{"a":1}]"#),
        },
        Row {
            name: "`exp` a string",
            payload: Payload::Set(vec![("exp", json!("tomorrow"))]),
            inputs: CHECK_SUB,
            exit: ExitStatus::CheckFailed,
            annotations: &[
                "Time claim is not a number",
                "Required claim missing or invalid",
            ],
            outputs: out("expires-at", ""),
        },
        Row {
            name: "duplicate `sub`: the last one wins everywhere",
            payload: Payload::Raw(duplicate_sub),
            inputs: CHECK_SUB,
            exit: ExitStatus::CheckFailed,
            // jsonwebtoken rejects a registered claim that appears twice; everything else
            // reads the last `sub`, as serde_json does.
            annotations: &["Subject form mismatch", "Signature does not verify"],
            outputs: out("subject", "repo:octo-org/octo-repo:environment:prod"),
        },
        Row {
            name: "a value ending with CR (would not read back on a CRLF runner)",
            payload: set("environment", "prod\r"),
            inputs: CHECK_ENV,
            exit: ExitStatus::Usage,
            annotations: &["Expected claim differs", "Could not write outputs"],
            outputs: Vec::new(),
        },
        Row {
            name: "bytes that are not UTF-8 in the payload",
            payload: Payload::Raw(not_utf8),
            inputs: CHECK_SUB,
            exit: ExitStatus::Malformed,
            annotations: &["Malformed OIDC token"],
            outputs: Vec::new(),
        },
    ]
}

/// The claim set as JSON with a second `sub` after the first: RFC 7519 lets a parser reject
/// duplicate names or take the last; serde_json takes the last.
fn duplicate_sub(claims: &Map<String, Value>) -> Vec<u8> {
    let text = Value::Object(claims.clone()).to_string();
    let body = text.strip_suffix('}').unwrap_or(&text);
    format!(r#"{body},"sub":"repo:octo-org/octo-repo:environment:prod"}}"#).into_bytes()
}

fn not_utf8(claims: &Map<String, Value>) -> Vec<u8> {
    let text = Value::Object(claims.clone()).to_string();
    let mut bytes = text.into_bytes();
    let at = bytes.len() - 1;
    bytes.splice(
        at..at,
        br#","x":"caf"#.iter().copied().chain([0xC3, 0x28, 0xFF, b'"']),
    );
    bytes
}

/// The effective claims: what the token says, with the last of duplicate names.
fn effective_claims(payload: &[u8]) -> Option<Map<String, Value>> {
    serde_json::from_slice(payload).ok()
}

async fn run_row(row: Row) -> Result<(), String> {
    let provider = Provider::start().await;
    let mut claims = Job::default().claims();
    claims.insert("iss".into(), json!(provider.server.uri()));
    claims.insert("aud".into(), json!("sts.amazonaws.com"));
    let payload = match &row.payload {
        Payload::Set(changes) => {
            for (name, value) in changes {
                claims.insert((*name).into(), value.clone());
            }
            Value::Object(claims.clone()).to_string().into_bytes()
        }
        Payload::Raw(make) => make(&claims),
    };
    let token = test_key().sign_raw(&payload);
    provider
        .answer(
            ResponseTemplate::new(200).set_body_json(json!({ "value": token })),
            None,
        )
        .await;
    provider.serve_keys().await;
    let run = run_with(Some(&provider), row.inputs, &[]).await;

    let mut failures = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            failures.push(what);
        }
    };
    expect(
        run.status == row.exit,
        format!("exit {:?}, want {:?}: {}", run.status, row.exit, run.stderr),
    );
    expect(
        run.view.unexpected_commands().is_empty(),
        format!("commands injected: {:?}", run.view.unexpected_commands()),
    );
    let titles: Vec<String> = run
        .view
        .annotations()
        .iter()
        .map(|a| a.properties.get("title").cloned().unwrap_or_default())
        .collect();
    expect(
        titles == row.annotations,
        format!("annotations {titles:?}, want {:?}", row.annotations),
    );
    expect(
        run.view.masks == [REQUEST_TOKEN, token.as_str()],
        format!("masks {} (want the two tokens)", run.view.masks.len()),
    );
    assert_token_only_masked(&run, &token);
    assert_request_token_only_masked(&run, REQUEST_TOKEN);
    for (name, want) in &row.outputs {
        expect(
            run.output(name) == Some(want.as_str()),
            format!("output {name} did not read back exactly"),
        );
    }
    let wrote_outputs = matches!(row.exit, ExitStatus::Success | ExitStatus::CheckFailed);
    expect(
        wrote_outputs != run.outputs.is_empty(),
        format!("{} outputs written", run.outputs.len()),
    );
    if let (true, Some(effective)) = (wrote_outputs, effective_claims(&payload)) {
        let written: Option<Map<String, Value>> = run
            .output("claims")
            .and_then(|c| serde_json::from_str(c).ok());
        expect(
            written.as_ref() == Some(&effective),
            "the claims output is not the token's claims".into(),
        );
        // The report shows the same `sub` as the outputs and the check: the effective one.
        let shown_sub = effective
            .get("sub")
            .map(|s| s.as_str().map_or_else(|| s.to_string(), str::to_owned))
            .unwrap_or_default();
        expect(
            run.stdout
                .contains(&format!("  sub               {}", inert(&shown_sub))),
            "the report's sub is not the effective one".into(),
        );
    }
    if row.exit == ExitStatus::Malformed {
        expect(
            run.summary.is_empty(),
            "a summary for a malformed token".into(),
        );
    } else {
        expect(!run.summary.is_empty(), "no summary".into());
        assert_summary_inert(&run.summary);
    }
    // The log shows each hostile value on one line, inert, inside the report.
    for (_, value) in &row.outputs {
        if wrote_outputs && !value.is_empty() && !value.starts_with(['{', '[']) {
            expect(
                run.stdout.contains(&inert(value)),
                "the report does not show the value inertly".into(),
            );
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("{}: {}", row.name, failures.join("; ")))
    }
}

#[test]
fn hostile_claim_values_are_inert_everywhere() {
    let _ = test_key();
    let rows = rows();
    let total = rows.len();
    let failures = run_table(rows, 4, run_row);
    assert!(
        failures.is_empty(),
        "{} of {total} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Rows in the hostile-input table, for the record in docs/reliability.md.
pub fn hostile_rows() -> usize {
    rows().len()
}

/// A megabyte of hostile text: what no token endpoint delivers, but a hand-made token may hold.
fn megabyte() -> String {
    let unit = "repo:o/r:x|`<script>*_[]\r\n::error::x%0A%25 ghadelimiter_ ";
    unit.repeat((1 << 20) / unit.len() + 1)
}

#[test]
fn a_megabyte_claim_through_the_library() {
    let big = megabyte();
    let mut map = Job::default().claims();
    map.insert("sub".into(), json!(big));
    map.insert("environment".into(), json!(big));
    let token = format!(
        "{}.{}.c2ln",
        claims::base64url(br#"{"alg":"RS256"}"#),
        claims::base64url(Value::Object(map.clone()).to_string().as_bytes())
    );
    let decoded = claims::decode(&token).expect("decodes");
    assert_eq!(decoded.claims.subject(), Some(big.as_str()));
    let expect = Expectations {
        subject_patterns: PatternSet::new(["repo:octo-org/*"]),
        ..Expectations::default()
    };
    let analysis = analyze(
        &decoded.claims,
        &expect,
        Clock {
            now: now(),
            fresh: true,
        },
    );
    let report = Report::finish(
        analysis,
        decoded.claims.clone(),
        SignatureStatus::Skipped,
        now(),
        true,
    );
    // The log: inside the stop-commands fence, each value shown shortened, on one line.
    let mut log = Vec::new();
    commands::without_commands(&mut log, |out| sink::log::write(out, &report)).unwrap();
    sink::annotations::write(&mut log, &report).unwrap();
    let log = String::from_utf8(log).unwrap();
    let longest = log.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(
        longest < 6 * DISPLAY_LIMIT,
        "a log line of {longest} characters"
    );
    let view = runner::process(&log);
    assert!(view.unexpected_commands().is_empty());
    assert!(view.masks.is_empty());
    // The summary: shortened values, inert, within the runner's limit.
    let mut summary = Vec::new();
    sink::summary::write(&mut summary, &report).unwrap();
    let summary = String::from_utf8(summary).unwrap();
    assert!(summary.len() <= SUMMARY_LIMIT, "{} bytes", summary.len());
    assert!(summary.contains("more characters"), "values are shortened");
    assert_summary_inert(&summary);
    // The outputs: whole, and read back exactly.
    let secret = Secret::new(token.clone());
    let values = sink::outputs::values(&secret, &report);
    let mut file = Vec::new();
    for (name, value) in &values {
        oidc_preflight::outputs::write_output(&mut file, name, value).expect("writable");
    }
    let parsed = runner::parse_outputs(&String::from_utf8(file).unwrap()).expect("strict parse");
    let as_written: Vec<(String, String)> =
        values.into_iter().map(|(n, v)| (n.to_owned(), v)).collect();
    assert_eq!(parsed, as_written);
    assert_eq!(
        parsed
            .iter()
            .find(|(n, _)| n == "subject")
            .map(|(_, v)| v.as_str()),
        Some(big.as_str())
    );
}

#[test]
fn a_summary_past_the_runners_limit_falls_back_to_the_verdict() {
    let claims = Claims::from(Job::default().claims());
    let mut analysis = analyze(
        &claims,
        &Expectations::default(),
        Clock {
            now: now(),
            fresh: true,
        },
    );
    // Many findings each quoting a long value: more than 1 MiB even when shortened.
    let long = "|".repeat(DISPLAY_LIMIT);
    for _ in 0..200 {
        analysis.add(oidc_preflight::findings::Finding::new(
            oidc_preflight::findings::FindingId::ClaimMismatch,
            commands::Level::Error,
            "Expected claim differs",
            long.clone(),
            long.clone(),
        ));
    }
    let report = Report::finish(analysis, claims, SignatureStatus::Skipped, now(), true);
    let mut summary = Vec::new();
    sink::summary::write(&mut summary, &report).unwrap();
    let summary = String::from_utf8(summary).unwrap();
    assert!(summary.len() < 1024, "{summary}");
    assert!(
        summary.starts_with("## ❌ OIDC preflight failed"),
        "{summary}"
    );
    assert!(
        summary.contains("more than the runner accepts"),
        "{summary}"
    );
}

#[test]
fn a_megabyte_claim_through_the_check_command() {
    let big = megabyte();
    let mut map = Job::default().claims();
    map.insert("sub".into(), json!(big));
    map.insert("aud".into(), json!("sts.amazonaws.com"));
    let token = test_key().sign(&Value::Object(map));
    assert!(token.len() > 1 << 20);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(token.as_bytes()).unwrap();
    for (format, in_runner) in [("text", true), ("json", false)] {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_oidc-preflight"));
        cmd.env_clear()
            .args(["check", "--no-verify", "--format", format])
            .args(["--subject-pattern", "repo:octo-org/*"])
            .arg(file.path());
        if in_runner {
            cmd.env("GITHUB_ACTIONS", "true");
        }
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}: {stderr}");
        assert!(!stdout.contains(&token) && !stderr.contains(&token));
        let view = runner::process(&stdout);
        assert!(view.unexpected_commands().is_empty(), "{format}");
        if format == "text" {
            let longest = stdout.lines().map(|l| l.chars().count()).max().unwrap_or(0);
            assert!(
                longest < 6 * DISPLAY_LIMIT,
                "a line of {longest} characters"
            );
        } else {
            // The JSON report is for machines: the value whole, and one JSON document.
            let report: Value = serde_json::from_str(&stdout).expect("JSON");
            assert_eq!(report["subject"].as_str(), Some(big.as_str()));
        }
    }
}

/// `check --format json` prints outside any `stop-commands` block, since a fence would break
/// the JSON for a pipe; a legacy `##[command]` in a claim must still run nothing, and the
/// JSON must still read back to the claim as it was.
#[test]
fn the_json_report_runs_no_legacy_command() {
    let injected = "Deploy ##[set-output name=matched]true";
    let mut map = Job::default().claims();
    map.insert("workflow".into(), json!(injected));
    map.insert("aud".into(), json!("sts.amazonaws.com"));
    let token = test_key().sign(&Value::Object(map));
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(token.as_bytes()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_oidc-preflight"))
        .env_clear()
        .env("GITHUB_ACTIONS", "true")
        .args(["check", "--no-verify", "--format", "json"])
        .arg(file.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let view = runner::process(&stdout);
    assert!(view.commands.is_empty(), "{:?}\n{stdout}", view.commands);
    let report: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(report["claims"]["workflow"].as_str(), Some(injected));
}
