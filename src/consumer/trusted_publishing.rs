//! What PyPI, crates.io and npm trusted publishing share: a trusted publisher names the
//! repository, a workflow file and optionally an environment. Which claim the workflow file
//! comes from differs: PyPI reads `job_workflow_ref` (pypi/warehouse
//! `warehouse/oidc/models/github.py`, so a job in a reusable workflow is matched by the
//! reusable workflow's file), crates.io and npm the calling workflow's `workflow_ref`
//! (facts file, "Registries (trusted publishing) each read different claims").

use super::Consumer;
use crate::claims::Claims;
use crate::findings::{Finding, FindingId, Severity};

/// The workflow file name from a `workflow_ref` or `job_workflow_ref`
/// (`o/r/.github/workflows/deploy.yml@refs/heads/main`).
pub(crate) fn workflow_file(workflow_ref: &str) -> &str {
    let path = workflow_ref.split('@').next().unwrap_or(workflow_ref);
    path.rsplit('/').next().unwrap_or(path)
}

/// The notice naming what the registry `name` will compare with its trusted publisher, the
/// workflow file taken from the claim `workflow_claim` that registry reads.
pub(crate) fn matched_claims(name: &str, workflow_claim: &str, claims: &Claims) -> Finding {
    Finding::new(
        FindingId::TrustedPublisherClaims,
        Severity::Notice,
        "What the registry matches",
        format!(
            "{name} matches repository `{}`, workflow file `{}` and environment `{}`",
            claims.str("repository").unwrap_or_default(),
            workflow_file(claims.str(workflow_claim).unwrap_or_default()),
            claims.str("environment").unwrap_or("(none)")
        ),
        "the trusted publisher must name exactly this workflow file (renamed files do not match) and, if it requires one, this environment",
    )
}

/// A trusted publisher as the user entered it on the registry (input `trusted-publisher`,
/// flag `--trusted-publisher`): the registry, the repository, the workflow file and,
/// optionally, the environment and the owner's numeric id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedPublisher {
    /// PyPI, crates.io or npm.
    pub registry: Consumer,
    /// The repository's owner, as entered.
    pub owner: String,
    /// The repository's name, as entered.
    pub repository: String,
    /// The workflow file name, as entered (`release.yml`).
    pub workflow: String,
    /// The environment, when the publisher requires one.
    pub environment: Option<String>,
    /// The owner's numeric id, when known: PyPI and crates.io store it when the publisher is
    /// created and compare `repository_owner_id` with it.
    pub owner_id: Option<String>,
}

/// Why a trusted publisher's text cannot be used: what is wrong and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPublisher {
    /// What is wrong.
    pub reason: String,
    /// What to write.
    pub hint: String,
}

const PUBLISHER_FORM: &str = "registry=pypi, repository=OWNER/REPO, workflow=release.yml, environment=release (environment and owner-id are optional; one per line in the action input)";

