//! Evaluates GCP CEL expressions with oidc-preflight's evaluator, one JSON line in, one out:
//! `{"id": 1, "expr": "assertion.sub == 'x'", "claims": {...}}` ->
//! `{"id": 1, "type": "bool", "value": "false"}` (or `"type": "error"`). The other side of
//! the differential test against Google's cel-cpp (`scripts/cel-differential.sh`).

use std::io::{BufRead, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stdin = std::io::stdin();
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let case: serde_json::Value = serde_json::from_str(&line?)?;
        let expr = case["expr"].as_str().unwrap_or_default();
        let claims = case["claims"].as_object().cloned().unwrap_or_default();
        let (kind, value) = oidc_preflight::policy::evaluate_gcp_expression(expr, &claims)
            .unwrap_or_else(|error| ("error".to_owned(), error));
        let out = serde_json::json!({"id": case["id"], "type": kind, "value": value});
        writeln!(stdout, "{out}")?;
    }
    stdout.flush()?;
    Ok(())
}
