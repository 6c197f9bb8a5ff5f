//! The failure modes users hit (shared/reference/failure-modes.md), each as a claim set plus
//! what the user expected, asserting exactly which findings fire and that each hint names the
//! fix. A few reports are snapshotted.

use oidc_preflight::claims::Claims;
use oidc_preflight::config::RunFacts;
use oidc_preflight::consumer::Consumer;
use oidc_preflight::diagnose::{
    self, analyze, Analysis, ClaimExpectation, Clock, Expectations, Verdict,
};
use oidc_preflight::pattern::PatternSet;
use oidc_preflight::report::Report;
use oidc_preflight::sink::{self, summary};
use oidc_preflight::verify::SignatureStatus;
use serde_json::{json, Value};

use crate::common::{outside_code_fences, run_with};
use crate::provider::{test_key, Job, Provider, GITHUB_ISSUER};
use wiremock::ResponseTemplate;

const IAT: i64 = 1_800_000_000;

/// A GitHub claim set for `job` with fixed times and the given audience.
fn claims(job: &Job, aud: &str) -> Claims {
    let mut map = job.claims();
    map.insert("aud".into(), json!(aud));
    map.insert("iat".into(), json!(IAT));
    map.insert("nbf".into(), json!(IAT - 5));
    map.insert("exp".into(), json!(IAT + 300));
    Claims::from(map)
}

fn with(c: Claims, name: &str, value: Value) -> Claims {
    let mut map = c.into_map();
    map.insert(name.into(), value);
    Claims::from(map)
}

fn expect(patterns: &[&str]) -> Expectations {
    Expectations {
        subject_patterns: PatternSet::new(patterns.iter().copied()),
        ..Expectations::default()
    }
}

fn run(c: &Claims, e: &Expectations) -> Analysis {
    analyze(
        c,
        e,
        Clock {
            now: IAT + 10,
            fresh: true,
        },
    )
}

fn ids(a: &Analysis) -> Vec<&'static str> {
    let mut ids: Vec<_> = a.findings.iter().map(|f| f.id.as_str()).collect();
    ids.sort_unstable();
    ids
}

fn hint_of<'a>(a: &'a Analysis, id: &str) -> &'a str {
    &a.findings
        .iter()
        .find(|f| f.id.as_str() == id)
        .unwrap_or_else(|| panic!("no {id}"))
        .hint
}

struct Scenario {
    name: &'static str,
    claims: Claims,
    expect: Expectations,
    /// Exactly the findings expected.
    ids: &'static [&'static str],
    /// (finding id, text its hint must contain)
    fixes: &'static [(&'static str, &'static str)],
    passed: bool,
}

fn env_job(env: &str) -> Job {
    Job {
        environment: Some(env.into()),
        ..Job::default()
    }
}

