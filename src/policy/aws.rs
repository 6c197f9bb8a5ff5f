//! AWS IAM role trust policies: which statements apply to `sts:AssumeRoleWithWebIdentity`
//! with this token, and whether IAM's evaluation logic (explicit Deny overrides Allow, no
//! Allow means an implicit deny) lets it through.

mod condition;
mod keys;
mod variables;

use self::condition::{Condition, Context};
use self::keys::TokenKeys;
use super::document::Fields;
use super::{list, then_widening, PolicyError, PolicyReasonId, PolicyReport, Reason};
use crate::claims::Claims;
use crate::consumer::aws::key_prefix;
use crate::pattern::string_like_ignoring_case;
use serde_json::Value;

/// Hint for an unknown condition operator.
pub(super) const OPERATOR_HINT: &str = "use one of StringEquals, StringNotEquals, \
    StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike, StringNotLike, the Numeric, \
    Date, Bool, Binary, IpAddress and Arn operators (each also with an IfExists suffix and a \
    ForAnyValue: or ForAllValues: prefix) or Null; operator names are case-sensitive";

/// The action a web identity token is used for.
const ASSUME_ACTION: &str = "sts:AssumeRoleWithWebIdentity";

/// A parsed trust policy.
#[derive(Debug)]
pub(super) struct TrustPolicy {
    statements: Vec<Statement>,
    /// Whether `Version` is `2012-10-17`, the only version with policy variables.
    variables: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

/// `Principal` or `NotPrincipal`: who the statement is about.
#[derive(Debug)]
struct Principals {
    /// `"*"`: everyone.
    any: bool,
    /// `Federated` provider ARNs.
    federated: Vec<String>,
    /// Whether `AWS`, `Service` or `CanonicalUser` principals are named too.
    others: bool,
    negated: bool,
}

/// `Action` or `NotAction`.
#[derive(Debug)]
struct Actions {
    patterns: Vec<String>,
    negated: bool,
}

#[derive(Debug)]
struct Statement {
    location: String,
    sid: Option<String>,
    effect: Effect,
    principals: Principals,
    actions: Actions,
    conditions: Vec<Condition>,
}

impl TrustPolicy {
    pub(super) fn parse(value: &Value) -> Result<Self, PolicyError> {
        let top = Fields::of(value, "")?;
        let items: Vec<&Value> = match top.map.get("Statement") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(object @ Value::Object(_)) => vec![object],
            Some(other) => {
                return Err(top.wrong_type("Statement", "an object or an array", other));
            }
            None => return Err(top.missing("Statement")),
        };
        let statements = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| Statement::parse(item, format!("Statement[{i}]")))
            .collect::<Result<_, _>>()?;
        // Source: IAM User Guide, "IAM JSON policy elements: Version": `2012-10-17` is
        // current, `2008-10-17` the older version without policy variables; no `Version`
        // means the older one.
        let variables = match top.opt_str("Version")? {
            Some("2012-10-17") => true,
            Some("2008-10-17") | None => false,
            Some(other) => {
                return Err(PolicyError::invalid(
                    top.path("Version"),
                    format!("expected `2012-10-17` (or the older `2008-10-17`), found `{other}`"),
                ))
            }
        };
        Ok(TrustPolicy {
            statements,
            variables,
        })
    }

    /// Evaluates every statement, recording why each applies or not. True when allowed.
    pub(super) fn evaluate(&self, claims: &Claims, report: &mut PolicyReport) -> bool {
        let keys = TokenKeys::new(claims);
        let mut verdicts = Vec::new();
        for statement in &self.statements {
            let start = report.reasons.len();
            let verdict = statement.matches(claims, &keys, self.variables, report);
            verdicts.push((statement, verdict, start..report.reasons.len()));
        }
        conclude(&verdicts, report)
    }
}

/// What one statement came to, for the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Its principal or action does not cover this token.
    NotApplicable,
    /// Principal and action apply; some condition does not hold.
    ConditionsFail,
    /// It applies with all its conditions.
    Matches,
}

