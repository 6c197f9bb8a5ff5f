//! Azure Entra federated identity credentials: the JSON given to
//! `az ad app federated-credential create --parameters`, or the array that
//! `az ad app federated-credential list` prints. Entra tries every credential of the app; one
//! whose issuer, subject (or claims matching expression) and audience all match is enough.

mod expression;

use self::expression::{Expression, Operator, Term};
use super::document::{kind, Fields};
use super::{
    list, subject_form_hint, then_widening, PolicyError, PolicyReasonId, PolicyReport, Reason,
};
use crate::claims::Claims;
use crate::consumer::azure::{
    flexible_claims, GITHUB_ISSUER, MAX_AUDIENCES, MAX_CREDENTIALS, MAX_FIELD_CHARS, MAX_NAME_CHARS,
};
use crate::pattern::{string_like, string_like_ignoring_case};
use serde_json::Value;

/// Hint for claims matching expression errors.
pub(super) const EXPRESSION_HINT: &str = "write the expression exactly as Microsoft documents \
    it: terms `claims['sub'] matches 'pattern'` or `claims['job_workflow_ref'] eq 'value'`, one \
    space between lookup, operator and comparand, joined by ` and `, all in lower case, with \
    plain single quotes and no parentheses; GitHub flexible credentials can only use `sub` and \
    `job_workflow_ref`. (oidc-preflight accepts only the documented form: Entra may accept other \
    spellings, but what it answers to them is not documented)";

/// What a credential matches the token's subject with.
#[derive(Debug)]
enum SubjectMatcher {
    /// `subject`: exact, case-sensitive.
    Exact(String),
    /// `claimsMatchingExpression` (a flexible credential).
    Expression(Expression),
}

#[derive(Debug)]
struct Credential {
    /// `[i]` in an array, empty for a single object; paths are built on it.
    location: String,
    name: Option<String>,
    issuer: String,
    subject: SubjectMatcher,
    audiences: Vec<String>,
}

/// One or more credentials of the same application.
#[derive(Debug)]
pub(super) struct Credentials {
    items: Vec<Credential>,
}

impl Credentials {
    pub(super) fn parse(value: &Value) -> Result<Self, PolicyError> {
        let items = match value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| Credential::parse(item, format!("[{i}]")))
                .collect::<Result<Vec<_>, _>>()?,
            object @ Value::Object(_) => vec![Credential::parse(object, String::new())?],
            other => {
                return Err(PolicyError::invalid(
                    "the document",
                    format!(
                        "expected a credential object or an array of them, found {}",
                        kind(other)
                    ),
                ))
            }
        };
        if items.is_empty() {
            return Err(PolicyError::invalid(
                "the document",
                "the array holds no credential",
            ));
        }
        Ok(Credentials { items })
    }

    pub(super) fn evaluate(&self, claims: &Claims, report: &mut PolicyReport) -> bool {
        if self.items.len() > MAX_CREDENTIALS {
            report.warnings.push(Reason::new(
                PolicyReasonId::AzureTooManyCredentials,
                "the document",
                format!(
                    "{} credentials, but Entra allows at most {MAX_CREDENTIALS} per application",
                    self.items.len()
                ),
            ));
        }
        // Every credential is evaluated so that the report explains each one.
        let matched: Vec<bool> = self
            .items
            .iter()
            .map(|c| c.evaluate(claims, report))
            .collect();
        let allowed = matched.contains(&true);
        if !allowed && self.items.len() > 1 {
            report.reasons.push(Reason::new(
                PolicyReasonId::AzureNoMatchingCredential,
                "the document",
                format!(
                    "none of the {} credentials matches this token",
                    self.items.len()
                ),
            ));
        }
        allowed
    }
}

