//! HashiCorp Vault JWT auth roles, as `vault read -format=json auth/jwt/role/NAME` prints them
//! (the whole response, or its `data` object). A role is checked the way Vault's JWT auth
//! plugin (hashicorp/vault-plugin-auth-jwt) logs a token in; each rule cites the file and
//! function it follows. Vault stops at the first failed check; this evaluator runs every check,
//! in Vault's order, so that the report names each cause at once and the first refusal listed
//! is the error Vault answers.
//!
//! Not modelled, because it is not in the role: the mount's `bound_issuer`, `jwks_url` /
//! `oidc_discovery_url` and `jwt_supported_algs` (`vault read auth/jwt/config`), and the
//! signature. The time claims are checked by the token checks (`token-expired` and others), not
//! here: `expiration_leeway` and `not_before_leeway` only apply when the token lacks `exp` or
//! `nbf` (hashicorp/cap `jwt/jwt.go` `validateAll`), which GitHub's tokens never do.

use super::document::{kind, Fields};
use super::{list, PolicyError, PolicyReasonId, PolicyReport, Reason};
use crate::claims::Claims;
use crate::consumer::vault::{
    ACTION, AUDIENCE_INPUT, AUDIENCE_UNBOUND_ERROR, CLAIMS_ERROR, OIDC_ROLE_ERROR,
};
use crate::subject::{classify, Context, SubjectForm};
use serde_json::{Map, Value};

/// `bound_claims_type` (path_role.go `boundClaimsTypeString` / `boundClaimsTypeGlob`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClaimsType {
    /// Exact comparison, type included.
    String,
    /// go-glob: `*` matches any run of characters, nothing else is special.
    Glob,
}

/// A parsed role: the fields that decide a login.
#[derive(Debug)]
pub(super) struct Role {
    /// `role_type`; `None` when the document omits it.
    role_type: Option<String>,
    bound_audiences: Vec<String>,
    /// `bound_subject`; empty means unbound (cap `jwt.Expected.Subject`).
    bound_subject: String,
    claims_type: ClaimsType,
    /// `bound_claims`, in key order.
    bound_claims: Vec<(String, Value)>,
    /// `claim_mappings`: claim (or JSON pointer) to metadata key.
    claim_mappings: Vec<(String, String)>,
    user_claim: String,
    user_claim_json_pointer: bool,
    groups_claim: String,
    /// `token_bound_cidrs`, and the deprecated `bound_cidrs`.
    bound_cidrs: Vec<String>,
    clock_skew_leeway: Option<i64>,
}

