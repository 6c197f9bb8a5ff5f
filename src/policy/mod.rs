//! Evaluating real trust policy documents against a token's claims: an AWS IAM role trust
//! policy, Azure federated identity credentials, a GCP workload identity pool provider, or a
//! HashiCorp Vault JWT auth role.
//!
//! Each cloud's matching rules are emulated as documented, so a report says which statement,
//! credential or condition refuses the token and why, before the cloud call fails.
//!
//! ```
//! use oidc_preflight::{Claims, Policy};
//! use oidc_preflight::policy::PolicyReasonId;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let policy = Policy::parse(
//!     r#"{"issuer": "https://token.actions.githubusercontent.com",
//!         "subject": "repo:octo-org/octo-repo:environment:prod",
//!         "audiences": ["api://AzureADTokenExchange"]}"#,
//!     None,
//! )?;
//! let claims: serde_json::Value = serde_json::json!({
//!     "iss": "https://token.actions.githubusercontent.com",
//!     "sub": "repo:octo-org/octo-repo:ref:refs/heads/main",
//!     "aud": "api://AzureADTokenExchange",
//! });
//! let claims = Claims::from(claims.as_object().cloned().unwrap_or_default());
//! let report = policy.evaluate(&claims);
//! assert!(!report.allowed);
//! let refusal = report.reasons.iter().find(|r| r.id == PolicyReasonId::AzureSubjectMismatch);
//! assert_eq!(refusal.map(|r| r.location.as_str()), Some("subject"));
//! # Ok(())
//! # }
//! ```

mod aws;
mod azure;
mod document;
mod gcp;
mod vault;

use crate::claims::Claims;
pub use crate::findings::PolicyReasonId;
use serde_json::Value;
use thiserror::Error;

/// Which kind of trust document a text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyFormat {
    /// An AWS IAM role trust policy (the JSON pasted into IAM).
    Aws,
    /// One or more Azure Entra federated identity credentials.
    Azure,
    /// A GCP workload identity pool provider (`gcloud ... providers describe`).
    Gcp,
    /// A HashiCorp Vault JWT auth role (`vault read -format=json auth/jwt/role/NAME`).
    Vault,
}

impl std::fmt::Display for PolicyFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PolicyFormat::Aws => "AWS IAM role trust policy",
            PolicyFormat::Azure => "Azure federated identity credential",
            PolicyFormat::Gcp => "GCP workload identity pool provider",
            PolicyFormat::Vault => "HashiCorp Vault JWT auth role",
        })
    }
}

/// A parsed trust document, ready to evaluate against any number of tokens.
#[derive(Debug)]
pub struct Policy {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Aws(aws::TrustPolicy),
    Azure(azure::Credentials),
    Gcp(Box<gcp::Provider>),
    Vault(vault::Role),
}

impl Policy {
    /// Parses a trust document ([`parse`]): `None` detects the format.
    pub fn parse(text: &str, format: Option<PolicyFormat>) -> Result<Self, PolicyError> {
        parse(text, format)
    }

    /// Evaluates the document against a token's claims as its cloud would ([`evaluate`]).
    pub fn evaluate(&self, claims: &Claims) -> PolicyReport {
        evaluate(self, claims)
    }

    /// Which kind of document this is.
    pub fn format(&self) -> PolicyFormat {
        match self.inner {
            Inner::Aws(_) => PolicyFormat::Aws,
            Inner::Azure(_) => PolicyFormat::Azure,
            Inner::Gcp(_) => PolicyFormat::Gcp,
            Inner::Vault(_) => PolicyFormat::Vault,
        }
    }
}

