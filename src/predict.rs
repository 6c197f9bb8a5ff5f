//! The claims GitHub issues to a job, predicted from plain facts about the job: who runs it
//! (repository, ids), for what (ref, event, environment), in which workflow files, and how
//! the repository's subject is configured. `predict` (one job, from flags) and `audit` (every
//! job of the workflows) both call [`predict`].
//!
//! Sources: GitHub docs, "OpenID Connect reference" (claims, the default `sub` forms and
//! their precedence, customized templates:
//! <https://docs.github.com/en/actions/reference/security/oidc>) and the facts collected in
//! `shared/reference/github-oidc-facts.md`.

use serde_json::{Map, Value};
use thiserror::Error;

use crate::claims::Claims;
use crate::subject::{encode, Context, RepoPart};

/// GitHub's issuer on github.com.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// What decides a job's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFacts {
    /// `OWNER/REPO`.
    pub repository: String,
    /// The owner's and the repository's numeric ids, for the immutable subject form
    /// (`repo:OWNER@ID/REPO@ID:...`); `None` for the name form.
    pub ids: Option<(String, String)>,
    /// The git ref the job runs for, e.g. `refs/heads/main`.
    pub git_ref: String,
    /// The triggering event, e.g. `push`.
    pub event: String,
    /// The job's `environment:`, if any.
    pub environment: Option<String>,
    /// The file name of the workflow the run started from (`workflow_ref`), e.g. `deploy.yml`.
    pub workflow: String,
    /// When the job is in a reusable workflow: its whole `job_workflow_ref`
    /// (`OWNER/REPO/.github/workflows/FILE@REF`). `None`: the job is in the calling workflow.
    pub job_workflow_ref: Option<String>,
    /// The issuer, e.g. [`GITHUB_ISSUER`].
    pub issuer: String,
    /// A customized subject template (`include_claim_keys`); empty for the default.
    pub include_claim_keys: Vec<String>,
    /// The audience requested; `None` gets GitHub's default (the owner URL).
    pub audience: Option<String>,
    /// Any other claim values, applied after the derived ones (a template may need them).
    pub extra: Vec<(String, String)>,
}

impl JobFacts {
    /// A job of `repository` on github.com pushed to `main`, in `deploy.yml`, default subject:
    /// the starting point to change fields of.
    pub fn new(repository: impl Into<String>) -> Self {
        Self {
            repository: repository.into(),
            ids: None,
            git_ref: "refs/heads/main".to_owned(),
            event: "push".to_owned(),
            environment: None,
            workflow: "deploy.yml".to_owned(),
            job_workflow_ref: None,
            issuer: GITHUB_ISSUER.to_owned(),
            include_claim_keys: Vec::new(),
            audience: None,
            extra: Vec::new(),
        }
    }

    /// The `sub` context GitHub chooses, in its precedence order: an environment, then a
    /// `pull_request` event, then the ref.
    pub fn context(&self) -> Context {
        match (&self.environment, self.event.as_str()) {
            (Some(env), _) => Context::Environment(env.clone()),
            (None, "pull_request") => Context::PullRequest,
            (None, _) => match self.git_ref.strip_prefix("refs/heads/") {
                Some(b) => Context::Branch(b.to_owned()),
                None => match self.git_ref.strip_prefix("refs/tags/") {
                    Some(t) => Context::Tag(t.to_owned()),
                    None => Context::OtherRef(self.git_ref.clone()),
                },
            },
        }
    }
}

/// Facts from which no token can be predicted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PredictError {
    /// The repository is not `OWNER/REPO`.
    #[error("`{0}` is not `OWNER/REPO`")]
    Repository(String),
    /// The repository's name has characters GitHub does not allow in one.
    #[error("`{0}` is not a GitHub repository name: owners have letters, digits and hyphens, repositories also `.` and `_`")]
    RepositoryName(String),
    /// The subject template names a claim whose value the facts do not give.
    #[error("the template uses `{0}`, whose value cannot be predicted from the flags")]
    Unpredictable(String),
}

impl PredictError {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            PredictError::Repository(_) => "write `--repository octo-org/octo-repo`".to_owned(),
            PredictError::RepositoryName(_) => "write it as GitHub shows it in the repository's URL, e.g. `--repository octo-org/octo-repo`".to_owned(),
            PredictError::Unpredictable(key) => format!("pass its value with `--set {key}=VALUE`"),
        }
    }
}

/// `OWNER/REPO` split in two, or the error naming it. GitHub's rules for names (owners:
/// letters, digits and hyphens; repositories: also `.` and `_`) are checked too: a
/// repository GitHub cannot have predicts a token nobody gets.
pub fn owner_and_repo(repository: &str) -> Result<(&str, &str), PredictError> {
    let (owner, repo) = repository
        .split_once('/')
        .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
        .ok_or_else(|| PredictError::Repository(repository.to_owned()))?;
    let owner_ok = owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let repo_ok = repo
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if owner_ok && repo_ok {
        Ok((owner, repo))
    } else {
        Err(PredictError::RepositoryName(repository.to_owned()))
    }
}

