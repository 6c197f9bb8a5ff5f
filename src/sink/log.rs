//! The step log (and `check`'s text): the claims block and the check results.
//!
//! Everything here writes untrusted claim text, so callers wrap it in
//! [`crate::commands::without_commands`] and every value goes through [`crate::commands::inert`].

use std::io::{self, Write};
use std::time::{Duration, UNIX_EPOCH};

use crate::claims::Claims;
use crate::commands::{self, inert};
use crate::findings::{Severity, MAX_LISTED_FINDINGS, MAX_LISTED_REASONS};
use crate::report::Report;

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
    // humantime's RFC 3339 Display returns an error past 9999-12-31, which `to_string` turns
    // into a panic: `exp` is untrusted, so such dates are not valid dates here.
    const LAST_RFC3339_SECOND: u64 = 253_402_300_799;
    let date = u64::try_from(exp)
        .ok()
        .filter(|secs| *secs <= LAST_RFC3339_SECOND)
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

/// Writes the whole report, the cause first: the verdict, the findings with their hints, what
/// was expected beside what the token has, then the claims and, when something failed, the
/// patterns and the named consumer's snippet. Everything is untrusted text: wrap in
/// `without_commands`.
pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let analysis = report;
    if let Some(env) = &analysis.predicted_for {
        writeln!(
            out,
            "PREDICTION for a job with environment `{}` (derived from this token):",
            inert(env)
        )?;
    }
    let count = |sev| {
        analysis
            .findings
            .iter()
            .filter(|f| f.severity == sev)
            .count()
    };
    writeln!(
        out,
        "Verdict: {} ({} error(s), {} warning(s), {} notice(s))",
        analysis.verdict_text(),
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Notice)
    )?;
    write_findings(out, analysis)?;
    write_checks(out, analysis)?;
    if let Some(signature) = &analysis.signature {
        writeln!(out, "Signature: {}", inert(signature))?;
    }
    write_claims(out, &analysis.claims, report.now())?;
    if analysis.claims.subject().is_some() {
        writeln!(
            out,
            "Subject form: {} ({})",
            analysis.subject_form.describe(),
            analysis.subject_form.kind()
        )?;
    }
    if analysis.verdict().failed() {
        write_fixes(out, analysis)?;
    }
    Ok(())
}

fn write_findings(out: &mut impl Write, analysis: &crate::diagnose::Analysis) -> io::Result<()> {
    if analysis.findings.is_empty() {
        return Ok(());
    }
    writeln!(out, "Findings:")?;
    for f in analysis.findings.iter().take(MAX_LISTED_FINDINGS) {
        writeln!(
            out,
            "  {:<8} {} ({})",
            f.severity.command(),
            inert(&f.title),
            f.id
        )?;
        writeln!(out, "           {}", inert(&f.message))?;
        // Hints have lines of their own (YAML to add); one quoting a crafted value full of
        // line breaks is cut first, so that it cannot fill the log.
        let hint = commands::shorten(&f.hint, commands::ANNOTATION_LIMIT);
        for (i, line) in hint.lines().enumerate() {
            let label = if i == 0 { "hint: " } else { "      " };
            writeln!(out, "           {label}{}", inert(line))?;
        }
    }
    if let Some(more) = analysis.findings.len().checked_sub(MAX_LISTED_FINDINGS) {
        if more > 0 {
            writeln!(
                out,
                "  ... and {more} more finding(s), not listed (at most {MAX_LISTED_FINDINGS} are)"
            )?;
        }
    }
    Ok(())
}

/// What was expected beside what the token has: the subject patterns, the claims, and each
/// trust document's verdict with the reasons that decide it.
fn write_checks(out: &mut impl Write, analysis: &crate::diagnose::Analysis) -> io::Result<()> {
    let sub = analysis.claims.subject();
    if let (Some(check), Some(sub)) = (&analysis.subject_check, sub) {
        match &check.matched {
            Some(p) => writeln!(out, "Subject check passed: sub matches `{}`", inert(p))?,
            None => {
                writeln!(
                    out,
                    "Subject check failed: sub `{}` matches none of",
                    inert(sub)
                )?;
                for p in &check.patterns {
                    writeln!(out, "    - {}", inert(p))?;
                }
            }
        }
    }
    for c in &analysis.claim_checks {
        let actual = analysis
            .claims
            .text(&c.name)
            .map_or_else(|| "absent".to_owned(), |v| format!("`{}`", inert(&v)));
        writeln!(
            out,
            "Claim check {}: {} = {} (the token has {actual})",
            if c.held { "passed" } else { "failed" },
            inert(&c.name),
            inert(&c.pattern)
        )?;
    }
    for o in &analysis.policies {
        let verdict = if o.report.allowed {
            "ALLOWS"
        } else {
            "REFUSES"
        };
        writeln!(
            out,
            "Trust policy {} ({}): {verdict} the token",
            inert(&o.path),
            o.report.format
        )?;
        // A refusal lists what decides it (the findings say it in full); an allow, nothing.
        if o.report.allowed {
            continue;
        }
        let refusing = o.report.refusing();
        for r in refusing.iter().take(MAX_LISTED_REASONS) {
            writeln!(out, "    [{}] {}", r.id, inert(&r.location))?;
        }
        if refusing.len() > MAX_LISTED_REASONS {
            writeln!(
                out,
                "    ... and {} more, not listed (the findings below count them)",
                refusing.len() - MAX_LISTED_REASONS
            )?;
        }
    }
    Ok(())
}

/// The patterns and the snippet that accept this token. Second to the findings' own fixes:
/// they widen a policy to this job, which is right only when this job should get in.
fn write_fixes(out: &mut impl Write, analysis: &crate::diagnose::Analysis) -> io::Result<()> {
    let snippets = [
        ("AWS trust policy condition", &analysis.snippets.aws),
        (
            "Azure federated identity credential",
            &analysis.snippets.azure,
        ),
        (
            "GCP attribute mapping and condition",
            &analysis.snippets.gcp,
        ),
        ("Vault JWT auth role", &analysis.snippets.vault),
    ];
    // Patterns are for the consumers whose documents match `sub`; a registry's trusted
    // publisher never reads it, so without a snippet there is nothing to show.
    if snippets.iter().all(|(_, b)| b.is_empty()) {
        return Ok(());
    }
    writeln!(
        out,
        "If this job is the one to let in (otherwise make the change a finding names), these accept its token:"
    )?;
    if !analysis.suggestions.is_empty() {
        writeln!(out, "  Patterns that match this subject (narrowest first):")?;
        for s in &analysis.suggestions {
            writeln!(out, "    - {}", inert(s))?;
        }
    }
    for (title, body) in snippets {
        if body.is_empty() {
            continue;
        }
        writeln!(out, "  {title}:")?;
        for line in body.lines() {
            writeln!(out, "    {}", inert(line))?;
        }
    }
    Ok(())
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
    fn dates_past_year_9999_do_not_panic() {
        // humantime's RFC 3339 Display fails past 9999-12-31; `exp` is untrusted.
        for exp in [253_402_300_800, i64::MAX, 1 << 40] {
            let shown = describe_time(exp, 0);
            assert!(shown.starts_with("not a valid date"), "{shown}");
        }
        assert!(describe_time(253_402_300_799, 0).starts_with("9999-12-31T23:59:59Z"));
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
