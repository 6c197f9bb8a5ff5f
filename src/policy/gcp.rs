//! GCP workload identity pool providers (`gcloud iam workload-identity-pools providers
//! describe`, JSON or YAML): the provider's state, issuer and audience checks, then the
//! attribute mapping and attribute condition, evaluated with a real CEL interpreter.

mod cel;
mod explain;
mod re2;

use self::cel::{Checked, EvalError, Evaluated, Run};
use self::explain::Clause;
use super::document::Fields;
use super::{list, PolicyError, PolicyReasonId, PolicyReport, Reason};
use crate::claims::Claims;
use crate::consumer::gcp::{
    subject_fits, MAX_ATTRIBUTE_NAME, MAX_CONDITION, MAX_CUSTOM_ATTRIBUTES, MAX_MAPPED_BYTES,
    MAX_MAPPING, SHARED_ISSUER, SUBJECT_LIMIT,
};
use serde_json::Value;

/// One `attributeMapping` entry.
#[derive(Debug)]
struct Mapping {
    target: String,
    expression: Checked,
}

/// A parsed provider.
#[derive(Debug)]
pub(super) struct Provider {
    name: Option<String>,
    /// `disabled: true`, or a `state` other than `ACTIVE`.
    inactive: Option<String>,
    issuer_uri: String,
    allowed_audiences: Vec<String>,
    mappings: Vec<Mapping>,
    condition: Option<Checked>,
}

impl Provider {
    pub(super) fn parse(value: &Value) -> Result<Self, PolicyError> {
        let top = Fields::of(value, "")?;
        let oidc = match top.map.get("oidc") {
            Some(oidc) => Fields::of(oidc, "oidc")?,
            None if top.map.contains_key("aws") || top.map.contains_key("saml") => {
                return Err(PolicyError::invalid(
                    "oidc",
                    "this is an AWS or SAML provider; GitHub tokens need an OIDC provider",
                ))
            }
            None => return Err(top.missing("oidc")),
        };
        let state = top.opt_str("state")?;
        let inactive = match (top.opt_bool("disabled")?, state) {
            (Some(true), _) => Some("disabled: true".to_owned()),
            (_, Some(state)) if state != "ACTIVE" => Some(format!("state: {state}")),
            _ => None,
        };
        Ok(Provider {
            name: top.opt_str("name")?.map(str::to_owned),
            inactive,
            issuer_uri: oidc.str("issuerUri")?.to_owned(),
            allowed_audiences: oidc.opt_strings("allowedAudiences")?.unwrap_or_default(),
            mappings: parse_mappings(&top)?,
            condition: parse_condition(&top)?,
        })
    }

    /// Runs GCP's checks, all of them, so that the report lists everything to fix. True when
    /// the token would be exchanged.
    pub(super) fn evaluate(&self, claims: &Claims, report: &mut PolicyReport) -> bool {
        let checks = [
            self.check_state(report),
            self.check_issuer(claims, report),
            self.check_audience(claims, report),
        ];
        report.warnings.extend(self.condition_warning());
        let unmapped = self.unmapped_attributes();
        if !unmapped.is_empty() {
            report.reasons.push(unmapped_reason(&unmapped));
        }
        // A condition that reads unmapped attributes is a configuration GCP rejects; it is not
        // run, so that its evaluation error does not hide the real problem.
        let condition = self
            .condition
            .as_ref()
            .filter(|_| unmapped.is_empty())
            .map(|c| c.source.as_str());
        let sources: Vec<(&str, &str)> = self
            .mappings
            .iter()
            .map(|m| (m.target.as_str(), m.expression.source.as_str()))
            .collect();
        let mapped = match cel::run(&sources, condition, &claims.0) {
            Ok(run) => self.report_run(&run, claims, report),
            Err(cel::Failure::TimedOut) => {
                report
                    .reasons
                    .push(timeout_reason(self.condition.is_some()));
                false
            }
            Err(error) => {
                report.reasons.push(Reason::new(
                    PolicyReasonId::GcpCelFailed,
                    "attributeMapping",
                    format!("the expressions could not be evaluated: {error}"),
                ));
                false
            }
        };
        checks.iter().all(|ok| *ok) && unmapped.is_empty() && mapped
    }

    /// Reports the mapping and condition results; true when both let the token through.
    fn report_run(&self, run: &Run, claims: &Claims, report: &mut PolicyReport) -> bool {
        let mut ok = true;
        let mut subject = None;
        let mut mapped_bytes = 0;
        for (mapping, result) in self.mappings.iter().zip(&run.mappings) {
            match result {
                Ok(value) => {
                    mapped_bytes += size(value);
                    if mapping.target == "google.subject" {
                        subject = Some(value);
                    }
                }
                Err(error) => {
                    ok = false;
                    let location = format!("attributeMapping.{}", mapping.target);
                    report.reasons.push(
                        absent_claim(&location, &mapping.expression.source, error, claims, true)
                            .unwrap_or_else(|| mapping_error(mapping, error)),
                    );
                }
            }
        }
        ok &= check_subject(subject, report);
        if mapped_bytes > MAX_MAPPED_BYTES {
            ok = false;
            report.reasons.push(too_large_reason(mapped_bytes));
        }
        match (&self.condition, &run.condition) {
            (None, _) => {}
            (Some(condition), Some(result)) => {
                let reason = condition_reason(condition, result, &run.clauses, claims);
                ok &= reason.id == PolicyReasonId::GcpConditionPassed;
                report.reasons.push(reason);
            }
            // Not run: a mapping failed or attributes are unmapped, both reported already.
            (Some(_), None) => ok = false,
        }
        ok
    }

    /// The warning for a provider with no condition, or one that reads no claim: for GitHub's
    /// shared issuer GCP no longer creates such a provider, for other issuers it is allowed.
    fn condition_warning(&self) -> Option<Reason> {
        let reads_token = self.condition.as_ref().is_some_and(|c| c.reads_token);
        if reads_token {
            return None;
        }
        if self.issuer_uri.trim_end_matches('/') == SHARED_ISSUER {
            return Some(shared_issuer_warning(self.condition.is_some()));
        }
        self.condition.is_none().then(no_condition_warning)
    }