impl TrustedPublisher {
    /// Parses `key=value` items (or `key: value`) separated by commas or line breaks: `registry`
    /// (pypi, crates-io or npm), `repository` (OWNER/REPO), `workflow` (the file name), and
    /// optionally `environment` and `owner-id`.
    pub fn parse(text: &str) -> Result<Self, BadPublisher> {
        let bad = |reason: String| BadPublisher {
            reason,
            hint: format!("write it as the registry shows it: {PUBLISHER_FORM}"),
        };
        let mut fields: Vec<(String, String)> = Vec::new();
        for item in text
            .split([',', '\n'])
            .map(str::trim)
            .filter(|i| !i.is_empty())
        {
            let (key, value) = item
                .split_once('=')
                .or_else(|| item.split_once(':'))
                .ok_or_else(|| bad(format!("`{item}` is not `key=value`")))?;
            if value.contains('=') {
                return Err(bad(format!(
                    "`{item}` holds more than one `key=value`: separate them with commas or line breaks"
                )));
            }
            let key = key.trim().to_ascii_lowercase().replace('_', "-");
            if fields.iter().any(|(k, _)| *k == key) {
                return Err(bad(format!("`{key}` is given twice")));
            }
            fields.push((key, value.trim().to_owned()));
        }
        let mut take = |key: &str| {
            fields
                .iter()
                .position(|(k, _)| k == key)
                .map(|i| fields.remove(i).1)
                .filter(|v| !v.is_empty())
        };
        let registry_text = take("registry").ok_or_else(|| bad("no `registry`".to_owned()))?;
        let registry = registry_text
            .parse::<Consumer>()
            .ok()
            .filter(|c| c.is_registry())
            .ok_or_else(|| {
                bad(format!(
                    "registry `{registry_text}` has no trusted publishers here: expected pypi, crates-io or npm"
                ))
            })?;
        let repository_text =
            take("repository").ok_or_else(|| bad("no `repository`".to_owned()))?;
        let (owner, repository) = repository_text
            .trim_start_matches("https://github.com/")
            .split_once('/')
            .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
            .ok_or_else(|| {
                bad(format!(
                    "repository `{repository_text}` is not `OWNER/REPO`"
                ))
            })?;
        let workflow = take("workflow").ok_or_else(|| bad("no `workflow`".to_owned()))?;
        // The registries ask for the file name; a path is the usual paste mistake.
        if workflow.contains('/') {
            return Err(BadPublisher {
                reason: format!(
                    "workflow `{workflow}` is a path; the registries take the file name"
                ),
                hint: format!(
                    "write `workflow={}`",
                    workflow.rsplit('/').next().unwrap_or_default()
                ),
            });
        }
        if !(workflow.ends_with(".yml") || workflow.ends_with(".yaml")) {
            return Err(BadPublisher {
                reason: format!("workflow `{workflow}` is not a workflow file name"),
                hint: "write the file name with its extension, e.g. `workflow=release.yml`"
                    .to_owned(),
            });
        }
        let publisher = TrustedPublisher {
            registry,
            owner: owner.to_owned(),
            repository: repository.to_owned(),
            workflow,
            environment: take("environment"),
            owner_id: take("owner-id"),
        };
        if let Some((key, _)) = fields.first() {
            return Err(bad(format!("unknown key `{key}`")));
        }
        Ok(publisher)
    }

    /// `OWNER/REPO` as entered.
    pub fn full_repository(&self) -> String {
        format!("{}/{}", self.owner, self.repository)
    }

    /// The registry's check of `claims` against this publisher: one finding per cause, or
    /// one notice that it matches.
    pub(crate) fn check(&self, claims: &Claims) -> Vec<Finding> {
        let findings = match self.registry {
            Consumer::Pypi => super::pypi::check_publisher(self, claims),
            Consumer::CratesIo => super::crates_io::check_publisher(self, claims),
            Consumer::Npm => super::npm::check_publisher(self, claims),
            // `parse` admits registries only; should another consumer get here, it is refused,
            // never a silent match.
            other => vec![unsupported(
                format!("{} has no trusted publishers", other.name()),
                "name pypi, crates-io or npm as the registry",
            )],
        };
        if findings.is_empty() {
            vec![Finding::new(
                FindingId::PublisherMatches,
                Severity::Notice,
                "Trusted publisher matches",
                format!(
                    "{} would accept this token for the trusted publisher {}",
                    self.registry.name(),
                    self.describe()
                ),
                "nothing to change",
            )]
        } else {
            findings
        }
    }

    /// The publisher in one line, as the registry lists it.
    pub(crate) fn describe(&self) -> String {
        format!(
            "`{}`, workflow `{}`, environment `{}`",
            self.full_repository(),
            self.workflow,
            self.environment.as_deref().unwrap_or("(any)")
        )
    }
}

/// How a registry compares a name with a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compare {
    /// Exactly, case included.
    Exact,
    /// Ignoring ASCII case.
    IgnoringCase,
}

