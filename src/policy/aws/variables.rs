//! IAM policy variables in condition values: `${token.actions.githubusercontent.com:sub}`,
//! `${aws:username, 'default'}`, and the escapes `${*}`, `${?}`, `${$}`.
//!
//! Source: IAM User Guide, "IAM policy elements: Variables and tags"
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html>):
//! variables are replaced by the request context value of their key; they work only in a
//! policy whose `Version` is `2012-10-17` (with an older or no `Version` the text is literal);
//! `${*}`, `${?}` and `${$}` stand for a literal `*`, `?` and `$`, so that a value can hold them
//! under `StringLike`; a default value follows a comma, in single quotes. Text a variable
//! brings in is literal: its `*` is no wildcard. What IAM does with a variable whose key the
//! request lacks and which has no default is only sketched there ("the variable ... does not
//! match"): we let such a value match nothing, and say so.

use super::keys::{Lookup, TokenKeys};

/// One part of a condition value after expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Piece {
    pub(super) text: String,
    /// Text from a variable or an escape: `*` and `?` in it are not wildcards.
    pub(super) literal: bool,
}

/// A condition value after expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Expanded {
    /// Every variable resolved (or none was there).
    Known(Vec<Piece>),
    /// A variable whose key the token cannot tell (`aws:`, `sts:` keys...): the value cannot
    /// be compared here.
    Unknown(String),
    /// A variable whose key STS would not have, without a default: the value matches nothing.
    Absent(String),
}

impl Expanded {
    /// The expanded text, for messages and exact comparison.
    pub(super) fn text(&self) -> Option<String> {
        match self {
            Expanded::Known(pieces) => Some(pieces.iter().map(|p| p.text.as_str()).collect()),
            _ => None,
        }
    }
}

/// Whether `value` holds a variable at all (`${`).
pub(super) fn has_variable(value: &str) -> bool {
    value.contains("${")
}

/// Expands `value` against the token's keys. `None` when the value has no variable, so that
/// the caller compares the text as written.
pub(super) fn expand(value: &str, keys: &TokenKeys<'_>) -> Option<Expanded> {
    if !has_variable(value) {
        return None;
    }
    let mut pieces = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let (before, after) = rest.split_at(start);
        if !before.is_empty() {
            pieces.push(Piece {
                text: before.to_owned(),
                literal: false,
            });
        }
        let Some(end) = after.find('}') else {
            // An unclosed `${` is text.
            pieces.push(Piece {
                text: after.to_owned(),
                literal: false,
            });
            rest = "";
            break;
        };
        let inner = &after[2..end];
        rest = &after[end + 1..];
        match resolve(inner, keys) {
            Ok(text) => pieces.push(Piece {
                text,
                literal: true,
            }),
            Err(other) => return Some(other),
        }
    }
    if !rest.is_empty() {
        pieces.push(Piece {
            text: rest.to_owned(),
            literal: false,
        });
    }
    Some(Expanded::Known(pieces))
}

/// The text one `${inner}` stands for, or why it has none.
fn resolve(inner: &str, keys: &TokenKeys<'_>) -> Result<String, Expanded> {
    match inner {
        "*" | "?" | "$" => return Ok(inner.to_owned()),
        _ => {}
    }
    let (key, default) = match inner.split_once(',') {
        Some((key, default)) => {
            let default = default.trim();
            let default = default
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
                .unwrap_or(default);
            (key.trim(), Some(default.to_owned()))
        }
        None => (inner.trim(), None),
    };
    let written = format!("${{{inner}}}");
    let single = |values: Option<Vec<String>>| match values {
        // A multivalued key (an `aud` array) has no single text; IAM documents variables for
        // single-valued keys only.
        Some(values) if values.len() == 1 => values.into_iter().next(),
        _ => None,
    };
    let found = match keys.lookup(key) {
        Lookup::Claim(values) | Lookup::Unsure { values, .. } => single(values),
        Lookup::NotPassed { .. } | Lookup::PrefixMismatch { .. } => None,
        Lookup::NotFromToken => return default.ok_or(Expanded::Unknown(written)),
    };
    match (found, default) {
        (Some(text), _) => Ok(text),
        (None, Some(default)) => Ok(default),
        (None, None) => Err(Expanded::Absent(written)),
    }
}

