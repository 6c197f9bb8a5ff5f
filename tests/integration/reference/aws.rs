//! A clean-room reference model of how IAM decides `sts:AssumeRoleWithWebIdentity` against a
//! role trust policy, written from the IAM User Guide only (never from `src/policy`), so that
//! `differential.rs` can find what the project's evaluator and its own tests share.
//!
//! Pages (IAM User Guide, read through the docs index):
//! - [OPS] "IAM JSON policy elements: Condition operators"
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>
//! - [COND] "IAM JSON policy elements: Condition"
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html>
//! - [MULTI] "Conditions with multiple context keys or values"
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html>
//! - [SET] "Single-valued vs. multivalued context keys"
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html>
//! - [VARS] "IAM policy elements: Variables and tags"
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html>
//! - [EVAL] "Policy evaluation logic"
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>
//! - [OIDC] "Available keys for AWS OIDC federation" (Default and GitHub tabs)
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif>,
//!   as summarised in /work/shared/reference/github-oidc-facts.md ("How consumers match claims").
//!
//! What the pages leave open is listed in `reference/README.md`; each guess below says so.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// The action a web identity token asks STS for.
pub const ACTION: &str = "sts:AssumeRoleWithWebIdentity";

/// [OIDC] Default tab: the keys STS puts in the request context for any OIDC provider.
pub const DEFAULT_KEYS: &[&str] = &["aud", "sub", "amr", "email", "oaud"];

/// [OIDC] GitHub tab: the further claims STS passes to IAM for GitHub's provider.
pub const GITHUB_KEYS: &[&str] = &[
    "actor",
    "actor_id",
    "job_workflow_ref",
    "repository",
    "repository_id",
    "repository_owner_id",
    "workflow",
    "ref",
    "environment",
    "enterprise_id",
];

/// Alternative readings of the documents. The default is what the pages say; the others exist
/// so the differential test can name the class of a disagreement ("the project answers as if
/// every claim were in the request context") instead of only counting it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Model {
    /// Put every claim of the token in the request context, not only the ones STS passes.
    pub expose_all_claims: bool,
    /// Leave `${...}` in condition values as text, as without `Version` 2012-10-17.
    pub variables_as_text: bool,
    /// Count every `Bool` condition as holding, without comparing.
    pub bool_holds: bool,
}

/// The request context: lower-cased key name to the key's values.
/// [COND]: "Context key names are not case-sensitive."
pub type Context = HashMap<String, Vec<String>>;

/// Would IAM allow `sts:AssumeRoleWithWebIdentity` for a token with these `claims`, from the
/// OIDC provider whose condition-key prefix is `provider_prefix`, under this trust policy?
/// `Err` when the text is not a trust policy this model reads.
pub fn aws_allows(
    policy_json: &str,
    provider_prefix: &str,
    claims: &Map<String, Value>,
) -> Result<bool, String> {
    aws_allows_with(policy_json, provider_prefix, claims, Model::default())
}

/// [`aws_allows`] under another reading of the documents.
pub fn aws_allows_with(
    policy_json: &str,
    provider_prefix: &str,
    claims: &Map<String, Value>,
    model: Model,
) -> Result<bool, String> {
    let policy: Value = serde_json::from_str(policy_json).map_err(|e| format!("not JSON: {e}"))?;
    let root = policy
        .as_object()
        .ok_or("the policy is not a JSON object")?;
    // [VARS]: "Variables were introduced in version 2012-10-17 ... If you don't include the
    // Version element ... variables like ${aws:username} are treated as literal strings."
    let variables = root.get("Version").and_then(Value::as_str) == Some("2012-10-17")
        && !model.variables_as_text;
    let statements: Vec<&Value> = match root.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return Err("no Statement".into()),
    };
    if statements.is_empty() {
        return Err("an empty Statement list".into());
    }
    let context = request_context(provider_prefix, claims, model);
    let mut allowed = false;
    let mut denied = false;
    for statement in statements {
        let statement = statement
            .as_object()
            .ok_or("a statement is not an object")?;
        let effect = match statement.get("Effect").and_then(Value::as_str) {
            Some("Allow") => true,
            Some("Deny") => false,
            other => return Err(format!("Effect {other:?}")),
        };
        for unsupported in ["NotPrincipal", "NotAction"] {
            if statement.contains_key(unsupported) {
                return Err(format!("{unsupported} is not modelled"));
            }
        }
        // All three are read before combining, so an unreadable part is an error even in a
        // statement that does not apply (IAM validates the whole document when it is saved).
        let principal = principal_applies(statement.get("Principal"), provider_prefix)?;
        let action = action_applies(statement.get("Action"))?;
        let conditions = conditions_hold(statement.get("Condition"), &context, variables, model)?;
        let applies = principal && action && conditions;
        if applies {
            if effect {
                allowed = true;
            } else {
                denied = true;
            }
        }
    }
    // [EVAL]: "An explicit deny in any policy overrides any allows"; without an Allow that
    // applies, the request is implicitly denied.
    Ok(allowed && !denied)
}