impl Credential {
    fn parse(value: &Value, location: String) -> Result<Self, PolicyError> {
        let fields = Fields::of(value, location.clone())?;
        let issuer = fields.str("issuer")?;
        check_length(&fields, "issuer", issuer, MAX_FIELD_CHARS)?;
        let subject = match (
            fields.opt_str("subject")?,
            fields.map.get("claimsMatchingExpression"),
        ) {
            (Some(subject), None | Some(Value::Null)) => {
                check_length(&fields, "subject", subject, MAX_FIELD_CHARS)?;
                SubjectMatcher::Exact(subject.to_owned())
            }
            (None, Some(expression)) if !expression.is_null() => {
                let Some(claims) = flexible_claims(issuer) else {
                    return Err(PolicyError::invalid(
                        fields.path("issuer"),
                        format!(
                            "Entra offers flexible credentials (claimsMatchingExpression) only \
                             for the issuers it documents: for GitHub `{GITHUB_ISSUER}` alone \
                             (not an enterprise-slug, GHE.com or GHES issuer), GitLab and \
                             Terraform Cloud; `{issuer}` is none of them"
                        ),
                    ));
                };
                SubjectMatcher::Expression(parse_expression(expression, &fields, claims)?)
            }
            (None, _) => {
                return Err(PolicyError::invalid(
                    fields.location.clone(),
                    "a credential needs `subject` or `claimsMatchingExpression`",
                ))
            }
            (Some(_), Some(_)) => {
                return Err(PolicyError::invalid(
                    fields.location.clone(),
                    "`subject` and `claimsMatchingExpression` cannot both be set",
                ))
            }
        };
        let audiences = fields
            .opt_strings("audiences")?
            .ok_or_else(|| fields.missing("audiences"))?;
        if audiences.is_empty() {
            return Err(PolicyError::invalid(
                fields.path("audiences"),
                "needs one audience, usually `api://AzureADTokenExchange`",
            ));
        }
        if audiences.len() > MAX_AUDIENCES {
            return Err(PolicyError::invalid(
                fields.path("audiences"),
                format!(
                    "Entra accepts exactly one audience per credential, this one lists {}: {}",
                    audiences.len(),
                    list(&audiences)
                ),
            ));
        }
        for audience in &audiences {
            check_length(&fields, "audiences", audience, MAX_FIELD_CHARS)?;
        }
        let name = fields.opt_str("name")?;
        if let Some(name) = name {
            check_length(&fields, "name", name, MAX_NAME_CHARS)?;
        }
        Ok(Credential {
            name: name.map(str::to_owned),
            issuer: issuer.to_owned(),
            subject,
            audiences,
            location,
        })
    }

    fn path(&self, field: &str) -> String {
        super::document::join(&self.location, field)
    }

    fn title(&self) -> String {
        let at = if self.location.is_empty() {
            String::from("the credential")
        } else {
            format!("credential {}", self.location)
        };
        match &self.name {
            Some(name) => format!("{at} `{name}`"),
            None => at,
        }
    }

    fn evaluate(&self, claims: &Claims, report: &mut PolicyReport) -> bool {
        let issuer = self.check_issuer(claims, report);
        let subject = match &self.subject {
            SubjectMatcher::Exact(subject) => self.check_subject(subject, claims, report),
            SubjectMatcher::Expression(expression) => {
                self.check_expression(expression, claims, report)
            }
        };
        let audience = self.check_audience(claims, report);
        let matched = issuer && subject && audience;
        let (id, verdict) = if matched {
            (PolicyReasonId::AzureCredentialMatches, "matches this token")
        } else {
            (
                PolicyReasonId::AzureCredentialNotMatched,
                "does not match this token",
            )
        };
        let location = if self.location.is_empty() {
            "the credential".to_owned()
        } else {
            self.location.clone()
        };
        report.reasons.push(Reason::new(
            id,
            location,
            format!("{} {verdict}", self.title()),
        ));
        matched
    }

    fn check_issuer(&self, claims: &Claims, report: &mut PolicyReport) -> bool {
        let iss = claims.str("iss").unwrap_or_default();
        if self.issuer == iss {
            report.reasons.push(Reason::new(
                PolicyReasonId::AzureIssuerMatched,
                self.path("issuer"),
                format!("issuer `{iss}` equals the token's `iss`"),
            ));
            return true;
        }
        let message = format!(
            "AADSTS700211: No matching federated identity record found for presented assertion \
             issuer '{iss}'. {} has the issuer `{}`",
            capitalized(&self.title()),
            self.issuer
        );
        let hint = issuer_hint(&self.issuer, iss);
        report.reasons.push(
            Reason::new(
                PolicyReasonId::AzureIssuerMismatch,
                self.path("issuer"),
                message,
            )
            .with_hint(hint),
        );
        false
    }