    fn unmapped_attributes(&self) -> Vec<String> {
        let Some(condition) = &self.condition else {
            return Vec::new();
        };
        condition
            .attributes
            .iter()
            .filter(|name| !self.maps_attribute(name))
            .cloned()
            .collect()
    }

    fn check_state(&self, report: &mut PolicyReport) -> bool {
        let Some(inactive) = &self.inactive else {
            return true;
        };
        report.reasons.push(
            Reason::new(
                PolicyReasonId::GcpProviderDisabled,
                "state",
                format!(
                    "the provider is not active ({inactive}): invalid_target, the pool or \
                     provider is disabled or deleted or because it doesn't exist"
                ),
            )
            .with_hint(
                "enable or undelete the provider \
                 (`gcloud iam workload-identity-pools providers undelete`)",
            ),
        );
        false
    }

    fn check_issuer(&self, claims: &Claims, report: &mut PolicyReport) -> bool {
        let iss = claims.str("iss").unwrap_or_default();
        if self.issuer_uri == iss {
            report.reasons.push(Reason::new(
                PolicyReasonId::GcpIssuerMatched,
                "oidc.issuerUri",
                format!("issuerUri `{iss}` equals the token's `iss`"),
            ));
            return true;
        }
        report.reasons.push(
            Reason::new(
                PolicyReasonId::GcpIssuerMismatch,
                "oidc.issuerUri",
                format!(
                    "The issuer in ID Token {iss} does not match the expected ones. The \
                     provider's issuerUri is `{}`",
                    self.issuer_uri
                ),
            )
            .with_hint(format!("set oidc.issuerUri to `{iss}`")),
        );
        false
    }

    fn check_audience(&self, claims: &Claims, report: &mut PolicyReport) -> bool {
        let expected = self.expected_audiences();
        let presented = claims.values("aud").unwrap_or_default();
        let why = if self.allowed_audiences.is_empty() {
            "allowedAudiences is empty, so GCP expects the provider's own resource URL"
        } else {
            "the token's aud must be one of allowedAudiences"
        };
        if let Some(aud) = presented.iter().find(|a| expected.contains(a)) {
            report.reasons.push(Reason::new(
                PolicyReasonId::GcpAudienceMatched,
                "oidc.allowedAudiences",
                format!("the token's audience `{aud}` is accepted ({why})"),
            ));
            return true;
        }
        let mut reason = Reason::new(
            PolicyReasonId::GcpAudienceMismatch,
            "oidc.allowedAudiences",
            format!(
                "The audience in JWT does not match the expected values. The token's aud is \
                 {}, and {why}: {}",
                list(&presented),
                list(&expected)
            ),
        );
        reason = match (expected.first(), self.name.is_some()) {
            // google-github-actions/auth requests the provider's resource URL unless its
            // `audience` input is set (its action.yml, `audience`: "The value for the audience
            // (aud) parameter in GitHub's generated OIDC token. This value defaults to the value
            // of workload_identity_provider"; `sigstore` was the default only before v0.3.1).
            (Some(first), _) if self.allowed_audiences.is_empty() => reason.with_hint(format!(
                "request the token with audience `{first}` (google-github-actions/auth \
                 requests the provider's resource URL when its `audience` input is not set), \
                 or add the token's audience to allowedAudiences"
            )),
            (Some(first), _) => reason.with_hint(format!(
                "request the token with audience `{first}` (with google-github-actions/auth, \
                 its `audience` input), or add the token's audience to allowedAudiences"
            )),
            (None, false) => reason.with_hint(
                "include the provider's `name` (projects/NUMBER/locations/global/\
                 workloadIdentityPools/POOL/providers/PROVIDER) so the default audience is known",
            ),
            (None, true) => reason,
        };
        report.reasons.push(reason);
        false
    }

    fn maps_attribute(&self, name: &str) -> bool {
        self.mappings
            .iter()
            .any(|m| m.target.strip_prefix("attribute.") == Some(name))
    }

    fn expected_audiences(&self) -> Vec<String> {
        if !self.allowed_audiences.is_empty() {
            return self.allowed_audiences.clone();
        }
        // With no allowed audiences GCP accepts the provider's full resource name, with or
        // without the scheme.
        self.name
            .iter()
            .flat_map(|name| {
                [
                    format!("https://iam.googleapis.com/{name}"),
                    format!("//iam.googleapis.com/{name}"),
                ]
            })
            .collect()
    }
}

/// One expression over `assertion` (the claims), run as a mapping is: its CEL type name and
/// value, or the error. For the differential test against cel-cpp.
pub(super) fn evaluate_expression(
    source: &str,
    claims: &serde_json::Map<String, Value>,
) -> Result<(String, String), String> {
    cel::check(source, "expression").map_err(|e| e.to_string())?;
    let run = cel::run(&[("attribute.x", source)], None, claims).map_err(|e| e.to_string())?;
    match run.mappings.into_iter().next() {
        Some(Ok(Evaluated::String(s))) => Ok(("string".into(), s)),
        Some(Ok(Evaluated::Bool(b))) => Ok(("bool".into(), b.to_string())),
        Some(Ok(Evaluated::Other { type_name, shown })) => Ok((type_name, shown)),
        Some(Err(error)) => Err(error.message),
        None => Err("no result".into()),
    }
}

fn parse_mappings(top: &Fields<'_>) -> Result<Vec<Mapping>, PolicyError> {
    let Some(value) = top.map.get("attributeMapping") else {
        return Err(PolicyError::invalid(
            "attributeMapping",
            "required field is missing; map at least `google.subject` (e.g. to `assertion.sub`)",
        ));
    };
    let fields = Fields::of(value, "attributeMapping")?;
    let mut mappings = Vec::new();
    for target in fields.map.keys() {
        let location = fields.path(target);
        check_target(target, &location)?;
        let source = fields.str(target)?;
        check_length(source, &location, MAX_MAPPING)?;
        mappings.push(Mapping {
            target: target.clone(),
            expression: cel::check(source, &location)?,
        });
    }
    let custom = mappings
        .iter()
        .filter(|m| m.target.starts_with("attribute."))
        .count();
    if custom > MAX_CUSTOM_ATTRIBUTES {
        return Err(PolicyError::invalid(
            "attributeMapping",
            format!("{custom} custom attributes, GCP accepts at most {MAX_CUSTOM_ATTRIBUTES}"),
        ));
    }
    Ok(mappings)
}