impl Compare {
    pub(crate) fn same(self, a: &str, b: &str) -> bool {
        match self {
            Compare::Exact => a == b,
            Compare::IgnoringCase => a.eq_ignore_ascii_case(b),
        }
    }
}

/// The findings the three registries share, each compared as `compare` says for that field:
/// the repository (from `repository`), the owner id, the workflow file (from the claim the
/// registry reads) and the environment.
pub(crate) struct Rules {
    pub(crate) name: &'static str,
    pub(crate) workflow_claim: &'static str,
    pub(crate) repository: Compare,
    pub(crate) workflow: Compare,
    pub(crate) environment: Compare,
}

/// `compare_workflow` is false when the registry refuses the token's workflow anyway (PyPI
/// and a reusable workflow of another repository): registering its file would not help.
pub(crate) fn shared_checks(
    p: &TrustedPublisher,
    claims: &Claims,
    rules: &Rules,
    compare_workflow: bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let name = rules.name;
    let repository = claims.str("repository").unwrap_or_default();
    let expected = p.full_repository();
    if !rules.repository.same(repository, &expected) {
        let case_only = repository.eq_ignore_ascii_case(&expected);
        findings.push(mismatch(
            "repository",
            format!(
                "{name}'s trusted publisher names repository `{expected}`; this token is from `{repository}`{}",
                if case_only { " (they differ only in case, and this registry compares them exactly)" } else { "" }
            ),
            if case_only {
                format!("enter the repository on {name} exactly as GitHub spells it: `{repository}`")
            } else {
                format!("publish from `{expected}`, or add a trusted publisher on {name} for `{repository}` (a second publisher: one more repository may publish)")
            },
        ));
    }
    if let (Some(id), Some(token_id)) = (&p.owner_id, claims.str("repository_owner_id")) {
        if id != token_id {
            findings.push(mismatch(
                "owner id",
                format!("{name} stored owner id `{id}` when the publisher was created; this token has repository_owner_id `{token_id}` (the owner was renamed, deleted or re-created, or the publisher is for another account)"),
                format!("delete the trusted publisher on {name} and create it again from this repository"),
            ));
        }
    }
    let workflow_ref = claims.str(rules.workflow_claim).unwrap_or_default();
    let file = workflow_file(workflow_ref);
    if compare_workflow && !rules.workflow.same(file, &p.workflow) {
        let case_only = file.eq_ignore_ascii_case(&p.workflow);
        findings.push(mismatch(
            "workflow",
            format!(
                "{name}'s trusted publisher names workflow `{}`; {name} reads the file from `{}`, which is `{file}` in this token (`{workflow_ref}`){}",
                p.workflow,
                rules.workflow_claim,
                if case_only { ": they differ only in case, and the file name is compared exactly" } else { "" }
            ),
            if case_only {
                format!("enter the workflow on {name} exactly as the file is named: `{file}`")
            } else if rules.workflow_claim == "job_workflow_ref" {
                format!("run the publishing job in `{}` (with a reusable workflow, PyPI wants the reusable workflow's own file, not the caller's), or register `{file}` on {name}", p.workflow)
            } else {
                format!("run the publish from `{}` (crates.io and npm want the file of the workflow that was triggered: with a reusable workflow, the caller), or register `{file}` on {name}", p.workflow)
            },
        ));
    }
    if let Some(wanted) = &p.environment {
        match claims.str("environment") {
            None => findings.push(mismatch(
                "environment",
                format!("{name}'s trusted publisher requires environment `{wanted}`; this job declares no `environment:`, so the token has none"),
                format!("add `environment: {wanted}` to the publishing job"),
            )),
            Some(env) if !rules.environment.same(env, wanted) => findings.push(mismatch(
                "environment",
                format!("{name}'s trusted publisher requires environment `{wanted}`; this job runs in `{env}`{}",
                    if env.eq_ignore_ascii_case(wanted) { " (they differ only in case, and this registry compares them exactly)" } else { "" }),
                format!("set `environment: {wanted}` on the publishing job, or change the publisher's environment on {name} to `{env}`"),
            )),
            Some(_) => {}
        }
    }
    findings
}

