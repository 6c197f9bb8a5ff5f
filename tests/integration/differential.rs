//! Differential tests: the project's evaluators (through the public `Policy` API only) against
//! the clean-room references in `reference/`, on generated trust documents and GitHub-like
//! claims. A disagreement fails the test unless it falls in a known, explained class
//! (`reference/README.md`, "Known disagreements"); the counts are printed either way.

use std::collections::BTreeMap;

use oidc_preflight::{Claims, Policy, PolicyFormat};
use serde_json::{json, Map, Value};

use crate::reference::aws::{self, Model};
use crate::reference::azure::{self, AzureModel};

/// Cases per evaluator.
const CASES: usize = 2000;
/// Fixed, so a failure reproduces; printed with every report.
const SEED: u64 = 0x5eed_0dc0_ffee_2026;

/// xorshift64*: small, deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const GITHUB_ISS: &str = "https://token.actions.githubusercontent.com";
const SLUG_ISS: &str = "https://token.actions.githubusercontent.com/octo-ent";

/// Claims not in STS's list ([OIDC] in reference/aws.rs): absent to IAM.
const UNEXPOSED: &[&str] = &[
    "repository_owner",
    "event_name",
    "ref_type",
    "workflow_ref",
    "runner_environment",
    "ref_protected",
];