/// The keys STS passes to IAM for this token. [OIDC]: only the Default keys for every
/// provider, and the GitHub tab's claims for GitHub's provider; every other claim is absent
/// from the request context whatever the token says.
pub fn request_context(prefix: &str, claims: &Map<String, Value>, model: Model) -> Context {
    let mut context = Context::new();
    let mut put = |name: &str, value: Option<&Value>| {
        if let Some(values) = value.and_then(claim_values) {
            context.insert(format!("{prefix}:{name}").to_lowercase(), values);
        }
    };
    if model.expose_all_claims {
        for (name, value) in claims {
            put(name, Some(value));
        }
        return context;
    }
    // [OIDC] Default tab: `aud` is the `azp` claim when the token has one, else `aud`;
    // `oaud` is always the token's `aud`.
    put("aud", claims.get("azp").or_else(|| claims.get("aud")));
    put("oaud", claims.get("aud"));
    for name in ["sub", "amr", "email"] {
        put(name, claims.get(name));
    }
    // [OIDC] GitHub tab, for GitHub's provider. An enterprise slug keeps the host
    // (`token.actions.githubusercontent.com/SLUG`, facts file); GHES and GHE.com hosts are
    // not named on the AWS page, so they get the Default keys only (README: unclear).
    let github = prefix == "token.actions.githubusercontent.com"
        || prefix.starts_with("token.actions.githubusercontent.com/");
    if github {
        for name in GITHUB_KEYS {
            put(name, claims.get(*name));
        }
    }
    context
}

