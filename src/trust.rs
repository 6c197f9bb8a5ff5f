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

/// The findings for the outcomes. For a refusal, one error per cause (a reason the evaluator
/// marks as one, with its id, e.g. `aws-condition-failed`): the summaries above a cause
/// (`aws-statement-not-matched`, `aws-implicit-deny`, `azure-credential-not-matched`) are not
/// repeated, reasons at the same place of the document are one cause, and a warning about that
/// same place is told in its finding rather than apart. For an allow, no finding (the
/// verdict line says it). A warning per other evaluator warning (e.g. `aws-claim-not-passed` on a Deny that
/// never fires).
pub fn findings(outcomes: &[PolicyOutcome]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for o in outcomes {
        let kind = o.report.format;
        let mut folded = vec![false; o.report.warnings.len()];
        // An allow is the log's and the summary's verdict line on the document: no finding.
        if !o.report.allowed {
            for cause in causes(&o.report) {
                let mut finding = cause_finding(
                    o,
                    &cause,
                    Severity::Error,
                    format!("{kind} refuses the token"),
                );
                for (i, w) in o.report.warnings.iter().enumerate() {
                    if w.location == cause[0].location {
                        folded[i] = true;
                        finding.message.push_str(&format!("; also: {}", w.message));
                        if let Some(hint) = &w.hint {
                            finding.hint.push_str(&format!("; also: {hint}"));
                        }
                    }
                }
                findings.push(finding);
            }
        }
        for (w, _) in o.report.warnings.iter().zip(&folded).filter(|(_, f)| !**f) {
            findings.push(cause_finding(
                o,
                &[w],
                Severity::Warning,
                format!("{kind}: likely mistake"),
            ));
        }
    }
    findings
}

/// The causes of a refusal, each the reasons at one place of the document, in document order.
/// Reports whose evaluator marks no cause (should one not) fall back to every reason that does
/// not hold, so that a refusal is never without a finding.
fn causes(report: &crate::policy::PolicyReport) -> Vec<Vec<&Reason>> {
    let mut groups: Vec<Vec<&Reason>> = Vec::new();
    for reason in report.refusing() {
        match groups.iter_mut().find(|g| g[0].location == reason.location) {
            Some(group) => group.push(reason),
            None => groups.push(vec![reason]),
        }
    }
    groups
}

/// One finding for the reasons at one place: the first one's id, every message, the hints in
/// order.
fn cause_finding(
    o: &PolicyOutcome,
    reasons: &[&Reason],
    severity: Severity,
    title: String,
) -> Finding {
    let first = reasons[0];
    let messages: Vec<&str> = reasons.iter().map(|r| r.message.as_str()).collect();
    let hints: Vec<&str> = reasons.iter().filter_map(|r| r.hint.as_deref()).collect();
    let hint = if hints.is_empty() {
        format!("change `{}` or the job so that they agree", first.location)
    } else {
        hints.join("; also: ")
    };
    // The location is given unless the message already names the place (the statement and
    // key, the credential and field): each part is said once.
    let at = if names_its_place(first) {
        String::new()
    } else {
        format!(" at {}", first.location)
    };
    Finding::new(
        FindingId::Policy(first.id),
        severity,
        title,
        format!("`{}`{at}: {}", o.path, messages.join("; ")),
        hint,
    )
}

/// Whether a reason's message names the last part of its location (`...:sub`, `subject`,
/// `Principal`, `Statement[1]`).
fn names_its_place(reason: &Reason) -> bool {
    let last = reason
        .location
        .rsplit('.')
        .next()
        .unwrap_or(&reason.location);
    !last.is_empty() && reason.message.contains(last)
}