fn scenarios() -> Vec<Scenario> {
    let main = Job::default();
    let aws = "sts.amazonaws.com";
    let gcp_aud = "https://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/gh/providers/gh";
    let reusable = with(
        claims(&env_job("release"), "pypi"),
        "job_workflow_ref",
        json!("octo-org/shared/.github/workflows/publish.yml@refs/heads/main"),
    );
    let long_repo = Job {
        repository: format!("octo-org/{}", "r".repeat(110)),
        ..Job::default()
    };
    vec![
        Scenario {
            name: "1: environment form where the policy pins the branch (AWS not authorized, AADSTS700213)",
            claims: claims(&env_job("prod"), aws),
            expect: Expectations { consumer: Some(Consumer::Aws), ..expect(&["repo:octo-org/octo-repo:ref:refs/heads/main"]) },
            ids: &["subject-form-environment"],
            fixes: &[("subject-form-environment", "add `repo:octo-org/octo-repo:environment:prod` to the policy (widens who can assume the role)")],
            passed: false,
        },
        Scenario {
            name: "1: pull_request form where the policy pins the branch",
            claims: claims(&Job { event_name: "pull_request".into(), git_ref: "refs/pull/7/merge".into(), ..Job::default() }, aws),
            expect: expect(&["repo:octo-org/octo-repo:ref:refs/heads/*"]),
            ids: &["subject-form-pull-request"],
            fixes: &[("subject-form-pull-request", "repo:octo-org/octo-repo:pull_request")],
            passed: false,
        },
        Scenario {
            name: "1: tag push where the policy pins main",
            claims: claims(&Job { git_ref: "refs/tags/v1.2.3".into(), ..Job::default() }, aws),
            expect: expect(&["repo:octo-org/octo-repo:ref:refs/heads/main"]),
            ids: &["subject-form-tag"],
            fixes: &[("subject-form-tag", "repo:octo-org/octo-repo:ref:refs/tags/v1.2.3")],
            passed: false,
        },
        Scenario {
            name: "1: the environment form is expected, the job has none",
            claims: claims(&main, aws),
            expect: expect(&["repo:octo-org/octo-repo:environment:prod"]),
            ids: &["subject-form-branch"],
            fixes: &[("subject-form-branch", "declare `environment: prod` on this job")],
            passed: false,
        },
        Scenario {
            name: "5: no audience requested, AWS expects its own (Incorrect token audience)",
            claims: claims(&main, "https://github.com/octo-org"),
            expect: Expectations { consumer: Some(Consumer::Aws), ..Expectations::default() },
            ids: &["audience-is-default"],
            fixes: &[("audience-is-default", "audience: sts.amazonaws.com")],
            passed: false,
        },
        Scenario {
            name: "5: default audience with nothing expected is only a notice",
            claims: claims(&main, "https://github.com/octo-org"),
            expect: Expectations::default(),
            ids: &["audience-is-default"],
            fixes: &[("audience-is-default", "sts.amazonaws.com")],
            passed: true,
        },
        Scenario {
            name: "5: AWS audience presented to Azure (AADSTS700212)",
            claims: claims(&main, aws),
            expect: Expectations { consumer: Some(Consumer::Azure), ..Expectations::default() },
            ids: &["audience-mismatch"],
            fixes: &[("audience-mismatch", "audience: api://AzureADTokenExchange")],
            passed: false,
        },
        Scenario {
            name: "11: GCP audience names the project by ID",
            claims: claims(&main, &gcp_aud.replace("123456789", "my-project")),
            expect: Expectations { consumer: Some(Consumer::Gcp), ..Expectations::default() },
            ids: &["audience-gcp-format"],
            fixes: &[("audience-gcp-format", "projects/NUMBER")],
            passed: false,
        },
        Scenario {
            name: "11: GCP with the right audience passes",
            claims: claims(&main, gcp_aud),
            expect: Expectations { consumer: Some(Consumer::Gcp), audience: Some(gcp_aud.into()), ..Expectations::default() },
            ids: &[],
            fixes: &[],
            passed: true,
        },
        Scenario {
            name: "6: owner capitalised differently (AADSTS7002138)",
            claims: claims(&main, aws),
            expect: expect(&["repo:Octo-Org/octo-repo:ref:refs/heads/main"]),
            ids: &["case-only-mismatch"],
            fixes: &[("case-only-mismatch", "write `octo-org` exactly")],
            passed: false,
        },
        Scenario {
            name: "7: immutable subject in the token, mutable in the policy",
            claims: claims(&Job { repository: "octo-org@65432/octo-repo@123456789".into(), ..Job::default() }, aws),
            expect: expect(&["repo:octo-org/octo-repo:ref:refs/heads/main"]),
            ids: &["immutable-subject"],
            fixes: &[("immutable-subject", "repo:octo-org@65432/octo-repo@123456789:ref:refs/heads/main")],
            passed: false,
        },
        Scenario {
            name: "7: immutable subject in the policy, mutable in the token",
            claims: claims(&main, aws),
            expect: expect(&["repo:octo-org@65432/octo-repo@123456789:ref:refs/heads/main"]),
            ids: &["immutable-subject"],
            fixes: &[("immutable-subject", "repo:octo-org/octo-repo:ref:refs/heads/main")],
            passed: false,
        },
        Scenario {
            name: "7: a wildcard pattern in the name form meets an immutable token",
            claims: claims(&Job { repository: "octo-org@65432/octo-repo@123456789".into(), ..Job::default() }, aws),
            expect: expect(&["repo:octo-org/octo-repo:*"]),
            ids: &["immutable-subject"],
            fixes: &[("immutable-subject", "`[\"repo:octo-org/octo-repo:*\", \"repo:octo-org@65432/octo-repo@123456789:*\"]`")],
            passed: false,
        },
        Scenario {
            name: "7: a wildcard pattern in the immutable form meets a repository that has not opted in",
            claims: claims(&main, aws),
            expect: expect(&["repo:octo-org@65432/octo-repo@123456789:*"]),
            ids: &["immutable-subject"],
            fixes: &[("immutable-subject", "`repo:octo-org/octo-repo:*`, or opt the repository in"), ("immutable-subject", "assertion.repository_id == '123456789'")],
            passed: false,
        },
        Scenario {
            name: "14: customized template in force, policy expects the default form",
            claims: with(claims(&main, aws), "sub", json!("repository_owner_id:65432:repository_id:123456789:ref:refs/heads/main")),
            expect: expect(&["repo:octo-org/octo-repo:ref:refs/heads/main"]),
            ids: &["subject-form-custom"],
            fixes: &[("subject-form-custom", "use_default")],
            passed: false,
        },
        Scenario {
            name: "4: enterprise slug issuer",
            claims: with(claims(&main, aws), "iss", json!("https://token.actions.githubusercontent.com/acme")),
            expect: Expectations::default(),
            ids: &["issuer-enterprise-slug"],
            fixes: &[("issuer-enterprise-slug", "token.actions.githubusercontent.com/acme:sub")],
            passed: true,
        },
        Scenario {
            name: "4: expected issuer has a trailing slash (AADSTS700211)",
            claims: claims(&main, aws),
            expect: Expectations { issuer: Some("https://token.actions.githubusercontent.com/".into()), ..Expectations::default() },
            ids: &["issuer-trailing-slash"],
            fixes: &[("issuer-trailing-slash", "exactly as `https://token.actions.githubusercontent.com`")],
            passed: false,
        },
        Scenario {
            name: "4: GHES issuer where github.com is expected",
            claims: with(claims(&main, aws), "iss", json!("https://github.example.net/_services/token")),
            expect: Expectations { issuer: Some("https://token.actions.githubusercontent.com".into()), ..Expectations::default() },
            ids: &["issuer-ghes", "issuer-mismatch"],
            fixes: &[("issuer-mismatch", "https://github.example.net/_services/token"), ("issuer-ghes", "/.well-known/openid-configuration")],
            passed: false,
        },
        Scenario {
            name: "4: GHE.com issuer",
            claims: with(claims(&main, aws), "iss", json!("https://token.actions.octocorp.ghe.com")),
            expect: Expectations::default(),
            ids: &["issuer-ghe-com"],
            fixes: &[("issuer-ghe-com", "register `https://token.actions.octocorp.ghe.com`")],
            passed: true,
        },
        Scenario {
            name: "3: registry requires an environment the job does not declare",
            claims: claims(&main, "crates.io"),
            expect: Expectations {
                claims: vec![ClaimExpectation { name: "environment".into(), pattern: "release".into() }],
                ..Expectations::default()
            },
            ids: &["claim-absent"],
            fixes: &[("claim-absent", "add `environment: NAME`")],
            passed: false,
        },
        Scenario {
            name: "3: workflow renamed; the registry expects publish.yml",
            claims: claims(&main, "crates.io"),
            expect: Expectations {
                claims: vec![ClaimExpectation { name: "workflow_ref".into(), pattern: "octo-org/octo-repo/.github/workflows/publish.yml@*".into() }],
                ..Expectations::default()
            },
            ids: &["claim-mismatch"],
            fixes: &[("claim-mismatch", "workflow_ref=octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main")],
            passed: false,
        },
        Scenario {
            name: "3: repository owner id expectation holds",
            claims: claims(&main, "crates.io"),
            expect: Expectations {
                claims: vec![ClaimExpectation { name: "repository_owner_id".into(), pattern: "65432".into() }],
                ..Expectations::default()
            },
            ids: &[],
            fixes: &[],
            passed: true,
        },
        Scenario {
            name: "8: reusable workflow publishing to PyPI",
            claims: reusable,
            expect: Expectations { consumer: Some(Consumer::Pypi), ..Expectations::default() },
            ids: &["reusable-workflow", "trusted-publisher-claims"],
            fixes: &[("reusable-workflow", "match the calling workflow `deploy.yml`"), ("trusted-publisher-claims", "workflow file")],
            passed: true,
        },
        Scenario {
            name: "12: token expired (AADSTS700024)",
            claims: with(claims(&main, aws), "exp", json!(IAT)),
            expect: Expectations::default(),
            ids: &["token-expired"],
            fixes: &[("token-expired", "request a new token")],
            passed: false,
        },
        Scenario {
            name: "12: token about to expire",
            claims: with(claims(&main, aws), "exp", json!(IAT + 40)),
            expect: Expectations::default(),
            ids: &["token-expiring"],
            fixes: &[("token-expiring", "right before the step")],
            passed: true,
        },
        Scenario {
            name: "15: runner clock behind the issuer",
            claims: with(with(claims(&main, aws), "iat", json!(IAT + 600)), "nbf", json!(IAT + 600)),
            expect: Expectations::default(),
            ids: &["clock-skew", "token-not-yet-valid"],
            fixes: &[("clock-skew", "NTP"), ("token-not-yet-valid", "clock")],
            passed: false,
        },
        Scenario {
            name: "18: subject too long for google.subject",
            claims: claims(&long_repo, gcp_aud),
            expect: Expectations { consumer: Some(Consumer::Gcp), audience: Some(gcp_aud.into()), ..Expectations::default() },
            ids: &["gcp-subject-too-long"],
            fixes: &[("gcp-subject-too-long", "map `google.subject` to something shorter")],
            passed: false,
        },
        Scenario {
            name: "13: predicting the deploy job's token from a preflight job without environment",
            claims: claims(&main, aws),
            expect: Expectations { job_environment: Some("prod".into()), ..expect(&["repo:octo-org/octo-repo:environment:prod"]) },
            ids: &["prediction"],
            fixes: &[("prediction", "inside the deploy job")],
            passed: true,
        },
        Scenario {
            name: "13: prediction shows the deploy job will not match a branch pattern",
            claims: claims(&main, aws),
            expect: Expectations { job_environment: Some("prod".into()), ..expect(&["repo:octo-org/octo-repo:ref:refs/heads/main"]) },
            ids: &["prediction", "subject-form-environment"],
            fixes: &[("subject-form-environment", "repo:octo-org/octo-repo:environment:prod")],
            passed: false,
        },
    ]
}