/// Why a document could not be read as a trust policy. Each variant names where the problem is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    /// The text is none of the formats.
    #[error("the document is not a recognised trust policy")]
    UnknownFormat,
    /// The text is not valid JSON.
    #[error("the document is not valid JSON: {message}")]
    Json {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// serde_json's description, which includes the position.
        message: String,
    },
    /// The text is not valid YAML.
    #[error("the document is not valid YAML: {message} at line {line} column {column}")]
    Yaml {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the YAML parser found wrong.
        message: String,
    },
    /// A field is missing, has the wrong type or a value the cloud would refuse.
    #[error("{location}: {message}")]
    Invalid {
        /// Where in the document, e.g. `Statement[1].Effect`.
        location: String,
        /// What is wrong there.
        message: String,
    },
    /// An IAM condition operator that does not exist.
    #[error("{location}: unknown condition operator `{operator}`")]
    UnknownOperator {
        /// Where in the document, e.g. `Statement[0].Condition`.
        location: String,
        /// The operator as written.
        operator: String,
    },
    /// A syntax error in an Azure claims matching expression.
    #[error("{location}: syntax error at character {position}: {message}")]
    Expression {
        /// Where in the document.
        location: String,
        /// 1-based character position in the expression.
        position: usize,
        /// What was expected.
        message: String,
    },
    /// An Azure claims matching expression uses a claim Entra does not offer for GitHub.
    #[error("{location}: claim `{claim}` at character {position} cannot be used in a claims matching expression for this issuer: Entra documents `sub` and `job_workflow_ref` for GitHub's issuer, `sub` alone for GitLab and Terraform Cloud")]
    UnsupportedClaim {
        /// Where in the document.
        location: String,
        /// The claim name as written.
        claim: String,
        /// 1-based character position in the expression.
        position: usize,
    },
    /// A CEL expression in a GCP provider does not parse.
    #[error("{location}: CEL syntax error at line {line} column {column}: {message}")]
    Cel {
        /// Where in the document, e.g. `attributeCondition`.
        location: String,
        /// 1-based line in the expression.
        line: usize,
        /// 1-based column in the expression.
        column: usize,
        /// The CEL parser's message.
        message: String,
    },
    /// A GCP expression longer than GCP accepts.
    #[error("{location}: the expression is {length} characters long, GCP accepts at most {limit}")]
    TooLong {
        /// Where in the document.
        location: String,
        /// Its length in characters.
        length: usize,
        /// GCP's limit.
        limit: usize,
    },
}

impl PolicyError {
    /// What the user can do about it.
    pub fn hint(&self) -> String {
        match self {
            PolicyError::UnknownFormat => "pass an AWS trust policy (with `Statement`), an Azure \
                federated credential (with `issuer` and `subject` or `claimsMatchingExpression`) \
                a GCP provider (with `attributeMapping` and `oidc`) or a Vault JWT role (`vault read \
                -format=json auth/jwt/role/NAME`), or name the format"
                .into(),
            PolicyError::Json { .. } | PolicyError::Yaml { .. } => {
                "fix the syntax at the position given; copy the document from the cloud console \
                 or CLI output unchanged"
                    .into()
            }
            PolicyError::Invalid { .. } => {
                "correct the field named; the message says what it must hold".into()
            }
            PolicyError::UnknownOperator { .. } => aws::OPERATOR_HINT.into(),
            PolicyError::Expression { .. } | PolicyError::UnsupportedClaim { .. } => {
                azure::EXPRESSION_HINT.into()
            }
            PolicyError::Cel { .. } => "attribute mappings and conditions are CEL; check quotes \
                and parentheses at the position given"
                .into(),
            PolicyError::TooLong { .. } => "move checks into attribute mappings or IAM \
                bindings on `principalSet://` attributes to shorten the condition"
                .into(),
        }
    }

    pub(crate) fn invalid(location: impl Into<String>, message: impl Into<String>) -> Self {
        PolicyError::Invalid {
            location: location.into(),
            message: message.into(),
        }
    }
}

/// One explanation in a report: why something allows, refuses or deserves a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// Stable identifier, shown kebab-case, e.g. `aws-condition-failed`.
    pub id: PolicyReasonId,
    /// Where in the document, e.g.
    /// `Statement[0].Condition.StringLike.token.actions.githubusercontent.com:sub`.
    pub location: String,
    /// What was compared and with what result. Claim values appear raw: escape for display.
    pub message: String,
    /// What to change, when there is something to suggest.
    pub hint: Option<String>,
    /// Whether this reason is one cause of a refusal, to be reported as one finding. A reason
    /// that holds is none; nor is a summary of other reasons (`aws-statement-not-matched`,
    /// `aws-implicit-deny`, `azure-credential-not-matched`, `azure-no-matching-credential`)
    /// nor a part of the document that does not decide the outcome (a condition of a Deny
    /// that does not fire, an Allow that an explicit Deny overrides). Evaluators adjust it
    /// where they know more than the id says.
    pub cause: bool,
}