impl Role {
    pub(super) fn parse(value: &Value) -> Result<Self, PolicyError> {
        // `vault read -format=json` wraps the role in a response whose `data` holds it.
        let (value, location) = match value.get("data") {
            Some(data) if value.get("request_id").is_some() || value.get("lease_id").is_some() => {
                (data, "data")
            }
            _ => (value, ""),
        };
        let fields = Fields::of(value, location)?;
        let role_type = fields.opt_str("role_type")?.map(str::to_owned);
        // path_role.go `pathRoleCreateUpdate`: only `jwt` and `oidc` are accepted.
        if let Some(other) = role_type.as_deref().filter(|t| *t != "jwt" && *t != "oidc") {
            return Err(PolicyError::invalid(
                fields.path("role_type"),
                format!("Vault accepts `jwt` or `oidc` (\"invalid 'role_type': {other}\")"),
            ));
        }
        let claims_type = match fields.opt_str("bound_claims_type")? {
            None | Some("") | Some("string") => ClaimsType::String,
            Some("glob") => ClaimsType::Glob,
            Some(other) => {
                return Err(PolicyError::invalid(
                    fields.path("bound_claims_type"),
                    format!(
                    "Vault accepts `string` or `glob` (\"invalid 'bound_claims_type': {other}\")"
                ),
                ))
            }
        };
        let bound_claims = match fields.map.get("bound_claims") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Some(other) => return Err(fields.wrong_type("bound_claims", "an object", other)),
        };
        if claims_type == ClaimsType::Glob {
            // path_role.go `pathRoleCreateUpdate`: glob values must be strings or lists of
            // strings, or Vault refuses to write the role.
            for (claim, value) in &bound_claims {
                let values = match value {
                    Value::Array(items) => items.iter().collect(),
                    other => vec![other],
                };
                if let Some(bad) = values.iter().find(|v| !v.is_string()) {
                    return Err(PolicyError::invalid(
                        format!("{}.{claim}", fields.path("bound_claims")),
                        format!(
                            "with `bound_claims_type: glob` every value must be a string, found {} (Vault: \"claim is not a string\")",
                            kind(bad)
                        ),
                    ));
                }
            }
        }
        let claim_mappings = match fields.map.get("claim_mappings") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    other => Err(PolicyError::invalid(
                        format!("{}.{k}", fields.path("claim_mappings")),
                        format!("expected a metadata key (a string), found {}", kind(other)),
                    )),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(fields.wrong_type("claim_mappings", "an object", other)),
        };
        // path_role.go `pathRoleCreateUpdate`: "a user claim must be defined on the role".
        let user_claim = fields.opt_str("user_claim")?.unwrap_or_default().to_owned();
        if user_claim.is_empty() {
            return Err(PolicyError::invalid(
                fields.path("user_claim"),
                "Vault requires it (\"a user claim must be defined on the role\"): name a claim every token has, e.g. `repository`",
            ));
        }
        let mut bound_cidrs = comma_list(&fields, "token_bound_cidrs")?;
        bound_cidrs.extend(comma_list(&fields, "bound_cidrs")?);
        let role = Role {
            role_type,
            bound_audiences: comma_list(&fields, "bound_audiences")?,
            bound_subject: fields
                .opt_str("bound_subject")?
                .unwrap_or_default()
                .to_owned(),
            claims_type,
            bound_claims,
            claim_mappings,
            user_claim,
            user_claim_json_pointer: fields.opt_bool("user_claim_json_pointer")?.unwrap_or(false),
            groups_claim: fields
                .opt_str("groups_claim")?
                .unwrap_or_default()
                .to_owned(),
            bound_cidrs,
            clock_skew_leeway: fields.map.get("clock_skew_leeway").and_then(Value::as_i64),
        };
        // path_role.go `pathRoleCreateUpdate`: a `jwt` role needs at least one bound
        // constraint, or Vault refuses to write it.
        if role.role_type.as_deref() != Some("oidc")
            && role.bound_audiences.is_empty()
            && role.bound_subject.is_empty()
            && role.bound_claims.is_empty()
            && role.bound_cidrs.is_empty()
        {
            return Err(PolicyError::invalid(
                if location.is_empty() { "the document" } else { location },
                "Vault refuses a jwt role with no bound_audiences, bound_subject, bound_claims or token_bound_cidrs (\"must have at least one bound constraint when creating/updating a role\")",
            ));
        }
        Ok(role)
    }

    /// True when Vault would log the token in.
    pub(super) fn evaluate(&self, claims: &Claims, report: &mut PolicyReport) -> bool {
        self.warn(report);
        let checks = [
            self.check_role_type(report),
            self.check_subject(claims, report),
            self.check_audience(claims, report),
            self.check_user_claim(claims, report),
            self.check_claim_mappings(claims, report),
            self.check_groups_claim(claims, report),
            self.check_bound_claims(claims, report),
        ];
        !checks.contains(&false)
    }

    fn warn(&self, report: &mut PolicyReport) {
        if self.role_type.is_none() {
            report.warnings.push(
                Reason::new(
                    PolicyReasonId::VaultRoleTypeAbsent,
                    "role_type",
                    "the role names no `role_type`; `vault read` always prints it. Evaluated as `jwt`, but `vault write` without `role_type` creates an `oidc` role, which refuses every JWT login".into(),
                )
                .with_hint("write `role_type=jwt` in the `vault write` command"),
            );
        }
        if !self.bound_cidrs.is_empty() {
            // path_login.go `pathLogin`: `cidrutil.RemoteAddrIsOk`, else permission denied.
            report.warnings.push(
                Reason::new(
                    PolicyReasonId::VaultBoundCidrsNotEvaluated,
                    "token_bound_cidrs",
                    format!(
                        "Vault accepts the login only from {}, which cannot be checked from the token; GitHub-hosted runners have no fixed address (Vault answers `permission denied`)",
                        list(&self.bound_cidrs)
                    ),
                )
                .with_hint("log in from a self-hosted or larger runner with a static address in those ranges"),
            );
        }
        if self.clock_skew_leeway.is_some_and(|l| l < 0) {
            // hashicorp/cap `jwt/jwt.go` `validateAll`: a negative leeway is none at all.
            report.warnings.push(
                Reason::new(
                    PolicyReasonId::VaultNoClockSkewLeeway,
                    "clock_skew_leeway",
                    "clock_skew_leeway is -1: Vault allows no difference between its clock and GitHub's, so a token is refused (\"token not yet valid\", \"token issued in the future\") whenever Vault's clock is behind".into(),
                )
                .with_hint("set `clock_skew_leeway` to 0 (Vault's default of 60 seconds) or more"),
            );
        }
        if self.claims_type == ClaimsType::String {
            for (claim, value) in &self.bound_claims {
                let globbed = strings_of(value).into_iter().find(|v| v.contains('*'));
                if let Some(pattern) = globbed {
                    report.warnings.push(
                        Reason::new(
                            PolicyReasonId::VaultGlobUnderStringType,
                            format!("bound_claims.{claim}"),
                            format!("`{pattern}` contains `*`, but `bound_claims_type` is `string`, so Vault compares it literally"),
                        )
                        .with_hint("set `bound_claims_type=glob` if `*` is meant as a wildcard"),
                    );
                }
            }
        }
    }

    /// path_login.go `pathLogin`: `if role.RoleType == "oidc"`, before the token is read.
    fn check_role_type(&self, report: &mut PolicyReport) -> bool {
        if self.role_type.as_deref() == Some("oidc") {
            report.reasons.push(
                Reason::new(
                    PolicyReasonId::VaultRoleTypeOidc,
                    "role_type",
                    format!("`{OIDC_ROLE_ERROR}`: role_type is `oidc`, which is for browser logins; a JWT login needs `jwt`"),
                )
                .with_hint("use a role with `role_type=jwt` for GitHub Actions (`vault write auth/jwt/role/NAME role_type=jwt ...`); an oidc role cannot be used with a JWT at all"),
            );
            return false;
        }
        report.reasons.push(Reason::new(
            PolicyReasonId::VaultRoleTypeJwt,
            "role_type",
            "role_type is `jwt`, which accepts JWT logins".into(),
        ));
        true
    }

    /// hashicorp/cap `jwt/jwt.go` `validateAll`: `expected.Subject != claims.Subject`, exact.
    fn check_subject(&self, claims: &Claims, report: &mut PolicyReport) -> bool {
        if self.bound_subject.is_empty() {
            return true;
        }
        let sub = claims.subject().unwrap_or_default();
        let bound = &self.bound_subject;
        if bound == sub {
            report.reasons.push(Reason::new(
                PolicyReasonId::VaultSubjectMatched,
                "bound_subject",
                format!("bound_subject `{bound}` equals the token's `sub`"),
            ));
            return true;
        }
        let vault = "error validating token: invalid subject (sub) claim";
        let reason = if bound.to_lowercase() == sub.to_lowercase() {
            Reason::new(
                PolicyReasonId::VaultCaseOnlyMismatch,
                "bound_subject",
                format!("`{vault}`: bound_subject `{bound}` and the token's sub `{sub}` differ only in case; Vault compares exactly"),
            )
            .with_hint(format!("write bound_subject as the token has it: `{sub}`"))
        } else {
            Reason::new(
                PolicyReasonId::VaultSubjectMismatch,
                "bound_subject",
                format!(
                    "`{vault}`: bound_subject is `{bound}`, the token's sub is `{sub}` ({})",
                    classify(sub).describe()
                ),
            )
            .with_hint(subject_hint(bound, sub, "bound_subject"))
        };
        report.reasons.push(reason);
        false
    }

    /// hashicorp/cap `jwt/jwt.go` `validateAudience` (any token audience equal to any bound
    /// one), and path_login.go `pathLogin` (no bound audiences and a non-empty `aud`: refused).
    fn check_audience(&self, claims: &Claims, report: &mut PolicyReport) -> bool {
        let auds = audiences(claims);
        let shown = claims.text("aud").unwrap_or_default();
        if self.bound_audiences.is_empty() {
            let present = match claims.get("aud") {
                Some(Value::String(s)) => !s.is_empty(),
                Some(Value::Array(items)) => !items.is_empty(),
                _ => false,
            };
            if !present {
                return true;
            }
            report.reasons.push(
                Reason::new(
                    PolicyReasonId::VaultAudienceUnbound,
                    "bound_audiences",
                    format!(
                        "`{AUDIENCE_UNBOUND_ERROR}`: the role binds no audience and the token's aud is `{shown}`. Vault 1.17 and later refuse this (so did 1.15.9, 1.15.10, 1.16.3 and 1.16.4; other earlier releases accepted a single-string aud such as GitHub's)"
                    ),
                )
                .with_hint(format!(
                    "bind the audience the step requests: `bound_audiences={shown}` (this narrows the role; {ACTION} requests the audience set in `{AUDIENCE_INPUT}`, or GitHub's default `https://github.com/OWNER` without it)"
                )),
            );
            return false;
        }
        if let Some(aud) = auds.iter().find(|a| self.bound_audiences.contains(a)) {
            report.reasons.push(Reason::new(
                PolicyReasonId::VaultAudienceMatched,
                "bound_audiences",
                format!(
                    "the token's audience `{aud}` is in {}",
                    list(&self.bound_audiences)
                ),
            ));
            return true;
        }
        let vault = "error validating token: invalid audience (aud) claim: audience claim does not match any expected audience";
        let case_only = auds.iter().find_map(|a| {
            self.bound_audiences
                .iter()
                .find(|b| b.to_lowercase() == a.to_lowercase())
                .map(|b| (a, b))
        });
        let reason = match case_only {
            Some((aud, bound)) => Reason::new(
                PolicyReasonId::VaultCaseOnlyMismatch,
                "bound_audiences",
                format!("`{vault}`: the token's aud `{aud}` and the bound audience `{bound}` differ only in case; Vault compares exactly"),
            )
            .with_hint(format!(
                "request exactly `{bound}` (`{AUDIENCE_INPUT}: {bound}` on {ACTION}, `audience: {bound}` here)"
            )),
            None => {
                let wanted = &self.bound_audiences[0];
                Reason::new(
                    PolicyReasonId::VaultAudienceMismatch,
                    "bound_audiences",
                    format!(
                        "`{vault}`: the token's aud is `{shown}`, the role binds {}",
                        list(&self.bound_audiences)
                    ),
                )
                .with_hint(format!(
                    "request the audience the role binds: `{AUDIENCE_INPUT}: {wanted}` on {ACTION} (without it the token has GitHub's default `https://github.com/OWNER`), and `audience: {wanted}` on this step. Widening the role instead (adding `{shown}` to bound_audiences) accepts every token issued for that audience"
                ))
            }
        };
        report.reasons.push(reason);
        false
    }

    /// path_login.go `createIdentity`: the user claim is read directly, or as a JSON pointer
    /// with `user_claim_json_pointer`, and must be a string.
    fn check_user_claim(&self, claims: &Claims, report: &mut PolicyReport) -> bool {
        let claim = &self.user_claim;
        let value = if self.user_claim_json_pointer {
            get_claim(claims, claim)
        } else {
            claims.get(claim).filter(|v| !v.is_null())
        };
        let reason = match value {
            Some(Value::String(s)) => {
                report.reasons.push(Reason::new(
                    PolicyReasonId::VaultUserClaimFound,
                    "user_claim",
                    format!("user_claim `{claim}` is the string `{s}` in the token (the entity alias name)"),
                ));
                return true;
            }
            Some(other) => Reason::new(
                PolicyReasonId::VaultUserClaimNotString,
                "user_claim",
                format!("`claim \"{claim}\" could not be converted to string`: the token's `{claim}` is {}", kind(other)),
            )
            .with_hint("set `user_claim` to a string claim GitHub always issues, such as `repository`, `sub` or `actor`"),
            None => {
                let pointer_note = if claim.starts_with('/') && !self.user_claim_json_pointer {
                    " (it starts with `/`, but `user_claim_json_pointer` is false, so Vault reads it as a claim name, not a JSON pointer)"
                } else {
                    ""
                };
                Reason::new(
                    PolicyReasonId::VaultUserClaimMissing,
                    "user_claim",
                    format!("`claim \"{claim}\" not found in token`: the token has no `{claim}`{pointer_note}"),
                )
                .with_hint(missing_claim_hint(claim, "user_claim"))
            }
        };
        report.reasons.push(reason);
        false
    }

    /// path_login.go `fetchGroups` and `createIdentity`: a set `groups_claim` must be in the
    /// token, as a string or a list of strings.
    fn check_groups_claim(&self, claims: &Claims, report: &mut PolicyReport) -> bool {
        let claim = &self.groups_claim;
        if claim.is_empty() {
            return true;
        }
        let problem = match get_claim(claims, claim) {
            None => format!("`failed to fetch groups: \"{claim}\" claim not found in token`: GitHub's tokens have no `{claim}`"),
            Some(Value::String(_)) => return true,
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => return true,
            Some(Value::Object(_)) => format!("`\"{claim}\" claim could not be converted to string list`: the token's `{claim}` is an object"),
            Some(other) => format!("`value in groups claim could not be parsed as string`: the token's `{claim}` is {}", kind(other)),
        };
        report.reasons.push(
            Reason::new(PolicyReasonId::VaultGroupsClaimUnusable, "groups_claim", problem)
                .with_hint("GitHub's tokens carry no group list: clear `groups_claim` on a role for GitHub Actions (`groups_claim=\"\"`)"),
        );
        false
    }

    /// claims.go `extractMetadata`: a mapped claim that is present must be a string.
    fn check_claim_mappings(&self, claims: &Claims, report: &mut PolicyReport) -> bool {
        let mut ok = true;
        for (source, target) in &self.claim_mappings {
            match get_claim(claims, source) {
                None | Some(Value::String(_)) => {}
                Some(other) => {
                    ok = false;
                    report.reasons.push(
                        Reason::new(
                            PolicyReasonId::VaultClaimMappingNotString,
                            format!("claim_mappings.{source}"),
                            format!("`error converting claim '{source}' to string`: the token's `{source}` (mapped to metadata `{target}`) is {}", kind(other)),
                        )
                        .with_hint("map only string claims; remove this mapping"),
                    );
                }
            }
        }
        ok
    }

    /// claims.go `validateBoundClaims`: every key present and one of its values matching.
    fn check_bound_claims(&self, claims: &Claims, report: &mut PolicyReport) -> bool {
        let mut ok = true;
        for (claim, bound) in &self.bound_claims {
            let reason = self.check_bound_claim(claim, bound, claims);
            ok &= reason.holds();
            report.reasons.push(reason);
        }
        ok
    }

    fn check_bound_claim(&self, claim: &str, bound: &Value, claims: &Claims) -> Reason {
        let location = format!("bound_claims.{claim}");
        let glob_mode = self.claims_type == ClaimsType::Glob;
        let Some(actual) = get_claim(claims, claim) else {
            return Reason::new(
                PolicyReasonId::VaultClaimMissing,
                location,
                format!(
                    "`{CLAIMS_ERROR}: claim \"{claim}\" is missing`: the role binds `{claim}` to {}, the token has no `{claim}`",
                    shown_values(bound)
                ),
            )
            .with_hint(missing_claim_hint(claim, &format!("bound_claims.{claim}")));
        };
        let Some(actual_values) = normalize(actual, true) else {
            return Reason::new(
                PolicyReasonId::VaultClaimMismatch,
                location,
                format!("`{CLAIMS_ERROR}: received claim is not a string, bool, int or list`: the token's `{claim}` is {}", kind(actual)),
            )
            .with_hint(format!("bind a claim that is a string; `{claim}` cannot be bound"));
        };
        let Some(bound_values) = normalize(bound, false) else {
            return Reason::new(
                PolicyReasonId::VaultClaimMismatch,
                location,
                format!("`{CLAIMS_ERROR}: bound claim is not a string, bool, int or list`: the role binds `{claim}` to {}", kind(bound)),
            )
            .with_hint("bind a string, a number, a boolean or a list of them");
        };
        let matching = |fold: bool| {
            bound_values.iter().find_map(|b| {
                actual_values
                    .iter()
                    .find(|a| scalar_matches(b, a, glob_mode, fold))
                    .map(|a| (b, a))
            })
        };
        let token_shown = shown_value(actual);
        let mode = if glob_mode { "glob" } else { "string" };
        if let Some((b, a)) = matching(false) {
            let verb = if glob_mode { "matches" } else { "equals" };
            return Reason::new(
                PolicyReasonId::VaultClaimMatched,
                location,
                format!(
                    "the token's `{claim}` `{}` {verb} `{}` (bound_claims_type {mode})",
                    a.text(),
                    b.text()
                ),
            );
        }
        let vault = format!(
            "{CLAIMS_ERROR}: claim \"{claim}\" does not match any associated bound claim values"
        );
        if let Some((b, a)) = matching(true) {
            return Reason::new(
                PolicyReasonId::VaultCaseOnlyMismatch,
                location,
                format!("`{vault}`: the token's `{claim}` `{}` and the bound value `{}` differ only in case; Vault compares case-sensitively (bound_claims_type {mode})", a.text(), b.text()),
            )
            .with_hint(format!("write the value as the token has it: `{}` (for an owner or repository name that is the same repository, GitHub ignores their case; for a ref, an environment or a workflow it is a different one, which changes which jobs may log in)", a.text()));
        }
        let type_note = bound_values
            .iter()
            .find_map(|b| {
                actual_values
                    .iter()
                    .find(|a| a.text() == b.text() && a.type_name() != b.type_name())
                    .map(|a| (b, a))
            })
            .map(|(b, a)| {
                format!(
                    "; Vault compares types too: the role binds the {} `{}`, the token has the {} `{}`",
                    b.type_name(),
                    b.text(),
                    a.type_name(),
                    a.text()
                )
            });
        let message = format!(
            "`{vault}`: the role binds `{claim}` to {} (bound_claims_type {mode}), the token's `{claim}` is `{token_shown}`{}",
            shown_values(bound),
            type_note.as_deref().unwrap_or_default()
        );
        let hint = match type_note {
            Some(_) => {
                format!("bind `{claim}` as a JSON string, as GitHub issues it: `\"{token_shown}\"`")
            }
            None => mismatch_hint(claim, bound, &bound_values, &token_shown, glob_mode),
        };
        Reason::new(PolicyReasonId::VaultClaimMismatch, location, message).with_hint(hint)
    }
}