/// A GitHub Actions token's claims, with the shapes that matter: environment or not, pull
/// request, branch or tag, owner/repository letter case, enterprise slug issuer, audience.
fn github_claims(rng: &mut Rng, audience: &str) -> Map<String, Value> {
    let owner = *rng.pick(&["octo-org", "Octo-Org", "acme"]);
    let repo = *rng.pick(&["octo-repo", "app", "Octo-Repo"]);
    let repository = format!("{owner}/{repo}");
    let (git_ref, ref_type) = match rng.below(4) {
        0 => ("refs/heads/main".to_string(), "branch"),
        1 => (
            format!("refs/heads/{}", rng.pick(&["dev", "feature/x", "Main"])),
            "branch",
        ),
        2 => ("refs/tags/v1.2.3".to_string(), "tag"),
        _ => ("refs/pull/7/merge".to_string(), "branch"),
    };
    let pull_request = git_ref.starts_with("refs/pull/");
    let environment =
        (!pull_request && rng.chance(40)).then(|| *rng.pick(&["prod", "staging", "Prod"]));
    let sub = match (environment, pull_request) {
        (Some(env), _) => format!("repo:{repository}:environment:{env}"),
        (None, true) => format!("repo:{repository}:pull_request"),
        (None, false) => format!("repo:{repository}:ref:{git_ref}"),
    };
    let iss = if rng.chance(10) { SLUG_ISS } else { GITHUB_ISS };
    let aud = if rng.chance(85) {
        audience.to_string()
    } else {
        rng.pick(&["sigstore", "https://github.com/octo-org"])
            .to_string()
    };
    let workflow_file = *rng.pick(&["deploy.yml", "ci.yml"]);
    let mut claims = json!({
        "iss": iss,
        "aud": aud,
        "sub": sub,
        "repository": repository,
        "repository_owner": owner,
        "repository_id": "123456",
        "repository_owner_id": "654321",
        "actor": "octocat",
        "actor_id": "42",
        "ref": git_ref,
        "ref_type": ref_type,
        "ref_protected": if rng.chance(50) { "true" } else { "false" },
        "workflow": "Deploy",
        "workflow_ref": format!("{repository}/.github/workflows/{workflow_file}@{git_ref}"),
        "job_workflow_ref": format!("{repository}/.github/workflows/{workflow_file}@{git_ref}"),
        "event_name": if pull_request { "pull_request" } else { "push" },
        "runner_environment": "github-hosted",
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    if let Some(env) = environment {
        claims.insert("environment".into(), json!(env));
    }
    if rng.chance(20) {
        claims.insert("enterprise_id".into(), json!("9"));
    }
    if rng.chance(10) {
        claims.remove("job_workflow_ref");
    }
    claims
}

fn flip_case(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// A value near `actual` (so conditions hold about half the time): exact, case-flipped, with
/// `*` or `?`, with a policy variable, or unrelated.
fn aws_value(rng: &mut Rng, prefix: &str, claim: &str, actual: Option<&str>) -> Value {
    let actual = actual.unwrap_or("repo:octo-org/octo-repo:ref:refs/heads/main");
    let cut = if actual.is_empty() {
        0
    } else {
        rng.below(actual.chars().count())
    };
    let head: String = actual.chars().take(cut).collect();
    let text = match rng.below(12) {
        0..=3 => actual.to_string(),
        4 => flip_case(actual),
        5 | 6 => format!("{head}*"),
        7 => {
            let mut chars: Vec<char> = actual.chars().collect();
            if !chars.is_empty() {
                chars[cut] = '?';
            }
            chars.into_iter().collect()
        }
        8 => match rng.below(6) {
            0 => format!("${{{prefix}:{claim}}}"),
            1 => format!("repo:${{{prefix}:repository}}:*"),
            2 => format!("${{{prefix}:environment, 'none'}}"),
            3 => format!("repo:${{{prefix}:repository_owner}}/*"),
            4 => format!("{head}${{*}}"),
            _ => format!("${{{}:Repository}}", prefix.to_uppercase()),
        },
        9 => "*".to_string(),
        _ => rng
            .pick(&[
                "repo:other/x:*",
                "nope",
                "refs/heads/main",
                "sts.amazonaws.com",
            ])
            .to_string(),
    };
    Value::String(text)
}

fn aws_key(rng: &mut Rng, prefix: &str) -> (String, String) {
    let claim = if rng.chance(70) {
        *rng.pick(&[aws::DEFAULT_KEYS, aws::GITHUB_KEYS, &["sub", "sub", "aud"]].concat())
    } else {
        *rng.pick(UNEXPOSED)
    };
    let key_prefix = if rng.chance(5) {
        rng.pick(&["example.com", "token.actions.githubusercontent.com"])
            .to_string()
    } else {
        prefix.to_string()
    };
    let mut key = format!("{key_prefix}:{claim}");
    if rng.chance(15) {
        key = if rng.chance(50) {
            key.to_uppercase()
        } else {
            key.replacen(
                "token.actions.githubusercontent.com",
                "Token.Actions.GitHubUserContent.com",
                1,
            )
        };
    }
    (key, claim.to_string())
}

fn aws_policy(rng: &mut Rng, claims: &Map<String, Value>) -> String {
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or(GITHUB_ISS);
    let prefix = iss.trim_start_matches("https://").to_string();
    let statements = (0..1 + rng.below(3))
        .map(|_| {
            let provider = if rng.chance(92) {
                prefix.clone()
            } else {
                rng.pick(&["example.com", "token.actions.githubusercontent.com"]).to_string()
            };
            let action: Value = match rng.below(10) {
                0 => json!("sts:*"),
                1 => json!("*"),
                2 => json!("STS:assumerolewithwebidentity"),
                3 => json!(["sts:AssumeRole", "sts:AssumeRoleWith*"]),
                4 => json!("sts:AssumeRole"),
                _ => json!("sts:AssumeRoleWithWebIdentity"),
            };
            let mut condition = Map::new();
            for _ in 0..rng.below(4) {
                let base = *rng.pick(&[
                    "StringEquals",
                    "StringEquals",
                    "StringNotEquals",
                    "StringEqualsIgnoreCase",
                    "StringNotEqualsIgnoreCase",
                    "StringLike",
                    "StringLike",
                    "StringNotLike",
                    "Null",
                    "Bool",
                ]);
                let mut operator = base.to_string();
                if rng.chance(2) {
                    // Not an IAM operator: IAM refuses to save such a policy.
                    operator = "StringMatches".to_string();
                } else if base != "Null" {
                    if rng.chance(20) {
                        operator.push_str("IfExists");
                    }
                    if rng.chance(15) {
                        operator = format!("{}{operator}", rng.pick(&["ForAnyValue:", "ForAllValues:"]));
                    }
                }
                let block = condition
                    .entry(operator)
                    .or_insert_with(|| Value::Object(Map::new()));
                for _ in 0..1 + rng.below(2) {
                    let (key, claim) = aws_key(rng, &prefix);
                    let actual = claims.get(&claim).and_then(Value::as_str);
                    let values: Vec<Value> = (0..1 + rng.below(2))
                        .map(|_| match base {
                            "Null" | "Bool" => {
                                let flag = rng.chance(50);
                                if rng.chance(50) { json!(flag) } else { json!(flag.to_string()) }
                            }
                            _ => aws_value(rng, &prefix, &claim, actual),
                        })
                        .collect();
                    let value = if values.len() == 1 { values[0].clone() } else { Value::Array(values) };
                    if let Some(map) = block.as_object_mut() {
                        map.insert(key, value);
                    }
                }
            }
            let effect = match rng.below(100) {
                0 => "allow",
                1..=75 => "Allow",
                _ => "Deny",
            };
            let mut statement = json!({
                "Effect": effect,
                "Principal": {"Federated": format!("arn:aws:iam::123456789012:oidc-provider/{provider}")},
                "Action": action,
            });
            if !condition.is_empty() {
                statement["Condition"] = Value::Object(condition);
            }
            statement
        })
        .collect::<Vec<_>>();
    let mut policy = json!({"Statement": statements});
    match rng.below(40) {
        0 => {}
        1 => policy["Version"] = json!("2008-10-17"),
        _ => policy["Version"] = json!("2012-10-17"),
    }
    policy.to_string()
}

fn project(text: &str, format: PolicyFormat, claims: &Map<String, Value>) -> Result<bool, String> {
    let policy = Policy::parse(text, Some(format)).map_err(|e| e.to_string())?;
    Ok(policy.evaluate(&Claims::from(claims.clone())).allowed)
}

/// One disagreement, kept for the report: the smallest text seen per class.
struct Example {
    count: usize,
    text: String,
    claims: String,
    reference: Result<bool, String>,
    project: Result<bool, String>,
}

fn record(
    classes: &mut BTreeMap<&'static str, Example>,
    class: &'static str,
    text: &str,
    claims: &Map<String, Value>,
    reference: &Result<bool, String>,
    project: &Result<bool, String>,
) {
    let example = classes.entry(class).or_insert_with(|| Example {
        count: 0,
        text: text.to_string(),
        claims: Value::Object(claims.clone()).to_string(),
        reference: reference.clone(),
        project: project.clone(),
    });
    example.count += 1;
    // DIFFERENTIAL_DUMP=FILE appends every disagreement as one JSON line, for study.
    if let Some(path) = std::env::var_os("DIFFERENTIAL_DUMP") {
        use std::io::Write;
        let line = json!({"class": class, "document": text, "claims": claims,
            "reference": format!("{reference:?}"), "project": format!("{project:?}")});
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(file, "{line}");
        }
    }
    if text.len() < example.text.len() {
        example.text = text.to_string();
        example.claims = Value::Object(claims.clone()).to_string();
        example.reference = reference.clone();
        example.project = project.clone();
    }
}

fn same(a: &Result<bool, String>, b: &Result<bool, String>) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) => x == y,
        (Err(_), Err(_)) => true,
        _ => false,
    }
}