#[test]
fn every_failure_mode_is_diagnosed_with_its_fix() {
    for s in scenarios() {
        let a = run(&s.claims, &s.expect);
        assert_eq!(ids(&a), s.ids, "{}: {:#?}", s.name, a.findings);
        for (id, fix) in s.fixes {
            assert!(
                hint_of(&a, id).contains(fix),
                "{}: hint of {id} lacks {fix:?}: {}",
                s.name,
                hint_of(&a, id)
            );
        }
        // `passed` here is "no check failed"; a scenario that requests no check and fails none
        // has checked nothing, which is not a pass.
        assert_eq!(!a.verdict().failed(), s.passed, "{}", s.name);
        if s.passed && !s.expect.requests_a_check() {
            assert_eq!(a.verdict(), Verdict::NothingChecked, "{}", s.name);
        }
        // Every suggestion matches the checked subject.
        let sub = a.claims.subject().unwrap_or_default();
        for suggestion in &a.suggestions {
            assert!(
                oidc_preflight::pattern::string_like(suggestion, sub),
                "{}: {suggestion}",
                s.name
            );
        }
    }
}

#[test]
fn prediction_checks_the_predicted_claims() {
    let a = run(
        &claims(&Job::default(), "sts.amazonaws.com"),
        &Expectations {
            job_environment: Some("prod".into()),
            claims: vec![ClaimExpectation {
                name: "environment".into(),
                pattern: "prod".into(),
            }],
            ..expect(&["repo:octo-org/octo-repo:environment:prod"])
        },
    );
    assert!(a.passed(), "{:#?}", a.findings);
    assert_eq!(a.predicted_for.as_deref(), Some("prod"));
    assert_eq!(
        a.claims.subject(),
        Some("repo:octo-org/octo-repo:environment:prod")
    );
    assert!(a.findings[0].message.starts_with("this is a prediction"));
}

#[test]
fn no_token_causes_are_told_apart() {
    let fork_event = json!({"pull_request": {"head": {"repo": {"fork": true}}}});
    let same_repo_event = json!({"pull_request": {"head": {"repo": {"fork": false}}}});
    let cases = [
        (
            RunFacts {
                act: true,
                ..RunFacts::default()
            },
            None,
            "no-token-act",
            "oidc-preflight check",
        ),
        (
            RunFacts {
                actor: Some("dependabot[bot]".into()),
                ..RunFacts::default()
            },
            None,
            "no-token-dependabot",
            "dependabot[bot]",
        ),
        (
            RunFacts::default(),
            Some(&fork_event),
            "no-token-fork",
            "head.repo.fork",
        ),
        (
            RunFacts::default(),
            Some(&same_repo_event),
            "no-token-permission",
            "id-token: write",
        ),
        (
            RunFacts::default(),
            None,
            "no-token-permission",
            "id-token: write",
        ),
    ];
    for (facts, event, id, fix) in cases {
        let f = diagnose::no_token(&facts, event);
        assert_eq!(f.id.as_str(), id);
        assert!(f.hint.contains(fix), "{id}: {}", f.hint);
    }
}

/// The finished report of an analysis, as `check` builds it.
fn finished(a: &Analysis) -> Report {
    Report::finish(
        a.clone(),
        a.claims.clone(),
        SignatureStatus::Skipped,
        IAT + 10,
        true,
    )
}

fn text_report(a: &Analysis) -> String {
    let mut buf = Vec::new();
    sink::log::write(&mut buf, &finished(a)).unwrap();
    String::from_utf8(buf).unwrap()
}

fn summary_of(a: &Analysis) -> String {
    let mut buf = Vec::new();
    summary::write(&mut buf, &finished(a)).unwrap();
    String::from_utf8(buf).unwrap()
}

#[test]
fn snapshot_environment_form_report_and_summary() {
    let c = claims(&env_job("prod"), "sts.amazonaws.com");
    let e = Expectations {
        consumer: Some(Consumer::Aws),
        ..expect(&["repo:octo-org/octo-repo:ref:refs/heads/*"])
    };
    let a = run(&c, &e);
    insta::assert_snapshot!("environment_form_report", text_report(&a));
    insta::assert_snapshot!("environment_form_summary", summary_of(&a));
}

#[test]
fn snapshot_case_only_report() {
    let c = claims(&Job::default(), "sts.amazonaws.com");
    let e = expect(&["repo:Octo-Org/octo-repo:*"]);
    insta::assert_snapshot!("case_only_report", text_report(&run(&c, &e)));
}

#[test]
fn snapshot_hostile_values_summary_is_inert() {
    let job = Job {
        git_ref: "refs/heads/x|y`z<img src=x onerror=alert(1)>**b**".into(),
        environment: Some("prod</code></details><script>alert(1)</script>".into()),
        ..Job::default()
    };
    let a = run(
        &claims(&job, "sts.amazonaws.com"),
        &expect(&["repo:octo-org/octo-repo:ref:refs/heads/main"]),
    );
    let summary = summary_of(&a);
    let live = outside_code_fences(&summary);
    for bad in [
        "<img",
        "<script",
        "</code></details><",
        "**b**",
        "x|y",
        "`z",
    ] {
        assert!(!live.contains(bad), "{bad} rendered live:\n{live}");
    }
    // Every row of the claims table still has exactly three unescaped pipes (two cells),
    // the expected-and-actual table's four.
    for row in summary.lines().filter(|l| l.starts_with("| <code>")) {
        let cells = if row.contains(" matches") { 4 } else { 3 };
        assert_eq!(row.matches('|').count(), cells, "{row}");
    }
    insta::assert_snapshot!("hostile_summary", summary);
}

// ---------------------------------------------------------------------------------------------
// What a person reads, snapshotted whole: the step log as the runner renders it, the
// annotations, the job summary, and the JSON report of `check` (or the `findings` output where
// a scenario only exists in the action). One snapshot file per scenario, so a change of wording
// shows up in review as a diff of the scenario it changes.
//
// The action reads the real clock, so its token is issued around the real now and the parts
// that depend on it (the times and the durations left) are replaced with placeholders; `check`
// takes `now`, so its report is run on fixed times and needs no placeholders but for paths.
// ---------------------------------------------------------------------------------------------

/// How the token endpoint answers in a snapshot scenario.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Token {
    /// A token signed with the provider's key.
    Signed,
    /// A token whose signature is not the provider key's.
    Forged,
    /// The runner variables are absent (no `id-token: write`).
    NoPermission,
    /// The token endpoint refuses with 403, as a runner that may not mint tokens.
    Forbidden,
}

/// A scenario a person reads the output of.
struct Reading {
    /// The snapshot's name.
    name: &'static str,
    /// What happened, as the snapshot's first line.
    title: &'static str,
    job: Job,
    /// Claims that differ from the job's (`aud` follows the `audience` input unless set here).
    set: Vec<(&'static str, Value)>,
    /// `iat`, `nbf` and `exp` relative to the time the token is issued.
    times: (i64, i64, i64),
    /// The action's inputs; `check` gets the same checks as options.
    inputs: Vec<(&'static str, String)>,
    /// Trust policy documents (file name, text), in the workspace.
    policies: Vec<(&'static str, String)>,
    /// The issuer is the loopback provider, whose keys the action fetches; otherwise the token
    /// names a real issuer, whose keys the tests cannot fetch, so the action runs with
    /// `verify-signature: false` and `check` verifies with a JWKS file.
    loopback_issuer: bool,
    token: Token,
    /// Also run through `oidc-preflight check --format json`.
    check: bool,
    /// The event payload the runner gives the action (GITHUB_EVENT_PATH).
    event: Option<Value>,
}

impl Default for Reading {
    fn default() -> Self {
        Self {
            name: "",
            title: "",
            job: Job::default(),
            set: Vec::new(),
            times: (0, -5, 300),
            inputs: Vec::new(),
            policies: Vec::new(),
            loopback_issuer: false,
            token: Token::Signed,
            check: true,
            event: None,
        }
    }
}

const AWS_AUD: &str = "sts.amazonaws.com";
const AZURE_AUD: &str = "api://AzureADTokenExchange";
const GCP_AUD: &str = "https://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/gh/providers/gh";
const GCP_POLICY_AUD: &str = "https://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/providers/octo-org";

fn inputs(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

/// An AWS role trust policy for GitHub's provider with one statement of `effect` and
/// `condition`.
fn aws_role(condition: Value, effect: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "GitHubDeploy",
        "Effect": effect,
        "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": condition
    }]})
    .to_string()
}