/// Evaluates the documents against the analysed claims (the predicted ones with
/// `job-environment`) and adds the outcomes and their findings to the analysis.
pub fn apply(analysis: &mut crate::diagnose::Analysis, loaded: &[LoadedPolicy]) {
    let outcomes = evaluate(loaded, &analysis.claims);
    let origin = crate::diagnose::subject_origin(&analysis.claims, &analysis.subject_form);
    let quoted = analysis.claims.subject().map(str::to_owned);
    for mut finding in findings(&outcomes) {
        // A refusal that quotes the token's `sub` gets the account a subject pattern gets:
        // which form GitHub issued, and why.
        if let (Some(origin), Some(quoted)) = (&origin, &quoted) {
            if finding.severity == Severity::Error && finding.message.contains(quoted.as_str()) {
                finding
                    .message
                    .push_str(&format!("; why this `sub`: {origin}"));
            }
        }
        analysis.add(finding);
    }
    // Documents of one kind say who the consumer is: its snippet alone.
    let mut formats = loaded.iter().map(|l| l.policy.format());
    if let Some(first) = formats.next() {
        if formats.all(|f| f == first) {
            analysis.snippets.keep_only(first);
        }
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
        // An allow is no finding: the verdict line says it.
        assert!(findings(std::slice::from_ref(&outcome)).is_empty());
        let holding: Vec<&str> = outcome
            .report
            .reasons
            .iter()
            .filter(|r| r.holds())
            .map(|r| r.message.as_str())
            .collect();
        assert!(holding.iter().any(|m| m.contains(prod)), "{holding:?}");
        // `azure-credential-not-matched` on the first credential is not a reason it allows.
        assert!(
            holding.iter().all(|m| !m.contains("does not match")),
            "{holding:?}"
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

    /// One cause, one finding: the refused part alone, not the credential or statement
    /// around it, nor the document's verdict.
    #[test]
    fn a_refusal_is_one_finding_per_cause() {
        let list = json!([credential("repo:octo-org/octo-repo:environment:prod")]);
        let outcome = evaluate_one(list, token("repo:octo-org/octo-repo:ref:refs/heads/main"));
        assert!(!outcome.report.allowed);
        let found = findings(std::slice::from_ref(&outcome));
        let ids: Vec<_> = found.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["azure-subject-mismatch"]);
        assert!(
            found[0]
                .message
                .contains("Credential [0] `c` has the subject"),
            "{}",
            found[0].message
        );

        let aws = json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "Deploy",
            "Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                "StringLike": {"token.actions.githubusercontent.com:sub": "repo:octo-org/octo-repo:environment:prod"}
            }
        }]});
        let mut claims = token("repo:octo-org/octo-repo:ref:refs/heads/main");
        claims["aud"] = json!("sts.amazonaws.com");
        let outcome = evaluate_one(aws, claims);
        let found = findings(std::slice::from_ref(&outcome));
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.id.as_str(), "aws-condition-failed");
        assert_eq!(f.severity, Severity::Error);
        // The statement, the operator, the key, the policy's values and the token's value.
        for part in [
            "Statement[0] (Sid `Deploy`)",
            "StringLike",
            "token.actions.githubusercontent.com:sub",
            "[`repo:octo-org/octo-repo:environment:prod`]",
            "the token's `repo:octo-org/octo-repo:ref:refs/heads/main`",
        ] {
            assert_eq!(f.message.matches(part).count(), 1, "{part}: {}", f.message);
        }

        // A warning about the refused condition itself is told in its finding.
        let aws = json!({"Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {"token.actions.githubusercontent.com:sub": "repo:octo-org/*"}}
        }]});
        let outcome = evaluate_one(aws, token("repo:octo-org/octo-repo:ref:refs/heads/main"));
        let found = findings(std::slice::from_ref(&outcome));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0]
                .message
                .contains("also: Statement[0]: StringEquals"),
            "{}",
            found[0].message
        );
        assert!(
            found[0].hint.contains("move this value under `StringLike`"),
            "{}",
            found[0].hint
        );

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
        let found = findings(std::slice::from_ref(&outcome));
        let errors: Vec<_> = found
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        // The mapping that fails and the `google.subject` it leaves unmapped are one cause at
        // one place: one finding, telling both.
        assert_eq!(errors.len(), 1, "{found:#?}");
        assert_eq!(errors[0].id.as_str(), "gcp-claim-absent");
        assert!(
            errors[0].message.contains("google.subject is not mapped"),
            "{}",
            errors[0].message
        );
        assert!(!found.iter().any(|f| f.id.as_str() == "gcp-issuer-matched"));
    }
}
