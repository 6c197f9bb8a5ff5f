//! Helpers to run the action in-process against the embedded provider.

use std::time::{Duration, Instant};

use oidc_preflight::{run_action, ActionConfig, Env, ExitStatus};

use crate::provider::Provider;
use crate::runner::{self, RunnerView};

/// The result of one in-process run.
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub outputs: Vec<(String, String)>,
    pub view: RunnerView,
    pub elapsed: Duration,
}

impl Run {
    pub fn output(&self, name: &str) -> Option<&str> {
        self.outputs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Runs the action with the provider's runner variables plus `inputs` (name, value) and
/// `extra` raw variables, with GITHUB_OUTPUT pointing at a temporary file.
pub async fn run_with(
    provider: Option<&Provider>,
    inputs: &[(&str, &str)],
    extra: &[(&str, &str)],
) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let output_path = dir.path().join("output");
    let mut vars: Vec<(String, String)> = provider.map(Provider::runner_env).unwrap_or_default();
    vars.push(("GITHUB_OUTPUT".into(), output_path.display().to_string()));
    for (name, value) in inputs {
        vars.push((
            oidc_preflight::config::input_variable(name),
            value.to_string(),
        ));
    }
    for (name, value) in extra {
        vars.push((name.to_string(), value.to_string()));
    }
    let config = ActionConfig::from_env(&Env::from_pairs(vars)).expect("valid inputs");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let started = Instant::now();
    let status = run_action(&config, &mut out, &mut err).await;
    let elapsed = started.elapsed();
    let stdout = String::from_utf8(out).expect("stdout is UTF-8");
    let stderr = String::from_utf8(err).expect("stderr is UTF-8");
    let file = std::fs::read_to_string(&output_path).unwrap_or_default();
    let outputs = runner::parse_outputs(&file).expect("outputs parse strictly");
    let view = runner::process(&format!("{stdout}\n{stderr}"));
    Run {
        status,
        stdout,
        stderr,
        outputs,
        view,
        elapsed,
    }
}

/// Asserts the token appears nowhere but on the `::add-mask::` line, which must come before
/// any other line that is not the request token's mask.
pub fn assert_token_only_masked(run: &Run, token: &str) {
    let lines: Vec<&str> = run.stdout.lines().collect();
    let mask_line = format!("::add-mask::{token}");
    let mask_at = lines
        .iter()
        .position(|l| *l == mask_line)
        .expect("token mask line");
    for (i, line) in lines.iter().enumerate() {
        if i != mask_at {
            assert!(!line.contains(token), "token leaked on stdout line {i}");
        }
    }
    assert!(
        lines[..mask_at]
            .iter()
            .all(|l| l.starts_with("::add-mask::") || l.starts_with("::debug::")),
        "something was printed before the token was masked"
    );
    assert!(!run.stderr.contains(token), "token leaked on stderr");
    assert!(
        !run.view.log_text().contains(token),
        "token visible in the rendered log"
    );
}
