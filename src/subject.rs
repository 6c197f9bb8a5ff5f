//! The forms of the `sub` claim: classifying a subject (or a pattern), explaining why GitHub
//! chose that form, predicting another job's subject, and suggesting a pattern that matches.
//!
//! Default forms, in GitHub's precedence order: `repo:O/R:environment:NAME` (the job has an
//! environment), `repo:O/R:pull_request` (pull_request events), `repo:O/R:ref:REF`. Repositories
//! created or renamed since 2026-07-15 use the immutable `repo:O@ID/R@ID:...`. A customized
//! template lists `key:value` pairs chosen with the OIDC customization API, where `context`
//! stands for the part after the repository in the default form. A `:` inside a value is
//! written `%3A`, so splitting on `:` is safe.

use crate::pattern::{string_like, string_like_ignoring_case};

/// The context part of a default-form subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Context {
    /// `environment:NAME`.
    Environment(String),
    /// `pull_request`.
    PullRequest,
    /// `ref:refs/heads/BRANCH`.
    Branch(String),
    /// `ref:refs/tags/TAG`.
    Tag(String),
    /// `ref:` with anything else (for example `refs/pull/1/merge`).
    OtherRef(String),
}

impl Context {
    /// The stable name of this form (used in finding ids and the `subject-form` output).
    pub fn kind(&self) -> &'static str {
        match self {
            Context::Environment(_) => "environment",
            Context::PullRequest => "pull-request",
            Context::Branch(_) => "branch",
            Context::Tag(_) => "tag",
            Context::OtherRef(_) => "ref",
        }
    }

    /// The text as it stands in `sub` (values re-encoded with `%3A`).
    pub fn render(&self) -> String {
        match self {
            Context::Environment(name) => format!("environment:{}", encode(name)),
            Context::PullRequest => "pull_request".to_owned(),
            Context::Branch(b) => format!("ref:refs/heads/{}", encode(b)),
            Context::Tag(t) => format!("ref:refs/tags/{}", encode(t)),
            Context::OtherRef(r) => format!("ref:{}", encode(r)),
        }
    }
}

/// The repository part after `repo:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoPart {
    /// The owner name.
    pub owner: String,
    /// The repository name.
    pub repo: String,
    /// `OWNER@ID/REPO@ID`: the owner's and repository's numeric ids.
    pub ids: Option<(String, String)>,
}

impl RepoPart {
    fn parse(text: &str) -> Option<Self> {
        let (owner, repo) = text.split_once('/')?;
        if owner.is_empty() || repo.is_empty() || repo.contains('/') {
            return None;
        }
        let split_id = |s: &str| -> (String, Option<String>) {
            match s.rsplit_once('@') {
                Some((name, id))
                    if !id.is_empty()
                        && id
                            .chars()
                            .all(|c| c.is_ascii_digit() || c == '*' || c == '?') =>
                {
                    (name.to_owned(), Some(id.to_owned()))
                }
                _ => (s.to_owned(), None),
            }
        };
        let (owner, owner_id) = split_id(owner);
        let (repo, repo_id) = split_id(repo);
        let ids = match (owner_id, repo_id) {
            (Some(o), Some(r)) => Some((o, r)),
            _ => None,
        };
        Some(Self { owner, repo, ids })
    }

    /// `OWNER/REPO` or `OWNER@ID/REPO@ID`.
    pub fn render(&self) -> String {
        match &self.ids {
            Some((o, r)) => format!("{}@{o}/{}@{r}", self.owner, self.repo),
            None => format!("{}/{}", self.owner, self.repo),
        }
    }
}

/// The repository part of a `sub` or a pattern for one, whatever follows it (a pattern's
/// context may be a wildcard, `repo:octo-org/octo-repo:*`, which [`classify`] cannot place).
pub fn repo_part(text: &str) -> Option<RepoPart> {
    let rest = text.strip_prefix("repo:")?;
    RepoPart::parse(rest.split(':').next()?)
}

/// A classified subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectForm {
    /// `repo:O/R:CONTEXT`, possibly immutable.
    Default {
        /// The repository part.
        repo: RepoPart,
        /// The context part.
        context: Context,
    },
    /// A customized template: `key:value` pairs (values decoded). `context` appears with its
    /// parsed value.
    Custom {
        /// The pairs in order; the `context` key holds the rendered context.
        pairs: Vec<(String, String)>,
        /// The repository part when the template includes `repo`.
        repo: Option<RepoPart>,
        /// The context when the template includes `context`.
        context: Option<Context>,
    },
    /// Nothing GitHub would issue.
    Unrecognized,
}

