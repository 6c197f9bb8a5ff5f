//! Entra's claims matching expressions (flexible federated identity credentials), language
//! version 1, accepted exactly as Microsoft documents them and nothing else:
//! `claims['sub'] matches 'repo:o/r:ref:refs/heads/*' and claims['job_workflow_ref'] eq '...'`.
//!
//! Source: Microsoft Entra Workload ID, "Flexible federated identity credentials (preview)"
//! (<https://learn.microsoft.com/en-us/entra/workload-id/workload-identities-flexible-federated-identity-credentials>;
//! MicrosoftDocs/entra-docs `docs/workload-id/workload-identities-flexible-federated-identity-credentials.md`):
//! a term is a claim lookup `claims['<claimName>']`, an operator "separated from the claim
//! lookup and comparand by a single space", and a comparand "contained within single quotes";
//! the operators are `matches` (`?` one character, `*` any run), `eq` and `and`, all written in
//! lower case; for GitHub's issuer only `sub` and `job_workflow_ref` may be looked up. The page
//! shows no parentheses, no other operator, no other spacing and no other case, so all of
//! those are refused here with a message naming what is not accepted (Entra's own answer to
//! them is not documented). "Single quotes are interpreted as escape characters" is all the
//! page says about a quote inside a comparand, so a comparand holding one is refused too.

use crate::policy::PolicyError;

/// How a term compares the claim with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Operator {
    /// `matches`: `*` and `?` wildcards.
    Matches,
    /// `eq`: exact.
    Eq,
}

/// One `claims['NAME'] OP 'VALUE'` comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Term {
    pub(super) claim: String,
    pub(super) operator: Operator,
    pub(super) value: String,
    /// The term as written, for messages.
    pub(super) text: String,
}

/// A parsed expression: every term must hold (the language only has `and`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Expression {
    pub(super) terms: Vec<Term>,
}

/// Parses `source`, allowing the claims in `claims` (the issuer's); errors name `location` and
/// a 1-based character position.
pub(super) fn parse(
    source: &str,
    location: &str,
    claims: &[&str],
) -> Result<Expression, PolicyError> {
    let mut parser = Parser {
        source,
        at: 0,
        location,
        claims,
    };
    let mut terms = vec![parser.term()?];
    while !parser.rest().is_empty() {
        parser.keyword(
            " and ",
            "expected ` and ` (one space each side) or the end of the expression",
        )?;
        terms.push(parser.term()?);
    }
    Ok(Expression { terms })
}