/// Allows the repository's tokens and means to deny pull requests, on a key STS does not pass.
fn aws_role_with_deny() -> String {
    let provider = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Repository", "Effect": "Allow", "Principal": {"Federated": provider},
         "Action": "sts:AssumeRoleWithWebIdentity",
         "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                       "StringLike": {"token.actions.githubusercontent.com:sub": "repo:octo-org/octo-repo:*"}}},
        {"Sid": "NoPullRequests", "Effect": "Deny", "Principal": {"Federated": provider},
         "Action": "sts:AssumeRoleWithWebIdentity",
         "Condition": {"StringEquals": {"token.actions.githubusercontent.com:event_name": "pull_request"}}}
    ]})
    .to_string()
}

fn example_policy(file: &'static str) -> (&'static str, String) {
    let path = format!("{}/examples/policies/{file}", env!("CARGO_MANIFEST_DIR"));
    (file, std::fs::read_to_string(path).expect("example policy"))
}

/// A Vault role for `octo-org/octo-repo` as `vault read -format=json auth/jwt/role/deploy`
/// prints it (the fields that decide a login), with `fields` replaced.
fn vault_role(fields: Value) -> String {
    let mut data = json!({
        "role_type": "jwt",
        "bound_audiences": ["https://github.com/octo-org"],
        "bound_claims_type": "string",
        "bound_claims": {"repository": "octo-org/octo-repo"},
        "bound_subject": "",
        "claim_mappings": null,
        "clock_skew_leeway": 60,
        "groups_claim": "",
        "token_bound_cidrs": [],
        "token_policies": ["deploy"],
        "user_claim": "repository",
        "user_claim_json_pointer": false,
    });
    if let (Some(map), Value::Object(changes)) = (data.as_object_mut(), fields) {
        map.extend(changes);
    }
    let response = json!({"request_id": "0b7a9f3e", "lease_id": "", "lease_duration": 0,
        "renewable": false, "data": data, "warnings": null, "mount_type": "jwt"});
    serde_json::to_string_pretty(&response).unwrap()
}

/// The example GCP provider with another attribute condition (`None`: without one).
fn gcp_provider(condition: Option<&str>) -> (&'static str, String) {
    let (file, text) = example_policy("gcp-provider.json");
    let mut provider: Value = serde_json::from_str(&text).expect("example provider");
    match condition {
        Some(condition) => provider["attributeCondition"] = Value::from(condition),
        None => {
            provider
                .as_object_mut()
                .map(|p| p.remove("attributeCondition"));
        }
    }
    (file, provider.to_string())
}