/// A list field that `vault write` also takes comma-separated (`TypeCommaStringSlice`).
fn comma_list(fields: &Fields<'_>, key: &str) -> Result<Vec<String>, PolicyError> {
    Ok(fields
        .opt_strings(key)?
        .unwrap_or_default()
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect())
}

/// The token's audiences as cap reads them (`jwt.Audience`: a string or a list of strings).
fn audiences(claims: &Claims) -> Vec<String> {
    match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// claims.go `getClaim`: a name starting with `/` is a JSON pointer (RFC 6901, as
/// mitchellh/pointerstructure reads it), anything else a top-level claim. `null` is absent.
fn get_claim<'a>(claims: &'a Claims, name: &str) -> Option<&'a Value> {
    let Some(pointer) = name.strip_prefix('/') else {
        return claims.get(name).filter(|v| !v.is_null());
    };
    let mut parts = pointer
        .split('/')
        .map(|p| p.replace("~1", "/").replace("~0", "~"));
    let first = parts.next()?;
    let mut current = claims.get(&first)?;
    for part in parts {
        current = match current {
            Value::Object(map) => map.get(&part)?,
            Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    (!current.is_null()).then_some(current)
}

/// A value as claims.go compares it: Go's `string`, `bool` or `json.Number`, or a value that
/// equals nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scalar {
    Str(String),
    Bool(bool),
    /// `json.Number`, by its text.
    Number(String),
    /// A value no bound value equals (a float64 inside a list, a nested list or object).
    Opaque(String),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Str(s) | Scalar::Number(s) | Scalar::Opaque(s) => s.clone(),
            Scalar::Bool(b) => b.to_string(),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Scalar::Str(_) => "string",
            Scalar::Bool(_) => "boolean",
            Scalar::Number(_) => "number",
            Scalar::Opaque(_) => "value",
        }
    }
}