/// Mapped attributes are `google.NAME` or `attribute.NAME` with NAME of `[a-z0-9_]`.
fn check_target(target: &str, location: &str) -> Result<(), PolicyError> {
    if target.starts_with("google.") {
        return Ok(());
    }
    let Some(name) = target.strip_prefix("attribute.") else {
        return Err(PolicyError::invalid(
            location,
            "mapped attributes are named `google.NAME` or `attribute.NAME`",
        ));
    };
    let valid = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if name.is_empty() || name.len() > MAX_ATTRIBUTE_NAME || !valid {
        return Err(PolicyError::invalid(
            location,
            format!(
                "custom attribute names are 1 to {MAX_ATTRIBUTE_NAME} characters of a-z, 0-9 and _"
            ),
        ));
    }
    Ok(())
}

fn check_length(source: &str, location: &str, limit: usize) -> Result<(), PolicyError> {
    let length = source.chars().count();
    if length > limit {
        return Err(PolicyError::TooLong {
            location: location.to_owned(),
            length,
            limit,
        });
    }
    Ok(())
}

fn parse_condition(top: &Fields<'_>) -> Result<Option<Checked>, PolicyError> {
    let Some(source) = top.opt_str("attributeCondition")? else {
        return Ok(None);
    };
    check_length(source, "attributeCondition", MAX_CONDITION)?;
    if source.trim().is_empty() {
        return Ok(None);
    }
    cel::check(source, "attributeCondition").map(Some)
}

fn check_subject(subject: Option<&Evaluated>, report: &mut PolicyReport) -> bool {
    let location = "attributeMapping.google.subject";
    let (id, message, hint) = match subject {
        None => (
            PolicyReasonId::GcpSubjectNotMapped,
            "google.subject is not mapped (or its expression failed); GCP needs it".to_owned(),
            "map `google.subject` to `assertion.sub`",
        ),
        Some(Evaluated::String(s)) if !subject_fits(s) => (
            PolicyReasonId::GcpMappedSubjectTooLong,
            format!(
                "The size of mapped attribute google.subject exceeds the {SUBJECT_LIMIT} bytes \
                 limit: `{s}` is {} bytes",
                s.len()
            ),
            "map google.subject to something shorter, e.g. `assertion.sub` without a prefix, \
             or move detail into attribute.* mappings",
        ),
        Some(Evaluated::String(s)) => {
            report.reasons.push(Reason::new(
                PolicyReasonId::GcpSubjectMapped,
                location,
                format!("google.subject is `{s}` ({} bytes)", s.len()),
            ));
            return true;
        }
        Some(other) => (
            PolicyReasonId::GcpSubjectNotString,
            format!(
                "google.subject must be a string, but the mapping gives {}",
                describe(other)
            ),
            "map google.subject to a string expression such as `assertion.sub`",
        ),
    };
    report
        .reasons
        .push(Reason::new(id, location, message).with_hint(hint));
    false
}

/// A non-string result in words: `int `123``.
fn describe(value: &Evaluated) -> String {
    match value {
        Evaluated::String(s) => format!("string `{s}`"),
        Evaluated::Bool(b) => format!("bool `{b}`"),
        Evaluated::Other { type_name, shown } => format!("{type_name} `{shown}`"),
    }
}

fn mapping_error(mapping: &Mapping, error: &EvalError) -> Reason {
    Reason::new(
        PolicyReasonId::GcpMappingError,
        format!("attributeMapping.{}", mapping.target),
        format!(
            "`{}` fails on this token: {error}",
            mapping.expression.source
        ),
    )
    .with_hint("evaluate the mapping against the token's claims; GCP refuses the token when any mapping fails")
}

/// What a mapped value counts towards [`MAX_MAPPED_BYTES`]: a string's bytes, else its
/// display form's (a list of groups as `[a, b]`, close to but not exactly GCP's count).
fn size(value: &Evaluated) -> usize {
    match value {
        Evaluated::String(s) => s.len(),
        Evaluated::Bool(b) => b.to_string().len(),
        Evaluated::Other { shown, .. } => shown.len(),
    }
}

fn too_large_reason(bytes: usize) -> Reason {
    Reason::new(
        PolicyReasonId::GcpMappedAttributesTooLarge,
        "attributeMapping",
        format!(
            "the mapped attributes take {bytes} bytes together; GCP refuses the token when all \
             mapped attributes together exceed 8 KB ({MAX_MAPPED_BYTES} bytes counted here, \
             values only: GCP's documentation does not say how it counts)"
        ),
    )
    .with_hint(
        "map fewer or shorter claims (e.g. `assertion.sub.extract('/heads/{branch}')` instead \
         of a whole claim)",
    )
}

/// The `gcp-claim-absent` reason when `error` is CEL's `no such key` for a claim this token
/// lacks: GCP refuses the token, and the guard is `has()`.
fn absent_claim(
    location: &str,
    source: &str,
    error: &EvalError,
    claims: &Claims,
    mapping: bool,
) -> Option<Reason> {
    let key = error.missing_key.as_deref()?;
    if claims.0.contains_key(key) {
        return None;
    }
    let claim = format!("assertion.{key}");
    let guard = format!("has({claim}) ? {claim} : ''");
    // GitHub sets `environment` only for a job that declares one (facts: the subject forms).
    let why = match key {
        "environment" => " (GitHub sets it only for a job that declares `environment:`)",
        _ => "",
    };
    let mut hint = if mapping {
        format!("guard it: `{guard}`")
    } else {
        format!("guard it: `has({claim}) && ...`, or compare `({guard})`")
    };
    if key == "environment" {
        hint.push_str("; or, if this job deploys to an environment, declare `environment:` on it");
    }
    Some(
        Reason::new(
            PolicyReasonId::GcpClaimAbsent,
            location,
            format!(
                "`{source}` reads `{claim}`, which this token does not have{why}: CEL's \
                 `no such key` error, and GCP refuses the token"
            ),
        )
        .with_hint(hint),
    )
}