fn readings() -> Vec<Reading> {
    let prod = env_job("prod");
    let pull_request = Job {
        event_name: "pull_request".into(),
        git_ref: "refs/pull/7/merge".into(),
        ..Job::default()
    };
    let tag = Job {
        git_ref: "refs/tags/v1.2.3".into(),
        ..Job::default()
    };
    vec![
        Reading {
            name: "read_environment_form_vs_branch_pattern",
            title: "AWS: the job declares `environment: prod`, the trust policy pins the branch (Not authorized to perform sts:AssumeRoleWithWebIdentity)",
            job: prod.clone(),
            inputs: inputs(&[("audience", AWS_AUD), ("provider", "aws"), ("subject-pattern", "repo:octo-org/octo-repo:ref:refs/heads/main")]),
            ..Reading::default()
        },
        Reading {
            name: "read_pull_request_form",
            title: "A pull_request run where the policy allows branches only",
            job: pull_request.clone(),
            inputs: inputs(&[("audience", AWS_AUD), ("provider", "aws"), ("subject-pattern", "repo:octo-org/octo-repo:ref:refs/heads/*")]),
            ..Reading::default()
        },
        Reading {
            name: "read_tag_push",
            title: "A tag push where the policy pins main",
            job: tag.clone(),
            inputs: inputs(&[("audience", AWS_AUD), ("subject-pattern", "repo:octo-org/octo-repo:ref:refs/heads/main")]),
            ..Reading::default()
        },
        Reading {
            name: "read_environment_expected_job_has_none",
            title: "The policy expects the environment form; the job declares no environment",
            inputs: inputs(&[("audience", AWS_AUD), ("subject-pattern", "repo:octo-org/octo-repo:environment:prod")]),
            ..Reading::default()
        },
        Reading {
            name: "read_custom_template",
            title: "A customized sub template is in force; the policy expects the default form",
            set: vec![("sub", json!("repository_owner_id:65432:repository_id:123456789:ref:refs/heads/main"))],
            inputs: inputs(&[("audience", AWS_AUD), ("subject-pattern", "repo:octo-org/octo-repo:ref:refs/heads/main")]),
            ..Reading::default()
        },
        Reading {
            name: "read_immutable_subject_in_token",
            title: "The token has the immutable subject form, the policy the mutable one",
            set: vec![("sub", json!("repo:octo-org@65432/octo-repo@123456789:ref:refs/heads/main"))],
            inputs: inputs(&[("audience", AWS_AUD), ("subject-pattern", "repo:octo-org/octo-repo:ref:refs/heads/main")]),
            ..Reading::default()
        },
        Reading {
            name: "read_immutable_subject_in_policy",
            title: "The policy has the immutable subject form, the token the mutable one",
            inputs: inputs(&[("audience", AWS_AUD), ("subject-pattern", "repo:octo-org@65432/octo-repo@123456789:ref:refs/heads/main")]),
            ..Reading::default()
        },
        Reading {
            name: "read_case_only_mismatch",
            title: "Azure: the owner is capitalised differently in the credential (AADSTS7002138)",
            inputs: inputs(&[("audience", AZURE_AUD), ("provider", "azure"), ("subject-pattern", "repo:Octo-Org/octo-repo:ref:refs/heads/main")]),
            ..Reading::default()
        },
        Reading {
            name: "read_audience_default_for_aws",
            title: "AWS: no audience requested, so the token has GitHub's default (Incorrect token audience)",
            inputs: inputs(&[("provider", "aws"), ("subject-pattern", "repo:octo-org/octo-repo:ref:refs/heads/main")]),
            ..Reading::default()
        },
        Reading {
            name: "read_audience_mismatch_azure",
            title: "Azure: the token was requested for AWS's audience (AADSTS700212)",
            set: vec![("aud", json!(AWS_AUD))],
            inputs: inputs(&[("provider", "azure"), ("subject-pattern", "repo:octo-org/octo-repo:ref:refs/heads/main")]),
            ..Reading::default()
        },
        Reading {
            name: "read_gcp_audience_project_id",
            title: "GCP: the audience names the project by ID instead of number (invalid_grant)",
            inputs: inputs(&[("audience", &GCP_AUD.replace("123456789", "my-project")), ("provider", "gcp")]),
            ..Reading::default()
        },
        Reading {
            name: "read_gcp_passes",
            title: "GCP: the provider's audience and a matching subject pattern pass",
            inputs: inputs(&[("audience", GCP_AUD), ("provider", "gcp"), ("subject-pattern", "repo:octo-org/octo-repo:*")]),
            ..Reading::default()
        },
        Reading {
            name: "read_gcp_subject_too_long",
            title: "GCP: sub is longer than the 127 bytes google.subject may map",
            job: Job { repository: format!("octo-org/{}", "r".repeat(110)), ..Job::default() },
            inputs: inputs(&[("audience", GCP_AUD), ("provider", "gcp")]),
            ..Reading::default()
        },
        Reading {
            name: "read_issuer_enterprise_slug",
            title: "The enterprise has a unique issuer URL (slug); the pattern matches",
            set: vec![("iss", json!("https://token.actions.githubusercontent.com/acme"))],
            inputs: inputs(&[("audience", AWS_AUD), ("subject-pattern", "repo:octo-org/octo-repo:ref:refs/heads/main")]),
            ..Reading::default()
        },
        Reading {
            name: "read_issuer_ghe_com",
            title: "GHE.com: the issuer is the subdomain's",
            set: vec![("iss", json!("https://token.actions.octocorp.ghe.com"))],
            inputs: inputs(&[("audience", AWS_AUD), ("subject-pattern", "repo:octo-org/octo-repo:ref:refs/heads/main")]),
            ..Reading::default()
        },
        Reading {
            name: "read_issuer_ghes_where_github_expected",
            title: "GitHub Enterprise Server token where the cloud expects github.com's issuer",
            set: vec![("iss", json!("https://github.example.net/_services/token"))],
            inputs: inputs(&[("audience", AWS_AUD), ("issuer", GITHUB_ISSUER), ("subject-pattern", "repo:octo-org/octo-repo:ref:refs/heads/main")]),
            ..Reading::default()
        },
        Reading {
            name: "read_issuer_trailing_slash",
            title: "Azure: the credential's issuer has a trailing slash (AADSTS700211)",
            inputs: inputs(&[("audience", AZURE_AUD), ("provider", "azure"), ("issuer", "https://token.actions.githubusercontent.com/")]),
            ..Reading::default()
        },
        Reading {
            name: "read_untrusted_issuer",
            title: "A token whose iss is no GitHub issuer: check trusts no keys it names",
            set: vec![("iss", json!("https://token.evil.example"))],
            inputs: inputs(&[("audience", AWS_AUD), ("subject-pattern", "repo:octo-org/octo-repo:ref:refs/heads/main")]),
            ..Reading::default()
        },
        Reading {
            name: "read_reusable_workflow_pypi",
            title: "PyPI: publishing from a reusable workflow in another repository",
            job: env_job("release"),
            set: vec![("job_workflow_ref", json!("octo-org/shared/.github/workflows/publish.yml@refs/heads/main"))],
            inputs: inputs(&[("audience", "pypi"), ("provider", "pypi")]),
            ..Reading::default()
        },
        Reading {
            name: "read_crates_io_workflow_renamed",
            title: "crates.io: the workflow was renamed; the trusted publisher expects publish.yml",
            inputs: inputs(&[("audience", "crates.io"), ("provider", "crates-io"), ("claims", "workflow_ref=octo-org/octo-repo/.github/workflows/publish.yml@*")]),
            ..Reading::default()
        },
        Reading {
            name: "read_crates_io_environment_missing",
            title: "crates.io: the trusted publisher requires an environment the job does not declare",
            inputs: inputs(&[("audience", "crates.io"), ("provider", "crates-io"), ("claims", "environment=release")]),
            ..Reading::default()
        },
        Reading {
            name: "read_npm_trusted_publisher_passes",
            title: "npm: the trusted publisher's repository, workflow and environment hold",
            job: Job { workflow_file: "publish.yml".into(), ..env_job("npm") },
            inputs: inputs(&[("audience", "npm:registry.npmjs.org"), ("provider", "npm"), ("claims", "repository=octo-org/octo-repo\nworkflow_ref=octo-org/octo-repo/.github/workflows/publish.yml@*\nenvironment=npm")]),
            ..Reading::default()
        },
        Reading {
            name: "read_pypi_publisher_names_the_caller",
            title: "PyPI: the publisher names the calling workflow, but the job runs in a reusable workflow of the same repository",
            set: vec![("job_workflow_ref", json!("octo-org/octo-repo/.github/workflows/build.yml@refs/heads/main"))],
            inputs: inputs(&[("audience", "pypi"), ("trusted-publisher", "registry=pypi\nrepository=octo-org/octo-repo\nworkflow=deploy.yml")]),
            ..Reading::default()
        },
        Reading {
            name: "read_pypi_publisher_custom_template",
            title: "PyPI: the repository uses a customized subject template (Check failed for required claim 'sub')",
            set: vec![("sub", json!("repository_owner_id:65432:repository_id:123456789:ref:refs/heads/main"))],
            inputs: inputs(&[("audience", "pypi"), ("trusted-publisher", "registry=pypi\nrepository=octo-org/octo-repo\nworkflow=deploy.yml")]),
            ..Reading::default()
        },
        Reading {
            name: "read_crates_io_publisher_environment",
            title: "crates.io: the publisher requires environment `release`; the job declares none",
            inputs: inputs(&[("audience", "crates.io"), ("trusted-publisher", "registry=crates-io\nrepository=Octo-Org/octo-repo\nworkflow=deploy.yml\nenvironment=release")]),
            ..Reading::default()
        },
        Reading {
            name: "read_npm_publisher_case_only",
            title: "npm: the publisher's workflow file differs only in case (npm compares every field exactly)",
            job: env_job("npm"),
            inputs: inputs(&[("audience", "npm:registry.npmjs.org"), ("trusted-publisher", "registry=npm\nrepository=octo-org/octo-repo\nworkflow=Deploy.yml\nenvironment=npm")]),
            ..Reading::default()
        },
        Reading {
            name: "read_pypi_publisher_matches",
            title: "PyPI: the publisher as entered matches, environment compared ignoring case",
            job: env_job("Release"),
            inputs: inputs(&[("audience", "pypi"), ("trusted-publisher", "registry=pypi\nrepository=octo-org/octo-repo\nworkflow=deploy.yml\nenvironment=release")]),
            ..Reading::default()
        },
        Reading {
            name: "read_token_expired",
            title: "The token expired before it was used (AADSTS700024)",
            times: (-900, -905, -600),
            inputs: inputs(&[("audience", AWS_AUD), ("subject-pattern", "repo:octo-org/octo-repo:ref:refs/heads/main")]),
            ..Reading::default()
        },
        Reading {
            name: "read_token_expiring",
            title: "The token has little time left",
            times: (-270, -275, 30),
            inputs: inputs(&[("audience", AWS_AUD), ("subject-pattern", "repo:octo-org/octo-repo:ref:refs/heads/main")]),
            ..Reading::default()
        },
        Reading {
            name: "read_token_not_yet_valid",
            title: "The runner's clock is behind the issuer's: the token is not valid yet",
            times: (600, 600, 900),
            inputs: inputs(&[("audience", AWS_AUD), ("subject-pattern", "repo:octo-org/octo-repo:ref:refs/heads/main")]),
            ..Reading::default()
        },
        Reading {
            name: "read_aws_policy_allows",
            title: "AWS: the role's trust policy allows the prod environment",
            job: prod.clone(),
            inputs: inputs(&[("audience", AWS_AUD), ("trust-policy", "aws-trust-policy.json")]),
            policies: vec![example_policy("aws-trust-policy.json")],
            ..Reading::default()
        },
        Reading {
            name: "read_aws_policy_refuses",
            title: "AWS: the role's trust policy refuses a push to main",
            inputs: inputs(&[("audience", AWS_AUD), ("trust-policy", "aws-trust-policy.json")]),
            policies: vec![example_policy("aws-trust-policy.json")],
            ..Reading::default()
        },
        Reading {
            name: "read_aws_claim_sts_does_not_pass",
            title: "AWS: the trust policy conditions on repository_owner, which STS does not pass to IAM (Not authorized to perform sts:AssumeRoleWithWebIdentity)",
            inputs: inputs(&[("audience", AWS_AUD), ("provider", "aws"), ("trust-policy", "role.json")]),
            policies: vec![("role.json", aws_role(json!({
                "StringEquals": {
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                    "token.actions.githubusercontent.com:repository_owner": "octo-org"
                }
            }), "Allow"))],
            ..Reading::default()
        },
        Reading {
            name: "read_aws_deny_that_never_fires",
            title: "AWS: a Deny on event_name never fires, because STS does not pass event_name to IAM",
            inputs: inputs(&[("audience", AWS_AUD), ("provider", "aws"), ("trust-policy", "role.json")]),
            job: Job { event_name: "pull_request".into(), git_ref: "refs/pull/7/merge".into(), ..Job::default() },
            policies: vec![("role.json", aws_role_with_deny())],
            ..Reading::default()
        },
        Reading {
            name: "read_azure_credential_allows",
            title: "Azure: the federated identity credential allows the prod environment",
            job: prod.clone(),
            inputs: inputs(&[("audience", AZURE_AUD), ("trust-policy", "azure-federated-credential.json")]),
            policies: vec![example_policy("azure-federated-credential.json")],
            ..Reading::default()
        },
        Reading {
            name: "read_azure_credential_refuses",
            title: "Azure: the federated identity credential refuses a pull_request run",
            job: pull_request,
            inputs: inputs(&[("audience", AZURE_AUD), ("trust-policy", "azure-federated-credential.json")]),
            policies: vec![example_policy("azure-federated-credential.json")],
            ..Reading::default()
        },
        Reading {
            name: "read_gcp_provider_allows",
            title: "GCP: the workload identity provider's attribute condition holds",
            inputs: inputs(&[("audience", GCP_POLICY_AUD), ("trust-policy", "gcp-provider.json")]),
            policies: vec![example_policy("gcp-provider.json")],
            ..Reading::default()
        },
        Reading {
            name: "read_gcp_provider_refuses",
            title: "GCP: the attribute condition refuses another owner (rejected by the attribute condition)",
            job: Job { repository: "fork-org/octo-repo".into(), ..Job::default() },
            inputs: inputs(&[("audience", GCP_POLICY_AUD), ("trust-policy", "gcp-provider.json")]),
            policies: vec![example_policy("gcp-provider.json")],
            ..Reading::default()
        },
        Reading {
            name: "read_vault_audience_unbound",
            title: "Vault: the role binds no audience, the token has one (Vault 1.17+: audience claim found in JWT but no audiences bound to the role)",
            inputs: inputs(&[("provider", "vault"), ("trust-policy", "vault-role.json")]),
            policies: vec![("vault-role.json", vault_role(json!({"bound_audiences": []})))],
            ..Reading::default()
        },
        Reading {
            name: "read_vault_audience_mismatch",
            title: "Vault: the role binds `sigstore`, but the step requested no audience (hashicorp/vault-action without jwtGithubAudience)",
            inputs: inputs(&[("provider", "vault"), ("trust-policy", "vault-role.json")]),
            policies: vec![("vault-role.json", vault_role(json!({"bound_audiences": ["sigstore"]})))],
            ..Reading::default()
        },
        Reading {
            name: "read_vault_environment_mismatch",
            title: "Vault: the role's bound_claims pin environment prod, the job deploys to staging (error validating claims)",
            job: env_job("staging"),
            inputs: inputs(&[("provider", "vault"), ("trust-policy", "vault-role.json")]),
            policies: vec![example_policy("vault-role.json")],
            ..Reading::default()
        },
        Reading {
            name: "read_vault_glob_passes",
            title: "Vault: a glob bound claim on sub accepts any ref of the repository",
            inputs: inputs(&[("provider", "vault"), ("trust-policy", "vault-role.json")]),
            policies: vec![(
                "vault-role.json",
                vault_role(json!({"bound_claims_type": "glob", "bound_claims": {"sub": "repo:octo-org/octo-repo:*"}})),
            )],
            ..Reading::default()
        },
        Reading {
            name: "read_vault_user_claim_missing",
            title: "Vault: the role's user_claim is `email`, which GitHub's tokens do not carry",
            inputs: inputs(&[("provider", "vault"), ("trust-policy", "vault-role.json")]),
            policies: vec![("vault-role.json", vault_role(json!({"user_claim": "email"})))],
            ..Reading::default()
        },
        Reading {
            name: "read_vault_oidc_role",
            title: "Vault: the role is of type oidc (role with oidc role_type is not allowed)",
            inputs: inputs(&[("provider", "vault"), ("trust-policy", "vault-role.json")]),
            policies: vec![("vault-role.json", vault_role(json!({"role_type": "oidc", "allowed_redirect_uris": ["https://vault.example.com/ui/vault/auth/oidc/oidc/callback"]})))],
            ..Reading::default()
        },
        Reading {
            name: "read_gcp_condition_case_only",
            title: "GCP: a literal in the condition differs from the claim only in case",
            inputs: inputs(&[("audience", GCP_POLICY_AUD), ("trust-policy", "gcp-provider.json")]),
            policies: vec![gcp_provider(Some("assertion.repository_owner == 'Octo-Org' && assertion.ref.startsWith('refs/heads/')"))],
            ..Reading::default()
        },
        Reading {
            name: "read_gcp_condition_absent_claim",
            title: "GCP: the condition reads `environment`, which a job without one does not have (no such key)",
            inputs: inputs(&[("audience", GCP_POLICY_AUD), ("trust-policy", "gcp-provider.json")]),
            policies: vec![gcp_provider(Some("assertion.repository_owner == 'octo-org' && assertion.environment == 'prod'"))],
            ..Reading::default()
        },
        Reading {
            name: "read_gcp_shared_issuer_no_condition",
            title: "GCP: a provider for GitHub's shared issuer without a condition (GCP no longer creates these)",
            inputs: inputs(&[("audience", GCP_POLICY_AUD), ("trust-policy", "gcp-provider.json")]),
            policies: vec![gcp_provider(None)],
            ..Reading::default()
        },
        Reading {
            name: "read_nothing_checked",
            title: "No check was asked for: the claims are shown, nothing is claimed to match",
            ..Reading::default()
        },
        Reading {
            name: "read_prediction_for_deploy_job",
            title: "A preflight job without environment predicts the deploy job's token",
            inputs: inputs(&[("audience", AWS_AUD), ("job-environment", "prod"), ("subject-pattern", "repo:octo-org/octo-repo:environment:prod")]),
            ..Reading::default()
        },
        Reading {
            name: "read_fail_on_mismatch_false",
            title: "fail-on-mismatch: false turns the failed check into warnings (the action only)",
            job: prod,
            inputs: inputs(&[("audience", AWS_AUD), ("provider", "aws"), ("fail-on-mismatch", "false"), ("subject-pattern", "repo:octo-org/octo-repo:ref:refs/heads/main")]),
            check: false,
            ..Reading::default()
        },
        Reading {
            name: "read_verified_and_passing",
            title: "The signature verifies with the issuer's keys and the subject matches",
            inputs: inputs(&[("audience", AWS_AUD), ("provider", "aws"), ("subject-pattern", "repo:octo-org/octo-repo:ref:refs/heads/*")]),
            loopback_issuer: true,
            ..Reading::default()
        },
        Reading {
            name: "read_signature_invalid",
            title: "The signature does not verify with the issuer's keys",
            inputs: inputs(&[("audience", AWS_AUD), ("subject-pattern", "repo:octo-org/octo-repo:ref:refs/heads/*")]),
            loopback_issuer: true,
            token: Token::Forged,
            ..Reading::default()
        },
        Reading {
            name: "read_no_permission",
            title: "The job lacks `permissions: id-token: write`, so the runner sets no token variables (the action only)",
            token: Token::NoPermission,
            inputs: inputs(&[("audience", AWS_AUD)]),
            check: false,
            ..Reading::default()
        },
        Reading {
            name: "read_fork_pull_request",
            title: "A pull request from a fork gets no token (the action only)",
            token: Token::NoPermission,
            inputs: inputs(&[("audience", AWS_AUD)]),
            job: Job { event_name: "pull_request".into(), git_ref: "refs/pull/7/merge".into(), ..Job::default() },
            event: Some(json!({"pull_request": {"number": 7, "head": {"repo": {"fork": true, "full_name": "someone/octo-repo"}}}})),
            check: false,
            ..Reading::default()
        },
        Reading {
            name: "read_token_endpoint_forbidden",
            title: "The token endpoint answers 403 (a runner that may not mint tokens; the action only)",
            token: Token::Forbidden,
            inputs: inputs(&[("audience", AWS_AUD)]),
            check: false,
            ..Reading::default()
        },
    ]
}

