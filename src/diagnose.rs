//! The analysis: checks the claims against what the user expects and explains every mismatch
//! as a [`Finding`]. Pure: the clock and the expectations are passed in.

use std::path::PathBuf;

use serde_json::Value;

use crate::claims::Claims;
use crate::consumer::trusted_publishing::workflow_file;
use crate::consumer::{aws, gcp, gcp_audience_problem, Consumer};
use crate::findings::{Finding, FindingId, Severity};
use crate::pattern::{string_like, string_like_ignoring_case};
use crate::snippets::{self, Snippets};
use crate::subject::{self, classify, Context, RepoPart, SubjectForm};
use crate::times::{self, TimeFact, LEEWAY};
use crate::verify::{Verified, VerifyError};

pub use crate::plan::{
    parse_claim_expectations, BadClaimExpectation, ClaimExpectation, Expectations, Surface,
};

/// When the analysis runs.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Now, in seconds since the epoch.
    pub now: i64,
    /// The token was just issued (the action), so `iat` should be about now.
    pub fresh: bool,
}

/// The analysis of one token.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The claims checked: the token's, or the predicted ones with `job-environment`.
    pub claims: Claims,
    /// The environment the claims were predicted for, if any.
    pub predicted_for: Option<String>,
    /// The form of the checked `sub`.
    pub subject_form: SubjectForm,
    /// Every finding, errors first.
    pub findings: Vec<Finding>,
    /// Patterns that match the checked `sub`, narrowest first.
    pub suggestions: Vec<String>,
    /// Ready-to-paste policy snippets.
    pub snippets: Snippets,
    /// The signature check's result in words, when it ran.
    pub signature: Option<String>,
    /// The trust policy documents' verdicts, when any were given.
    pub policies: Vec<crate::policy::PolicyOutcome>,
    /// Whether the user asked for any check (see [`Expectations::requests_a_check`]; a trust
    /// policy counts too). Without one, a clean run has proved nothing.
    pub checks_requested: bool,
    /// The signature verified with the issuer's keys (false when not checked).
    pub signature_valid: bool,
    /// The subject patterns' result, when patterns were given: checked once, here.
    pub subject_check: Option<SubjectCheck>,
    /// Each expected claim and whether it held, in the order given.
    pub claim_checks: Vec<ClaimCheck>,
    /// Set by [`Analysis::report_failures_as_warnings`]: the verdict from before the
    /// severities were lowered, so the checks still count as failed.
    pub(crate) settled: Option<Verdict>,
}

/// The subject patterns against the checked `sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectCheck {
    /// The first pattern that matched, if one did.
    pub matched: Option<String>,
    /// Every pattern, as given.
    pub patterns: Vec<String>,
}

/// One expected claim (`name=pattern`) and whether the checked claims hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimCheck {
    /// The claim.
    pub name: String,
    /// The pattern expected.
    pub pattern: String,
    /// Whether a value of the claim matches it.
    pub held: bool,
}

/// The outcome of a run: the one source for the log's and the summary's verdict line, the
/// `matched` output, the JSON report and the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every requested check held.
    Passed,
    /// A check failed (an error finding).
    Failed,
    /// No error, but no check was requested either: the claims were only printed. Not a
    /// pass, so that `matched == 'true'` cannot gate a deploy on a run that checked nothing.
    NothingChecked,
}

impl Verdict {
    /// The `matched` output and the JSON report's `passed`: true only for a real pass.
    pub fn matched(self) -> bool {
        self == Verdict::Passed
    }

    /// Whether the step fails (with `fail-on-mismatch`): only for a failed check. Printing
    /// the claims is what a run without checks is for, so it exits 0.
    pub fn failed(self) -> bool {
        self == Verdict::Failed
    }

    /// The JSON report's `verdict`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::NothingChecked => "nothing-checked",
        }
    }
}

impl Analysis {
    /// Adds a finding from a check that ran outside [`analyze`] (the signature), keeping the
    /// errors-first order.
    pub fn add(&mut self, finding: Finding) {
        // A token from an issuer nobody trusts may say anything: patterns and policy snippets
        // built from its claims would teach a trust policy to accept whoever minted it.
        // The issuer notices ("register `iss` as the OIDC provider") go too.
        if finding.id == FindingId::IssuerUntrusted {
            self.suggestions.clear();
            self.snippets = Snippets::default();
            self.findings.retain(|f| {
                !matches!(
                    f.id,
                    FindingId::IssuerEnterpriseSlug
                        | FindingId::IssuerGheCom
                        | FindingId::IssuerGhes
                )
            });
        }
        self.findings.push(finding);
        self.findings.sort_by_key(|f| f.severity);
    }

    /// Records the signature check once, for every sink: its line, whether it verified, and
    /// its finding (the action and `check` differ only in the hint's wording).
    pub fn record_signature(&mut self, result: &Result<Verified, VerifyError>, surface: Surface) {
        self.signature = Some(describe_signature(result));
        self.signature_valid = result.is_ok();
        if let Some(finding) = signature_finding(result, &self.findings, surface) {
            self.add(finding);
        }
    }

    /// The verdict: failed on any error finding, else passed if a check was requested.
    pub fn verdict(&self) -> Verdict {
        if let Some(verdict) = self.settled {
            return verdict;
        }
        if crate::findings::any_error(&self.findings) {
            Verdict::Failed
        } else if self.checks_requested {
            Verdict::Passed
        } else {
            Verdict::NothingChecked
        }
    }

