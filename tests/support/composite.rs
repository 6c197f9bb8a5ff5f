//! A local stand-in for the runner running a composite action: it reads `action.yml`, fills
//! `${{ inputs.* }}` (defaults from the file) and `${{ steps.*.outputs.* }}`, runs each `bash`
//! step the way the runner does (`bash --noprofile --norc -eo pipefail FILE`, the step's `env:`
//! added to the job's environment, a fresh `GITHUB_OUTPUT` file per step), stops at the first
//! failing step, and evaluates the action's `outputs:` from the steps' outputs.
//!
//! Only what action.yml uses is supported; anything else panics, so a change to action.yml that
//! the stand-in does not understand fails the tests instead of being skipped.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

use crate::runner;

/// The action's metadata, as far as the runner needs it.
pub struct Action {
    pub inputs: Vec<(String, String)>,
    pub outputs: Vec<(String, String)>,
    pub steps: Vec<Step>,
}

pub struct Step {
    pub id: String,
    pub shell: String,
    pub env: Vec<(String, String)>,
    pub run: String,
}

/// What running the action gave.
pub struct CompositeRun {
    /// The exit code of the step that failed, or 0.
    pub code: i32,
    /// Every step's stdout, in order (what the runner parses for workflow commands).
    pub stdout: String,
    pub stderr: String,
    /// Each step's outputs, by step id.
    pub step_outputs: BTreeMap<String, BTreeMap<String, String>>,
    /// The action's outputs (empty when a step failed).
    pub outputs: BTreeMap<String, String>,
}

fn text(yaml: &Yaml) -> String {
    match yaml {
        Yaml::String(s) => s.clone(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::BadValue => String::new(),
        other => panic!("unsupported YAML value in action.yml: {other:?}"),
    }
}

fn pairs(yaml: &Yaml, value_key: Option<&str>) -> Vec<(String, String)> {
    yaml.as_hash()
        .map(|hash| {
            hash.iter()
                .map(|(k, v)| {
                    let value = match value_key {
                        Some(key) => text(&v[key]),
                        None => text(v),
                    };
                    (text(k), value)
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Action {
    pub fn load(path: &Path) -> Self {
        let source = std::fs::read_to_string(path).expect("action.yml");
        let doc = YamlLoader::load_from_str(&source).expect("action.yml parses")[0].clone();
        let runs = &doc["runs"];
        assert_eq!(text(&runs["using"]), "composite", "the action is composite");
        let steps = runs["steps"]
            .as_vec()
            .expect("runs.steps")
            .iter()
            .map(|step| Step {
                id: text(&step["id"]),
                shell: text(&step["shell"]),
                env: pairs(&step["env"], None),
                run: text(&step["run"]),
            })
            .collect();
        Action {
            inputs: pairs(&doc["inputs"], Some("default")),
            outputs: pairs(&doc["outputs"], Some("value")),
            steps,
        }
    }

    /// Runs the steps with `env` as the job's environment and `with` as the step's `with:`.
    pub fn run(
        &self,
        env: &[(String, String)],
        with: &[(&str, &str)],
        work: &Path,
    ) -> CompositeRun {
        let mut inputs: BTreeMap<String, String> = self.inputs.iter().cloned().collect();
        for (name, value) in with {
            assert!(
                inputs.contains_key(*name),
                "`{name}` is not an input of the action"
            );
            inputs.insert((*name).to_owned(), (*value).to_owned());
        }
        let mut run = CompositeRun {
            code: 0,
            stdout: String::new(),
            stderr: String::new(),
            step_outputs: BTreeMap::new(),
            outputs: BTreeMap::new(),
        };
        for (index, step) in self.steps.iter().enumerate() {
            assert_eq!(step.shell, "bash", "the stand-in runs bash steps only");
            let script = work.join(format!("step-{index}.sh"));
            std::fs::write(&script, &step.run).unwrap();
            let output_file = work.join(format!("output-{index}"));
            std::fs::write(&output_file, "").unwrap();
            let mut cmd = Command::new("bash");
            cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
                .arg(&script)
                .current_dir(work)
                .env_clear()
                .envs(env.iter().cloned())
                .env("GITHUB_OUTPUT", &output_file);
            for (name, value) in &step.env {
                cmd.env(name, expand(value, &inputs, &run.step_outputs));
            }
            let out = cmd.output().expect("bash runs");
            run.stdout.push_str(&String::from_utf8_lossy(&out.stdout));
            run.stderr.push_str(&String::from_utf8_lossy(&out.stderr));
            let written = std::fs::read_to_string(&output_file).unwrap();
            let parsed = runner::parse_outputs(&written).expect("step outputs parse strictly");
            run.step_outputs
                .insert(step.id.clone(), parsed.into_iter().collect());
            let code = out.status.code().unwrap_or(-1);
            if code != 0 {
                run.code = code;
                return run;
            }
        }
        for (name, value) in &self.outputs {
            run.outputs
                .insert(name.clone(), expand(value, &inputs, &run.step_outputs));
        }
        run
    }
}

/// Replaces `${{ inputs.X }}` and `${{ steps.ID.outputs.X }}`; anything else is unsupported.
pub fn expand(
    value: &str,
    inputs: &BTreeMap<String, String>,
    steps: &BTreeMap<String, BTreeMap<String, String>>,
) -> String {
    let mut result = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${{") {
        result.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("closed expression") + start;
        let expr = rest[start + 3..end].trim();
        let parts: Vec<&str> = expr.split('.').collect();
        let resolved = match parts.as_slice() {
            ["inputs", name] => inputs
                .get(*name)
                .unwrap_or_else(|| panic!("`{expr}` names no input"))
                .clone(),
            ["steps", id, "outputs", name] => steps
                .get(*id)
                .and_then(|o| o.get(*name))
                .cloned()
                .unwrap_or_default(),
            _ => panic!("the stand-in does not evaluate `{expr}`"),
        };
        result.push_str(&resolved);
        rest = &rest[end + 2..];
    }
    result.push_str(rest);
    result
}
