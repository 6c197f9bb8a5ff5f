//! The one builder of [`Expectations`]: the action's inputs and `check`/`predict`'s flags both
//! arrive here as text, so they are validated alike (a malformed GCP audience, an unknown
//! provider, a pattern past the cap is the same error in both; only the name of the input or
//! flag it cites differs).

use thiserror::Error;

/// The action's inputs, as `action.yml` declares them (a test keeps the two equal). Any other
/// `INPUT_*` variable is a misspelt input, refused rather than ignored: ignoring it would
/// drop the check it was meant to carry and pass the step.
pub const INPUTS: &[&str] = &[
    "audience",
    "subject-pattern",
    "fail-on-mismatch",
    "provider",
    "claims",
    "issuer",
    "job-environment",
    "verify-signature",
    "trust-policy",
    "trust-policy-format",
    "trusted-publisher",
    "summary",
    "timeout",
    "max-attempts",
    "audit",
];

use crate::consumer::{gcp_audience_problem, Consumer, TrustedPublisher};
use crate::pattern::{check_pattern, PatternSet, PatternTooLong};

/// One `name=pattern` line of the `claims` input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimExpectation {
    /// The claim's name, e.g. `environment`.
    pub name: String,
    /// A `StringLike` pattern its value must match.
    pub pattern: String,
}

/// A `claims` line without `=`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("claim expectation `{0}` is not of the form `name=pattern`")]
pub struct BadClaimExpectation(pub String);

/// Parses the `claims` input: one `name=pattern` per line, blank lines ignored.
pub fn parse_claim_expectations(text: &str) -> Result<Vec<ClaimExpectation>, BadClaimExpectation> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| match line.split_once('=') {
            Some((name, pattern)) if !name.trim().is_empty() => Ok(ClaimExpectation {
                name: name.trim().to_owned(),
                pattern: pattern.trim().to_owned(),
            }),
            _ => Err(BadClaimExpectation(line.to_owned())),
        })
        .collect()
}

/// What the user expects of the token.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    /// `subject-pattern`: any must match.
    pub subject_patterns: PatternSet,
    /// `claims`: all must hold.
    pub claims: Vec<ClaimExpectation>,
    /// `audience`: the audience requested (or, offline, expected).
    pub audience: Option<String>,
    /// `issuer`: the issuer the consumer is configured with.
    pub issuer: Option<String>,
    /// `provider`: who will consume the token.
    pub consumer: Option<Consumer>,
    /// `job-environment`: predict the token of a job with this environment.
    pub job_environment: Option<String>,
    /// `trusted-publisher`: a registry's trusted publisher, as entered on the registry.
    pub trusted_publisher: Option<TrustedPublisher>,
}

impl Expectations {
    /// Whether any check was asked for: a subject pattern, a claim, an audience, an issuer or
    /// a provider. (Trust policies are counted by [`crate::trust::apply`].) A job environment
    /// is not one: it only says which token to predict, so alone it checks nothing.
    pub fn requests_a_check(&self) -> bool {
        !self.subject_patterns.is_empty()
            || !self.claims.is_empty()
            || self.audience.is_some()
            || self.issuer.is_some()
            || self.consumer.is_some()
            || self.trusted_publisher.is_some()
    }

    /// The audience the consumer will accept: the explicit one, else the consumer's default.
    pub fn expected_audience(&self) -> Option<String> {
        self.audience.clone().or_else(|| {
            self.consumer
                .and_then(Consumer::default_audience)
                .map(str::to_owned)
        })
    }
}

/// Where a signature check ran, for the hints: the action or `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// The action (inputs `issuer`, `verify-signature`).
    Action,
    /// `oidc-preflight check` (flags `--issuer`, `--jwks`, `--no-verify`).
    Check,
}

/// How a message names where a value came from: the action's input, or `check`'s and
/// `predict`'s option (names given as `--flag`).
fn what(name: &str) -> String {
    if name.starts_with("--") {
        format!("option `{name}`")
    } else {
        format!("input `{name}`")
    }
}

/// An input value that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum InputError {
    /// A boolean input holds something other than true or false.
    #[error("input `{name}` must be `true` or `false`, got `{value}`")]
    NotBoolean {
        /// The input.
        name: String,
        /// What it held.
        value: String,
    },
    /// A numeric input is not a number in range.
    #[error("input `{name}` must be {expected}, got `{value}`")]
    OutOfRange {
        /// The input.
        name: String,
        /// What it held.
        value: String,
        /// What is allowed.
        expected: &'static str,
    },
    /// An `INPUT_*` variable that is not an input of the action (a misspelling).
    #[error("input `{name}` (variable `{variable}`) is not an input of oidc-preflight{}", suggestion.map(|s| format!(": did you mean `{s}`?")).unwrap_or_default())]
    Unknown {
        /// The input as the workflow spelt it (lower-cased, as the runner upper-cases it).
        name: String,
        /// The variable it arrived in.
        variable: String,
        /// The input it most likely meant.
        suggestion: Option<&'static str>,
    },
    /// An input whose name or value is not valid UTF-8.
    #[error("input `{name}` is not valid UTF-8, so it cannot be read")]
    NotUnicode {
        /// The input (invalid bytes shown as U+FFFD).
        name: String,
    },
    /// Any other unusable input or flag, with its own hint.
    #[error("{} is invalid: {reason}", what(name))]
    Invalid {
        /// The input.
        name: String,
        /// What is wrong.
        reason: String,
        /// What to change.
        hint: String,
    },
}

