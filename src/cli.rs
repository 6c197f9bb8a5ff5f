//! Command-line parsing, kept apart from the work so it can be tested.

use clap::{Parser, Subcommand};

/// Check the GitHub Actions OIDC token before your deploy step fails.
///
/// With no arguments, runs as the GitHub Action: reads the inputs (INPUT_*) and the runner's
/// token variables (ACTIONS_ID_TOKEN_REQUEST_URL, ACTIONS_ID_TOKEN_REQUEST_TOKEN) from the
/// environment, fetches and masks the token, prints its claims, checks the subject and writes
/// step outputs.
///
/// Exit codes: 0 success, 1 a check failed, 2 bad input or usage, 3 no token could be
/// obtained, 4 the token is malformed.
#[derive(Debug, Parser)]
#[command(name = "oidc-preflight", version, about, long_about)]
pub struct Cli {
    /// What to do; without one, run the action.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the action (the same as no arguments).
    Action,
}

impl Cli {
    /// Parses arguments (the first item is the program name).
    pub fn parse_from_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Self::try_parse_from(args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_arguments_means_the_action() {
        assert!(Cli::parse_from_args(["oidc-preflight"])
            .unwrap()
            .command
            .is_none());
        assert!(Cli::parse_from_args(["oidc-preflight", "--bogus"]).is_err());
    }
}