    /// `fail-on-mismatch: false`, applied once before any sink runs: every error finding
    /// becomes a warning, so the log, the summary, the annotations, the `findings` output and
    /// the JSON agree on severities, while the verdict keeps saying that the checks failed
    /// (`matched` stays `false`); only the step's exit status changes. Call it last: findings
    /// added afterwards keep their severity.
    pub fn report_failures_as_warnings(&mut self) {
        self.settled = Some(self.verdict());
        for finding in &mut self.findings {
            if finding.severity == Severity::Error {
                finding.severity = Severity::Warning;
            }
        }
    }

    /// True when checks were requested and every one passed: [`Verdict::matched`].
    pub fn passed(&self) -> bool {
        self.verdict().matched()
    }

    /// The verdict in words, for the log and the summary.
    pub fn verdict_text(&self) -> String {
        match self.verdict() {
            Verdict::Passed => "passed".to_owned(),
            Verdict::Failed => "FAILED".to_owned(),
            Verdict::NothingChecked => format!(
                "claims printed; nothing was checked ({})",
                if self.signature_valid {
                    "the signature verified"
                } else {
                    "the signature was not verified"
                }
            ),
        }
    }

    /// The suggested pattern output: a wildcard variant in the user's style, else the exact sub.
    pub fn suggested_pattern(&self) -> Option<&str> {
        self.suggestions.last().map(String::as_str)
    }
}

/// Analyzes `claims` against `expect`.
pub fn analyze(claims: &Claims, expect: &Expectations, clock: Clock) -> Analysis {
    let mut findings = Vec::new();
    let (claims, predicted_for) = match &expect.job_environment {
        Some(env) => match predict(claims, env) {
            Some(predicted) => {
                findings.push(prediction_notice(claims, &predicted, env));
                (predicted, Some(env.clone()))
            }
            None => {
                findings.push(Finding::new(
                    FindingId::PredictionUnavailable,
                    Severity::Warning,
                    "Cannot predict the deploy job's subject",
                    format!("the subject `{}` is in a form GitHub does not issue, so the subject for environment `{env}` cannot be derived from it", claims.subject().unwrap_or_default()),
                    "check this token's own subject instead: remove `job-environment`",
                ));
                (claims.clone(), None)
            }
        },
        None => (claims.clone(), None),
    };
    let sub = claims.subject().unwrap_or_default().to_owned();
    let subject_form = classify(&sub);
    check_subject(&claims, &sub, &subject_form, expect, &mut findings);
    check_claims(&claims, expect, &mut findings);
    check_audience(&claims, expect, &mut findings);
    check_issuer(&claims, expect, &mut findings);
    check_workflows(&claims, expect, &mut findings);
    if let Some(publisher) = &expect.trusted_publisher {
        // The registry's own rules against the publisher as the user entered it.
        findings.extend(publisher.check(&claims));
    }
    check_time(&claims, clock, &mut findings);
    findings.extend(gcp::subject_length(
        &sub,
        expect.consumer == Some(Consumer::Gcp),
    ));
    let suggestions = if sub.is_empty() {
        Vec::new()
    } else {
        subject::suggest_patterns(&sub, expect.subject_patterns.patterns())
    };
    let snippets = snippets::build(&claims, suggestions.last().map(String::as_str), expect);
    findings.sort_by_key(|f| f.severity);
    let subject_check = claims
        .subject()
        .filter(|_| !expect.subject_patterns.is_empty())
        .map(|sub| SubjectCheck {
            matched: expect.subject_patterns.first_match(sub).map(str::to_owned),
            patterns: expect.subject_patterns.patterns().to_vec(),
        });
    let claim_checks = expect
        .claims
        .iter()
        .map(|e| ClaimCheck {
            name: e.name.clone(),
            pattern: e.pattern.clone(),
            held: claim_holds(&claims, e),
        })
        .collect();
    Analysis {
        claims,
        predicted_for,
        subject_form,
        findings,
        suggestions,
        snippets,
        signature: None,
        policies: Vec::new(),
        checks_requested: expect.requests_a_check(),
        subject_check,
        claim_checks,
        settled: None,
        signature_valid: false,
    }
}

/// The claims a job with environment `env` would receive: `sub` re-derived, `environment` set.
pub fn predict(claims: &Claims, env: &str) -> Option<Claims> {
    let sub = subject::predict_with_environment(claims.subject()?, env)?;
    let mut predicted = claims.clone();
    predicted.0.insert("sub".into(), Value::String(sub));
    predicted
        .0
        .insert("environment".into(), Value::String(env.to_owned()));
    Some(predicted)
}

fn prediction_notice(actual: &Claims, predicted: &Claims, env: &str) -> Finding {
    Finding::new(
        FindingId::Prediction,
        Severity::Notice,
        "Checks run on a predicted token",
        format!(
            "this is a prediction: a job with `environment: {env}` will receive sub `{}` (this job's token has `{}`); the subject and claim checks apply to the prediction",
            predicted.subject().unwrap_or_default(),
            actual.subject().unwrap_or_default()
        ),
        "run oidc-preflight inside the deploy job itself to check its real token",
    )
}

/// Why GitHub chose this form, from the other claims.
/// Why GitHub issued this token's `sub` in its form, for a trust document's refusal that
/// quotes it: the same account a subject pattern gets, however the expectation arrived.
pub fn subject_origin(claims: &Claims, form: &SubjectForm) -> Option<String> {
    claims.subject().filter(|s| !s.is_empty())?;
    if matches!(form, SubjectForm::Unrecognized) {
        return None;
    }
    Some(why_form(form, claims))
}

