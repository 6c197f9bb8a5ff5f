//! Google Cloud workload identity federation: its audience (the provider's resource URL),
//! its limits, the attribute mapping and condition snippet, and the subject-length check. The
//! provider evaluator (`policy::gcp`) takes its limits from here.

use crate::claims::Claims;
use crate::findings::{Finding, FindingId, Severity};

/// How hints name it.
pub(crate) const NAME: &str = "Google Cloud STS";
/// What Google Cloud STS answers for a wrong audience, as users search for it.
pub(crate) const AUDIENCE_ERROR: &str = "The audience in JWT does not match the expected values.";

/// The limit on the mapped `google.subject`, in bytes ("Cannot exceed 127 bytes":
/// `attributeMapping` in <https://cloud.google.com/iam/docs/reference/rest/v1/projects.locations.workloadIdentityPools.providers>).
pub(crate) const SUBJECT_LIMIT: usize = 127;
/// The limit on all mapped attributes together, in bytes ("the total size of all mapped
/// attributes must not exceed 8KB", the same page). Whether GCP counts the attribute names
/// too, and 8 KB as 8,192 or 8,000, the page does not say: the values are counted, 8,192.
pub(crate) const MAX_MAPPED_BYTES: usize = 8 * 1024;
/// GitHub's shared issuer (github.com), for which GCP requires an attribute condition.
pub(crate) const SHARED_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The limit on `attributeCondition`, in characters.
pub(crate) const MAX_CONDITION: usize = 4096;
/// The limit on one attribute mapping expression, in characters.
pub(crate) const MAX_MAPPING: usize = 2048;
/// The limit on custom (`attribute.*`) attributes.
pub(crate) const MAX_CUSTOM_ATTRIBUTES: usize = 50;
/// The limit on a custom attribute's name, in characters.
pub(crate) const MAX_ATTRIBUTE_NAME: usize = 100;

/// Whether a mapped `google.subject` is within [`SUBJECT_LIMIT`]: the one rule the token check
/// and the provider evaluator share.
pub(crate) fn subject_fits(subject: &str) -> bool {
    subject.len() <= SUBJECT_LIMIT
}

/// The `gcp-subject-too-long` finding when `sub` is over [`SUBJECT_LIMIT`]: the check guesses
/// the usual `google.subject=assertion.sub`. An error when the token goes to GCP, else a
/// warning.
pub(crate) fn subject_length(sub: &str, for_gcp: bool) -> Option<Finding> {
    if subject_fits(sub) {
        return None;
    }
    Some(Finding::new(
        FindingId::GcpSubjectTooLong,
        if for_gcp { Severity::Error } else { Severity::Warning },
        "Subject too long for GCP",
        format!(
            "sub is {} bytes; GCP refuses a mapped google.subject over {SUBJECT_LIMIT} bytes (`The size of mapped attribute google.subject exceeds the {SUBJECT_LIMIT} bytes limit`)",
            sub.len()
        ),
        "map `google.subject` to something shorter, e.g. `assertion.repository_id + ':' + assertion.ref`, if the token goes to GCP",
    ))
}

/// What is wrong with a GCP audience, if anything. The valid form is
/// `https://iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER`
/// (google-github-actions/auth's default).
pub(crate) fn audience_problem(audience: &str) -> Option<String> {
    let path = audience
        .strip_prefix("https://iam.googleapis.com/")
        .or_else(|| audience.strip_prefix("//iam.googleapis.com/"));
    let Some(path) = path else {
        return Some(if audience.starts_with("projects/") {
            format!("it lacks the `https://iam.googleapis.com/` prefix: use `https://iam.googleapis.com/{audience}`")
        } else {
            "it is not a workload identity provider URL (`https://iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER`)".to_owned()
        });
    };
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["projects", project, "locations", _location, "workloadIdentityPools", pool, "providers", provider]
            if !pool.is_empty() && !provider.is_empty() =>
        {
            if project.is_empty() || !project.chars().all(|c| c.is_ascii_digit()) {
                Some(format!(
                    "it names the project `{project}` by ID; workload identity needs the project NUMBER (`gcloud projects describe {project} --format='value(projectNumber)'`)"
                ))
            } else {
                None
            }
        }
        _ if !path.contains("/providers/") || path.ends_with("/providers/") => Some(
            "it does not end in `/providers/PROVIDER`: the audience names the provider, not only the pool".to_owned(),
        ),
        _ => Some(
            "it is not of the form `projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER`".to_owned(),
        ),
    }
}