/// claims.go `normalizeList` (after `getClaim` for the token's value): a scalar becomes a list
/// of one, a list stays; an object or `null` is `None`. A top-level number in the token is
/// turned into `json.Number(strconv.Itoa(int(v)))` by `getClaim`, so its fraction is dropped;
/// numbers inside a token's list stay float64 and equal no bound value.
fn normalize(value: &Value, from_token: bool) -> Option<Vec<Scalar>> {
    let number = |n: &serde_json::Number, top: bool| {
        if !from_token {
            return Scalar::Number(n.to_string());
        }
        if !top {
            return Scalar::Opaque(n.to_string());
        }
        let int = n
            .as_i64()
            .map(|i| i.to_string())
            .or_else(|| n.as_u64().map(|u| u.to_string()))
            .or_else(|| n.as_f64().map(|f| (f.trunc() as i64).to_string()))
            .unwrap_or_default();
        Scalar::Number(int)
    };
    let scalar = |v: &Value, top: bool| match v {
        Value::String(s) => Scalar::Str(s.clone()),
        Value::Bool(b) => Scalar::Bool(*b),
        Value::Number(n) => number(n, top),
        other => Scalar::Opaque(other.to_string()),
    };
    match value {
        Value::Array(items) => Some(items.iter().map(|v| scalar(v, false)).collect()),
        Value::Object(_) | Value::Null => None,
        other => Some(vec![scalar(other, true)]),
    }
}

