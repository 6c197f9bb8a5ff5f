//! The consumers of the token (input `provider`): which audience each expects, what it is
//! called in hints, and the format checks that catch malformed identifiers.

use std::fmt;
use std::str::FromStr;

/// A system that exchanges the GitHub token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consumer {
    /// AWS STS `AssumeRoleWithWebIdentity`.
    Aws,
    /// Microsoft Entra ID federated credentials (Azure).
    Azure,
    /// Google Cloud workload identity federation.
    Gcp,
    /// PyPI trusted publishing.
    Pypi,
    /// crates.io trusted publishing.
    CratesIo,
    /// npm trusted publishing.
    Npm,
}

/// Every consumer, in the order of the input's documentation.
pub const ALL: [Consumer; 6] = [
    Consumer::Aws,
    Consumer::Azure,
    Consumer::Gcp,
    Consumer::Pypi,
    Consumer::CratesIo,
    Consumer::Npm,
];

impl Consumer {
    /// The input value naming it.
    pub fn key(self) -> &'static str {
        match self {
            Consumer::Aws => "aws",
            Consumer::Azure => "azure",
            Consumer::Gcp => "gcp",
            Consumer::Pypi => "pypi",
            Consumer::CratesIo => "crates-io",
            Consumer::Npm => "npm",
        }
    }

    /// How hints name it.
    pub fn name(self) -> &'static str {
        match self {
            Consumer::Aws => "AWS STS",
            Consumer::Azure => "Microsoft Entra ID (Azure)",
            Consumer::Gcp => "Google Cloud STS",
            Consumer::Pypi => "PyPI",
            Consumer::CratesIo => "crates.io",
            Consumer::Npm => "npm",
        }
    }

    /// The audience it expects, when fixed. GCP's is the workload identity provider's URL,
    /// which only the user knows (input `audience`).
    pub fn default_audience(self) -> Option<&'static str> {
        match self {
            Consumer::Aws => Some("sts.amazonaws.com"),
            Consumer::Azure => Some("api://AzureADTokenExchange"),
            Consumer::Gcp => None,
            Consumer::Pypi => Some("pypi"),
            Consumer::CratesIo => Some("crates.io"),
            Consumer::Npm => Some("npm:registry.npmjs.org"),
        }
    }

    /// The error the consumer reports for a wrong audience, as users search for it.
    pub fn audience_error(self) -> &'static str {
        match self {
            Consumer::Aws => "Incorrect token audience",
            Consumer::Azure => "AADSTS700212: No matching federated identity record found for presented assertion audience",
            Consumer::Gcp => "The audience in JWT does not match the expected values.",
            Consumer::Pypi => "invalid-publisher: valid token, but no corresponding publisher",
            Consumer::CratesIo | Consumer::Npm => "the token's audience is not accepted",
        }
    }

    /// True for package registries, which match the top-level workflow (`workflow_ref`).
    pub fn is_registry(self) -> bool {
        matches!(self, Consumer::Pypi | Consumer::CratesIo | Consumer::Npm)
    }
}

impl fmt::Display for Consumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The input named no known consumer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown provider `{0}`: expected one of aws, azure, gcp, pypi, crates-io, npm")]
pub struct UnknownConsumer(pub String);

impl FromStr for Consumer {
    type Err = UnknownConsumer;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        let wanted = if wanted == "crates.io" {
            "crates-io".to_owned()
        } else {
            wanted
        };
        ALL.into_iter()
            .find(|c| c.key() == wanted)
            .ok_or_else(|| UnknownConsumer(s.to_owned()))
    }
}

/// What is wrong with a GCP audience, if anything. The valid form is
/// `https://iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER`
/// (google-github-actions/auth's default).
pub fn gcp_audience_problem(audience: &str) -> Option<String> {
    let path = audience
        .strip_prefix("https://iam.googleapis.com/")
        .or_else(|| audience.strip_prefix("//iam.googleapis.com/"));
    let Some(path) = path else {
        return Some(if audience.starts_with("projects/") {
            format!("it lacks the `https://iam.googleapis.com/` prefix: use `https://iam.googleapis.com/{audience}`")
        } else {
            "it is not a workload identity provider URL (`https://iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER`)".to_owned()
        });
    };
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["projects", project, "locations", _location, "workloadIdentityPools", pool, "providers", provider]
            if !pool.is_empty() && !provider.is_empty() =>
        {
            if project.is_empty() || !project.chars().all(|c| c.is_ascii_digit()) {
                Some(format!(
                    "it names the project `{project}` by ID; workload identity needs the project NUMBER (`gcloud projects describe {project} --format='value(projectNumber)'`)"
                ))
            } else {
                None
            }
        }
        _ if !path.contains("/providers/") || path.ends_with("/providers/") => Some(
            "it does not end in `/providers/PROVIDER`: the audience names the provider, not only the pool".to_owned(),
        ),
        _ => Some(
            "it is not of the form `projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER`".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_consumer_and_refuses_others() {
        for c in ALL {
            assert_eq!(c.key().parse::<Consumer>(), Ok(c));
        }
        assert_eq!("crates.io".parse::<Consumer>(), Ok(Consumer::CratesIo));
        assert_eq!(" AWS ".parse::<Consumer>(), Ok(Consumer::Aws));
        assert!("vault"
            .parse::<Consumer>()
            .unwrap_err()
            .to_string()
            .contains("aws, azure, gcp"));
    }

    #[test]
    fn gcp_audience_format() {
        let good = "https://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/gh/providers/gh-actions";
        assert_eq!(gcp_audience_problem(good), None);
        assert_eq!(gcp_audience_problem(&good.replace("https:", "")), None);
        let cases = [
            (good.replace("123456789", "my-project"), "project NUMBER"),
            (
                good.replace("https://iam.googleapis.com/", ""),
                "lacks the `https://iam.googleapis.com/` prefix",
            ),
            (
                good.replace("/providers/gh-actions", ""),
                "/providers/PROVIDER",
            ),
            (
                "sts.amazonaws.com".to_owned(),
                "not a workload identity provider URL",
            ),
        ];
        for (aud, want) in cases {
            let problem = gcp_audience_problem(&aud).unwrap_or_default();
            assert!(problem.contains(want), "{aud}: {problem}");
        }
    }
}