/// How the reference answered over all cases, so a run where everything agrees because
/// everything refuses shows it.
#[derive(Default)]
struct Outcomes {
    allow: usize,
    refuse: usize,
    error: usize,
}

impl Outcomes {
    fn count(&mut self, reference: &Result<bool, String>) {
        match reference {
            Ok(true) => self.allow += 1,
            Ok(false) => self.refuse += 1,
            Err(_) => self.error += 1,
        }
    }
}

fn report(
    name: &str,
    agree: usize,
    outcomes: &Outcomes,
    classes: &BTreeMap<&'static str, Example>,
) -> Vec<String> {
    eprintln!(
        "differential {name}: {agree}/{CASES} agree (seed {SEED:#x}); the reference allows {}, refuses {}, rejects the document {}",
        outcomes.allow, outcomes.refuse, outcomes.error
    );
    let mut unexplained = Vec::new();
    for (class, example) in classes {
        // Every class but "-other" is a reading documented in reference/README.md.
        let explained = !class.ends_with("-other");
        let status = if explained { "known" } else { "UNEXPLAINED" };
        eprintln!(
            "  {status} {class}: {} case(s); smallest: reference {:?}, project {:?}\n    claims {}\n    document {}",
            example.count, example.reference, example.project, example.claims, example.text
        );
        if !explained {
            unexplained.push(class.to_string());
        }
    }
    unexplained
}

/// An alternative reading of the documents: its class name, and how it sets the model.
type Reading<M> = (&'static str, fn(&mut M));

/// The smallest set of `readings` under which `answer` (the reference under that model) is
/// the project's, named by its classes joined with `+`; `None` when no set explains it.
fn smallest_reading<M: Default>(
    readings: &[Reading<M>],
    project: &Result<bool, String>,
    answer: impl Fn(M) -> Result<bool, String>,
) -> Option<&'static str> {
    let mut subsets: Vec<u32> = (1..1u32 << readings.len()).collect();
    subsets.sort_by_key(|bits| bits.count_ones());
    for bits in subsets {
        let mut model = M::default();
        let mut names = Vec::new();
        for (i, (name, set)) in readings.iter().enumerate() {
            if bits & (1 << i) != 0 {
                set(&mut model);
                names.push(*name);
            }
        }
        if same(&answer(model), project) {
            // Class names live for the whole test run; there are a few dozen at most.
            return Some(Box::leak(names.join("+").into_boxed_str()));
        }
    }
    None
}

