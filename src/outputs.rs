//! Step outputs in the runner's file format (`GITHUB_OUTPUT`).
//!
//! Every value uses the heredoc form `name<<DELIMITER`, value, `DELIMITER`, with a fresh random
//! delimiter, so a value with newlines or one that imitates another output line cannot change
//! what the runner reads. The runner fails the step with `Invalid value. Matching delimiter not
//! found` if a delimiter line is missing; a value that contains its delimiter is refused here.
//!
//! How the runner reads the file (actions/runner `FileCommandManager.cs`,
//! `EnvFileKeyValuePairs` and its `ReadLine`): lines end at `\n`, and on Windows runners also at
//! `\r\n`. A line is `NAME=VALUE` when its first `=` comes before its first `<<`, otherwise
//! `NAME<<DELIMITER`; a heredoc value is the raw text between the header line and the first
//! line equal to the delimiter, less the line end before that line. So CR and CRLF inside a
//! value survive either way, but a value ending in `\r` loses it where CRLF is a line end.
//! Docker actions only run on Linux, yet the writer refuses every value that would not read
//! back the same under both line-end rules, so the outputs mean one thing wherever they are
//! read. tests/support/runner.rs parses under both rules and fails when they disagree.

use std::io::{self, Write};

use thiserror::Error;

/// Why an output could not be written.
#[derive(Debug, Error)]
pub enum OutputError {
    /// The value contains the delimiter chosen for it. With a random delimiter this only
    /// happens to a value crafted to break the output file.
    #[error("refusing to write output `{name}`: its value contains the output delimiter")]
    DelimiterInValue {
        /// The output's name.
        name: String,
    },
    /// The value would not read back as written: it ends with a carriage return, which a
    /// runner that treats CRLF as a line end (Windows) drops.
    #[error("refusing to write output `{name}`: its value ends with a carriage return, which would not read back the same on every runner")]
    NotRoundTrip {
        /// The output's name.
        name: String,
    },
    /// Output names are fixed by the action; this guards library callers.
    #[error("invalid output name `{name}`: names may not be empty or contain `=`, `<<`, CR or LF")]
    InvalidName {
        /// The offending name.
        name: String,
    },
    /// The output file could not be written.
    #[error("could not write step outputs: {0}")]
    Io(#[from] io::Error),
}

impl OutputError {
    /// What to do about it; `None` for I/O errors, whose hint is the caller's.
    pub fn hint(&self) -> Option<String> {
        match self {
            OutputError::DelimiterInValue { .. } | OutputError::NotRoundTrip { .. } => Some(
                "a claim holds text crafted to break the output file (GitHub issues no such values): the log above shows the claims; no output was written".to_owned(),
            ),
            OutputError::InvalidName { .. } => Some(
                "output names are fixed by the caller: use letters, digits, `-` and `_`".to_owned(),
            ),
            OutputError::Io(_) => None,
        }
    }
}

/// Writes one output in heredoc form with a random delimiter.
pub fn write_output(out: &mut impl Write, name: &str, value: &str) -> Result<(), OutputError> {
    write_output_with_delimiter(out, name, value, &new_delimiter())
}

/// A delimiter in the format @actions/core uses, `ghadelimiter_` and a random token.
pub fn new_delimiter() -> String {
    format!("ghadelimiter_{}", crate::random::hex_token())
}

/// Checks that `name` and `value` can be written with `delimiter` and read back exactly,
/// without writing anything: callers check every output first, so that a refused value does
/// not leave half of the outputs written.
pub fn check_output(name: &str, value: &str, delimiter: &str) -> Result<(), OutputError> {
    // `=` would make the runner read the header line as `NAME=VALUE` and every value line as
    // an output of its own.
    if name.is_empty() || name.contains(['\n', '\r', '=']) || name.contains("<<") {
        return Err(OutputError::InvalidName {
            name: name.to_owned(),
        });
    }
    if value.contains(delimiter) || name.contains(delimiter) {
        return Err(OutputError::DelimiterInValue {
            name: name.to_owned(),
        });
    }
    if value.ends_with('\r') {
        return Err(OutputError::NotRoundTrip {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// Writes one output with the given delimiter. Exposed so tests can show the refusal.
pub fn write_output_with_delimiter(
    out: &mut impl Write,
    name: &str,
    value: &str,
    delimiter: &str,
) -> Result<(), OutputError> {
    check_output(name, value, delimiter)?;
    // One write call per output keeps an output whole even if a later one fails.
    let record = format!("{name}<<{delimiter}\n{value}\n{delimiter}\n");
    out.write_all(record.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_heredoc_form() {
        let mut buf = Vec::new();
        write_output_with_delimiter(&mut buf, "subject", "repo:a/b:ref:refs/heads/main", "D1")
            .unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "subject<<D1\nrepo:a/b:ref:refs/heads/main\nD1\n"
        );
    }

    #[test]
    fn refuses_value_containing_delimiter() {
        let mut buf = Vec::new();
        let err =
            write_output_with_delimiter(&mut buf, "ref", "x\nD1\nmatched=true", "D1").unwrap_err();
        assert!(matches!(err, OutputError::DelimiterInValue { .. }));
        assert!(buf.is_empty(), "nothing is written for a refused value");
    }

    #[test]
    fn refuses_names_the_runner_would_split() {
        // The runner reads `NAME=VALUE` when `=` comes before `<<`: a name with `=` would
        // turn the heredoc's value lines into output lines of their own.
        for name in ["a=b", "=", "a\rb", "a<<b", ""] {
            let mut buf = Vec::new();
            let err =
                write_output_with_delimiter(&mut buf, name, "x\nmatched=true", "D1").unwrap_err();
            assert!(matches!(err, OutputError::InvalidName { .. }), "{name:?}");
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn refuses_a_value_ending_with_a_carriage_return() {
        // Written as `x\r\n`, the last value line ends in CRLF: a runner that reads CRLF as
        // a line end (Windows) drops the `\r`, one that reads LF only keeps it.
        let mut buf = Vec::new();
        let err = write_output_with_delimiter(&mut buf, "ref", "prod\r", "D1").unwrap_err();
        assert!(matches!(err, OutputError::NotRoundTrip { .. }), "{err}");
        assert!(err.to_string().contains("carriage return"), "{err}");
        assert!(buf.is_empty());
        // Inside the value, CR and CRLF survive either reading: the value is the raw text
        // between the header line and the delimiter line.
        write_output_with_delimiter(&mut buf, "ref", "a\rb\r\nc", "D1").unwrap();
    }

    #[test]
    fn delimiters_are_random() {
        let a = new_delimiter();
        assert!(a.starts_with("ghadelimiter_") && a.len() == "ghadelimiter_".len() + 32);
        assert_ne!(a, new_delimiter());
    }
}