/// claims.go `matchFound`: in string mode Go's `!=` on interfaces (same type and value); in
/// glob mode go-glob on strings only (a token value that is not a string is skipped). `fold`
/// compares ignoring case, to name a case-only difference; Vault never does.
fn scalar_matches(bound: &Scalar, actual: &Scalar, glob_mode: bool, fold: bool) -> bool {
    let fold_text = |s: &str| if fold { s.to_lowercase() } else { s.to_owned() };
    match (bound, actual) {
        (Scalar::Str(b), Scalar::Str(a)) if glob_mode => glob(&fold_text(b), &fold_text(a)),
        _ if glob_mode => false,
        (Scalar::Str(b), Scalar::Str(a)) => fold_text(b) == fold_text(a),
        (Scalar::Bool(b), Scalar::Bool(a)) => b == a,
        (Scalar::Number(b), Scalar::Number(a)) => b == a,
        _ => false,
    }
}

/// ryanuber/go-glob `Glob`, which Vault's glob bound claims use: `*` matches any run of
/// characters (none included); there is no `?`, class or escape; comparison is byte-exact,
/// so case-sensitive. The text between stars is found leftmost, then the last piece must end
/// the value, which is the same as full glob matching for `*` alone.
pub(crate) fn glob(pattern: &str, value: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == value;
    }
    let pieces: Vec<&str> = pattern.split('*').collect();
    let (first, middle, last) = match pieces.as_slice() {
        [first, middle @ .., last] => (*first, middle, *last),
        _ => return false,
    };
    let Some(mut rest) = value.strip_prefix(first) else {
        return false;
    };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// The strings among a bound value (one, or a list's).
fn strings_of(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A bound value for messages: `` `x` `` or `` [`x`, `y`] ``, numbers and booleans unquoted.
fn shown_values(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let shown: Vec<String> = items.iter().map(shown_value).collect();
            list(&shown)
        }
        other => format!("`{}`", shown_value(other)),
    }
}

fn shown_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What to do about a claim the token lacks, workflow side first.
fn missing_claim_hint(claim: &str, field: &str) -> String {
    match claim {
        "environment" => format!(
            "GitHub adds `environment` only for a job that declares one: add `environment: NAME` to this job (or check a deploy job from a preflight job with `job-environment`, `--job-environment` on the command line). Removing `{field}` instead widens who may log in"
        ),
        _ => format!(
            "GitHub's tokens have no `{claim}`, and no workflow setting adds it: name a claim they always carry in `{field}`, such as `repository`, `sub` or `actor`"
        ),
    }
}

/// What to do about a bound claim whose value the token does not have, workflow side first;
/// a change to the role that accepts more jobs is labelled as widening.
fn mismatch_hint(
    claim: &str,
    bound: &Value,
    bound_values: &[Scalar],
    actual: &str,
    glob_mode: bool,
) -> String {
    let first = bound_values.first().map(Scalar::text).unwrap_or_default();
    let widening = format!(
        "Widening the role instead (adding `{actual}` to bound_claims.{claim}) lets every job with that {claim} log in"
    );
    let workflow = match claim {
        "environment" => format!(
            "this job declares `environment: {actual}`; the role is for {}: log in from a job with `environment: {first}`",
            shown_values(bound)
        ),
        "ref" => format!(
            "the role accepts {}: run the workflow on that ref (`{actual}` is this run's ref)",
            shown_values(bound)
        ),
        "event_name" => format!(
            "the role accepts runs triggered by {}: this run is a `{actual}` event",
            shown_values(bound)
        ),
        "sub" if !glob_mode => subject_hint(&first, actual, "bound_claims.sub"),
        "sub" => format!(
            "the role accepts subjects like {}; this job's is `{actual}` ({}): change the job so GitHub issues a matching subject",
            shown_values(bound),
            classify(actual).describe()
        ),
        "repository" | "repository_owner" | "repository_id" | "repository_owner_id" => format!(
            "the role is for {}: log in from that repository's workflows",
            shown_values(bound)
        ),
        _ => format!(
            "the role accepts {} for `{claim}`: run the job so that GitHub issues one of them",
            shown_values(bound)
        ),
    };
    format!("{workflow}. {widening}")
}