fn why_form(form: &SubjectForm, claims: &Claims) -> String {
    let env = claims.str("environment");
    let event = claims.str("event_name").unwrap_or("unknown");
    match form.context() {
        _ if matches!(form, SubjectForm::Custom { .. }) => format!(
            "a customized subject template is in force for this repository or organization (keys: {})",
            match form {
                SubjectForm::Custom { pairs, .. } => pairs.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(", "),
                _ => String::new(),
            }
        ),
        Some(Context::Environment(name)) => format!(
            "the job declares environment `{}`, so GitHub issued the environment form, which takes precedence over the pull_request and ref forms",
            env.unwrap_or(name)
        ),
        Some(Context::PullRequest) => format!(
            "the event is `{event}` and the job declares no environment, so GitHub issued the pull_request form, which takes precedence over the ref form"
        ),
        Some(Context::Tag(tag)) => format!(
            "the workflow runs for the tag `{tag}` (event `{event}`, no environment), so GitHub issued the tag ref form; a pattern pinning a branch never matches a tag push"
        ),
        Some(Context::Branch(branch)) => format!(
            "the workflow runs on branch `{branch}` (event `{event}`) and the job declares no environment, so GitHub issued the branch ref form"
        ),
        Some(Context::OtherRef(r)) => format!("the workflow runs for ref `{r}` (event `{event}`) with no environment, so GitHub issued the ref form"),
        None => "GitHub did not issue a recognizable subject form".to_owned(),
    }
}

fn check_subject(
    claims: &Claims,
    sub: &str,
    form: &SubjectForm,
    expect: &Expectations,
    findings: &mut Vec<Finding>,
) {
    let patterns = expect.subject_patterns.patterns();
    if patterns.is_empty() {
        explain_form(claims, sub, form, patterns, findings);
        return;
    }
    if claims.subject().is_none() {
        findings.push(Finding::new(
            FindingId::SubjectAbsent,
            Severity::Error,
            "No sub claim",
            "the token has no `sub` claim, so no subject pattern can match",
            "GitHub always issues `sub`: check that the token comes from GitHub Actions",
        ));
        return;
    }
    if expect.subject_patterns.matches(sub) {
        return;
    }
    let before = findings.len();
    explain_case(sub, patterns, findings);
    explain_immutable(form, patterns, findings);
    explain_form(claims, sub, form, patterns, findings);
    if findings.len() == before {
        findings.push(Finding::new(
            FindingId::SubjectMismatch,
            Severity::Error,
            "OIDC subject mismatch",
            format!("sub `{sub}` matches none of the subject patterns: {}", list(patterns)),
            format!("compare the patterns with `{sub}` for a typo, or run the job so that it gets the subject a pattern names; adding `{sub}` as another pattern widens who can assume the role"),
        ));
    }
}

fn explain_case(sub: &str, patterns: &[String], findings: &mut Vec<Finding>) {
    if let Some((pattern, (theirs, ours))) = patterns
        .iter()
        .find_map(|p| subject::case_only_difference(p, sub).map(|d| (p, d)))
    {
        findings.push(Finding::new(
            FindingId::CaseOnlyMismatch,
            Severity::Error,
            "Subject differs only by case",
            format!(
                "pattern `{pattern}` matches sub `{sub}` only if case is ignored: `{theirs}` in the pattern, `{ours}` in the token; GitHub ignores case in owner and repository names, but AWS, Azure (AADSTS7002138) and GCP compare case-sensitively"
            ),
            format!("write `{ours}` exactly as the token has it"),
        ));
    }
}

fn explain_immutable(form: &SubjectForm, patterns: &[String], findings: &mut Vec<Finding>) {
    let Some(repo) = form.repo() else { return };
    for pattern in patterns {
        let Some(prepo) = subject::repo_part(pattern) else {
            continue;
        };
        let prepo = &prepo;
        if prepo.ids.is_some() == repo.ids.is_some() {
            continue;
        }
        // The ids come from whichever side has them; the pattern keeps its own context
        // (wildcards included), so both forms below accept the same jobs.
        let Some((owner_id, repo_id)) = repo.ids.clone().or_else(|| prepo.ids.clone()) else {
            continue;
        };
        let with = |ids: Option<(String, String)>| {
            let part = RepoPart {
                ids,
                ..prepo.clone()
            };
            pattern.replacen(&prepo.render(), &part.render(), 1)
        };
        let name_form = with(None);
        let id_form = with(Some((owner_id.clone(), repo_id.clone())));
        let migration = format!(
            "to accept both forms during a migration: AWS `StringLike` with both values `[\"{name_form}\", \"{id_form}\"]` (IAM has no braces); Azure one federated credential per form; GCP a condition on `assertion.repository_id == '{repo_id}'`, which both forms carry"
        );
        let (message, hint) = if repo.ids.is_some() {
            (
                format!(
                    "the token uses the immutable subject form `{}` (repositories created, renamed or transferred since 2026-07-15, or opted in), but pattern `{pattern}` uses `{}/{}`",
                    repo.render(), prepo.owner, prepo.repo
                ),
                format!("write the pattern in the form the token uses, `{id_form}`; {migration}"),
            )
        } else {
            (
                format!(
                    "pattern `{pattern}` uses the immutable form `{}`, but the token has `{}`: this repository has not opted in to immutable subjects (tools that write credentials in the immutable form, such as some portals, assume it has)",
                    prepo.render(), repo.render()
                ),
                format!(
                    "write the pattern in the form the token uses, `{name_form}`, or opt the repository in (its OIDC subject setting `use_immutable_subject`, shown by `GET /repos/OWNER/REPO/actions/oidc/customization/sub`); {migration}"
                ),
            )
        };
        findings.push(Finding::new(
            FindingId::ImmutableSubject,
            Severity::Error,
            "Immutable subject form differs",
            message,
            hint,
        ));
        return;
    }
}