/// The known AWS disagreement classes (reference/README.md, "Known disagreements"), each a
/// reading of the documents under which the reference gives the project's answer.
const AWS_READINGS: &[Reading<Model>] = &[
    ("aws-unexposed-claim-evaluated-as-present", |m| {
        m.expose_all_claims = true
    }),
    ("aws-policy-variables-not-expanded", |m| {
        m.variables_as_text = true
    }),
    ("aws-bool-not-evaluated", |m| m.bool_holds = true),
];

fn classify_aws(
    text: &str,
    prefix: &str,
    claims: &Map<String, Value>,
    project: &Result<bool, String>,
) -> &'static str {
    smallest_reading(AWS_READINGS, project, |model| {
        aws::aws_allows_with(text, prefix, claims, model)
    })
    .unwrap_or("aws-other")
}

#[test]
fn aws_trust_policies_agree_with_the_reference() {
    let mut rng = Rng(SEED);
    let mut agree = 0;
    let mut outcomes = Outcomes::default();
    let mut classes = BTreeMap::new();
    for _ in 0..CASES {
        let claims = github_claims(&mut rng, "sts.amazonaws.com");
        let text = aws_policy(&mut rng, &claims);
        let prefix = claims
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim_start_matches("https://")
            .to_string();
        let reference = aws::aws_allows(&text, &prefix, &claims);
        let project = project(&text, PolicyFormat::Aws, &claims);
        outcomes.count(&reference);
        if same(&reference, &project) {
            agree += 1;
            continue;
        }
        let class = classify_aws(&text, &prefix, &claims, &project);
        record(&mut classes, class, &text, &claims, &reference, &project);
    }
    let unexplained = report("aws", agree, &outcomes, &classes);
    assert!(
        unexplained.is_empty(),
        "unexplained AWS disagreements: {unexplained:?}"
    );
}

const AZURE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// A comparand near the claim's value: exact, with `*` or `?`, case-flipped, with a doubled
/// quote, or unrelated.
fn azure_comparand(rng: &mut Rng, actual: Option<&str>, noisy: bool) -> String {
    let actual = actual.unwrap_or("repo:octo-org/octo-repo:ref:refs/heads/main");
    let cut = rng.below(actual.chars().count().max(1));
    let head: String = actual.chars().take(cut).collect();
    let text = match rng.below(20) {
        0..=5 => actual.to_string(),
        6..=9 => format!("{head}*"),
        10 | 11 => {
            let mut chars: Vec<char> = actual.chars().collect();
            if let Some(c) = chars.get_mut(cut) {
                *c = '?';
            }
            chars.into_iter().collect()
        }
        12 | 13 => flip_case(actual),
        14 | 15 => format!("*{}", actual.chars().skip(cut).collect::<String>()),
        16 if noisy => "it''s".to_string(),
        _ => rng
            .pick(&[
                "repo:other/x:*",
                "*",
                "",
                "octo-org/octo-repo/.github/workflows/*@*",
            ])
            .to_string(),
    };
    text
}

/// A `claimsMatchingExpression.value`: mostly the documented grammar, sometimes not (other
/// claims, operators, spacing, letter case, parentheses, `or`, double quotes).
fn azure_expression(rng: &mut Rng, claims: &Map<String, Value>, noisy: bool) -> String {
    let mut terms = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let claim = if noisy && rng.chance(8) {
            *rng.pick(&["repository", "Sub", "environment"])
        } else {
            *rng.pick(&["sub", "sub", "job_workflow_ref"])
        };
        let op = match rng.below(25) {
            0 if noisy => *rng.pick(&["like", "Matches", "==", "ne", "EQ"]),
            1..=10 => "matches",
            _ => "eq",
        };
        let comparand = azure_comparand(rng, claims.get(claim).and_then(Value::as_str), noisy);
        let lookup = if noisy && rng.chance(2) {
            format!("claims[\"{claim}\"]")
        } else {
            format!("claims['{claim}']")
        };
        let spacing = if noisy && rng.chance(2) { "  " } else { " " };
        let term = format!("{lookup}{spacing}{op} '{comparand}'");
        terms.push(if noisy && rng.chance(3) {
            format!("({term})")
        } else {
            term
        });
    }
    let mut text = terms[0].clone();
    for term in &terms[1..] {
        let join = match rng.below(30) {
            0 if noisy => " or ",
            1 if noisy => "  and ",
            2 if noisy => " AND ",
            3 if noisy => " && ",
            _ => " and ",
        };
        text = format!("{text}{join}{term}");
    }
    match rng.below(40) {
        0 if noisy => format!("({text})"),
        1 if noisy => format!(" {text}"),
        2 if noisy => format!("{text} "),
        _ => text,
    }
}

