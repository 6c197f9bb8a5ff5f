//! IAM condition blocks: parsing operators, looking up condition keys in the token, and
//! evaluating each (operator, key, values) with IAM's documented semantics.

use super::keys::{Lookup, TokenKeys};
use crate::pattern::{check_pattern, string_like, string_like_ignoring_case};
use crate::policy::document::{join, kind};
use crate::policy::{list, PolicyError, PolicyReasonId, PolicyReport, Reason};
use serde_json::Value;

/// How one policy value is compared with one request value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compare {
    Exact,
    IgnoreCase,
    Like,
}

/// The operator without its set qualifier and `IfExists` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    /// A string operator; `negated` for the `Not` forms.
    String {
        compare: Compare,
        negated: bool,
    },
    Null,
    /// A real IAM operator that is not about strings (`NumericEquals`, `Bool`, `ArnLike`, ...):
    /// not evaluated, because token claims are strings.
    NotEvaluated,
}

/// `ForAnyValue:` / `ForAllValues:` for multivalued keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    Single,
    AnyValue,
    AllValues,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Operator {
    name: String,
    base: Base,
    set: SetQualifier,
    if_exists: bool,
}

const STRING_OPERATORS: &[(&str, Compare, bool)] = &[
    ("StringEquals", Compare::Exact, false),
    ("StringNotEquals", Compare::Exact, true),
    ("StringEqualsIgnoreCase", Compare::IgnoreCase, false),
    ("StringNotEqualsIgnoreCase", Compare::IgnoreCase, true),
    ("StringLike", Compare::Like, false),
    ("StringNotLike", Compare::Like, true),
];

/// IAM operators that exist but compare numbers, dates, booleans, binary, IP addresses or ARNs.
const OTHER_OPERATORS: &[&str] = &[
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
];

impl Operator {
    fn parse(name: &str, location: &str) -> Result<Self, PolicyError> {
        let unknown = || PolicyError::UnknownOperator {
            location: location.to_owned(),
            operator: name.to_owned(),
        };
        let (set, rest) = if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (SetQualifier::AnyValue, rest)
        } else if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (SetQualifier::AllValues, rest)
        } else {
            (SetQualifier::Single, name)
        };
        if rest == "Null" {
            // IAM refuses `NullIfExists` and set qualifiers on `Null`.
            return match set {
                SetQualifier::Single => Ok(Self::new(name, Base::Null, set, false)),
                _ => Err(unknown()),
            };
        }
        let (base_name, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base_name) => (base_name, true),
            None => (rest, false),
        };
        let base = if let Some(&(_, compare, negated)) =
            STRING_OPERATORS.iter().find(|(n, ..)| *n == base_name)
        {
            Base::String { compare, negated }
        } else if OTHER_OPERATORS.contains(&base_name) {
            Base::NotEvaluated
        } else {
            return Err(unknown());
        };
        Ok(Self::new(name, base, set, if_exists))
    }

    fn new(name: &str, base: Base, set: SetQualifier, if_exists: bool) -> Self {
        Operator {
            name: name.to_owned(),
            base,
            set,
            if_exists,
        }
    }
}

/// One key under one operator, with its values (ORed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::policy) struct Condition {
    operator: Operator,
    key: String,
    values: Vec<String>,
    location: String,
}

/// Parses a statement's `Condition` object into one [`Condition`] per operator and key.
pub(super) fn parse_block(value: &Value, location: &str) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(operators) = value else {
        return Err(PolicyError::invalid(
            location,
            format!("expected an object of operators, found {}", kind(value)),
        ));
    };
    let mut conditions = Vec::new();
    for (name, keys) in operators {
        let operator = Operator::parse(name, location)?;
        let op_location = join(location, name);
        let Value::Object(keys) = keys else {
            return Err(PolicyError::invalid(
                op_location,
                format!("expected an object of condition keys, found {}", kind(keys)),
            ));
        };
        for (key, values) in keys {
            let location = join(&op_location, key);
            let values = parse_values(values, &location)?;
            if operator.base == Base::Null && values.iter().any(|v| v != "true" && v != "false") {
                return Err(PolicyError::invalid(location, "`Null` takes true or false"));
            }
            // Every value is checked, not only `StringLike`'s: the "did you mean a pattern"
            // explanations match `StringEquals` values as patterns too.
            if let Some(e) = values.iter().find_map(|v| check_pattern(v).err()) {
                return Err(PolicyError::invalid(location, e.to_string()));
            }
            conditions.push(Condition {
                operator: operator.clone(),
                key: key.clone(),
                values,
                location,
            });
        }
    }
    Ok(conditions)
}

