//! The one place the process environment is read: a snapshot of it, and the action's
//! configuration built from that snapshot. Tests build a snapshot from pairs and never touch
//! the real environment.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

use crate::pattern::PatternSet;
use crate::request::RetryPolicy;
use crate::secret::Secret;

/// A snapshot of environment variables.
#[derive(Clone, Default)]
pub struct Env(BTreeMap<String, String>);

impl std::fmt::Debug for Env {
    // The environment holds the request token: list names only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Env {
    /// Reads the process environment. Variables that are not valid Unicode are skipped.
    pub fn from_process() -> Self {
        Self(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        )
    }

    /// Builds a snapshot from pairs (for tests and library callers).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// A variable's value; an empty value counts as unset, as the runner passes unset inputs
    /// as empty strings.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// An action input, read from `INPUT_<NAME>` the way the runner names it: upper-cased,
    /// spaces to `_`, hyphens kept.
    pub fn input(&self, name: &str) -> Option<&str> {
        self.get(&input_variable(name))
    }
}

/// The environment variable the runner uses for an input.
pub fn input_variable(name: &str) -> String {
    format!("INPUT_{}", name.replace(' ', "_").to_uppercase())
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
}

impl InputError {
    /// What to change.
    pub fn hint(&self) -> String {
        match self {
            InputError::NotBoolean { name, .. } => {
                format!(
                    "write `{name}: \"true\"` or `{name}: \"false\"` in the step's `with:` block"
                )
            }
            InputError::OutOfRange { name, expected, .. } => {
                format!("set `{name}` to {expected}, or remove it to use the default")
            }
        }
    }
}

/// Everything the action needs, resolved from the environment.
#[derive(Debug, Clone)]
pub struct ActionConfig {
    /// `ACTIONS_ID_TOKEN_REQUEST_URL`, if the runner set it.
    pub request_url: Option<String>,
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, if the runner set it.
    pub request_token: Option<Secret>,
    /// Input `audience`.
    pub audience: Option<String>,
    /// Input `subject-pattern`.
    pub subject_patterns: PatternSet,
    /// Input `fail-on-mismatch`.
    pub fail_on_mismatch: bool,
    /// Inputs `timeout` and `max-attempts`, and the fixed limits.
    pub retry: RetryPolicy,
    /// `GITHUB_OUTPUT`; `None` in a terminal, where outputs are printed instead.
    pub output_path: Option<PathBuf>,
    /// `RUNNER_DEBUG=1` or `ACTIONS_STEP_DEBUG=true`.
    pub debug: bool,
}

impl ActionConfig {
    /// Resolves the configuration; fails only on inputs that cannot be parsed.
    pub fn from_env(env: &Env) -> Result<Self, InputError> {
        let mut retry = RetryPolicy::default();
        if let Some(raw) = env.input("timeout") {
            let secs = parse_number::<f64>("timeout", raw, "a number of seconds from 1 to 600")
                .and_then(|s| {
                    in_range(
                        "timeout",
                        raw,
                        s,
                        1.0,
                        600.0,
                        "a number of seconds from 1 to 600",
                    )
                })?;
            retry.deadline = Duration::from_secs_f64(secs);
        }
        if let Some(raw) = env.input("max-attempts") {
            let n = parse_number::<u32>("max-attempts", raw, "a whole number from 1 to 20")
                .and_then(|n| {
                    in_range("max-attempts", raw, n, 1, 20, "a whole number from 1 to 20")
                })?;
            retry.max_attempts = n;
        }
        Ok(Self {
            request_url: env.get("ACTIONS_ID_TOKEN_REQUEST_URL").map(str::to_owned),
            request_token: env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN").map(Secret::new),
            audience: env
                .input("audience")
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty()),
            subject_patterns: PatternSet::from_lines(
                env.input("subject-pattern").unwrap_or_default(),
            ),
            fail_on_mismatch: parse_bool("fail-on-mismatch", env.input("fail-on-mismatch"), true)?,
            retry,
            output_path: env.get("GITHUB_OUTPUT").map(PathBuf::from),
            debug: env.get("RUNNER_DEBUG") == Some("1")
                || env
                    .get("ACTIONS_STEP_DEBUG")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        })
    }
}

