//! How STS names the token's claims as IAM condition keys: `<issuer host and path>:<claim>`.

use crate::claims::value_strings;
use crate::claims::Claims;
use crate::consumer::aws::key_prefix;

/// The token's claims as IAM condition keys.
pub(in crate::policy) struct TokenKeys<'a> {
    prefix: String,
    claims: &'a Claims,
}

/// What a condition key refers to.
#[derive(Debug, PartialEq, Eq)]
pub(in crate::policy) enum Lookup {
    /// A claim of the token: its values, `None` when the token lacks it.
    Claim(Option<Vec<String>>),
    /// A key for an identity provider other than the token's issuer: STS has no value for it.
    PrefixMismatch {
        /// The prefix as written in the policy.
        key_prefix: String,
    },
    /// A key from the AWS request context (`aws:SourceIp`, `sts:RoleSessionName`, ...).
    NotFromToken,
}

impl<'a> TokenKeys<'a> {
    pub(in crate::policy) fn new(claims: &'a Claims) -> Self {
        TokenKeys {
            prefix: key_prefix(claims.str("iss").unwrap_or_default()).to_owned(),
            claims,
        }
    }

    /// The key prefix for this token, e.g. `token.actions.githubusercontent.com/acme`.
    pub(in crate::policy) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Resolves a condition key. Key names are case-insensitive in IAM.
    pub(in crate::policy) fn lookup(&self, key: &str) -> Lookup {
        let Some((key_prefix, claim)) = key.rsplit_once(':') else {
            return Lookup::NotFromToken;
        };
        if !self.prefix.is_empty() && key_prefix.eq_ignore_ascii_case(&self.prefix) {
            return Lookup::Claim(self.claim(claim).and_then(value_strings));
        }
        // Service keys (`aws:`, `sts:`, `iam:`) have a bare namespace; provider keys are a
        // host name, optionally with a path.
        let namespace = key.split(':').next().unwrap_or_default();
        if namespace.contains(['.', '/']) {
            Lookup::PrefixMismatch {
                key_prefix: key_prefix.to_owned(),
            }
        } else {
            Lookup::NotFromToken
        }
    }

    fn claim(&self, name: &str) -> Option<&serde_json::Value> {
        self.claims.get(name).or_else(|| {
            self.claims
                .0
                .iter()
                .find(|(claim, _)| claim.eq_ignore_ascii_case(name))
                .map(|(_, value)| value)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: serde_json::Value) -> Claims {
        Claims(value.as_object().cloned().unwrap_or_default())
    }

    #[test]
    fn keys_resolve_by_prefix_and_case_insensitive_name() {
        let token = claims(json!({
            "iss": "https://token.actions.githubusercontent.com/acme",
            "sub": "repo:a/b:ref:refs/heads/main",
            "aud": ["x", "y"],
        }));
        let keys = TokenKeys::new(&token);
        assert_eq!(keys.prefix(), "token.actions.githubusercontent.com/acme");
        let cases: &[(&str, Lookup)] = &[
            (
                "token.actions.githubusercontent.com/acme:sub",
                Lookup::Claim(Some(vec!["repo:a/b:ref:refs/heads/main".into()])),
            ),
            (
                "Token.Actions.GitHubUserContent.com/ACME:SUB",
                Lookup::Claim(Some(vec!["repo:a/b:ref:refs/heads/main".into()])),
            ),
            (
                "token.actions.githubusercontent.com/acme:aud",
                Lookup::Claim(Some(vec!["x".into(), "y".into()])),
            ),
            (
                "token.actions.githubusercontent.com/acme:environment",
                Lookup::Claim(None),
            ),
            (
                "token.actions.githubusercontent.com:sub",
                Lookup::PrefixMismatch {
                    key_prefix: "token.actions.githubusercontent.com".into(),
                },
            ),
            ("aws:SourceIp", Lookup::NotFromToken),
            ("sts:RoleSessionName", Lookup::NotFromToken),
            ("nocolon", Lookup::NotFromToken),
        ];
        for (key, want) in cases {
            assert_eq!(&keys.lookup(key), want, "{key}");
        }
    }

    #[test]
    fn a_token_without_issuer_matches_no_provider_key() {
        let token = claims(json!({"sub": "x"}));
        let keys = TokenKeys::new(&token);
        assert!(matches!(
            keys.lookup("token.actions.githubusercontent.com:sub"),
            Lookup::PrefixMismatch { .. }
        ));
    }
}
