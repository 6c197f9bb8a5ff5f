//! `docs/reliability.md` ("Reliability and security record") states counts; this keeps them true.

use crate::binary::BINARY_LEAK_CASES;
use crate::faults::fault_counts;
use crate::hostile::hostile_rows;
use crate::properties::{properties, CASES};

#[test]
fn the_reliability_record_states_the_real_counts() {
    let record = include_str!("../../docs/reliability.md");
    let (faults, faults_with_token) = fault_counts();
    let hostile = hostile_rows();
    let runs = faults + hostile + BINARY_LEAK_CASES;
    // Every hostile row and all but the 401 binary case get a token.
    let with_token = faults_with_token + hostile + BINARY_LEAK_CASES - 1;
    for stated in [
        format!("**Faults: {faults} rows**"),
        format!("**Hostile claims: {hostile} rows**"),
        format!("**Properties: {} × {CASES} cases**", properties()),
        format!("**Leaks: {runs} runs**"),
        format!("**{with_token}** of them the token too"),
        format!("all {faults} fault rows ({faults_with_token} with a token"),
        format!("all\n  {hostile} hostile rows, and {BINARY_LEAK_CASES} failure paths"),
    ] {
        assert!(
            record.contains(&stated),
            "docs/reliability.md does not say `{stated}`"
        );
    }
}