/// The one producer of the `subject-form-*` findings: the form of `sub` against the forms the
/// patterns expect. Without patterns only a customized template is reported (a notice), since
/// trust policies written for the default form never match it.
fn explain_form(
    claims: &Claims,
    sub: &str,
    form: &SubjectForm,
    patterns: &[String],
    findings: &mut Vec<Finding>,
) {
    if patterns.is_empty() {
        if matches!(form, SubjectForm::Custom { .. }) {
            findings.push(Finding::new(
                FindingId::SubjectFormCustom,
                Severity::Notice,
                "Customized subject template",
                format!("sub `{sub}` uses {}", form.describe()),
                "trust policies must match this template, not the default `repo:OWNER/REPO:...` form",
            ));
        }
        return;
    }
    // A pattern whose wildcards cover the context could be any form; only patterns of a
    // recognizable form say which form the user expected.
    let pattern_forms: Vec<SubjectForm> = patterns
        .iter()
        .map(|p| classify(p))
        .filter(|f| !matches!(f, SubjectForm::Unrecognized))
        .collect();
    if pattern_forms.is_empty() || pattern_forms.iter().any(|p| p.kind() == form.kind()) {
        return;
    }
    let mut expected_dedup: Vec<String> = pattern_forms.iter().map(SubjectForm::describe).collect();
    expected_dedup.dedup();
    let id = match form.kind() {
        "environment" => FindingId::SubjectFormEnvironment,
        "pull-request" => FindingId::SubjectFormPullRequest,
        "branch" => FindingId::SubjectFormBranch,
        "tag" => FindingId::SubjectFormTag,
        "ref" => FindingId::SubjectFormRef,
        "custom" => FindingId::SubjectFormCustom,
        _ => FindingId::SubjectFormUnrecognized,
    };
    // The workflow-side change first; a change to the policy that lets more jobs in is
    // offered second and says that it widens the role (DEVELOPERS.md principles).
    let expected = expected_dedup.join(" or ");
    let hint = match form.context() {
        _ if matches!(form, SubjectForm::Custom { .. }) => format!(
            "a customized subject template is in force: make the trust policy match `{sub}`, or restore the default form with `PUT /repos/OWNER/REPO/actions/oidc/customization/sub` and `{{\"use_default\": true}}`"
        ),
        Some(Context::Environment(name)) => format!(
            "`environment: {name}` on this job puts the environment in `sub` in place of {expected}: run the check in the job the policy is meant for (one without `environment:`); or, if jobs in `{name}` should assume this role, add `{sub}` to the policy (widens who can assume the role)"
        ),
        _ if pattern_forms.iter().any(|p| p.kind() == "environment") => {
            let name = pattern_forms
                .iter()
                .find_map(|p| match p.context() {
                    Some(Context::Environment(name)) if !name.contains(['*', '?']) => Some(name.as_str()),
                    _ => None,
                })
                .unwrap_or("NAME");
            format!(
                "the policy pins an environment (a deployment protection): declare `environment: {name}` on this job; a preflight job that checks a deploy job sets `job-environment: {name}` (`--job-environment {name}`) instead. Allowing `{sub}` would bypass the environment's protection rules (widens who can assume the role)"
            )
        }
        _ if pattern_forms.iter().any(|p| matches!(p, SubjectForm::Custom { .. })) => {
            "the pattern is a customized template, but the token has the default form: the customization is not in force for this repository (check `GET /repos/OWNER/REPO/actions/oidc/customization/sub`)".to_owned()
        }
        Some(Context::PullRequest) => format!(
            "pull_request runs get `{sub}` whatever their branch: run the job on `push` (or `workflow_dispatch`) to the branch the policy names. Allowing `{sub}` would let every pull request in the repository assume the role (widens who can assume it; not recommended)"
        ),
        Some(Context::Tag(tag)) => format!(
            "this run is a push of tag `{tag}`: run the job on a push to the branch the policy names; or, for a release job, add the tag form to the policy, `{}:ref:refs/tags/v*` for every `v` tag or exactly `{sub}` for this one (either widens who can assume the role)",
            sub.split(":ref:").next().unwrap_or_default()
        ),
        _ => format!(
            "run the job so that it gets {expected}; or add `{sub}` to the policy (widens who can assume the role)"
        ),
    };
    findings.push(Finding::new(
        id,
        Severity::Error,
        "Subject form mismatch",
        format!(
            "sub `{sub}` is {}: {}; the pattern expects {expected}",
            form.describe(),
            why_form(form, claims),
        ),
        hint,
    ));
}

/// True when the claim is present and one of its values matches the expectation's pattern.
pub fn claim_holds(claims: &Claims, expectation: &ClaimExpectation) -> bool {
    claims
        .values(&expectation.name)
        .is_some_and(|values| values.iter().any(|v| string_like(&expectation.pattern, v)))
}

fn absent_reason(name: &str) -> &'static str {
    match name {
        "environment" => {
            "the job declares no `environment:`, and GitHub only sets this claim for jobs that do"
        }
        "head_ref" | "base_ref" => "GitHub sets it only for pull_request events",
        "enterprise" | "enterprise_id" => {
            "GitHub sets it only for repositories owned by an enterprise account"
        }
        _ => "GitHub did not include it in this token",
    }
}

