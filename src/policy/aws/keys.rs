//! How STS names the token's claims as IAM condition keys: `<issuer host and path>:<claim>`.

use crate::claims::value_strings;
use crate::claims::Claims;
use crate::consumer::aws::{key_prefix, passes, Passed};

/// The token's claims as IAM condition keys.
pub(in crate::policy) struct TokenKeys<'a> {
    prefix: String,
    issuer: String,
    claims: &'a Claims,
}

/// What a condition key refers to.
#[derive(Debug, PartialEq, Eq)]
pub(in crate::policy) enum Lookup {
    /// A claim of the token that STS passes to IAM: its values, `None` when the token lacks
    /// it.
    Claim(Option<Vec<String>>),
    /// A claim STS passes by our reading of thin or disagreeing sources: its values, and why
    /// we are unsure.
    Unsure {
        /// The token's values, `None` when the token lacks the claim.
        values: Option<Vec<String>>,
        /// What the sources say.
        why: &'static str,
    },
    /// A claim STS does not pass to IAM: IAM sees the key as absent whatever the token
    /// holds.
    NotPassed {
        /// The claim's name as written in the key.
        claim: String,
        /// What the token holds for it, for the message.
        token: Option<Vec<String>>,
    },
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
        let issuer = claims.str("iss").unwrap_or_default();
        TokenKeys {
            prefix: key_prefix(issuer).to_owned(),
            issuer: issuer.to_owned(),
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
            // IAM's default OIDC keys (IAM User Guide, "Available keys for AWS OIDC
            // federation"): `aud` holds the token's `azp` when it has one, else its `aud`;
            // `oaud` always holds the token's own `aud`. GitHub's tokens carry no `azp`, so both
            // are the token's `aud`. (The page is thin on `oaud` for tokens without `azp`; the
            // clean-room reference in tests/integration/reference reads it the same way.)
            let source = match claim.to_ascii_lowercase().as_str() {
                "oaud" => "aud",
                "aud" if self.claim("azp").is_some() => "azp",
                _ => claim,
            };
            let values = self.claim(source).and_then(value_strings);
            return match passes(&self.issuer, claim) {
                Passed::Yes => Lookup::Claim(values),
                Passed::Unsure(why) => Lookup::Unsure { values, why },
                Passed::No => Lookup::NotPassed {
                    claim: claim.to_owned(),
                    token: values,
                },
            };
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
                "token.actions.githubusercontent.com/acme:repository_owner",
                Lookup::NotPassed {
                    claim: "repository_owner".into(),
                    token: None,
                },
            ),
            (
                "token.actions.githubusercontent.com/acme:Event_Name",
                Lookup::NotPassed {
                    claim: "Event_Name".into(),
                    token: None,
                },
            ),
            (
                "token.actions.githubusercontent.com/acme:repository_owner_id",
                Lookup::Unsure {
                    values: None,
                    why: "secondary sources disagree on whether STS passes this key; read the AWS page \"Available keys for AWS OIDC federation\" before relying on it",
                },
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

    /// STS passes the default keys for any issuer, the GitHub keys for github.com's issuer,
    /// and says it is unsure of them for a GHES issuer, which the AWS page does not name.
    #[test]
    fn passed_claims_depend_on_the_issuer() {
        let token = claims(json!({
            "iss": "https://ghes.example.com/_services/token",
            "sub": "repo:a/b:ref:refs/heads/main",
            "repository": "a/b",
            "repository_owner": "a",
        }));
        let keys = TokenKeys::new(&token);
        assert_eq!(
            keys.lookup("ghes.example.com/_services/token:sub"),
            Lookup::Claim(Some(vec!["repo:a/b:ref:refs/heads/main".into()]))
        );
        assert!(matches!(
            keys.lookup("ghes.example.com/_services/token:repository"),
            Lookup::Unsure { values: Some(_), why } if why.contains("not documented")
        ));
        assert_eq!(
            keys.lookup("ghes.example.com/_services/token:repository_owner"),
            Lookup::NotPassed {
                claim: "repository_owner".into(),
                token: Some(vec!["a".into()])
            }
        );
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
