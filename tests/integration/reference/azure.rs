//! A clean-room reference model of Microsoft Entra federated identity credentials, written from
//! Microsoft's pages only (never from `src/policy`), for `differential.rs`.
//!
//! Pages:
//! - [FLEX] "Flexible federated identity credentials (preview)"
//!   <https://learn.microsoft.com/en-us/entra/workload-id/workload-identities-flexible-federated-identity-credentials>
//!   (MicrosoftDocs/entra-docs `docs/workload-id/workload-identities-flexible-federated-identity-credentials.md`)
//! - [CONS] "Important considerations and restrictions for federated identity credentials"
//!   <https://learn.microsoft.com/en-us/entra/workload-id/workload-identity-federation-considerations>
//!   (its include `docs/workload-id/includes/federated-credential-configuration-considerations.md`)
//!
//! What the pages leave open is listed in `reference/README.md`; each guess below says so.

use serde_json::{Map, Value};

/// [FLEX] "Issuer URLs, supported claims, and operators by platform", GitHub tab.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The claims a flexible expression may name for a credential with this issuer ([FLEX], per
/// platform tab); `None` when flexible credentials do not support the issuer at all.
pub fn supported_claims(issuer: &str) -> Option<&'static [&'static str]> {
    // GitHub: `sub` and `job_workflow_ref`, each with `eq` and `matches`.
    if issuer == GITHUB_ISSUER {
        return Some(&["sub", "job_workflow_ref"]);
    }
    // GitLab (`https://gitlab.com`, `https://gitlab.<any>.com|.ca`) and Terraform Cloud
    // (`https://app.terraform.io`, `https://app.eu.terraform.io`): `sub` only.
    let gitlab = issuer == "https://gitlab.com"
        || issuer
            .strip_prefix("https://gitlab.")
            .is_some_and(|rest| rest.ends_with(".com") || rest.ends_with(".ca"));
    let terraform = issuer == "https://app.terraform.io" || issuer == "https://app.eu.terraform.io";
    (gitlab || terraform).then_some(&["sub"][..])
}

/// Alternative readings, for naming the class of a disagreement in `differential.rs`; the
/// default is what the pages say.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AzureModel {
    /// Outside quoted text: any run of whitespace is one space, and the ends are trimmed.
    pub loose_spacing: bool,
    /// Outside quoted text, letter case does not matter (`Matches`, `EQ`, `AND`).
    pub any_case_keywords: bool,
    /// Parentheses outside quoted text are grouping, and ignored (only `and` exists).
    pub parentheses: bool,
    /// Any issuer supports GitHub's claims (`sub`, `job_workflow_ref`).
    pub any_issuer: bool,
    /// A credential may list any number of audiences; one of them must match.
    pub any_audience_count: bool,
    /// `''` is not an escaped quote: a quote always ends the comparand.
    pub no_quote_escape: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// [FLEX]: "single-character (denoted by ?) and multi-character (denoted by *) wildcard
    /// matching".
    Matches,
    /// [FLEX]: "Used for explicitly matching against a specified claim".
    Eq,
}

#[derive(Debug, PartialEq, Eq)]
struct Term {
    claim: String,
    op: Op,
    comparand: String,
}

/// Does `claimsMatchingExpression.value` hold for these claims? The credential's issuer is
/// taken to be the token's `iss` (it must equal it anyway, [CONS]). `Err` when Entra would not
/// accept the expression: only the documented grammar is read.
pub fn azure_flexible_matches(
    expression: &str,
    claims: &Map<String, Value>,
) -> Result<bool, String> {
    let issuer = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    azure_flexible_matches_for(issuer, expression, claims)
}

/// [`azure_flexible_matches`] for a credential whose `issuer` is given.
pub fn azure_flexible_matches_for(
    issuer: &str,
    expression: &str,
    claims: &Map<String, Value>,
) -> Result<bool, String> {
    azure_flexible_matches_with(issuer, expression, claims, AzureModel::default())
}