/// A claim's values as IAM compares them: a string is one value, an array one per element;
/// `null` is absent (guess: README). Numbers and booleans as their JSON text.
fn claim_values(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::Null => None,
        Value::Array(items) => Some(items.iter().filter_map(scalar_text).collect()),
        other => scalar_text(other).map(|text| vec![text]),
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) => Some(number.to_string()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// A trust policy names the OIDC provider as `Principal.Federated`
/// (`arn:aws:iam::ACCOUNT:oidc-provider/PROVIDER`, IAM User Guide "Creating a role for OIDC
/// federation"); a statement for another principal does not apply to this token.
fn principal_applies(principal: Option<&Value>, prefix: &str) -> Result<bool, String> {
    let Some(principal) = principal else {
        return Err("a trust policy statement needs a Principal".into());
    };
    let federated = match principal {
        // [EVAL] / Principal element: "*" is everyone (README: not generated, a guess).
        Value::String(star) if star == "*" => return Ok(true),
        Value::Object(map) => match map.get("Federated") {
            Some(value) => value,
            None => return Ok(false),
        },
        _ => return Err("Principal is neither \"*\" nor an object".into()),
    };
    let names: Vec<&str> = match federated {
        Value::String(one) => vec![one.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => return Err("Principal.Federated is not a string or a list".into()),
    };
    Ok(names.iter().any(|arn| provider_arn_names(arn, prefix)))
}

/// `arn:PARTITION:iam::ACCOUNT:oidc-provider/PREFIX` (partitions aws, aws-cn, aws-us-gov).
fn provider_arn_names(arn: &str, prefix: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    partition.starts_with("aws")
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource.strip_prefix("oidc-provider/") == Some(prefix)
}

/// IAM User Guide "IAM JSON policy elements: Action": action names are case-insensitive and
/// may use `*` and `?` wildcards; a list applies when any entry matches.
fn action_applies(action: Option<&Value>) -> Result<bool, String> {
    let patterns: Vec<&str> = match action {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => return Err("Action is missing or not a string/list".into()),
    };
    let target = ACTION.to_lowercase();
    Ok(patterns
        .iter()
        .any(|pattern| like(&tokens_plain(&pattern.to_lowercase()), &target)))
}

/// [MULTI]: "If your policy statement has multiple condition operators, the condition
/// operators are evaluated using a logical AND"; several keys under one operator are ANDed.
fn conditions_hold(
    condition: Option<&Value>,
    context: &Context,
    variables: bool,
    model: Model,
) -> Result<bool, String> {
    let Some(condition) = condition else {
        return Ok(true);
    };
    let blocks = condition.as_object().ok_or("Condition is not an object")?;
    let mut all = true;
    for (operator, keys) in blocks {
        let keys = keys
            .as_object()
            .ok_or_else(|| format!("Condition.{operator} is not an object"))?;
        for (key, values) in keys {
            // Evaluate every condition (no short-circuit) so an unreadable one is an error
            // wherever it stands.
            let holds = condition_holds(operator, key, values, context, variables)?;
            all &= holds || (model.bool_holds && operator.contains("Bool"));
        }
    }
    Ok(all)
}

/// The operators this model reads. [OPS] "String condition operators", "Boolean condition
/// operators", "Condition operator to check existence of condition keys".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Base {
    Equals,
    EqualsIgnoreCase,
    Like,
    Bool,
}

struct Operator {
    base: Base,
    negated: bool,
    if_exists: bool,
    set: Option<SetQualifier>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    AnyValue,
    AllValues,
}

fn parse_operator(text: &str) -> Result<Option<Operator>, String> {
    // [SET]: the qualifiers are written `ForAnyValue:` and `ForAllValues:` before the operator.
    let (set, rest) = if let Some(rest) = text.strip_prefix("ForAnyValue:") {
        (Some(SetQualifier::AnyValue), rest)
    } else if let Some(rest) = text.strip_prefix("ForAllValues:") {
        (Some(SetQualifier::AllValues), rest)
    } else {
        (None, text)
    };
    if rest == "Null" {
        if set.is_some() {
            return Err(format!("{text}: a set qualifier on Null"));
        }
        // Null is handled by the caller; None says "Null".
        return Ok(None);
    }
    // [OPS] "...IfExists condition operators": "You can add IfExists to the end of any
    // condition operator name except the Null condition".
    let (rest, if_exists) = match rest.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (rest, false),
    };
    let (base, negated) = match rest {
        "StringEquals" => (Base::Equals, false),
        "StringNotEquals" => (Base::Equals, true),
        "StringEqualsIgnoreCase" => (Base::EqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (Base::EqualsIgnoreCase, true),
        "StringLike" => (Base::Like, false),
        "StringNotLike" => (Base::Like, true),
        "Bool" => (Base::Bool, false),
        _ => return Err(format!("operator {text} is not modelled")),
    };
    Ok(Some(Operator {
        base,
        negated,
        if_exists,
        set,
    }))
}

/// One `"Operator": {"key": values}` entry against the request context.
pub fn condition_holds(
    operator: &str,
    key: &str,
    values: &Value,
    context: &Context,
    variables: bool,
) -> Result<bool, String> {
    let policy_values: Vec<String> = match values {
        Value::Array(items) => items
            .iter()
            .map(|item| scalar_text(item).ok_or("a null condition value"))
            .collect::<Result<_, _>>()?,
        Value::Object(_) => return Err(format!("{operator}.{key}: an object as value")),
        one => vec![scalar_text(one).ok_or("a null condition value")?],
    };
    // [COND]: "Context key names are not case-sensitive."
    let present = context.get(&key.to_lowercase());
    let Some(op) = parse_operator(operator)? else {
        // [OPS] Null: "true (the key doesn't exist — it is null) or false (the key exists and
        // its value is not null)". No policy variables ([OPS]: "You can not use a policy
        // variable with the Null condition operator"). Several values are ORed [MULTI].
        let mut any = false;
        for value in &policy_values {
            any |= match value.to_ascii_lowercase().as_str() {
                "true" => present.is_none(),
                "false" => present.is_some(),
                _ => return Err(format!("Null.{key}: {value:?} is neither true nor false")),
            };
        }
        return Ok(any);
    };
    // [VARS] "Policy variables with no value": an unresolved variable makes that value
    // "effectively null": positive operators do not match it, negated ones do. `None` below.
    let patterns: Vec<Option<Vec<Tok>>> = policy_values
        .iter()
        // [OPS] Boolean: "Policy variables – Supported" (the older [VARS] text said no:
        // README).
        .map(|value| expand(value, context, variables))
        .collect();
    // [MULTI]: "If a single condition operator includes multiple values for a context key,
    // those values are evaluated using a logical OR"; for a negated operator "NOR".
    let hit = |value: &String| {
        patterns
            .iter()
            .flatten()
            .any(|pattern| matches_one(op.base, value, pattern))
    };
    let outcome = match (op.set, present) {
        // [OPS] Important box: a key absent from the request context fails a positive
        // operator and passes a negated one; `...IfExists`: "If the key is not present,
        // evaluate the condition element as true."
        (None, None) => op.if_exists || op.negated,
        // A plain operator on a key with several values (an `aud` array): the pages tell to
        // use a set qualifier instead; this model reads it as "any value" (README: unclear).
        (None, Some(values)) => {
            if op.negated {
                !values.iter().any(hit)
            } else {
                values.iter().any(hit)
            }
        }
        // [SET] ForAnyValue: at least one request value must match (negated: must match
        // none of the policy's values); with no key in the request it is false.
        (Some(SetQualifier::AnyValue), None) => op.if_exists,
        (Some(SetQualifier::AnyValue), Some(values)) => {
            if op.negated {
                values.iter().any(|value| !hit(value))
            } else {
                values.iter().any(hit)
            }
        }
        // [OPS]/[SET] ForAllValues: "returns true if there are no context keys in the request
        // or if the context key value resolves to a null dataset, such as an empty string".
        (Some(SetQualifier::AllValues), None) => true,
        (Some(SetQualifier::AllValues), Some(values))
            if values.is_empty() || values.iter().all(String::is_empty) =>
        {
            true
        }
        (Some(SetQualifier::AllValues), Some(values)) => {
            if op.negated {
                values.iter().all(|value| !hit(value))
            } else {
                values.iter().all(hit)
            }
        }
    };
    Ok(outcome)
}

/// One character of an expanded policy value: literal, or a `StringLike` wildcard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Char(char),
    /// `*`: any run of characters, also empty ([OPS] StringLike "multi-character match").
    Any,
    /// `?`: exactly one character.
    One,
}

