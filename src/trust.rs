//! Trust policy files (input `trust-policy`, `check --trust-policy`): loading, and turning each
//! document's verdict into findings. The evaluation itself is [`crate::policy`].

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::claims::Claims;
use crate::files::{self, FileError};
use crate::findings::{Finding, FindingId, Severity};
use crate::policy::{self, Policy, PolicyError, PolicyFormat, Reason};

/// Largest policy document read. Real ones are a few kilobytes.
const MAX_POLICY_BYTES: u64 = 1024 * 1024;

/// Most trust documents read in one run. A job deploys to a handful of roles and providers;
/// each document adds findings, annotations and CEL time (up to its deadline), so thousands
/// of them (20,000 small ones wrote 80,002 annotations and an 81 MB log) are refused instead.
pub const MAX_TRUST_DOCUMENTS: usize = 100;

/// A parsed document and where it came from.
#[derive(Debug)]
pub struct LoadedPolicy {
    /// The path as the user gave it (for messages).
    pub path: String,
    /// The document.
    pub policy: Policy,
}

pub use crate::policy::PolicyOutcome;

/// A policy file that cannot be used.
#[derive(Debug, Error)]
pub enum TrustPolicyError {
    /// The file cannot be read.
    #[error("cannot read the trust policy `{path}`: {source}")]
    Read {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file cannot be used as a document: missing, not a regular file, too large, not
    /// text.
    #[error(transparent)]
    File(#[from] FileError),
    /// A directory with no `.json`, `.yaml` or `.yml` file.
    #[error("the directory `{path}` holds no .json, .yaml or .yml trust policy")]
    EmptyDirectory {
        /// The path.
        path: String,
    },
    /// The document does not parse.
    #[error("the trust policy `{path}` cannot be used: {error}")]
    Parse {
        /// The path.
        path: String,
        /// Where and what.
        error: PolicyError,
    },
    /// More documents than [`MAX_TRUST_DOCUMENTS`]; none was read.
    #[error("{count} trust policy documents were given, more than the {MAX_TRUST_DOCUMENTS} checked in one run")]
    TooMany {
        /// How many files the paths name (directories expanded).
        count: usize,
    },
    /// An unknown `trust-policy-format`.
    #[error("unknown trust policy format `{0}`: expected aws, azure, gcp, vault or auto")]
    UnknownFormat(String),
}

impl TrustPolicyError {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            TrustPolicyError::Read { .. } | TrustPolicyError::EmptyDirectory { .. } => {
                "give a path relative to the workspace (check out the repository first) or an absolute path".into()
            }
            TrustPolicyError::File(FileError::Unreadable { .. }) => {
                "give a path relative to the workspace (check out the repository first) or an absolute path".into()
            }
            TrustPolicyError::File(e) => e.hint().into(),
            TrustPolicyError::TooMany { .. } => format!(
                "pass only the documents of the roles and providers this job uses (at most {MAX_TRUST_DOCUMENTS}), or split them over several steps"
            ),
            TrustPolicyError::Parse { error, .. } => error.hint(),
            TrustPolicyError::UnknownFormat(_) => "set `trust-policy-format` to aws, azure, gcp, vault or auto (the default)".into(),
        }
    }
}

/// Parses a `trust-policy-format` value; empty and `auto` detect the format per document.
pub fn parse_format(text: &str) -> Result<Option<PolicyFormat>, TrustPolicyError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" | "auto" => Ok(None),
        "aws" => Ok(Some(PolicyFormat::Aws)),
        "azure" => Ok(Some(PolicyFormat::Azure)),
        "gcp" => Ok(Some(PolicyFormat::Gcp)),
        "vault" => Ok(Some(PolicyFormat::Vault)),
        _ => Err(TrustPolicyError::UnknownFormat(text.to_owned())),
    }
}

/// Loads every document: files as given, directories expanded to their `.json`, `.yaml` and
/// `.yml` files in name order. Relative paths are resolved against `base` (the workspace).
pub fn load(
    paths: &[String],
    base: Option<&Path>,
    format: Option<PolicyFormat>,
) -> Result<Vec<LoadedPolicy>, TrustPolicyError> {
    let mut files = Vec::new();
    for shown in paths {
        let path = match base {
            Some(base) if Path::new(shown).is_relative() => base.join(shown),
            _ => PathBuf::from(shown),
        };
        files.extend(expand(&path, shown)?);
    }
    // Counted before any is read, so that a flood costs no parsing.
    if files.len() > MAX_TRUST_DOCUMENTS {
        return Err(TrustPolicyError::TooMany { count: files.len() });
    }
    let mut loaded = Vec::new();
    for (file, name) in files {
        let text = read_bounded(&file, &name)?;
        let policy = policy::parse(&text, format).map_err(|error| TrustPolicyError::Parse {
            path: name.clone(),
            error,
        })?;
        loaded.push(LoadedPolicy { path: name, policy });
    }
    Ok(loaded)
}