/// [`azure_flexible_matches_for`] under another reading.
pub fn azure_flexible_matches_with(
    issuer: &str,
    expression: &str,
    claims: &Map<String, Value>,
    model: AzureModel,
) -> Result<bool, String> {
    let github: &'static [&'static str] = &["sub", "job_workflow_ref"];
    let allowed = supported_claims(issuer)
        .or(model.any_issuer.then_some(github))
        .ok_or_else(|| format!("flexible credentials do not support the issuer {issuer:?}"))?;
    let allowed = if model.any_issuer { github } else { allowed };
    let normalized = normalize(expression, model);
    let terms = parse(&normalized, model)?;
    for term in &terms {
        if !allowed.contains(&term.claim.as_str()) {
            return Err(format!(
                "claim {:?} is not supported for {issuer}",
                term.claim
            ));
        }
    }
    // [FLEX] `and`: "Boolean operator for combining expressions against multiple claims".
    Ok(terms.iter().all(|term| {
        // A claim the token lacks (or that is not a string) matches nothing (README: the
        // pages do not say).
        let Some(value) = claims.get(&term.claim).and_then(Value::as_str) else {
            return false;
        };
        match term.op {
            // Case-sensitive, like every federated credential comparison ([CONS]: "must
            // exactly match"; README: unclear for `matches`).
            Op::Eq => value == term.comparand,
            Op::Matches => wildcard(&term.comparand, value),
        }
    }))
}

/// [FLEX] "language structure": `claims['<claimName>']`, a single space, the operator name, a
/// single space, the comparand in single quotes; terms joined by ` and `. "Single quotes are
/// interpreted as escape characters": read here as `''` inside a comparand being one `'`
/// (README: unclear). No parentheses, `or`, `not`, other spacing or letter case: none is
/// documented, so each is an error.
fn parse(expression: &str, model: AzureModel) -> Result<Vec<Term>, String> {
    let mut rest = expression;
    let mut terms = Vec::new();
    loop {
        let (term, after) = parse_term(rest, model)?;
        terms.push(term);
        if after.is_empty() {
            return Ok(terms);
        }
        rest = after
            .strip_prefix(" and ")
            .ok_or_else(|| format!("expected ` and ` or the end at {after:?}"))?;
    }
}

/// Rewrites the text outside single quotes for the lenient readings; the default reading
/// leaves it as it is.
fn normalize(expression: &str, model: AzureModel) -> String {
    let mut out = String::new();
    let mut quoted = false;
    let mut last_space = false;
    for c in expression.chars() {
        if c == '\'' {
            quoted = !quoted;
        }
        if quoted || c == '\'' {
            out.push(c);
            last_space = false;
            continue;
        }
        if model.parentheses && (c == '(' || c == ')') {
            continue;
        }
        if model.loose_spacing && c.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
            continue;
        }
        last_space = false;
        if model.any_case_keywords {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    if model.loose_spacing {
        out.trim().to_string()
    } else {
        out
    }
}

fn parse_term(text: &str, model: AzureModel) -> Result<(Term, &str), String> {
    let rest = text
        .strip_prefix("claims['")
        .ok_or_else(|| format!("expected `claims['` at {text:?}"))?;
    let close = rest.find("']").ok_or("unterminated claim lookup")?;
    let claim = &rest[..close];
    if claim.is_empty() || claim.contains('\'') {
        return Err(format!("bad claim name {claim:?}"));
    }
    let rest = rest[close + 2..]
        .strip_prefix(' ')
        .ok_or("expected one space after the claim lookup")?;
    let space = rest
        .find(' ')
        .ok_or("expected an operator and a comparand")?;
    let op = match &rest[..space] {
        "matches" => Op::Matches,
        "eq" => Op::Eq,
        other => return Err(format!("unknown operator {other:?}")),
    };
    let rest = rest[space + 1..]
        .strip_prefix('\'')
        .ok_or("the comparand must be in single quotes")?;
    let mut comparand = String::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == '\'' {
            if !model.no_quote_escape && chars.peek().map(|(_, n)| *n) == Some('\'') {
                comparand.push('\'');
                chars.next();
                continue;
            }
            let term = Term {
                claim: claim.to_string(),
                op,
                comparand,
            };
            return Ok((term, &rest[at + 1..]));
        }
        comparand.push(c);
    }
    Err("unterminated comparand".into())
}