fn unmapped_reason(unmapped: &[String]) -> Reason {
    let names: Vec<String> = unmapped.iter().map(|n| format!("attribute.{n}")).collect();
    let first = unmapped.first().map_or("", String::as_str);
    Reason::new(
        PolicyReasonId::GcpUnmappedAttribute,
        "attributeCondition",
        format!(
            "the condition uses {}, which attributeMapping does not map; GCP rejects this \
             provider configuration",
            list(&names)
        ),
    )
    .with_hint(format!(
        "add `attribute.{first}=assertion.{first}` to the attribute mapping, or read \
         `assertion.{first}` in the condition instead"
    ))
}

/// Out of time is a refusal: GCP does not wait for a slow expression either, and a gate that
/// let an unfinished condition through would pass tokens GCP refuses.
fn timeout_reason(has_condition: bool) -> Reason {
    let location = if has_condition {
        "attributeCondition"
    } else {
        "attributeMapping"
    };
    Reason::new(
        PolicyReasonId::GcpCelTimeout,
        location,
        format!(
            "{}, so the token is taken as refused",
            cel::Failure::TimedOut
        ),
    )
    .with_hint(format!(
        "simplify the mappings and condition (fewer nested `exists`/`all`/`map`, one fixed \
         pattern per `.matches()`): {} s per document is far more than any real condition needs",
        cel::DEADLINE.as_secs_f64()
    ))
}

fn condition_reason(
    condition: &Checked,
    result: &Result<Evaluated, EvalError>,
    clauses: &[Clause],
    claims: &Claims,
) -> Reason {
    let location = "attributeCondition";
    let source = &condition.source;
    match result {
        Ok(Evaluated::Bool(true)) => Reason::new(
            PolicyReasonId::GcpConditionPassed,
            location,
            format!("`{source}` is true for this token"),
        ),
        Ok(Evaluated::Bool(false)) => {
            let mut message = format!(
                "The given credential is rejected by the attribute condition. `{source}` is \
                 false for this token"
            );
            let localised: Vec<String> = clauses
                .iter()
                .map(describe_clause)
                .filter(|text| !text.is_empty())
                .collect();
            if !localised.is_empty() {
                message.push_str(": ");
                message.push_str(&localised.join("; "));
            }
            let case_only: Vec<&(String, String)> = clauses
                .iter()
                .filter_map(|c| c.case_only.as_ref())
                .collect();
            // Only owner and repository names are case-insensitive on GitHub: rewriting one
            // names the same repository, rewriting a ref or an environment names another.
            let names_only = clauses.iter().all(|c| {
                c.values.iter().all(|(path, _)| {
                    matches!(
                        path.rsplit('.').next(),
                        Some("repository" | "repository_owner")
                    )
                })
            });
            let hint = match case_only.first() {
                Some((literal, value)) if case_only.len() == clauses.len() && names_only => {
                    format!(
                        "write `{}`, as the token has it, instead of `{}`: GitHub treats owner and \
                         repository names case-insensitively, GCP compares exactly",
                        crate::consumer::gcp::cel_string(value),
                        crate::consumer::gcp::cel_string(literal)
                    )
                }
                Some((literal, value)) if case_only.len() == clauses.len() => format!(
                    "GCP compares exactly. Only if this provider is meant for the token's value, \
                     write `{}` instead of `{}`: for a ref, an environment or a workflow a \
                     different case is a different one, so this changes which jobs may log in",
                    crate::consumer::gcp::cel_string(value),
                    crate::consumer::gcp::cel_string(literal)
                ),
                _ => "compare each claim the condition reads with the token's claims; values \
                      are case-sensitive"
                    .to_owned(),
            };
            Reason::new(PolicyReasonId::GcpConditionFailed, location, message).with_hint(hint)
        }
        Ok(other) => Reason::new(
            PolicyReasonId::GcpConditionFailed,
            location,
            format!("`{source}` gives {}, not a boolean", describe(other)),
        ),
        Err(error) => absent_claim(location, source, error, claims, false).unwrap_or_else(|| {
            Reason::new(
                PolicyReasonId::GcpConditionError,
                location,
                format!("`{source}` fails on this token: {error}"),
            )
            .with_hint("GCP refuses the token when the condition fails to evaluate")
        }),
    }
}

/// One clause in words: `false: `a == 'X'`, a is `x` (differs only in case)`; the values
/// alone when the clause is the whole condition.
fn describe_clause(clause: &Clause) -> String {
    let mut text = if clause.whole {
        String::new()
    } else {
        format!("{}: `{}`", clause.gave, clause.text)
    };
    let values: Vec<String> = clause
        .values
        .iter()
        .map(|(path, value)| match value {
            Some(value) => format!("{path} is {value}"),
            None => format!("{path} is absent"),
        })
        .collect();
    if !values.is_empty() {
        if !text.is_empty() {
            text.push_str(", ");
        }
        text.push_str(&values.join(", "));
    }
    if let Some((literal, value)) = &clause.case_only {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&format!(
            "(`{value}` and {} differ only in case)",
            crate::consumer::gcp::cel_string(literal)
        ));
    }
    text
}