/// Why a job's subject is not the bound one, in terms of what the workflow controls.
fn subject_hint(bound: &str, sub: &str, field: &str) -> String {
    let (want, have) = (classify(bound), classify(sub));
    let wanted_context = want.context().map(Context::render).unwrap_or_default();
    let workflow = match (want.context(), have.context()) {
        _ if matches!(have, SubjectForm::Custom { .. }) && matches!(want, SubjectForm::Default { .. }) => {
            "the repository's OIDC subject template is customised, so `sub` is not in the default form: bind the subject GitHub issues, or restore the default with `use_default: true` on `PUT /repos/OWNER/REPO/actions/oidc/customization/sub`, or bind claims such as `repository` and `ref` with bound_claims, which no template changes".to_owned()
        }
        _ if want.is_immutable() != have.is_immutable() && want.context() == have.context() => {
            if have.is_immutable() {
                format!("this repository issues the immutable subject form (`OWNER@ID/REPO@ID`): write {field} as `{sub}`, or bind the `repository` claim, which both forms share")
            } else {
                format!("the role is written in the immutable form, but this repository issues `OWNER/REPO`: write {field} as `{sub}` (`GET /repos/OWNER/REPO/actions/oidc/customization/sub` shows `use_immutable_subject`)")
            }
        }
        (Some(Context::Environment(env)), Some(other)) if !matches!(other, Context::Environment(_)) => format!(
            "the role expects the environment form: GitHub writes `environment:{env}` into `sub` only for a job that declares it. Add `environment: {env}` to this job (or check a deploy job from a preflight job with `job-environment: {env}`, `--job-environment {env}` on the command line)"
        ),
        (Some(Context::Environment(want_env)), Some(Context::Environment(env))) => format!(
            "this job declares `environment: {env}`; the role is for `{want_env}`: log in from a job with `environment: {want_env}`"
        ),
        (Some(other), Some(Context::Environment(env))) => format!(
            "this job declares `environment: {env}`, so GitHub issued the environment form instead of `{}`: log in from a job without `environment:`, or use a role bound to this environment's subject",
            other.render()
        ),
        (Some(Context::PullRequest), Some(_)) => {
            "the role expects a pull_request run: GitHub issues `repo:OWNER/REPO:pull_request` for pull_request events of jobs without an environment".to_owned()
        }
        (Some(_), Some(Context::PullRequest)) => format!(
            "pull_request events get `repo:OWNER/REPO:pull_request`, not a ref: the role expects `{wanted_context}`, so log in from a push or workflow_dispatch run of that ref"
        ),
        (Some(_), Some(_)) => format!(
            "the role expects `{wanted_context}`: run the workflow on that ref"
        ),
        _ => format!("the role expects `{bound}`: run the job so that GitHub issues that subject"),
    };
    format!("{workflow}. Widening the role instead (bound_claims_type=glob with a `*` in bound_claims.sub) lets more jobs log in")
}

/// Used by detection: whether an object looks like a Vault JWT role, or a `vault read`
/// response holding one.
pub(super) fn looks_like_role(has: &dyn Fn(&str) -> bool) -> bool {
    [
        "user_claim",
        "bound_claims",
        "bound_audiences",
        "bound_subject",
        "role_type",
    ]
    .iter()
    .any(|k| has(k))
}