impl Reason {
    pub(crate) fn new(id: PolicyReasonId, location: impl Into<String>, message: String) -> Self {
        Reason {
            id,
            location: location.into(),
            message,
            hint: None,
            cause: !id.holds() && !SUMMARIES.contains(&id),
        }
    }

    /// Marks this reason as one cause of the refusal, or not.
    pub(crate) fn with_cause(mut self, cause: bool) -> Self {
        self.cause = cause;
        self
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Whether this reason says a part of the document holds for the token (matched, passed,
    /// allows) rather than why it does not.
    pub fn holds(&self) -> bool {
        self.id.holds()
    }
}

/// The ids of reasons that sum up others (a statement or credential as a whole, the
/// document's verdict): a finding names the reasons under them instead, unless there are none.
const SUMMARIES: &[PolicyReasonId] = &[
    PolicyReasonId::AwsStatementNotMatched,
    PolicyReasonId::AwsImplicitDeny,
    PolicyReasonId::AzureCredentialNotMatched,
    PolicyReasonId::AzureNoMatchingCredential,
];

/// One document's verdict: the path as given, and its evaluation.
#[derive(Debug, Clone)]
pub struct PolicyOutcome {
    /// The path as the user gave it.
    pub path: String,
    /// The evaluation.
    pub report: PolicyReport,
}

/// The outcome of evaluating one document against one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyReport {
    /// The kind of document evaluated.
    pub format: PolicyFormat,
    /// Whether the cloud would accept the token.
    pub allowed: bool,
    /// Per statement, credential or condition: what matched and what refused. Statements and
    /// credentials come in document order; conditions within one by operator and key.
    pub reasons: Vec<Reason>,
    /// Things that do not decide the outcome but are likely mistakes or could not be evaluated.
    pub warnings: Vec<Reason>,
}

impl PolicyReport {
    /// The reasons that refuse: the causes the evaluator marked, or, should it mark none,
    /// every reason that does not hold (so a refusal is never without one).
    pub fn refusing(&self) -> Vec<&Reason> {
        let causes: Vec<&Reason> = self.reasons.iter().filter(|r| r.cause).collect();
        if causes.is_empty() {
            self.reasons.iter().filter(|r| !r.holds()).collect()
        } else {
            causes
        }
    }