fn azure_document(rng: &mut Rng, claims: &Map<String, Value>) -> String {
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or(GITHUB_ISS);
    // Most documents are what Entra accepts; the rest carry the undocumented forms.
    let noisy = rng.chance(35);
    let credentials: Vec<Value> = (0..1 + rng.below(2))
        .map(|n| {
            let issuer = if !noisy || rng.chance(80) {
                iss.to_string()
            } else {
                rng.pick(&[GITHUB_ISS, "https://token.actions.githubusercontent.com/", "https://gitlab.com"]).to_string()
            };
            let audiences = match rng.below(30) {
                0 if noisy => json!([]),
                1 if noisy => json!([AZURE_AUDIENCE, "api://other"]),
                2 => json!(["api://azureadtokenexchange"]),
                _ => json!([AZURE_AUDIENCE]),
            };
            let mut credential = json!({"name": format!("credential-{n}"), "issuer": issuer, "audiences": audiences});
            if rng.chance(30) {
                let sub = claims.get("sub").and_then(Value::as_str);
                credential["subject"] = json!(azure_comparand(rng, sub, noisy).replace("''", "'"));
            } else {
                credential["claimsMatchingExpression"] = json!({
                    "value": azure_expression(rng, claims, noisy),
                    "languageVersion": if noisy && rng.chance(5) { 2 } else { 1 },
                });
            }
            credential
        })
        .collect();
    if credentials.len() == 1 && rng.chance(50) {
        credentials[0].to_string()
    } else {
        Value::Array(credentials).to_string()
    }
}

/// The known Azure disagreement classes (reference/README.md, "Known disagreements").
const AZURE_READINGS: &[Reading<AzureModel>] = &[
    ("azure-loose-spacing", |m| m.loose_spacing = true),
    ("azure-any-case-keywords", |m| m.any_case_keywords = true),
    ("azure-parentheses", |m| m.parentheses = true),
    ("azure-any-issuer", |m| m.any_issuer = true),
    ("azure-any-audience-count", |m| m.any_audience_count = true),
    ("azure-no-quote-escape", |m| m.no_quote_escape = true),
];

fn classify_azure(
    text: &str,
    claims: &Map<String, Value>,
    project: &Result<bool, String>,
) -> &'static str {
    smallest_reading(AZURE_READINGS, project, |model| {
        azure::azure_document_allows_with(text, claims, model)
    })
    .unwrap_or("azure-other")
}

#[test]
fn azure_credentials_agree_with_the_reference() {
    let mut rng = Rng(SEED ^ 0xa2);
    let mut agree = 0;
    let mut outcomes = Outcomes::default();
    let mut classes = BTreeMap::new();
    for _ in 0..CASES {
        let mut claims = github_claims(&mut rng, AZURE_AUDIENCE);
        if claims.get("aud").and_then(Value::as_str) == Some("sigstore") && rng.chance(30) {
            claims.insert("aud".into(), json!([AZURE_AUDIENCE, "sigstore"]));
        }
        let text = azure_document(&mut rng, &claims);
        let reference = azure::azure_document_allows(&text, &claims);
        let project = project(&text, PolicyFormat::Azure, &claims);
        outcomes.count(&reference);
        if same(&reference, &project) {
            agree += 1;
            continue;
        }
        let class = classify_azure(&text, &claims, &project);
        record(&mut classes, class, &text, &claims, &reference, &project);
    }
    let unexplained = report("azure", agree, &outcomes, &classes);
    assert!(
        unexplained.is_empty(),
        "unexplained Azure disagreements: {unexplained:?}"
    );
}

#[test]
fn every_known_class_is_explained_in_the_readme() {
    let readme = include_str!("reference/README.md");
    for (class, _) in AWS_READINGS {
        assert!(
            readme.contains(&format!("`{class}`")),
            "{class} is not in reference/README.md"
        );
    }
    for (class, _) in AZURE_READINGS {
        assert!(
            readme.contains(&format!("`{class}`")),
            "{class} is not in reference/README.md"
        );
    }
}