fn input<'a>(r: &'a Reading, name: &str) -> Option<&'a str> {
    r.inputs
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

/// The claims GitHub would issue for `r`, issued at `issued` by `iss`.
fn reading_claims(r: &Reading, issued: i64, iss: &str) -> Value {
    let mut c = r.job.claims();
    c.insert("iss".into(), json!(iss));
    let aud = input(r, "audience")
        .map(str::to_owned)
        .unwrap_or_else(|| r.job.default_audience());
    c.insert("aud".into(), json!(aud));
    for (name, value) in &r.set {
        c.insert((*name).into(), value.clone());
    }
    let (iat, nbf, exp) = r.times;
    c.insert("iat".into(), json!(issued + iat));
    c.insert("nbf".into(), json!(issued + nbf));
    c.insert("exp".into(), json!(issued + exp));
    Value::Object(c)
}

fn sign_for(r: &Reading, claims: &Value) -> String {
    let token = test_key().sign(claims);
    match r.token {
        Token::Forged => {
            let (head, _) = token.rsplit_once('.').unwrap();
            format!("{head}.{}", oidc_preflight::claims::base64url(&[7u8; 256]))
        }
        _ => token,
    }
}

/// Replaces each `from` with `to` in `text`, as written in the log and as the job summary
/// escapes it.
fn redact(text: &str, replacements: &[(String, String)]) -> String {
    let mut text = text.to_owned();
    for (from, to) in replacements {
        text = text.replace(from.as_str(), to);
        text = text.replace(&summary::escape(from), &summary::escape(to));
    }
    text
}

