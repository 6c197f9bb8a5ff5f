//! `environment: ${{ matrix.NAME }}`: the environments a matrix job deploys to, read from the
//! job's literal `strategy.matrix` (GitHub docs, "Running variations of jobs in a workflow":
//! each value of a dimension, and `include` entries that add one). Any other expression is
//! left unknown by the caller, never guessed.

use github_actions_models::common::expr::LoE;
use github_actions_models::workflow::job::NormalJob;

use super::workflows::literal_strings;

/// The values `expression` takes over the job's matrix, when it is exactly
/// `${{ matrix.NAME }}` and the matrix is literal; `None` otherwise.
pub(super) fn values_of(job: &NormalJob, expression: &str) -> Option<Vec<String>> {
    let inner = expression
        .trim()
        .strip_prefix("${{")?
        .strip_suffix("}}")?
        .trim();
    let name = inner.strip_prefix("matrix.")?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    {
        return None;
    }
    let LoE::Literal(matrix) = job.strategy.as_ref()?.matrix.as_ref()? else {
        return None;
    };
    let mut values = Vec::new();
    if let LoE::Literal(dimensions) = &matrix.dimensions {
        if let Some(list) = dimensions.get(name) {
            values.extend(literal_strings(list)?);
        }
    }
    if let LoE::Literal(exclude) = &matrix.exclude {
        for entry in exclude {
            // An exclude entry with only this key removes the value; `include` entries are
            // added after the exclusions, so they stay.
            if entry.len() == 1 {
                if let Some(yaml_serde::Value::String(s)) = entry.get(name) {
                    values.retain(|v| v != s);
                }
            }
        }
    }
    if let LoE::Literal(include) = &matrix.include {
        for entry in include {
            if let Some(yaml_serde::Value::String(s)) = entry.get(name) {
                if !values.contains(s) {
                    values.push(s.clone());
                }
            }
        }
    }
    Some(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use github_actions_models::workflow::Job;

    fn job(yaml: &str) -> NormalJob {
        match yaml_serde::from_str::<Job>(yaml).unwrap() {
            Job::NormalJob(job) => *job,
            Job::ReusableWorkflowCallJob(_) => panic!("a normal job"),
        }
    }

    #[test]
    fn dimension_include_and_exclude() {
        let j = job("runs-on: x\nstrategy:\n  matrix:\n    env: [dev, staging, prod]\n    exclude:\n      - env: staging\n    include:\n      - env: dr\nsteps: []\n");
        assert_eq!(
            values_of(&j, "${{ matrix.env }}").unwrap(),
            ["dev", "prod", "dr"]
        );
        assert_eq!(values_of(&j, "${{ inputs.env }}"), None);
        assert_eq!(values_of(&j, "${{ matrix.env }}-x"), None);
    }
}