impl InputError {
    /// What to change.
    pub fn hint(&self) -> String {
        match self {
            InputError::Invalid { hint, .. } => hint.clone(),
            InputError::NotBoolean { name, .. } => {
                format!(
                    "write `{name}: \"true\"` or `{name}: \"false\"` in the step's `with:` block"
                )
            }
            InputError::OutOfRange { name, expected, .. } => {
                format!("set `{name}` to {expected}, or remove it to use the default")
            }
            InputError::Unknown {
                name, suggestion, ..
            } => match suggestion {
                Some(s) => format!("rename `{name}` to `{s}` in the step's `with:` block"),
                None => format!(
                    "remove `{name}` from the step's `with:` block (or the `INPUT_` variable from `env:`); the inputs are: {}",
                    INPUTS.join(", ")
                ),
            },
            InputError::NotUnicode { name } => format!(
                "write `{name}` as UTF-8 text; the check it carries cannot run otherwise"
            ),
        }
    }
}

/// The expectations as the user wrote them: trimmed, empty values as `None`.
#[derive(Debug, Default)]
pub(crate) struct Requested<'a> {
    /// One subject pattern per item (blank items are ignored).
    pub(crate) subject_patterns: Vec<&'a str>,
    /// One `name=pattern` per item.
    pub(crate) claims: Vec<&'a str>,
    pub(crate) audience: Option<&'a str>,
    pub(crate) issuer: Option<&'a str>,
    pub(crate) provider: Option<&'a str>,
    pub(crate) job_environment: Option<&'a str>,
    pub(crate) trusted_publisher: Option<&'a str>,
}

/// The input (`audience`) or the flag (`--audience`) a value came from.
fn named(surface: Surface, input: &str, flag: &str) -> String {
    match surface {
        Surface::Action => input.to_owned(),
        Surface::Check => flag.to_owned(),
    }
}

fn invalid(name: String, reason: impl Into<String>, hint: impl Into<String>) -> InputError {
    InputError::Invalid {
        name,
        reason: reason.into(),
        hint: hint.into(),
    }
}