/// IAM's decision: an explicit Deny wins, then an Allow, else the implicit deny. Also decides
/// which reasons are causes of a refusal, so that each becomes one finding: under an explicit
/// Deny, the Deny itself; under the implicit deny, what fails in the Allow statements (their
/// principal or action only when no Allow statement applies to this token at all).
fn conclude(
    verdicts: &[(&Statement, Verdict, std::ops::Range<usize>)],
    report: &mut PolicyReport,
) -> bool {
    let matching = |effect| {
        verdicts
            .iter()
            .filter(move |(s, v, _)| s.effect == effect && *v == Verdict::Matches)
    };
    let denies: Vec<_> = matching(Effect::Deny).collect();
    let allow = matching(Effect::Allow).next().map(|(s, ..)| s.name());
    if !denies.is_empty() {
        for reason in &mut report.reasons {
            reason.cause = false;
        }
        for (deny, _, range) in denies {
            let held: Vec<String> = report.reasons[range.clone()]
                .iter()
                .filter(|r| r.id == PolicyReasonId::AwsConditionPassed)
                .map(|r| r.message.clone())
                .collect();
            // A condition can hold by assumption only (a request-context key, a variable only
            // AWS knows, an operator not evaluated): then the warnings name it, and the Deny is
            // taken as firing, which is the safe reading, but not as one without conditions.
            let because = match (held.is_empty(), deny.conditions.is_empty()) {
                (_, true) => " (it has no condition)".to_owned(),
                (true, false) => " (taken as firing: its conditions cannot be decided from the token, see the warnings)".to_owned(),
                (false, false) => format!(", because {}", held.join("; ")),
            };
            let overrides = allow
                .as_ref()
                .map(|allow| format!(", overriding the Allow in {allow}"))
                .unwrap_or_default();
            report.reasons.push(
                Reason::new(
                    PolicyReasonId::AwsExplicitDeny,
                    &deny.location,
                    format!(
                        "{} explicitly denies this token{overrides}{because}",
                        deny.name()
                    ),
                )
                .with_cause(true)
                .with_hint(then_widening(
                    "an explicit Deny always wins: run the job where the values it names \
                     differ",
                    "narrow the Deny's conditions so that they exclude this token",
                )),
            );
        }
        return false;
    }
    if allow.is_some() {
        return true;
    }
    let an_allow_applies = verdicts
        .iter()
        .any(|(s, v, _)| s.effect == Effect::Allow && *v != Verdict::NotApplicable);
    for (statement, verdict, range) in verdicts {
        let decides = statement.effect == Effect::Allow
            && (*verdict == Verdict::ConditionsFail || !an_allow_applies);
        if !decides {
            for reason in &mut report.reasons[range.clone()] {
                reason.cause = false;
            }
        }
    }
    let causes = report.reasons.iter().any(|r| r.cause);
    report.reasons.push(
        Reason::new(
            PolicyReasonId::AwsImplicitDeny,
            "Statement",
            format!(
                "no Allow statement matches, so IAM denies {ASSUME_ACTION} by default \
                 (STS: Not authorized to perform sts:AssumeRoleWithWebIdentity)"
            ),
        )
        // With nothing else to blame (no Allow statement at all), this is the cause.
        .with_cause(!causes)
        .with_hint(if causes {
            "fix what is reported above for the statement meant to allow this token"
        } else {
            "add an Allow statement for the OIDC provider with `sts:AssumeRoleWithWebIdentity` \
             and conditions that name this token's `aud` and `sub`"
        }),
    );
    false
}

impl Statement {
    fn parse(value: &Value, location: String) -> Result<Self, PolicyError> {
        let fields = Fields::of(value, location.clone())?;
        let effect = match fields.str("Effect")? {
            "Allow" => Effect::Allow,
            "Deny" => Effect::Deny,
            other => {
                return Err(PolicyError::invalid(
                    fields.path("Effect"),
                    format!("expected `Allow` or `Deny`, found `{other}`"),
                ));
            }
        };
        let conditions = match fields.map.get("Condition") {
            None | Some(Value::Null) => Vec::new(),
            Some(block) => condition::parse_block(block, &fields.path("Condition"))?,
        };
        Ok(Statement {
            sid: fields.opt_str("Sid")?.map(str::to_owned),
            effect,
            principals: Principals::parse(&fields)?,
            actions: Actions::parse(&fields)?,
            conditions,
            location,
        })
    }

    fn name(&self) -> String {
        match &self.sid {
            Some(sid) => format!("{} (Sid `{sid}`)", self.location),
            None => self.location.clone(),
        }
    }

