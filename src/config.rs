//! The one place the process environment is read: a snapshot of it, and the action's
//! configuration built from that snapshot. Tests build a snapshot from pairs and never touch
//! the real environment.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::diagnose::Expectations;
use crate::request::RetryPolicy;
use crate::secret::Secret;

/// `with:` keys that a `uses: docker://` step gives to the runner itself (the container's
/// arguments and entrypoint), which the runner may pass on as `INPUT_*` too: not typos.
const DOCKER_STEP_KEYS: &[&str] = &["args", "entrypoint"];

/// A snapshot of environment variables.
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
    /// `INPUT_*` variables whose name or value is not valid Unicode (names shown lossily):
    /// they cannot be read, and the check such an input carries must not vanish with it.
    unreadable_inputs: Vec<String>,
}

impl std::fmt::Debug for Env {
    // The environment holds the request token: list names only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

impl Env {
    /// Reads the process environment. Variables that are not valid Unicode are skipped, and
    /// the names of such `INPUT_*` variables are kept so that [`ActionConfig::from_env`]
    /// refuses them.
    pub fn from_process() -> Self {
        Self::from_os_pairs(std::env::vars_os())
    }

    /// Builds a snapshot from OS strings, as [`Env::from_process`] does.
    pub fn from_os_pairs(
        pairs: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
    ) -> Self {
        let mut env = Self::default();
        for (k, v) in pairs {
            match (k.into_string(), v.into_string()) {
                (Ok(k), Ok(v)) => {
                    env.vars.insert(k, v);
                }
                (k, _) => {
                    let name = match k {
                        Ok(k) => k,
                        Err(k) => k.to_string_lossy().into_owned(),
                    };
                    if name.starts_with("INPUT_") {
                        env.unreadable_inputs.push(name);
                    }
                }
            }
        }
        env
    }

    /// Builds a snapshot from pairs (for tests and library callers).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            unreadable_inputs: Vec::new(),
        }
    }

    /// A variable's value; an empty value counts as unset, as the runner passes unset inputs
    /// as empty strings.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
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

/// Refuses `INPUT_*` variables that cannot be read or that name no input of the action.
/// An empty unknown variable is refused too: `with: { subject-patterns: "" }` is as much a
/// typo as a filled one.
fn check_input_names(env: &Env) -> Result<(), InputError> {
    if let Some(name) = env.unreadable_inputs.first() {
        return Err(InputError::NotUnicode {
            name: input_name(name),
        });
    }
    let known: Vec<String> = INPUTS
        .iter()
        .chain(DOCKER_STEP_KEYS)
        .map(|i| input_variable(i))
        .collect();
    match env
        .vars
        .keys()
        .filter(|k| k.starts_with("INPUT_"))
        .find(|k| !known.contains(k))
    {
        Some(variable) => Err(InputError::Unknown {
            name: input_name(variable),
            variable: variable.clone(),
            suggestion: suggest_input(variable),
        }),
        None => Ok(()),
    }
}

/// The input name a variable stands for, as a workflow would write it.
fn input_name(variable: &str) -> String {
    variable
        .strip_prefix("INPUT_")
        .unwrap_or(variable)
        .to_lowercase()
}

/// The known input a misspelt variable most likely meant: the same name up to case, `_`
/// versus `-` and a plural `s`, else the closest within two edits.
fn suggest_input(variable: &str) -> Option<&'static str> {
    let normal = |name: &str| {
        let name = name.to_lowercase().replace(['_', ' '], "-");
        name.strip_suffix('s').map(str::to_owned).unwrap_or(name)
    };
    let wanted = normal(&input_name(variable));
    INPUTS
        .iter()
        .map(|known| (edit_distance(&normal(known), &wanted), *known))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, known)| known)
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

pub use crate::diagnose::RunFacts;
pub use crate::plan::{InputError, INPUTS};

/// Everything the action needs, resolved from the environment.
#[derive(Debug, Clone)]
pub struct ActionConfig {
    /// `ACTIONS_ID_TOKEN_REQUEST_URL`, if the runner set it.
    pub request_url: Option<String>,
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, if the runner set it.
    pub request_token: Option<Secret>,
    /// Inputs `audience` (or the provider's default audience), `subject-pattern`, `claims`,
    /// `issuer`, `provider` and `job-environment`.
    pub expect: Expectations,
    /// Input `fail-on-mismatch`.
    pub fail_on_mismatch: bool,
    /// Inputs `timeout` and `max-attempts`, and the fixed limits.
    pub retry: RetryPolicy,
    /// `GITHUB_OUTPUT`; `None` in a terminal, where outputs are printed instead.
    pub output_path: Option<PathBuf>,
    /// Input `trust-policy`: policy files or directories, one per line.
    pub trust_policies: Vec<String>,
    /// Input `trust-policy-format`; `None` detects the format per document.
    pub trust_policy_format: Option<crate::policy::PolicyFormat>,
    /// `GITHUB_WORKSPACE`, against which relative policy paths are resolved.
    pub workspace: Option<PathBuf>,
    /// Input `verify-signature`: check the signature against the issuer's published keys.
    pub verify_signature: bool,
    /// `GITHUB_STEP_SUMMARY`, unless input `summary` is false.
    pub summary_path: Option<PathBuf>,
    /// What the runner tells about the run, to explain a missing token.
    pub run: RunFacts,
    /// `RUNNER_DEBUG=1` or `ACTIONS_STEP_DEBUG=true`.
    pub debug: bool,
}