/// Booleans as @actions/core's `getBooleanInput` accepts them (YAML 1.2 core schema).
fn parse_bool(name: &str, raw: Option<&str>, default: bool) -> Result<bool, InputError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(default),
        Some("true" | "True" | "TRUE") => Ok(true),
        Some("false" | "False" | "FALSE") => Ok(false),
        Some(other) => Err(InputError::NotBoolean {
            name: name.to_owned(),
            value: other.to_owned(),
        }),
    }
}

fn parse_number<T: std::str::FromStr>(
    name: &str,
    raw: &str,
    expected: &'static str,
) -> Result<T, InputError> {
    raw.trim().parse().map_err(|_| InputError::OutOfRange {
        name: name.to_owned(),
        value: raw.to_owned(),
        expected,
    })
}

fn in_range<T: PartialOrd>(
    name: &str,
    raw: &str,
    n: T,
    lo: T,
    hi: T,
    expected: &'static str,
) -> Result<T, InputError> {
    if n >= lo && n <= hi {
        Ok(n)
    } else {
        Err(InputError::OutOfRange {
            name: name.to_owned(),
            value: raw.to_owned(),
            expected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_names_follow_the_runner() {
        assert_eq!(input_variable("subject-pattern"), "INPUT_SUBJECT-PATTERN");
        assert_eq!(input_variable("my input"), "INPUT_MY_INPUT");
    }

    #[test]
    fn empty_inputs_mean_defaults() {
        let env = Env::from_pairs([
            ("INPUT_AUDIENCE", ""),
            ("INPUT_SUBJECT-PATTERN", ""),
            ("INPUT_FAIL-ON-MISMATCH", ""),
            ("INPUT_TIMEOUT", ""),
        ]);
        let cfg = ActionConfig::from_env(&env).unwrap();
        assert_eq!(cfg.audience, None);
        assert!(cfg.subject_patterns.is_empty());
        assert!(cfg.fail_on_mismatch);
        assert_eq!(cfg.retry.deadline, Duration::from_secs(30));
        assert!(
            cfg.request_url.is_none() && cfg.request_token.is_none() && cfg.output_path.is_none()
        );
    }

    #[test]
    fn inputs_are_parsed() {
        let env = Env::from_pairs([
            ("INPUT_AUDIENCE", " sts.amazonaws.com "),
            ("INPUT_SUBJECT-PATTERN", "repo:a/b:*\n\nrepo:c/d:*\n"),
            ("INPUT_FAIL-ON-MISMATCH", "False"),
            ("INPUT_TIMEOUT", "2.5"),
            ("INPUT_MAX-ATTEMPTS", "3"),
            ("ACTIONS_STEP_DEBUG", "true"),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "bearer"),
        ]);
        let cfg = ActionConfig::from_env(&env).unwrap();
        assert_eq!(cfg.audience.as_deref(), Some("sts.amazonaws.com"));
        assert_eq!(cfg.subject_patterns.patterns().len(), 2);
        assert!(!cfg.fail_on_mismatch);
        assert_eq!(cfg.retry.deadline, Duration::from_millis(2500));
        assert_eq!(cfg.retry.max_attempts, 3);
        assert!(cfg.debug);
        assert!(
            !format!("{env:?} {cfg:?}").contains("bearer\""),
            "no secret in Debug"
        );
    }

    #[test]
    fn bad_inputs_are_refused_with_a_hint() {
        for (var, value) in [
            ("INPUT_FAIL-ON-MISMATCH", "yes"),
            ("INPUT_TIMEOUT", "0"),
            ("INPUT_TIMEOUT", "soon"),
            ("INPUT_MAX-ATTEMPTS", "0"),
            ("INPUT_MAX-ATTEMPTS", "2.5"),
        ] {
            let err = ActionConfig::from_env(&Env::from_pairs([(var, value)])).unwrap_err();
            assert!(err.to_string().contains(value), "{err}");
            let input = var.trim_start_matches("INPUT_").to_lowercase();
            assert!(err.hint().contains(&input), "{}", err.hint());
        }
    }
}