fn expand(path: &Path, shown: &str) -> Result<Vec<(PathBuf, String)>, TrustPolicyError> {
    if !path.is_dir() {
        return Ok(vec![(path.to_path_buf(), shown.to_owned())]);
    }
    let read_err = |source| TrustPolicyError::Read {
        path: shown.to_owned(),
        source,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(read_err)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .is_some_and(|e| e == "json" || e == "yaml" || e == "yml")
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(TrustPolicyError::EmptyDirectory {
            path: shown.to_owned(),
        });
    }
    Ok(files
        .into_iter()
        .map(|f| {
            let name = format!(
                "{}/{}",
                shown.trim_end_matches('/'),
                f.file_name().unwrap_or_default().to_string_lossy()
            );
            (f, name)
        })
        .collect())
}

fn read_bounded(file: &Path, name: &str) -> Result<String, TrustPolicyError> {
    Ok(files::read_text_as(
        file,
        name,
        "the trust policy",
        MAX_POLICY_BYTES,
    )?)
}

/// Evaluates every document against the claims.
pub fn evaluate(loaded: &[LoadedPolicy], claims: &Claims) -> Vec<PolicyOutcome> {
    loaded
        .iter()
        .map(|l| PolicyOutcome {
            path: l.path.clone(),
            report: policy::evaluate(&l.policy, claims),
        })
        .collect()
}

/// `allow` when every document allows, `deny` when any refuses, empty without documents: the
/// `policy-result` output.
pub fn result(outcomes: &[PolicyOutcome]) -> &'static str {
    if outcomes.is_empty() {
        ""
    } else if outcomes.iter().all(|o| o.report.allowed) {
        "allow"
    } else {
        "deny"
    }
}