impl ActionConfig {
    /// Resolves the configuration; fails only on inputs that cannot be parsed.
    pub fn from_env(env: &Env) -> Result<Self, InputError> {
        check_input_names(env)?;
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
        let summary = parse_bool("summary", env.input("summary"), true)?;
        Ok(Self {
            request_url: env.get("ACTIONS_ID_TOKEN_REQUEST_URL").map(str::to_owned),
            request_token: env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN").map(Secret::new),
            expect: expectations(env)?,
            fail_on_mismatch: parse_bool("fail-on-mismatch", env.input("fail-on-mismatch"), true)?,
            retry,
            output_path: env.get("GITHUB_OUTPUT").map(PathBuf::from),
            summary_path: env
                .get("GITHUB_STEP_SUMMARY")
                .filter(|_| summary)
                .map(PathBuf::from),
            verify_signature: parse_bool("verify-signature", env.input("verify-signature"), true)?,
            trust_policies: env
                .input("trust-policy")
                .unwrap_or_default()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            trust_policy_format: crate::trust::parse_format(
                env.input("trust-policy-format").unwrap_or_default(),
            )
            .map_err(|e| InputError::Invalid {
                name: "trust-policy-format".into(),
                reason: e.to_string(),
                hint: e.hint(),
            })?,
            workspace: env.get("GITHUB_WORKSPACE").map(PathBuf::from),
            run: RunFacts {
                event_path: env.get("GITHUB_EVENT_PATH").map(PathBuf::from),
                actor: env.get("GITHUB_ACTOR").map(str::to_owned),
                event_name: env.get("GITHUB_EVENT_NAME").map(str::to_owned),
                act: env
                    .get("ACT")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            },
            debug: env.get("RUNNER_DEBUG") == Some("1")
                || env
                    .get("ACTIONS_STEP_DEBUG")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        })
    }
}

