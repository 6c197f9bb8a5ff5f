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
            "signature"
        ]
    );
    assert_eq!(run.output("subject-form"), Some("branch"));
    assert_eq!(
        run.output("suggested-pattern"),
        Some("repo:octo-org/octo-repo:ref:refs/heads/*")
    );
    assert_eq!(run.output("findings"), Some("[]"));
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
    assert_eq!(
        run.output("matched"),
        Some("true"),
        "no check requested counts as matched"
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
        log.contains("Subject check failed: sub matches none of"),
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
