//! Findings: one diagnosis each, with a stable id, a severity, a one-line message and a hint.
//! The same list drives the log, the annotations, the job summary, the JSON output and tests.

use serde::Serialize;

pub use crate::commands::Level as Severity;

/// Largest `findings` output, in bytes. A real run has a few kilobytes of findings; a flood
/// (many trust documents, or claims quoted at length) is cut at a whole finding and ends with
/// a `findings-truncated` entry that says how many were left out, so the output stays valid
/// JSON.
pub const MAX_FINDINGS_JSON_BYTES: usize = 256 * 1024;

/// Annotations written per level (error, warning, notice) in one step: GitHub shows only the
/// first 10 of each. With more, the first 9 are written and the 10th says how many more the
/// log lists.
pub const ANNOTATIONS_PER_LEVEL: usize = 10;

/// Findings listed in the step log and the job summary; a line says how many more there are.
pub const MAX_LISTED_FINDINGS: usize = 100;

/// Reasons listed per trust document in the step log and the job summary.
pub const MAX_LISTED_REASONS: usize = 20;

/// Declares an id enum: each variant with the kebab-case text shown for it, `as_str`, `all`
/// (so that the check of docs/findings.md sees every variant), `Display` and `Serialize` as
/// that text.
macro_rules! ids {
    ($(#[$meta:meta])* $name:ident {
        $($variant:ident => $text:literal,)*
        $(@ $(#[$nmeta:meta])* $nested:ident($inner:ty),)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $(#[doc = concat!("`", $text, "`")] $variant,)*
            $($(#[$nmeta])* $nested($inner),)?
        }

        impl $name {
            /// Every id, in declaration order (nested ids last).
            pub fn all() -> impl Iterator<Item = $name> {
                let own = [$($name::$variant,)*].into_iter();
                $(let own = own.chain(<$inner>::all().map($name::$nested));)?
                own
            }

            /// The kebab-case id shown in outputs, JSON and docs/findings.md.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                    $($name::$nested(inner) => inner.as_str(),)?
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

ids! {
    /// The id of a finding the checks produce (the "Finding ids" table of docs/findings.md).
    /// Each has one producer. A trust document's refusals and warnings are findings too, with the
    /// evaluator's id: [`FindingId::Policy`].
    FindingId {
        SubjectMismatch => "subject-mismatch",
        SubjectAbsent => "subject-absent",
        SubjectFormEnvironment => "subject-form-environment",
        SubjectFormPullRequest => "subject-form-pull-request",
        SubjectFormBranch => "subject-form-branch",
        SubjectFormTag => "subject-form-tag",
        SubjectFormRef => "subject-form-ref",
        SubjectFormCustom => "subject-form-custom",
        SubjectFormUnrecognized => "subject-form-unrecognized",
        CaseOnlyMismatch => "case-only-mismatch",
        ImmutableSubject => "immutable-subject",
        ClaimAbsent => "claim-absent",
        ClaimMismatch => "claim-mismatch",
        AudienceIsDefault => "audience-is-default",
        AudienceMismatch => "audience-mismatch",
        AudienceGcpFormat => "audience-gcp-format",
        IssuerEnterpriseSlug => "issuer-enterprise-slug",
        IssuerGheCom => "issuer-ghe-com",
        IssuerGhes => "issuer-ghes",
        IssuerTrailingSlash => "issuer-trailing-slash",
        IssuerMismatch => "issuer-mismatch",
        ReusableWorkflow => "reusable-workflow",
        TrustedPublisherClaims => "trusted-publisher-claims",
        PublisherMatches => "publisher-matches",
        PublisherMismatch => "publisher-mismatch",
        PublisherUnsupported => "publisher-unsupported",
        TokenExpired => "token-expired",
        TokenExpiring => "token-expiring",
        TokenNotYetValid => "token-not-yet-valid",
        TimeClaimInvalid => "time-claim-invalid",
        ClockSkew => "clock-skew",
        GcpSubjectTooLong => "gcp-subject-too-long",
        ClaimMissing => "claim-missing",
        SignatureInvalid => "signature-invalid",
        SignatureUnverified => "signature-unverified",
        IssuerUntrusted => "issuer-untrusted",
        TokenRefused => "token-refused",
        FindingsTruncated => "findings-truncated",
        Prediction => "prediction",
        PredictionUnavailable => "prediction-unavailable",
        NoTokenPermission => "no-token-permission",
        NoTokenFork => "no-token-fork",
        NoTokenDependabot => "no-token-dependabot",
        NoTokenAct => "no-token-act",
        AuditJobRefused => "audit-job-refused",
        AuditTokenCapped => "audit-token-capped",
        AuditDocumentUnused => "audit-document-unused",
        AuditTrustPullRequest => "audit-trust-pull-request",
        AuditTrustAnyBranch => "audit-trust-any-branch",
        AuditTrustAnyEnvironment => "audit-trust-any-environment",
        AuditTrustAnyRepository => "audit-trust-any-repository",
        AuditTrustOwnerPrefix => "audit-trust-owner-prefix",
        AuditTrustForallvalues => "audit-trust-forallvalues",
        AuditTrustGcpAnyOwner => "audit-trust-gcp-any-owner",
        AuditTrustAzureWildcard => "audit-trust-azure-wildcard",
        AuditWorkflowInvalid => "audit-workflow-invalid",
        AuditTriggerUnknown => "audit-trigger-unknown",
        AuditEnvironmentExpression => "audit-environment-expression",
        AuditConditionUnevaluated => "audit-condition-unevaluated",
        AuditUnnamedRefs => "audit-unnamed-refs",
        AuditReusableMissing => "audit-reusable-missing",
        AuditReusableRemote => "audit-reusable-remote",
        @
        /// A trust document's reason, as a refusal (error) or a warning.
        Policy(PolicyReasonId),
    }
}

ids! {
    /// The id of a trust policy evaluator's reason (docs/findings.md's "Trust policy reason ids"
    /// table): why a statement, credential or condition allows, refuses or deserves a warning.
    PolicyReasonId {
        AwsActionMismatch => "aws-action-mismatch",
        AwsCaseOnlyMismatch => "aws-case-only-mismatch",
        AwsClaimKeyUnsure => "aws-claim-key-unsure",
        AwsClaimNotPassed => "aws-claim-not-passed",
        AwsConditionFailed => "aws-condition-failed",
        AwsConditionKeyNotFromToken => "aws-condition-key-not-from-token",
        AwsConditionKeyPrefixMismatch => "aws-condition-key-prefix-mismatch",
        AwsConditionPassed => "aws-condition-passed",
        AwsExplicitDeny => "aws-explicit-deny",
        AwsForallvaluesAbsentKey => "aws-forallvalues-absent-key",
        AwsImplicitDeny => "aws-implicit-deny",
        AwsOperatorNotEvaluated => "aws-operator-not-evaluated",
        AwsPolicyVariableUnknown => "aws-policy-variable-unknown",
        AwsPrincipalMismatch => "aws-principal-mismatch",
        AwsStatementAllows => "aws-statement-allows",
        AwsStatementDenies => "aws-statement-denies",
        AwsStatementNotMatched => "aws-statement-not-matched",
        AwsWildcardUnderStringequals => "aws-wildcard-under-stringequals",
        AzureAudienceMatched => "azure-audience-matched",
        AzureAudienceMismatch => "azure-audience-mismatch",
        AzureCaseOnlyMismatch => "azure-case-only-mismatch",
        AzureCredentialMatches => "azure-credential-matches",
        AzureCredentialNotMatched => "azure-credential-not-matched",
        AzureExpressionFailed => "azure-expression-failed",
        AzureExpressionMatched => "azure-expression-matched",
        AzureIssuerMatched => "azure-issuer-matched",
        AzureIssuerMismatch => "azure-issuer-mismatch",
        AzureNoMatchingCredential => "azure-no-matching-credential",
        AzureSubjectMatched => "azure-subject-matched",
        AzureSubjectMismatch => "azure-subject-mismatch",
        AzureTooManyCredentials => "azure-too-many-credentials",
        GcpAudienceMatched => "gcp-audience-matched",
        GcpAudienceMismatch => "gcp-audience-mismatch",
        GcpCelFailed => "gcp-cel-failed",
        GcpCelTimeout => "gcp-cel-timeout",
        GcpClaimAbsent => "gcp-claim-absent",
        GcpConditionError => "gcp-condition-error",
        GcpConditionFailed => "gcp-condition-failed",
        GcpConditionPassed => "gcp-condition-passed",
        GcpIssuerMatched => "gcp-issuer-matched",
        GcpIssuerMismatch => "gcp-issuer-mismatch",
        GcpMappingError => "gcp-mapping-error",
        GcpNoAttributeCondition => "gcp-no-attribute-condition",
        GcpProviderDisabled => "gcp-provider-disabled",
        GcpSubjectMapped => "gcp-subject-mapped",
        GcpSubjectNotMapped => "gcp-subject-not-mapped",
        GcpSubjectNotString => "gcp-subject-not-string",
        GcpMappedAttributesTooLarge => "gcp-mapped-attributes-too-large",
        GcpMappedSubjectTooLong => "gcp-mapped-subject-too-long",
        GcpSharedIssuerWithoutCondition => "gcp-shared-issuer-without-condition",
        GcpUnmappedAttribute => "gcp-unmapped-attribute",
        VaultRoleTypeJwt => "vault-role-type-jwt",
        VaultRoleTypeOidc => "vault-role-type-oidc",
        VaultRoleTypeAbsent => "vault-role-type-absent",
        VaultSubjectMatched => "vault-subject-matched",
        VaultSubjectMismatch => "vault-subject-mismatch",
        VaultAudienceMatched => "vault-audience-matched",
        VaultAudienceMismatch => "vault-audience-mismatch",
        VaultAudienceUnbound => "vault-audience-unbound",
        VaultCaseOnlyMismatch => "vault-case-only-mismatch",
        VaultUserClaimFound => "vault-user-claim-found",
        VaultUserClaimMissing => "vault-user-claim-missing",
        VaultUserClaimNotString => "vault-user-claim-not-string",
        VaultGroupsClaimUnusable => "vault-groups-claim-unusable",
        VaultClaimMappingNotString => "vault-claim-mapping-not-string",
        VaultClaimMatched => "vault-claim-matched",
        VaultClaimMismatch => "vault-claim-mismatch",
        VaultClaimMissing => "vault-claim-missing",
        VaultGlobUnderStringType => "vault-glob-under-string-type",
        VaultBoundCidrsNotEvaluated => "vault-bound-cidrs-not-evaluated",
        VaultNoClockSkewLeeway => "vault-no-clock-skew-leeway",
    }
}

impl PolicyReasonId {
    /// Whether a reason with this id says a part of the document holds for the token
    /// (matched, passed, allows) rather than why it does not. A match with no wildcard arm:
    /// a new id does not compile until it is put on one side. (Not read from the wording:
    /// `aws-statement-not-matched` and `gcp-subject-not-mapped` end like ids that hold.)
    pub fn holds(self) -> bool {
        match self {
            PolicyReasonId::AwsConditionPassed
            | PolicyReasonId::AwsStatementAllows
            | PolicyReasonId::AzureAudienceMatched
            | PolicyReasonId::AzureCredentialMatches
            | PolicyReasonId::AzureExpressionMatched
            | PolicyReasonId::AzureIssuerMatched
            | PolicyReasonId::AzureSubjectMatched
            | PolicyReasonId::GcpAudienceMatched
            | PolicyReasonId::GcpConditionPassed
            | PolicyReasonId::GcpIssuerMatched
            | PolicyReasonId::GcpSubjectMapped
            | PolicyReasonId::VaultRoleTypeJwt
            | PolicyReasonId::VaultSubjectMatched
            | PolicyReasonId::VaultAudienceMatched
            | PolicyReasonId::VaultUserClaimFound
            | PolicyReasonId::VaultClaimMatched => true,
            PolicyReasonId::GcpClaimAbsent
            | PolicyReasonId::GcpMappedAttributesTooLarge
            | PolicyReasonId::GcpSharedIssuerWithoutCondition
            | PolicyReasonId::AwsCaseOnlyMismatch
            | PolicyReasonId::AwsClaimKeyUnsure
            | PolicyReasonId::AwsClaimNotPassed
            | PolicyReasonId::AwsPolicyVariableUnknown
            | PolicyReasonId::AwsActionMismatch
            | PolicyReasonId::AwsConditionFailed
            | PolicyReasonId::AwsConditionKeyNotFromToken
            | PolicyReasonId::AwsConditionKeyPrefixMismatch
            | PolicyReasonId::AwsExplicitDeny
            | PolicyReasonId::AwsForallvaluesAbsentKey
            | PolicyReasonId::AwsImplicitDeny
            | PolicyReasonId::AwsOperatorNotEvaluated
            | PolicyReasonId::AwsPrincipalMismatch
            | PolicyReasonId::AwsStatementDenies
            | PolicyReasonId::AwsStatementNotMatched
            | PolicyReasonId::AwsWildcardUnderStringequals
            | PolicyReasonId::AzureAudienceMismatch
            | PolicyReasonId::AzureCaseOnlyMismatch
            | PolicyReasonId::AzureCredentialNotMatched
            | PolicyReasonId::AzureExpressionFailed
            | PolicyReasonId::AzureIssuerMismatch
            | PolicyReasonId::AzureNoMatchingCredential
            | PolicyReasonId::AzureSubjectMismatch
            | PolicyReasonId::AzureTooManyCredentials
            | PolicyReasonId::GcpAudienceMismatch
            | PolicyReasonId::GcpCelFailed
            | PolicyReasonId::GcpCelTimeout
            | PolicyReasonId::GcpConditionError
            | PolicyReasonId::GcpConditionFailed
            | PolicyReasonId::GcpIssuerMismatch
            | PolicyReasonId::GcpMappingError
            | PolicyReasonId::GcpNoAttributeCondition
            | PolicyReasonId::GcpProviderDisabled
            | PolicyReasonId::GcpSubjectNotMapped
            | PolicyReasonId::GcpSubjectNotString
            | PolicyReasonId::GcpMappedSubjectTooLong
            | PolicyReasonId::GcpUnmappedAttribute
            | PolicyReasonId::VaultRoleTypeOidc
            | PolicyReasonId::VaultRoleTypeAbsent
            | PolicyReasonId::VaultSubjectMismatch
            | PolicyReasonId::VaultAudienceMismatch
            | PolicyReasonId::VaultAudienceUnbound
            | PolicyReasonId::VaultCaseOnlyMismatch
            | PolicyReasonId::VaultUserClaimMissing
            | PolicyReasonId::VaultUserClaimNotString
            | PolicyReasonId::VaultGroupsClaimUnusable
            | PolicyReasonId::VaultClaimMappingNotString
            | PolicyReasonId::VaultClaimMismatch
            | PolicyReasonId::VaultClaimMissing
            | PolicyReasonId::VaultGlobUnderStringType
            | PolicyReasonId::VaultBoundCidrsNotEvaluated
            | PolicyReasonId::VaultNoClockSkewLeeway => false,
        }
    }
}

/// One diagnosis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable id, shown kebab-case, e.g. `subject-form-environment` (documented in docs/findings.md).
    pub id: FindingId,
    /// Error: a check failed. Warning: likely to break the login. Notice: context.
    pub severity: Severity,
    /// A short title for annotations.
    pub title: String,
    /// What is the case, in one line. May quote claim values (untrusted: escape to display).
    pub message: String,
    /// What to change.
    pub hint: String,
}

impl Finding {
    /// Builds a finding.
    pub fn new(
        id: FindingId,
        severity: Severity,
        title: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self {
            id,
            severity,
            title: title.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// True when any finding is an error, i.e. a requested check failed.
pub fn any_error(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// The findings as a JSON array (the `findings` output), at most
/// [`MAX_FINDINGS_JSON_BYTES`] long.
pub fn to_json(findings: &[Finding]) -> String {
    to_json_within(findings, MAX_FINDINGS_JSON_BYTES)
}

/// The entry that ends a cut `findings` output.
pub fn truncation_marker(left_out: usize, limit: usize) -> Finding {
    Finding::new(
        FindingId::FindingsTruncated,
        Severity::Notice,
        "More findings",
        format!(
            "{left_out} more finding(s) are left out of this output, which is capped at {limit} bytes"
        ),
        "fix the findings above first; the step log counts them all",
    )
}

fn to_json_within(findings: &[Finding], limit: usize) -> String {
    let items: Vec<String> = findings
        .iter()
        .map(|f| serde_json::to_string(f).unwrap_or_else(|_| "null".to_owned()))
        .collect();
    let whole = items.iter().map(|i| i.len() + 1).sum::<usize>() + 1;
    if whole <= limit {
        return format!("[{}]", items.join(","));
    }
    // Room for the marker with the largest count it can carry, so that whatever is kept, the
    // marker still fits.
    let marker = |n| serde_json::to_string(&truncation_marker(n, limit)).unwrap_or_default();
    let reserve = marker(findings.len()).len() + 2;
    let mut kept = Vec::new();
    let mut size = reserve;
    for item in &items {
        if size + item.len() + 1 > limit {
            break;
        }
        size += item.len() + 1;
        kept.push(item.as_str());
    }
    let last = marker(findings.len() - kept.len());
    kept.push(&last);
    format!("[{}]", kept.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(i: usize) -> Finding {
        Finding::new(
            FindingId::ClaimMismatch,
            Severity::Error,
            "t",
            format!("message {i} \"quoted\" {}", "é".repeat(i % 7)),
            "h",
        )
    }

    /// The ids in a table of docs/findings.md, in order: the text between
    /// the first pair of backticks of each row.
    fn table_ids(part: &str) -> Vec<&str> {
        part.lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|rest| rest.split('`').next())
            .collect()
    }

    /// docs/findings.md documents every id exactly once, in the table of its kind, and no id the
    /// code does not have.
    #[test]
    fn the_findings_page_lists_every_id_once() {
        let page = include_str!("../docs/findings.md");
        let (own, policy) = page
            .split_once("\n## Trust policy reason ids\n")
            .expect("docs/findings.md has a Trust policy reason ids section");
        for (part, wanted, table) in [
            (
                own,
                FindingId::all()
                    .filter(|id| !matches!(id, FindingId::Policy(_)))
                    .map(FindingId::as_str)
                    .collect::<Vec<_>>(),
                "Finding ids",
            ),
            (
                policy,
                PolicyReasonId::all().map(PolicyReasonId::as_str).collect(),
                "Trust policy reason ids",
            ),
        ] {
            let listed = table_ids(part);
            for id in &wanted {
                let rows = listed.iter().filter(|l| *l == id).count();
                assert_eq!(
                    rows, 1,
                    "`{id}` has {rows} row(s) in docs/findings.md's {table} table"
                );
            }
            for id in &listed {
                assert!(
                    wanted.contains(id),
                    "docs/findings.md's {table} table lists `{id}`, which the code does not have"
                );
            }
        }
    }

    /// Each id text names one variant, so that a consumer keying on it gets one meaning.
    #[test]
    fn no_two_ids_are_shown_alike() {
        let mut seen = std::collections::HashMap::new();
        for id in FindingId::all() {
            if let Some(other) = seen.insert(id.as_str(), id) {
                panic!("{other:?} and {id:?} are both shown as `{id}`");
            }
        }
        assert!(seen.len() > 80, "{}", seen.len());
    }

    #[test]
    fn a_flood_of_findings_is_cut_at_a_whole_finding_with_a_count() {
        let findings: Vec<Finding> = (0..20_000).map(finding).collect();
        let json = to_json(&findings);
        assert!(json.len() <= MAX_FINDINGS_JSON_BYTES, "{}", json.len());
        let parsed: Vec<serde_json::Value> = serde_json::from_str(&json).expect("valid JSON");
        let last = parsed.last().unwrap();
        assert_eq!(last["id"], "findings-truncated");
        let kept = parsed.len() - 1;
        assert!(kept > 100, "{kept}");
        let message = last["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("{} more finding(s)", 20_000 - kept)),
            "{message}"
        );
        for (i, item) in parsed[..kept].iter().enumerate() {
            assert_eq!(item["message"], findings[i].message);
        }
    }

    #[test]
    fn the_cut_holds_at_every_size() {
        let findings: Vec<Finding> = (0..40).map(finding).collect();
        let whole = serde_json::to_string(&findings).unwrap();
        assert_eq!(to_json_within(&findings, whole.len()), whole);
        for limit in (300..whole.len()).step_by(37) {
            let json = to_json_within(&findings, limit);
            assert!(json.len() <= limit, "{limit}: {}", json.len());
            let parsed: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
            assert_eq!(parsed.last().unwrap()["id"], "findings-truncated");
        }
    }
}