    /// Whether the statement applies to this token and all its conditions hold.
    fn matches(
        &self,
        claims: &Claims,
        keys: &TokenKeys<'_>,
        variables: bool,
        report: &mut PolicyReport,
    ) -> Verdict {
        if !self.principal_applies(claims, report) || !self.action_applies(report) {
            return Verdict::NotApplicable;
        }
        let name = self.name();
        let cx = Context {
            keys,
            statement: &name,
            allow: self.effect == Effect::Allow,
            variables,
        };
        // Every condition is evaluated, not just up to the first failure, so that the report
        // lists everything that needs fixing.
        let results: Vec<bool> = self
            .conditions
            .iter()
            .map(|condition| condition.evaluate(&cx, report))
            .collect();
        let failed = results.iter().filter(|ok| !**ok).count();
        let (id, verdict) = match (failed, self.effect) {
            (0, Effect::Allow) => (PolicyReasonId::AwsStatementAllows, "allows this token"),
            (0, Effect::Deny) => (PolicyReasonId::AwsStatementDenies, "denies this token"),
            (_, Effect::Allow) => (
                PolicyReasonId::AwsStatementNotMatched,
                "does not allow this token",
            ),
            (_, Effect::Deny) => (
                PolicyReasonId::AwsStatementNotMatched,
                "does not deny this token",
            ),
        };
        let message = format!(
            "{} {verdict}: principal and action apply, {} of {} condition(s) hold",
            self.name(),
            results.len() - failed,
            results.len()
        );
        report
            .reasons
            .push(Reason::new(id, &self.location, message));
        if failed == 0 {
            Verdict::Matches
        } else {
            Verdict::ConditionsFail
        }
    }

    fn principal_applies(&self, claims: &Claims, report: &mut PolicyReport) -> bool {
        let issuer = claims.str("iss").unwrap_or_default();
        let provider = key_prefix(issuer);
        let p = &self.principals;
        let named = p.any
            || p.federated
                .iter()
                .any(|arn| oidc_provider(arn) == Some(provider));
        if named != p.negated {
            return true;
        }
        let field = if p.negated {
            "NotPrincipal"
        } else {
            "Principal"
        };
        let mut reason = Reason::new(
            PolicyReasonId::AwsPrincipalMismatch,
            format!("{}.{field}", self.location),
            format!(
                "{} does not apply: its {field} {} the OIDC provider for issuer `{issuer}` \
                 (`oidc-provider/{provider}`); Federated: {}",
                self.name(),
                if p.negated {
                    "excludes"
                } else {
                    "does not name"
                },
                list(&p.federated)
            ),
        );
        if let Some(hint) = principal_hint(p, provider) {
            reason = reason.with_hint(hint);
        }
        report.reasons.push(reason);
        false
    }

    fn action_applies(&self, report: &mut PolicyReport) -> bool {
        let a = &self.actions;
        // IAM action names are case-insensitive and take `*` and `?` wildcards.
        let covered = a
            .patterns
            .iter()
            .any(|p| string_like_ignoring_case(p, ASSUME_ACTION));
        if covered != a.negated {
            return true;
        }
        let field = if a.negated { "NotAction" } else { "Action" };
        let mut reason = Reason::new(
            PolicyReasonId::AwsActionMismatch,
            format!("{}.{field}", self.location),
            format!(
                "{} does not apply: its {field} {} {ASSUME_ACTION}: {}",
                self.name(),
                if a.negated {
                    "excludes"
                } else {
                    "does not cover"
                },
                list(&a.patterns)
            ),
        );
        if !a.negated {
            reason = reason.with_hint(format!(
                "if this statement is meant for GitHub's tokens, {WIDENS}: add \
                 `{ASSUME_ACTION}` to Action (`sts:AssumeRole` is for AWS principals, not web \
                 identity tokens)",
                WIDENS = super::WIDENS
            ));
        }
        report.reasons.push(reason);
        false
    }
}

/// `arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com` ->
/// `token.actions.githubusercontent.com`. Any partition (`aws-cn`, `aws-us-gov`) counts.
fn oidc_provider(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (_, provider) = rest.split_once(":oidc-provider/")?;
    Some(provider)
}

