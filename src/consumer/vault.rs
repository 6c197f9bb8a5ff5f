//! HashiCorp Vault's JWT auth method (input `provider: vault`): what it answers, the action
//! that logs in with GitHub's token, and the role snippet (`vault write auth/jwt/role/NAME`).
//! The role evaluator (`policy::vault`) takes Vault's messages from here.
//!
//! Vault has no audience of its own: a role's `bound_audiences` decides. hashicorp/vault-action
//! requests the audience given in its `jwtGithubAudience` input; without one it requests none
//! (its `action.yml` sets no default and `src/auth.js` passes the empty input to
//! `core.getIDToken`), so the token has GitHub's default `https://github.com/OWNER`. Its
//! README's input table says the default is `sigstore`, which the code does not do.

use serde_json::{json, Map, Value};

use crate::claims::Claims;

/// How hints name it.
pub(crate) const NAME: &str = "HashiCorp Vault (JWT auth)";
/// The action that logs in to Vault with GitHub's token.
pub(crate) const ACTION: &str = "hashicorp/vault-action";
/// Its input naming the audience to request.
pub(crate) const AUDIENCE_INPUT: &str = "jwtGithubAudience";
/// What Vault answers for an audience no bound audience equals (hashicorp/cap `jwt/jwt.go`
/// `validateAudience`, prefixed by path_login.go `pathLogin`).
pub(crate) const AUDIENCE_ERROR: &str = "error validating token: invalid audience (aud) claim: audience claim does not match any expected audience";
/// path_login.go `pathLogin`, for a role with no `bound_audiences` and a token with `aud`.
pub(crate) const AUDIENCE_UNBOUND_ERROR: &str =
    "audience claim found in JWT but no audiences bound to the role";
/// path_login.go `pathLogin`, for a role of type `oidc`.
pub(crate) const OIDC_ROLE_ERROR: &str = "role with oidc role_type is not allowed";
/// path_login.go `pathLogin`: the prefix of every `bound_claims` refusal.
pub(crate) const CLAIMS_ERROR: &str = "error validating claims";

/// A role for exactly this job: `role_type=jwt`, the token's audience, and `bound_claims`
/// (exact strings) pinning the repository and the environment, or else the event for a
/// pull_request run, or else the ref. Claims, not `sub`, so that a customized or immutable
/// subject template changes nothing. Written as `vault write ... -` with the role as JSON on
/// standard input (a quoted here-document), so no claim value reaches the shell: JSON escapes
/// line breaks, so no value can end the here-document either.
pub(crate) fn snippet(claims: &Claims, audiences: &[String]) -> String {
    let body = serde_json::to_string_pretty(&role(claims, audiences)).unwrap_or_default();
    format!(
        "vault write auth/jwt/role/{} - <<'EOF'\n{body}\nEOF",
        role_name(claims)
    )
}

/// The role the snippet writes, as `vault read` prints the fields it sets.
fn role(claims: &Claims, audiences: &[String]) -> Value {
    let mut bound = Map::new();
    if let Some(repository) = claims.str("repository") {
        bound.insert("repository".into(), json!(repository));
    }
    if let Some(environment) = claims.str("environment") {
        bound.insert("environment".into(), json!(environment));
    } else if claims.str("event_name") == Some("pull_request") {
        // A pull_request run's ref is `refs/pull/N/merge`, one pull request's: bind the event.
        bound.insert("event_name".into(), json!("pull_request"));
    } else if let Some(git_ref) = claims.str("ref") {
        bound.insert("ref".into(), json!(git_ref));
    }
    let mut role = json!({
        "role_type": "jwt",
        "user_claim": if claims.str("repository").is_some() { "repository" } else { "sub" },
        "bound_audiences": audiences,
        "bound_claims_type": "string",
        "bound_claims": bound,
        "token_policies": ["YOUR-POLICY"],
    });
    // Vault needs one bound constraint at least (path_role.go `pathRoleCreateUpdate`).
    if bound.is_empty() && audiences.is_empty() {
        role["bound_subject"] = json!(claims.subject().unwrap_or_default());
    }
    role
}

/// `REPO-ENVIRONMENT` or `REPO-BRANCH`, lower case (Vault lowercases role names), letters,
/// digits, `-` and `_` only, so that the path needs no quoting.
fn role_name(claims: &Claims) -> String {
    let repo = claims
        .str("repository")
        .and_then(|r| r.rsplit('/').next())
        .unwrap_or("github");
    let context = claims
        .str("environment")
        .map(str::to_owned)
        .or_else(|| {
            (claims.str("event_name") == Some("pull_request")).then(|| "pull-request".to_owned())
        })
        .or_else(|| {
            claims
                .str("ref")
                .and_then(|r| r.rsplit('/').next())
                .map(str::to_owned)
        });
    let raw = match context {
        Some(context) => format!("{repo}-{context}"),
        None => repo.to_owned(),
    };
    let name: String = raw
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(100)
        .collect();
    if name.trim_matches('-').is_empty() {
        "github-actions".to_owned()
    } else {
        name
    }
}