impl SubjectForm {
    /// The stable name of this form: `environment`, `pull-request`, `branch`, `tag`, `ref`,
    /// `custom` or `unrecognized`.
    pub fn kind(&self) -> &'static str {
        match self {
            SubjectForm::Default { context, .. } => context.kind(),
            SubjectForm::Custom { .. } => "custom",
            SubjectForm::Unrecognized => "unrecognized",
        }
    }

    /// The context, whatever the form.
    pub fn context(&self) -> Option<&Context> {
        match self {
            SubjectForm::Default { context, .. } => Some(context),
            SubjectForm::Custom { context, .. } => context.as_ref(),
            SubjectForm::Unrecognized => None,
        }
    }

    /// The repository part, whatever the form.
    pub fn repo(&self) -> Option<&RepoPart> {
        match self {
            SubjectForm::Default { repo, .. } => Some(repo),
            SubjectForm::Custom { repo, .. } => repo.as_ref(),
            SubjectForm::Unrecognized => None,
        }
    }

    /// True for the immutable `OWNER@ID/REPO@ID` repository part.
    pub fn is_immutable(&self) -> bool {
        self.repo().is_some_and(|r| r.ids.is_some())
    }

    /// A phrase for reports: "the environment form", "a customized template (repo, context)".
    pub fn describe(&self) -> String {
        let immutable = if self.is_immutable() {
            " (immutable owner@id/repo@id)"
        } else {
            ""
        };
        match self {
            SubjectForm::Default { context, .. } => {
                let name = match context {
                    Context::Environment(_) => "the environment form",
                    Context::PullRequest => "the pull_request form",
                    Context::Branch(_) => "the branch ref form",
                    Context::Tag(_) => "the tag ref form",
                    Context::OtherRef(_) => "the ref form",
                };
                format!("{name}{immutable}")
            }
            SubjectForm::Custom { pairs, .. } => {
                let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
                format!("a customized template ({}){immutable}", keys.join(", "))
            }
            SubjectForm::Unrecognized => "a form GitHub does not issue".to_owned(),
        }
    }
}

/// Decodes `%3A` back to `:` (GitHub's only escape in `sub`).
pub fn decode(value: &str) -> String {
    value.replace("%3A", ":").replace("%3a", ":")
}

/// Encodes `:` as `%3A`, as GitHub writes values into `sub`.
pub fn encode(value: &str) -> String {
    value.replace(':', "%3A")
}

/// Parses the context that starts at `parts[i]`; returns it and how many parts it used.
fn parse_context(parts: &[&str], i: usize) -> Option<(Context, usize)> {
    match *parts.get(i)? {
        "pull_request" => Some((Context::PullRequest, 1)),
        "environment" => Some((Context::Environment(decode(parts.get(i + 1)?)), 2)),
        "ref" => {
            let r = decode(parts.get(i + 1)?);
            let context = if let Some(b) = r.strip_prefix("refs/heads/") {
                Context::Branch(b.to_owned())
            } else if let Some(t) = r.strip_prefix("refs/tags/") {
                Context::Tag(t.to_owned())
            } else {
                Context::OtherRef(r)
            };
            Some((context, 2))
        }
        _ => None,
    }
}

/// Classifies a subject. Also works on patterns: wildcards are kept as literal text.
pub fn classify(sub: &str) -> SubjectForm {
    let parts: Vec<&str> = sub.split(':').collect();
    // Default form: exactly repo, O/R, context.
    if parts.first() == Some(&"repo") && parts.len() >= 3 {
        if let (Some(repo), Some((context, used))) =
            (RepoPart::parse(parts[1]), parse_context(&parts, 2))
        {
            if 2 + used == parts.len() {
                return SubjectForm::Default { repo, context };
            }
        }
    }
    classify_custom(&parts).unwrap_or(SubjectForm::Unrecognized)
}

fn classify_custom(parts: &[&str]) -> Option<SubjectForm> {
    let mut pairs = Vec::new();
    let (mut repo, mut context) = (None, None);
    let mut i = 0;
    while i < parts.len() {
        let key = parts[i];
        if let Some((c, used)) = parse_context(parts, i) {
            pairs.push(("context".to_owned(), c.render()));
            context = Some(c);
            i += used;
            continue;
        }
        let value = parts.get(i + 1)?;
        if !is_claim_key(key) {
            return None;
        }
        if key == "repo" {
            repo = Some(RepoPart::parse(value)?);
        }
        pairs.push((key.to_owned(), decode(value)));
        i += 2;
    }
    (!pairs.is_empty()).then_some(SubjectForm::Custom {
        pairs,
        repo,
        context,
    })
}