fn tokens_plain(text: &str) -> Vec<Tok> {
    text.chars()
        .map(|c| match c {
            '*' => Tok::Any,
            '?' => Tok::One,
            c => Tok::Char(c),
        })
        .collect()
}

/// Expands the policy variables of one condition value ([VARS]). `None` when a variable has
/// no value and no default. `${*}`, `${?}`, `${$}` stand for the literal characters ([VARS]
/// "Special characters"); `${key, 'default'}` gives a default ([VARS] "Specifying default
/// values"). A substituted claim value is literal text, never wildcards (README: unclear).
fn expand(value: &str, context: &Context, variables: bool) -> Option<Vec<Tok>> {
    if !variables {
        return Some(tokens_plain(value));
    }
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.extend(tokens_plain(&rest[..start]));
        let after = &rest[start + 2..];
        let Some(end) = variable_end(after) else {
            // An unterminated `${` stays text (README: unclear).
            out.extend(tokens_plain(&rest[start..]));
            return Some(out);
        };
        let inner = &after[..end];
        match inner {
            "*" => out.push(Tok::Char('*')),
            "?" => out.push(Tok::Char('?')),
            "$" => out.push(Tok::Char('$')),
            _ => {
                let (name, default) = match inner.split_once(',') {
                    Some((name, default)) => {
                        let default = default.trim();
                        let default = default
                            .strip_prefix('\'')
                            .and_then(|d| d.strip_suffix('\''))
                            .map(str::to_string);
                        (name.trim(), default)
                    }
                    None => (inner.trim(), None),
                };
                // [VARS]: "Key names are case-insensitive"; a multivalued key cannot be a
                // variable ([SET] "Key points"), so it has no value here.
                let resolved = match context.get(&name.to_lowercase()) {
                    Some(values) if values.len() == 1 => Some(values[0].clone()),
                    _ => default,
                };
                out.extend(resolved?.chars().map(Tok::Char));
            }
        }
        rest = &after[end + 1..];
    }
    out.extend(tokens_plain(rest));
    Some(out)
}