/// A condition value: one scalar or an array of them. IAM accepts numbers and booleans and
/// compares their text.
fn parse_values(value: &Value, location: &str) -> Result<Vec<String>, PolicyError> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(_) | Value::Bool(_) => Ok(v.to_string()),
        other => Err(PolicyError::invalid(
            location,
            format!("expected a string, found {}", kind(other)),
        )),
    };
    let values = match value {
        Value::Array(items) => items.iter().map(scalar).collect::<Result<Vec<_>, _>>()?,
        other => vec![scalar(other)?],
    };
    if values.is_empty() {
        return Err(PolicyError::invalid(
            location,
            "a condition needs at least one value",
        ));
    }
    Ok(values)
}

impl Condition {
    /// Evaluates this condition, recording why in `report`. True when it is satisfied.
    pub(super) fn evaluate(&self, keys: &TokenKeys<'_>, report: &mut PolicyReport) -> bool {
        self.warn_wildcards(report);
        let request = match keys.lookup(&self.key) {
            Lookup::NotFromToken => {
                report.warnings.push(self.not_from_token());
                return true;
            }
            Lookup::PrefixMismatch { key_prefix } => {
                report
                    .warnings
                    .push(self.prefix_mismatch(&key_prefix, keys));
                None
            }
            Lookup::Claim(values) => values,
        };
        let (satisfied, reason) = match (&self.operator.base, request) {
            (Base::NotEvaluated, _) => {
                report.warnings.push(self.not_evaluated());
                return true;
            }
            (Base::Null, request) => self.evaluate_null(request.as_deref()),
            (Base::String { .. }, None) => self.evaluate_absent(report),
            (Base::String { .. }, Some(values)) if values.is_empty() => {
                self.evaluate_absent(report)
            }
            (&Base::String { compare, negated }, Some(values)) => {
                self.evaluate_strings(compare, negated, &values)
            }
        };
        report.reasons.push(reason);
        satisfied
    }

    fn outcome(&self, satisfied: bool, message: String) -> (bool, Reason) {
        let id = if satisfied {
            PolicyReasonId::AwsConditionPassed
        } else {
            PolicyReasonId::AwsConditionFailed
        };
        (satisfied, Reason::new(id, &self.location, message))
    }

    fn head(&self) -> String {
        format!("{} on {}", self.operator.name, self.key)
    }

    fn evaluate_null(&self, request: Option<&[String]>) -> (bool, Reason) {
        // IAM's Null treats an empty set like an absent key.
        let absent = request.is_none_or(<[String]>::is_empty);
        let satisfied = self.values.iter().any(|v| (v == "true") == absent);
        let presence = if absent {
            "the token has no such claim"
        } else {
            "the token has this claim"
        };
        let verdict = if satisfied {
            "the condition holds"
        } else {
            "the condition fails"
        };
        let message = format!(
            "{}: {presence} and the condition asks for {}, so {verdict}",
            self.head(),
            list(&self.values)
        );
        self.outcome(satisfied, message)
    }

    fn evaluate_absent(&self, report: &mut PolicyReport) -> (bool, Reason) {
        let Base::String { negated, .. } = self.operator.base else {
            return self.outcome(false, format!("{}: not evaluated", self.head()));
        };
        let (satisfied, why) = match self.operator.set {
            SetQualifier::AllValues => {
                report.warnings.push(self.forallvalues_trap());
                (true, "ForAllValues over an absent or empty key is true")
            }
            _ if self.operator.if_exists => (true, "IfExists makes the condition true"),
            SetQualifier::AnyValue => (false, "ForAnyValue over an absent key is false"),
            SetQualifier::Single if negated => (true, "a negated operator is true"),
            SetQualifier::Single => (false, "the condition is false"),
        };
        let message = format!(
            "{}: the token has no value for this key, and when a key is absent {why}",
            self.head()
        );
        let (satisfied, reason) = self.outcome(satisfied, message);
        let reason = if satisfied {
            reason
        } else {
            reason.with_hint(
                "use a key the token carries (print the claims to see them), or add the \
                 `IfExists` suffix if the claim is optional",
            )
        };
        (satisfied, reason)
    }

