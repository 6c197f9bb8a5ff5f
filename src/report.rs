//! The finished report: the one value every sink (step log, annotations, job summary, step
//! outputs, `--format json`) reads. Built once, after every check, the signature and the
//! trust documents have had their say; immutable afterwards, so no sink can disagree with
//! another about a severity or the verdict.

use std::ops::Deref;

use crate::claims::Claims;
use crate::diagnose::Analysis;
use crate::verify::SignatureStatus;

/// The analysis, finished: read it through [`Deref`] (its fields are the analysis').
#[derive(Debug, Clone)]
pub struct Report {
    analysis: Analysis,
    token_claims: Claims,
    signature: SignatureStatus,
    now: i64,
    fail_on_mismatch: bool,
}

impl Report {
    /// Finishes `analysis`. `token_claims` are the token's own (the step outputs show them;
    /// the checked claims are a prediction with `job-environment`), `now` the instant the
    /// checks used. `fail_on_mismatch: false` is applied here, once, for every sink
    /// ([`Analysis::report_failures_as_warnings`]).
    pub fn finish(
        mut analysis: Analysis,
        token_claims: Claims,
        signature: SignatureStatus,
        now: i64,
        fail_on_mismatch: bool,
    ) -> Self {
        if !fail_on_mismatch {
            analysis.report_failures_as_warnings();
        }
        Self {
            analysis,
            token_claims,
            signature,
            now,
            fail_on_mismatch,
        }
    }

    /// The instant the checks used, in seconds since the epoch.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The token's own claims (not the prediction).
    pub fn token_claims(&self) -> &Claims {
        &self.token_claims
    }

    /// Whether the signature verified, was refused, or was not checked.
    pub fn signature_status(&self) -> SignatureStatus {
        self.signature
    }

    /// Whether the step fails: a check failed and failures were not reported as warnings.
    pub fn fails_the_step(&self) -> bool {
        self.fail_on_mismatch && self.analysis.verdict().failed()
    }
}

impl Deref for Report {
    type Target = Analysis;

    fn deref(&self) -> &Analysis {
        &self.analysis
    }
}