    /// The reasons then the warnings, at most `max` of them, and how many more there are:
    /// what the step log and the job summary list.
    pub fn listed(&self, max: usize) -> (impl Iterator<Item = &Reason>, usize) {
        let all = self.reasons.len() + self.warnings.len();
        let listed = self.reasons.iter().chain(&self.warnings).take(max);
        (listed, all.saturating_sub(max))
    }
}

/// Evaluates one GCP CEL expression over `assertion` (the claims) as an attribute mapping is
/// evaluated: the CEL type name and the value (strings raw), or the error. Not an API: the
/// differential test against Google's cel-cpp uses it (`examples/cel_eval.rs`,
/// `scripts/cel-differential.sh`).
#[doc(hidden)]
pub fn evaluate_gcp_expression(
    source: &str,
    claims: &serde_json::Map<String, Value>,
) -> Result<(String, String), String> {
    gcp::evaluate_expression(source, claims)
}

/// Guesses the format from the document's keys. Works on unparseable text too, so that
/// [`parse`] can then point at the syntax error.
pub fn detect_format(text: &str) -> Option<PolicyFormat> {
    detect(text, document::parse_json_or_yaml(text).as_ref().ok())
}

/// Detection on the parsed document when there is one, else on the raw text.
fn detect(text: &str, parsed: Option<&Value>) -> Option<PolicyFormat> {
    let Some(value) = parsed else {
        // A key is quoted in JSON and followed by `:` in YAML; either form counts.
        return classify(|key| {
            text.contains(&format!("\"{key}\"")) || text.contains(&format!("{key}:"))
        });
    };
    // `az ad app federated-credential list` prints an array of credentials.
    let object = match value {
        Value::Array(items) => items.first()?.as_object()?,
        Value::Object(object) => object,
        _ => return None,
    };
    // `vault read -format=json` wraps the role in a response; its `data` is the role.
    if let Some(data) = vault::response_data(object) {
        if vault::looks_like_role(&|key| data.contains_key(key)) {
            return Some(PolicyFormat::Vault);
        }
    }
    classify(|key| object.contains_key(key))
}

/// The format whose distinctive top-level keys the document `has`.
fn classify(has: impl Fn(&str) -> bool) -> Option<PolicyFormat> {
    if has("Statement") {
        Some(PolicyFormat::Aws)
    } else if has("claimsMatchingExpression") || (has("issuer") && has("subject")) {
        Some(PolicyFormat::Azure)
    } else if has("attributeMapping") || has("attributeCondition") || has("oidc") {
        Some(PolicyFormat::Gcp)
    } else if vault::looks_like_role(&has) {
        Some(PolicyFormat::Vault)
    } else {
        None
    }
}

/// Parses a trust document. `format: None` detects it with [`detect_format`]. Text that
/// starts with `{` or `[` is read as JSON, anything else as YAML: `gcloud` prints YAML, and
/// CloudFormation templates hold trust policies in YAML.
pub fn parse(text: &str, format: Option<PolicyFormat>) -> Result<Policy, PolicyError> {
    // Parsed once, for detection and for reading; a syntax error is reported only once the
    // format is known, so an unrecognisable document says so first.
    let parsed = document::parse_json_or_yaml(text);
    let format = format
        .or_else(|| detect(text, parsed.as_ref().ok()))
        .ok_or(PolicyError::UnknownFormat)?;
    let value = parsed?;
    let inner = match format {
        PolicyFormat::Aws => Inner::Aws(aws::TrustPolicy::parse(&value)?),
        PolicyFormat::Azure => Inner::Azure(azure::Credentials::parse(&value)?),
        PolicyFormat::Gcp => Inner::Gcp(Box::new(gcp::Provider::parse(&value)?)),
        PolicyFormat::Vault => Inner::Vault(vault::Role::parse(&value)?),
    };
    Ok(Policy { inner })
}

/// Evaluates a parsed document against a token's claims, as the cloud would.
pub fn evaluate(policy: &Policy, claims: &Claims) -> PolicyReport {
    let mut report = PolicyReport {
        format: policy.format(),
        allowed: false,
        reasons: Vec::new(),
        warnings: Vec::new(),
    };
    report.allowed = match &policy.inner {
        Inner::Aws(policy) => policy.evaluate(claims, &mut report),
        Inner::Azure(credentials) => credentials.evaluate(claims, &mut report),
        Inner::Gcp(provider) => provider.evaluate(claims, &mut report),
        Inner::Vault(role) => role.evaluate(claims, &mut report),
    };
    report
}

/// The label a fix carries when it lets more tokens in: such a fix is never the first hint.
pub(crate) const WIDENS: &str = "which widens who can assume the role";

/// A hint whose first fix keeps the document as strict as it is (`first`), followed by the
/// labelled fix that widens it (`widen`).
pub(crate) fn then_widening(first: &str, widen: &str) -> String {
    format!("{first}; or, {WIDENS}: {widen}")
}

/// The workflow-side change that would give the token a subject of the form the document
/// expects (`expected`, subjects or patterns), when the token's `sub` is of another form:
/// declare or remove `environment:`, push a tag or a branch, use the immutable form or the
/// name form. `None` when the forms agree (the difference is in a name) or are unknown.
pub(crate) fn subject_form_hint(expected: &[String], sub: &str) -> Option<String> {
    use crate::subject::{classify, Context};
    let token = classify(sub);
    let token_context = token.context()?;
    let forms: Vec<_> = expected.iter().map(|e| classify(e)).collect();
    // A value of the token's own form: the names differ, not the form.
    if forms.iter().any(|f| {
        f.context().map(Context::kind) == Some(token_context.kind())
            && f.is_immutable() == token.is_immutable()
    }) {
        return None;
    }
    let immutable = forms.iter().find(|f| {
        f.context().map(Context::kind) == Some(token_context.kind())
            && f.is_immutable() != token.is_immutable()
    });
    if let Some(form) = immutable {
        return Some(if token.is_immutable() {
            "the token has the immutable subject form (`repo:OWNER@ID/REPO@ID:...`), the \
             document the name form: write the repository part as the token has it, or accept \
             both forms (one value per form) while repositories migrate"
                .to_owned()
        } else {
            let repo = form.repo().map(|r| r.render()).unwrap_or_default();
            format!(
                "the document uses the immutable subject form (`{repo}`), which this \
                 repository has not opted in to: opt in with the OIDC subject customization API \
                 (`use_immutable_subject`), or write the name form as the token has it"
            )
        });
    }
    let wanted = forms.iter().find_map(|f| f.context())?;
    let hint = match (token_context, wanted) {
        (Context::Environment(env), _) => format!(
            "the job declares `environment: {env}`, which puts the environment form in `sub` \
             in place of {}; the document expects {}: run this step in a job without \
             `environment:`, or use a role meant for environment `{env}`",
            describe_without_environment(),
            describe(wanted)
        ),
        (_, Context::Environment(env)) => format!(
            "the document expects the environment form (`environment:{env}`): declare \
             `environment: {env}` on the job (a job with an environment gets that form), or, \
             to check a deploy job from a preflight job, set `job-environment: {env}` \
             (`--job-environment {env}` on the command line)"
        ),
        (Context::PullRequest, _) => format!(
            "this is a pull_request run, whose `sub` is `...:pull_request`; the document \
             expects {}: run the job on that event instead",
            describe(wanted)
        ),
        (Context::Tag(_), Context::Branch(_)) | (Context::Branch(_), Context::Tag(_)) => {
            format!(
                "this run is {}, the document expects {}: trigger the job with a push of \
                 that kind",
                describe(token_context),
                describe(wanted)
            )
        }
        _ => format!(
            "this run gives {}, the document expects {}",
            describe(token_context),
            describe(wanted)
        ),
    };
    Some(hint)
}

fn describe_without_environment() -> &'static str {
    "the pull_request or ref form"
}

