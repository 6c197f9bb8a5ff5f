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
use oidc_preflight::{report, summary};
use serde_json::{json, Value};

use crate::common::outside_code_fences;
use crate::provider::Job;

const IAT: i64 = 1_800_000_000;

/// A GitHub claim set for `job` with fixed times and the given audience.
fn claims(job: &Job, aud: &str) -> Claims {
    let mut map = job.claims();
    map.insert("aud".into(), json!(aud));
    map.insert("iat".into(), json!(IAT));
    map.insert("nbf".into(), json!(IAT - 5));
    map.insert("exp".into(), json!(IAT + 300));
    Claims(map)
}

fn with(mut c: Claims, name: &str, value: Value) -> Claims {
    c.0.insert(name.into(), value);
    c
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
            fixes: &[("subject-form-environment", "allow `repo:octo-org/octo-repo:environment:prod`")],
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
            fixes: &[("subject-form-branch", "give this job `environment:`")],
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

fn text_report(a: &Analysis, e: &Expectations) -> String {
    let mut buf = Vec::new();
    report::write_report(&mut buf, a, e, IAT + 10).unwrap();
    String::from_utf8(buf).unwrap()
}

fn summary_of(a: &Analysis) -> String {
    let mut buf = Vec::new();
    summary::write_summary(&mut buf, a).unwrap();
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
    insta::assert_snapshot!("environment_form_report", text_report(&a, &e));
    insta::assert_snapshot!("environment_form_summary", summary_of(&a));
}

#[test]
fn snapshot_case_only_report() {
    let c = claims(&Job::default(), "sts.amazonaws.com");
    let e = expect(&["repo:Octo-Org/octo-repo:*"]);
    insta::assert_snapshot!("case_only_report", text_report(&run(&c, &e), &e));
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
    // Every table row still has exactly three unescaped pipes.
    for row in summary.lines().filter(|l| l.starts_with("| <code>")) {
        assert_eq!(row.matches('|').count(), 3, "{row}");
    }
    insta::assert_snapshot!("hostile_summary", summary);
}