/// Claim names a customized template may include.
fn is_claim_key(key: &str) -> bool {
    const KEYS: &[&str] = &[
        "repo",
        "repository",
        "repository_owner",
        "repository_owner_id",
        "repository_id",
        "repository_visibility",
        "actor",
        "actor_id",
        "workflow",
        "workflow_ref",
        "workflow_sha",
        "job_workflow_ref",
        "job_workflow_sha",
        "ref",
        "ref_type",
        "ref_protected",
        "head_ref",
        "base_ref",
        "event_name",
        "environment",
        "runner_environment",
        "enterprise",
        "enterprise_id",
        "sha",
        "run_id",
        "run_number",
        "run_attempt",
        "check_run_id",
    ];
    KEYS.contains(&key) || key.starts_with("repo_property_")
}

/// The subject a job with environment `environment` would get, derived from this token's
/// subject: the same form (default, customized or immutable) with the context replaced.
/// `None` when the subject's form is not recognized or has no context to replace.
pub fn predict_with_environment(sub: &str, environment: &str) -> Option<String> {
    let new_context = Context::Environment(environment.to_owned());
    match classify(sub) {
        SubjectForm::Default { repo, .. } => {
            Some(format!("repo:{}:{}", repo.render(), new_context.render()))
        }
        SubjectForm::Custom { pairs, .. } => {
            let has_context_or_env = pairs
                .iter()
                .any(|(k, _)| k == "context" || k == "environment");
            if !has_context_or_env {
                return Some(sub.to_owned());
            }
            let rendered: Vec<String> = pairs
                .iter()
                .map(|(k, v)| match k.as_str() {
                    "context" => new_context.render(),
                    "environment" => format!("environment:{}", encode(environment)),
                    "repo" => format!("repo:{v}"),
                    _ => format!("{k}:{}", encode(v)),
                })
                .collect();
            Some(rendered.join(":"))
        }
        SubjectForm::Unrecognized => None,
    }
}

/// Suggested patterns that match `sub`, narrowest first: the exact subject, then (when one of
/// the user's patterns had wildcards) a variant that keeps a wildcard segment only where that
/// pattern had one and it matches the token. Every suggestion is verified to match.
pub fn suggest_patterns(sub: &str, user_patterns: &[String]) -> Vec<String> {
    let mut out = vec![sub.to_owned()];
    for pattern in user_patterns.iter().filter(|p| p.contains(['*', '?'])) {
        if let Some(variant) = generalize(sub, pattern) {
            if string_like(&variant, sub) && !out.contains(&variant) {
                out.push(variant);
            }
        }
    }
    out
}

fn generalize(sub: &str, pattern: &str) -> Option<String> {
    let subs: Vec<&str> = sub.split(':').collect();
    let pats: Vec<&str> = pattern.split(':').collect();
    // A pattern for another repository says nothing about how to widen this one's subject.
    if subs.first() == Some(&"repo") && pats.first() == Some(&"repo") {
        match (pats.get(1), subs.get(1)) {
            (Some(p), Some(s)) if string_like(p, s) => {}
            _ => return None,
        }
    }
    let mut segments = Vec::with_capacity(subs.len());
    for (i, s) in subs.iter().enumerate() {
        match pats.get(i) {
            // A trailing bare `*` in the user's pattern covers the rest of the subject.
            Some(&"*") if i + 1 == pats.len() => {
                segments.push("*".to_owned());
                break;
            }
            Some(p) if p.contains(['*', '?']) && string_like(p, s) => {
                segments.push((*p).to_owned())
            }
            _ => segments.push((*s).to_owned()),
        }
    }
    let variant = segments.join(":");
    (variant != sub && variant.contains(['*', '?'])).then_some(variant)
}

