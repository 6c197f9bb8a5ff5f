//! The one builder of [`Expectations`]: the action's inputs and `check`/`predict`'s flags both
//! arrive here as text, so they are validated alike (a malformed GCP audience, an unknown
//! provider, a pattern past the cap is the same error in both; only the name of the input or
//! flag it cites differs).

use crate::config::InputError;
use crate::consumer::{gcp_audience_problem, Consumer};
use crate::diagnose::{parse_claim_expectations, Expectations, Surface};
use crate::pattern::{check_pattern, PatternSet, PatternTooLong};

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
                        "set `provider` to aws, azure, gcp, pypi, crates-io or npm, or remove it"
                    }
                    Surface::Check => "use aws, azure, gcp, pypi, crates-io or npm",
                },
            )
        })?),
        None => None,
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