/// GCP refuses to create a provider for GitHub's shared issuer without a condition that
/// reads a claim; older ones keep working. Sources: "Configure Workload Identity Federation
/// with deployment pipelines", GitHub Actions: "you must specify an attribute condition"
/// (<https://cloud.google.com/iam/docs/workload-identity-federation-with-deployment-pipelines>),
/// and the facts file. GCP's wording of the refusal is not documented.
fn shared_issuer_warning(has_condition: bool) -> Reason {
    let what = if has_condition {
        "an attribute condition that reads no claim"
    } else {
        "no attribute condition"
    };
    Reason::new(
        PolicyReasonId::GcpSharedIssuerWithoutCondition,
        "attributeCondition",
        format!(
            "the provider trusts GitHub's shared issuer `{SHARED_ISSUER}` with {what}, so a \
             token from any repository on GitHub.com passes it; GCP has refused to create such \
             a provider since 2023 (a condition that references a claim is required), and one \
             created before keeps working"
        ),
    )
    .with_hint(
        "add a condition on your organisation, e.g. `assertion.repository_owner_id == 'ID'` \
         (the owner's numeric id survives a rename) or `assertion.repository_owner == 'ORG'`",
    )
}

fn no_condition_warning() -> Reason {
    Reason::new(
        PolicyReasonId::GcpNoAttributeCondition,
        "attributeCondition",
        "the provider has no attribute condition, so tokens from any repository on this \
         issuer can use it"
            .to_owned(),
    )
    .with_hint(
        "add e.g. `assertion.repository_owner == 'ORG'` so that only your organisation's \
         workflows can use the provider",
    )
}

#[cfg(test)]
mod tests {
    use crate::policy::testing::token;
    use crate::policy::{evaluate, parse, PolicyError, PolicyFormat, PolicyReport};
    use serde_json::{json, Value};

    const NAME: &str =
        "projects/123456789012/locations/global/workloadIdentityPools/github/providers/octo-org";

    fn default_audience() -> String {
        format!("https://iam.googleapis.com/{NAME}")
    }

    /// The provider google-github-actions/auth's README creates, as `describe` prints it.
    fn documented(condition: &str) -> Value {
        json!({
            "name": NAME,
            "state": "ACTIVE",
            "attributeCondition": condition,
            "attributeMapping": {
                "google.subject": "assertion.sub",
                "attribute.actor": "assertion.actor",
                "attribute.repository": "assertion.repository",
                "attribute.repository_owner": "assertion.repository_owner",
            },
            "oidc": {"issuerUri": "https://token.actions.githubusercontent.com"},
        })
    }

    fn with(mut provider: Value, pointer: &str, value: Value) -> Value {
        if let Some(slot) = provider.pointer_mut(pointer) {
            *slot = value;
        }
        provider
    }

    /// The provider with one more mapping.
    fn mapped(mut provider: Value, target: &str, expression: &str) -> Value {
        provider["attributeMapping"][target] = json!(expression);
        provider
    }

    fn run(provider: &Value, overrides: Value) -> PolicyReport {
        let policy = parse(&provider.to_string(), None).unwrap();
        assert_eq!(policy.format(), PolicyFormat::Gcp);
        let mut overrides = overrides;
        if let Some(map) = overrides.as_object_mut() {
            map.entry("aud").or_insert(json!(default_audience()));
        }
        evaluate(&policy, &token(overrides))
    }

