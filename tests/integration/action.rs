//! The action in-process against the embedded provider: the request as GitHub checks it, every
//! failure path, the subject check and the outputs.

use oidc_preflight::ExitStatus;
use serde_json::json;
use wiremock::ResponseTemplate;

use crate::common::{assert_token_only_masked, run_with};
use crate::provider::{Job, Provider, REQUEST_TOKEN};

async fn provider_for(job: &Job) -> Provider {
    let provider = Provider::start().await;
    provider.issue_tokens_for(job).await;
    provider
}

#[tokio::test]
async fn passing_subject_check_writes_every_output() {
    let job = Job::default();
    let provider = provider_for(&job).await;
    let run = run_with(
        Some(&provider),
        &[
            ("audience", "sts.amazonaws.com"),
            (
                "subject-pattern",
                "repo:octo-org/octo-repo:ref:refs/heads/*",
            ),
        ],
        &[],
    )
    .await;
    assert_eq!(
        run.status,
        ExitStatus::Success,
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    let token = run.output("token").expect("token output").to_owned();
    assert_token_only_masked(&run, &token);
    assert_eq!(
        run.output("subject"),
        Some("repo:octo-org/octo-repo:ref:refs/heads/main")
    );
    // The provider puts the requested audience into `aud`: proof the parameter arrived decoded.
    assert_eq!(run.output("audience"), Some("sts.amazonaws.com"));
    // The embedded provider is the issuer, so the signature is verified against its keys.
    assert_eq!(run.output("issuer"), Some(provider.server.uri().as_str()));
    assert_eq!(run.output("signature"), Some("valid"));
    assert!(
        run.view
            .log_text()
            .contains("Signature: valid (RS256, key `"),
        "{}",
        run.view.log_text()
    );
    assert_eq!(run.output("repository"), Some("octo-org/octo-repo"));
    assert_eq!(run.output("ref"), Some("refs/heads/main"));
    assert_eq!(run.output("environment"), Some(""));
    assert_eq!(
        run.output("job-workflow-ref"),
        Some("octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main")
    );
    assert_eq!(run.output("matched"), Some("true"));
    let claims: serde_json::Value = serde_json::from_str(run.output("claims").unwrap()).unwrap();
    assert_eq!(claims["aud"], "sts.amazonaws.com");
    assert_eq!(run.output("expires-at").unwrap(), claims["exp"].to_string());
    let names: Vec<&str> = run.outputs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "token",
            "claims",
            "subject",
            "audience",
            "issuer",
            "repository",
            "ref",
            "environment",
            "job-workflow-ref",
            "expires-at",
            "matched",
            "subject-form",
            "suggested-pattern",
            "findings",
            "signature",
            "policy-result"
        ]
    );
    assert_eq!(run.output("subject-form"), Some("branch"));
    assert_eq!(
        run.output("suggested-pattern"),
        Some("repo:octo-org/octo-repo:ref:refs/heads/*")
    );
    assert_eq!(run.output("findings"), Some("[]"));
    assert_eq!(
        run.output("policy-result"),
        Some(""),
        "no trust policy given"
    );
    assert!(
        run.view.annotations().is_empty(),
        "{:?}",
        run.view.annotations()
    );
    assert!(run.view.log_text().contains("Subject check passed"));
}

#[tokio::test]
async fn request_carries_bearer_accept_api_version_and_encoded_audience() {
    let provider = provider_for(&Job::default()).await;
    let audience = "https://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/p/providers/gh";
    let run = run_with(Some(&provider), &[("audience", audience)], &[]).await;
    assert_eq!(run.status, ExitStatus::Success, "{}", run.stderr);
    let requests = provider.server.received_requests().await.unwrap();
    let paths: Vec<&str> = requests.iter().map(|r| r.url.path()).collect();
    // The token, then the keys the signature check discovers (without any bearer token).
    assert_eq!(
        paths,
        [
            crate::provider::TOKEN_PATH,
            "/.well-known/openid-configuration",
            "/.well-known/jwks"
        ]
    );
    assert!(requests[1..]
        .iter()
        .all(|r| !r.headers.contains_key("authorization")));
    let request = &requests[0];
    assert_eq!(
        request.headers["authorization"],
        format!("Bearer {REQUEST_TOKEN}").as_str()
    );
    assert_eq!(request.headers["accept"], "application/json");
    assert_eq!(
        request.url.query(),
        Some("api-version=2.0&audience=https%3A%2F%2Fiam.googleapis.com%2Fprojects%2F123%2Flocations%2Fglobal%2FworkloadIdentityPools%2Fp%2Fproviders%2Fgh")
    );
    assert_eq!(run.output("audience"), Some(audience));
}