    fn check_subject(&self, subject: &str, claims: &Claims, report: &mut PolicyReport) -> bool {
        let sub = claims.subject().unwrap_or_default();
        let location = self.path("subject");
        let owner = capitalized(&self.title());
        let reason = if subject == sub {
            Reason::new(
                PolicyReasonId::AzureSubjectMatched,
                location,
                format!("subject `{subject}` equals the token's `sub`"),
            )
        } else if subject.to_lowercase() == sub.to_lowercase() {
            Reason::new(
                PolicyReasonId::AzureCaseOnlyMismatch,
                location,
                format!(
                    "AADSTS7002138: No matching federated identity record found for presented \
                     assertion subject '{sub}'. The subject matches with case-insensitive \
                     comparison, but not with case-sensitive comparison. {owner} has the \
                     subject `{subject}`, which differs only in case"
                ),
            )
            .with_hint(format!(
                "GitHub treats owner, repository and environment names case-insensitively, \
                 Entra compares subjects case-sensitively: copy the token's exact case, set the \
                 subject to `{sub}`"
            ))
        } else {
            let first = subject_form_hint(&[subject.to_owned()], sub)
                .unwrap_or_else(|| format!("run the job where `sub` is `{subject}`"));
            Reason::new(
                PolicyReasonId::AzureSubjectMismatch,
                location,
                format!(
                    "AADSTS700213: No matching federated identity record found for presented \
                     assertion subject '{sub}'. {owner} has the subject `{subject}`"
                ),
            )
            .with_hint(then_widening(
                &first,
                &format!(
                    "add a credential with subject `{sub}` (a credential matches one subject \
                     exactly), or a flexible credential with `claims['sub'] matches '...'`"
                ),
            ))
        };
        let matched = reason.id == PolicyReasonId::AzureSubjectMatched;
        report.reasons.push(reason);
        matched
    }

    fn check_expression(
        &self,
        expression: &Expression,
        claims: &Claims,
        report: &mut PolicyReport,
    ) -> bool {
        let location = self.path("claimsMatchingExpression.value");
        let results: Vec<bool> = expression
            .terms
            .iter()
            .map(|term| {
                let reason = evaluate_term(term, claims, &location);
                let matched = reason.id == PolicyReasonId::AzureExpressionMatched;
                report.reasons.push(reason);
                matched
            })
            .collect();
        !results.contains(&false)
    }

    fn check_audience(&self, claims: &Claims, report: &mut PolicyReport) -> bool {
        let presented = claims.values("aud").unwrap_or_default();
        let location = self.path("audiences");
        if let Some(aud) = presented.iter().find(|a| self.audiences.contains(a)) {
            report.reasons.push(Reason::new(
                PolicyReasonId::AzureAudienceMatched,
                location,
                format!(
                    "the token's audience `{aud}` is in {}",
                    list(&self.audiences)
                ),
            ));
            return true;
        }
        let shown = claims.text("aud").unwrap_or_default();
        report.reasons.push(
            Reason::new(
                PolicyReasonId::AzureAudienceMismatch,
                location,
                format!(
                    "AADSTS700212: No matching federated identity record found for presented \
                     assertion audience '{shown}'. {} has the audiences {}",
                    capitalized(&self.title()),
                    list(&self.audiences)
                ),
            )
            .with_hint(format!(
                "request the token with audience `{}` (azure/login requests \
                 `api://AzureADTokenExchange` by default; set its `audience` input)",
                self.audiences
                    .first()
                    .map_or("api://AzureADTokenExchange", String::as_str)
            )),
        );
        false
    }
}

/// Refuses a field longer than Entra accepts.
fn check_length(
    fields: &Fields<'_>,
    field: &str,
    value: &str,
    limit: usize,
) -> Result<(), PolicyError> {
    let length = value.chars().count();
    if length > limit {
        return Err(PolicyError::invalid(
            fields.path(field),
            format!("{length} characters, but Entra accepts at most {limit}"),
        ));
    }
    Ok(())
}

fn parse_expression(
    value: &Value,
    fields: &Fields<'_>,
    claims: &[&str],
) -> Result<Expression, PolicyError> {
    let expression = Fields::of(value, fields.path("claimsMatchingExpression"))?;
    if let Some(version) = expression.map.get("languageVersion") {
        if version.as_u64() != Some(1) {
            return Err(PolicyError::invalid(
                expression.path("languageVersion"),
                format!("only language version 1 exists, found {version}"),
            ));
        }
    }
    let source = expression.str("value")?;
    expression::parse(source, &expression.path("value"), claims)
}