/// Whole-string match: `*` any run (also empty), `?` one character, the rest literal.
fn wildcard(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    // Iterative matcher with one backtrack point (the last `*`).
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < v.len() {
        if i < p.len() && (p[i] == '?' || (p[i] != '*' && p[i] == v[j])) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

/// A plain (non-flexible) federated identity credential: [CONS] the token's `iss` must match
/// `issuer` (a value with leading or trailing whitespace is blocked), `sub` must "exactly
/// match" `subject`, and the one audience ("Federated identity credentials must have exactly
/// one audience") must match the `aud` claim. Comparisons are exact, so case-sensitive.
pub fn azure_exact_matches(
    issuer: &str,
    subject: &str,
    audiences: &[&str],
    claims: &Map<String, Value>,
) -> bool {
    issuer_and_audience_match(issuer, audiences, claims, AzureModel::default())
        && claims.get("sub").and_then(Value::as_str) == Some(subject)
}

fn issuer_and_audience_match(
    issuer: &str,
    audiences: &[&str],
    claims: &Map<String, Value>,
    model: AzureModel,
) -> bool {
    let Some(iss) = claims.get("iss").and_then(Value::as_str) else {
        return false;
    };
    if iss.trim() != iss || iss != issuer {
        return false;
    }
    if audiences.len() != 1 && !model.any_audience_count {
        return false;
    }
    // A token's `aud` may be one string or a list (RFC 7519); a list matches when it holds
    // the credential's audience (README: the pages speak of "the aud claim" only).
    audiences.iter().any(|audience| match claims.get("aud") {
        Some(Value::String(aud)) => aud == audience,
        Some(Value::Array(items)) => items.iter().any(|item| item.as_str() == Some(audience)),
        _ => false,
    })
}

/// A credential document as Microsoft Graph (and `az ad app federated-credential`) writes it:
/// one object or a list; `issuer`, `audiences`, and `subject` or
/// `claimsMatchingExpression: {value, languageVersion: 1}` ([FLEX] "Set up ... through
/// Microsoft Graph": "mutually exclusive"). Allowed when any credential matches.
pub fn azure_document_allows(document: &str, claims: &Map<String, Value>) -> Result<bool, String> {
    azure_document_allows_with(document, claims, AzureModel::default())
}

/// [`azure_document_allows`] under another reading.
pub fn azure_document_allows_with(
    document: &str,
    claims: &Map<String, Value>,
    model: AzureModel,
) -> Result<bool, String> {
    let parsed: Value = serde_json::from_str(document).map_err(|e| format!("not JSON: {e}"))?;
    let credentials: Vec<&Value> = match &parsed {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    if credentials.is_empty() {
        return Err("no credential".into());
    }
    let mut any = false;
    for credential in credentials {
        let credential = credential
            .as_object()
            .ok_or("a credential is not an object")?;
        let issuer = credential
            .get("issuer")
            .and_then(Value::as_str)
            .ok_or("issuer is required")?;
        let audiences: Vec<&str> = credential
            .get("audiences")
            .and_then(Value::as_array)
            .ok_or("audiences is required")?
            .iter()
            .map(|a| a.as_str().ok_or("an audience is not a string"))
            .collect::<Result<_, _>>()?;
        // [CONS] errors: "Federated identity credentials must have exactly one audience."
        if audiences.len() != 1 && !model.any_audience_count {
            return Err("exactly one audience".into());
        }
        let subject = credential.get("subject").filter(|s| !s.is_null());
        let expression = credential
            .get("claimsMatchingExpression")
            .filter(|e| !e.is_null());
        let matched = match (subject, expression) {
            (Some(subject), None) => {
                let subject = subject.as_str().ok_or("subject is not a string")?;
                issuer_and_audience_match(issuer, &audiences, claims, model)
                    && claims.get("sub").and_then(Value::as_str) == Some(subject)
            }
            (None, Some(expression)) => {
                let value = expression
                    .get("value")
                    .and_then(Value::as_str)
                    .ok_or("claimsMatchingExpression.value is required")?;
                // [FLEX]: "languageVersion should always be set to 1".
                if expression.get("languageVersion").and_then(Value::as_i64) != Some(1) {
                    return Err("languageVersion must be 1".into());
                }
                // Evaluate (and so validate) even when issuer or audience already refuse.
                let holds = azure_flexible_matches_with(issuer, value, claims, model)?;
                holds && issuer_and_audience_match(issuer, &audiences, claims, model)
            }
            (Some(_), Some(_)) => {
                return Err("subject and claimsMatchingExpression both set".into())
            }
            (None, None) => return Err("neither subject nor claimsMatchingExpression".into()),
        };
        any |= matched;
    }
    Ok(any)
}

#[cfg(test)]
mod tests {
    //! The examples of [FLEX] and [CONS], with the results they describe.
    use super::*;
    use serde_json::json;

    fn claims(sub: &str, job_workflow_ref: Option<&str>) -> Map<String, Value> {
        let mut map =
            json!({"iss": GITHUB_ISSUER, "aud": "api://AzureADTokenExchange", "sub": sub})
                .as_object()
                .unwrap()
                .clone();
        if let Some(jwr) = job_workflow_ref {
            map.insert("job_workflow_ref".into(), json!(jwr));
        }
        map
    }

    #[test]
    fn matches_with_a_multi_character_wildcard() {
        let e = "claims['sub'] matches 'repo:contoso/contoso-repo:ref:refs/heads/*'";
        assert_eq!(
            azure_flexible_matches(
                e,
                &claims("repo:contoso/contoso-repo:ref:refs/heads/main", None)
            ),
            Ok(true)
        );
        assert_eq!(
            azure_flexible_matches(
                e,
                &claims("repo:contoso/contoso-repo:ref:refs/heads/a/b", None)
            ),
            Ok(true)
        );
        assert_eq!(
            azure_flexible_matches(e, &claims("repo:contoso/contoso-repo:pull_request", None)),
            Ok(false)
        );
        // Case-sensitive.
        assert_eq!(
            azure_flexible_matches(
                e,
                &claims("repo:Contoso/contoso-repo:ref:refs/heads/main", None)
            ),
            Ok(false)
        );
    }

    #[test]
    fn matches_with_single_character_wildcards() {
        let e = "claims['sub'] matches 'repo:contoso/contoso-repo-*:ref:refs/heads/????'";
        assert_eq!(
            azure_flexible_matches(
                e,
                &claims("repo:contoso/contoso-repo-x:ref:refs/heads/main", None)
            ),
            Ok(true)
        );
        assert_eq!(
            azure_flexible_matches(
                e,
                &claims("repo:contoso/contoso-repo-x:ref:refs/heads/master", None)
            ),
            Ok(false)
        );
    }

    #[test]
    fn eq_is_exact_and_and_combines_claims() {
        let e = "claims['sub'] eq 'repo:contoso/contoso-repo:ref:refs/heads/main'";
        assert_eq!(
            azure_flexible_matches(
                e,
                &claims("repo:contoso/contoso-repo:ref:refs/heads/main", None)
            ),
            Ok(true)
        );
        assert_eq!(
            azure_flexible_matches(
                e,
                &claims("repo:contoso/contoso-repo:ref:refs/heads/mai*", None)
            ),
            Ok(false)
        );
        let both = "claims['sub'] eq 'repo:contoso/contoso-repo:ref:refs/heads/main' and claims['job_workflow_ref'] matches 'foo-org/bar-repo/.github/workflows/*@refs/heads/main'";
        let sub = "repo:contoso/contoso-repo:ref:refs/heads/main";
        let jwr = "foo-org/bar-repo/.github/workflows/deploy.yml@refs/heads/main";
        assert_eq!(
            azure_flexible_matches(both, &claims(sub, Some(jwr))),
            Ok(true)
        );
        assert_eq!(
            azure_flexible_matches(
                both,
                &claims(
                    sub,
                    Some("foo-org/bar-repo/.github/workflows/deploy.yml@refs/heads/dev")
                )
            ),
            Ok(false)
        );
        assert_eq!(azure_flexible_matches(both, &claims(sub, None)), Ok(false));
    }

    #[test]
    fn only_documented_grammar_and_claims_are_accepted() {
        let c = claims("repo:o/r:ref:refs/heads/main", None);
        for bad in [
            // GitHub supports sub and job_workflow_ref only.
            "claims['repository'] eq 'o/r'",
            // Undocumented operators, spacing, quoting, letter case, parentheses, `or`.
            "claims['sub'] like 'repo:*'",
            "claims['sub']  matches 'repo:*'",
            "claims[\"sub\"] matches 'repo:*'",
            "claims['sub'] MATCHES 'repo:*'",
            "(claims['sub'] matches 'repo:*')",
            "claims['sub'] matches 'repo:*' or claims['sub'] eq 'x'",
            "claims['sub'] matches 'repo:*' AND claims['sub'] eq 'x'",
            "claims['sub'] matches repo:*",
            "claims['sub'] matches 'repo:*",
            // The page's own JSON example ends in `'.`, which the grammar does not allow.
            "claims['sub'] matches 'repo:contoso/contoso-repo:ref:refs/heads/*'.",
            "",
        ] {
            assert!(azure_flexible_matches(bad, &c).is_err(), "{bad}");
        }
        // A doubled quote is one quote in the comparand.
        assert_eq!(
            azure_flexible_matches("claims['sub'] eq 'it''s'", &claims("it's", None)),
            Ok(true)
        );
    }

    #[test]
    fn exact_credentials_compare_issuer_subject_and_the_one_audience() {
        let c = claims("repo:o/r:environment:prod", None);
        let aud = ["api://AzureADTokenExchange"];
        assert!(azure_exact_matches(
            GITHUB_ISSUER,
            "repo:o/r:environment:prod",
            &aud,
            &c
        ));
        assert!(!azure_exact_matches(
            GITHUB_ISSUER,
            "repo:o/r:environment:Prod",
            &aud,
            &c
        ));
        assert!(!azure_exact_matches(
            GITHUB_ISSUER,
            "repo:o/r:environment:*",
            &aud,
            &c
        ));
        assert!(!azure_exact_matches(
            "https://token.actions.githubusercontent.com/",
            "repo:o/r:environment:prod",
            &aud,
            &c
        ));
        assert!(!azure_exact_matches(
            GITHUB_ISSUER,
            "repo:o/r:environment:prod",
            &["api://other"],
            &c
        ));
        assert!(!azure_exact_matches(
            GITHUB_ISSUER,
            "repo:o/r:environment:prod",
            &[],
            &c
        ));
    }

    #[test]
    fn documents_allow_when_any_credential_matches() {
        let c = claims("repo:o/r:environment:prod", None);
        let doc = json!([
            {"name": "a", "issuer": GITHUB_ISSUER, "subject": "repo:o/r:environment:dev", "audiences": ["api://AzureADTokenExchange"]},
            {"name": "b", "issuer": GITHUB_ISSUER, "audiences": ["api://AzureADTokenExchange"],
             "claimsMatchingExpression": {"value": "claims['sub'] matches 'repo:o/r:environment:*'", "languageVersion": 1}}
        ]);
        assert_eq!(azure_document_allows(&doc.to_string(), &c), Ok(true));
        let both = json!({"name": "c", "issuer": GITHUB_ISSUER, "subject": "x", "audiences": ["api://AzureADTokenExchange"],
            "claimsMatchingExpression": {"value": "claims['sub'] eq 'x'", "languageVersion": 1}});
        assert!(azure_document_allows(&both.to_string(), &c).is_err());
    }
}