/// A CEL string literal: `\\` and `'` escaped, and control characters written as escapes,
/// since a single-quoted CEL string cannot hold a raw line break.
pub(crate) fn cel_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Text for the inside of a double-quoted shell argument: the snippet is pasted into a shell,
/// and claim values (a branch may be named `$(...)` or hold backticks) must not expand there.
fn shell_double_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The snippet's custom attributes. A mapping that reads an absent claim is an error and GCP
/// refuses the token (`no such key`; facts: "A mapping or condition that reads an absent claim
/// errors ... guard with `has(assertion.environment) ? ... : ...`"), and jobs without
/// `environment:` have no such claim, so it is guarded.
const MAPPING_ATTRIBUTES: &str = "attribute.repository=assertion.repository,attribute.repository_owner=assertion.repository_owner,attribute.ref=assertion.ref,attribute.environment=has(assertion.environment) ? assertion.environment : ''";

/// What the snippet maps `google.subject` to: `assertion.sub` when it fits in
/// [`SUBJECT_LIMIT`] (customized templates and long names can make it longer), else the
/// repository's id with the ref, else the id alone (GCP's advice for long subjects: map a
/// shorter value; the condition still pins the repository and ref).
fn subject_mapping(claims: &Claims) -> &'static str {
    let id = claims.str("repository_id");
    let shorter = [
        ("assertion.sub", claims.str("sub").map(str::to_owned)),
        (
            "assertion.repository_id + ':' + assertion.ref",
            id.zip(claims.str("ref")).map(|(id, r)| format!("{id}:{r}")),
        ),
        ("assertion.repository_id", id.map(str::to_owned)),
    ];
    shorter
        .into_iter()
        .find(|(_, value)| value.as_deref().is_some_and(subject_fits))
        .map_or("assertion.sub", |(mapping, _)| mapping)
}