/// The parts of the action's output that depend on the real clock.
fn redact_clock(text: &str) -> String {
    let date = regex_lite::Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z").unwrap();
    let text = date.replace_all(text, "DATE");
    // The same date as the job summary escapes it.
    let escaped =
        regex_lite::Regex::new(r"\d{4}&#45;\d{2}&#45;\d{2}T\d{2}<wbr>&#58;\d{2}<wbr>&#58;\d{2}Z")
            .unwrap();
    let text = escaped.replace_all(&text, "DATE");
    let left = regex_lite::Regex::new(r"(expires in|expired) \d+[a-z]+(?: \d+[a-z]+)*").unwrap();
    let text = left.replace_all(&text, "$1 DURATION");
    // Whole seconds between the token's times and the action's clock ("expired 600 s ago")
    // shift by one when a second ticks during the run.
    let seconds = regex_lite::Regex::new(r"\b\d+ s\b").unwrap();
    seconds.replace_all(&text, "N s").into_owned()
}

/// The `findings` output (one line of JSON) pretty-printed, to be read.
fn pretty_json(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap(),
        Err(_) => text.to_owned(),
    }
}

/// The `check` options equivalent to the action's inputs.
fn check_options(r: &Reading, dir: &str) -> Vec<String> {
    let mut args = Vec::new();
    for (name, value) in &r.inputs {
        let lines = || value.lines().map(str::trim).filter(|l| !l.is_empty());
        match *name {
            "audience" => args.extend(["--audience".to_owned(), value.clone()]),
            "provider" => args.extend(["--provider".to_owned(), value.clone()]),
            "issuer" => args.extend(["--issuer".to_owned(), value.clone()]),
            "job-environment" => args.extend(["--job-environment".to_owned(), value.clone()]),
            "trusted-publisher" => args.extend([
                "--trusted-publisher".to_owned(),
                lines().collect::<Vec<_>>().join(","),
            ]),
            "subject-pattern" => {
                for l in lines() {
                    args.extend(["--subject-pattern".to_owned(), l.to_owned()]);
                }
            }
            "claims" => {
                for l in lines() {
                    args.extend(["--claim".to_owned(), l.to_owned()]);
                }
            }
            "trust-policy" => {
                for l in lines() {
                    args.extend(["--trust-policy".to_owned(), format!("{dir}/{l}")]);
                }
            }
            other => panic!("{}: input {other} has no check option", r.name),
        }
    }
    args
}