    /// For each request value, the first policy value it matches.
    fn hits<'a>(
        &'a self,
        compare: Compare,
        request: &'a [String],
    ) -> Vec<(&'a str, Option<&'a str>)> {
        request
            .iter()
            .map(|actual| {
                let hit = self
                    .values
                    .iter()
                    .find(|p| compare_one(compare, p, actual))
                    .map(String::as_str);
                (actual.as_str(), hit)
            })
            .collect()
    }

    fn evaluate_strings(
        &self,
        compare: Compare,
        negated: bool,
        request: &[String],
    ) -> (bool, Reason) {
        let hits = self.hits(compare, request);
        let matched = |(_, hit): &&(&str, Option<&str>)| hit.is_some();
        // Without a set qualifier STS treats a multivalued claim (an `aud` array) as matching
        // when any element matches, so a plain operator behaves like ForAnyValue, and its
        // negation like ForAllValues of the negation.
        let satisfied = match (self.operator.set, negated) {
            (SetQualifier::Single | SetQualifier::AnyValue, false) => {
                hits.iter().any(|h| matched(&h))
            }
            (SetQualifier::Single | SetQualifier::AllValues, true) => {
                !hits.iter().any(|h| matched(&h))
            }
            (SetQualifier::AnyValue, true) => hits.iter().any(|h| !matched(&h)),
            (SetQualifier::AllValues, false) => hits.iter().all(|h| matched(&h)),
        };
        let message = self.describe_hits(compare, negated, &hits, satisfied);
        let (satisfied, reason) = self.outcome(satisfied, message);
        if satisfied {
            return (satisfied, reason);
        }
        let hint = self.failure_hint(compare, negated, request);
        (satisfied, reason.with_hint(hint))
    }

    fn describe_hits(
        &self,
        compare: Compare,
        negated: bool,
        hits: &[(&str, Option<&str>)],
        satisfied: bool,
    ) -> String {
        let verb = verb(compare);
        let quantifier = match self.operator.set {
            SetQualifier::Single if hits.len() > 1 => " (any element counts)",
            SetQualifier::AllValues => " (every value must pass)",
            SetQualifier::AnyValue => " (one value must pass)",
            SetQualifier::Single => "",
        };
        let details: Vec<String> = hits
            .iter()
            .map(|(actual, hit)| match hit {
                Some(pattern) => format!("`{actual}` {verb} `{pattern}`"),
                None => format!("`{actual}` {verb} none of {}", list(&self.values)),
            })
            .collect();
        let excluded = if negated && !satisfied {
            ", which the negated operator excludes"
        } else {
            ""
        };
        format!(
            "{}: {}{excluded}{quantifier}",
            self.head(),
            details.join("; ")
        )
    }

    fn failure_hint(&self, compare: Compare, negated: bool, request: &[String]) -> String {
        if negated {
            return "the token has a value this condition excludes; narrow the excluded values \
                    or run the job where the claim differs"
                .into();
        }
        let case_only = request.iter().find_map(|actual| {
            self.values
                .iter()
                .find(|p| compare_one_ignoring_case(compare, p, actual))
                .map(|p| (actual, p))
        });
        if let Some((actual, pattern)) = case_only {
            return format!(
                "`{actual}` matches `{pattern}` only if case is ignored: IAM compares \
                 case-sensitively, so write the value with the case the token has"
            );
        }
        match request.first() {
            Some(actual) => format!(
                "to accept this token, add `{actual}` to the values, or a `StringLike` pattern \
                 that covers it"
            ),
            None => "the token has no value for this key".into(),
        }
    }

    fn warn_wildcards(&self, report: &mut PolicyReport) {
        let Base::String {
            compare: Compare::Exact | Compare::IgnoreCase,
            ..
        } = self.operator.base
        else {
            return;
        };
        for value in self.values.iter().filter(|v| v.contains(['*', '?'])) {
            let like = if self.operator.name.contains("Not") {
                "StringNotLike"
            } else {
                "StringLike"
            };
            report.warnings.push(
                Reason::new(
                    PolicyReasonId::AwsWildcardUnderStringequals,
                    &self.location,
                    format!(
                        "{}: `{value}` contains a wildcard, but {} compares it literally",
                        self.head(),
                        self.operator.name
                    ),
                )
                .with_hint(format!(
                    "to match a pattern, move this value under `{like}`"
                )),
            );
        }
    }

    fn not_from_token(&self) -> Reason {
        Reason::new(
            PolicyReasonId::AwsConditionKeyNotFromToken,
            &self.location,
            format!(
                "{}: this key comes from the AWS request context, not from the token, so it \
                 cannot be evaluated here; it is assumed satisfied",
                self.head()
            ),
        )
    }

    fn not_evaluated(&self) -> Reason {
        Reason::new(
            PolicyReasonId::AwsOperatorNotEvaluated,
            &self.location,
            format!(
                "{}: only string operators and Null are evaluated; this condition is assumed \
                 satisfied",
                self.head()
            ),
        )
    }

    fn prefix_mismatch(&self, key_prefix: &str, keys: &TokenKeys<'_>) -> Reason {
        Reason::new(
            PolicyReasonId::AwsConditionKeyPrefixMismatch,
            &self.location,
            format!(
                "condition key prefix `{key_prefix}` is not the token's issuer `{}`, so STS \
                 has no value for `{}`",
                keys.prefix(),
                self.key
            ),
        )
        .with_hint(format!(
            "write the key as `{}:{}`; with an enterprise issuer the slug is part of the prefix",
            keys.prefix(),
            self.key.rsplit_once(':').map_or("sub", |(_, claim)| claim)
        ))
    }

    fn forallvalues_trap(&self) -> Reason {
        Reason::new(
            PolicyReasonId::AwsForallvaluesAbsentKey,
            &self.location,
            format!(
                "{}: the token has no value for this key, and ForAllValues over an absent or \
                 empty key is true, so this condition lets any such token through",
                self.head()
            ),
        )
        .with_hint(
            "use ForAnyValue, or add a `Null` condition with `false` on the same key so that \
             it must be present",
        )
    }
}

