//! Step outputs in the runner's file format (`GITHUB_OUTPUT`).
//!
//! Every value uses the heredoc form `name<<DELIMITER`, value, `DELIMITER`, with a fresh random
//! delimiter, so a value with newlines or one that imitates another output line cannot change
//! what the runner reads. The runner fails the step with `Invalid value. Matching delimiter not
//! found` if a delimiter line is missing; a value that contains its delimiter is refused here.

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
    /// Output names are fixed by the action; this guards library callers.
    #[error("invalid output name `{name}`: names may not be empty or contain newlines or `<<`")]
    InvalidName {
        /// The offending name.
        name: String,
    },
    /// The output file could not be written.
    #[error("could not write step outputs: {0}")]
    Io(#[from] io::Error),
}

/// Writes one output in heredoc form with a random delimiter.
pub fn write_output(out: &mut impl Write, name: &str, value: &str) -> Result<(), OutputError> {
    write_output_with_delimiter(out, name, value, &new_delimiter())
}

/// A delimiter in the format @actions/core uses, `ghadelimiter_` and a random token.
pub fn new_delimiter() -> String {
    format!("ghadelimiter_{}", crate::random::hex_token())
}

/// Writes one output with the given delimiter. Exposed so tests can show the refusal.
pub fn write_output_with_delimiter(
    out: &mut impl Write,
    name: &str,
    value: &str,
    delimiter: &str,
) -> Result<(), OutputError> {
    if name.is_empty() || name.contains(['\n', '\r']) || name.contains("<<") {
        return Err(OutputError::InvalidName {
            name: name.to_owned(),
        });
    }
    if value.contains(delimiter) || name.contains(delimiter) {
        return Err(OutputError::DelimiterInValue {
            name: name.to_owned(),
        });
    }
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
    fn delimiters_are_random() {
        let a = new_delimiter();
        assert!(a.starts_with("ghadelimiter_") && a.len() == "ghadelimiter_".len() + 32);
        assert_ne!(a, new_delimiter());
    }
}