/// Where the `}` closing a variable is: after a quoted default, the first `}` after it.
fn variable_end(after: &str) -> Option<usize> {
    match (after.find('\''), after.find('}')) {
        (Some(quote), Some(close)) if quote < close => {
            let closing_quote = quote + 1 + after[quote + 1..].find('\'')?;
            Some(closing_quote + 1 + after[closing_quote + 1..].find('}')?)
        }
        (_, close) => close,
    }
}

fn matches_one(base: Base, value: &str, pattern: &[Tok]) -> bool {
    let literal = || -> String {
        pattern
            .iter()
            .map(|tok| match tok {
                Tok::Char(c) => *c,
                Tok::Any => '*',
                Tok::One => '?',
            })
            .collect()
    };
    match base {
        // [OPS]: StringEquals "Exact matching, case sensitive" (a `*` is literal there).
        Base::Equals => value == literal(),
        // [OPS]: "Exact matching, ignoring case" (Unicode lower-casing: README).
        Base::EqualsIgnoreCase => value.to_lowercase() == literal().to_lowercase(),
        // [OPS]: StringLike "Case-sensitive matching ... wildcards (*) and (?) anywhere".
        Base::Like => like(pattern, value),
        // [OPS] Boolean: compares to `true` / `false` (letter case ignored: README).
        Base::Bool => value.eq_ignore_ascii_case(&literal()),
    }
}

/// Whole-string wildcard match, by dynamic programming over characters.
fn like(pattern: &[Tok], value: &str) -> bool {
    let chars: Vec<char> = value.chars().collect();
    // reach[j]: the pattern prefix so far matches chars[..j].
    let mut reach = vec![false; chars.len() + 1];
    reach[0] = true;
    for tok in pattern {
        let mut next = vec![false; chars.len() + 1];
        match tok {
            Tok::Any => {
                let mut seen = false;
                for j in 0..=chars.len() {
                    seen |= reach[j];
                    next[j] = seen;
                }
            }
            Tok::One => {
                next[1..].copy_from_slice(&reach[..chars.len()]);
            }
            Tok::Char(c) => {
                for j in 0..chars.len() {
                    next[j + 1] = reach[j] && chars[j] == *c;
                }
            }
        }
        reach = next;
    }
    reach[chars.len()]
}

#[cfg(test)]
mod tests {
    //! Each case is an example from the pages, with its stated result.
    use super::*;
    use serde_json::json;