fn evaluate_term(term: &Term, claims: &Claims, location: &str) -> Reason {
    let Some(actual) = claims.str(&term.claim) else {
        return Reason::new(
            PolicyReasonId::AzureExpressionFailed,
            location,
            format!("`{}`: the token has no `{}` claim", term.text, term.claim),
        );
    };
    let (matched, case_only, verb, negated_verb) = match term.operator {
        Operator::Matches => (
            string_like(&term.value, actual),
            string_like_ignoring_case(&term.value, actual),
            "matches",
            "match",
        ),
        Operator::Eq => (
            term.value == actual,
            term.value.to_lowercase() == actual.to_lowercase(),
            "equals",
            "equal",
        ),
    };
    if matched {
        return Reason::new(
            PolicyReasonId::AzureExpressionMatched,
            location,
            format!("`{}`: `{actual}` {verb} `{}`", term.text, term.value),
        );
    }
    if case_only {
        return Reason::new(
            PolicyReasonId::AzureExpressionFailed,
            location,
            format!(
                "`{}`: the token's {} `{actual}` differs only in case from `{}`",
                term.text, term.claim, term.value
            ),
        )
        .with_hint(
            "GitHub treats owner and repository names case-insensitively, Entra compares \
             case-sensitively: copy the token's exact case into the comparand",
        );
    }
    let first = match term.claim.as_str() {
        "sub" => subject_form_hint(std::slice::from_ref(&term.value), actual),
        _ => None,
    }
    .unwrap_or_else(|| format!("run the job where `{}` {verb} `{}`", term.claim, term.value));
    Reason::new(
        PolicyReasonId::AzureExpressionFailed,
        location,
        format!(
            "`{}`: the token's {} `{actual}` does not {negated_verb} `{}`",
            term.text, term.claim, term.value
        ),
    )
    .with_hint(then_widening(
        &first,
        &format!("change the comparand so that it covers `{actual}`"),
    ))
}

/// `the credential` -> `The credential`, for the start of a sentence.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn issuer_hint(configured: &str, iss: &str) -> String {
    if configured.trim_end_matches('/') == iss {
        return format!(
            "remove the trailing slash: Entra compares the issuer exactly, and GitHub's is `{iss}`"
        );
    }
    if iss.starts_with(&format!("{}/", configured.trim_end_matches('/'))) {
        return format!(
            "the token comes from an enterprise issuer: set the credential's issuer to `{iss}`"
        );
    }
    format!("set the credential's issuer to `{iss}`")
}

#[cfg(test)]
mod tests {
    use crate::policy::testing::token;
    use crate::policy::{evaluate, parse, PolicyError, PolicyFormat, PolicyReport};
    use serde_json::{json, Value};

    const ISSUER: &str = "https://token.actions.githubusercontent.com";
    const AUDIENCE: &str = "api://AzureADTokenExchange";

    /// A credential as in Entra's documented examples for GitHub.
    fn credential(subject: &str) -> Value {
        json!({
            "name": "example",
            "issuer": ISSUER,
            "subject": subject,
            "description": "Testing",
            "audiences": [AUDIENCE],
        })
    }

    fn flexible(expression: &str) -> Value {
        json!({
            "name": "flexible",
            "issuer": ISSUER,
            "claimsMatchingExpression": {"value": expression, "languageVersion": 1},
            "audiences": [AUDIENCE],
        })
    }

    fn run(document: &Value, overrides: Value) -> PolicyReport {
        let policy = parse(&document.to_string(), None).unwrap();
        assert_eq!(policy.format(), PolicyFormat::Azure);
        let mut overrides = overrides;
        if let Some(map) = overrides.as_object_mut() {
            map.entry("aud").or_insert(json!(AUDIENCE));
        }
        evaluate(&policy, &token(overrides))
    }

    #[test]
    fn a_refused_expression_says_the_refusal_is_the_documented_grammar_not_entras_answer() {
        let doc = r#"{"issuer": "https://token.actions.githubusercontent.com", "claimsMatchingExpression": {"value": "claims['sub'] MATCHES 'x'", "languageVersion": 1}, "audiences": ["api://AzureADTokenExchange"]}"#;
        let err = crate::policy::parse(doc, Some(PolicyFormat::Azure)).unwrap_err();
        assert!(
            err.hint().ends_with("(oidc-preflight accepts only the documented form: Entra may accept other spellings, but what it answers to them is not documented)"),
            "{}",
            err.hint()
        );
    }