/// The first segment (split on `:`, then `/`) where `pattern` and `sub` differ only by case,
/// as `(pattern's text, token's text)`. `None` unless the pattern matches ignoring case.
pub fn case_only_difference(pattern: &str, sub: &str) -> Option<(String, String)> {
    if string_like(pattern, sub) || !string_like_ignoring_case(pattern, sub) {
        return None;
    }
    let split = |s: &str| -> Vec<String> { s.split([':', '/']).map(str::to_owned).collect() };
    let (p, s) = (split(pattern), split(sub));
    p.iter()
        .zip(&s)
        .find(|(a, b)| *a != *b && a.eq_ignore_ascii_case(b))
        .map(|(a, b)| (a.clone(), b.clone()))
        .or_else(|| Some((pattern.to_owned(), sub.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_default_forms() {
        let cases = [
            ("repo:octo-org/octo-repo:environment:prod", "environment"),
            ("repo:octo-org/octo-repo:pull_request", "pull-request"),
            ("repo:octo-org/octo-repo:ref:refs/heads/main", "branch"),
            ("repo:octo-org/octo-repo:ref:refs/tags/v1.2.3", "tag"),
            ("repo:octo-org/octo-repo:ref:refs/pull/7/merge", "ref"),
            ("repo:octo-org@65432/octo-repo@123456789:environment:prod", "environment"),
            ("repository_owner_id:6154722:repository_id:966304329:environment:release", "custom"),
            ("repo:octo-org/octo-repo:environment:prod:job_workflow_ref:octo-org/octo-repo/.github/workflows/d.yml@refs/heads/main", "custom"),
            ("hello", "unrecognized"),
            ("repo:octo-org:environment:prod", "unrecognized"),
            ("", "unrecognized"),
        ];
        for (sub, kind) in cases {
            assert_eq!(classify(sub).kind(), kind, "{sub}");
        }
    }

    #[test]
    fn decodes_colons_in_values() {
        let form = classify("repo:o/r:environment:stage%3Aeu");
        assert_eq!(
            form.context(),
            Some(&Context::Environment("stage:eu".into()))
        );
        let form = classify("repo:o/r:ref:refs/heads/feat%3Ax");
        assert_eq!(form.context(), Some(&Context::Branch("feat:x".into())));
    }

    #[test]
    fn immutable_repo_part_is_recognized() {
        let form = classify("repo:octo-org@65432/octo-repo@123:ref:refs/heads/main");
        assert!(form.is_immutable());
        let repo = form.repo().unwrap();
        assert_eq!(
            (repo.owner.as_str(), repo.repo.as_str()),
            ("octo-org", "octo-repo")
        );
        assert!(!classify("repo:octo-org/octo-repo:ref:refs/heads/main").is_immutable());
        // A pattern with a wildcard id is still the immutable form.
        assert!(classify("repo:octo-org@*/octo-repo@*:ref:refs/heads/main").is_immutable());
    }

    #[test]
    fn custom_template_pairs() {
        let SubjectForm::Custom { pairs, .. } =
            classify("repository_owner:monalisa:repository_visibility:private")
        else {
            panic!("custom expected")
        };
        assert_eq!(
            pairs,
            [
                ("repository_owner".into(), "monalisa".into()),
                ("repository_visibility".into(), "private".into())
            ]
        );
    }

    #[test]
    fn predicts_environment_subject_in_every_form() {
        let cases = [
            ("repo:o/r:ref:refs/heads/main", "repo:o/r:environment:prod"),
            ("repo:o/r:pull_request", "repo:o/r:environment:prod"),
            ("repo:o@1/r@2:ref:refs/heads/main", "repo:o@1/r@2:environment:prod"),
            (
                "repo:o/r:ref:refs/heads/main:job_workflow_ref:o/r/.github/workflows/d.yml@refs/heads/main",
                "repo:o/r:environment:prod:job_workflow_ref:o/r/.github/workflows/d.yml@refs/heads/main",
            ),
            ("repository_owner_id:61:environment:staging", "repository_owner_id:61:environment:prod"),
            ("repository_owner:monalisa", "repository_owner:monalisa"),
        ];
        for (sub, want) in cases {
            assert_eq!(
                predict_with_environment(sub, "prod").as_deref(),
                Some(want),
                "{sub}"
            );
        }
        assert_eq!(
            predict_with_environment("repo:o/r:ref:refs/heads/main", "a:b").as_deref(),
            Some("repo:o/r:environment:a%3Ab")
        );
        assert_eq!(predict_with_environment("garbage", "prod"), None);
    }

    #[test]
    fn suggestions_match_and_keep_only_the_users_wildcards() {
        let sub = "repo:octo-org/app:environment:prod";
        let user = vec![
            "repo:octo-org/*:ref:refs/heads/main".to_owned(),
            "repo:octo-org/app:*".to_owned(),
        ];
        let got = suggest_patterns(sub, &user);
        assert_eq!(
            got,
            [
                sub,
                "repo:octo-org/*:environment:prod",
                "repo:octo-org/app:*"
            ]
        );
        for s in &got {
            assert!(string_like(s, sub), "{s}");
        }
        // No wildcard in the user's patterns: only the exact subject.
        assert_eq!(
            suggest_patterns(sub, &["repo:x/y:pull_request".to_owned()]),
            [sub]
        );
        // A wildcard that cannot match the token is not carried over.
        assert_eq!(
            suggest_patterns(sub, &["repo:other/*:environment:prod".to_owned()]),
            [sub]
        );
    }

    #[test]
    fn case_only_differences_name_the_part() {
        assert_eq!(
            case_only_difference(
                "repo:Octo-Org/octo-repo:*",
                "repo:octo-org/octo-repo:ref:refs/heads/main"
            ),
            Some(("Octo-Org".into(), "octo-org".into()))
        );
        assert_eq!(
            case_only_difference("repo:o/r:*", "repo:o/r:pull_request"),
            None
        );
        assert_eq!(
            case_only_difference("repo:x/r:*", "repo:o/r:pull_request"),
            None
        );
    }
}