fn principal_hint(p: &Principals, provider: &str) -> Option<String> {
    if p.federated.is_empty() && p.others {
        return Some(format!(
            "a web identity token is presented by a `Federated` principal; if this statement is \
             meant for GitHub's tokens, {}: name `arn:aws:iam::ACCOUNT:oidc-provider/HOST` \
             under Principal.Federated",
            super::WIDENS
        ));
    }
    let named: Vec<&str> = p
        .federated
        .iter()
        .filter_map(|a| oidc_provider(a))
        .collect();
    if let Some(root) = named
        .iter()
        .find(|n| provider.starts_with(&format!("{n}/")))
    {
        return Some(format!(
            "the token comes from an enterprise issuer `{provider}`; create an IAM OIDC \
             provider for `https://{provider}` and name it instead of `{root}`"
        ));
    }
    if p.negated {
        return None;
    }
    Some(format!(
        "if this statement is meant for this token's issuer, {}: name \
         `arn:aws:iam::ACCOUNT:oidc-provider/{provider}` under Principal.Federated",
        super::WIDENS
    ))
}

impl Principals {
    fn parse(fields: &Fields<'_>) -> Result<Self, PolicyError> {
        let (key, negated) =
            match (
                fields.map.contains_key("Principal"),
                fields.map.contains_key("NotPrincipal"),
            ) {
                (true, false) => ("Principal", false),
                (false, true) => ("NotPrincipal", true),
                _ => return Err(PolicyError::invalid(
                    fields.location.clone(),
                    "a trust policy statement needs exactly one of `Principal` or `NotPrincipal`",
                )),
            };
        let value = fields.map.get(key).unwrap_or(&Value::Null);
        let mut principals = Principals {
            any: false,
            federated: Vec::new(),
            others: false,
            negated,
        };
        match value {
            Value::String(s) if s == "*" => principals.any = true,
            Value::Object(_) => principals.read_kinds(&Fields::of(value, fields.path(key))?)?,
            other => return Err(fields.wrong_type(key, "`\"*\"` or an object", other)),
        }
        Ok(principals)
    }

    fn read_kinds(&mut self, kinds: &Fields<'_>) -> Result<(), PolicyError> {
        for name in kinds.map.keys() {
            match name.as_str() {
                "Federated" => self.federated = kinds.opt_strings(name)?.unwrap_or_default(),
                "AWS" | "Service" | "CanonicalUser" => {
                    kinds.opt_strings(name)?;
                    self.others = true;
                }
                _ => {
                    return Err(PolicyError::invalid(
                        kinds.path(name),
                        "unknown principal type; expected Federated, AWS, Service or \
                         CanonicalUser",
                    ))
                }
            }
        }
        Ok(())
    }
}