struct Parser<'a> {
    source: &'a str,
    /// Byte offset of the next character.
    at: usize,
    location: &'a str,
    claims: &'a [&'a str],
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.source[self.at..]
    }

    /// 1-based character position of byte offset `at`.
    fn position(&self, at: usize) -> usize {
        self.source[..at].chars().count() + 1
    }

    fn error_at(&self, at: usize, message: String) -> PolicyError {
        PolicyError::Expression {
            location: self.location.to_owned(),
            position: self.position(at),
            message,
        }
    }

    /// An error for the text where `expected` should be, naming what stands there when it is a
    /// known mistake.
    fn refuse(&self, expected: &str) -> PolicyError {
        let rest = self.rest();
        let found = |prefix: &str| rest.starts_with(prefix);
        let first_word: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let message = if rest.is_empty() {
            format!("{expected}, found the end of the expression")
        } else if found("\u{2018}") || found("\u{2019}") || found("\u{201c}") || found("\u{201d}") {
            "typographic quotes (‘ ’ “ ”, as some copies of Microsoft's tables show) are not \
             accepted: write a plain `'`"
                .to_owned()
        } else if found("\"") {
            "double quotes are not accepted: claim names and comparands take single quotes"
                .to_owned()
        } else if found("(") || found(")") {
            "parentheses are not accepted: Microsoft documents terms joined by ` and ` only"
                .to_owned()
        } else if found(" ") || found("\t") || found("\n") {
            format!(
                "{expected}: extra or missing spaces are not accepted (Microsoft documents exactly one space between a claim lookup, its operator and its comparand, and around `and`)"
            )
        } else if !first_word.is_empty()
            && ["claims", "and", "matches", "eq"]
                .iter()
                .any(|k| k.eq_ignore_ascii_case(&first_word) && *k != first_word)
        {
            format!(
                "`{first_word}` is not accepted: Microsoft documents `{}` in lower case",
                first_word.to_lowercase()
            )
        } else if ["or", "not", "ne", "like", "contains", "startswith", "in"]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(&first_word))
        {
            format!(
                "`{first_word}` is not accepted: the documented operators are `matches`, `eq` \
                 and `and`"
            )
        } else if found("==") || found("=") || found("!=") || found("&&") || found("||") {
            "symbolic operators are not accepted: the documented operators are `matches`, `eq` \
             and `and`"
                .to_owned()
        } else {
            let shown: String = rest.chars().take(12).collect();
            format!("{expected}, found `{shown}`")
        };
        self.error_at(self.at, message)
    }

    fn keyword(&mut self, text: &str, expected: &str) -> Result<(), PolicyError> {
        if self.rest().starts_with(text) {
            self.at += text.len();
            Ok(())
        } else {
            // Point at the first character that differs, past a correct leading space.
            if text.starts_with(' ')
                && self.rest().starts_with(' ')
                && !self.rest().starts_with("  ")
            {
                self.at += 1;
                let inner = text.trim();
                return Err(self.refuse(&format!("expected `{inner}`")));
            }
            Err(self.refuse(expected))
        }
    }

    /// `claims['NAME'] OP 'VALUE'`
    fn term(&mut self) -> Result<Term, PolicyError> {
        let start = self.at;
        self.keyword("claims['", "expected `claims['NAME']`")?;
        let name_start = self.at;
        let Some(length) = self.rest().find('\'') else {
            return Err(self.error_at(start, "unterminated claim name".to_owned()));
        };
        let claim = self.rest()[..length].to_owned();
        self.at += length;
        if !self.claims.contains(&claim.as_str()) {
            return Err(PolicyError::UnsupportedClaim {
                location: self.location.to_owned(),
                claim,
                position: self.position(name_start),
            });
        }
        self.keyword("']", "expected `']` after the claim name")?;
        self.keyword(" ", "expected one space before the operator")?;
        let word: String = self
            .rest()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let operator = match word.as_str() {
            "matches" => Operator::Matches,
            "eq" => Operator::Eq,
            _ => return Err(self.refuse("expected `matches` or `eq`")),
        };
        self.at += word.len();
        self.keyword(" '", "expected one space and a single-quoted comparand")?;
        let value_start = self.at;
        let Some(length) = self.rest().find('\'') else {
            return Err(self.error_at(value_start - 1, "unterminated comparand".to_owned()));
        };
        let value = self.rest()[..length].to_owned();
        self.at += length + 1;
        if self.rest().starts_with('\'') {
            return Err(self.error_at(
                self.at - 1,
                "a `'` inside a comparand is not accepted: Microsoft says single quotes are \
                 escape characters, but not how to write one inside a value"
                    .to_owned(),
            ));
        }
        if operator == Operator::Matches {
            // A longer pattern would make matching slow, and Azure accepts none this long.
            crate::pattern::check_pattern(&value)
                .map_err(|e| PolicyError::invalid(self.location, e.to_string()))?;
        }
        Ok(Term {
            claim,
            operator,
            value,
            text: self.source[start..self.at].to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GITHUB: &[&str] = &["sub", "job_workflow_ref"];

    fn term(claim: &str, operator: Operator, value: &str, text: &str) -> Term {
        Term {
            claim: claim.into(),
            operator,
            value: value.into(),
            text: text.into(),
        }
    }

    #[test]
    fn parses_documented_forms() {
        let cases: &[(&str, Vec<Term>)] = &[
            (
                "claims['sub'] matches 'repo:contoso/contoso-repo:ref:refs/heads/*'",
                vec![term(
                    "sub",
                    Operator::Matches,
                    "repo:contoso/contoso-repo:ref:refs/heads/*",
                    "claims['sub'] matches 'repo:contoso/contoso-repo:ref:refs/heads/*'",
                )],
            ),
            (
                "claims['sub'] eq 'repo:contoso/contoso-repo:ref:refs/heads/main' and claims['job_workflow_ref'] matches 'foo-org/bar-repo /.github/workflows/*@refs/heads/main'",
                vec![
                    term(
                        "sub",
                        Operator::Eq,
                        "repo:contoso/contoso-repo:ref:refs/heads/main",
                        "claims['sub'] eq 'repo:contoso/contoso-repo:ref:refs/heads/main'",
                    ),
                    term(
                        "job_workflow_ref",
                        Operator::Matches,
                        "foo-org/bar-repo /.github/workflows/*@refs/heads/main",
                        "claims['job_workflow_ref'] matches 'foo-org/bar-repo /.github/workflows/*@refs/heads/main'",
                    ),
                ],
            ),
            (
                "claims['sub'] eq 'é and ü'",
                vec![term(
                    "sub",
                    Operator::Eq,
                    "é and ü",
                    "claims['sub'] eq 'é and ü'",
                )],
            ),
        ];
        for (source, want) in cases {
            let got = parse(source, "claimsMatchingExpression.value", GITHUB).unwrap();
            assert_eq!(&got.terms, want, "{source}");
        }
    }

    /// What Microsoft does not document is refused, with what is not accepted and where.
    #[test]
    fn anything_else_is_refused_with_a_reason() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 1, "expected `claims['NAME']`, found the end"),
            (
                "claims['sub'] matches",
                22,
                "expected one space and a single-quoted comparand, found the end",
            ),
            (
                "claims['sub'] like 'x'",
                15,
                "`like` is not accepted: the documented operators",
            ),
            (
                "claims['sub'] EQ 'x'",
                15,
                "`EQ` is not accepted: Microsoft documents `eq` in lower case",
            ),
            ("CLAIMS['sub'] eq 'x'", 1, "`CLAIMS` is not accepted"),
            (
                "claims['sub'] eq 'x' AND claims['sub'] eq 'y'",
                22,
                "`AND` is not accepted",
            ),
            (
                "claims['sub'] eq 'x' or claims['sub'] eq 'y'",
                22,
                "`or` is not accepted",
            ),
            (
                "claims['sub']  eq 'x'",
                15,
                "expected `matches` or `eq`: extra or missing spaces",
            ),
            (
                " claims['sub'] eq 'x'",
                1,
                "expected `claims['NAME']`: extra or missing spaces",
            ),
            ("claims['sub'] eq 'x' ", 22, "expected `and`, found the end"),
            ("claims [ 'sub' ] eq 'x'", 1, "expected `claims['NAME']`"),
            ("claims[\"sub\"] eq 'x'", 1, "expected `claims['NAME']`"),
            (
                "claims['sub'] eq \"x\"",
                18,
                "double quotes are not accepted",
            ),
            ("claims[‘sub’] eq 'x'", 1, "expected `claims['NAME']`"),
            ("claims['sub'] eq ‘x’", 18, "typographic quotes"),
            ("(claims['sub'] eq 'x')", 1, "parentheses are not accepted"),
            (
                "claims['sub'] == 'x'",
                15,
                "symbolic operators are not accepted",
            ),
            ("claims['sub'] eq 'x", 18, "unterminated comparand"),
            (
                "claims['sub'] eq 'it''s'",
                21,
                "a `'` inside a comparand is not accepted",
            ),
            ("claims['sub'] matches 'x'.", 26, "expected ` and `"),
        ];
        for (source, position, message) in cases {
            match parse(source, "v", GITHUB) {
                Err(PolicyError::Expression {
                    position: got,
                    message: text,
                    ..
                }) => {
                    assert_eq!(got, *position, "{source}: {text}");
                    assert!(text.starts_with(message), "{source}: {text}");
                }
                other => panic!("{source}: {other:?}"),
            }
        }
    }

    #[test]
    fn only_the_issuers_claims_are_accepted() {
        assert_eq!(
            parse(
                "claims['sub'] eq 'a' and claims['repository'] eq 'o/r'",
                "v",
                GITHUB
            ),
            Err(PolicyError::UnsupportedClaim {
                location: "v".into(),
                claim: "repository".into(),
                position: 34,
            })
        );
        assert!(matches!(
            parse("claims['job_workflow_ref'] eq 'a'", "v", &["sub"]),
            Err(PolicyError::UnsupportedClaim { .. })
        ));
        // A long expression is linear to parse: no recursion, no backtracking.
        let long = vec!["claims['sub'] eq 'x'"; 10_000].join(" and ");
        assert_eq!(parse(&long, "v", GITHUB).unwrap().terms.len(), 10_000);
    }
}