fn compare_one(compare: Compare, pattern: &str, actual: &str) -> bool {
    match compare {
        Compare::Exact => pattern == actual,
        Compare::IgnoreCase => pattern.to_lowercase() == actual.to_lowercase(),
        Compare::Like => string_like(pattern, actual),
    }
}

fn compare_one_ignoring_case(compare: Compare, pattern: &str, actual: &str) -> bool {
    match compare {
        Compare::Like => string_like_ignoring_case(pattern, actual),
        _ => pattern.to_lowercase() == actual.to_lowercase(),
    }
}

fn verb(compare: Compare) -> &'static str {
    match compare {
        Compare::Exact => "equals",
        Compare::IgnoreCase => "equals (ignoring case)",
        Compare::Like => "matches",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::testing::token;
    use crate::policy::PolicyFormat;
    use serde_json::{json, Value};

    const SUB: &str = "token.actions.githubusercontent.com:sub";
    const AUD: &str = "token.actions.githubusercontent.com:aud";

    /// Evaluates a `Condition` block against the example token with `overrides`.
    fn run(block: Value, overrides: Value) -> (bool, PolicyReport) {
        let conditions = parse_block(&block, "Condition").unwrap();
        let claims = token(overrides);
        let keys = TokenKeys::new(&claims);
        let mut report = PolicyReport {
            format: PolicyFormat::Aws,
            allowed: false,
            reasons: Vec::new(),
            warnings: Vec::new(),
        };
        let results: Vec<bool> = conditions
            .iter()
            .map(|c| c.evaluate(&keys, &mut report))
            .collect();
        (results.iter().all(|ok| *ok), report)
    }

    struct Case {
        name: &'static str,
        block: Value,
        token: Value,
        satisfied: bool,
        /// Reasons that must be present: (id, location).
        reasons: Vec<(&'static str, String)>,
        warning: Option<&'static str>,
    }

    fn case(name: &'static str, block: Value, token: Value, satisfied: bool) -> Case {
        Case {
            name,
            block,
            token,
            satisfied,
            reasons: Vec::new(),
            warning: None,
        }
    }

    impl Case {
        fn reason(mut self, id: &'static str, location: String) -> Self {
            self.reasons.push((id, location));
            self
        }
        fn warning(mut self, id: &'static str) -> Self {
            self.warning = Some(id);
            self
        }
    }

    fn at(operator: &str, key: &str) -> String {
        format!("Condition.{operator}.{key}")
    }

    fn cases() -> Vec<Case> {
        let prod = "repo:octo-org/octo-repo:environment:prod";
        let main = "repo:octo-org/octo-repo:ref:refs/heads/main";
        let none = json!({});
        vec![
            case("StringEquals match", json!({"StringEquals": {SUB: prod}}), none.clone(), true)
                .reason("aws-condition-passed", at("StringEquals", SUB)),
            case("StringEquals mismatch", json!({"StringEquals": {SUB: main}}), none.clone(), false)
                .reason("aws-condition-failed", at("StringEquals", SUB)),
            case("StringEquals is case-sensitive", json!({"StringEquals": {SUB: prod.to_uppercase()}}), none.clone(), false),
            case("StringNotEquals other value", json!({"StringNotEquals": {SUB: main}}), none.clone(), true)
                .reason("aws-condition-passed", at("StringNotEquals", SUB)),
            case("StringNotEquals same value", json!({"StringNotEquals": {SUB: prod}}), none.clone(), false)
                .reason("aws-condition-failed", at("StringNotEquals", SUB)),
            case("StringNotEquals on absent key is true", json!({"StringNotEquals": {"token.actions.githubusercontent.com:environment": "dev"}}), json!({"environment": null}), true),
            case("StringEqualsIgnoreCase", json!({"StringEqualsIgnoreCase": {SUB: prod.to_uppercase()}}), none.clone(), true),
            case("StringNotEqualsIgnoreCase", json!({"StringNotEqualsIgnoreCase": {SUB: prod.to_uppercase()}}), none.clone(), false),
            case("StringLike wildcard", json!({"StringLike": {SUB: "repo:octo-org/octo-repo:*"}}), none.clone(), true),
            case("StringLike question mark", json!({"StringLike": {SUB: "repo:octo-org/octo-repo:environment:pro?"}}), none.clone(), true),
            case("StringLike mismatch", json!({"StringLike": {SUB: "repo:octo-org/octo-repo:ref:*"}}), none.clone(), false)
                .reason("aws-condition-failed", at("StringLike", SUB)),
            case("StringNotLike excludes", json!({"StringNotLike": {SUB: "*:pull_request"}}), none.clone(), true),
            case("StringNotLike matching", json!({"StringNotLike": {SUB: "*:environment:*"}}), none.clone(), false),
            case("StringNotLike on absent key is true", json!({"StringNotLike": {"token.actions.githubusercontent.com:head_ref": "*"}}), none.clone(), true),
            case("absent key fails a positive operator", json!({"StringEquals": {"token.actions.githubusercontent.com:environment": "prod"}}), json!({"environment": null}), false)
                .reason("aws-condition-failed", at("StringEquals", "token.actions.githubusercontent.com:environment")),
            case("IfExists on absent key is true", json!({"StringEqualsIfExists": {"token.actions.githubusercontent.com:environment": "prod"}}), json!({"environment": null}), true)
                .reason("aws-condition-passed", at("StringEqualsIfExists", "token.actions.githubusercontent.com:environment")),
            case("IfExists on present key still compares", json!({"StringLikeIfExists": {"token.actions.githubusercontent.com:environment": "dev*"}}), none.clone(), false),
            case("StringNotEqualsIfExists", json!({"StringNotEqualsIfExists": {"token.actions.githubusercontent.com:head_ref": "x"}}), none.clone(), true),
            case("Null true on absent key", json!({"Null": {"token.actions.githubusercontent.com:head_ref": "true"}}), none.clone(), true),
            case("Null true on present key", json!({"Null": {"token.actions.githubusercontent.com:environment": "true"}}), none.clone(), false)
                .reason("aws-condition-failed", at("Null", "token.actions.githubusercontent.com:environment")),
            case("Null false on present key", json!({"Null": {"token.actions.githubusercontent.com:environment": false}}), none.clone(), true),
            case("Null false on absent key", json!({"Null": {"token.actions.githubusercontent.com:environment": "false"}}), json!({"environment": null}), false),
            case("ForAnyValue one element matches", json!({"ForAnyValue:StringEquals": {AUD: "sts.amazonaws.com"}}), json!({"aud": ["x", "sts.amazonaws.com"]}), true),
            case("ForAnyValue no element matches", json!({"ForAnyValue:StringEquals": {AUD: "sts.amazonaws.com"}}), json!({"aud": ["x", "y"]}), false),
            case("ForAnyValue absent key is false", json!({"ForAnyValue:StringLike": {"token.actions.githubusercontent.com:groups": "*"}}), none.clone(), false),
            case("ForAnyValue IfExists absent key is true", json!({"ForAnyValue:StringLikeIfExists": {"token.actions.githubusercontent.com:groups": "*"}}), none.clone(), true),
            case("ForAnyValue:StringNotEquals one element differs", json!({"ForAnyValue:StringNotEquals": {AUD: "x"}}), json!({"aud": ["x", "y"]}), true),
            case("ForAllValues every element matches", json!({"ForAllValues:StringLike": {AUD: ["sts.*", "x"]}}), json!({"aud": ["x", "sts.amazonaws.com"]}), true),
            case("ForAllValues one element outside", json!({"ForAllValues:StringEquals": {AUD: "sts.amazonaws.com"}}), json!({"aud": ["sts.amazonaws.com", "evil"]}), false),
            case("ForAllValues absent key is true (trap)", json!({"ForAllValues:StringEquals": {"token.actions.githubusercontent.com:groups": "admins"}}), none.clone(), true)
                .reason("aws-condition-passed", at("ForAllValues:StringEquals", "token.actions.githubusercontent.com:groups"))
                .warning("aws-forallvalues-absent-key"),
            case("ForAllValues empty array is true (trap)", json!({"ForAllValues:StringEquals": {AUD: "sts.amazonaws.com"}}), json!({"aud": []}), true)
                .warning("aws-forallvalues-absent-key"),
            case("ForAllValues:StringNotEquals", json!({"ForAllValues:StringNotEquals": {AUD: "evil"}}), json!({"aud": ["a", "b"]}), true),
            case("plain operator on an array claim: any element", json!({"StringEquals": {AUD: "sts.amazonaws.com"}}), json!({"aud": ["x", "sts.amazonaws.com"]}), true),
            case("plain negated operator on an array claim: no element", json!({"StringNotEquals": {AUD: "x"}}), json!({"aud": ["x", "sts.amazonaws.com"]}), false),
            case("key names are case-insensitive", json!({"StringEquals": {"Token.Actions.GitHubUserContent.com:SUB": prod}}), none.clone(), true),
            case("values are ORed", json!({"StringLike": {SUB: [main, "repo:octo-org/octo-repo:environment:*"]}}), none.clone(), true),
            case("keys are ANDed", json!({"StringEquals": {SUB: prod, AUD: "other"}}), none.clone(), false)
                .reason("aws-condition-passed", at("StringEquals", SUB))
                .reason("aws-condition-failed", at("StringEquals", AUD)),
            case("operators are ANDed", json!({"StringEquals": {AUD: "sts.amazonaws.com"}, "StringLike": {SUB: "repo:other/*"}}), none.clone(), false)
                .reason("aws-condition-failed", at("StringLike", SUB)),
            case("claims beyond sub and aud", json!({"StringEquals": {
                "token.actions.githubusercontent.com:repository": "octo-org/octo-repo",
                "token.actions.githubusercontent.com:job_workflow_ref": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
                "token.actions.githubusercontent.com:runner_environment": "github-hosted"}}), none.clone(), true),
            case("enterprise-slug prefix", json!({"StringEquals": {"token.actions.githubusercontent.com/octo-enterprise:sub": prod}}), json!({"iss": "https://token.actions.githubusercontent.com/octo-enterprise"}), true),
            case("root prefix with an enterprise token", json!({"StringEquals": {SUB: prod}}), json!({"iss": "https://token.actions.githubusercontent.com/octo-enterprise"}), false)
                .reason("aws-condition-failed", at("StringEquals", SUB))
                .warning("aws-condition-key-prefix-mismatch"),
            case("AWS request keys are not evaluated", json!({"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}), none.clone(), true)
                .warning("aws-condition-key-not-from-token"),
            case("non-string operators are not evaluated", json!({"NumericLessThan": {"aws:MultiFactorAuthAge": 3600}}), none.clone(), true)
                .warning("aws-condition-key-not-from-token"),
            case("non-string operator on a token key", json!({"BoolIfExists": {"token.actions.githubusercontent.com:ref_protected": "true"}}), none.clone(), true)
                .warning("aws-operator-not-evaluated"),
            case("wildcard under StringEquals is literal", json!({"StringEquals": {SUB: "repo:octo-org/octo-repo:*"}}), none.clone(), false)
                .reason("aws-condition-failed", at("StringEquals", SUB))
                .warning("aws-wildcard-under-stringequals"),
        ]
    }

    #[test]
    fn operator_table() {
        for case in cases() {
            let (satisfied, report) = run(case.block.clone(), case.token.clone());
            assert_eq!(satisfied, case.satisfied, "{}: {report:#?}", case.name);
            for (id, location) in &case.reasons {
                assert!(
                    report
                        .reasons
                        .iter()
                        .any(|r| r.id.as_str() == *id && &r.location == location),
                    "{}: no {id} at {location}: {report:#?}",
                    case.name
                );
            }
            let warnings: Vec<&str> = report.warnings.iter().map(|w| w.id.as_str()).collect();
            match case.warning {
                Some(id) => assert!(warnings.contains(&id), "{}: {warnings:?}", case.name),
                None => assert!(warnings.is_empty(), "{}: {warnings:?}", case.name),
            }
        }
    }

    #[test]
    fn messages_name_operator_key_values_and_claim() {
        let (_, report) = run(
            json!({"StringLike": {SUB: "repo:octo-org/octo-repo:ref:refs/heads/main"}}),
            json!({}),
        );
        assert_eq!(
            report.reasons[0].message,
            "StringLike on token.actions.githubusercontent.com:sub: \
             `repo:octo-org/octo-repo:environment:prod` matches none of \
             [`repo:octo-org/octo-repo:ref:refs/heads/main`]"
        );
        assert!(report.reasons[0]
            .hint
            .as_deref()
            .unwrap_or_default()
            .contains("add `repo:octo-org/octo-repo:environment:prod`"));
        let (_, report) = run(
            json!({"StringNotEquals": {SUB: "repo:octo-org/octo-repo:environment:prod"}}),
            json!({}),
        );
        assert!(
            report.reasons[0]
                .message
                .ends_with("which the negated operator excludes"),
            "{}",
            report.reasons[0].message
        );
        let (_, report) = run(
            json!({"StringEquals": {SUB: "repo:Octo-Org/octo-repo:environment:prod"}}),
            json!({}),
        );
        assert!(report.reasons[0]
            .hint
            .as_deref()
            .unwrap_or_default()
            .contains("only if case is ignored"));
    }

    #[test]
    fn prefix_mismatch_names_both_prefixes() {
        let (_, report) = run(
            json!({"StringEquals": {SUB: "x"}}),
            json!({"iss": "https://token.actions.githubusercontent.com/octo-enterprise"}),
        );
        let warning = &report.warnings[0];
        assert!(warning
            .message
            .contains("`token.actions.githubusercontent.com`"));
        assert!(warning
            .message
            .contains("`token.actions.githubusercontent.com/octo-enterprise`"));
        assert_eq!(
            warning.hint.as_deref(),
            Some("write the key as `token.actions.githubusercontent.com/octo-enterprise:sub`; with an enterprise issuer the slug is part of the prefix")
        );
    }

    #[test]
    fn malformed_blocks_are_errors() {
        let cases: &[(Value, &str)] = &[
            (json!({"StringEqual": {SUB: "x"}}), "Condition: unknown condition operator `StringEqual`"),
            (json!({"stringequals": {SUB: "x"}}), "Condition: unknown condition operator `stringequals`"),
            (json!({"ForAnyValue:Null": {SUB: "true"}}), "Condition: unknown condition operator `ForAnyValue:Null`"),
            (json!({"NullIfExists": {SUB: "true"}}), "Condition: unknown condition operator `NullIfExists`"),
            (json!({"ForSomeValues:StringLike": {SUB: "x"}}), "Condition: unknown condition operator `ForSomeValues:StringLike`"),
            (json!({"Null": {SUB: "yes"}}), "Condition.Null.token.actions.githubusercontent.com:sub: `Null` takes true or false"),
            (json!({"StringEquals": {SUB: {"a": 1}}}), "Condition.StringEquals.token.actions.githubusercontent.com:sub: expected a string, found an object"),
            (json!({"StringEquals": {SUB: []}}), "Condition.StringEquals.token.actions.githubusercontent.com:sub: a condition needs at least one value"),
            (json!({"StringEquals": [SUB]}), "Condition.StringEquals: expected an object of condition keys, found an array"),
            (json!([1]), "Condition: expected an object of operators, found an array"),
        ];
        for (block, want) in cases {
            let err = parse_block(block, "Condition").unwrap_err();
            assert_eq!(err.to_string(), *want);
        }
    }
}