fn describe(context: &crate::subject::Context) -> String {
    use crate::subject::Context;
    match context {
        Context::Environment(e) => format!("the environment form (`environment:{e}`)"),
        Context::PullRequest => "the pull_request form (`pull_request`)".to_owned(),
        Context::Branch(b) => format!("a branch push (`ref:refs/heads/{b}`)"),
        Context::Tag(t) => format!("a tag push (`ref:refs/tags/{t}`)"),
        Context::OtherRef(r) => format!("the ref `{r}`"),
    }
}

/// Formats a list of expected values as `` [`a`, `b`] `` for messages.
fn list(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats_from_keys() {
        let cases: &[(&str, Option<PolicyFormat>)] = &[
            (
                r#"{"Version":"2012-10-17","Statement":[]}"#,
                Some(PolicyFormat::Aws),
            ),
            (
                r#"{"Statement": {"Effect": "Allow""#,
                Some(PolicyFormat::Aws),
            ),
            (
                r#"{"issuer":"x","subject":"y","audiences":[]}"#,
                Some(PolicyFormat::Azure),
            ),
            (
                r#"[{"issuer":"x","subject":"y"}]"#,
                Some(PolicyFormat::Azure),
            ),
            (
                r#"{"issuer":"x","claimsMatchingExpression":{"value":"","languageVersion":1}}"#,
                Some(PolicyFormat::Azure),
            ),
            (r#"{"attributeMapping":{}}"#, Some(PolicyFormat::Gcp)),
            (r#"{"oidc":{"issuerUri":"x"}}"#, Some(PolicyFormat::Gcp)),
            (
                "attributeCondition: assertion.a == 'b'\n",
                Some(PolicyFormat::Gcp),
            ),
            ("oidc:\n  issuerUri: https://x\n", Some(PolicyFormat::Gcp)),
            // `issuerUri` is not `issuer`: a GCP provider is not mistaken for Azure.
            (
                r#"{"oidc":{"issuerUri":"x"},"subject":"y"}"#,
                Some(PolicyFormat::Gcp),
            ),
            (
                r#"{"role_type":"jwt","user_claim":"repository","bound_audiences":["a"]}"#,
                Some(PolicyFormat::Vault),
            ),
            (
                r#"{"request_id":"1","lease_id":"","data":{"user_claim":"sub","bound_subject":"x"}}"#,
                Some(PolicyFormat::Vault),
            ),
            (
                "role_type: jwt\nuser_claim: sub\n",
                Some(PolicyFormat::Vault),
            ),
            (
                r#"{"user_claim": "sub", "bound_claims": {"#,
                Some(PolicyFormat::Vault),
            ),
            // Another `vault read` response is not a role.
            (r#"{"request_id":"1","data":{"keys":["a"]}}"#, None),
            (r#"{"hello":"world"}"#, None),
            ("[]", None),
            ("42", None),
            ("", None),
            ("\u{0}\u{1}", None),
        ];
        for (text, want) in cases {
            assert_eq!(detect_format(text), *want, "{text:?}");
        }
    }

    #[test]
    fn unknown_documents_are_errors_with_hints() {
        let err = parse(r#"{"hello":"world"}"#, None).unwrap_err();
        assert_eq!(err, PolicyError::UnknownFormat);
        assert!(err.hint().contains("Statement"));
    }

    /// Untrusted documents: every prefix of every example, and deeply nested input, parses
    /// to a policy or an error, never a panic or a stack overflow.
    #[test]
    fn truncated_and_nested_documents_never_panic() {
        let examples = [
            include_str!("../../examples/policies/aws-trust-policy.json"),
            include_str!("../../examples/policies/azure-flexible-credential.json"),
            include_str!("../../examples/policies/gcp-provider.json"),
            include_str!("../../examples/policies/gcp-provider.yaml"),
            include_str!("../../examples/policies/vault-role.json"),
        ];
        let claims = testing::token(serde_json::json!({}));
        for text in examples {
            for (end, _) in text.char_indices() {
                if let Ok(policy) = parse(&text[..end], None) {
                    evaluate(&policy, &claims);
                }
            }
        }
        let nested = [
            format!("{}{}", "[".repeat(50_000), "]".repeat(50_000)),
            format!(
                "{}1{}",
                "{\"Statement\":".repeat(50_000),
                "}".repeat(50_000)
            ),
            "- ".repeat(50_000),
            (0..2_000)
                .map(|i| format!("{}a:\n", " ".repeat(i)))
                .collect(),
        ];
        for text in &nested {
            for format in [
                None,
                Some(PolicyFormat::Aws),
                Some(PolicyFormat::Gcp),
                Some(PolicyFormat::Vault),
            ] {
                assert!(parse(text, format).is_err());
            }
        }
    }

    #[test]
    fn list_quotes_each_value() {
        assert_eq!(list(&["a".into(), "b".into()]), "[`a`, `b`]");
    }
}

/// A token like GitHub's for `octo-org/octo-repo` deploying to environment `prod`, shared by
/// the tests of every format.
#[cfg(test)]
pub(crate) mod testing {
    use crate::claims::Claims;
    use serde_json::{json, Value};

    /// The documented example token, with `overrides` applied: a `null` removes a claim.
    pub(crate) fn token(overrides: Value) -> Claims {
        let mut claims = json!({
            "iss": "https://token.actions.githubusercontent.com",
            "sub": "repo:octo-org/octo-repo:environment:prod",
            "aud": "sts.amazonaws.com",
            "ref": "refs/heads/main",
            "ref_type": "branch",
            "environment": "prod",
            "repository": "octo-org/octo-repo",
            "repository_owner": "octo-org",
            "repository_id": "74",
            "repository_owner_id": "65",
            "actor": "octocat",
            "event_name": "workflow_dispatch",
            "job_workflow_ref": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
            "workflow_ref": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
            "runner_environment": "github-hosted",
        });
        if let (Some(base), Value::Object(changes)) = (claims.as_object_mut(), overrides) {
            for (name, value) in changes {
                if value.is_null() {
                    base.remove(&name);
                } else {
                    base.insert(name, value);
                }
            }
        }
        Claims(claims.as_object().cloned().unwrap_or_default())
    }
}