    #[test]
    fn documented_credentials() {
        let env = "repo:octo-org/octo-repo:environment:prod";
        let branch = "repo:octo-org/octo-repo:ref:refs/heads/main";
        let pr = "repo:octo-org/octo-repo:pull_request";
        let tag = "repo:octo-org/octo-repo:ref:refs/tags/v1.0.0";
        let cases: &[(&str, Value, Value, bool, &str, &str)] = &[
            (
                "environment",
                credential(env),
                json!({}),
                true,
                "azure-credential-matches",
                "the credential",
            ),
            (
                "environment subject",
                credential(env),
                json!({}),
                true,
                "azure-subject-matched",
                "subject",
            ),
            (
                "branch credential, job with environment",
                credential(branch),
                json!({}),
                false,
                "azure-subject-mismatch",
                "subject",
            ),
            (
                "branch",
                credential(branch),
                json!({"sub": branch}),
                true,
                "azure-credential-matches",
                "the credential",
            ),
            (
                "pull request",
                credential(pr),
                json!({"sub": pr}),
                true,
                "azure-subject-matched",
                "subject",
            ),
            (
                "tag",
                credential(tag),
                json!({"sub": tag}),
                true,
                "azure-subject-matched",
                "subject",
            ),
            (
                "pull request credential, branch push",
                credential(pr),
                json!({"sub": branch}),
                false,
                "azure-subject-mismatch",
                "subject",
            ),
            (
                "case-only difference",
                credential("repo:Octo-Org/octo-repo:environment:Prod"),
                json!({}),
                false,
                "azure-case-only-mismatch",
                "subject",
            ),
            (
                "issuer with trailing slash",
                json!({"issuer": format!("{ISSUER}/"), "subject": env, "audiences": [AUDIENCE]}),
                json!({}),
                false,
                "azure-issuer-mismatch",
                "issuer",
            ),
            (
                "enterprise issuer",
                credential(env),
                json!({"iss": format!("{ISSUER}/octo-enterprise")}),
                false,
                "azure-issuer-mismatch",
                "issuer",
            ),
            (
                "default GitHub audience",
                credential(env),
                json!({"aud": "https://github.com/octo-org"}),
                false,
                "azure-audience-mismatch",
                "audiences",
            ),
            (
                "audience array",
                credential(env),
                json!({"aud": ["x", AUDIENCE]}),
                true,
                "azure-audience-matched",
                "audiences",
            ),
            (
                "no sub claim",
                credential(env),
                json!({"sub": null}),
                false,
                "azure-subject-mismatch",
                "subject",
            ),
        ];
        for (name, document, overrides, allowed, id, location) in cases {
            let report = run(document, overrides.clone());
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
    fn entra_messages_and_hints() {
        let report = run(
            &credential("repo:Octo-Org/octo-repo:environment:prod"),
            json!({}),
        );
        let reason = report
            .reasons
            .iter()
            .find(|r| r.id.as_str() == "azure-case-only-mismatch")
            .unwrap();
        assert!(
            reason.message.starts_with("AADSTS7002138: "),
            "{}",
            reason.message
        );
        assert!(reason.message.contains(
            "The subject matches with case-insensitive comparison, but not with case-sensitive comparison."
        ));
        let report = run(
            &credential("repo:octo-org/octo-repo:ref:refs/heads/main"),
            json!({}),
        );
        let reason = report
            .reasons
            .iter()
            .find(|r| r.id.as_str() == "azure-subject-mismatch")
            .unwrap();
        assert!(reason.message.starts_with(
            "AADSTS700213: No matching federated identity record found for presented assertion subject 'repo:octo-org/octo-repo:environment:prod'"
        ));
        let trailing =
            json!({"issuer": format!("{ISSUER}/"), "subject": "x", "audiences": [AUDIENCE]});
        let report = run(&trailing, json!({}));
        let reason = report
            .reasons
            .iter()
            .find(|r| r.id.as_str() == "azure-issuer-mismatch")
            .unwrap();
        assert!(reason.message.starts_with(&format!(
            "AADSTS700211: No matching federated identity record found for presented assertion issuer '{ISSUER}'"
        )));
        assert!(reason
            .hint
            .as_deref()
            .unwrap_or_default()
            .starts_with("remove the trailing slash"));
        let report = run(
            &credential("x"),
            json!({"aud": "https://github.com/octo-org"}),
        );
        let reason = report
            .reasons
            .iter()
            .find(|r| r.id.as_str() == "azure-audience-mismatch")
            .unwrap();
        assert!(reason.message.starts_with(
            "AADSTS700212: No matching federated identity record found for presented assertion audience 'https://github.com/octo-org'"
        ));
    }

    #[test]
    fn flexible_expressions() {
        let location = "claimsMatchingExpression.value";
        let cases: &[(&str, Value, bool, &str)] = &[
            ("claims['sub'] matches 'repo:octo-org/octo-repo:environment:*'", json!({}), true, "azure-expression-matched"),
            ("claims['sub'] matches 'repo:octo-org/octo-repo:ref:refs/heads/*'", json!({}), false, "azure-expression-failed"),
            ("claims['sub'] matches 'repo:octo-org/octo-repo:ref:refs/heads/*'", json!({"sub": "repo:octo-org/octo-repo:ref:refs/heads/feature/x"}), true, "azure-expression-matched"),
            ("claims['sub'] eq 'repo:octo-org/octo-repo:environment:prod'", json!({}), true, "azure-expression-matched"),
            ("claims['sub'] eq 'repo:octo-org/octo-repo:environment:PROD'", json!({}), false, "azure-expression-failed"),
            ("claims['sub'] matches 'repo:octo-org/*' and claims['job_workflow_ref'] matches 'octo-org/octo-repo/.github/workflows/deploy.yml@*'", json!({}), true, "azure-expression-matched"),
            ("claims['sub'] matches 'repo:octo-org/*' and claims['job_workflow_ref'] eq 'octo-org/shared/.github/workflows/deploy.yml@refs/heads/main'", json!({}), false, "azure-expression-failed"),
            ("claims['sub'] matches 'repo:octo-org/octo-repo:environment:pro?'", json!({}), true, "azure-expression-matched"),
            ("claims['sub'] matches 'repo:Octo-Org/octo-repo:environment:*'", json!({}), false, "azure-expression-failed"),
            ("claims['job_workflow_ref'] matches '*'", json!({"job_workflow_ref": null}), false, "azure-expression-failed"),
        ];
        for (expression, overrides, allowed, id) in cases {
            let report = run(&flexible(expression), overrides.clone());
            assert_eq!(report.allowed, *allowed, "{expression}: {report:#?}");
            assert!(
                report
                    .reasons
                    .iter()
                    .any(|r| r.id.as_str() == *id && r.location == location),
                "{expression}: no {id}: {report:#?}"
            );
        }
    }

    #[test]
    fn arrays_of_credentials_match_when_any_does() {
        let list = json!([
            credential("repo:octo-org/octo-repo:ref:refs/heads/main"),
            credential("repo:octo-org/octo-repo:environment:prod"),
        ]);
        let report = run(&list, json!({}));
        assert!(report.allowed);
        assert!(report
            .reasons
            .iter()
            .any(|r| r.id.as_str() == "azure-subject-mismatch" && r.location == "[0].subject"));
        assert!(report
            .reasons
            .iter()
            .any(|r| r.id.as_str() == "azure-credential-matches" && r.location == "[1]"));
        let report = run(
            &list,
            json!({"sub": "repo:octo-org/octo-repo:pull_request"}),
        );
        assert!(!report.allowed);
        assert_eq!(
            report.reasons.last().map(|r| r.id.as_str()),
            Some("azure-no-matching-credential")
        );
        let many = Value::Array((0..21).map(|i| credential(&format!("s{i}"))).collect());
        assert_eq!(
            run(&many, json!({})).warnings[0].id.as_str(),
            "azure-too-many-credentials"
        );
    }

    #[test]
    fn example_files() {
        let exact = include_str!("../../examples/policies/azure-federated-credential.json");
        let flexible = include_str!("../../examples/policies/azure-flexible-credential.json");
        let aud = json!({"aud": AUDIENCE});
        let staging =
            json!({"aud": AUDIENCE, "sub": "repo:octo-org/octo-repo:environment:staging"});
        let other_workflow = json!({"aud": AUDIENCE,
            "job_workflow_ref": "octo-org/octo-repo/.github/workflows/ci.yml@refs/heads/main"});
        let cases: &[(&str, &Value, bool)] = &[
            (exact, &aud, true),
            (exact, &staging, false),
            (flexible, &aud, true),
            (flexible, &staging, true),
            (flexible, &other_workflow, false),
        ];
        for (text, overrides, allowed) in cases {
            let policy = parse(text, None).unwrap();
            let report = evaluate(&policy, &token((*overrides).clone()));
            assert_eq!(report.allowed, *allowed, "{overrides}: {report:#?}");
        }
    }

    #[test]
    fn malformed_credentials_are_errors() {
        let cases: &[(&str, &str)] = &[
            ("{\"issuer\": \"x\", \"subject\": ", "the document is not valid JSON: EOF while parsing a value at line 1 column 27"),
            ("{\"issuer\": \"x\", \"subject\": \"y\"}", "audiences: required field is missing"),
            ("{\"issuer\": \"x\", \"subject\": \"y\", \"audiences\": []}", "audiences: needs one audience, usually `api://AzureADTokenExchange`"),
            ("{\"issuer\": \"x\", \"subject\": 1, \"audiences\": [\"a\"]}", "subject: expected a string, found a number"),
            ("[{\"issuer\": \"x\", \"subject\": \"y\", \"audiences\": \"a\"}, 3]", "[1]: expected an object, found a number"),
            ("{\"issuer\": \"x\", \"subject\": \"y\", \"claimsMatchingExpression\": {\"value\": \"\"}, \"audiences\": [\"a\"]}", "`subject` and `claimsMatchingExpression` cannot both be set"),
            ("{\"issuer\": \"https://token.actions.githubusercontent.com\", \"claimsMatchingExpression\": {\"value\": \"claims['sub'] eq\", \"languageVersion\": 1}, \"audiences\": [\"a\"]}", "claimsMatchingExpression.value: syntax error at character 17: expected one space and a single-quoted comparand, found the end of the expression"),
            ("{\"issuer\": \"https://token.actions.githubusercontent.com\", \"claimsMatchingExpression\": {\"value\": \"claims['sub'] eq 'a'\", \"languageVersion\": 2}, \"audiences\": [\"a\"]}", "claimsMatchingExpression.languageVersion: only language version 1 exists, found 2"),
            ("{\"issuer\": \"https://token.actions.githubusercontent.com\", \"claimsMatchingExpression\": {\"value\": \"claims['ref'] eq 'a'\"}, \"audiences\": [\"a\"]}", "claimsMatchingExpression.value: claim `ref` at character 9 cannot be used in a claims matching expression for this issuer: Entra documents `sub` and `job_workflow_ref` for GitHub's issuer, `sub` alone for GitLab and Terraform Cloud"),
            ("{\"issuer\": \"https://token.actions.githubusercontent.com/octo-enterprise\", \"claimsMatchingExpression\": {\"value\": \"claims['sub'] eq 'a'\"}, \"audiences\": [\"a\"]}", "issuer: Entra offers flexible credentials (claimsMatchingExpression) only for the issuers it documents: for GitHub `https://token.actions.githubusercontent.com` alone (not an enterprise-slug, GHE.com or GHES issuer), GitLab and Terraform Cloud; `https://token.actions.githubusercontent.com/octo-enterprise` is none of them"),
            ("{\"issuer\": \"https://gitlab.com\", \"claimsMatchingExpression\": {\"value\": \"claims['job_workflow_ref'] eq 'a'\"}, \"audiences\": [\"a\"]}", "claimsMatchingExpression.value: claim `job_workflow_ref` at character 9 cannot be used in a claims matching expression for this issuer: Entra documents `sub` and `job_workflow_ref` for GitHub's issuer, `sub` alone for GitLab and Terraform Cloud"),
            ("{\"issuer\": \"x\", \"subject\": \"y\", \"audiences\": [\"api://AzureADTokenExchange\", \"sts.amazonaws.com\"]}", "audiences: Entra accepts exactly one audience per credential, this one lists 2: [`api://AzureADTokenExchange`, `sts.amazonaws.com`]"),
            ("{\"issuer\": \"https://token.actions.githubusercontent.com\", \"claimsMatchingExpression\": \"claims['sub'] eq 'a'\", \"audiences\": [\"a\"]}", "claimsMatchingExpression: expected an object, found a string"),
        ];
        for (text, want) in cases {
            let err = parse(text, Some(PolicyFormat::Azure)).unwrap_err();
            let got = err.to_string();
            assert!(got.ends_with(want), "{text}: {got}");
            assert!(!err.hint().is_empty());
        }
        assert!(matches!(
            parse(
                "{\"issuer\": \"x\", \"audiences\": [\"a\"], \"subject\": null}",
                Some(PolicyFormat::Azure)
            ),
            Err(PolicyError::Invalid { .. })
        ));
    }

    /// Entra's documented field limits, and which issuers take a flexible credential.
    #[test]
    fn documented_limits_and_flexible_issuers() {
        let exact = |subject: &str, name: &str| {
            json!({"name": name, "issuer": ISSUER, "subject": subject, "audiences": [AUDIENCE]})
                .to_string()
        };
        assert!(parse(&exact(&"s".repeat(600), "n"), Some(PolicyFormat::Azure)).is_ok());
        let err = parse(&exact(&"s".repeat(601), "n"), Some(PolicyFormat::Azure)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "subject: 601 characters, but Entra accepts at most 600"
        );
        let err = parse(&exact("s", &"n".repeat(121)), Some(PolicyFormat::Azure)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "name: 121 characters, but Entra accepts at most 120"
        );
        let flexible_for = |issuer: &str| {
            json!({"issuer": issuer, "audiences": [AUDIENCE],
                "claimsMatchingExpression": {"value": "claims['sub'] matches 'repo:*'", "languageVersion": 1}})
            .to_string()
        };
        for (issuer, accepted) in [
            (ISSUER, true),
            ("https://gitlab.com", true),
            ("https://gitlab.example.ca", true),
            ("https://app.eu.terraform.io", true),
            (
                "https://token.actions.githubusercontent.com/octo-enterprise",
                false,
            ),
            ("https://token.actions.octo.ghe.com", false),
            ("https://ghes.example.com/_services/token", false),
            ("https://token.actions.githubusercontent.com/", false),
            ("https://gitlab.a.b.com", false),
        ] {
            assert_eq!(
                parse(&flexible_for(issuer), Some(PolicyFormat::Azure)).is_ok(),
                accepted,
                "{issuer}"
            );
        }
    }

    /// Hints: the workflow-side fix first, what widens the credential last and labelled; a
    /// case-only difference says so and asks for the token's exact case.
    #[test]
    fn hints_put_the_workflow_fix_first() {
        let report = run(
            &credential("repo:octo-org/octo-repo:ref:refs/heads/main"),
            json!({}),
        );
        let hint = report
            .reasons
            .iter()
            .find(|r| r.id.as_str() == "azure-subject-mismatch")
            .and_then(|r| r.hint.clone())
            .unwrap_or_default();
        assert!(
            hint.starts_with("the job declares `environment: prod`"),
            "{hint}"
        );
        assert!(
            hint.contains("; or, which widens who can assume the role: add a credential"),
            "{hint}"
        );
        let report = run(
            &credential("repo:octo-org/octo-repo:environment:prod"),
            json!({"sub": "repo:octo-org/octo-repo:ref:refs/heads/main", "environment": null}),
        );
        let hint = report
            .reasons
            .iter()
            .find(|r| r.id.as_str() == "azure-subject-mismatch")
            .and_then(|r| r.hint.clone())
            .unwrap_or_default();
        assert!(
            hint.starts_with("the document expects the environment form (`environment:prod`): declare `environment: prod` on the job"),
            "{hint}"
        );
        let report = run(
            &credential("repo:Octo-Org/octo-repo:environment:prod"),
            json!({}),
        );
        let reason = report
            .reasons
            .iter()
            .find(|r| r.id.as_str() == "azure-case-only-mismatch")
            .unwrap();
        assert!(
            reason.message.ends_with("which differs only in case"),
            "{}",
            reason.message
        );
        assert!(reason
            .hint
            .as_deref()
            .unwrap_or_default()
            .ends_with("copy the token's exact case, set the subject to `repo:octo-org/octo-repo:environment:prod`"));
    }

    #[test]
    fn a_matches_pattern_past_the_cap_is_refused() {
        let credential = |pattern: &str| {
            serde_json::json!({
                "issuer": "https://token.actions.githubusercontent.com",
                "audiences": ["api://AzureADTokenExchange"],
                "claimsMatchingExpression": {
                    "value": format!("claims['sub'] matches '{pattern}'"),
                    "languageVersion": 1
                }
            })
            .to_string()
        };
        let cap = crate::pattern::MAX_PATTERN_CHARS;
        let at_cap = format!("repo:*{}", "?".repeat(cap - 6));
        assert!(parse(&credential(&at_cap), Some(PolicyFormat::Azure)).is_ok());
        let over = format!("repo:*{}", "?".repeat(cap));
        let err = parse(&credential(&over), Some(PolicyFormat::Azure)).unwrap_err();
        let got = err.to_string();
        assert!(got.starts_with("claimsMatchingExpression.value: "), "{got}");
        assert!(
            got.contains(&format!("longer than the {cap} characters")),
            "{got}"
        );
    }
}