/// Runs `r` through the action and `check` and renders what a person reads.
async fn read(r: &Reading) -> String {
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().display().to_string();
    for (file, text) in &r.policies {
        std::fs::write(dir.path().join(file), text).unwrap();
    }
    let jwks_path = dir.path().join("jwks.json");
    std::fs::write(&jwks_path, test_key().jwks().to_string()).unwrap();
    let mut extra = vec![("GITHUB_WORKSPACE", dir_path.clone())];
    if let Some(event) = &r.event {
        let path = dir.path().join("event.json");
        std::fs::write(&path, event.to_string()).unwrap();
        extra.push(("GITHUB_EVENT_PATH", path.display().to_string()));
    }

    let provider = Provider::start().await;
    let uri = provider.server.uri();
    let iss = if r.loopback_issuer {
        uri.clone()
    } else {
        GITHUB_ISSUER.to_owned()
    };
    let issued = crate::provider::now();
    let claims = reading_claims(r, issued, &iss);
    match r.token {
        Token::Signed | Token::Forged => {
            let body = json!({"count": 2304, "value": sign_for(r, &claims)});
            provider
                .answer(ResponseTemplate::new(200).set_body_json(body), None)
                .await;
            provider.serve_keys().await;
        }
        Token::Forbidden => {
            let body = json!({"message": "Forbidden: this runner may not request an OIDC token"});
            provider
                .answer(ResponseTemplate::new(403).set_body_json(body), None)
                .await;
        }
        Token::NoPermission => {}
    }
    let mut action_inputs: Vec<(&str, &str)> =
        r.inputs.iter().map(|(n, v)| (*n, v.as_str())).collect();
    if !r.loopback_issuer {
        action_inputs.push(("verify-signature", "false"));
    }
    let extra_refs: Vec<(&str, &str)> = extra.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let with_provider = (r.token != Token::NoPermission).then_some(&provider);
    let run = run_with(with_provider, &action_inputs, &extra_refs).await;

    let host = uri.trim_start_matches("http://").to_owned();
    let mut replacements = vec![(host, "127.0.0.1:PORT".to_owned())];
    replacements.push((dir_path.clone(), "WORKSPACE".to_owned()));
    let action_replacements = {
        let mut r = replacements.clone();
        // Inserted in front, so the last is replaced first: `iat` names a time `nbf` shares.
        for name in ["nbf", "exp", "iat"] {
            r.insert(0, (claims[name].to_string(), name.to_uppercase()));
        }
        r
    };
    let action_text = |text: &str| redact_clock(&redact(text, &action_replacements));

    let mut out = String::new();
    out.push_str(&format!("Scenario: {}\n", r.title));
    out.push_str("\n=== Action inputs ===\n");
    for (name, value) in &action_inputs {
        out.push_str(&format!("{name}: {}\n", value.replace('\n', "\n    ")));
    }
    out.push_str(&format!(
        "\n=== Action exit status ===\n{} ({:?})\n",
        run.status.code(),
        run.status
    ));
    out.push_str("\n=== Step log (as the runner shows it) ===\n");
    out.push_str(&action_text(&run.view.log_text()));
    out.push_str("\n\n=== Annotations ===\n");
    let annotations = run.view.annotations();
    if annotations.is_empty() {
        out.push_str("(none)\n");
    }
    for a in annotations {
        let title = a.properties.get("title").map(String::as_str).unwrap_or("");
        out.push_str(&format!("{} | {}\n", a.name, action_text(title)));
        for line in action_text(&a.data).lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    out.push_str("\n=== Job summary ===\n");
    if run.summary.is_empty() {
        out.push_str("(none)\n");
    }
    out.push_str(&action_text(&run.summary));
    out.push_str("\n=== Outputs ===\n");
    if run.outputs.is_empty() {
        out.push_str("(none)\n");
    }
    for name in [
        "matched",
        "subject-form",
        "suggested-pattern",
        "signature",
        "policy-result",
    ] {
        if let Some(value) = run.output(name) {
            out.push_str(&format!("{name}: {}\n", action_text(value)));
        }
    }
    if !r.check {
        out.push_str("\n=== findings output ===\n");
        match run.output("findings") {
            Some(findings) => out.push_str(&action_text(&pretty_json(findings))),
            None => out.push_str("(not written)"),
        }
        out.push('\n');
        return out;
    }

    // The same checks through `check`, on fixed times.
    let check_claims = reading_claims(r, IAT, &iss);
    let token = sign_for(r, &check_claims);
    let mut args: Vec<String> = ["oidc-preflight", "check", "-", "--format", "json"]
        .map(str::to_owned)
        .to_vec();
    args.extend(["--jwks".to_owned(), jwks_path.display().to_string()]);
    if r.loopback_issuer {
        args.extend(["--issuer".to_owned(), uri.clone()]);
    }
    args.extend(check_options(r, &dir_path));
    let cli = oidc_preflight::cli::Cli::parse_from_args(&args).expect("check arguments");
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let status = oidc_preflight::app::run(
        cli,
        &oidc_preflight::Env::from_pairs(Vec::<(String, String)>::new()),
        &|| IAT + 10,
        oidc_preflight::app::Stdin {
            reader: token.as_bytes(),
            is_terminal: false,
        },
        &mut stdout,
        &mut stderr,
    );
    let stdout = String::from_utf8(stdout).unwrap();
    let stderr = String::from_utf8(stderr).unwrap();
    assert!(
        !stdout.contains(&token) && !stderr.contains(&token),
        "{}: check printed the token",
        r.name
    );
    replacements.insert(0, (jwks_path.display().to_string(), "JWKS_FILE".to_owned()));
    let check_text = |text: &str| redact(text, &replacements);
    out.push_str("\n=== check --format json (now = iat + 10 s) ===\n");
    out.push_str(&format!("$ {}\n", check_text(&args[1..].join(" "))));
    out.push_str(&format!("exit status: {} ({status:?})\n", status.code()));
    if !stderr.is_empty() {
        out.push_str(&format!("stderr:\n{}", check_text(&stderr)));
    }
    // Verbatim: the report is already pretty-printed, in its own field order.
    out.push_str(&check_text(&stdout));
    out
}

async fn snapshot_reading(name: &str) {
    let r = readings()
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no scenario {name}"));
    let text = read(&r).await;
    insta::assert_snapshot!(name, text);
}

/// One test per scenario, so that every changed wording is reported, not only the first.
macro_rules! reading_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                snapshot_reading(stringify!($name)).await;
            }
        )*

        #[test]
        fn every_reading_scenario_has_a_test() {
            let tested = [$(stringify!($name)),*];
            for r in readings() {
                assert!(tested.contains(&r.name), "{} has no test", r.name);
            }
            assert!(tested.len() >= 30, "at least 30 scenarios are read");
        }
    };
}

reading_tests!(
    read_environment_form_vs_branch_pattern,
    read_pull_request_form,
    read_tag_push,
    read_environment_expected_job_has_none,
    read_custom_template,
    read_immutable_subject_in_token,
    read_immutable_subject_in_policy,
    read_case_only_mismatch,
    read_audience_default_for_aws,
    read_audience_mismatch_azure,
    read_gcp_audience_project_id,
    read_gcp_passes,
    read_gcp_subject_too_long,
    read_issuer_enterprise_slug,
    read_issuer_ghe_com,
    read_issuer_ghes_where_github_expected,
    read_issuer_trailing_slash,
    read_untrusted_issuer,
    read_reusable_workflow_pypi,
    read_crates_io_workflow_renamed,
    read_crates_io_environment_missing,
    read_npm_trusted_publisher_passes,
    read_pypi_publisher_names_the_caller,
    read_pypi_publisher_custom_template,
    read_crates_io_publisher_environment,
    read_npm_publisher_case_only,
    read_pypi_publisher_matches,
    read_token_expired,
    read_token_expiring,
    read_token_not_yet_valid,
    read_aws_policy_allows,
    read_aws_policy_refuses,
    read_aws_claim_sts_does_not_pass,
    read_aws_deny_that_never_fires,
    read_azure_credential_allows,
    read_azure_credential_refuses,
    read_gcp_provider_allows,
    read_gcp_provider_refuses,
    read_vault_audience_unbound,
    read_vault_audience_mismatch,
    read_vault_environment_mismatch,
    read_vault_glob_passes,
    read_vault_user_claim_missing,
    read_vault_oidc_role,
    read_gcp_condition_case_only,
    read_gcp_condition_absent_claim,
    read_gcp_shared_issuer_no_condition,
    read_nothing_checked,
    read_prediction_for_deploy_job,
    read_fail_on_mismatch_false,
    read_verified_and_passing,
    read_signature_invalid,
    read_no_permission,
    read_fork_pull_request,
    read_token_endpoint_forbidden,
);