fn mismatch(field: &str, message: String, hint: String) -> Finding {
    Finding::new(
        FindingId::PublisherMismatch,
        Severity::Error,
        format!("Trusted publisher {field} differs"),
        message,
        hint,
    )
}

/// A token the registry refuses whatever its publishers say.
pub(crate) fn unsupported(message: String, hint: impl Into<String>) -> Finding {
    Finding::new(
        FindingId::PublisherUnsupported,
        Severity::Error,
        "Registry refuses this kind of token",
        message,
        hint,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: serde_json::Value) -> Claims {
        Claims::from(v.as_object().unwrap().clone())
    }

    fn token() -> serde_json::Value {
        json!({
            "sub": "repo:octo-org/octo-repo:environment:release",
            "iss": "https://token.actions.githubusercontent.com",
            "aud": "pypi",
            "repository": "octo-org/octo-repo",
            "repository_owner_id": "65",
            "environment": "release",
            "event_name": "push",
            "ref": "refs/tags/v1",
            "runner_environment": "github-hosted",
            "workflow_ref": "octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1",
            "job_workflow_ref": "octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1",
        })
    }

    fn ids(p: &str, c: serde_json::Value) -> Vec<(FindingId, String)> {
        TrustedPublisher::parse(p)
            .unwrap()
            .check(&claims(c))
            .into_iter()
            .map(|f| (f.id, f.title))
            .collect()
    }

    #[test]
    fn parses_what_the_registry_shows_and_refuses_paste_mistakes() {
        let p = TrustedPublisher::parse(
            "registry: PyPI\nrepository=https://github.com/octo-org/octo-repo\nworkflow=release.yml\nowner-id=65",
        )
        .unwrap();
        assert_eq!(
            (
                p.registry,
                p.full_repository().as_str(),
                p.owner_id.as_deref()
            ),
            (Consumer::Pypi, "octo-org/octo-repo", Some("65"))
        );
        for (text, says) in [
            (
                "registry=pypi,repository=o/r,workflow=.github/workflows/release.yml",
                "is a path",
            ),
            (
                "registry=pypi,repository=o/r,workflow=release",
                "not a workflow file name",
            ),
            (
                "registry=aws,repository=o/r,workflow=a.yml",
                "has no trusted publishers",
            ),
            (
                "registry=pypi,repository=o,workflow=a.yml",
                "not `OWNER/REPO`",
            ),
            (
                "registry=pypi,repository=o/r,workflow=a.yml,branch=main",
                "unknown key `branch`",
            ),
            ("registry=pypi,registry=npm", "given twice"),
            ("repository=o/r,workflow=a.yml", "no `registry`"),
            ("registry=npm repository=o/r", "separate them"),
            ("registry", "not `key=value`"),
        ] {
            let e = TrustedPublisher::parse(text).unwrap_err();
            assert!(e.reason.contains(says), "{text}: {}", e.reason);
            assert!(!e.hint.is_empty());
        }
    }

    #[test]
    fn each_registry_compares_as_its_source_says() {
        // PyPI and crates.io ignore case in the repository and environment, npm does not.
        let c = json!({"repository": "Octo-Org/octo-repo", "environment": "Release"});
        let mut t = token();
        t.as_object_mut()
            .unwrap()
            .extend(c.as_object().unwrap().clone());
        for registry in ["pypi", "crates-io"] {
            let found = ids(&format!("registry={registry},repository=octo-org/octo-repo,workflow=release.yml,environment=release"), t.clone());
            assert_eq!(
                found[0].0,
                FindingId::PublisherMatches,
                "{registry}: {found:?}"
            );
        }
        let found = ids(
            "registry=npm,repository=octo-org/octo-repo,workflow=release.yml,environment=release",
            t,
        );
        let titles: Vec<&str> = found.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Trusted publisher repository differs",
                "Trusted publisher environment differs"
            ]
        );
    }

    #[test]
    fn tokens_each_registry_refuses_outright() {
        let with = |k: &str, v: serde_json::Value| {
            let mut t = token();
            t[k] = v;
            t
        };
        let unsupported = |p: &str, t| {
            ids(p, t)
                .iter()
                .filter(|(id, _)| *id == FindingId::PublisherUnsupported)
                .count()
        };
        let pypi = "registry=pypi,repository=octo-org/octo-repo,workflow=release.yml";
        assert_eq!(
            unsupported(pypi, with("event_name", json!("pull_request_target"))),
            1
        );
        assert_eq!(
            unsupported(
                pypi,
                with(
                    "sub",
                    json!("repo:octo-org@65/octo-repo@74:ref:refs/tags/v1")
                )
            ),
            1
        );
        assert_eq!(
            unsupported(
                pypi,
                with(
                    "job_workflow_ref",
                    json!("octo-org/shared/.github/workflows/release.yml@refs/tags/v1")
                )
            ),
            1
        );
        assert_eq!(unsupported(pypi, token()), 0);
        let crates = "registry=crates-io,repository=octo-org/octo-repo,workflow=release.yml";
        assert_eq!(
            unsupported(crates, with("aud", json!(["crates.io", "x"]))),
            1
        );
        assert_eq!(
            unsupported(
                crates,
                with(
                    "iss",
                    json!("https://token.actions.githubusercontent.com/octo-ent")
                )
            ),
            1
        );
        let npm = "registry=npm,repository=octo-org/octo-repo,workflow=release.yml";
        assert_eq!(
            unsupported(npm, with("runner_environment", json!("self-hosted"))),
            1
        );
        // The owner id PyPI and crates.io stored.
        let found = ids(&format!("{pypi},owner-id=66"), token());
        assert_eq!(
            found,
            [(
                FindingId::PublisherMismatch,
                "Trusted publisher owner id differs".to_owned()
            )]
        );
    }

    #[test]
    fn pypi_refuses_a_reusable_workflow_called_at_another_ref_or_from_another_repository() {
        let pypi = "registry=pypi,repository=octo-org/octo-repo,workflow=release.yml";
        let mut t = token();
        t["job_workflow_ref"] =
            json!("octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main");
        t["sha"] = json!("abc123");
        let found = TrustedPublisher::parse(pypi).unwrap().check(&claims(t));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            found[0].message,
            "job_workflow_ref `octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main` names `@refs/heads/main`, but PyPI requires it to be this run's ref `refs/tags/v1` or sha `abc123` (`_check_job_workflow_ref`): the reusable workflow is called at another ref"
        );
        // Another repository's reusable workflow: one cause, no "register its file" beside it.
        let mut t = token();
        t["job_workflow_ref"] = json!("octo-org/shared/.github/workflows/publish.yml@refs/tags/v1");
        let found = ids(pypi, t);
        assert_eq!(
            found,
            [(
                FindingId::PublisherUnsupported,
                "Registry refuses this kind of token".to_owned()
            )]
        );
    }

    #[test]
    fn pypi_reads_the_reusable_workflows_file_crates_io_the_callers() {
        let mut t = token();
        t["job_workflow_ref"] =
            json!("octo-org/octo-repo/.github/workflows/build.yml@refs/tags/v1");
        let caller = ",repository=octo-org/octo-repo,workflow=release.yml";
        assert_eq!(
            ids(&format!("registry=pypi{caller}"), t.clone())[0].1,
            "Trusted publisher workflow differs"
        );
        assert_eq!(
            ids(&format!("registry=crates-io{caller}"), t)[0].0,
            FindingId::PublisherMatches
        );
    }
}