/// The JSON role a snippet writes (the here-document's body).
#[cfg(test)]
pub(crate) fn snippet_role(snippet: &str) -> Option<&str> {
    let start = snippet.find("<<'EOF'\n")? + "<<'EOF'\n".len();
    let end = snippet.rfind("\nEOF")?;
    snippet.get(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use serde_json::json;

    fn claims(overrides: Value) -> Claims {
        let mut base = json!({
            "iss": "https://token.actions.githubusercontent.com",
            "aud": "https://github.com/octo-org",
            "sub": "repo:octo-org/octo-repo:ref:refs/heads/main",
            "repository": "octo-org/octo-repo",
            "repository_owner": "octo-org",
            "repository_id": "74",
            "repository_owner_id": "65",
            "ref": "refs/heads/main",
            "ref_type": "branch",
            "event_name": "push",
            "actor": "octocat",
        });
        if let (Some(map), Value::Object(more)) = (base.as_object_mut(), overrides) {
            for (k, v) in more {
                if v.is_null() {
                    map.remove(&k);
                } else {
                    map.insert(k, v);
                }
            }
        }
        Claims(base.as_object().cloned().unwrap_or_default())
    }

    /// Every snippet is accepted by the evaluator for the token it was built from, and
    /// refused for a token of another repository, ref or environment: it pins, it does not
    /// merely pass.
    #[test]
    fn every_snippet_round_trips_through_the_evaluator() {
        let cases = [
            ("branch", json!({})),
            (
                "tag",
                json!({"ref": "refs/tags/v1.2.3", "ref_type": "tag", "sub": "repo:octo-org/octo-repo:ref:refs/tags/v1.2.3"}),
            ),
            (
                "environment",
                json!({"environment": "prod", "sub": "repo:octo-org/octo-repo:environment:prod"}),
            ),
            (
                "pull_request",
                json!({"event_name": "pull_request", "ref": "refs/pull/7/merge", "sub": "repo:octo-org/octo-repo:pull_request"}),
            ),
            (
                "custom template",
                json!({"sub": "repository_owner_id:65:repository_id:74:ref:refs/heads/main"}),
            ),
            (
                "immutable",
                json!({"sub": "repo:octo-org@65/octo-repo@74:ref:refs/heads/main"}),
            ),
            ("audience", json!({"aud": "sigstore"})),
        ];
        for (name, overrides) in cases {
            let token = claims(overrides);
            let audiences = token.values("aud").unwrap_or_default();
            let text = snippet(&token, &audiences);
            assert!(
                text.starts_with("vault write auth/jwt/role/"),
                "{name}: {text}"
            );
            let body = snippet_role(&text).unwrap();
            let policy = Policy::parse(body, None).unwrap();
            assert_eq!(policy.format(), crate::policy::PolicyFormat::Vault);
            let report = policy.evaluate(&token);
            assert!(report.allowed, "{name}: {text}\n{:?}", report.reasons);
            assert!(report.warnings.is_empty(), "{name}: {:?}", report.warnings);
            for other in [
                json!({"repository": "octo-org/other"}),
                json!({"aud": "https://github.com/someone"}),
            ] {
                let mut map = token.as_map().clone();
                if let Value::Object(o) = &other {
                    map.extend(o.clone());
                }
                let refused = policy.evaluate(&Claims(map));
                assert!(!refused.allowed, "{name}: {other:?} passes {text}");
            }
        }
        let env = claims(json!({"environment": "prod"}));
        let policy =
            Policy::parse(snippet_role(&snippet(&env, &["a".into()])).unwrap(), None).unwrap();
        let mut staging = env.as_map().clone();
        staging.insert("environment".into(), json!("staging"));
        assert!(!policy.evaluate(&Claims(staging)).allowed);
        let main = claims(json!({}));
        let policy =
            Policy::parse(snippet_role(&snippet(&main, &["a".into()])).unwrap(), None).unwrap();
        let mut feature = main.as_map().clone();
        feature.insert("ref".into(), json!("refs/heads/feature"));
        assert!(!policy.evaluate(&Claims(feature)).allowed);
    }

    #[test]
    fn hostile_values_stay_inside_the_json() {
        let token = claims(json!({
            "repository": "o/r'$(id)\nEOF\n`x`",
            "ref": "refs/heads/a\"b",
        }));
        let text = snippet(&token, &["x\nEOF".into()]);
        let first = text.lines().next().unwrap();
        assert!(
            first
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_/ <'".contains(c)),
            "{first}"
        );
        assert_eq!(text.lines().filter(|l| *l == "EOF").count(), 1, "{text}");
        let policy = Policy::parse(snippet_role(&text).unwrap(), None).unwrap();
        let mut with_aud = token.as_map().clone();
        with_aud.insert("aud".into(), json!("x\nEOF"));
        assert!(policy.evaluate(&Claims(with_aud)).allowed);
    }
}