    #[test]
    fn documented_providers() {
        let owner = "assertion.repository_owner == 'octo-org'";
        let long_sub = format!("repo:octo-org/{}:environment:prod", "r".repeat(100));
        let cases: Vec<(&str, Value, Value, bool, &str, &str)> = vec![
            ("owner condition", documented(owner), json!({}), true, "gcp-condition-passed", "attributeCondition"),
            ("other owner", documented(owner), json!({"repository_owner": "evil-org"}), false, "gcp-condition-failed", "attributeCondition"),
            ("owner case", documented("assertion.repository_owner == 'Octo-Org'"), json!({}), false, "gcp-condition-failed", "attributeCondition"),
            ("mapped attribute in condition", documented("attribute.repository == 'octo-org/octo-repo'"), json!({}), true, "gcp-condition-passed", "attributeCondition"),
            ("branch condition", documented("assertion.ref.startsWith('refs/heads/') && assertion.repository_owner == 'octo-org'"), json!({}), true, "gcp-condition-passed", "attributeCondition"),
            ("repository list", documented("assertion.repository in ['octo-org/a', 'octo-org/b']"), json!({}), false, "gcp-condition-failed", "attributeCondition"),
            ("regex", documented("assertion.ref.matches('^refs/(heads/main|tags/v.*)$')"), json!({}), true, "gcp-condition-passed", "attributeCondition"),
            ("missing claim in condition", documented("assertion.environment == 'prod'"), json!({"environment": null}), false, "gcp-claim-absent", "attributeCondition"),
            ("guarded claim in condition", documented("has(assertion.environment) && assertion.environment == 'prod'"), json!({"environment": null}), false, "gcp-condition-failed", "attributeCondition"),
            ("other condition error", documented("assertion.repository_owner + 1 == 'x'"), json!({}), false, "gcp-condition-error", "attributeCondition"),
            ("extract in a mapping", mapped(documented("attribute.branch == 'main'"), "attribute.branch", "assertion.sub.extract('/heads/{branch}')"), json!({"sub": "repo:octo-org/octo-repo:ref:refs/heads/main"}), true, "gcp-condition-passed", "attributeCondition"),
            ("extract not found", mapped(documented("attribute.branch == 'main'"), "attribute.branch", "assertion.sub.extract('/heads/{branch}')"), json!({"sub": "repo:octo-org/octo-repo:environment:prod"}), false, "gcp-condition-failed", "attributeCondition"),
            ("unicode class", documented("assertion.repository_owner.matches('^\\\\p{Ll}+-org$')"), json!({}), true, "gcp-condition-passed", "attributeCondition"),
            ("unicode case folding", documented("assertion.repository_owner.matches('(?i)^ÖCTO-ORG$')"), json!({"repository_owner": "öcto-org"}), true, "gcp-condition-passed", "attributeCondition"),
            ("non-boolean condition", documented("assertion.repository"), json!({}), false, "gcp-condition-failed", "attributeCondition"),
            ("unmapped attribute", documented("attribute.environment == 'prod'"), json!({}), false, "gcp-unmapped-attribute", "attributeCondition"),
            ("subject mapped", documented(owner), json!({}), true, "gcp-subject-mapped", "attributeMapping.google.subject"),
            ("subject over 127 bytes", documented(owner), json!({"sub": long_sub}), false, "gcp-mapped-subject-too-long", "attributeMapping.google.subject"),
            ("subject concatenation", with(documented(owner), "/attributeMapping/google.subject", json!("assertion.repository + '@' + assertion.ref")), json!({}), true, "gcp-subject-mapped", "attributeMapping.google.subject"),
            ("subject not a string", with(documented(owner), "/attributeMapping/google.subject", json!("assertion.aud == 'x'")), json!({}), false, "gcp-subject-not-string", "attributeMapping.google.subject"),
            ("mapping reads a missing claim", with(documented(owner), "/attributeMapping/attribute.actor", json!("assertion.environment")), json!({"environment": null}), false, "gcp-claim-absent", "attributeMapping.attribute.actor"),
            ("guarded mapping", with(documented(owner), "/attributeMapping/attribute.actor", json!("has(assertion.environment) ? assertion.environment : ''")), json!({"environment": null}), true, "gcp-condition-passed", "attributeCondition"),
            ("other mapping error", with(documented(owner), "/attributeMapping/attribute.actor", json!("assertion.sub + 1")), json!({}), false, "gcp-mapping-error", "attributeMapping.attribute.actor"),
            ("subject not mapped", with(documented(owner), "/attributeMapping", json!({"attribute.x": "assertion.sub"})), json!({}), false, "gcp-subject-not-mapped", "attributeMapping.google.subject"),
            ("default audience", documented(owner), json!({}), true, "gcp-audience-matched", "oidc.allowedAudiences"),
            ("default audience without scheme", documented(owner), json!({"aud": format!("//iam.googleapis.com/{NAME}")}), true, "gcp-audience-matched", "oidc.allowedAudiences"),
            ("GitHub default audience", documented(owner), json!({"aud": "https://github.com/octo-org"}), false, "gcp-audience-mismatch", "oidc.allowedAudiences"),
            ("allowedAudiences", with(documented(owner), "/oidc", json!({"issuerUri": "https://token.actions.githubusercontent.com", "allowedAudiences": ["my-aud"]})), json!({"aud": "my-aud"}), true, "gcp-audience-matched", "oidc.allowedAudiences"),
            ("allowedAudiences replace the default", with(documented(owner), "/oidc", json!({"issuerUri": "https://token.actions.githubusercontent.com", "allowedAudiences": ["my-aud"]})), json!({}), false, "gcp-audience-mismatch", "oidc.allowedAudiences"),
            ("issuer", with(documented(owner), "/oidc/issuerUri", json!("https://token.actions.githubusercontent.com/octo-enterprise")), json!({}), false, "gcp-issuer-mismatch", "oidc.issuerUri"),
            ("disabled", with(documented(owner), "/state", json!("DELETED")), json!({}), false, "gcp-provider-disabled", "state"),
        ];
        for (name, provider, overrides, allowed, id, location) in cases {
            let report = run(&provider, overrides);
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

    #[test]
    fn a_condition_that_runs_out_of_time_refuses() {
        // A new slow-to-compile pattern per element (the cache cannot help), and `|| true`,
        // which would make the condition true if the timeout were an ordinary error.
        let list = (0..60).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let condition = format!(
            "[{list}].all(i, [{list}].all(j, assertion.sub.matches(\
             '^x((a|b|c|d|e|f|g|h){{1,100}}.){{1,9}}' + string(i) + '-' + string(j)) || true))"
        );
        assert!(condition.len() <= 4096);
        let started = std::time::Instant::now();
        let report = run(&documented(&condition), json!({}));
        assert!(!report.allowed, "{report:#?}");
        let reason = report
            .reasons
            .iter()
            .find(|r| r.id.as_str() == "gcp-cel-timeout")
            .unwrap_or_else(|| panic!("{report:#?}"));
        assert_eq!(reason.location, "attributeCondition");
        assert!(
            reason.message.contains("did not finish within 2 s"),
            "{}",
            reason.message
        );
        assert!(reason
            .hint
            .as_deref()
            .unwrap_or_default()
            .contains("simplify"));
        // A hang guard: the deadline and the join grace, with a wide margin.
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
    }

    #[test]
    fn gcp_messages() {
        let long_sub = format!("repo:octo-org/{}:environment:prod", "r".repeat(100));
        let report = run(&documented("true"), json!({"sub": long_sub}));
        let reason = report
            .reasons
            .iter()
            .find(|r| r.id.as_str() == "gcp-mapped-subject-too-long")
            .unwrap();
        assert!(reason.message.starts_with(
            "The size of mapped attribute google.subject exceeds the 127 bytes limit"
        ));
        let report = run(&documented("false"), json!({}));
        let reason = report
            .reasons
            .iter()
            .find(|r| r.id.as_str() == "gcp-condition-failed")
            .unwrap();
        assert!(reason
            .message
            .starts_with("The given credential is rejected by the attribute condition."));
        let report = run(
            &documented("attribute.environment == 'prod' && attribute.ref == 'x'"),
            json!({}),
        );
        let reason = report
            .reasons
            .iter()
            .find(|r| r.id.as_str() == "gcp-unmapped-attribute")
            .unwrap();
        assert!(
            reason
                .message
                .contains("[`attribute.environment`, `attribute.ref`]"),
            "{}",
            reason.message
        );
        let report = run(&documented("true"), json!({"aud": "x"}));
        let reason = report
            .reasons
            .iter()
            .find(|r| r.id.as_str() == "gcp-audience-mismatch")
            .unwrap();
        assert!(reason
            .message
            .starts_with("The audience in JWT does not match the expected values."));
        let report = run(
            &with(
                documented("true"),
                "/oidc/issuerUri",
                json!("https://ghes.example/_services/token"),
            ),
            json!({}),
        );
        let reason = report
            .reasons
            .iter()
            .find(|r| r.id.as_str() == "gcp-issuer-mismatch")
            .unwrap();
        assert!(reason.message.starts_with("The issuer in ID Token https://token.actions.githubusercontent.com does not match the expected ones"));
        let mut no_condition = documented("");
        no_condition
            .as_object_mut()
            .map(|m| m.remove("attributeCondition"));
        let report = run(&no_condition, json!({}));
        assert!(report.allowed);
        assert_eq!(report.warnings.len(), 1, "{report:#?}");
        assert_eq!(
            report.warnings[0].id.as_str(),
            "gcp-shared-issuer-without-condition"
        );
        assert!(report.warnings[0]
            .message
            .contains("with no attribute condition, so a token from any repository on GitHub.com passes it; GCP has refused to create such a provider since 2023"));
        assert!(report.warnings[0]
            .message
            .ends_with("and one created before keeps working"));
        // A condition that reads no claim is no restriction either.
        let report = run(&documented("true || false"), json!({}));
        assert_eq!(report.warnings.len(), 1, "{report:#?}");
        assert!(report.warnings[0]
            .message
            .contains("with an attribute condition that reads no claim"));
        // One that reads a claim, or a mapped attribute, is what GCP asks for.
        for condition in [
            "assertion.repository_owner == 'octo-org'",
            "attribute.repository != ''",
        ] {
            assert!(
                run(&documented(condition), json!({})).warnings.is_empty(),
                "{condition}"
            );
        }
        // Another issuer (GHES) may have no condition: the older, milder warning.
        let ghes = "https://ghes.example/_services/token";
        let report = run(
            &with(no_condition, "/oidc/issuerUri", json!(ghes)),
            json!({"iss": ghes}),
        );
        assert_eq!(report.warnings.len(), 1, "{report:#?}");
        assert_eq!(report.warnings[0].id.as_str(), "gcp-no-attribute-condition");
        let mut disabled = documented("true");
        disabled
            .as_object_mut()
            .map(|m| m.insert("disabled".into(), json!(true)));
        let report = run(&disabled, json!({}));
        assert!(!report.allowed);
        assert_eq!(report.reasons[0].id.as_str(), "gcp-provider-disabled");
    }

    #[test]
    fn all_mapped_attributes_together_at_most_8_kb() {
        let big = "x".repeat(2700);
        let mut provider = documented("assertion.repository_owner == 'octo-org'");
        for (n, allowed) in [(3, true), (4, false)] {
            for i in 0..n {
                provider["attributeMapping"][format!("attribute.big{i}")] = json!("assertion.big");
            }
            // 40 bytes of google.subject, 7 + 18 + 8 of the others, n * 2700 of `big`.
            let report = run(&provider, json!({"big": big}));
            assert_eq!(report.allowed, allowed, "{n}: {report:#?}");
            let too_large = report
                .reasons
                .iter()
                .find(|r| r.id.as_str() == "gcp-mapped-attributes-too-large");
            assert_eq!(too_large.is_some(), !allowed, "{n}");
            if let Some(reason) = too_large {
                assert_eq!(reason.location, "attributeMapping");
                assert!(
                    reason
                        .message
                        .starts_with("the mapped attributes take 10873 bytes together"),
                    "{}",
                    reason.message
                );
            }
        }
    }

    /// The condition's message for this token.
    fn refusal(condition: &str, overrides: Value) -> (String, String) {
        let report = run(&documented(condition), overrides);
        let reason = report
            .reasons
            .iter()
            .find(|r| r.id.as_str() == "gcp-condition-failed")
            .unwrap_or_else(|| panic!("{condition}: {report:#?}"));
        let head = format!(
            "The given credential is rejected by the attribute condition. `{condition}` is false for this token: "
        );
        let message = reason
            .message
            .strip_prefix(&head)
            .unwrap_or_else(|| panic!("{}", reason.message));
        (message.to_owned(), reason.hint.clone().unwrap_or_default())
    }

    #[test]
    fn a_refused_condition_names_the_false_clauses_beside_the_values() {
        let (message, hint) = refusal(
            "assertion.repository_owner == 'Octo-Org' && assertion.ref.startsWith('refs/heads/')",
            json!({}),
        );
        assert_eq!(
            message,
            "false: `assertion.repository_owner == 'Octo-Org'`, assertion.repository_owner is `octo-org` (`octo-org` and 'Octo-Org' differ only in case)"
        );
        assert_eq!(hint, "write `'octo-org'`, as the token has it, instead of `'Octo-Org'`: GitHub treats owner and repository names case-insensitively, GCP compares exactly");

        let (message, _) = refusal(
            "assertion.repository_owner == 'octo-org'",
            json!({"repository_owner": "fork-org"}),
        );
        assert_eq!(message, "assertion.repository_owner is `fork-org`");
        let cases = [
            // Every operand of a false `||`.
            (
                "assertion.ref == 'refs/tags/v1' || assertion.repository in ['octo-org/a', 'Octo-Org/Octo-Repo']",
                "false: `assertion.ref == 'refs/tags/v1'`, assertion.ref is `refs/heads/main`; false: `assertion.repository in ['octo-org/a', 'Octo-Org/Octo-Repo']`, assertion.repository is `octo-org/octo-repo` (`octo-org/octo-repo` and 'Octo-Org/Octo-Repo' differ only in case)",
            ),
            // Only the false operands of `&&`, through nesting.
            (
                "assertion.repository_owner == 'octo-org' && (assertion.ref == 'refs/heads/prod' || attribute.actor.endsWith('-bot'))",
                "false: `assertion.ref == 'refs/heads/prod'`, assertion.ref is `refs/heads/main`; false: `attribute.actor.endsWith('-bot')`, attribute.actor is `octocat`",
            ),
            // `!` flips what is looked for.
            (
                "!(assertion.repository_owner == 'octo-org')",
                "true: `assertion.repository_owner == 'octo-org'`, assertion.repository_owner is `octo-org`",
            ),
            // A ternary with a constant branch: the selector decided.
            (
                "has(assertion.environment) ? assertion.environment == 'prod' : false",
                "false: `has(assertion.environment)`, assertion.environment is absent",
            ),
            (
                "has(assertion.environment) ? assertion.environment == 'Prod' : false",
                "false: `assertion.environment == 'Prod'`, assertion.environment is `prod` (`prod` and 'Prod' differ only in case)",
            ),
            // A ternary: the branch it took.
            (
                "assertion.ref.startsWith('refs/heads/') ? assertion.ref == 'refs/heads/prod' : assertion.ref_type == 'tag'",
                "false: `assertion.ref == 'refs/heads/prod'`, assertion.ref is `refs/heads/main`",
            ),
            // Index access, lists and functions.
            (
                "assertion['repository_owner'].matches('^evil') || size(assertion.repository) > 20",
                "false: `assertion['repository_owner'].matches('^evil')`, assertion['repository_owner'] is `octo-org`; false: `size(assertion.repository) > 20`, assertion.repository is `octo-org/octo-repo`",
            ),
        ];
        for (condition, want) in cases {
            let overrides = if condition
                .starts_with("has(assertion.environment) ? assertion.environment == 'prod'")
            {
                json!({"environment": null})
            } else {
                json!({})
            };
            let (message, hint) = refusal(condition, overrides);
            assert_eq!(message, want, "{condition}");
            assert_eq!(
                hint.contains("write `"),
                want.contains("only in case") && !want.contains("; "),
                "{condition}: {hint}"
            );
        }
    }

    #[test]
    fn example_files() {
        let json_text = include_str!("../../examples/policies/gcp-provider.json");
        let yaml_text = include_str!("../../examples/policies/gcp-provider.yaml");
        for text in [json_text, yaml_text] {
            let policy = parse(text, None).unwrap();
            assert_eq!(policy.format(), PolicyFormat::Gcp);
            let allowed = evaluate(&policy, &token(json!({"aud": default_audience()})));
            assert!(allowed.allowed, "{allowed:#?}");
            let other = evaluate(
                &policy,
                &token(json!({"aud": default_audience(), "repository_owner": "x"})),
            );
            assert!(!other.allowed);
        }
    }

    #[test]
    fn malformed_providers_are_errors() {
        let long = format!("assertion.sub == '{}'", "x".repeat(4096));
        let cases: Vec<(String, &str)> = vec![
            (json!({"attributeMapping": {"google.subject": "assertion.sub"}, "oidc": {"issuerUri": "x"}, "attributeCondition": "assertion.sub =="}).to_string(),
             "attributeCondition: CEL syntax error at line 1 column"),
            (json!({"attributeMapping": {"google.subject": "assertion.sub +"}, "oidc": {"issuerUri": "x"}}).to_string(),
             "attributeMapping.google.subject: CEL syntax error at line 1 column"),
            (json!({"attributeMapping": {"google.subject": "assertion.sub"}, "oidc": {"issuerUri": "x"}, "attributeCondition": long}).to_string(),
             "attributeCondition: the expression is 4115 characters long, GCP accepts at most 4096"),
            (json!({"attributeMapping": {"google.subject": "assertion.sub"}}).to_string(), "oidc: required field is missing"),
            (json!({"attributeMapping": {"google.subject": "assertion.sub"}, "aws": {"accountId": "1"}}).to_string(), "oidc: this is an AWS or SAML provider"),
            (json!({"attributeMapping": {"subject": "assertion.sub"}, "oidc": {"issuerUri": "x"}}).to_string(), "attributeMapping.subject: mapped attributes are named"),
            (json!({"attributeMapping": {"google.subject": 1}, "oidc": {"issuerUri": "x"}}).to_string(), "attributeMapping.google.subject: expected a string, found a number"),
            (json!({"attributeCondition": "true", "oidc": {"issuerUri": "x"}}).to_string(), "attributeMapping: required field is missing"),
            (json!({"attributeMapping": {}, "oidc": {"allowedAudiences": "x"}}).to_string(), "oidc.issuerUri: required field is missing"),
            (json!({"attributeMapping": {"google.subject": "assertion.sub", "attribute.Repo": "assertion.repository"}, "oidc": {"issuerUri": "x"}}).to_string(),
             "attributeMapping.attribute.Repo: custom attribute names are 1 to 100 characters of a-z, 0-9 and _"),
            (json!({"attributeMapping": {"google.subject": format!("assertion.sub + '{}'", "x".repeat(2040))}, "oidc": {"issuerUri": "x"}}).to_string(),
             "attributeMapping.google.subject: the expression is 2058 characters long, GCP accepts at most 2048"),
            (json!({"attributeMapping": (0..51).map(|i| (format!("attribute.a{i}"), json!("assertion.sub"))).collect::<serde_json::Map<_, _>>(), "oidc": {"issuerUri": "x"}}).to_string(),
             "attributeMapping: 51 custom attributes, GCP accepts at most 50"),
            (json!({"attributeMapping": {"google.subject": "[1].map(a, [2].map(b, [3].map(c, c)))"}, "oidc": {"issuerUri": "x"}}).to_string(),
             "attributeMapping.google.subject: comprehensions (exists, all, map, filter) nested deeper than 2"),
            ("attributeMapping:\n  google.subject: [unclosed\n".to_owned(), "the document is not valid YAML"),
            ("{\"attributeMapping\": {,}}".to_owned(), "the document is not valid JSON: key must be a string at line 1 column 23"),
        ];
        for (text, want) in cases {
            let err = parse(&text, Some(PolicyFormat::Gcp)).unwrap_err();
            assert!(err.to_string().starts_with(want), "{text}: {err}");
            assert!(!err.hint().is_empty());
        }
        match parse(
            "attributeCondition: \"a ==\"\nattributeMapping: {}\noidc: {issuerUri: x}\n",
            None,
        ) {
            Err(PolicyError::Cel {
                location,
                line,
                column,
                ..
            }) => {
                assert_eq!((location.as_str(), line), ("attributeCondition", 1));
                assert!(column >= 4, "{column}");
            }
            other => panic!("{other:?}"),
        }
    }
}