/// The findings for the outcomes: for a refusal, one error per refusing reason (with the
/// evaluator's id, e.g. `aws-condition-failed`); for an allow, one `policy-allows` notice; and
/// a warning per evaluator warning (e.g. `aws-wildcard-under-stringequals`).
pub fn findings(outcomes: &[PolicyOutcome]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for o in outcomes {
        let kind = o.report.format;
        if o.report.allowed {
            let why = o
                .report
                .reasons
                .iter()
                .filter(|r| r.holds())
                .map(|r| r.message.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            findings.push(Finding::new(
                FindingId::PolicyAllows,
                Severity::Notice,
                format!("{kind} allows the token"),
                format!("`{}` allows the token: {why}", o.path),
                "nothing to change",
            ));
        } else {
            for r in o.report.reasons.iter().filter(|r| !r.holds()) {
                findings.push(reason_finding(
                    o,
                    r,
                    Severity::Error,
                    format!("{kind} refuses the token"),
                ));
            }
        }
        for w in &o.report.warnings {
            findings.push(reason_finding(
                o,
                w,
                Severity::Warning,
                format!("{kind}: likely mistake"),
            ));
        }
    }
    findings
}

fn reason_finding(o: &PolicyOutcome, r: &Reason, severity: Severity, title: String) -> Finding {
    Finding::new(
        FindingId::Policy(r.id),
        severity,
        title,
        format!("`{}` at {}: {}", o.path, r.location, r.message),
        r.hint
            .clone()
            .unwrap_or_else(|| format!("change `{}` or the job so that they agree", r.location)),
    )
}

/// Evaluates the documents against the analysed claims (the predicted ones with
/// `job-environment`) and adds the outcomes and their findings to the analysis.
pub fn apply(analysis: &mut crate::diagnose::Analysis, loaded: &[LoadedPolicy]) {
    let outcomes = evaluate(loaded, &analysis.claims);
    for finding in findings(&outcomes) {
        analysis.add(finding);
    }
    analysis.policies = outcomes;
    // A trust policy given is a check requested, even should it hold no statement.
    analysis.checks_requested |= !loaded.is_empty();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn evaluate_one(document: serde_json::Value, claims: serde_json::Value) -> PolicyOutcome {
        let policy = policy::parse(&document.to_string(), None).unwrap();
        let claims = Claims(claims.as_object().cloned().unwrap_or_default());
        PolicyOutcome {
            path: "policy.json".into(),
            report: policy::evaluate(&policy, &claims),
        }
    }

    fn credential(subject: &str) -> serde_json::Value {
        json!({
            "name": "c",
            "issuer": "https://token.actions.githubusercontent.com",
            "subject": subject,
            "audiences": ["api://AzureADTokenExchange"]
        })
    }

    fn token(sub: &str) -> serde_json::Value {
        json!({
            "iss": "https://token.actions.githubusercontent.com",
            "aud": "api://AzureADTokenExchange",
            "sub": sub,
        })
    }

    #[test]
    fn an_allow_quotes_only_what_matched() {
        let prod = "repo:octo-org/octo-repo:environment:prod";
        let list = json!([
            credential("repo:octo-org/octo-repo:ref:refs/heads/main"),
            credential(prod)
        ]);
        let outcome = evaluate_one(list, token(prod));
        assert!(outcome.report.allowed);
        let findings = findings(std::slice::from_ref(&outcome));
        let allows = findings
            .iter()
            .find(|f| f.id.as_str() == "policy-allows")
            .unwrap();
        assert!(allows.message.contains(prod), "{}", allows.message);
        // `azure-credential-not-matched` on the first credential is not a reason it allows.
        assert!(
            !allows.message.contains("does not match"),
            "{}",
            allows.message
        );
    }

    /// A `sub` over 127 bytes (the token check, which guesses `google.subject=assertion.sub`)
    /// and a document whose mapping gives a `google.subject` over 127 bytes are two findings
    /// with two ids: a consumer keying on an id gets one meaning.
    #[test]
    fn a_long_subject_and_a_long_mapped_subject_have_distinct_ids() {
        use crate::consumer::Consumer;
        use crate::diagnose::{analyze, Clock, Expectations};
        let gcp = json!({
            "name": "projects/1/locations/global/workloadIdentityPools/p/providers/g",
            "attributeMapping": {"google.subject": "assertion.sub"},
            "oidc": {"issuerUri": "https://token.actions.githubusercontent.com", "allowedAudiences": ["g"]},
            "state": "ACTIVE"
        });
        let sub = format!("repo:octo-org/{}:ref:refs/heads/main", "r".repeat(120));
        let mut claims = token(&sub);
        claims["aud"] = json!("g");
        let claims = Claims(claims.as_object().cloned().unwrap_or_default());
        let expect = Expectations {
            consumer: Some(Consumer::Gcp),
            ..Expectations::default()
        };
        let clock = Clock {
            now: 0,
            fresh: false,
        };
        let mut analysis = analyze(&claims, &expect, clock);
        let loaded = [LoadedPolicy {
            path: "provider.json".into(),
            policy: policy::parse(&gcp.to_string(), None).unwrap(),
        }];
        apply(&mut analysis, &loaded);
        let count = |id: &str| {
            analysis
                .findings
                .iter()
                .filter(|f| f.id.as_str() == id)
                .count()
        };
        assert_eq!(count("gcp-subject-too-long"), 1, "{:?}", analysis.findings);
        assert_eq!(
            count("gcp-mapped-subject-too-long"),
            1,
            "{:?}",
            analysis.findings
        );
    }

    #[test]
    fn a_refusal_reports_every_part_that_does_not_hold() {
        let list = json!([credential("repo:octo-org/octo-repo:environment:prod")]);
        let outcome = evaluate_one(list, token("repo:octo-org/octo-repo:ref:refs/heads/main"));
        assert!(!outcome.report.allowed);
        let ids: Vec<_> = findings(std::slice::from_ref(&outcome))
            .iter()
            .map(|f| f.id.as_str())
            .collect();
        assert!(ids.contains(&"azure-credential-not-matched"), "{ids:?}");
        assert!(ids.contains(&"azure-subject-mismatch"), "{ids:?}");
        assert!(!ids.contains(&"azure-issuer-matched"), "{ids:?}");

        let gcp = json!({
            "name": "projects/1/locations/global/workloadIdentityPools/p/providers/g",
            "attributeMapping": {"google.subject": "assertion.environment"},
            "oidc": {"issuerUri": "https://token.actions.githubusercontent.com", "allowedAudiences": ["g"]},
            "state": "ACTIVE"
        });
        let mut claims = token("repo:octo-org/octo-repo:ref:refs/heads/main");
        claims["aud"] = json!("g");
        let outcome = evaluate_one(gcp, claims);
        assert!(!outcome.report.allowed);
        let ids: Vec<_> = findings(std::slice::from_ref(&outcome))
            .iter()
            .map(|f| f.id.as_str())
            .collect();
        // `gcp-subject-not-mapped` ends like `gcp-subject-mapped`, and is a refusal.
        assert!(ids.contains(&"gcp-subject-not-mapped"), "{ids:?}");
        assert!(!ids.contains(&"gcp-issuer-matched"), "{ids:?}");
    }
}