/// The provider's attribute mapping and a condition pinning this token's repository and
/// environment (or ref), as `gcloud iam workload-identity-pools providers create-oidc` flags.
pub(crate) fn snippet(claims: &Claims) -> String {
    let mut conditions = Vec::new();
    for name in ["repository_owner", "repository"] {
        if let Some(v) = claims.str(name) {
            conditions.push(format!("assertion.{name} == {}", cel_string(v)));
        }
    }
    match claims.str("environment") {
        Some(env) => conditions.push(format!("assertion.environment == {}", cel_string(env))),
        None => {
            if let Some(r) = claims.str("ref") {
                conditions.push(format!("assertion.ref == {}", cel_string(r)));
            }
        }
    }
    let mapping = format!(
        "google.subject={},{MAPPING_ATTRIBUTES}",
        subject_mapping(claims)
    );
    format!(
        "--attribute-mapping=\"{}\"\n--attribute-condition=\"{}\"",
        shell_double_quote(&mapping),
        shell_double_quote(&conditions.join(" && "))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: serde_json::Value) -> Claims {
        Claims(v.as_object().cloned().unwrap_or_default())
    }

    /// A GitHub token of the given subject form; `extra` overrides or removes (null) claims.
    fn github_token(sub: &str, extra: serde_json::Value) -> Claims {
        let mut token = json!({
            "iss": "https://token.actions.githubusercontent.com",
            "aud": "https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/g",
            "sub": sub,
            "repository": "octo-org/octo-repo",
            "repository_owner": "octo-org",
            "repository_id": "74",
            "repository_owner_id": "65",
            "ref": "refs/heads/main",
            "ref_type": "branch",
            "event_name": "push",
        });
        for (key, value) in extra.as_object().cloned().unwrap_or_default() {
            match value {
                serde_json::Value::Null => token.as_object_mut().unwrap().remove(&key),
                value => token.as_object_mut().unwrap().insert(key, value),
            };
        }
        claims(token)
    }

    /// The provider a user gets from pasting the snippet into `gcloud ... create-oidc`.
    fn provider_from(text: &str) -> crate::policy::Policy {
        let flag = |name: &str| {
            let quoted = text
                .lines()
                .find_map(|l| l.strip_prefix(&format!("--{name}=\"")))
                .and_then(|v| v.strip_suffix('"'))
                .unwrap();
            shell_double_quoted(quoted)
        };
        // gcloud splits the mapping at the commas between `key=value` pairs.
        let mapping: serde_json::Map<String, serde_json::Value> = flag("attribute-mapping")
            .split(',')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                (k.to_owned(), json!(v))
            })
            .collect();
        let provider = json!({
            "name": "projects/1/locations/global/workloadIdentityPools/p/providers/g",
            "attributeMapping": mapping,
            "attributeCondition": flag("attribute-condition"),
            "oidc": {"issuerUri": "https://token.actions.githubusercontent.com"},
            "state": "ACTIVE"
        });
        crate::policy::parse(&provider.to_string(), None).unwrap()
    }

    /// Round trip: for each subject form GitHub issues, the project's own GCP snippet, made
    /// into a provider, is accepted by the project's own GCP evaluator for the token it was
    /// built from, with no warning, and refused for a token of another repository.
    #[test]
    fn own_snippet_is_accepted_by_own_evaluator() {
        let long_env = "e".repeat(100);
        let tokens = [
            ("branch", github_token("repo:octo-org/octo-repo:ref:refs/heads/main", json!({}))),
            (
                "tag",
                github_token(
                    "repo:octo-org/octo-repo:ref:refs/tags/v1.2.3",
                    json!({"ref": "refs/tags/v1.2.3", "ref_type": "tag"}),
                ),
            ),
            (
                "environment",
                github_token("repo:octo-org/octo-repo:environment:prod", json!({"environment": "prod"})),
            ),
            (
                "pull_request",
                github_token(
                    "repo:octo-org/octo-repo:pull_request",
                    json!({"ref": "refs/pull/7/merge", "event_name": "pull_request"}),
                ),
            ),
            (
                "custom subject",
                github_token(
                    "repo:octo-org/octo-repo:context:prod:job_workflow_ref:octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
                    json!({"environment": "prod", "job_workflow_ref": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main"}),
                ),
            ),
            (
                "immutable subject",
                github_token("repo:octo-org@65/octo-repo@74:ref:refs/heads/main", json!({})),
            ),
            (
                "subject over 127 bytes",
                github_token(
                    &format!("repo:octo-org/octo-repo:environment:{long_env}"),
                    json!({"environment": long_env}),
                ),
            ),
            (
                "hostile ref",
                github_token(
                    "repo:octo-org/octo-repo:ref:refs/heads/a$(id)`x`'\"",
                    json!({"ref": "refs/heads/a$(id)`x`'\""}),
                ),
            ),
        ];
        for (form, token) in tokens {
            let text = snippet(&token);
            let provider = provider_from(&text);
            let report = provider.evaluate(&token);
            assert!(report.allowed, "{form}: {text}\n{:#?}", report.reasons);
            assert!(report.warnings.is_empty(), "{form}: {:#?}", report.warnings);
            let mut other = token.0.clone();
            other.insert("repository".into(), json!("octo-org/other"));
            let report = provider.evaluate(&Claims(other));
            assert!(!report.allowed, "{form}: another repository passes {text}");
        }
    }

    /// The token check (which guesses `google.subject=assertion.sub`) and the provider
    /// evaluator refuse a subject at the same length: one limit, not two that can drift.
    #[test]
    fn token_check_and_evaluator_share_the_subject_limit() {
        let provider = json!({
            "name": "projects/1/locations/global/workloadIdentityPools/p/providers/g",
            "attributeMapping": {"google.subject": "assertion.sub"},
            "oidc": {"issuerUri": "https://token.actions.githubusercontent.com", "allowedAudiences": ["g"]},
            "state": "ACTIVE"
        });
        let provider = crate::policy::parse(&provider.to_string(), None).unwrap();
        for len in [SUBJECT_LIMIT - 1, SUBJECT_LIMIT, SUBJECT_LIMIT + 1] {
            let prefix = "repo:o/r:ref:refs/heads/";
            let sub = format!("{prefix}{}", "b".repeat(len - prefix.len()));
            let token = claims(json!({
                "iss": "https://token.actions.githubusercontent.com",
                "aud": "g",
                "sub": sub,
            }));
            let too_long = len > SUBJECT_LIMIT;
            assert_eq!(subject_length(&sub, true).is_some(), too_long, "{len}");
            let report = crate::policy::evaluate(&provider, &token);
            let refused = report
                .reasons
                .iter()
                .any(|r| r.id.as_str() == "gcp-mapped-subject-too-long");
            assert_eq!(refused, too_long, "{len}: {:?}", report.reasons);
        }
    }

    #[test]
    fn gcp_audience_format() {
        let good = "https://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/gh/providers/gh-actions";
        assert_eq!(audience_problem(good), None);
        assert_eq!(audience_problem(&good.replace("https:", "")), None);
        let cases = [
            (good.replace("123456789", "my-project"), "project NUMBER"),
            (
                good.replace("https://iam.googleapis.com/", ""),
                "lacks the `https://iam.googleapis.com/` prefix",
            ),
            (
                good.replace("/providers/gh-actions", ""),
                "/providers/PROVIDER",
            ),
            (
                "sts.amazonaws.com".to_owned(),
                "not a workload identity provider URL",
            ),
        ];
        for (aud, want) in cases {
            let problem = audience_problem(&aud).unwrap_or_default();
            assert!(problem.contains(want), "{aud}: {problem}");
        }
    }

    /// What bash makes of the text between the double quotes of `--flag="..."`.
    fn shell_double_quoted(text: &str) -> String {
        let mut out = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, chars.peek()) {
                ('\\', Some(&n)) if matches!(n, '$' | '`' | '"' | '\\' | '\n') => {
                    out.push(n);
                    chars.next();
                }
                ('$' | '`', _) => panic!("unescaped {c} would expand in the shell: {text}"),
                _ => out.push(c),
            }
        }
        out
    }

    #[test]
    fn gcp_snippet_survives_the_shell_and_cel() {
        // Git allows `$`, `(`, `)` and backticks in branch names: pasted into a shell, the
        // snippet must not run them, and the CEL literal must hold the ref exactly.
        let hostile = "refs/heads/a$(touch pwned)`id`\\'\"\n\r\u{1}";
        let c = claims(json!({"repository_owner": "o", "repository": "o/r", "ref": hostile}));
        let gcp = snippet(&c);
        assert_eq!(gcp.lines().count(), 2, "{gcp}");
        let condition = gcp
            .lines()
            .nth(1)
            .and_then(|l| l.strip_prefix("--attribute-condition=\""))
            .and_then(|l| l.strip_suffix('"'))
            .unwrap();
        let cel = shell_double_quoted(condition);
        assert_eq!(
            cel,
            format!(
                "assertion.repository_owner == 'o' && assertion.repository == 'o/r' && assertion.ref == {}",
                cel_string(hostile)
            )
        );
        assert_eq!(
            cel_string(hostile),
            r#"'refs/heads/a$(touch pwned)`id`\\\'"\n\r\x01'"#
        );
    }
}
