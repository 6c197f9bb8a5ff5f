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
    /// What the run appended to GITHUB_STEP_SUMMARY.
    pub summary: String,
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
    let summary_path = dir.path().join("summary");
    let mut vars: Vec<(String, String)> = provider.map(Provider::runner_env).unwrap_or_default();
    vars.push(("GITHUB_OUTPUT".into(), output_path.display().to_string()));
    vars.push((
        "GITHUB_STEP_SUMMARY".into(),
        summary_path.display().to_string(),
    ));
    for (name, value) in inputs {
        vars.push((
            oidc_preflight::config::input_variable(name),
            value.to_string(),
        ));
    }
    for (name, value) in extra {
        vars.push((name.to_string(), value.to_string()));
    }
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let started = Instant::now();
    // Refused inputs are reported as the binary reports them (src/app.rs), so a scenario can
    // show what a person reads when the action stops before the token request.
    let status = match ActionConfig::from_env(&Env::from_pairs(vars)) {
        Ok(config) => {
            run_action(
                &config,
                &oidc_preflight::times::system_now,
                &mut out,
                &mut err,
            )
            .await
        }
        Err(e) => {
            let error = oidc_preflight::Error::from(e);
            error
                .report(true, &mut out, &mut err)
                .expect("report to a buffer");
            error.exit_status()
        }
    };
    let elapsed = started.elapsed();
    let stdout = String::from_utf8(out).expect("stdout is UTF-8");
    let stderr = String::from_utf8(err).expect("stderr is UTF-8");
    let file = std::fs::read_to_string(&output_path).unwrap_or_default();
    let outputs = runner::parse_outputs(&file).expect("outputs parse strictly");
    let summary = std::fs::read_to_string(&summary_path).unwrap_or_default();
    let view = runner::process(&format!("{stdout}\n{stderr}"));
    Run {
        status,
        stdout,
        stderr,
        outputs,
        summary,
        view,
        elapsed,
    }
}

/// Lines that may come before the token's mask: they are written before the token exists
/// (the request token's mask, debug lines about the request, progress of retried attempts).
fn written_before_the_token(line: &str) -> bool {
    line.starts_with("::add-mask::")
        || line.starts_with("::debug::")
        || (line.starts_with("Attempt ") && line.contains("; retrying in "))
}

/// Asserts the token appears nowhere but on the `::add-mask::` line, which must come before
/// any line written after the token arrived; and nowhere in stderr, the rendered log, the
/// summary, or any output but `token`.
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
        lines[..mask_at].iter().all(|l| written_before_the_token(l)),
        "something was printed before the token was masked"
    );
    assert!(!run.stderr.contains(token), "token leaked on stderr");
    assert!(
        !run.view.log_text().contains(token),
        "token visible in the rendered log"
    );
    assert!(!run.summary.contains(token), "token in the job summary");
    for (name, value) in &run.outputs {
        assert!(
            name == "token" || !value.contains(token),
            "token in output {name}"
        );
    }
}

/// Asserts the request token appears nowhere but on the first line, its mask.
pub fn assert_request_token_only_masked(run: &Run, request_token: &str) {
    let first = run.stdout.lines().next().unwrap_or_default();
    assert_eq!(first, format!("::add-mask::{request_token}"));
    assert_eq!(
        run.stdout.matches(request_token).count(),
        1,
        "request token on stdout beyond its mask"
    );
    assert!(
        !run.stderr.contains(request_token),
        "request token on stderr"
    );
    assert!(
        !run.summary.contains(request_token),
        "request token in the summary"
    );
    assert!(
        run.outputs.iter().all(|(_, v)| !v.contains(request_token)),
        "request token in an output"
    );
}

/// The Markdown outside fenced code blocks, where text is rendered. Inside a fence everything
/// is literal; the fence is longer than any backtick run in its content, so it cannot close
/// early. Panics on an unclosed fence.
pub fn outside_code_fences(markdown: &str) -> String {
    let mut fence: Option<String> = None;
    let mut live = Vec::new();
    for line in markdown.lines() {
        match &fence {
            Some(f) if line == f => fence = None,
            Some(_) => {}
            None if line.starts_with("```") => {
                fence = Some(line.chars().take_while(|c| *c == '`').collect())
            }
            None => live.push(line),
        }
    }
    assert!(fence.is_none(), "unclosed code fence");
    live.join("\n")
}

/// Asserts a job summary renders every value inertly: no live HTML, every table row with
/// exactly the three pipes of its two cells, every fence closed.
pub fn assert_summary_inert(summary: &str) {
    let live = outside_code_fences(summary);
    for bad in ["<script", "<img", "<iframe", "javascript:"] {
        assert!(
            !live.to_lowercase().contains(bad),
            "{bad} rendered live:\n{live}"
        );
    }
    // Each row has the pipes of its table's header: no value adds a cell.
    let mut header_pipes = 0;
    let mut in_table = false;
    for line in live.lines() {
        if !line.starts_with('|') {
            in_table = false;
            continue;
        }
        if !in_table {
            header_pipes = line.matches('|').count();
            in_table = true;
        }
        assert_eq!(
            line.matches('|').count(),
            header_pipes,
            "table row split: {line}"
        );
    }
    // Only the tags the summary itself writes are live.
    let mut rest = live.as_str();
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let tag: String = rest.chars().take_while(|c| *c != '>').collect();
        let name = tag.trim_start_matches('/');
        // `wbr` breaks autolinks and lets long values wrap (summary::BREAK).
        assert!(
            ["code", "em", "br", "details", "summary", "wbr"].contains(&name),
            "unexpected live tag <{tag}> in the summary"
        );
    }
}

/// Runs the rows of a table on `workers` threads, each with its own runtime, and returns the
/// failures. The action's future is not Send (its attempt callback borrows the log), so rows
/// cannot share a thread pool; a few at a time keeps them from queueing behind one another's
/// setup on a two-core machine, which would distort their time bounds.
pub fn run_table<C, F, Fut>(rows: Vec<C>, workers: usize, run: F) -> Vec<String>
where
    C: Send + 'static,
    F: Fn(C) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let queue = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::from(
        rows,
    )));
    let run = std::sync::Arc::new(run);
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let (queue, run) = (queue.clone(), run.clone());
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                let mut failures = Vec::new();
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.pop_front());
                    let Some(row) = next else { break };
                    if let Err(why) = runtime.block_on(run(row)) {
                        failures.push(why);
                    }
                }
                failures
            })
        })
        .collect();
    let mut failures = Vec::new();
    for handle in handles {
        match handle.join() {
            Ok(mut f) => failures.append(&mut f),
            Err(_) => failures.push("a row panicked (see its message above)".to_owned()),
        }
    }
    failures
}
