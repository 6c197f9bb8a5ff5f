//! `cargo run --example demo`: the action's real code path, in-process, against an embedded
//! GitHub OIDC provider on loopback. No GitHub, no network.
//!
//! Three runs of a deploy job's preflight step: one whose subject pattern matches, one that
//! expects the environment form while the job has no environment, and one that predicts the
//! token of the deploy job (which has an environment) and checks the prediction. Each shows the step log as
//! the runner would render it (masks applied, commands turned into annotations) and the
//! `GITHUB_OUTPUT` file the step wrote.
// Tests and examples may unwrap and print (Cargo.toml's [lints] are for library code).
#![allow(
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

#[path = "../tests/support/provider.rs"]
mod provider;
#[path = "../tests/support/runner.rs"]
mod runner;

use oidc_preflight::{config::input_variable, run_action, ActionConfig, Env};
use provider::{Job, Provider};

struct Scenario {
    title: &'static str,
    inputs: &'static [(&'static str, &'static str)],
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        title: "preflight on push to main, pattern for the branch",
        inputs: &[
            ("audience", "sts.amazonaws.com"),
            (
                "subject-pattern",
                "repo:octo-org/octo-repo:ref:refs/heads/main",
            ),
        ],
    },
    Scenario {
        title:
            "the trust policy expects the environment form, but this job declares no environment",
        inputs: &[
            ("audience", "sts.amazonaws.com"),
            (
                "subject-pattern",
                "repo:octo-org/octo-repo:environment:prod",
            ),
        ],
    },
    Scenario {
        title: "the same preflight job predicts the token of the deploy job, which runs in environment prod",
        inputs: &[
            ("provider", "aws"),
            ("job-environment", "prod"),
            ("subject-pattern", "repo:octo-org/octo-repo:environment:prod"),
        ],
    },
];

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = Provider::start().await;
    let job = Job::default();
    provider.issue_tokens_for(&job).await;
    println!(
        "Embedded OIDC provider listening on {} (repository {}, {})\n",
        provider.server.uri(),
        job.repository,
        job.git_ref
    );

    for (i, scenario) in SCENARIOS.iter().enumerate() {
        let dir = tempfile::tempdir()?;
        let output_path = dir.path().join("github_output");
        let mut vars = provider.runner_env();
        vars.push(("GITHUB_OUTPUT".into(), output_path.display().to_string()));
        println!("━━━ Run {}: {} ━━━", i + 1, scenario.title);
        println!("with:");
        for (name, value) in scenario.inputs {
            println!("  {name}: {value}");
            vars.push((input_variable(name), (*value).to_owned()));
        }
        let config = ActionConfig::from_env(&Env::from_pairs(vars))?;
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status = run_action(
            &config,
            &oidc_preflight::times::system_now,
            &mut out,
            &mut err,
        )
        .await;
        let raw = format!("{}{}", String::from_utf8(out)?, String::from_utf8(err)?);
        let view = runner::process(&raw);

        println!("\n── step log (as GitHub renders it) ──");
        for line in &view.log {
            println!("  {line}");
        }
        println!("  (exit code {})", status.code());

        println!("\n── $GITHUB_OUTPUT ──");
        let mut file = std::fs::read_to_string(&output_path)?;
        for mask in &view.masks {
            file = file.replace(mask.as_str(), "***");
        }
        let outputs = runner::parse_outputs(&file)?;
        for (name, value) in outputs {
            println!("  {name:<17} {value}");
        }
        println!();
    }
    Ok(())
}