/// The `data` object of a `vault read` response, for detection.
pub(super) fn response_data(object: &Map<String, Value>) -> Option<&Map<String, Value>> {
    if object.contains_key("request_id") || object.contains_key("lease_id") {
        object.get("data")?.as_object()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::token;
    use super::super::{parse, PolicyFormat};
    use super::*;
    use serde_json::json;

    fn role(fields: Value) -> Value {
        let mut base = json!({
            "role_type": "jwt",
            "user_claim": "repository",
            "bound_audiences": ["https://github.com/octo-org"],
            "bound_claims_type": "string",
            "bound_claims": {"repository": "octo-org/octo-repo"},
            "bound_subject": "",
            "claim_mappings": null,
            "groups_claim": "",
            "token_bound_cidrs": [],
            "clock_skew_leeway": 0,
            "expiration_leeway": 0,
            "not_before_leeway": 0,
        });
        if let (Some(map), Value::Object(changes)) = (base.as_object_mut(), fields) {
            for (k, v) in changes {
                map.insert(k, v);
            }
        }
        base
    }

    fn github(overrides: Value) -> Claims {
        let mut o = json!({"aud": "https://github.com/octo-org"});
        if let (Some(map), Value::Object(more)) = (o.as_object_mut(), overrides) {
            map.extend(more);
        }
        token(o)
    }

    fn run(document: &Value, claims: &Claims) -> PolicyReport {
        let policy = parse(&document.to_string(), None).unwrap();
        assert_eq!(policy.format(), PolicyFormat::Vault);
        policy.evaluate(claims)
    }

    fn refusals(report: &PolicyReport) -> Vec<(PolicyReasonId, String)> {
        report
            .reasons
            .iter()
            .filter(|r| !r.holds())
            .map(|r| (r.id, r.location.clone()))
            .collect()
    }

    #[test]
    fn the_vault_read_response_and_its_data_both_parse() {
        let data = role(json!({}));
        let response = json!({"request_id": "5e1c", "lease_id": "", "lease_duration": 0,
            "renewable": false, "data": data, "warnings": null, "mount_type": "jwt"});
        for document in [&data, &response] {
            let report = run(document, &github(json!({})));
            assert!(report.allowed, "{:?}", report.reasons);
        }
    }

    #[test]
    fn an_oidc_role_refuses_every_jwt() {
        let report = run(&role(json!({"role_type": "oidc"})), &github(json!({})));
        assert!(!report.allowed);
        assert_eq!(
            refusals(&report),
            vec![(PolicyReasonId::VaultRoleTypeOidc, "role_type".into())]
        );
        assert!(report.reasons[0]
            .message
            .contains("role with oidc role_type is not allowed"));
    }

    #[test]
    fn audiences_are_required_when_the_token_has_one_and_compared_exactly() {
        let unbound = run(&role(json!({"bound_audiences": []})), &github(json!({})));
        assert_eq!(
            refusals(&unbound),
            vec![(
                PolicyReasonId::VaultAudienceUnbound,
                "bound_audiences".into()
            )]
        );
        let reason = &unbound.reasons.iter().find(|r| !r.holds()).unwrap();
        assert!(reason
            .message
            .contains("audience claim found in JWT but no audiences bound to the role"));
        assert!(reason.message.contains("1.17"), "{}", reason.message);
        // No aud at all: nothing to bind (path_login.go checks only a present audience).
        let no_aud = run(
            &role(json!({"bound_audiences": []})),
            &github(json!({"aud": null})),
        );
        assert!(no_aud.allowed, "{:?}", no_aud.reasons);
        let empty_list = run(
            &role(json!({"bound_audiences": []})),
            &github(json!({"aud": []})),
        );
        assert!(empty_list.allowed);

        let mismatch = run(
            &role(json!({"bound_audiences": ["sigstore"]})),
            &github(json!({})),
        );
        let r = mismatch.reasons.iter().find(|r| !r.holds()).unwrap();
        assert_eq!(r.id, PolicyReasonId::VaultAudienceMismatch);
        assert!(
            r.message.contains("`https://github.com/octo-org`") && r.message.contains("`sigstore`")
        );
        let hint = r.hint.as_deref().unwrap();
        assert!(
            hint.starts_with("request the audience the role binds: `jwtGithubAudience: sigstore`"),
            "{hint}"
        );
        assert!(hint.contains("Widening"), "{hint}");

        let list = run(
            &role(json!({"bound_audiences": "a, https://github.com/octo-org"})),
            &github(json!({"aud": ["x", "https://github.com/octo-org"]})),
        );
        assert!(list.allowed, "{:?}", list.reasons);

        let case = run(
            &role(json!({"bound_audiences": ["https://github.com/Octo-Org"]})),
            &github(json!({})),
        );
        assert_eq!(
            refusals(&case),
            vec![(
                PolicyReasonId::VaultCaseOnlyMismatch,
                "bound_audiences".into()
            )]
        );
    }

    #[test]
    fn bound_subject_is_exact_and_explains_the_form() {
        let bound = "repo:octo-org/octo-repo:ref:refs/heads/main";
        let report = run(&role(json!({"bound_subject": bound})), &github(json!({})));
        let r = report.reasons.iter().find(|r| !r.holds()).unwrap();
        assert_eq!(r.id, PolicyReasonId::VaultSubjectMismatch);
        assert!(r.message.contains("invalid subject (sub) claim"));
        assert!(r.message.contains(bound) && r.message.contains("environment:prod"));
        let hint = r.hint.as_deref().unwrap();
        assert!(
            hint.starts_with("this job declares `environment: prod`"),
            "{hint}"
        );

        let env = "repo:octo-org/octo-repo:environment:prod";
        let branch_job = github(json!({"sub": bound, "environment": null}));
        let report = run(&role(json!({"bound_subject": env})), &branch_job);
        let hint = report
            .reasons
            .iter()
            .find(|r| !r.holds())
            .unwrap()
            .hint
            .clone()
            .unwrap();
        assert!(
            hint.contains("Add `environment: prod` to this job"),
            "{hint}"
        );

        let case = run(
            &role(json!({"bound_subject": "repo:Octo-Org/octo-repo:environment:prod"})),
            &github(json!({})),
        );
        assert_eq!(
            refusals(&case),
            vec![(
                PolicyReasonId::VaultCaseOnlyMismatch,
                "bound_subject".into()
            )]
        );
        let ok = run(&role(json!({"bound_subject": env})), &github(json!({})));
        assert!(ok.allowed);
    }

    #[test]
    fn bound_claims_every_key_must_match_one_value() {
        let report = run(
            &role(
                json!({"bound_claims": {"repository": "octo-org/octo-repo", "environment": ["staging", "qa"]}}),
            ),
            &github(json!({})),
        );
        assert_eq!(
            refusals(&report),
            vec![(
                PolicyReasonId::VaultClaimMismatch,
                "bound_claims.environment".into()
            )]
        );
        let r = report.reasons.iter().find(|r| !r.holds()).unwrap();
        assert!(
            r.message
                .contains("claim \"environment\" does not match any associated bound claim values"),
            "{}",
            r.message
        );
        assert!(r.message.contains("[`staging`, `qa`]") && r.message.contains("`prod`"));
        let hint = r.hint.as_deref().unwrap();
        assert!(
            hint.starts_with("this job declares `environment: prod`"),
            "{hint}"
        );
        assert!(hint.contains("Widening the role instead"), "{hint}");

        let missing = run(
            &role(json!({"bound_claims": {"environment": "prod"}})),
            &github(json!({"environment": null})),
        );
        let r = missing.reasons.iter().find(|r| !r.holds()).unwrap();
        assert_eq!(r.id, PolicyReasonId::VaultClaimMissing);
        assert!(r.message.contains("claim \"environment\" is missing"));
        assert!(r
            .hint
            .as_deref()
            .unwrap()
            .contains("add `environment: NAME` to this job"));
    }

    #[test]
    fn string_mode_compares_types_and_case() {
        let number = run(
            &role(json!({"bound_claims": {"repository_id": 74}})),
            &github(json!({})),
        );
        let r = number.reasons.iter().find(|r| !r.holds()).unwrap();
        assert_eq!(r.id, PolicyReasonId::VaultClaimMismatch);
        assert!(
            r.message
                .contains("the role binds the number `74`, the token has the string `74`"),
            "{}",
            r.message
        );
        // A numeric claim in the token is compared as an integer (getClaim's json.Number).
        let numeric = run(
            &role(json!({"bound_claims": {"run_number": 12}})),
            &github(json!({"run_number": 12.0})),
        );
        assert!(numeric.allowed, "{:?}", numeric.reasons);
        let boolean = run(
            &role(json!({"bound_claims": {"flag": true}})),
            &github(json!({"flag": true})),
        );
        assert!(boolean.allowed);
        let case = run(
            &role(json!({"bound_claims": {"repository": "Octo-Org/octo-repo"}})),
            &github(json!({})),
        );
        assert_eq!(
            refusals(&case),
            vec![(
                PolicyReasonId::VaultCaseOnlyMismatch,
                "bound_claims.repository".into()
            )]
        );
        // The fix names the token's value, and that for a ref it would be another one.
        let hint = case
            .reasons
            .iter()
            .find(|r| !r.holds())
            .and_then(|r| r.hint.clone());
        assert_eq!(
            hint.as_deref(),
            Some("write the value as the token has it: `octo-org/octo-repo` (for an owner or repository name that is the same repository, GitHub ignores their case; for a ref, an environment or a workflow it is a different one, which changes which jobs may log in)")
        );
        let literal = run(
            &role(json!({"bound_claims": {"ref": "refs/heads/*"}})),
            &github(json!({})),
        );
        assert!(!literal.allowed);
        assert_eq!(
            literal.warnings[0].id,
            PolicyReasonId::VaultGlobUnderStringType
        );
    }

    #[test]
    fn glob_mode_is_star_only_and_case_sensitive() {
        let glob_role = |pattern: &str| {
            role(json!({"bound_claims_type": "glob", "bound_claims": {"sub": pattern}}))
        };
        for (pattern, allowed) in [
            ("repo:octo-org/*", true),
            ("repo:octo-org/octo-repo:environment:*", true),
            ("*:environment:prod", true),
            ("repo:*/octo-repo:*", true),
            ("repo:octo-org/octo-repo:environment:pro?", false),
            ("repo:OCTO-ORG/*", false),
            ("repo:octo-org/*:ref:*", false),
        ] {
            let report = run(&glob_role(pattern), &github(json!({})));
            assert_eq!(report.allowed, allowed, "{pattern}: {:?}", report.reasons);
        }
        let case = run(&glob_role("repo:OCTO-ORG/*"), &github(json!({})));
        assert_eq!(refusals(&case)[0].0, PolicyReasonId::VaultCaseOnlyMismatch);
        // Vault refuses to write a glob role with a non-string value.
        let err = parse(
            &role(json!({"bound_claims_type": "glob", "bound_claims": {"x": 1}})).to_string(),
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("bound_claims.x"), "{err}");
    }

    #[test]
    fn go_glob_semantics() {
        for (pattern, value, want) in [
            ("", "", true),
            ("", "a", false),
            ("*", "", true),
            ("a*a", "a", false),
            ("a*a", "aa", true),
            ("*aa*a", "aaa", true),
            ("*aa*a", "aa", false),
            ("a*b*c", "abc", true),
            ("a*b*c", "acb", false),
            ("*ab*ab", "abab", true),
            ("a?c", "abc", false),
            ("a?c", "a?c", true),
            ("ü*", "üx", true),
        ] {
            assert_eq!(glob(pattern, value), want, "{pattern:?} {value:?}");
        }
    }

    #[test]
    fn the_user_claim_must_be_a_string_in_the_token() {
        let missing = run(
            &role(json!({"user_claim": "environment"})),
            &github(json!({"environment": null})),
        );
        let r = missing.reasons.iter().find(|r| !r.holds()).unwrap();
        assert_eq!(r.id, PolicyReasonId::VaultUserClaimMissing);
        assert!(r
            .message
            .contains("claim \"environment\" not found in token"));
        let pointer = run(
            &role(json!({"user_claim": "/repository"})),
            &github(json!({})),
        );
        let r = pointer.reasons.iter().find(|r| !r.holds()).unwrap();
        assert!(
            r.message.contains("user_claim_json_pointer"),
            "{}",
            r.message
        );
        let with_pointer = run(
            &role(json!({"user_claim": "/repository", "user_claim_json_pointer": true})),
            &github(json!({})),
        );
        assert!(with_pointer.allowed);
        let number = run(&role(json!({"user_claim": "n"})), &github(json!({"n": 3})));
        assert_eq!(
            refusals(&number),
            vec![(PolicyReasonId::VaultUserClaimNotString, "user_claim".into())]
        );
    }

    #[test]
    fn groups_mappings_and_pointers() {
        let groups = run(&role(json!({"groups_claim": "groups"})), &github(json!({})));
        assert_eq!(
            refusals(&groups),
            vec![(
                PolicyReasonId::VaultGroupsClaimUnusable,
                "groups_claim".into()
            )]
        );
        let mapping = run(
            &role(json!({"claim_mappings": {"/nested": "n", "actor": "actor"}})),
            &github(json!({"nested": {"a": 1}})),
        );
        assert_eq!(
            refusals(&mapping),
            vec![(
                PolicyReasonId::VaultClaimMappingNotString,
                "claim_mappings./nested".into()
            )]
        );
        let nested = run(
            &role(json!({"bound_claims": {"/ctx/env~1name": "prod", "/list/1": "b"}})),
            &github(json!({"ctx": {"env/name": "prod"}, "list": ["a", "b"]})),
        );
        assert!(nested.allowed, "{:?}", nested.reasons);
    }

    #[test]
    fn roles_vault_would_not_write_are_refused_with_its_message() {
        for (fields, needle) in [
            (json!({"user_claim": ""}), "a user claim must be defined"),
            (json!({"role_type": "web"}), "invalid 'role_type'"),
            (
                json!({"bound_claims_type": "regex"}),
                "invalid 'bound_claims_type'",
            ),
            (
                json!({"bound_audiences": [], "bound_claims": null}),
                "at least one bound constraint",
            ),
        ] {
            let err = parse(&role(fields).to_string(), None).unwrap_err();
            assert!(err.to_string().contains(needle), "{err}");
        }
    }

    #[test]
    fn warnings_for_what_the_token_cannot_show() {
        let report = run(
            &role(
                json!({"role_type": null, "token_bound_cidrs": ["10.0.0.0/8"], "clock_skew_leeway": -1}),
            ),
            &github(json!({})),
        );
        let ids: Vec<_> = report.warnings.iter().map(|w| w.id).collect();
        assert_eq!(
            ids,
            vec![
                PolicyReasonId::VaultRoleTypeAbsent,
                PolicyReasonId::VaultBoundCidrsNotEvaluated,
                PolicyReasonId::VaultNoClockSkewLeeway
            ]
        );
        assert!(report.allowed);
    }

    #[test]
    fn every_cause_is_one_refusal_in_vaults_order() {
        let report = run(
            &role(
                json!({"role_type": "oidc", "bound_audiences": ["sigstore"], "user_claim": "nope", "bound_claims": {"environment": "qa"}}),
            ),
            &github(json!({})),
        );
        let ids: Vec<_> = refusals(&report).into_iter().map(|(id, _)| id).collect();
        assert_eq!(
            ids,
            vec![
                PolicyReasonId::VaultRoleTypeOidc,
                PolicyReasonId::VaultAudienceMismatch,
                PolicyReasonId::VaultUserClaimMissing,
                PolicyReasonId::VaultClaimMismatch
            ]
        );
    }
}