/// `StringLike` over expanded pieces: wildcards only in the policy's own text.
pub(super) fn like(pieces: &[Piece], value: &str, ignore_case: bool) -> Option<bool> {
    let fold = |s: &str| {
        if ignore_case {
            s.to_lowercase()
        } else {
            s.to_owned()
        }
    };
    let value = fold(value);
    if !pieces
        .iter()
        .any(|p| p.literal && p.text.contains(['*', '?']))
    {
        let pattern: String = pieces.iter().map(|p| fold(&p.text)).collect();
        return Some(crate::pattern::string_like(&pattern, &value));
    }
    // A literal `*` or `?` (from `${*}` or a claim value) must match itself: both sides get
    // the same stand-in, a private-use character that neither holds, so the matcher (which
    // has no escape) sees it as an ordinary character.
    let all: String = pieces.iter().map(|p| p.text.as_str()).collect();
    let mut free = ('\u{E000}'..='\u{F8FF}').filter(|c| !value.contains(*c) && !all.contains(*c));
    let (star, question) = (free.next()?, free.next()?);
    let pattern: String = pieces
        .iter()
        .map(|p| {
            let text = fold(&p.text);
            if p.literal {
                text.replace('*', &star.to_string())
                    .replace('?', &question.to_string())
            } else {
                text
            }
        })
        .collect();
    let value = value
        .replace('*', &star.to_string())
        .replace('?', &question.to_string());
    Some(crate::pattern::string_like(&pattern, &value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Claims;
    use serde_json::json;

    fn keys_for(claims: &Claims) -> TokenKeys<'_> {
        TokenKeys::new(claims)
    }

    fn token() -> Claims {
        Claims(
            json!({
                "iss": "https://token.actions.githubusercontent.com",
                "sub": "repo:o/r:ref:refs/heads/main",
                "repository": "o/r",
                "repository_owner": "o",
                "ref": "refs/heads/a*b",
                "aud": ["x", "y"],
            })
            .as_object()
            .cloned()
            .unwrap_or_default(),
        )
    }

    fn text(value: &str, claims: &Claims) -> Option<Expanded> {
        expand(value, &keys_for(claims))
    }

    #[test]
    fn variables_expand_from_passed_claims_only() {
        let claims = token();
        let known = |s: &str| text(s, &claims).and_then(|e| e.text());
        assert_eq!(text("repo:o/r:*", &claims), None);
        assert_eq!(
            known("repo:${token.actions.githubusercontent.com:repository}:*").as_deref(),
            Some("repo:o/r:*")
        );
        assert_eq!(known("a${*}b${?}${$}").as_deref(), Some("a*b?$"));
        assert_eq!(
            known("${token.actions.githubusercontent.com:environment, 'none'}").as_deref(),
            Some("none")
        );
        // `repository_owner` is not passed by STS: absent to IAM, whatever the token says.
        assert_eq!(
            text(
                "${token.actions.githubusercontent.com:repository_owner}",
                &claims
            ),
            Some(Expanded::Absent(
                "${token.actions.githubusercontent.com:repository_owner}".into()
            ))
        );
        assert!(matches!(
            text("${aws:PrincipalTag/team}", &claims),
            Some(Expanded::Unknown(_))
        ));
        assert_eq!(known("${aws:PrincipalTag/team, 'x'}").as_deref(), Some("x"));
        // A multivalued key has no single text.
        assert!(matches!(
            text("${token.actions.githubusercontent.com:aud}", &claims),
            Some(Expanded::Absent(_))
        ));
        assert_eq!(known("a${b").as_deref(), Some("a${b"));
    }

    #[test]
    fn text_from_a_variable_is_literal_under_string_like() {
        let claims = token();
        let Some(Expanded::Known(pieces)) =
            text("${token.actions.githubusercontent.com:ref}", &claims)
        else {
            panic!("not expanded");
        };
        assert_eq!(like(&pieces, "refs/heads/a*b", false), Some(true));
        assert_eq!(like(&pieces, "refs/heads/aXYb", false), Some(false));
        let Some(Expanded::Known(pieces)) = text("refs/heads/${*}*", &claims) else {
            panic!("not expanded");
        };
        assert_eq!(like(&pieces, "refs/heads/*main", false), Some(true));
        assert_eq!(like(&pieces, "refs/heads/main", false), Some(false));
        assert_eq!(like(&pieces, "REFS/heads/*x", true), Some(true));
    }
}
