//! Trust wider than it looks, found by asking each document about tokens no job of the
//! repository should be able to use it with: the same job's token for a branch or an
//! environment nobody named, from another owner's repository, from an owner whose name only
//! starts like this one's. Each finding names the job and trigger whose token the document
//! accepts (the legitimate use), and the probe it also accepts.
//!
//! Why each probe matters: GitHub docs, "About security hardening with OpenID Connect"
//! (<https://docs.github.com/en/actions/concepts/security/openid-connect>: condition on the
//! repository and the environment or ref, never on the audience alone); AWS IAM User Guide,
//! "Configuring a role for GitHub OIDC identity provider" (a `sub` condition is required,
//! `StringLike` wildcards); the `ForAllValues` trap (IAM User Guide, "Multivalued context
//! keys": true over an absent key); GCP, "Configure workload identity federation with
//! deployment pipelines" (a condition on the owner for GitHub's shared issuer); Azure
//! "Flexible federated identity credentials" (`matches` wildcards).

use std::collections::HashSet;

use crate::findings::{FindingId, PolicyReasonId, Severity};
use crate::policy::PolicyFormat;
use crate::predict::{self, JobFacts};
use crate::subject::Context;

use super::{located, triggers, with_audience, Document, Evaluations, Located, Report, Row};

/// The environment name a probe uses: nobody has one called this.
const ANY_ENVIRONMENT: &str = "audit-probe-any-environment";

/// The owner of the "another repository" probe.
const OTHER_OWNER: &str = "audit-probe-elsewhere";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Class {
    PullRequest,
    AnyBranch,
    AnyEnvironment,
    AnyRepository,
    OwnerPrefix,
    ForAllValues,
    GcpAnyOwner,
    AzureWildcard,
}

/// The dangerous-trust findings, at most one per document and class.
pub(super) fn findings(
    report: &Report,
    documents: &[Document],
    evaluations: &Evaluations<'_>,
) -> Vec<Located> {
    let mut fired: HashSet<(usize, Class)> = HashSet::new();
    let mut out = Vec::new();
    for row in &report.rows {
        for (d, document) in documents.iter().enumerate() {
            let cell = &row.cells[d].report;
            if !cell.allowed {
                continue;
            }
            let fire = |fired: &mut HashSet<(usize, Class)>,
                        class: Class,
                        probe: String,
                        out: &mut Vec<Located>| {
                if fired.insert((d, class)) {
                    out.push(finding(report, row, document, class, &probe));
                }
            };
            if row.run.event == "pull_request" && row.environment.is_none() {
                fire(&mut fired, Class::PullRequest, String::new(), &mut out);
            }
            if cell
                .warnings
                .iter()
                .any(|w| w.id == PolicyReasonId::AwsForallvaluesAbsentKey)
            {
                fire(
                    &mut fired,
                    Class::ForAllValues,
                    "a token without the key the `ForAllValues` condition names".into(),
                    &mut out,
                );
            }
            let azure_expression = |r: &crate::policy::PolicyReport| {
                document.policy.format() == PolicyFormat::Azure
                    && r.reasons
                        .iter()
                        .any(|x| x.id == PolicyReasonId::AzureExpressionMatched)
            };
            let context = row.facts.context();
            let probes: Vec<(Class, JobFacts, String)> = probes(row, &context);
            for (class, facts, described) in probes {
                let class = match class {
                    Class::AnyRepository if document.policy.format() == PolicyFormat::Gcp => {
                        Class::GcpAnyOwner
                    }
                    c => c,
                };
                if fired.contains(&(d, class))
                    || (class == Class::OwnerPrefix
                        && (fired.contains(&(d, Class::AnyRepository))
                            || fired.contains(&(d, Class::GcpAnyOwner))))
                {
                    continue;
                }
                let Ok(claims) = predict::predict(&facts) else {
                    continue;
                };
                let aud = row.facts.audience.as_deref().unwrap_or(&document.audience);
                let verdict = evaluations.evaluate(d, &with_audience(&claims, aud));
                if verdict.allowed {
                    let class = if azure_expression(&verdict) {
                        Class::AzureWildcard
                    } else {
                        class
                    };
                    let sub = claims.subject().unwrap_or_default().to_owned();
                    fire(
                        &mut fired,
                        class,
                        format!("{described} (`sub` `{sub}`)"),
                        &mut out,
                    );
                }
            }
        }
    }
    out
}