#[tokio::test]
async fn no_audience_input_sends_no_audience_parameter() {
    let provider = provider_for(&Job::default()).await;
    let run = run_with(Some(&provider), &[("audience", "")], &[]).await;
    assert_eq!(run.status, ExitStatus::Success);
    let requests = provider.server.received_requests().await.unwrap();
    assert_eq!(requests[0].url.query(), Some("api-version=2.0"));
    assert_eq!(run.output("audience"), Some("https://github.com/octo-org"));
    // Fail closed: with no check requested the run proves nothing, so it is not `matched`.
    assert_eq!(
        run.output("matched"),
        Some("false"),
        "no check requested is not matched"
    );
}

#[tokio::test]
async fn subject_mismatch_fails_with_error_annotation_and_outputs() {
    let job = Job {
        environment: Some("prod".into()),
        ..Job::default()
    };
    let provider = provider_for(&job).await;
    let patterns = "repo:octo-org/octo-repo:ref:refs/heads/main\nrepo:octo-org/other:*";
    let run = run_with(
        Some(&provider),
        &[
            ("audience", "sts.amazonaws.com"),
            ("subject-pattern", patterns),
        ],
        &[],
    )
    .await;
    assert_eq!(run.status, ExitStatus::CheckFailed);
    let annotations = run.view.annotations();
    assert_eq!(annotations.len(), 1, "{annotations:?}");
    assert_eq!(annotations[0].name, "error");
    assert_eq!(annotations[0].properties["title"], "Subject form mismatch");
    let data = &annotations[0].data;
    assert!(
        data.contains("sub `repo:octo-org/octo-repo:environment:prod` is the environment form"),
        "{data}"
    );
    assert!(
        data.contains("the job declares environment `prod`"),
        "{data}"
    );
    assert!(
        data.contains("the pattern expects the branch ref form\n"),
        "{data}"
    );
    let log = run.view.log_text();
    assert!(
        log.contains(
            "Subject check failed: sub `repo:octo-org/octo-repo:environment:prod` matches none of"
        ),
        "{log}"
    );
    assert!(
        log.contains("    - repo:octo-org/octo-repo:ref:refs/heads/main"),
        "{log}"
    );
    assert!(
        log.contains(r#":sub": "repo:octo-org/octo-repo:environment:prod""#),
        "{log}"
    );
    assert_eq!(run.output("matched"), Some("false"));
    assert_eq!(run.output("environment"), Some("prod"));
    assert_eq!(run.output("subject-form"), Some("environment"));
    let findings: serde_json::Value =
        serde_json::from_str(run.output("findings").unwrap()).unwrap();
    assert_eq!(findings[0]["id"], "subject-form-environment");
    assert_eq!(findings[0]["severity"], "error");
}

#[tokio::test]
async fn mismatch_only_warns_when_fail_on_mismatch_is_false() {
    let provider = provider_for(&Job::default()).await;
    let inputs = [
        ("audience", "sts.amazonaws.com"),
        (
            "subject-pattern",
            "repo:octo-org/octo-repo:environment:prod",
        ),
        ("fail-on-mismatch", "false"),
    ];
    let run = run_with(Some(&provider), &inputs, &[]).await;
    assert_eq!(run.status, ExitStatus::Success);
    let annotations = run.view.annotations();
    assert_eq!(annotations.len(), 1, "{annotations:?}");
    assert_eq!(annotations[0].name, "warning");
    assert_eq!(annotations[0].properties["title"], "Subject form mismatch");
    assert_eq!(run.output("matched"), Some("false"));
}

#[tokio::test]
async fn missing_request_variables_name_the_variable_and_the_fix() {
    for (provided, missing) in [
        (vec![], "ACTIONS_ID_TOKEN_REQUEST_URL"),
        (
            vec![(
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                "https://runner.example/idtoken?api-version=2.0",
            )],
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        ),
        (
            vec![("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "rqt")],
            "ACTIONS_ID_TOKEN_REQUEST_URL",
        ),
    ] {
        let run = run_with(None, &[], &provided).await;
        assert_eq!(run.status, ExitStatus::NoToken);
        assert!(run.stderr.contains(missing), "{}", run.stderr);
        assert!(run.stderr.contains("id-token: write"), "{}", run.stderr);
        assert!(run.stderr.contains("fork"), "{}", run.stderr);
        let annotations = run.view.annotations();
        assert_eq!(annotations.len(), 1);
        assert_eq!(annotations[0].name, "error");
        assert_eq!(
            annotations[0].properties["title"],
            "No OIDC token available"
        );
        assert!(
            annotations[0].data.contains(missing) && annotations[0].data.contains("permissions:\n")
        );
        assert!(run.outputs.is_empty());
    }
}

#[tokio::test]
async fn a_malformed_value_is_masked_and_never_echoed() {
    let provider = Provider::start().await;
    provider
        .answer(
            ResponseTemplate::new(200).set_body_json(json!({"value": "secret.not-base64!.x"})),
            None,
        )
        .await;
    let run = run_with(Some(&provider), &[], &[]).await;
    assert_eq!(run.status, ExitStatus::Malformed);
    assert_token_only_masked(&run, "secret.not-base64!.x");
}

#[tokio::test]
async fn request_token_is_masked_first_and_never_printed() {
    let provider = provider_for(&Job::default()).await;
    let run = run_with(Some(&provider), &[("subject-pattern", "nope")], &[]).await;
    let first = run.stdout.lines().next().unwrap();
    assert_eq!(first, format!("::add-mask::{REQUEST_TOKEN}"));
    assert_eq!(run.stdout.matches(REQUEST_TOKEN).count(), 1);
    assert!(!run.stderr.contains(REQUEST_TOKEN));
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused_before_sending() {
    let run = run_with(
        None,
        &[],
        &[
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                "http://runner.example/idtoken?api-version=2.0",
            ),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "rqt"),
        ],
    )
    .await;
    assert_eq!(run.status, ExitStatus::NoToken);
    assert!(
        run.stderr
            .contains("refusing to send the request token over http"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn hostile_claim_values_cannot_inject_commands_or_outputs() {
    let job = Job {
        git_ref: "refs/heads/x\n::set-output name=matched::true\n##[add-mask]repo".into(),
        environment: Some("prod\r\n::error::pwned %0A ghadelimiter_".into()),
        ..Job::default()
    };
    let provider = provider_for(&job).await;
    let run = run_with(
        Some(&provider),
        &[
            ("subject-pattern", "repo:octo-org/octo-repo:*"),
            ("audience", "sts.amazonaws.com"),
        ],
        &[],
    )
    .await;
    assert_eq!(run.status, ExitStatus::Success, "{}", run.stderr);
    assert!(
        run.view.unexpected_commands().is_empty(),
        "{:?}",
        run.view.unexpected_commands()
    );
    assert!(
        run.view.annotations().is_empty(),
        "{:?}",
        run.view.annotations()
    );
    assert_eq!(
        run.view.masks.len(),
        2,
        "only the two tokens are masked: {:?}",
        run.view.masks
    );
    assert_eq!(run.output("ref"), Some(job.git_ref.as_str()));
    assert_eq!(
        run.output("environment"),
        Some("prod\r\n::error::pwned %0A ghadelimiter_")
    );
    assert_eq!(run.output("matched"), Some("true"));
}

#[tokio::test]
async fn a_token_signed_by_another_key_fails_the_signature_check() {
    let provider = provider_for(&Job::default()).await;
    // Take a real token and swap its signature for one made over different content.
    let good = crate::provider::test_key().sign(&json!({"sub": "repo:octo-org/octo-repo:ref:refs/heads/main", "iss": provider.server.uri(), "exp": 9_999_999_999i64}));
    let other = crate::provider::test_key()
        .sign(&json!({"sub": "other", "iss": provider.server.uri(), "exp": 9_999_999_999i64}));
    let forged = format!(
        "{}.{}",
        good.rsplit_once('.').unwrap().0,
        other.rsplit_once('.').unwrap().1
    );
    provider
        .answer(
            ResponseTemplate::new(200).set_body_json(json!({"value": forged})),
            None,
        )
        .await;
    let run = run_with(Some(&provider), &[], &[]).await;
    assert_eq!(run.status, ExitStatus::CheckFailed, "{}", run.stdout);
    assert_eq!(run.output("signature"), Some("invalid"));
    let findings: serde_json::Value =
        serde_json::from_str(run.output("findings").unwrap()).unwrap();
    assert_eq!(findings[0]["id"], "signature-invalid", "{findings}");
    assert_token_only_masked(&run, &forged);
}

#[tokio::test]
async fn job_summary_is_appended_and_can_be_turned_off() {
    let job = Job {
        environment: Some("prod".into()),
        ..Job::default()
    };
    let provider = provider_for(&job).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("summary.md");
    std::fs::write(&path, "# earlier step\n").unwrap();
    let summary_var = path.display().to_string();
    let inputs = [
        ("provider", "aws"),
        (
            "subject-pattern",
            "repo:octo-org/octo-repo:ref:refs/heads/main",
        ),
    ];
    let run = run_with(
        Some(&provider),
        &inputs,
        &[("GITHUB_STEP_SUMMARY", summary_var.as_str())],
    )
    .await;
    assert_eq!(run.status, ExitStatus::CheckFailed);
    let summary = std::fs::read_to_string(&path).unwrap();
    assert!(
        summary.starts_with("# earlier step\n## ❌ OIDC preflight failed"),
        "{summary}"
    );
    assert!(
        summary.contains("(<code>subject-form-environment</code>)"),
        "{summary}"
    );
    assert!(summary.contains("**Signature:** valid"), "{summary}");
    assert!(summary.contains("<details><summary>AWS trust policy condition</summary>"));
    let token = run.output("token").unwrap();
    assert!(
        !summary.contains(token),
        "the token never reaches the summary"
    );

    let before = std::fs::read_to_string(&path).unwrap();
    let off = [("summary", "false")];
    run_with(
        Some(&provider),
        &off,
        &[("GITHUB_STEP_SUMMARY", summary_var.as_str())],
    )
    .await;
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        before,
        "summary: false writes nothing"
    );
}

#[tokio::test]
async fn missing_token_on_a_fork_pull_request_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        r#"{"pull_request": {"number": 7, "head": {"repo": {"fork": true}}}}"#,
    )
    .unwrap();
    let event_var = event.display().to_string();
    let run = run_with(
        None,
        &[],
        &[
            ("GITHUB_EVENT_PATH", event_var.as_str()),
            ("GITHUB_EVENT_NAME", "pull_request"),
        ],
    )
    .await;
    assert_eq!(run.status, ExitStatus::NoToken);
    let annotation = &run.view.annotations()[0];
    assert_eq!(
        annotation.properties["title"],
        "No OIDC token for a fork pull request"
    );
    assert!(
        annotation.data.contains("head.repo.fork == false"),
        "{}",
        annotation.data
    );
    let run = run_with(None, &[], &[("GITHUB_ACTOR", "dependabot[bot]")]).await;
    assert_eq!(
        run.view.annotations()[0].properties["title"],
        "No OIDC token for Dependabot"
    );
    let run = run_with(None, &[], &[("ACT", "true")]).await;
    assert_eq!(
        run.view.annotations()[0].properties["title"],
        "No OIDC token in a local act run"
    );
}

#[tokio::test]
async fn trust_policies_are_evaluated_and_a_broken_one_fails_before_any_request() {
    let job = Job {
        environment: Some("prod".into()),
        ..Job::default()
    };
    let provider = provider_for(&job).await;
    let host = provider
        .server
        .uri()
        .trim_start_matches("http://")
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let policy = |sub: &str| {
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::123456789012:oidc-provider/{host}")},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {format!("{host}:aud"): "sts.amazonaws.com"},
                "StringLike": {format!("{host}:sub"): sub},
            }
        }]})
        .to_string()
    };
    std::fs::write(
        dir.path().join("allow.json"),
        policy("repo:octo-org/octo-repo:environment:prod"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("main-only.json"),
        policy("repo:octo-org/octo-repo:ref:refs/heads/main"),
    )
    .unwrap();
    let workspace = dir.path().display().to_string();
    let env = [("GITHUB_WORKSPACE", workspace.as_str())];

    let run = run_with(
        Some(&provider),
        &[("provider", "aws"), ("trust-policy", "allow.json")],
        &env,
    )
    .await;
    assert_eq!(run.status, ExitStatus::Success, "{}", run.stdout);
    assert_eq!(run.output("policy-result"), Some("allow"));

    let run = run_with(
        Some(&provider),
        &[
            ("provider", "aws"),
            ("trust-policy", "allow.json\nmain-only.json"),
        ],
        &env,
    )
    .await;
    assert_eq!(run.status, ExitStatus::CheckFailed);
    assert_eq!(run.output("policy-result"), Some("deny"));
    let refusal = run
        .view
        .annotations()
        .into_iter()
        .find(|a| a.data.contains("main-only.json"))
        .expect("refusal annotation");
    assert_eq!(refusal.name, "error");
    assert!(refusal.data.contains("StringLike"), "{}", refusal.data);

    std::fs::write(dir.path().join("broken.json"), "{\"Statement\": 7}").unwrap();
    let fresh = Provider::start().await;
    fresh.issue_tokens_for(&job).await;
    let run = run_with(Some(&fresh), &[("trust-policy", "broken.json")], &env).await;
    assert_eq!(run.status, ExitStatus::Usage, "{}", run.stderr);
    assert!(run.stderr.contains("broken.json"), "{}", run.stderr);
    assert_eq!(
        fresh.token_requests().await,
        0,
        "no token is requested for a broken policy"
    );
}