fn check_claims(claims: &Claims, expect: &Expectations, findings: &mut Vec<Finding>) {
    for e in &expect.claims {
        match claims.values(&e.name) {
            None => findings.push(Finding::new(
                FindingId::ClaimAbsent,
                Severity::Error,
                "Expected claim is absent",
                format!("claim `{}` is absent ({}), so it cannot match `{}`", e.name, absent_reason(&e.name), e.pattern),
                if e.name == "environment" {
                    "add `environment: NAME` to the job that requests the token, or drop the expectation".to_owned()
                } else {
                    format!("drop the expectation on `{}` or make the job produce it", e.name)
                },
            )),
            Some(values) if values.iter().any(|v| string_like(&e.pattern, v)) => {}
            Some(values) => {
                let shown = values.join("`, `");
                let case_only = values.iter().any(|v| string_like_ignoring_case(&e.pattern, v));
                findings.push(Finding::new(
                    FindingId::ClaimMismatch,
                    Severity::Error,
                    "Expected claim differs",
                    format!(
                        "claim `{}` is `{shown}`, which does not match `{}`{}",
                        e.name,
                        e.pattern,
                        if case_only { " (it would if case were ignored; consumers compare case-sensitively)" } else { "" }
                    ),
                    format!("expect `{}={shown}`, or change what the job runs with", e.name),
                ));
            }
        }
    }
}

