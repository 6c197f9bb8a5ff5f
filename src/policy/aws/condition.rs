//! IAM condition blocks: parsing operators, looking up condition keys in the token (as STS
//! passes them), expanding policy variables, and evaluating each (operator, key, values) with
//! IAM's documented semantics.
//!
//! Sources: IAM User Guide, "IAM JSON policy elements: Condition operators"
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>):
//! a key absent from the request makes a condition false, except the `...IfExists` forms,
//! `Null`, and the negated operators (`StringNotEquals`, `ArnNotLike`, `NotIpAddress`, ...),
//! which are true; several values are ORed, several keys and operators ANDed.

use super::keys::{Lookup, TokenKeys};
use super::variables::{self, Expanded};
use crate::consumer::aws::instead_of;
use crate::pattern::{check_pattern, string_like, string_like_ignoring_case};
use crate::policy::document::{join, kind};
use crate::policy::{
    list, subject_form_hint, then_widening, PolicyError, PolicyReasonId, PolicyReport, Reason,
};
use crate::subject::case_only_difference;
use serde_json::Value;

/// How one policy value is compared with one request value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compare {
    Exact,
    IgnoreCase,
    Like,
}

/// The numeric comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Numeric {
    Equals,
    LessThan,
    LessThanEquals,
    GreaterThan,
    GreaterThanEquals,
}

/// The operator without its set qualifier and `IfExists` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    /// A string operator; `negated` for the `Not` forms.
    String {
        compare: Compare,
        negated: bool,
    },
    /// `NumericEquals` ...: the passed id claims (`repository_id`, ...) are digit strings.
    Numeric {
        test: Numeric,
        negated: bool,
    },
    /// `Bool`: no claim STS passes is a boolean, but a `"true"`/`"false"` text compares.
    Bool,
    Null,
    /// `Date...`, `Arn...`, `IpAddress`, `BinaryEquals`: no claim STS passes holds such a
    /// value, so on a present key they are not evaluated; on an absent key IAM's absent-key
    /// rule still decides (`negated` for `DateNotEquals`, `ArnNotLike`, `NotIpAddress`, ...).
    Other {
        negated: bool,
    },
}