fn probes(row: &Row, context: &Context) -> Vec<(Class, JobFacts, String)> {
    let mut out = Vec::new();
    let facts = &row.facts;
    // A branch or environment nobody named, and the named one with a suffix (a trailing
    // wildcard such as `main*` admits `main-anything`).
    match context {
        Context::Branch(b) if !row.run.unnamed => {
            for branch in [triggers::ANY_BRANCH.to_owned(), format!("{b}-audit-probe")] {
                let mut f = facts.clone();
                f.git_ref = format!("refs/heads/{branch}");
                out.push((
                    Class::AnyBranch,
                    f,
                    format!("the same job's token for branch `{branch}`"),
                ));
            }
        }
        Context::Environment(e) => {
            for env in [ANY_ENVIRONMENT.to_owned(), format!("{e}-audit-probe")] {
                let mut f = facts.clone();
                f.environment = Some(env.clone());
                out.push((
                    Class::AnyEnvironment,
                    f,
                    format!("the same job's token for environment `{env}`"),
                ));
            }
        }
        _ => {}
    }
    let (owner, repo) = facts
        .repository
        .split_once('/')
        .unwrap_or((&facts.repository, ""));
    let other_ids = facts
        .ids
        .as_ref()
        .map(|_| ("999999001".to_owned(), "999999002".to_owned()));
    let mut f = facts.clone();
    f.repository = format!("{OTHER_OWNER}/{repo}");
    f.ids = other_ids.clone();
    out.push((
        Class::AnyRepository,
        f,
        format!("a token from `{OTHER_OWNER}/{repo}`, another owner's repository"),
    ));
    let mut f = facts.clone();
    f.repository = format!("{owner}-evil/{repo}");
    f.ids = other_ids;
    out.push((
        Class::OwnerPrefix,
        f,
        format!("a token from `{owner}-evil/{repo}`, an owner whose name starts with `{owner}`"),
    ));
    out
}

fn finding(report: &Report, row: &Row, document: &Document, class: Class, probe: &str) -> Located {
    let job = &report.jobs[row.job].job;
    let (id, title, what, hint) = match class {
        Class::PullRequest => (
            FindingId::AuditTrustPullRequest,
            "Trust accepts pull requests",
            "accepts pull_request tokens: any branch of the repository with a pull request open, whoever pushed it, can use it",
            "require the environment form (`repo:OWNER/REPO:environment:NAME`, with required reviewers on the environment) or one branch (`ref:refs/heads/main`); if pull request checks need it, give them a separate read-only role",
        ),
        Class::AnyBranch => (
            FindingId::AuditTrustAnyBranch,
            "Trust accepts any branch",
            "accepts a branch nobody named, so anyone who can push a branch can use it",
            "name the branch exactly (`repo:OWNER/REPO:ref:refs/heads/main`), or require an environment with protection rules",
        ),
        Class::AnyEnvironment => (
            FindingId::AuditTrustAnyEnvironment,
            "Trust accepts any environment",
            "accepts an environment nobody named; an environment without protection rules can be created by anyone with write access",
            "name the environment exactly (`repo:OWNER/REPO:environment:prod`)",
        ),
        Class::AnyRepository => (
            FindingId::AuditTrustAnyRepository,
            "Trust accepts any repository",
            "accepts a token from another owner's repository: nothing in it pins the repository or the owner (an audience-only condition, or a `sub` pattern that starts with a wildcard)",
            "add a condition on `sub` naming this repository (`repo:OWNER/REPO:...`), or on `repository` / `repository_owner_id`",
        ),
        Class::OwnerPrefix => (
            FindingId::AuditTrustOwnerPrefix,
            "Trust matches other owners",
            "accepts a token from an owner whose name only starts like this one's (`repo:octo-org*` matches `repo:octo-org-evil/...`)",
            "end the owner with `/` in the pattern (`repo:OWNER/REPO:...`), or pin `repository_owner_id`",
        ),
        Class::ForAllValues => (
            FindingId::AuditTrustForallvalues,
            "ForAllValues over an absent key",
            "has a `ForAllValues` condition on a key the token lacks, which is true for any token without it",
            "use `StringEquals`/`StringLike` on the key (or `ForAnyValue`), and a `Null` condition set to false for the key",
        ),
        Class::GcpAnyOwner => (
            FindingId::AuditTrustGcpAnyOwner,
            "GCP provider without an owner condition",
            "is a provider on GitHub's shared issuer whose condition does not pin the owner, so workflows of any owner on github.com can use it",
            "add `assertion.repository_owner_id == 'ID'` (or `repository_owner`) to the attribute condition",
        ),
        Class::AzureWildcard => (
            FindingId::AuditTrustAzureWildcard,
            "Azure flexible credential wider than it looks",
            "is a flexible credential whose `matches` wildcard admits more than its pattern suggests (`*` crosses `/` and `:`)",
            "narrow the expression: a pattern per branch or environment, with `repo:OWNER/REPO:` written out",
        ),
    };
    let trigger = format!(
        "{} {}{}",
        row.run.event,
        row.run.git_ref,
        row.environment
            .as_ref()
            .map(|e| format!(" (environment {e})"))
            .unwrap_or_default()
    );
    located(
        id,
        Severity::Error,
        title,
        format!(
            "`{}` ({}) {what}: it accepts job `{}` on {trigger}{}",
            document.path,
            document.policy.format(),
            job.name(),
            if probe.is_empty() {
                String::new()
            } else {
                format!(" and also {probe}")
            }
        ),
        hint,
        Some(&document.path),
        None,
    )
}
