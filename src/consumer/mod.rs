//! The consumers of the token (input `provider`). Each consumer's knowledge lives in its own
//! module: its audience, what it answers for a wrong one, its limits, its snippet and how it
//! matches, and the glue its trust document evaluator (in `policy`) needs. This module holds
//! the [`Consumer`] enum and dispatches to them.

use std::fmt;
use std::str::FromStr;

use crate::claims::Claims;
use crate::findings::Finding;

pub(crate) mod aws;
pub(crate) mod azure;
pub(crate) mod crates_io;
pub(crate) mod gcp;
pub(crate) mod npm;
pub(crate) mod pypi;
pub(crate) mod trusted_publishing;
pub(crate) mod vault;

pub use trusted_publishing::{BadPublisher, TrustedPublisher};

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
    /// HashiCorp Vault's JWT auth method.
    Vault,
}

/// Every consumer, in the order of the input's documentation.
pub const ALL: [Consumer; 7] = [
    Consumer::Aws,
    Consumer::Azure,
    Consumer::Gcp,
    Consumer::Pypi,
    Consumer::CratesIo,
    Consumer::Npm,
    Consumer::Vault,
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
            Consumer::Vault => "vault",
        }
    }

    /// How hints name it.
    pub fn name(self) -> &'static str {
        match self {
            Consumer::Aws => aws::NAME,
            Consumer::Azure => azure::NAME,
            Consumer::Gcp => gcp::NAME,
            Consumer::Pypi => pypi::NAME,
            Consumer::CratesIo => crates_io::NAME,
            Consumer::Npm => npm::NAME,
            Consumer::Vault => vault::NAME,
        }
    }

    /// The audience it expects, when fixed. GCP's is the workload identity provider's URL,
    /// which only the user knows (input `audience`); a Vault role's is whatever its
    /// `bound_audiences` say.
    pub fn default_audience(self) -> Option<&'static str> {
        match self {
            Consumer::Aws => Some(aws::AUDIENCE),
            Consumer::Azure => Some(azure::AUDIENCE),
            Consumer::Gcp => None,
            Consumer::Pypi => Some(pypi::AUDIENCE),
            Consumer::CratesIo => Some(crates_io::AUDIENCE),
            Consumer::Npm => Some(npm::AUDIENCE),
            Consumer::Vault => None,
        }
    }

    /// The error the consumer reports for a wrong audience, as users search for it.
    pub fn audience_error(self) -> &'static str {
        match self {
            Consumer::Aws => aws::AUDIENCE_ERROR,
            Consumer::Azure => azure::AUDIENCE_ERROR,
            Consumer::Gcp => gcp::AUDIENCE_ERROR,
            Consumer::Pypi => pypi::AUDIENCE_ERROR,
            Consumer::CratesIo => crates_io::AUDIENCE_ERROR,
            Consumer::Npm => npm::AUDIENCE_ERROR,
            Consumer::Vault => vault::AUDIENCE_ERROR,
        }
    }

    /// True for package registries, which match the top-level workflow (`workflow_ref`).
    pub fn is_registry(self) -> bool {
        matches!(self, Consumer::Pypi | Consumer::CratesIo | Consumer::Npm)
    }

    /// For a package registry, the notice naming what its trusted publisher matches in
    /// `claims`; `None` for the clouds, whose trust documents say what they match.
    pub(crate) fn publisher_claims(self, claims: &Claims) -> Option<Finding> {
        match self {
            Consumer::Pypi => Some(pypi::publisher_claims(claims)),
            Consumer::CratesIo => Some(crates_io::publisher_claims(claims)),
            Consumer::Npm => Some(npm::publisher_claims(claims)),
            Consumer::Aws | Consumer::Azure | Consumer::Gcp | Consumer::Vault => None,
        }
    }
}

impl fmt::Display for Consumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The input named no known consumer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown provider `{0}`: expected one of aws, azure, gcp, pypi, crates-io, npm, vault")]
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

/// What is wrong with a GCP audience, if anything (see `gcp::audience_problem`).
pub fn gcp_audience_problem(audience: &str) -> Option<String> {
    gcp::audience_problem(audience)
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
        assert_eq!("Vault".parse::<Consumer>(), Ok(Consumer::Vault));
        assert!("hashicorp"
            .parse::<Consumer>()
            .unwrap_err()
            .to_string()
            .contains("aws, azure, gcp"));
    }
}