/// The claims GitHub would issue for the job the facts describe.
pub fn predict(facts: &JobFacts) -> Result<Claims, PredictError> {
    let (owner, repo) = owner_and_repo(&facts.repository)?;
    let repo_part = RepoPart {
        owner: owner.to_owned(),
        repo: repo.to_owned(),
        ids: facts.ids.clone(),
    };
    let git_ref = &facts.git_ref;
    let workflow_ref = format!(
        "{}/.github/workflows/{}@{git_ref}",
        facts.repository, facts.workflow
    );
    let mut map = Map::new();
    let mut put = |k: &str, v: String| {
        map.insert(k.to_owned(), Value::String(v));
    };
    put("iss", facts.issuer.clone());
    put("repository", facts.repository.clone());
    put("repository_owner", owner.to_owned());
    put("ref", git_ref.clone());
    put(
        "ref_type",
        if git_ref.starts_with("refs/tags/") {
            "tag".into()
        } else {
            "branch".into()
        },
    );
    put("event_name", facts.event.clone());
    put("workflow_ref", workflow_ref.clone());
    // A job in a reusable workflow: `job_workflow_ref` names the called file, `workflow_ref`
    // stays the caller's (GitHub docs, "Using OpenID Connect with reusable workflows").
    put(
        "job_workflow_ref",
        facts.job_workflow_ref.clone().unwrap_or(workflow_ref),
    );
    if let Some(env) = &facts.environment {
        put("environment", env.clone());
    }
    if let Some((o, r)) = &repo_part.ids {
        put("repository_owner_id", o.clone());
        put("repository_id", r.clone());
    }
    for (k, v) in &facts.extra {
        put(k, v.clone());
    }
    let aud = facts.audience.clone().unwrap_or_else(|| {
        // GitHub's default: the owner URL on the instance's host.
        let host = if facts.issuer.ends_with("/_services/token") {
            facts.issuer.trim_end_matches("/_services/token").to_owned()
        } else {
            "https://github.com".to_owned()
        };
        format!("{host}/{owner}")
    });
    put("aud", aud);
    let mut claims = Claims(map);
    let context = facts.context();
    let sub = if facts.include_claim_keys.is_empty() {
        format!("repo:{}:{}", repo_part.render(), context.render())
    } else {
        custom_subject(&facts.include_claim_keys, &repo_part, &context, &claims)?
    };
    claims.0.insert("sub".into(), Value::String(sub));
    Ok(claims)
}

/// A customized subject: the template's keys as `key:value` pairs joined by `:`, `repo` and
/// `context` standing for the default form's parts (GitHub docs, "Customizing the subject
/// claims for an organization or repository").
fn custom_subject(
    keys: &[String],
    repo: &RepoPart,
    context: &Context,
    claims: &Claims,
) -> Result<String, PredictError> {
    let mut parts = Vec::new();
    for key in keys.iter().map(|k| k.trim()).filter(|k| !k.is_empty()) {
        match key {
            "repo" => parts.push(format!("repo:{}", repo.render())),
            "context" => parts.push(context.render()),
            other => {
                let value = claims
                    .text(other)
                    .ok_or_else(|| PredictError::Unpredictable(other.to_owned()))?;
                parts.push(format!("{other}:{}", encode(&value)));
            }
        }
    }
    Ok(parts.join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_environment_then_pull_request_then_ref() {
        let mut facts = JobFacts::new("octo-org/octo-repo");
        facts.event = "pull_request".into();
        facts.git_ref = "refs/pull/7/merge".into();
        let sub = |f: &JobFacts| predict(f).unwrap().subject().unwrap().to_owned();
        assert_eq!(sub(&facts), "repo:octo-org/octo-repo:pull_request");
        facts.environment = Some("prod".into());
        assert_eq!(sub(&facts), "repo:octo-org/octo-repo:environment:prod");
        facts.environment = None;
        facts.event = "push".into();
        facts.git_ref = "refs/tags/v1".into();
        assert_eq!(sub(&facts), "repo:octo-org/octo-repo:ref:refs/tags/v1");
    }

    #[test]
    fn a_reusable_workflow_changes_job_workflow_ref_only() {
        let mut facts = JobFacts::new("octo-org/app");
        facts.workflow = "release.yml".into();
        facts.job_workflow_ref =
            Some("octo-org/app/.github/workflows/deploy.yml@refs/heads/main".into());
        let claims = predict(&facts).unwrap();
        assert_eq!(
            claims.str("workflow_ref"),
            Some("octo-org/app/.github/workflows/release.yml@refs/heads/main")
        );
        assert_eq!(
            claims.str("job_workflow_ref"),
            Some("octo-org/app/.github/workflows/deploy.yml@refs/heads/main")
        );
    }

    #[test]
    fn a_template_with_an_unknown_claim_is_an_error_naming_it() {
        let mut facts = JobFacts::new("o/r");
        facts.include_claim_keys = vec!["repo".into(), "actor".into()];
        assert_eq!(
            predict(&facts),
            Err(PredictError::Unpredictable("actor".into()))
        );
        facts.extra = vec![("actor".into(), "octo:cat".into())];
        assert_eq!(
            predict(&facts).unwrap().subject(),
            Some("repo:o/r:actor:octo%3Acat")
        );
        assert_eq!(
            predict(&JobFacts::new("nope")),
            Err(PredictError::Repository("nope".into()))
        );
    }
}
