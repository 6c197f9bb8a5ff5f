//! The human-readable log: the claims block and the check results.
//!
//! Everything here writes untrusted claim text, so callers wrap it in
//! [`crate::commands::without_commands`] and every value goes through [`crate::commands::inert`].

use std::io::{self, Write};
use std::time::{Duration, UNIX_EPOCH};

use crate::claims::Claims;
use crate::commands::inert;

/// The claims a reader needs first, in the order they are shown.
const MAIN_CLAIMS: &[&str] = &[
    "sub",
    "aud",
    "iss",
    "repository",
    "ref",
    "environment",
    "event_name",
    "job_workflow_ref",
];

/// Writes the main claims, one per line, and `exp` as a date and the time left.
pub fn write_claims(out: &mut impl Write, claims: &Claims, now: i64) -> io::Result<()> {
    writeln!(out, "OIDC token claims:")?;
    for name in MAIN_CLAIMS {
        let value = claims
            .text(name)
            .map_or_else(|| "(absent)".to_owned(), |v| inert(&v));
        writeln!(out, "  {name:<17} {value}")?;
    }
    let exp = match claims.timestamp("exp") {
        Some(exp) => format!("{exp} ({})", describe_time(exp, now)),
        None => "(absent)".to_owned(),
    };
    writeln!(out, "  {:<17} {exp}", "exp")
}

/// `2026-11-22T02:05:00Z, expires in 4m 59s` or `..., expired 1m ago`.
pub fn describe_time(exp: i64, now: i64) -> String {
    let date = u64::try_from(exp)
        .ok()
        .and_then(|secs| UNIX_EPOCH.checked_add(Duration::from_secs(secs)))
        .map(|t| humantime::format_rfc3339_seconds(t).to_string())
        .unwrap_or_else(|| "not a valid date".to_owned());
    let left = exp.saturating_sub(now);
    if left > 0 {
        format!(
            "{date}, expires in {}",
            humantime::format_duration(Duration::from_secs(left.unsigned_abs()))
        )
    } else if left == 0 {
        format!("{date}, expires now")
    } else {
        format!(
            "{date}, expired {} ago",
            humantime::format_duration(Duration::from_secs(left.unsigned_abs()))
        )
    }
}

/// Writes the subject check's result.
pub fn write_subject_result(
    out: &mut impl Write,
    subject: Option<&str>,
    patterns: &[String],
    matched_by: Option<&str>,
) -> io::Result<()> {
    match (subject, matched_by) {
        (Some(_), Some(pattern)) => writeln!(
            out,
            "Subject check passed: sub matches `{}`",
            inert(pattern)
        ),
        (subject, _) => {
            writeln!(out, "Subject check failed:")?;
            match subject {
                Some(sub) => writeln!(out, "  actual sub   {}", inert(sub))?,
                None => writeln!(out, "  actual sub   (absent: the token has no sub claim)")?,
            }
            writeln!(out, "  expected     one of these patterns (AWS StringLike: * any run, ? one character, case-sensitive):")?;
            for pattern in patterns {
                writeln!(out, "    - {}", inert(pattern))?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claims_block_is_one_line_per_claim_even_for_hostile_values() {
        let claims = Claims(
            json!({
                "sub": "repo:a/b:ref:refs/heads/x\n::error::pwned",
                "aud": ["a", "b"],
                "exp": 1_000_300,
            })
            .as_object()
            .unwrap()
            .clone(),
        );
        let mut buf = Vec::new();
        write_claims(&mut buf, &claims, 1_000_000).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text.lines().count(), 1 + MAIN_CLAIMS.len() + 1, "{text}");
        assert!(text.lines().all(|l| !l.starts_with("::")), "{text}");
        assert!(text.contains(r#"aud               ["a","b"]"#), "{text}");
        assert!(text.contains("environment       (absent)"), "{text}");
        assert!(
            text.contains("1970-01-12T13:51:40Z, expires in 5m"),
            "{text}"
        );
    }

    #[test]
    fn time_descriptions() {
        assert!(describe_time(100, 160).ends_with("expired 1m ago"));
        assert!(describe_time(100, 100).ends_with("expires now"));
        assert_eq!(
            describe_time(-5, 0),
            "not a valid date, expires now".replace("expires now", "expired 5s ago")
        );
    }
}