impl Actions {
    fn parse(fields: &Fields<'_>) -> Result<Self, PolicyError> {
        let action = fields.opt_strings("Action")?;
        let not_action = fields.opt_strings("NotAction")?;
        match (action, not_action) {
            (Some(patterns), None) => Ok(Actions {
                patterns,
                negated: false,
            }),
            (None, Some(patterns)) => Ok(Actions {
                patterns,
                negated: true,
            }),
            _ => Err(PolicyError::invalid(
                fields.location.clone(),
                "a statement needs exactly one of `Action` or `NotAction`",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::policy::testing::token;
    use crate::policy::{evaluate, parse, PolicyFormat, PolicyReport};
    use serde_json::{json, Value};

    const PROVIDER: &str =
        "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";

    /// The trust policy from the AWS and GitHub docs: `StringEquals` on aud, `StringLike` on sub.
    fn documented(sub: &str) -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                    "StringLike": {"token.actions.githubusercontent.com:sub": sub}
                }
            }]
        })
    }

    fn statement(effect: &str, principal: Value, action: Value, condition: Value) -> Value {
        json!({"Effect": effect, "Principal": principal, "Action": action, "Condition": condition})
    }

    fn run(policy: &Value, overrides: Value) -> PolicyReport {
        let policy = parse(&policy.to_string(), Some(PolicyFormat::Aws)).unwrap();
        evaluate(&policy, &token(overrides))
    }

    #[test]
    fn a_deny_on_what_the_token_cannot_show_fires_and_says_so() {
        let principal = json!({"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"});
        let policy = json!({"Version": "2012-10-17", "Statement": [
            statement("Allow", principal.clone(), json!("sts:AssumeRoleWithWebIdentity"), json!({})),
            statement("Deny", principal, json!("sts:AssumeRoleWithWebIdentity"),
                json!({"StringEquals": {"aws:SourceIdentity": "x"}})),
        ]});
        let report = run(&policy, json!({}));
        assert!(!report.allowed);
        let deny = report
            .reasons
            .iter()
            .find(|r| r.id == crate::findings::PolicyReasonId::AwsExplicitDeny)
            .unwrap();
        assert!(
            deny.message.ends_with("(taken as firing: its conditions cannot be decided from the token, see the warnings)"),
            "{}",
            deny.message
        );
    }

    #[test]
    fn documented_policies() {
        let sub_key = "Statement[0].Condition.StringLike.token.actions.githubusercontent.com:sub";
        let aud_key = "Statement[0].Condition.StringEquals.token.actions.githubusercontent.com:aud";
        let cases: &[(&str, &str, Value, bool, &str, &str)] = &[
            (
                "repo wildcard",
                "repo:octo-org/octo-repo:*",
                json!({}),
                true,
                "aws-statement-allows",
                "Statement[0]",
            ),
            (
                "environment",
                "repo:octo-org/octo-repo:environment:prod",
                json!({}),
                true,
                "aws-condition-passed",
                sub_key,
            ),
            (
                "branch pinned, job has an environment",
                "repo:octo-org/octo-repo:ref:refs/heads/main",
                json!({}),
                false,
                "aws-condition-failed",
                sub_key,
            ),
            (
                "branch pinned, branch push",
                "repo:octo-org/octo-repo:ref:refs/heads/main",
                json!({"sub": "repo:octo-org/octo-repo:ref:refs/heads/main"}),
                true,
                "aws-statement-allows",
                "Statement[0]",
            ),
            (
                "tag push against a branch pattern",
                "repo:octo-org/octo-repo:ref:refs/heads/*",
                json!({"sub": "repo:octo-org/octo-repo:ref:refs/tags/v1.2.3"}),
                false,
                "aws-condition-failed",
                sub_key,
            ),
            (
                "pull request",
                "repo:octo-org/octo-repo:pull_request",
                json!({"sub": "repo:octo-org/octo-repo:pull_request"}),
                true,
                "aws-condition-passed",
                sub_key,
            ),
            (
                "other repository",
                "repo:octo-org/octo-repo:*",
                json!({"sub": "repo:octo-org/other:environment:prod"}),
                false,
                "aws-condition-failed",
                sub_key,
            ),
            (
                "owner case differs",
                "repo:Octo-Org/octo-repo:*",
                json!({}),
                false,
                "aws-case-only-mismatch",
                sub_key,
            ),
            (
                "default audience",
                "repo:octo-org/octo-repo:*",
                json!({"aud": "https://github.com/octo-org"}),
                false,
                "aws-condition-failed",
                aud_key,
            ),
            (
                "no sub claim",
                "repo:octo-org/octo-repo:*",
                json!({"sub": null}),
                false,
                "aws-condition-failed",
                sub_key,
            ),
            (
                "no match means implicit deny",
                "repo:x/y:*",
                json!({}),
                false,
                "aws-implicit-deny",
                "Statement",
            ),
        ];
        for (name, sub, overrides, allowed, id, location) in cases {
            let report = run(&documented(sub), overrides.clone());
            assert_eq!(report.allowed, *allowed, "{name}: {report:#?}");
            assert!(
                report
                    .reasons
                    .iter()
                    .any(|r| r.id.as_str() == *id && r.location == *location),
                "{name}: no {id} at {location}: {report:#?}"
            );
        }
    }

    #[test]
    fn statements_principals_and_actions() {
        let allow_all =
            json!({"StringLike": {"token.actions.githubusercontent.com:sub": "repo:octo-org/*"}});
        let fed = json!({"Federated": PROVIDER});
        let act = json!("sts:AssumeRoleWithWebIdentity");
        let enterprise =
            json!({"iss": "https://token.actions.githubusercontent.com/octo-enterprise"});
        let cases: Vec<(&str, Value, Value, bool, &str, &str)> = vec![
            (
                "Statement as an object",
                json!({"Statement": statement("Allow", fed.clone(), act.clone(), allow_all.clone())}),
                json!({}),
                true,
                "aws-statement-allows",
                "Statement[0]",
            ),
            (
                "no conditions",
                json!({"Statement": {"Effect": "Allow", "Principal": fed, "Action": act}}),
                json!({}),
                true,
                "aws-statement-allows",
                "Statement[0]",
            ),
            (
                "explicit Deny overrides Allow",
                json!({"Statement": [
                    statement("Allow", fed.clone(), act.clone(), allow_all.clone()),
                    statement("Deny", fed.clone(), act.clone(), json!({"StringEquals": {"token.actions.githubusercontent.com:environment": "prod"}})),
                ]}),
                json!({}),
                false,
                "aws-explicit-deny",
                "Statement[1]",
            ),
            (
                "Deny that does not match",
                json!({"Statement": [
                    statement("Allow", fed.clone(), act.clone(), allow_all.clone()),
                    statement("Deny", fed.clone(), act.clone(), json!({"StringEquals": {"token.actions.githubusercontent.com:environment": "dev"}})),
                ]}),
                json!({}),
                true,
                "aws-statement-not-matched",
                "Statement[1]",
            ),
            (
                "second Allow matches",
                json!({"Statement": [
                    statement("Allow", fed.clone(), act.clone(), json!({"StringEquals": {"token.actions.githubusercontent.com:sub": "x"}})),
                    statement("Allow", fed.clone(), act.clone(), allow_all.clone()),
                ]}),
                json!({}),
                true,
                "aws-statement-allows",
                "Statement[1]",
            ),
            (
                "other provider",
                json!({"Statement": statement("Allow", json!({"Federated": "arn:aws:iam::1:oidc-provider/gitlab.com"}), act.clone(), allow_all.clone())}),
                json!({}),
                false,
                "aws-principal-mismatch",
                "Statement[0].Principal",
            ),
            (
                "AWS principal only",
                json!({"Statement": statement("Allow", json!({"AWS": "arn:aws:iam::1:root"}), act.clone(), allow_all.clone())}),
                json!({}),
                false,
                "aws-principal-mismatch",
                "Statement[0].Principal",
            ),
            (
                "Principal star",
                json!({"Statement": statement("Allow", json!("*"), act.clone(), allow_all.clone())}),
                json!({}),
                true,
                "aws-statement-allows",
                "Statement[0]",
            ),
            (
                "Federated list, China partition",
                json!({"Statement": statement("Allow", json!({"Federated": ["arn:aws:iam::1:oidc-provider/gitlab.com", "arn:aws-cn:iam::1:oidc-provider/token.actions.githubusercontent.com"]}), act.clone(), allow_all.clone())}),
                json!({}),
                true,
                "aws-statement-allows",
                "Statement[0]",
            ),
            (
                "root provider with an enterprise token",
                json!({"Statement": statement("Allow", fed.clone(), act.clone(), allow_all.clone())}),
                enterprise.clone(),
                false,
                "aws-principal-mismatch",
                "Statement[0].Principal",
            ),
            (
                "sts:AssumeRole is the wrong action",
                json!({"Statement": statement("Allow", fed.clone(), json!("sts:AssumeRole"), allow_all.clone())}),
                json!({}),
                false,
                "aws-action-mismatch",
                "Statement[0].Action",
            ),
            (
                "sts:* covers it",
                json!({"Statement": statement("Allow", fed.clone(), json!(["sts:TagSession", "sts:*"]), allow_all.clone())}),
                json!({}),
                true,
                "aws-statement-allows",
                "Statement[0]",
            ),
            (
                "* covers it",
                json!({"Statement": statement("Allow", fed.clone(), json!("*"), allow_all.clone())}),
                json!({}),
                true,
                "aws-statement-allows",
                "Statement[0]",
            ),
            (
                "action names are case-insensitive",
                json!({"Statement": statement("Allow", fed.clone(), json!("STS:assumerolewithwebidentity"), allow_all.clone())}),
                json!({}),
                true,
                "aws-statement-allows",
                "Statement[0]",
            ),
            (
                "NotAction excluding it",
                json!({"Statement": {"Effect": "Allow", "Principal": fed.clone(), "NotAction": "sts:AssumeRoleWith*"}}),
                json!({}),
                false,
                "aws-action-mismatch",
                "Statement[0].NotAction",
            ),
            (
                "NotAction excluding others",
                json!({"Statement": {"Effect": "Allow", "Principal": fed.clone(), "NotAction": "iam:*"}}),
                json!({}),
                true,
                "aws-statement-allows",
                "Statement[0]",
            ),
            (
                "empty Statement array",
                json!({"Statement": []}),
                json!({}),
                false,
                "aws-implicit-deny",
                "Statement",
            ),
        ];
        for (name, policy, overrides, allowed, id, location) in cases {
            let report = run(&policy, overrides);
            assert_eq!(report.allowed, allowed, "{name}: {report:#?}");
            assert!(
                report
                    .reasons
                    .iter()
                    .any(|r| r.id.as_str() == id && r.location == location),
                "{name}: no {id} at {location}: {report:#?}"
            );
        }
    }

    /// Which reasons are causes of a refusal: one finding each.
    #[test]
    fn causes_are_what_decides_the_refusal() {
        let causes = |report: &PolicyReport| -> Vec<(String, String)> {
            report
                .reasons
                .iter()
                .filter(|r| r.cause)
                .map(|r| (r.id.as_str().to_owned(), r.location.clone()))
                .collect()
        };
        let fed = json!({"Federated": PROVIDER});
        let act = json!("sts:AssumeRoleWithWebIdentity");
        let sub = "token.actions.githubusercontent.com:sub";
        // One refused condition: it alone, not the statement nor the implicit deny.
        let report = run(
            &documented("repo:octo-org/octo-repo:ref:refs/heads/main"),
            json!({}),
        );
        assert_eq!(
            causes(&report),
            [(
                "aws-condition-failed".to_owned(),
                format!("Statement[0].Condition.StringLike.{sub}")
            )]
        );
        // A Deny that does not fire and an Allow for another provider are no causes.
        let policy = json!({"Version": "2012-10-17", "Statement": [
            statement("Deny", fed.clone(), act.clone(), json!({"StringEquals": {"token.actions.githubusercontent.com:environment": "dev"}})),
            statement("Allow", json!({"Federated": "arn:aws:iam::1:oidc-provider/gitlab.com"}), act.clone(), json!({})),
            statement("Allow", fed.clone(), act.clone(), json!({"StringEquals": {sub: "x"}})),
        ]});
        let report = run(&policy, json!({}));
        assert!(!report.allowed);
        assert_eq!(
            causes(&report),
            [(
                "aws-condition-failed".to_owned(),
                format!("Statement[2].Condition.StringEquals.{sub}")
            )]
        );
        // An explicit Deny: the Deny alone, naming what made it fire.
        let policy = json!({"Version": "2012-10-17", "Statement": [
            statement("Allow", fed.clone(), act.clone(), json!({"StringEquals": {sub: "x"}})),
            statement("Deny", fed.clone(), act.clone(), json!({"StringEquals": {"token.actions.githubusercontent.com:environment": "prod"}})),
        ]});
        let report = run(&policy, json!({}));
        assert_eq!(
            causes(&report),
            [("aws-explicit-deny".to_owned(), "Statement[1]".to_owned())]
        );
        let deny = report.reasons.iter().find(|r| r.cause).unwrap();
        assert!(deny.message.contains("because Statement[1]: StringEquals on token.actions.githubusercontent.com:environment: the token's `prod` equals `prod`"), "{}", deny.message);
        assert!(deny
            .hint
            .as_deref()
            .unwrap_or_default()
            .contains("; or, which widens who can assume the role: "));
        // No Allow statement at all: the implicit deny is the cause.
        let report = run(&json!({"Statement": []}), json!({}));
        assert_eq!(
            causes(&report),
            [("aws-implicit-deny".to_owned(), "Statement".to_owned())]
        );
        // Only an Allow for another provider: its principal is the cause.
        let policy = json!({"Statement": statement("Allow", json!({"Federated": "arn:aws:iam::1:oidc-provider/gitlab.com"}), act, json!({}))});
        let report = run(&policy, json!({}));
        assert_eq!(
            causes(&report),
            [(
                "aws-principal-mismatch".to_owned(),
                "Statement[0].Principal".to_owned()
            )]
        );
    }

    #[test]
    fn only_the_two_documented_versions_are_accepted() {
        let with = |version: &str| json!({"Version": version, "Statement": []}).to_string();
        assert!(parse(&with("2012-10-17"), Some(PolicyFormat::Aws)).is_ok());
        assert!(parse(&with("2008-10-17"), Some(PolicyFormat::Aws)).is_ok());
        let err = parse(&with("2012-10-18"), Some(PolicyFormat::Aws)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Version: expected `2012-10-17` (or the older `2008-10-17`), found `2012-10-18`"
        );
    }

    #[test]
    fn enterprise_provider_hint_names_the_slug() {
        let policy = json!({"Statement": statement("Allow", json!({"Federated": PROVIDER}), json!("sts:*"), json!({}))});
        let report = run(
            &policy,
            json!({"iss": "https://token.actions.githubusercontent.com/octo-enterprise"}),
        );
        let hint = report.reasons[0].hint.clone().unwrap_or_default();
        assert!(
            hint.contains("https://token.actions.githubusercontent.com/octo-enterprise"),
            "{hint}"
        );
    }

    #[test]
    fn example_files() {
        let prod = include_str!("../../examples/policies/aws-trust-policy.json");
        let enterprise = include_str!("../../examples/policies/aws-trust-policy-enterprise.json");
        let slug = json!({"iss": "https://token.actions.githubusercontent.com/octo-enterprise"});
        let cases: &[(&str, Value, bool)] = &[
            (prod, json!({}), true),
            (
                prod,
                json!({"sub": "repo:octo-org/octo-repo:ref:refs/tags/v2.0.0"}),
                true,
            ),
            (
                prod,
                json!({"sub": "repo:octo-org/octo-repo:environment:staging"}),
                false,
            ),
            (prod, slug.clone(), false),
            (enterprise, slug, true),
            (enterprise, json!({}), false),
        ];
        for (text, overrides, allowed) in cases {
            let policy = parse(text, None).unwrap();
            assert_eq!(policy.format(), PolicyFormat::Aws);
            let report = evaluate(&policy, &token(overrides.clone()));
            assert_eq!(report.allowed, *allowed, "{overrides}: {report:#?}");
        }
    }

    #[test]
    fn yaml_trust_policy_as_in_cloudformation() {
        let text = "Version: '2012-10-17'\nStatement:\n  - Effect: Allow\n    Principal:\n      \
                    Federated: arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com\n    \
                    Action: sts:AssumeRoleWithWebIdentity\n    Condition:\n      StringEquals:\n        \
                    token.actions.githubusercontent.com:aud: sts.amazonaws.com\n      StringLike:\n        \
                    token.actions.githubusercontent.com:sub: repo:octo-org/octo-repo:*\n      Null:\n        \
                    token.actions.githubusercontent.com:environment: false\n";
        let policy = parse(text, None).unwrap();
        assert_eq!(policy.format(), PolicyFormat::Aws);
        assert!(evaluate(&policy, &token(json!({}))).allowed);
        assert!(!evaluate(&policy, &token(json!({"environment": null}))).allowed);
    }

    #[test]
    fn malformed_policies_are_errors() {
        let cases: &[(&str, &str)] = &[
            ("{\"Statement\": [", "the document is not valid JSON: EOF while parsing a list at line 1 column 15"),
            ("{\"Statement\": \"Allow\"}", "Statement: expected an object or an array, found a string"),
            ("{\"Statement\": [1]}", "Statement[0]: expected an object, found a number"),
            ("{\"Statement\": [{\"Principal\": \"*\", \"Action\": \"*\"}]}", "Statement[0].Effect: required field is missing"),
            ("{\"Statement\": [{\"Effect\": \"allow\", \"Principal\": \"*\", \"Action\": \"*\"}]}", "Statement[0].Effect: expected `Allow` or `Deny`, found `allow`"),
            ("{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\"}]}", "Statement[0]: a trust policy statement needs exactly one of `Principal` or `NotPrincipal`"),
            ("{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\"}]}", "Statement[0]: a statement needs exactly one of `Action` or `NotAction`"),
            ("{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"Github\": \"x\"}, \"Action\": \"*\"}]}", "Statement[0].Principal.Github: unknown principal type; expected Federated, AWS, Service or CanonicalUser"),
            ("{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": [1]}]}", "Statement[0].Action[0]: expected a string, found a number"),
            ("{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"*\", \"Condition\": {\"StringEqualsX\": {}}}]}", "Statement[0].Condition: unknown condition operator `StringEqualsX`"),
            ("{\"Version\": \"2012-10-17\"}", "Statement: required field is missing"),
            ("[]", "the document: expected an object, found an array"),
        ];
        for (text, want) in cases {
            let err = parse(text, Some(PolicyFormat::Aws)).unwrap_err();
            assert_eq!(err.to_string(), *want, "{text}");
            assert!(!err.hint().is_empty());
        }
        match parse(
            "{\n  \"Statement\": [\n    {\"Effect\": \"Allow\",}\n  ]\n}",
            None,
        ) {
            Err(crate::policy::PolicyError::Json { line, column, .. }) => {
                assert_eq!((line, column), (3, 24))
            }
            other => panic!("{other:?}"),
        }
    }
}