/// Paths of the requests `provider` received for its discovery document and JWKS.
async fn key_requests(provider: &Provider) -> Vec<String> {
    provider
        .server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| r.url.path().to_owned())
        .filter(|p| p.starts_with("/.well-known/"))
        .collect()
}

#[tokio::test]
async fn without_the_issuer_input_the_runner_tokens_iss_is_the_key_source() {
    // The token came from the runner's authenticated endpoint, so its `iss` (the loopback
    // provider, like a GHES host) is where the keys come from, without naming it.
    let provider = provider_for(&Job::default()).await;
    let run = run_with(Some(&provider), &[], &[]).await;
    assert_eq!(run.status, ExitStatus::Success, "{}", run.stdout);
    assert_eq!(run.output("issuer"), Some(provider.server.uri().as_str()));
    assert_eq!(run.output("signature"), Some("valid"));
    assert_eq!(
        key_requests(&provider).await,
        ["/.well-known/openid-configuration", "/.well-known/jwks"]
    );
}

#[tokio::test]
async fn the_issuer_input_pins_the_keys_and_the_iss() {
    // The runner's provider issues the token; the `issuer` input names another provider.
    let runner_provider = provider_for(&Job::default()).await;
    let named = Provider::start().await;
    named.serve_keys().await;
    let named_uri = named.server.uri();
    let run = run_with(Some(&runner_provider), &[("issuer", &named_uri)], &[]).await;
    assert_eq!(run.status, ExitStatus::CheckFailed, "{}", run.stdout);
    assert_eq!(run.output("matched"), Some("false"));
    // Keys from the named issuer only; the token's own `iss` is not asked.
    assert_eq!(
        key_requests(&named).await,
        ["/.well-known/openid-configuration", "/.well-known/jwks"]
    );
    assert!(key_requests(&runner_provider).await.is_empty());
    let findings: serde_json::Value =
        serde_json::from_str(run.output("findings").unwrap()).unwrap();
    let ids: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(ids.contains(&"issuer-mismatch"), "{ids:?}");

    // Naming the runner's own issuer verifies as before.
    let own = runner_provider.server.uri();
    let run = run_with(Some(&runner_provider), &[("issuer", &own)], &[]).await;
    assert_eq!(run.status, ExitStatus::Success, "{}", run.stdout);
    assert_eq!(run.output("signature"), Some("valid"));
}

#[tokio::test]
async fn an_issuer_input_that_cannot_be_trusted_stops_before_the_token_request() {
    let provider = provider_for(&Job::default()).await;
    let run = run_with(
        Some(&provider),
        &[("issuer", "http://ghes.example/_services/token")],
        &[],
    )
    .await;
    assert_eq!(run.status, ExitStatus::Usage, "{}", run.stderr);
    assert!(run.stderr.contains("issuer"), "{}", run.stderr);
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    assert_eq!(provider.token_requests().await, 0);
    // Without verification the input is only the consumer's issuer, compared to `iss`.
    let run = run_with(
        Some(&provider),
        &[
            ("issuer", "http://ghes.example/_services/token"),
            ("verify-signature", "false"),
        ],
        &[],
    )
    .await;
    assert_eq!(run.status, ExitStatus::CheckFailed, "{}", run.stdout);
}
