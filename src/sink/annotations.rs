//! The annotations: one per finding, at its severity, within what GitHub shows.

use std::io::{self, Write};

use crate::commands::{self, Level};
use crate::findings::{self, FindingId};
use crate::report::Report;

/// One annotation per finding, at its severity (with `fail-on-mismatch: false` the analysis
/// already holds failed checks as warnings: [`crate::diagnose::Analysis::report_failures_as_warnings`]).
///
/// GitHub shows only the first [`findings::ANNOTATIONS_PER_LEVEL`] annotations of each level
/// per step, so with more of a level the first ones less one are written, and then one that
/// says how many more the log lists: a flood neither fills the log with commands nor hides
/// that there is more.
pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let analysis = report;
    let level_of = |f: &findings::Finding| f.severity;
    let levels = [Level::Error, Level::Warning, Level::Notice];
    let totals = levels.map(|l| {
        analysis
            .findings
            .iter()
            .filter(|f| level_of(f) == l)
            .count()
    });
    let quota = |i: usize| {
        if totals[i] > findings::ANNOTATIONS_PER_LEVEL {
            findings::ANNOTATIONS_PER_LEVEL - 1
        } else {
            totals[i]
        }
    };
    let mut written = [0usize; 3];
    for f in &analysis.findings {
        let level = level_of(f);
        let i = levels.iter().position(|l| *l == level).unwrap_or(0);
        if written[i] == quota(i) {
            continue;
        }
        written[i] += 1;
        let prefix = match &analysis.predicted_for {
            Some(env) if f.id != FindingId::Prediction => {
                format!("[prediction for environment {env}] ")
            }
            _ => String::new(),
        };
        let message = format!("{prefix}{}\n\nHint: {}", f.message, f.hint);
        commands::annotation(out, level, &f.title, &message)?;
    }
    for (i, level) in levels.into_iter().enumerate() {
        let more = totals[i] - written[i];
        if more > 0 {
            let message = format!(
                "{more} more finding(s) of this level are not annotated: GitHub shows only \
                 {} per step.\n\nHint: the step log and the job summary list the first {} \
                 findings and count them all",
                findings::ANNOTATIONS_PER_LEVEL,
                findings::MAX_LISTED_FINDINGS
            );
            commands::annotation(out, level, "More findings", &message)?;
        }
    }
    Ok(())
}