/// GitHub's default audience is the owner URL: `https://github.com/OWNER`, or the owner on the
/// instance's host (GHES, GHE.com). Exactly one path segment, the owner, compared ignoring case.
fn is_default_audience(aud: &str, claims: &Claims) -> bool {
    let owner = claims.str("repository_owner").unwrap_or_default();
    let Some(rest) = aud.strip_prefix("https://") else {
        return false;
    };
    let mut parts = rest.trim_end_matches('/').split('/');
    let (Some(host), Some(path), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !owner.is_empty() && !host.is_empty() && path.eq_ignore_ascii_case(owner)
}

fn check_audience(claims: &Claims, expect: &Expectations, findings: &mut Vec<Finding>) {
    let auds = claims.values("aud").unwrap_or_default();
    let consumer_name = expect
        .consumer
        .map(Consumer::name)
        .unwrap_or("the consumer");
    let expected = expect.expected_audience();
    let default = auds.iter().find(|a| is_default_audience(a, claims));
    match (&expected, default) {
        (Some(want), Some(default)) if !auds.contains(want) => findings.push(Finding::new(
            FindingId::AudienceIsDefault,
            Severity::Error,
            "No audience was requested",
            format!("aud is `{default}`, GitHub's default (the owner URL), because no audience was requested; {consumer_name} expects `{want}`{}",
                expect.consumer.map(|c| format!(" and answers `{}`", c.audience_error())).unwrap_or_default()),
            format!("request the audience: `audience: {want}`"),
        )),
        // hashicorp/vault-action requests no audience unless `jwtGithubAudience` is set, so the
        // owner URL is what a Vault role usually binds: nothing to note.
        (None, Some(_)) if expect.consumer == Some(Consumer::Vault) => {}
        (None, Some(default)) => findings.push(Finding::new(
            FindingId::AudienceIsDefault,
            Severity::Notice,
            "No audience was requested",
            format!("aud is `{default}`, GitHub's default (the owner URL), because no audience was requested"),
            "clouds expect their own audience: `sts.amazonaws.com` (AWS), `api://AzureADTokenExchange` (Azure), the workload identity provider URL (GCP), `pypi`, `crates.io`, `npm:registry.npmjs.org`; set `audience` or `provider`",
        )),
        (Some(want), None) if !auds.contains(want) => findings.push(Finding::new(
            FindingId::AudienceMismatch,
            Severity::Error,
            "Audience mismatch",
            format!("aud is `{}`, but {consumer_name} expects `{want}`", auds.join("`, `")),
            format!("request `audience: {want}`, or configure {consumer_name} to accept the audience the token has"),
        )),
        _ => {}
    }
    if expect.consumer == Some(Consumer::Gcp) {
        let audience = expected
            .or_else(|| auds.first().cloned())
            .unwrap_or_default();
        if let Some(problem) = gcp_audience_problem(&audience) {
            findings.push(Finding::new(
                FindingId::AudienceGcpFormat,
                Severity::Error,
                "Malformed GCP audience",
                format!("the GCP audience `{audience}` is malformed: {problem}"),
                "use the provider's full resource URL: `https://iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER`",
            ));
        }
    }
}

fn check_issuer(claims: &Claims, expect: &Expectations, findings: &mut Vec<Finding>) {
    let iss = claims.str("iss").unwrap_or_default();
    const ROOT: &str = "https://token.actions.githubusercontent.com";
    // The notices say "register this issuer": only for issuers recognised by parsing the URL
    // (`verify::is_github_issuer`), never by a prefix or suffix a forged `iss` can carry.
    let github = crate::verify::is_github_issuer(iss);
    if let Some(slug) = iss
        .strip_prefix(ROOT)
        .and_then(|r| r.strip_prefix('/'))
        .filter(|s| github && !s.is_empty())
    {
        findings.push(Finding::new(
            FindingId::IssuerEnterpriseSlug,
            Severity::Notice,
            "Enterprise-specific issuer",
            format!("iss is `{iss}`: the enterprise `{slug}` uses a unique issuer URL; its signing keys stay on the root host"),
            format!("register `{iss}` (not the root URL) as the OIDC provider in the cloud; AWS condition keys become `{}:sub` and `:aud`", aws::key_prefix(iss)),
        ));
    } else if github && iss != ROOT {
        findings.push(Finding::new(
            FindingId::IssuerGheCom,
            Severity::Notice,
            "GHE.com issuer",
            format!(
                "iss is `{iss}`, a GitHub Enterprise Cloud with data residency (GHE.com) issuer"
            ),
            format!("register `{iss}` as the OIDC provider; the github.com issuer does not apply"),
        ));
    } else if iss.trim_end_matches('/').ends_with("/_services/token") {
        findings.push(Finding::new(
            FindingId::IssuerGhes,
            Severity::Notice,
            "GitHub Enterprise Server issuer",
            format!("iss is `{iss}`, a GitHub Enterprise Server"),
            format!("the cloud must reach `{}/.well-known/openid-configuration` and its JWKS over the internet; register exactly `{iss}` (AWS: `No OpenIDConnect provider found in your account for {iss}` means it is not registered)", iss.trim_end_matches('/')),
        ));
    }
    if iss.ends_with('/') {
        findings.push(Finding::new(
            FindingId::IssuerTrailingSlash,
            Severity::Warning,
            "Issuer ends with a slash",
            format!("the token's iss `{iss}` ends with `/`"),
            "consumers compare the issuer exactly: register it with the trailing slash, as the token has it",
        ));
    }
    let Some(want) = &expect.issuer else { return };
    if want == iss {
        return;
    }
    if want.trim_end_matches('/') == iss.trim_end_matches('/') {
        findings.push(Finding::new(
            FindingId::IssuerTrailingSlash,
            Severity::Error,
            "Issuer differs by a trailing slash",
            format!("the expected issuer `{want}` and the token's iss `{iss}` differ only by a trailing `/` (Azure: `AADSTS700211: No matching federated identity record found for presented assertion issuer`)"),
            format!("configure the issuer exactly as `{iss}`"),
        ));
    } else {
        findings.push(Finding::new(
            FindingId::IssuerMismatch,
            Severity::Error,
            "Issuer mismatch",
            format!("the token's iss is `{iss}`, but `{want}` is expected"),
            format!("configure the consumer with the issuer `{iss}`; an enterprise slug or GHES host changes it"),
        ));
    }
}

fn check_workflows(claims: &Claims, expect: &Expectations, findings: &mut Vec<Finding>) {
    let (Some(top), Some(job)) = (claims.str("workflow_ref"), claims.str("job_workflow_ref"))
    else {
        return;
    };
    let registry = expect.consumer.filter(|c| c.is_registry());
    // With a trusted publisher given, its check names the file the registry reads and says
    // why: the reusable workflow is that finding's cause, not a second one.
    if top != job && expect.trusted_publisher.is_none() {
        findings.push(Finding::new(
            FindingId::ReusableWorkflow,
            if registry.is_some() { Severity::Warning } else { Severity::Notice },
            "Job runs in a reusable workflow",
            format!("job_workflow_ref `{job}` differs from workflow_ref `{top}`: this job runs in a reusable workflow called by `{}`", workflow_file(top)),
            format!(
                "AWS, Azure and GCP policies that name a workflow must use `job_workflow_ref` (`{job}`); PyPI's trusted publisher matches this reusable workflow's file `{}` (from job_workflow_ref; reusable workflows from another repository are not supported), crates.io and npm trusted publishers match the calling workflow `{}` from workflow_ref; the caller's `permissions:` must grant `id-token: write` too",
                workflow_file(job),
                workflow_file(top)
            ),
        ));
    }
    // With a publisher entered, its check says what the registry matches.
    if expect.trusted_publisher.is_none() {
        findings.extend(registry.and_then(|r| r.publisher_claims(claims)));
    }
}

/// Time claims against the clock. The claims are untrusted and may hold any i64 (floats
/// saturate to one), so every difference saturates instead of overflowing.
fn check_time(claims: &Claims, clock: Clock, findings: &mut Vec<Finding>) {
    for fact in times::facts(claims, clock.now) {
        findings.extend(match fact {
            TimeFact::NotANumber { claim } => Some(Finding::new(
                FindingId::TimeClaimInvalid,
                Severity::Error,
                "Time claim is not a number",
                format!("claim `{claim}` is not a number of seconds since the epoch (a NumericDate), so AWS, Azure and GCP reject the token"),
                "GitHub issues exp, nbf and iat as numbers: this token was not issued by GitHub Actions, or was altered",
            )),
            TimeFact::Expired { exp, ago } => Some(Finding::new(
                FindingId::TokenExpired,
                Severity::Error,
                "Token expired",
                format!("the token expired {} s ago (exp {exp})", ago.unsigned_abs()),
                "request a new token right before the step that uses it (Azure: `AADSTS700024: Client assertion is not within its valid time range.`)",
            )),
            TimeFact::ExpiresSoon { left } => Some(Finding::new(
                FindingId::TokenExpiring,
                Severity::Warning,
                "Token about to expire",
                format!("the token expires in {left} s"),
                "request the token right before the step that uses it; do not reuse it across long steps or retries",
            )),
            TimeFact::InFuture { claim: "nbf", ahead, .. } if ahead > LEEWAY => Some(Finding::new(
                FindingId::TokenNotYetValid,
                Severity::Error,
                "Token not yet valid",
                format!("nbf is {ahead} s in the future by this machine's clock"),
                "check this machine's clock (NTP); consumers refuse tokens before nbf",
            )),
            TimeFact::InFuture { claim: "iat", at, ahead } if ahead > LEEWAY => {
                Some(skew(at, ahead))
            }
            // Only a token requested just now should have been issued about now.
            TimeFact::IssuedEarlier { iat, behind } if clock.fresh => {
                Some(skew(iat, behind.saturating_neg()))
            }
            TimeFact::InFuture { .. } | TimeFact::IssuedEarlier { .. } => None,
        });
    }
}

fn skew(iat: i64, skew: i64) -> Finding {
    Finding::new(
        FindingId::ClockSkew,
        Severity::Warning,
        "Clock looks skewed",
        format!(
            "the token was issued at {iat}, {} s {} this machine's clock",
            skew.unsigned_abs(),
            if skew > 0 { "ahead of" } else { "behind" }
        ),
        "fix the runner's clock (NTP): consumers refuse tokens whose iat or nbf lie in their future (`The token is not yet valid (iat)`)",
    )
}

fn list(patterns: &[String]) -> String {
    patterns
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the runner's variables say about the run.
#[derive(Debug, Clone, Default)]
pub struct RunFacts {
    /// `GITHUB_EVENT_PATH`: the event payload.
    pub event_path: Option<PathBuf>,
    /// `GITHUB_ACTOR`.
    pub actor: Option<String>,
    /// `GITHUB_EVENT_NAME`.
    pub event_name: Option<String>,
    /// `ACT=true`: a local run with nektos/act.
    pub act: bool,
}

/// Why the runner gave no token request variables: a fork pull request, Dependabot, a local
/// `act` run, or (most often) a missing `id-token: write` permission. `event` is the parsed
/// `GITHUB_EVENT_PATH` payload, if readable.
pub fn no_token(facts: &RunFacts, event: Option<&Value>) -> Finding {
    let permission_yaml = "\n\n    permissions:\n      id-token: write\n      contents: read\n\nA `permissions:` block replaces the defaults, so list every permission the job needs.";
    let fork = event
        .and_then(|e| e.pointer("/pull_request/head/repo/fork"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if facts.act {
        Finding::new(
            FindingId::NoTokenAct,
            Severity::Error,
            "No OIDC token in a local act run",
            "this is a local run with `act` (ACT=true), which has no GitHub token service",
            "test with `oidc-preflight check` on a saved token or `oidc-preflight predict`, or run the workflow on GitHub",
        )
    } else if facts.actor.as_deref() == Some("dependabot[bot]") {
        Finding::new(
            FindingId::NoTokenDependabot,
            Severity::Error,
            "No OIDC token for Dependabot",
            "the run was triggered by Dependabot (GITHUB_ACTOR=dependabot[bot]); Dependabot runs get no OIDC token, like fork pull requests",
            "skip the OIDC steps for Dependabot: `if: github.actor != 'dependabot[bot]'`",
        )
    } else if fork {
        Finding::new(
            FindingId::NoTokenFork,
            Severity::Error,
            "No OIDC token for a fork pull request",
            "this is a pull request from a fork; GitHub never gives fork pull requests an OIDC token, even with `id-token: write`",
            "skip the OIDC steps for forks: `if: github.event.pull_request.head.repo.fork == false`, or deploy from `push` after merge",
        )
    } else {
        Finding::new(
            FindingId::NoTokenPermission,
            Severity::Error,
            "No OIDC token available",
            "the job lacks `permissions: id-token: write` (or a calling workflow caps it)",
            format!("grant the job permission to request the token:{permission_yaml} Pull requests from forks never get an OIDC token, even with `id-token: write`; neither do Dependabot runs nor local runs with `act`."),
        )
    }
}

/// The signature check as a finding: `None` only when the token verified, or when the
/// verifier refused a claim that a finding in `findings` already reports as an error (an
/// expired token, an issuer or audience mismatch). Verification was asked for, so every
/// other failure is an error: a token that makes itself unverifiable (no usable key, no or
/// an untrusted issuer) and keys that could not be fetched fail the check, as they would
/// at the cloud.
pub fn signature_finding(
    result: &Result<crate::verify::Verified, crate::verify::VerifyError>,
    findings: &[Finding],
    surface: Surface,
) -> Option<Finding> {
    use crate::verify::{SignatureStatus, VerifyError};
    let err = result.as_ref().err()?;
    let hint = err.hint().unwrap_or_default();
    let reported = |ids: &[FindingId]| {
        findings
            .iter()
            .any(|f| f.severity == Severity::Error && ids.contains(&f.id))
    };
    match err {
        // The signature verified, but a claim the verifier requires is absent or of the wrong
        // type: no other check reports an absent `exp` or `iss`, so this one does.
        VerifyError::MissingClaim { .. } => {
            return Some(Finding::new(
                FindingId::ClaimMissing,
                Severity::Error,
                "Required claim missing or invalid",
                format!("{err}: AWS, Azure and GCP reject the token"),
                hint,
            ))
        }
        VerifyError::UntrustedIssuer { .. } | VerifyError::NoIssuer => {
            let how = match surface {
                Surface::Action => "with the `issuer` input",
                Surface::Check => "with `--issuer URL`",
            };
            return Some(Finding::new(
                FindingId::IssuerUntrusted,
                Severity::Error,
                "Issuer not trusted",
                format!(
                    "{err}: a token minted by any other OpenID provider can name any repository"
                ),
                // Without `iss` there is no issuer to trust: how to name one does not apply.
                if matches!(err, VerifyError::NoIssuer) {
                    hint
                } else {
                    format!("{hint} {how} (library: `TrustedIssuers::named`)")
                },
            ));
        }
        _ => {}
    }
    let covered = match err {
        VerifyError::Expired { .. } => reported(&[FindingId::TokenExpired]),
        VerifyError::NotYetValid { claim: "nbf", .. } => reported(&[FindingId::TokenNotYetValid]),
        VerifyError::WrongIssuer { .. } => {
            reported(&[FindingId::IssuerMismatch, FindingId::IssuerTrailingSlash])
        }
        VerifyError::WrongAudience { .. } => reported(&[FindingId::AudienceMismatch]),
        _ => false,
    };
    if covered {
        return None;
    }
    let skip = match surface {
        Surface::Action => "set `verify-signature: false` to skip the signature check",
        Surface::Check => {
            "pass the keys with `--jwks FILE`, or `--no-verify` to skip the signature check"
        }
    };
    Some(match err.signature_status() {
        // A claim the verifier refuses that no other check reports as an error (an `iat`
        // in the future only draws a clock-skew warning there): the verifier's verdict holds.
        SignatureStatus::Valid => Finding::new(
            FindingId::TokenRefused,
            Severity::Error,
            "Token refused by verification",
            format!("the signature is valid, but verification refuses the token: {err}"),
            hint,
        ),
        _ if err.signature_checked() => Finding::new(
            FindingId::SignatureInvalid,
            Severity::Error,
            "Signature does not verify",
            format!("the token's signature does not verify against the issuer's keys: {err}"),
            hint,
        ),
        _ => Finding::new(
            FindingId::SignatureUnverified,
            Severity::Error,
            "Signature could not be verified",
            format!("the signature was to be verified, but could not be: {err}"),
            format!("{hint}; or {skip}"),
        ),
    })
}

/// One line on the signature for the report and the summary.
pub fn describe_signature(result: &Result<Verified, VerifyError>) -> String {
    match result {
        Ok(v) => format!("valid (RS256, key `{}` published by `{}`)", v.kid, v.issuer),
        Err(e)
            if e.signature_checked()
                || e.signature_status() == crate::verify::SignatureStatus::Valid =>
        {
            format!("{} ({e})", e.signature_status())
        }
        Err(e) => format!("{}: not verified ({e})", e.signature_status()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::PatternSet;

    #[test]
    fn default_audience_is_exactly_the_owner_url() {
        let claims = Claims(
            serde_json::json!({"repository_owner": "octo-org"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        for (aud, default) in [
            ("https://github.com/octo-org", true),
            ("https://github.com/Octo-Org/", true),
            ("https://ghes.example.com/octo-org", true),
            ("https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/octo-org", false),
            ("https://github.com/other", false),
            ("sts.amazonaws.com", false),
            ("https://github.com/octo-org/x", false),
        ] {
            assert_eq!(is_default_audience(aud, &claims), default, "{aud}");
        }
    }
    use serde_json::json;

    fn claims(value: Value) -> Claims {
        match value {
            Value::Object(map) => Claims(map),
            _ => unreachable!("test claims are objects"),
        }
    }

    /// `subject-form-custom` comes from one producer: a notice without patterns, an error when
    /// a pattern expects the default form, nothing when the pattern is the template itself.
    #[test]
    fn a_customized_template_is_one_finding_whose_severity_follows_the_patterns() {
        let sub = "repository_owner_id:65432:repository_id:123456789:ref:refs/heads/main";
        let c = claims(json!({ "sub": sub }));
        let clock = Clock {
            now: 0,
            fresh: false,
        };
        let custom = |patterns: &[&str]| {
            let expect = Expectations {
                subject_patterns: PatternSet::new(patterns.iter().copied()),
                ..Expectations::default()
            };
            analyze(&c, &expect, clock)
                .findings
                .into_iter()
                .filter(|f| f.id == FindingId::SubjectFormCustom)
                .map(|f| (f.severity, f.title))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            custom(&[]),
            [(Severity::Notice, "Customized subject template".to_owned())]
        );
        assert_eq!(
            custom(&["repo:octo-org/octo-repo:ref:refs/heads/main"]),
            [(Severity::Error, "Subject form mismatch".to_owned())]
        );
        assert_eq!(custom(&[sub]), []);
    }

    #[test]
    fn extreme_time_claims_do_not_overflow() {
        // Claim values are untrusted: any i64 (or a float that saturates to one) must be
        // reported, not panic on arithmetic overflow.
        let now = 1_800_000_000;
        for (exp, nbf, iat, time_error) in [
            (json!(i64::MIN), json!(i64::MAX), json!(i64::MIN), true),
            (json!(i64::MAX), json!(i64::MIN), json!(i64::MAX), false),
            (json!(-1e300), json!(1e300), json!(-1e300), true),
        ] {
            let c =
                claims(json!({"sub": "repo:o/r:pull_request", "exp": exp, "nbf": nbf, "iat": iat}));
            let a = analyze(&c, &Expectations::default(), Clock { now, fresh: true });
            let ids: Vec<_> = a.findings.iter().map(|f| f.id.as_str()).collect();
            assert!(ids.contains(&"clock-skew"), "{ids:?}");
            assert_eq!(
                ids.contains(&"token-expired") && ids.contains(&"token-not-yet-valid"),
                time_error,
                "{ids:?}"
            );
        }
    }
}