impl Base {
    fn negated(self) -> bool {
        match self {
            Base::String { negated, .. }
            | Base::Numeric { negated, .. }
            | Base::Other { negated } => negated,
            Base::Bool | Base::Null => false,
        }
    }
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

const NUMERIC_OPERATORS: &[(&str, Numeric, bool)] = &[
    ("NumericEquals", Numeric::Equals, false),
    ("NumericNotEquals", Numeric::Equals, true),
    ("NumericLessThan", Numeric::LessThan, false),
    ("NumericLessThanEquals", Numeric::LessThanEquals, false),
    ("NumericGreaterThan", Numeric::GreaterThan, false),
    (
        "NumericGreaterThanEquals",
        Numeric::GreaterThanEquals,
        false,
    ),
];

/// IAM operators that compare dates, binary, IP addresses or ARNs.
const OTHER_OPERATORS: &[&str] = &[
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
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
        } else if let Some(&(_, test, negated)) =
            NUMERIC_OPERATORS.iter().find(|(n, ..)| *n == base_name)
        {
            Base::Numeric { test, negated }
        } else if base_name == "Bool" {
            Base::Bool
        } else if OTHER_OPERATORS.contains(&base_name) {
            Base::Other {
                negated: base_name.contains("Not"),
            }
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

/// What a condition is evaluated in: the token's keys and the statement around it.
pub(super) struct Context<'a> {
    pub(super) keys: &'a TokenKeys<'a>,
    /// The statement as messages name it: `Statement[0] (Sid `x`)`.
    pub(super) statement: &'a str,
    /// True in an Allow statement, false in a Deny.
    pub(super) allow: bool,
    /// Whether the document's `Version` (`2012-10-17`) supports policy variables.
    pub(super) variables: bool,
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

/// One policy value as written, and after policy variables are expanded.
#[derive(Debug, Clone)]
struct PolicyValue {
    written: String,
    expanded: Option<Expanded>,
}

impl PolicyValue {
    /// How messages show it: as written, with the expansion when there was one.
    fn shown(&self) -> String {
        match &self.expanded {
            Some(Expanded::Known(_)) => format!(
                "`{}` (expanded to `{}`)",
                self.written,
                self.expanded
                    .as_ref()
                    .and_then(Expanded::text)
                    .unwrap_or_default()
            ),
            Some(Expanded::Absent(var)) => {
                format!("`{}` ({var} has no value for this token)", self.written)
            }
            _ => format!("`{}`", self.written),
        }
    }

    /// The text compared: the expansion when there is one.
    fn text(&self) -> Option<String> {
        match &self.expanded {
            None => Some(self.written.clone()),
            Some(e) => e.text(),
        }
    }

    /// Whether this value accepts `actual`: `None` when it depends on a variable only AWS
    /// knows.
    fn accepts(&self, compare: Compare, actual: &str) -> Option<bool> {
        match &self.expanded {
            None => Some(compare_one(compare, &self.written, actual)),
            Some(Expanded::Known(pieces)) => match compare {
                Compare::Like => variables::like(pieces, actual, false),
                _ => self.text().map(|t| compare_one(compare, &t, actual)),
            },
            Some(Expanded::Absent(_)) => Some(false),
            Some(Expanded::Unknown(_)) => None,
        }
    }
}

/// Kleene's three-valued logic: `None` is "cannot be known here".
type Tri = Option<bool>;

fn any(items: impl IntoIterator<Item = Tri>) -> Tri {
    let mut unknown = false;
    for item in items {
        match item {
            Some(true) => return Some(true),
            None => unknown = true,
            Some(false) => {}
        }
    }
    if unknown {
        None
    } else {
        Some(false)
    }
}

fn not(t: Tri) -> Tri {
    t.map(|b| !b)
}

fn all(items: impl IntoIterator<Item = Tri>) -> Tri {
    not(any(items.into_iter().map(not)))
}

impl Condition {
    /// Evaluates this condition, recording why in `report`. True when it is satisfied (or
    /// cannot be decided here, which a warning says).
    pub(super) fn evaluate(&self, cx: &Context<'_>, report: &mut PolicyReport) -> bool {
        self.warn_wildcards(cx, report);
        let values = self.expand(cx, report);
        let (request, not_passed) = match cx.keys.lookup(&self.key) {
            Lookup::NotFromToken => {
                report.warnings.push(self.not_from_token(cx));
                return true;
            }
            Lookup::PrefixMismatch { key_prefix } => {
                report
                    .warnings
                    .push(self.prefix_mismatch(&key_prefix, cx.keys));
                (None, None)
            }
            Lookup::Claim(values) => (values, None),
            Lookup::Unsure { values, why } => {
                report.warnings.push(
                    Reason::new(
                        PolicyReasonId::AwsClaimKeyUnsure,
                        &self.location,
                        format!("{}: {why}", self.head(cx)),
                    )
                    .with_hint(
                        "prefer a key the sources agree on (`sub`, `repository_id`, \
                         `environment`, `ref`, `job_workflow_ref`) for what decides access",
                    ),
                );
                (values, None)
            }
            Lookup::NotPassed { claim, token } => (None, Some((claim, token))),
        };
        // IAM's absent-key rule covers an empty set too.
        let request = request.filter(|values| !values.is_empty());
        let (satisfied, reason) = match (self.operator.base, request) {
            (Base::Null, request) => self.evaluate_null(cx, request.is_none()),
            (_, None) => self.evaluate_absent(cx, not_passed.as_ref(), report),
            (Base::String { compare, negated }, Some(request)) => {
                match self.evaluate_strings(cx, compare, negated, &values, &request) {
                    Some(outcome) => outcome,
                    None => {
                        report.warnings.push(self.undecided(cx, &values));
                        return true;
                    }
                }
            }
            (Base::Numeric { test, negated }, Some(request)) => {
                self.evaluate_numeric(cx, test, negated, &values, &request)
            }
            (Base::Bool, Some(request)) => self.evaluate_bool(cx, &values, &request),
            (Base::Other { .. }, Some(_)) => {
                report.warnings.push(self.not_evaluated(cx));
                return true;
            }
        };
        let reason = match &not_passed {
            Some((claim, token)) => {
                let (reason, warning) =
                    self.not_passed(cx, claim, token.as_deref(), satisfied, reason);
                report.warnings.extend(warning);
                reason
            }
            None => reason,
        };
        report.reasons.push(reason);
        satisfied
    }

    /// The values with policy variables expanded, warning about those that cannot be.
    fn expand(&self, cx: &Context<'_>, report: &mut PolicyReport) -> Vec<PolicyValue> {
        let mut literal = false;
        let values = self
            .values
            .iter()
            .map(|written| {
                let expanded = if cx.variables {
                    variables::expand(written, cx.keys)
                } else {
                    literal |= variables::has_variable(written);
                    None
                };
                PolicyValue {
                    written: written.clone(),
                    expanded,
                }
            })
            .collect();
        if literal {
            report.warnings.push(
                Reason::new(
                    PolicyReasonId::AwsPolicyVariableUnknown,
                    &self.location,
                    format!(
                        "{}: {} holds `${{...}}`, but policy variables need \
                         `\"Version\": \"2012-10-17\"`; without it IAM compares the text \
                         literally",
                        self.head(cx),
                        list(&self.values)
                    ),
                )
                .with_hint("set the document's `Version` to `2012-10-17`"),
            );
        }
        values
    }

    fn outcome(&self, satisfied: bool, message: String) -> (bool, Reason) {
        let id = if satisfied {
            PolicyReasonId::AwsConditionPassed
        } else {
            PolicyReasonId::AwsConditionFailed
        };
        (satisfied, Reason::new(id, &self.location, message))
    }

    fn head(&self, cx: &Context<'_>) -> String {
        format!("{}: {} on {}", cx.statement, self.operator.name, self.key)
    }

    fn claim(&self) -> &str {
        self.key
            .rsplit_once(':')
            .map_or(&self.key, |(_, claim)| claim)
    }

    fn evaluate_null(&self, cx: &Context<'_>, absent: bool) -> (bool, Reason) {
        let satisfied = self.values.iter().any(|v| (v == "true") == absent);
        let presence = if absent {
            "IAM has no value for this key"
        } else {
            "IAM has a value for this key"
        };
        let verdict = if satisfied {
            "the condition holds"
        } else {
            "the condition fails"
        };
        let message = format!(
            "{}: {presence} and the condition asks for {}, so {verdict}",
            self.head(cx),
            list(&self.values)
        );
        self.outcome(satisfied, message)
    }

    fn evaluate_absent(
        &self,
        cx: &Context<'_>,
        not_passed: Option<&(String, Option<Vec<String>>)>,
        report: &mut PolicyReport,
    ) -> (bool, Reason) {
        let negated = self.operator.base.negated();
        let (satisfied, why) = match self.operator.set {
            SetQualifier::AllValues => {
                report.warnings.push(self.forallvalues_trap(cx));
                (true, "ForAllValues over an absent or empty key is true")
            }
            _ if self.operator.if_exists => (true, "IfExists makes the condition true"),
            SetQualifier::AnyValue => (false, "ForAnyValue over an absent key is false"),
            SetQualifier::Single if negated => (true, "a negated operator is true"),
            SetQualifier::Single => (false, "the condition is false"),
        };
        let absent = match not_passed {
            Some(_) => "IAM has no value for this key".to_owned(),
            None => format!("the token has no `{}` claim", self.claim()),
        };
        let message = format!(
            "{}: {absent}, and when a key is absent {why}; the policy's values are {}",
            self.head(cx),
            list(&self.values)
        );
        let (satisfied, reason) = self.outcome(satisfied, message);
        if satisfied {
            return (satisfied, reason);
        }
        let hint = match self.claim() {
            "environment" => format!(
                "declare `environment:` on the job (one of {}): a job without one has no \
                 `environment` claim",
                list(&self.values)
            ),
            _ => "use a key the token carries (print the claims to see them), or add the \
                  `IfExists` suffix if the claim is optional"
                .to_owned(),
        };
        (satisfied, reason.with_hint(hint))
    }

    /// For a key STS does not pass: the condition's reason, reworded so that it says so, and a
    /// warning when the consequence is silent (a Deny that never fires, a condition that
    /// always holds).
    fn not_passed(
        &self,
        cx: &Context<'_>,
        claim: &str,
        token: Option<&[String]>,
        satisfied: bool,
        reason: Reason,
    ) -> (Reason, Option<Reason>) {
        let had = match token {
            Some(values) => format!(" (the token's `{claim}` is {})", list(values)),
            None => String::new(),
        };
        let plain = format!(
            "AWS does not pass `{claim}` to IAM{had}{}, so IAM sees this key as absent",
            crate::consumer::aws::disputed_note(claim).unwrap_or_default()
        );
        let instead = instead_of(claim).map_or_else(
            || {
                "no key STS passes carries it; match on `sub` or on a key STS passes \
                 (`repository_id`, `environment`, `ref`, `job_workflow_ref`, ...)"
                    .to_owned()
            },
            str::to_owned,
        );
        let hint = format!("AWS does not pass `{claim}` to IAM; {instead}");
        if cx.allow && !satisfied {
            let reason = Reason::new(
                PolicyReasonId::AwsClaimNotPassed,
                &self.location,
                format!(
                    "{}: {plain}, and a condition on an absent key is false: this Allow never \
                     matches any token",
                    self.head(cx)
                ),
            )
            .with_hint(hint);
            return (reason, None);
        }
        let consequence = match (cx.allow, satisfied) {
            (false, false) => "this condition never holds, so the Deny never fires",
            _ => "this condition holds for every token, whatever its value",
        };
        let warning = Reason::new(
            PolicyReasonId::AwsClaimNotPassed,
            &self.location,
            format!("{}: {plain}: {consequence}", self.head(cx)),
        )
        .with_hint(hint);
        (reason, Some(warning))
    }

    /// For each request value, the first policy value it matches (`Some(Some(v))`), none
    /// (`Some(None)`), or cannot be known (`None`).
    fn hits<'a>(
        &self,
        compare: Compare,
        values: &'a [PolicyValue],
        request: &'a [String],
    ) -> Vec<(&'a str, Option<Option<&'a PolicyValue>>)> {
        request
            .iter()
            .map(|actual| {
                let mut unknown = false;
                for value in values {
                    match value.accepts(compare, actual) {
                        Some(true) => return (actual.as_str(), Some(Some(value))),
                        None => unknown = true,
                        Some(false) => {}
                    }
                }
                (actual.as_str(), (!unknown).then_some(None))
            })
            .collect()
    }

    /// The condition over a present key; `None` when it depends on a variable only AWS
    /// knows.
    fn evaluate_strings(
        &self,
        cx: &Context<'_>,
        compare: Compare,
        negated: bool,
        values: &[PolicyValue],
        request: &[String],
    ) -> Option<(bool, Reason)> {
        let hits = self.hits(compare, values, request);
        let matched: Vec<Tri> = hits
            .iter()
            .map(|(_, hit)| hit.map(|h| h.is_some()))
            .collect();
        // Without a set qualifier STS treats a multivalued claim (an `aud` array) as matching
        // when any element matches, so a plain operator behaves like ForAnyValue, and its
        // negation like ForAllValues of the negation.
        let satisfied = match (self.operator.set, negated) {
            (SetQualifier::Single | SetQualifier::AnyValue, false) => any(matched),
            (SetQualifier::Single | SetQualifier::AllValues, true) => not(any(matched)),
            (SetQualifier::AnyValue, true) => any(matched.into_iter().map(not)),
            (SetQualifier::AllValues, false) => all(matched),
        }?;
        if !satisfied && !negated {
            if let Some(reason) = self.case_only(cx, compare, values, request) {
                return Some((false, reason));
            }
        }
        let message = self.describe_hits(cx, compare, negated, values, &hits, satisfied);
        let (satisfied, reason) = self.outcome(satisfied, message);
        if satisfied {
            return Some((satisfied, reason));
        }
        let hint = self.failure_hint(negated, values, request);
        Some((satisfied, reason.with_hint(hint)))
    }

    /// A refusal that case alone causes: named as such, with the token's exact text.
    fn case_only(
        &self,
        cx: &Context<'_>,
        compare: Compare,
        values: &[PolicyValue],
        request: &[String],
    ) -> Option<Reason> {
        let (actual, value, text) = request.iter().find_map(|actual| {
            values.iter().find_map(|v| {
                let text = v.text()?;
                compare_one_ignoring_case(compare, &text, actual).then_some((actual, v, text))
            })
        })?;
        let fixed = match case_only_difference(&text, actual) {
            Some((policy, token)) if policy != text => {
                let fixed = text.replacen(&policy, &token, 1);
                if compare_one(compare, &fixed, actual) {
                    fixed
                } else {
                    actual.clone()
                }
            }
            _ => actual.clone(),
        };
        Some(
            Reason::new(
                PolicyReasonId::AwsCaseOnlyMismatch,
                &self.location,
                format!(
                    "{}: the token's `{actual}` differs only in case from the policy's {}: \
                     GitHub treats owner and repository names case-insensitively, but IAM \
                     compares case-sensitively",
                    self.head(cx),
                    value.shown()
                ),
            )
            .with_hint(format!(
                "copy the token's exact case: write the value as `{fixed}`"
            )),
        )
    }

    fn describe_hits(
        &self,
        cx: &Context<'_>,
        compare: Compare,
        negated: bool,
        values: &[PolicyValue],
        hits: &[(&str, Option<Option<&PolicyValue>>)],
        satisfied: bool,
    ) -> String {
        let verb = verb(compare);
        let quantifier = match self.operator.set {
            SetQualifier::Single if hits.len() > 1 => " (any element counts)",
            SetQualifier::AllValues => " (every value must pass)",
            SetQualifier::AnyValue => " (one value must pass)",
            SetQualifier::Single => "",
        };
        let shown: Vec<String> = values.iter().map(PolicyValue::shown).collect();
        let details: Vec<String> = hits
            .iter()
            .map(|(actual, hit)| match hit {
                Some(Some(value)) => format!("the token's `{actual}` {verb} {}", value.shown()),
                _ => format!(
                    "the token's `{actual}` {verb} none of the policy's [{}]",
                    shown.join(", ")
                ),
            })
            .collect();
        let excluded = if negated && !satisfied {
            ", which the negated operator excludes"
        } else {
            ""
        };
        format!(
            "{}: {}{excluded}{quantifier}",
            self.head(cx),
            details.join("; ")
        )
    }

    /// What to change for a failed string condition: first what keeps the policy as strict as
    /// it is (the workflow side), then, labelled, what widens it.
    fn failure_hint(&self, negated: bool, values: &[PolicyValue], request: &[String]) -> String {
        let actual = request.first().map(String::as_str).unwrap_or_default();
        if negated {
            return then_widening(
                &format!(
                    "the token's `{actual}` is one this condition excludes: run the job where \
                     `{}` differs",
                    self.claim()
                ),
                &format!("remove `{actual}` from the excluded values"),
            );
        }
        let texts: Vec<String> = values.iter().filter_map(PolicyValue::text).collect();
        let widen =
            format!("add `{actual}` to the values, or a `StringLike` pattern that covers it");
        let first = match self.claim().to_ascii_lowercase().as_str() {
            "aud" => format!(
                "request the token with the audience the policy expects, {} \
                 (aws-actions/configure-aws-credentials requests `sts.amazonaws.com` by \
                 default; set its `audience` input)",
                list(&texts)
            ),
            "sub" => subject_form_hint(&texts, actual).unwrap_or_else(|| {
                format!(
                    "run the job where `sub` is one the policy accepts ({})",
                    list(&texts)
                )
            }),
            "environment" => format!(
                "declare one of {} as the job's `environment:`",
                list(&texts)
            ),
            claim => format!(
                "run the job where `{claim}` is one the policy accepts ({})",
                list(&texts)
            ),
        };
        then_widening(&first, &widen)
    }

    fn evaluate_numeric(
        &self,
        cx: &Context<'_>,
        test: Numeric,
        negated: bool,
        values: &[PolicyValue],
        request: &[String],
    ) -> (bool, Reason) {
        let number = |s: &str| s.trim().parse::<f64>().ok();
        let policy: Vec<Option<f64>> = values
            .iter()
            .map(|v| v.text().as_deref().and_then(number))
            .collect();
        let holds = |actual: &str| {
            let Some(a) = number(actual) else {
                return false;
            };
            policy.iter().flatten().any(|p| match test {
                Numeric::Equals => a == *p,
                Numeric::LessThan => a < *p,
                Numeric::LessThanEquals => a <= *p,
                Numeric::GreaterThan => a > *p,
                Numeric::GreaterThanEquals => a >= *p,
            })
        };
        let matched: Vec<bool> = request.iter().map(|a| holds(a)).collect();
        let satisfied = match (self.operator.set, negated) {
            (SetQualifier::AllValues, false) => matched.iter().all(|m| *m),
            (SetQualifier::AnyValue, true) => matched.iter().any(|m| !m),
            (_, false) => matched.iter().any(|m| *m),
            (_, true) => !matched.iter().any(|m| *m),
        };
        let not_numbers: Vec<&String> = request.iter().filter(|a| number(a).is_none()).collect();
        let note = if not_numbers.is_empty() {
            String::new()
        } else {
            format!(
                "; `{}` is not a number, which no numeric operator accepts",
                not_numbers
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("`, `")
            )
        };
        let message = format!(
            "{}: the token's {} against the policy's {}: {}{note} (the AWS page does not say \
             whether STS hands ids to IAM as numbers; compared as numbers here)",
            self.head(cx),
            list(request),
            list(&self.values),
            if satisfied { "holds" } else { "does not hold" }
        );
        let (satisfied, reason) = self.outcome(satisfied, message);
        if satisfied {
            return (satisfied, reason);
        }
        let hint = format!(
            "run the job where `{}` satisfies {}; ids are the token's numeric claims \
             (print the claims to see them)",
            self.claim(),
            self.operator.name
        );
        (satisfied, reason.with_hint(hint))
    }

    fn evaluate_bool(
        &self,
        cx: &Context<'_>,
        values: &[PolicyValue],
        request: &[String],
    ) -> (bool, Reason) {
        let texts: Vec<String> = values
            .iter()
            .filter_map(PolicyValue::text)
            .map(|t| t.to_ascii_lowercase())
            .collect();
        let satisfied = request
            .iter()
            .any(|a| texts.contains(&a.to_ascii_lowercase()));
        let message = format!(
            "{}: the token's {} against the policy's {}: {} (no claim STS passes is a \
             boolean; the text `true` or `false` is compared)",
            self.head(cx),
            list(request),
            list(&self.values),
            if satisfied { "holds" } else { "does not hold" }
        );
        self.outcome(satisfied, message)
    }

    fn warn_wildcards(&self, cx: &Context<'_>, report: &mut PolicyReport) {
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
                        self.head(cx),
                        self.operator.name
                    ),
                )
                .with_hint(format!(
                    "to match a pattern, move this value under `{like}`"
                )),
            );
        }
    }

    fn undecided(&self, cx: &Context<'_>, values: &[PolicyValue]) -> Reason {
        let unknown: Vec<String> = values
            .iter()
            .filter_map(|v| match &v.expanded {
                Some(Expanded::Unknown(var)) => Some(var.clone()),
                _ => None,
            })
            .collect();
        Reason::new(
            PolicyReasonId::AwsPolicyVariableUnknown,
            &self.location,
            format!(
                "{}: the outcome depends on {}, which only AWS knows when the role is \
                 assumed (it is not in the token); this condition is assumed satisfied, not \
                 guessed",
                self.head(cx),
                unknown.join(", ")
            ),
        )
        .with_hint("check this condition against the values AWS will have for these keys")
    }

    fn not_from_token(&self, cx: &Context<'_>) -> Reason {
        Reason::new(
            PolicyReasonId::AwsConditionKeyNotFromToken,
            &self.location,
            format!(
                "{}: this key comes from the AWS request context, not from the token, so it \
                 cannot be evaluated here; it is assumed satisfied",
                self.head(cx)
            ),
        )
    }

    fn not_evaluated(&self, cx: &Context<'_>) -> Reason {
        Reason::new(
            PolicyReasonId::AwsOperatorNotEvaluated,
            &self.location,
            format!(
                "{}: no claim STS passes holds a date, ARN, IP address or binary value, and \
                 how IAM compares a claim's text under {} is not documented; this condition \
                 is assumed satisfied",
                self.head(cx),
                self.operator.name
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
            self.claim()
        ))
    }

    fn forallvalues_trap(&self, cx: &Context<'_>) -> Reason {
        Reason::new(
            PolicyReasonId::AwsForallvaluesAbsentKey,
            &self.location,
            format!(
                "{}: IAM has no value for this key, and ForAllValues over an absent or empty \
                 key is true, so this condition lets any such token through",
                self.head(cx)
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
    const ENV: &str = "token.actions.githubusercontent.com:environment";

    /// Evaluates a `Condition` block against the example token with `overrides`.
    fn run(block: Value, overrides: Value) -> (bool, PolicyReport) {
        let conditions = parse_block(&block, "Condition").unwrap();
        let claims = token(overrides);
        run_in(&conditions, &claims, true, true)
    }

    fn run_in(
        conditions: &[Condition],
        claims: &crate::claims::Claims,
        allow: bool,
        variables: bool,
    ) -> (bool, PolicyReport) {
        let keys = TokenKeys::new(claims);
        let cx = Context {
            keys: &keys,
            statement: "Statement[0]",
            allow,
            variables,
        };
        let mut report = PolicyReport {
            format: PolicyFormat::Aws,
            allowed: false,
            reasons: Vec::new(),
            warnings: Vec::new(),
        };
        let results: Vec<bool> = conditions
            .iter()
            .map(|c| c.evaluate(&cx, &mut report))
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
        /// In a Deny statement rather than an Allow.
        deny: bool,
        /// The document's Version lacks policy variables.
        old_version: bool,
    }

    fn case(name: &'static str, block: Value, token: Value, satisfied: bool) -> Case {
        Case {
            name,
            block,
            token,
            satisfied,
            reasons: Vec::new(),
            warning: None,
            deny: false,
            old_version: false,
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
        fn in_deny(mut self) -> Self {
            self.deny = true;
            self
        }
        fn old_version(mut self) -> Self {
            self.old_version = true;
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
        let no_env = json!({"environment": null});
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
            case("StringNotLike on absent key is true", json!({"StringNotLike": {ENV: "*"}}), no_env.clone(), true),
            case("absent key fails a positive operator", json!({"StringEquals": {"token.actions.githubusercontent.com:environment": "prod"}}), json!({"environment": null}), false)
                .reason("aws-condition-failed", at("StringEquals", "token.actions.githubusercontent.com:environment")),
            case("IfExists on absent key is true", json!({"StringEqualsIfExists": {"token.actions.githubusercontent.com:environment": "prod"}}), json!({"environment": null}), true)
                .reason("aws-condition-passed", at("StringEqualsIfExists", "token.actions.githubusercontent.com:environment")),
            case("IfExists on present key still compares", json!({"StringLikeIfExists": {"token.actions.githubusercontent.com:environment": "dev*"}}), none.clone(), false),
            case("StringNotEqualsIfExists", json!({"StringNotEqualsIfExists": {ENV: "x"}}), no_env.clone(), true),
            case("Null true on absent key", json!({"Null": {ENV: "true"}}), no_env.clone(), true),
            case("Null true on present key", json!({"Null": {"token.actions.githubusercontent.com:environment": "true"}}), none.clone(), false)
                .reason("aws-condition-failed", at("Null", "token.actions.githubusercontent.com:environment")),
            case("Null false on present key", json!({"Null": {"token.actions.githubusercontent.com:environment": false}}), none.clone(), true),
            case("Null false on absent key", json!({"Null": {"token.actions.githubusercontent.com:environment": "false"}}), json!({"environment": null}), false),
            case("ForAnyValue one element matches", json!({"ForAnyValue:StringEquals": {AUD: "sts.amazonaws.com"}}), json!({"aud": ["x", "sts.amazonaws.com"]}), true),
            case("ForAnyValue no element matches", json!({"ForAnyValue:StringEquals": {AUD: "sts.amazonaws.com"}}), json!({"aud": ["x", "y"]}), false),
            case("ForAnyValue absent key is false", json!({"ForAnyValue:StringLike": {ENV: "*"}}), no_env.clone(), false),
            case("ForAnyValue IfExists absent key is true", json!({"ForAnyValue:StringLikeIfExists": {ENV: "*"}}), no_env.clone(), true),
            case("ForAnyValue:StringNotEquals one element differs", json!({"ForAnyValue:StringNotEquals": {AUD: "x"}}), json!({"aud": ["x", "y"]}), true),
            case("ForAllValues every element matches", json!({"ForAllValues:StringLike": {AUD: ["sts.*", "x"]}}), json!({"aud": ["x", "sts.amazonaws.com"]}), true),
            case("ForAllValues one element outside", json!({"ForAllValues:StringEquals": {AUD: "sts.amazonaws.com"}}), json!({"aud": ["sts.amazonaws.com", "evil"]}), false),
            case("ForAllValues absent key is true (trap)", json!({"ForAllValues:StringEquals": {ENV: "admins"}}), no_env.clone(), true)
                .reason("aws-condition-passed", at("ForAllValues:StringEquals", ENV))
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
            case("claims STS passes beyond sub and aud", json!({"StringEquals": {
                "token.actions.githubusercontent.com:repository": "octo-org/octo-repo",
                "token.actions.githubusercontent.com:job_workflow_ref": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
                "token.actions.githubusercontent.com:repository_id": "74",
                "token.actions.githubusercontent.com:ref": "refs/heads/main"}}), none.clone(), true),
            case("a key the sources disagree on", json!({"StringEquals": {"token.actions.githubusercontent.com:runner_environment": "github-hosted"}}), none.clone(), false)
                .reason("aws-claim-not-passed", at("StringEquals", "token.actions.githubusercontent.com:runner_environment")),
            case("repository_owner_id: passed by the facts file, disputed elsewhere", json!({"StringEquals": {"token.actions.githubusercontent.com:repository_owner_id": "65"}}), none.clone(), true)
                .warning("aws-claim-key-unsure"),
            // STS does not pass these claims: IAM sees them as absent whatever the token holds.
            case("an Allow requiring a claim STS does not pass never matches", json!({"StringEquals": {"token.actions.githubusercontent.com:repository_owner": "octo-org"}}), none.clone(), false)
                .reason("aws-claim-not-passed", at("StringEquals", "token.actions.githubusercontent.com:repository_owner")),
            case("not passed, key name in another case", json!({"StringLike": {"token.actions.githubusercontent.com:Event_Name": "*"}}), none.clone(), false)
                .reason("aws-claim-not-passed", at("StringLike", "token.actions.githubusercontent.com:Event_Name")),
            case("a Deny on a claim STS does not pass never fires", json!({"StringEquals": {"token.actions.githubusercontent.com:event_name": "workflow_dispatch"}}), none.clone(), false)
                .in_deny()
                .reason("aws-condition-failed", at("StringEquals", "token.actions.githubusercontent.com:event_name"))
                .warning("aws-claim-not-passed"),
            case("a negated operator on a claim STS does not pass always holds", json!({"StringNotEquals": {"token.actions.githubusercontent.com:ref_type": "tag"}}), json!({"ref_type": "tag"}), true)
                .warning("aws-claim-not-passed"),
            case("IfExists on a claim STS does not pass always holds", json!({"StringEqualsIfExists": {"token.actions.githubusercontent.com:workflow_ref": "x"}}), none.clone(), true)
                .warning("aws-claim-not-passed"),
            case("Null true on a claim STS does not pass always holds", json!({"Null": {"token.actions.githubusercontent.com:repository_owner": "true"}}), none.clone(), true)
                .warning("aws-claim-not-passed"),
            // Policy variables.
            case("a variable from a passed claim", json!({"StringLike": {SUB: "repo:${token.actions.githubusercontent.com:repository}:*"}}), none.clone(), true)
                .reason("aws-condition-passed", at("StringLike", SUB)),
            case("a variable from a claim STS does not pass matches nothing", json!({"StringLike": {SUB: "repo:${token.actions.githubusercontent.com:repository_owner}/*"}}), none.clone(), false),
            case("a variable only AWS knows is not guessed", json!({"StringEquals": {SUB: "${aws:PrincipalTag/sub}"}}), none.clone(), true)
                .warning("aws-policy-variable-unknown"),
            case("another value decides despite an unknown variable", json!({"StringEquals": {SUB: ["${aws:PrincipalTag/sub}", "repo:octo-org/octo-repo:environment:prod"]}}), none.clone(), true),
            case("variables need Version 2012-10-17", json!({"StringLike": {SUB: "repo:${token.actions.githubusercontent.com:repository}:*"}}), none.clone(), false)
                .old_version()
                .warning("aws-policy-variable-unknown"),
            case("${*} is a literal star", json!({"StringLike": {SUB: "repo:octo-org/octo-repo:environment:${*}"}}), none.clone(), false),
            // Non-string operators.
            case("NumericEquals on an id claim", json!({"NumericEquals": {"token.actions.githubusercontent.com:repository_id": 74}}), none.clone(), true),
            case("NumericLessThan fails", json!({"NumericLessThan": {"token.actions.githubusercontent.com:repository_id": "10"}}), none.clone(), false)
                .reason("aws-condition-failed", at("NumericLessThan", "token.actions.githubusercontent.com:repository_id")),
            case("NumericNotEquals", json!({"NumericNotEquals": {"token.actions.githubusercontent.com:repository_id": "75"}}), none.clone(), true),
            case("a numeric operator on text", json!({"NumericEquals": {ENV: "1"}}), none.clone(), false),
            case("Bool compares the text", json!({"Bool": {ENV: "true"}}), json!({"environment": "TRUE"}), true),
            case("Bool on other text", json!({"Bool": {ENV: "true"}}), none.clone(), false),
            case("a date operator on a present key is not evaluated", json!({"DateGreaterThan": {ENV: "2020-01-01T00:00:00Z"}}), none.clone(), true)
                .warning("aws-operator-not-evaluated"),
            case("a negated ARN operator on an absent key is true", json!({"ArnNotLike": {ENV: "arn:*"}}), no_env.clone(), true),
            case("an ARN operator on an absent key is false", json!({"ArnLike": {ENV: "arn:*"}}), no_env.clone(), false),
            // Case.
            case("owner case differs", json!({"StringLike": {SUB: "repo:Octo-Org/octo-repo:*"}}), none.clone(), false)
                .reason("aws-case-only-mismatch", at("StringLike", SUB)),
            case("enterprise-slug prefix", json!({"StringEquals": {"token.actions.githubusercontent.com/octo-enterprise:sub": prod}}), json!({"iss": "https://token.actions.githubusercontent.com/octo-enterprise"}), true),
            case("root prefix with an enterprise token", json!({"StringEquals": {SUB: prod}}), json!({"iss": "https://token.actions.githubusercontent.com/octo-enterprise"}), false)
                .reason("aws-condition-failed", at("StringEquals", SUB))
                .warning("aws-condition-key-prefix-mismatch"),
            case("AWS request keys are not evaluated", json!({"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}), none.clone(), true)
                .warning("aws-condition-key-not-from-token"),
            case("non-string operators are not evaluated", json!({"NumericLessThan": {"aws:MultiFactorAuthAge": 3600}}), none.clone(), true)
                .warning("aws-condition-key-not-from-token"),
            case("BoolIfExists on a claim STS does not pass", json!({"BoolIfExists": {"token.actions.githubusercontent.com:ref_protected": "true"}}), none.clone(), true)
                .warning("aws-claim-not-passed"),
            case("wildcard under StringEquals is literal", json!({"StringEquals": {SUB: "repo:octo-org/octo-repo:*"}}), none.clone(), false)
                .reason("aws-condition-failed", at("StringEquals", SUB))
                .warning("aws-wildcard-under-stringequals"),
        ]
    }

    #[test]
    fn operator_table() {
        for case in cases() {
            let conditions = parse_block(&case.block, "Condition").unwrap();
            let claims = token(case.token.clone());
            let (satisfied, report) = run_in(&conditions, &claims, !case.deny, !case.old_version);
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
            "Statement[0]: StringLike on token.actions.githubusercontent.com:sub: the token's \
             `repo:octo-org/octo-repo:environment:prod` matches none of the policy's \
             [`repo:octo-org/octo-repo:ref:refs/heads/main`]"
        );
        // The first fix is the workflow's; the one that lets more tokens in comes second,
        // labelled.
        let hint = report.reasons[0].hint.clone().unwrap_or_default();
        let widening = hint.find("which widens who can assume the role").unwrap();
        let add = hint
            .find("add `repo:octo-org/octo-repo:environment:prod`")
            .unwrap();
        assert!(
            hint.starts_with("the job declares `environment: prod`"),
            "{hint}"
        );
        assert!(widening < add, "{hint}");
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
            json!({"StringLike": {SUB: "repo:Octo-Org/octo-repo:environment:*"}}),
            json!({}),
        );
        let reason = &report.reasons[0];
        assert_eq!(reason.id, PolicyReasonId::AwsCaseOnlyMismatch);
        assert!(
            reason.message.contains("differs only in case"),
            "{}",
            reason.message
        );
        assert_eq!(
            reason.hint.as_deref(),
            Some("copy the token's exact case: write the value as `repo:octo-org/octo-repo:environment:*`")
        );
        let (_, report) = run(
            json!({"StringEquals": {"token.actions.githubusercontent.com:repository_owner": "octo-org"}}),
            json!({}),
        );
        let reason = &report.reasons[0];
        assert!(
            reason.message.contains(
                "AWS does not pass `repository_owner` to IAM (the token's `repository_owner` is [`octo-org`])"
            ),
            "{}",
            reason.message
        );
        assert!(reason
            .hint
            .as_deref()
            .unwrap_or_default()
            .starts_with("AWS does not pass `repository_owner` to IAM; use `repository_owner_id`"));
        let (_, report) = run(
            json!({"StringEquals": {"token.actions.githubusercontent.com:environment": "prod"}}),
            json!({"environment": "staging"}),
        );
        assert!(report.reasons[0]
            .hint
            .as_deref()
            .unwrap_or_default()
            .starts_with("declare one of [`prod`] as the job's `environment:`"));
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
