//! The top-level error, its exit code and its hint.

use std::io::{self, Write};

use thiserror::Error;

use crate::commands::{self, inert, Level};

use crate::claims::MalformedToken;
use crate::findings::Finding;
use crate::outputs::OutputError;
use crate::plan::InputError;
use crate::request::RequestError;

/// How the process ends. The numbers are part of the interface (README, "Exit codes"; docs/command-line.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Every requested check passed (or a failed check was only reported).
    Success = 0,
    /// A check failed and `fail-on-mismatch` is true.
    CheckFailed = 1,
    /// Bad input or usage; also outputs that could not be written.
    Usage = 2,
    /// The token could not be obtained (environment, network, HTTP).
    NoToken = 3,
    /// The token is malformed.
    Malformed = 4,
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Everything that stops the preflight before it can report on the token.
#[derive(Debug, Error)]
pub enum Error {
    /// An input could not be parsed.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The runner did not provide a token request variable.
    #[error("{name} is not set, so this job cannot request an OIDC token: {}", cause.message)]
    MissingVariable {
        /// The variable.
        name: &'static str,
        /// Why, as far as the run's variables tell (`no-token-*`).
        cause: Box<Finding>,
    },
    /// The token request failed.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The token is not a JWT.
    #[error(transparent)]
    Malformed(#[from] MalformedToken),
    /// A trust policy file cannot be used.
    #[error(transparent)]
    TrustPolicy(#[from] crate::trust::TrustPolicyError),
    /// Step outputs could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The log or a file could not be written.
    #[error("could not write: {0}")]
    Io(#[from] std::io::Error),
    /// The command line cannot be used as given (a token or key file that cannot be read).
    #[error("{message}")]
    Usage {
        /// What is wrong.
        message: String,
        /// What to do.
        hint: String,
    },
}

impl Error {
    /// The one printer of errors, for every path: `error: ...` and its `hint:` lines on `err`
    /// and, when `annotate` (the action, whose log the runner reads), the same as an `::error`
    /// annotation on `out`. Every line is inert: messages and hints quote input values.
    pub fn report(
        &self,
        annotate: bool,
        out: &mut impl Write,
        err: &mut impl Write,
    ) -> io::Result<()> {
        let message = self.to_string();
        writeln!(err, "error: {}", inert(&message))?;
        let hint = self.hint();
        for line in hint.iter().flat_map(|h| h.lines()) {
            writeln!(err, "  hint: {}", inert(line))?;
        }
        if !annotate {
            return Ok(());
        }
        let annotation = match &hint {
            Some(hint) => format!("{message}\n\nHint: {hint}"),
            None => message,
        };
        commands::annotation(out, Level::Error, self.title(), &annotation)
    }

    /// The exit status this error ends the process with.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Error::Input(_)
            | Error::TrustPolicy(_)
            | Error::Output(_)
            | Error::Io(_)
            | Error::Usage { .. } => ExitStatus::Usage,
            Error::MissingVariable { .. } | Error::Request(_) => ExitStatus::NoToken,
            Error::Malformed(_) => ExitStatus::Malformed,
        }
    }

    /// A short title for the error annotation.
    pub fn title(&self) -> &str {
        match self {
            Error::Input(_) => "Invalid input",
            Error::Usage { .. } => "Invalid usage",
            Error::TrustPolicy(_) => "Invalid trust policy",
            Error::MissingVariable { cause, .. } => &cause.title,
            Error::Request(_) => "OIDC token request failed",
            Error::Malformed(_) => "Malformed OIDC token",
            Error::Output(_) | Error::Io(_) => "Could not write outputs",
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Input(e) => Some(e.hint()),
            Error::Usage { hint, .. } => Some(hint.clone()),
            Error::TrustPolicy(e) => Some(e.hint()),
            Error::MissingVariable { cause, .. } => Some(cause.hint.clone()),
            Error::Request(e) => e.hint(),
            Error::Malformed(e) => Some(e.hint().to_owned()),
            Error::Output(e) if e.hint().is_some() => e.hint(),
            Error::Output(_) | Error::Io(_) => Some(
                "check that GITHUB_OUTPUT and GITHUB_STEP_SUMMARY name writable files (the runner sets them, so do not override them) and that the output is not a closed pipe".to_owned(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_printer_annotates_only_in_the_action_and_keeps_every_line_inert() {
        let error = Error::Usage {
            message: "the token file `a\n::warning::x` cannot be read".to_owned(),
            hint: "pass a readable file\n##[error]not a command".to_owned(),
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        error.report(false, &mut out, &mut err).unwrap();
        assert!(out.is_empty());
        let text = String::from_utf8(err).unwrap();
        assert_eq!(
            text,
            "error: the token file `a\\n::warning::x` cannot be read\n  hint: pass a readable file\n  hint: ##\\u{5b}error]not a command\n"
        );
        let (mut out, mut err) = (Vec::new(), Vec::new());
        error.report(true, &mut out, &mut err).unwrap();
        let annotation = String::from_utf8(out).unwrap();
        assert!(
            annotation.starts_with("::error title=Invalid usage::the token file"),
            "{annotation}"
        );
        assert_eq!(annotation.lines().count(), 1, "{annotation}");
    }
}