fn present(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Validates what was requested and builds the expectations. The action, which requests the
/// token, also fills in the provider's audience when none was given (GCP's must be given: it
/// names the user's own provider); `check` and `predict` check the token's own `aud`.
pub(crate) fn expectations(
    requested: &Requested<'_>,
    surface: Surface,
) -> Result<Expectations, InputError> {
    let consumer = match present(requested.provider) {
        Some(p) => Some(p.parse::<Consumer>().map_err(|e| {
            invalid(
                named(surface, "provider", "--provider"),
                e.to_string(),
                match surface {
                    Surface::Action => {
                        "set `provider` to aws, azure, gcp, pypi, crates-io, npm or vault, or remove it"
                    }
                    Surface::Check => "use aws, azure, gcp, pypi, crates-io, npm or vault",
                },
            )
        })?),
        None => None,
    };
    let trusted_publisher = match present(requested.trusted_publisher) {
        Some(text) => Some(TrustedPublisher::parse(&text).map_err(|e| {
            invalid(
                named(surface, "trusted-publisher", "--trusted-publisher"),
                e.reason,
                e.hint,
            )
        })?),
        None => None,
    };
    // The publisher names its registry, which is then the consumer; a provider that names
    // another would check the token against two consumers' rules at once.
    let consumer = match (consumer, &trusted_publisher) {
        (Some(c), Some(p)) if c != p.registry => {
            return Err(invalid(
                named(surface, "provider", "--provider"),
                format!("the provider is `{c}` but the trusted publisher is on `{}`", p.registry),
                match surface {
                    Surface::Action => "remove `provider` (the trusted publisher names the registry), or make them agree",
                    Surface::Check => "leave out --provider (the trusted publisher names the registry), or make them agree",
                },
            ))
        }
        (None, Some(p)) => Some(p.registry),
        (c, _) => c,
    };
    let mut audience = present(requested.audience);
    if audience.is_none() && surface == Surface::Action {
        audience = consumer
            .and_then(Consumer::default_audience)
            .map(str::to_owned);
        if consumer == Some(Consumer::Gcp) {
            return Err(invalid(
                "audience".to_owned(),
                "`provider: gcp` needs the audience, which names your workload identity provider",
                "set `audience: https://iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER`",
            ));
        }
    }
    if let (Some(Consumer::Gcp), Some(aud)) = (consumer, &audience) {
        if let Some(problem) = gcp_audience_problem(aud) {
            return Err(invalid(
                named(surface, "audience", "--audience"),
                problem,
                "copy the provider's full resource name from `gcloud iam workload-identity-pools providers describe` and prefix it with `https://iam.googleapis.com/`",
            ));
        }
    }
    let claims = parse_claim_expectations(&requested.claims.join("\n")).map_err(|e| {
        invalid(
            named(surface, "claims", "--claim"),
            e.to_string(),
            match surface {
                Surface::Action => "write one `name=pattern` per line, e.g. `environment=prod`",
                Surface::Check => "write `--claim name=pattern`, e.g. `--claim environment=prod`",
            },
        )
    })?;
    let subject_patterns = PatternSet::new(
        requested
            .subject_patterns
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty()),
    );
    let too_long = |input: &str, flag: &str, e: PatternTooLong| {
        invalid(
            named(surface, input, flag),
            e.to_string(),
            "no cloud accepts a pattern this long: shorten it",
        )
    };
    subject_patterns
        .check()
        .map_err(|e| too_long("subject-pattern", "--subject-pattern", e))?;
    for c in &claims {
        check_pattern(&c.pattern).map_err(|e| too_long("claims", "--claim", e))?;
    }
    Ok(Expectations {
        subject_patterns,
        claims,
        audience,
        issuer: present(requested.issuer),
        consumer,
        job_environment: present(requested.job_environment),
        trusted_publisher,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_gcp_audience_is_the_same_error_from_inputs_and_flags() {
        let requested = Requested {
            provider: Some("gcp"),
            audience: Some("my-project-123"),
            ..Requested::default()
        };
        let action = expectations(&requested, Surface::Action).unwrap_err();
        let check = expectations(&requested, Surface::Check).unwrap_err();
        match (&action, &check) {
            (
                InputError::Invalid {
                    name: a,
                    reason: ra,
                    hint: ha,
                },
                InputError::Invalid {
                    name: c,
                    reason: rc,
                    hint: hc,
                },
            ) => {
                assert_eq!((a.as_str(), c.as_str()), ("audience", "--audience"));
                assert_eq!(ra, rc);
                assert_eq!(ha, hc);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_trusted_publisher_names_the_consumer_and_a_different_provider_is_refused() {
        let publisher = "registry=pypi\nrepository=o/r\nworkflow=release.yml";
        let e = expectations(
            &Requested {
                trusted_publisher: Some(publisher),
                ..Requested::default()
            },
            Surface::Action,
        )
        .unwrap();
        assert_eq!(e.consumer, Some(Consumer::Pypi));
        assert_eq!(e.audience.as_deref(), Some("pypi"));
        assert!(e.requests_a_check());
        for surface in [Surface::Action, Surface::Check] {
            let err = expectations(
                &Requested {
                    trusted_publisher: Some(publisher),
                    provider: Some("npm"),
                    ..Requested::default()
                },
                surface,
            )
            .unwrap_err();
            assert!(
                err.to_string().contains("trusted publisher is on `pypi`"),
                "{err}"
            );
        }
        let err = expectations(
            &Requested {
                trusted_publisher: Some("registry=pypi,repository=o/r,workflow=a/b.yml"),
                ..Requested::default()
            },
            Surface::Check,
        )
        .unwrap_err();
        assert!(err.to_string().contains("--trusted-publisher"), "{err}");
    }

    #[test]
    fn a_job_environment_alone_requests_no_check() {
        let requested = Requested {
            job_environment: Some("prod"),
            ..Requested::default()
        };
        let expect = expectations(&requested, Surface::Action).unwrap();
        assert!(
            !expect.requests_a_check(),
            "a prediction alone must not pass as a check"
        );
        let with_pattern = Requested {
            job_environment: Some("prod"),
            subject_patterns: vec!["repo:o/r:environment:prod"],
            ..Requested::default()
        };
        assert!(expectations(&with_pattern, Surface::Action)
            .unwrap()
            .requests_a_check());
    }

    #[test]
    fn only_the_action_fills_in_the_providers_audience() {
        let requested = Requested {
            provider: Some("aws"),
            ..Requested::default()
        };
        let action = expectations(&requested, Surface::Action).unwrap();
        assert_eq!(action.audience.as_deref(), Some("sts.amazonaws.com"));
        let check = expectations(&requested, Surface::Check).unwrap();
        assert_eq!(check.audience, None);
        let gcp = Requested {
            provider: Some("gcp"),
            ..Requested::default()
        };
        assert!(expectations(&gcp, Surface::Action).is_err());
        assert!(expectations(&gcp, Surface::Check).is_ok());
    }
}