/// The checks requested by the inputs, validated by the builder `check` shares.
fn expectations(env: &Env) -> Result<Expectations, InputError> {
    let lines = |name: &str| env.input(name).unwrap_or_default().lines().collect();
    crate::plan::expectations(
        &crate::plan::Requested {
            subject_patterns: lines("subject-pattern"),
            claims: lines("claims"),
            audience: env.input("audience"),
            issuer: env.input("issuer"),
            provider: env.input("provider"),
            job_environment: env.input("job-environment"),
            trusted_publisher: env.input("trusted-publisher"),
        },
        crate::diagnose::Surface::Action,
    )
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
    use crate::error::{Error, ExitStatus};

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
        assert_eq!(cfg.expect.audience, None);
        assert!(cfg.expect.subject_patterns.is_empty());
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
        assert_eq!(cfg.expect.audience.as_deref(), Some("sts.amazonaws.com"));
        assert_eq!(cfg.expect.subject_patterns.patterns().len(), 2);
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
            ("INPUT_PROVIDER", "hashicorp"),
            ("INPUT_CLAIMS", "environment"),
            ("INPUT_SUMMARY", "sometimes"),
        ] {
            let err = ActionConfig::from_env(&Env::from_pairs([(var, value)])).unwrap_err();
            assert!(err.to_string().contains(value), "{err}");
            let input = var.trim_start_matches("INPUT_").to_lowercase();
            assert!(err.to_string().contains(&input), "{err}");
            assert!(!err.hint().is_empty());
        }
    }

    #[test]
    fn misspelt_inputs_are_refused_with_the_input_meant() {
        for (var, value, meant) in [
            (
                "INPUT_SUBJECT-PATTERNS",
                "repo:a/b:*",
                Some("subject-pattern"),
            ),
            (
                "INPUT_SUBJECT_PATTERN",
                "repo:a/b:*",
                Some("subject-pattern"),
            ),
            (
                "INPUT_SUBJECT-PATERN",
                "repo:a/b:*",
                Some("subject-pattern"),
            ),
            ("INPUT_CLAIM", "environment=prod", Some("claims")),
            ("INPUT_FAIL_ON_MISMATCH", "true", Some("fail-on-mismatch")),
            ("INPUT_TRUST-POLICIES", "p.json", Some("trust-policy")),
            // Empty is still a typo: the check it was meant to carry is gone all the same.
            ("INPUT_SUBJECT-PATTERNS", "", Some("subject-pattern")),
            ("INPUT_ROLE-TO-ASSUME", "arn:aws:iam::1:role/x", None),
        ] {
            let err = ActionConfig::from_env(&Env::from_pairs([
                (var, value),
                ("INPUT_AUDIENCE", "sts.amazonaws.com"),
            ]))
            .unwrap_err();
            assert_eq!(
                err,
                InputError::Unknown {
                    name: var.trim_start_matches("INPUT_").to_lowercase(),
                    variable: var.to_owned(),
                    suggestion: meant
                },
                "{var}"
            );
            let shown = format!("{err} {}", err.hint());
            match meant {
                Some(m) => assert!(shown.contains(&format!("did you mean `{m}`?")), "{shown}"),
                None => assert!(
                    shown.contains("subject-pattern, fail-on-mismatch"),
                    "{shown}"
                ),
            }
            assert_eq!(Error::from(err).exit_status(), ExitStatus::Usage);
        }
    }

    #[test]
    fn every_known_input_is_accepted() {
        let env = Env::from_pairs(INPUTS.iter().map(|i| (input_variable(i), String::new())));
        ActionConfig::from_env(&env).unwrap();
        // A docker:// step's `with: { args: ..., entrypoint: ... }` belong to the runner.
        let env = Env::from_pairs([("INPUT_ARGS", "action"), ("INPUT_ENTRYPOINT", "")]);
        ActionConfig::from_env(&env).unwrap();
    }

    #[test]
    fn non_unicode_inputs_are_refused_not_dropped() {
        use std::ffi::OsString;
        use std::os::unix::ffi::OsStringExt;
        let env = Env::from_os_pairs([
            (
                OsString::from("INPUT_SUBJECT-PATTERN"),
                OsString::from_vec(b"repo:a/\xff:*".to_vec()),
            ),
            (OsString::from("HOME"), OsString::from("/root")),
            // Not an input: skipped as before.
            (OsString::from("LANG_X"), OsString::from_vec(vec![0xff])),
        ]);
        assert_eq!(env.get("HOME"), Some("/root"));
        let err = ActionConfig::from_env(&env).unwrap_err();
        assert_eq!(
            err,
            InputError::NotUnicode {
                name: "subject-pattern".into()
            }
        );
        assert!(err.to_string().contains("not valid UTF-8"), "{err}");
    }

    #[test]
    fn provider_sets_the_audience_and_gcp_needs_one() {
        let cfg = ActionConfig::from_env(&Env::from_pairs([("INPUT_PROVIDER", "azure")])).unwrap();
        assert_eq!(
            cfg.expect.audience.as_deref(),
            Some("api://AzureADTokenExchange")
        );
        let cfg = ActionConfig::from_env(&Env::from_pairs([
            ("INPUT_PROVIDER", "aws"),
            ("INPUT_AUDIENCE", "sts.amazonaws.com.cn"),
        ]))
        .unwrap();
        assert_eq!(cfg.expect.audience.as_deref(), Some("sts.amazonaws.com.cn"));
        let err =
            ActionConfig::from_env(&Env::from_pairs([("INPUT_PROVIDER", "gcp")])).unwrap_err();
        assert!(err.hint().contains("iam.googleapis.com"), "{}", err.hint());
        let err = ActionConfig::from_env(&Env::from_pairs([
            ("INPUT_PROVIDER", "gcp"),
            ("INPUT_AUDIENCE", "https://iam.googleapis.com/projects/my-proj/locations/global/workloadIdentityPools/p/providers/x"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("project NUMBER"), "{err}");
    }

    #[test]
    fn claims_and_summary_inputs() {
        let cfg = ActionConfig::from_env(&Env::from_pairs([
            (
                "INPUT_CLAIMS",
                "environment=prod\n\nrepository_owner_id = 65432\n",
            ),
            ("GITHUB_STEP_SUMMARY", "/tmp/summary"),
            ("INPUT_SUMMARY", "false"),
        ]))
        .unwrap();
        assert_eq!(cfg.expect.claims.len(), 2);
        assert_eq!(cfg.expect.claims[1].name, "repository_owner_id");
        assert_eq!(cfg.expect.claims[1].pattern, "65432");
        assert!(cfg.summary_path.is_none(), "summary: false disables it");
    }
}