    fn ctx(pairs: &[(&str, &[&str])]) -> Context {
        pairs
            .iter()
            .map(|(k, v)| (k.to_lowercase(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    fn holds(op: &str, key: &str, values: Value, context: &Context) -> bool {
        condition_holds(op, key, &values, context, true).unwrap()
    }

    #[test]
    fn string_equals_example_from_the_operators_page() {
        // [OPS] "Example string condition operator": Match, No match, No match.
        let v = json!("iamuser-admin");
        let k = "aws:PrincipalTag/job-category";
        assert!(holds(
            "StringEquals",
            k,
            v.clone(),
            &ctx(&[(k, &["iamuser-admin"])])
        ));
        assert!(!holds(
            "StringEquals",
            k,
            v.clone(),
            &ctx(&[(k, &["dev-ops"])])
        ));
        assert!(!holds("StringEquals", k, v, &ctx(&[])));
    }

    #[test]
    fn key_names_are_case_insensitive_values_are_not() {
        // [COND]: aws:SourceIP is AWS:SourceIp; StringEquals on johndoe refuses JohnDoe,
        // StringEqualsIgnoreCase accepts it.
        let c = ctx(&[("aws:username", &["JohnDoe"])]);
        assert!(!holds("StringEquals", "AWS:UserName", json!("johndoe"), &c));
        assert!(holds(
            "StringEqualsIgnoreCase",
            "aws:USERNAME",
            json!("johndoe"),
            &c
        ));
    }

    #[test]
    fn string_like_with_a_policy_variable() {
        // [OPS] "Example using a policy variable with a string condition operator".
        let values = json!(["home/", "home/${aws:username}/"]);
        let k = "s3:prefix";
        let martha = ctx(&[
            ("aws:username", &["martha_rivera"]),
            (k, &["home/martha_rivera/"]),
        ]);
        assert!(holds("StringLike", k, values.clone(), &martha));
        let nikki = ctx(&[
            ("aws:username", &["nikki_wolf"]),
            (k, &["home/martha_rivera/"]),
        ]);
        assert!(!holds("StringLike", k, values.clone(), &nikki));
        // No aws:username: that value is null, the other still matches `home/` only.
        let anonymous = ctx(&[(k, &["home/martha_rivera/"])]);
        assert!(!holds("StringLike", k, values, &anonymous));
    }

    #[test]
    fn a_variable_with_no_value_fails_positive_and_passes_negated_operators() {
        // [VARS] "Policy variables with no value": the Deny example fires when
        // aws:PrincipalTag/Team is not set.
        let c = ctx(&[("s3:ExistingObjectTag/Team", &["red"])]);
        let v = json!("${aws:PrincipalTag/Team}");
        assert!(holds(
            "StringNotEquals",
            "s3:ExistingObjectTag/Team",
            v.clone(),
            &c
        ));
        assert!(!holds(
            "StringEquals",
            "s3:ExistingObjectTag/Team",
            v.clone(),
            &c
        ));
        assert!(!holds("StringLike", "s3:ExistingObjectTag/Team", v, &c));
    }

    #[test]
    fn default_values_and_special_characters() {
        // [VARS] "Specifying default values": ${aws:PrincipalTag/team, 'company-wide'}.
        let v = json!("bucket-${aws:PrincipalTag/team, 'company-wide'}");
        let k = "s3:bucket";
        assert!(holds(
            "StringEquals",
            k,
            v.clone(),
            &ctx(&[(k, &["bucket-company-wide"])])
        ));
        let yellow = ctx(&[
            (k, &["bucket-yellow"]),
            ("aws:PrincipalTag/team", &["yellow"]),
        ]);
        assert!(holds("StringEquals", k, v, &yellow));
        // [VARS] "Special characters": ${*} is a literal asterisk even under StringLike.
        let star = json!("a${*}b");
        assert!(holds("StringLike", k, star.clone(), &ctx(&[(k, &["a*b"])])));
        assert!(!holds("StringLike", k, star, &ctx(&[(k, &["axxb"])])));
        assert!(holds(
            "StringLike",
            k,
            json!("a*b"),
            &ctx(&[(k, &["axxb"])])
        ));
        assert!(holds("StringLike", k, json!("a?b"), &ctx(&[(k, &["axb"])])));
        assert!(!holds("StringLike", k, json!("a?b"), &ctx(&[(k, &["ab"])])));
    }

    #[test]
    fn if_exists_example() {
        // [OPS] "...IfExists condition operators": t1.micro Match, m2.micro No match, absent
        // Match.
        let v = json!(["t1.*", "t2.*", "m3.*"]);
        let k = "ec2:InstanceType";
        assert!(holds(
            "StringLikeIfExists",
            k,
            v.clone(),
            &ctx(&[(k, &["t1.micro"])])
        ));
        assert!(!holds(
            "StringLikeIfExists",
            k,
            v.clone(),
            &ctx(&[(k, &["m2.micro"])])
        ));
        assert!(holds("StringLikeIfExists", k, v.clone(), &ctx(&[])));
        assert!(!holds("StringLike", k, v, &ctx(&[])));
    }

    #[test]
    fn negated_operators_on_an_absent_key_are_true() {
        // [OPS] Important box: "StringNotLike ... and the right key is not present, the
        // condition is true."
        assert!(holds("StringNotLike", "k", json!("x*"), &ctx(&[])));
        assert!(holds("StringNotEquals", "k", json!("x"), &ctx(&[])));
        // [MULTI]: a negated operator's values are NORed.
        let c = ctx(&[("k", &["b"])]);
        assert!(!holds("StringNotEquals", "k", json!(["a", "b"]), &c));
        assert!(holds("StringNotEquals", "k", json!(["a", "c"]), &c));
    }

    #[test]
    fn for_any_value_example() {
        // [OPS] "Example using ForAnyValue with a string condition operator" (one key of it).
        let k = "aws:TagKeys";
        let v = json!("environment");
        assert!(holds(
            "ForAnyValue:StringEquals",
            k,
            v.clone(),
            &ctx(&[(k, &["environment", "costcenter"])])
        ));
        assert!(!holds(
            "ForAnyValue:StringEquals",
            k,
            v.clone(),
            &ctx(&[(k, &["Environment"])])
        ));
        assert!(!holds("ForAnyValue:StringEquals", k, v, &ctx(&[])));
    }

    #[test]
    fn for_all_values_is_true_for_an_absent_key() {
        // [OPS] "Example using ForAllValues with an ARN condition operator" (last row: Match)
        // and the sentence after it; the same for a string operator.
        let k = "aws:TagKeys";
        assert!(holds(
            "ForAllValues:StringLike",
            k,
            json!("key1*"),
            &ctx(&[])
        ));
        assert!(holds(
            "ForAllValues:StringLike",
            k,
            json!("key1*"),
            &ctx(&[(k, &["key1:a", "key1:b"])])
        ));
        assert!(!holds(
            "ForAllValues:StringLike",
            k,
            json!("key1*"),
            &ctx(&[(k, &["key1:a", "key2"])])
        ));
        // ForAllValues:StringNotLike: none of the request's values may match.
        assert!(holds(
            "ForAllValues:StringNotLike",
            k,
            json!("key1*"),
            &ctx(&[(k, &["key2:audit"])])
        ));
        assert!(!holds(
            "ForAllValues:StringNotLike",
            k,
            json!("key1*"),
            &ctx(&[(k, &["key1:legal"])])
        ));
    }

    #[test]
    fn null_and_bool_examples() {
        // [OPS] Null: "false" = the key exists; Bool aws:SecureTransport rows.
        let t = ctx(&[("aws:TokenIssueTime", &["2020-01-01T00:00:01Z"])]);
        assert!(holds("Null", "aws:TokenIssueTime", json!("false"), &t));
        assert!(!holds(
            "Null",
            "aws:TokenIssueTime",
            json!("false"),
            &ctx(&[])
        ));
        assert!(holds("Null", "aws:TokenIssueTime", json!(true), &ctx(&[])));
        let k = "aws:SecureTransport";
        assert!(holds("Bool", k, json!("false"), &ctx(&[(k, &["false"])])));
        assert!(!holds("Bool", k, json!("false"), &ctx(&[(k, &["true"])])));
        assert!(!holds("Bool", k, json!("false"), &ctx(&[])));
    }

    fn github_claims() -> Map<String, Value> {
        json!({
            "iss": "https://token.actions.githubusercontent.com",
            "aud": "sts.amazonaws.com",
            "sub": "repo:octo-org/octo-repo:ref:refs/heads/octo-branch",
            "repository": "octo-org/octo-repo",
            "repository_owner": "octo-org",
            "ref": "refs/heads/octo-branch",
        })
        .as_object()
        .unwrap()
        .clone()
    }

    const PREFIX: &str = "token.actions.githubusercontent.com";

    fn trust(statement_extra: Value) -> String {
        let mut statement = json!({
            "Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
        });
        for (k, v) in statement_extra.as_object().unwrap() {
            statement[k] = v.clone();
        }
        json!({"Version": "2012-10-17", "Statement": [statement]}).to_string()
    }

    #[test]
    fn the_github_docs_trust_policy() {
        // GitHub docs "Configuring OpenID Connect in Amazon Web Services": aud and sub with
        // StringEquals.
        let policy = trust(json!({"Condition": {"StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": "repo:octo-org/octo-repo:ref:refs/heads/octo-branch"
        }}}));
        assert_eq!(aws_allows(&policy, PREFIX, &github_claims()), Ok(true));
        let other = github_claims()
            .into_iter()
            .map(|(k, v)| {
                if k == "sub" {
                    (k, json!("repo:octo-org/octo-repo:pull_request"))
                } else {
                    (k, v)
                }
            })
            .collect();
        assert_eq!(aws_allows(&policy, PREFIX, &other), Ok(false));
    }

    #[test]
    fn claims_sts_does_not_pass_are_absent() {
        // [OIDC]: repository_owner is not a key STS passes, so an Allow needing it never
        // matches and a Deny needing it never fires.
        let allow = trust(json!({"Condition": {"StringEquals": {
            "token.actions.githubusercontent.com:repository_owner": "octo-org"}}}));
        assert_eq!(aws_allows(&allow, PREFIX, &github_claims()), Ok(false));
        let exposed = Model {
            expose_all_claims: true,
            ..Model::default()
        };
        assert_eq!(
            aws_allows_with(&allow, PREFIX, &github_claims(), exposed),
            Ok(true)
        );
        let repository = trust(json!({"Condition": {"StringEquals": {
            "token.actions.githubusercontent.com:repository": "octo-org/octo-repo"}}}));
        assert_eq!(aws_allows(&repository, PREFIX, &github_claims()), Ok(true));
    }

    #[test]
    fn explicit_deny_wins_and_no_allow_is_an_implicit_deny() {
        let principal = json!({"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"});
        let both = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": principal, "Action": "sts:*"},
            {"Effect": "Deny", "Principal": principal, "Action": "*",
             "Condition": {"StringLike": {"token.actions.githubusercontent.com:ref": "refs/heads/*"}}}
        ]})
        .to_string();
        assert_eq!(aws_allows(&both, PREFIX, &github_claims()), Ok(false));
        let wrong_action = trust(json!({"Action": "sts:AssumeRole"}));
        assert_eq!(
            aws_allows(&wrong_action, PREFIX, &github_claims()),
            Ok(false)
        );
        let other_provider = trust(
            json!({"Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/example.com"}}),
        );
        assert_eq!(
            aws_allows(&other_provider, PREFIX, &github_claims()),
            Ok(false)
        );
        let case = trust(json!({"Action": ["s3:GetObject", "STS:assumerolewith*"]}));
        assert_eq!(aws_allows(&case, PREFIX, &github_claims()), Ok(true));
    }

    #[test]
    fn variables_are_text_without_the_2012_version() {
        // [VARS]: without Version 2012-10-17 a variable is a literal string.
        let statement = json!({
            "Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub":
                "repo:${token.actions.githubusercontent.com:repository}:*"}}
        });
        let with = json!({"Version": "2012-10-17", "Statement": statement}).to_string();
        let without = json!({"Statement": statement}).to_string();
        assert_eq!(aws_allows(&with, PREFIX, &github_claims()), Ok(true));
        assert_eq!(aws_allows(&without, PREFIX, &github_claims()), Ok(false));
    }
}
