//! The job summary (`GITHUB_STEP_SUMMARY`): verdict, claims table, findings with hints, and
//! the snippets in collapsed sections. Every untrusted value is rendered inert: control
//! characters escaped, then every ASCII punctuation character written as an HTML entity, so no
//! Markdown or HTML in a claim value can take effect, and a `|` cannot split a table cell;
//! and an empty HTML comment before each `@`, `:` and `.`, so that no GFM autolink forms.

use std::io::{self, Write};

use crate::commands::{escape_controls, inert, shorten, DISPLAY_LIMIT};
use crate::diagnose::{Analysis, Verdict};
use crate::findings::{Severity, MAX_LISTED_FINDINGS, MAX_LISTED_REASONS};
use crate::report::Report;

/// Claims shown in the table, in order; the rest are in the JSON section.
const TABLE_CLAIMS: &[&str] = &[
    "sub",
    "aud",
    "iss",
    "repository",
    "repository_owner",
    "repository_owner_id",
    "ref",
    "ref_type",
    "environment",
    "event_name",
    "workflow_ref",
    "job_workflow_ref",
    "runner_environment",
    "exp",
];

/// Breaks a run of text in two for the Markdown parser and shows nothing: an inline HTML
/// element ends the text node the autolinker scans, and `<wbr>` (on GitHub's list of allowed
/// elements) also lets the browser wrap there, so a long key such as
/// `Statement[0].Condition.StringEquals.token.actions.githubusercontent.com:aud` no longer
/// pushes a table past the page's width.
pub const BREAK: &str = "<wbr>";

/// Escapes untrusted text for Markdown and HTML.
///
/// Entities are not enough against GFM's autolinks (`www.`, `http://`, `https://`,
/// `mailto:`, `xmpp:`, bare e-mail addresses): the parser decodes them into the same text
/// the autolinker then scans, so a branch `security@evil.example` would become a `mailto:`
/// link. Each of these needs an `@`, a `:` or a `.` inside one run of text, so a [`BREAK`]
/// before every one of them leaves nothing to link, inside `<code>` as well (HTML code tags do
/// not stop autolinks). Zero-width characters would do too, but would be copied along with
/// the value.
///
/// A break also follows each `/`, where paths, refs and URLs are read as parts (an audience
/// URL has runs of 90 characters between dots): without it such a value is one unbreakable
/// word that pushes a table past the page.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let text = inert(text);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if matches!(c, '@' | ':' | '.') && !out.ends_with(BREAK) {
            out.push_str(BREAK);
        }
        if c.is_ascii_punctuation() {
            out.push_str(&format!("&#{};", c as u32));
        } else {
            out.push(c);
        }
        // After the last of `//`, not between them.
        if c == '/' && chars.peek() != Some(&'/') {
            out.push_str(BREAK);
        }
    }
    out
}

/// Escapes a finding's message or hint, showing its `backticked` spans as code. When the
/// backticks do not pair up (a claim value contained one), everything is plain escaped text.
fn escape_message(text: &str) -> String {
    // Shortened whole first: a value full of backticks would otherwise split into thousands
    // of spans, each short enough to escape the per-value limit.
    let text = shorten(text, 2 * DISPLAY_LIMIT);
    let text = text.as_ref();
    let spans: Vec<&str> = text.split('`').collect();
    if spans.len().is_multiple_of(2) {
        return escape(text);
    }
    spans
        .iter()
        .enumerate()
        .map(|(i, span)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", escape(span))
            } else {
                escape(span)
            }
        })
        .collect()
}

/// A fenced code block whose fence is longer than any run of backticks inside, so the content
/// cannot close it. Lines longer than [`DISPLAY_LIMIT`] characters are shortened, and control
/// and bidirectional characters are shown escaped, as everywhere else.
fn fenced(lang: &str, body: &str) -> String {
    let body: Vec<_> = body
        .lines()
        .map(|line| escape_controls(&shorten(line, DISPLAY_LIMIT)).into_owned())
        .collect();
    let body = body.join("\n");
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{lang}\n{body}\n{fence}\n")
}

fn icon(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "❌",
        Severity::Warning => "⚠️",
        Severity::Notice => "ℹ️",
    }
}

/// The runner refuses a step summary larger than 1 MiB (`$GITHUB_STEP_SUMMARY supports
/// content up a size of 1024k`) and shows none of it.
pub const SUMMARY_LIMIT: usize = 1024 * 1024;

/// Writes the summary for one analysis. Each value is shortened for display; should crafted
/// claims still make the summary larger than [`SUMMARY_LIMIT`], only the verdict and a note
/// are written, so the runner still shows a summary.
pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let analysis: &Analysis = report;
    let mut full = Vec::new();
    write_full_summary(&mut full, report)?;
    if full.len() <= SUMMARY_LIMIT {
        return out.write_all(&full);
    }
    writeln!(
        out,
        "## {}\n\nThe full summary would be {} bytes, more than the runner accepts ({SUMMARY_LIMIT} bytes): the token's claims are unusually long. The step log has the report.",
        verdict(analysis),
        full.len()
    )
}

fn verdict(analysis: &Analysis) -> String {
    match analysis.verdict() {
        Verdict::Passed => "✅ OIDC preflight passed".to_owned(),
        Verdict::Failed => "❌ OIDC preflight failed".to_owned(),
        Verdict::NothingChecked => format!("ℹ️ OIDC preflight: {}", analysis.verdict_text()),
    }
}

fn write_full_summary(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let analysis: &Analysis = report;
    writeln!(out, "## {}\n", verdict(analysis))?;
    if let Some(env) = &analysis.predicted_for {
        writeln!(
            out,
            "> **Prediction:** the claims below are those a job with environment <code>{}</code> will receive, derived from this job's token.\n",
            escape(env)
        )?;
    }
    // The cause first: the findings with their hints, then expected beside actual.
    if !analysis.findings.is_empty() {
        writeln!(out, "### Findings\n")?;
        for f in analysis.findings.iter().take(MAX_LISTED_FINDINGS) {
            writeln!(
                out,
                "- {} **{}** (<code>{}</code>): {}<br>*Hint:* {}",
                icon(f.severity),
                escape(&f.title),
                f.id,
                escape_message(&f.message),
                escape_message(&f.hint)
            )?;
        }
        if analysis.findings.len() > MAX_LISTED_FINDINGS {
            writeln!(
                out,
                "- … and {} more finding(s), not listed (at most {MAX_LISTED_FINDINGS} are)",
                analysis.findings.len() - MAX_LISTED_FINDINGS
            )?;
        }
        writeln!(out)?;
    }
    write_expected(out, analysis)?;
    if let Some(signature) = &analysis.signature {
        writeln!(out, "**Signature:** {}\n", escape_message(signature))?;
    }
    writeln!(
        out,
        "**Subject form:** {}\n",
        escape(&analysis.subject_form.describe())
    )?;
    for o in &analysis.policies {
        let verdict = if o.report.allowed {
            ("✅", "allows")
        } else {
            ("❌", "refuses")
        };
        writeln!(
            out,
            "### {} Trust policy <code>{}</code> ({}) {} the token\n",
            verdict.0,
            escape(&o.path),
            o.report.format,
            verdict.1
        )?;
        // What held, what refused and where, in the document's order; the id last, as a
        // reference, so the narrow columns are the icon and the place.
        writeln!(out, "| | where | what it says |\n|---|---|---|")?;
        let marked = o
            .report
            .reasons
            .iter()
            .map(|r| (if r.holds() { "✅" } else { "❌" }, r))
            .chain(o.report.warnings.iter().map(|r| ("⚠️", r)));
        for (mark, r) in marked.take(MAX_LISTED_REASONS) {
            writeln!(
                out,
                "| {mark} | {} | {} (<code>{}</code>) |",
                escape(&r.location),
                escape_message(&r.message),
                r.id
            )?;
        }
        let (_, more) = o.report.listed(MAX_LISTED_REASONS);
        if more > 0 {
            writeln!(out, "| | | … and {} more, not listed |", more)?;
        }
        writeln!(out)?;
    }
    writeln!(out, "### Token claims\n")?;
    writeln!(out, "| claim | value |\n|---|---|")?;
    for name in TABLE_CLAIMS {
        let value = match (*name, analysis.claims.timestamp(name)) {
            // A date and the time left, as the log shows it, not a bare epoch.
            ("exp", Some(exp)) => {
                let described = super::log::describe_time(exp, report.now());
                let (date, left) = described.split_once(", ").unwrap_or((&described, ""));
                format!(
                    "<code>{}</code>, {} (<code>{exp}</code>)",
                    escape(date),
                    escape(left)
                )
            }
            _ => analysis.claims.text(name).map_or_else(
                || "<em>absent</em>".to_owned(),
                |v| format!("<code>{}</code>", escape(&v)),
            ),
        };
        writeln!(out, "| <code>{name}</code> | {value} |")?;
    }
    writeln!(out)?;
    let snippets = [
        ("AWS trust policy condition", "json", &analysis.snippets.aws),
        (
            "Azure federated identity credential",
            "json",
            &analysis.snippets.azure,
        ),
        (
            "GCP attribute mapping and condition",
            "text",
            &analysis.snippets.gcp,
        ),
        ("Vault JWT auth role", "sh", &analysis.snippets.vault),
    ];
    // After a pass there is nothing to change; after a failure or a mere print of the
    // claims, these are what a policy for this job would say. Subject patterns only beside a
    // snippet: they are for a cloud's or Vault's policy, and a registry's trusted publisher
    // (no snippet) reads no `sub`.
    let fixes = !analysis.verdict().matched() && snippets.iter().any(|(_, _, b)| !b.is_empty());
    if fixes {
        writeln!(out, "### What would accept this token\n")?;
        writeln!(
            out,
            "Only if this job is meant to get in; otherwise make the change a finding names. Each of these widens a policy to let this job in.\n"
        )?;
        if !analysis.suggestions.is_empty() {
            writeln!(
                out,
                "Subject patterns that match this token, narrowest first:\n"
            )?;
            for s in &analysis.suggestions {
                writeln!(out, "- <code>{}</code>", escape(s))?;
            }
            writeln!(out)?;
        }
    }
    let claims_json =
        serde_json::to_string_pretty(&serde_json::Value::Object(analysis.claims.0.clone()))
            .unwrap_or_default();
    for (title, lang, body) in
        snippets
            .into_iter()
            .filter(|_| fixes)
            .chain([("All claims", "json", &claims_json)])
    {
        if body.is_empty() {
            continue;
        }
        writeln!(
            out,
            "<details><summary>{title}</summary>\n\n{}\n</details>\n",
            fenced(lang, body)
        )?;
    }
    Ok(())
}

/// Expected beside actual for every failed check that has both: the subject patterns and
/// the claims. (A trust document's refusals name both in the findings and its table.)
fn write_expected(out: &mut impl Write, analysis: &Analysis) -> io::Result<()> {
    let subject = analysis
        .subject_check
        .as_ref()
        .filter(|c| c.matched.is_none());
    let claims: Vec<_> = analysis.claim_checks.iter().filter(|c| !c.held).collect();
    if subject.is_none() && claims.is_empty() {
        return Ok(());
    }
    writeln!(out, "### Expected and actual\n")?;
    writeln!(out, "| check | expected | this token |\n|---|---|---|")?;
    let code = |v: Option<String>| {
        v.map_or_else(
            || "<em>absent</em>".to_owned(),
            |v| format!("<code>{}</code>", escape(&v)),
        )
    };
    if let Some(check) = subject {
        let expected: Vec<String> = check
            .patterns
            .iter()
            .map(|p| format!("<code>{}</code>", escape(p)))
            .collect();
        writeln!(
            out,
            "| <code>sub</code> matches one of | {} | {} |",
            expected.join("<br>"),
            code(analysis.claims.text("sub"))
        )?;
    }
    for c in claims {
        writeln!(
            out,
            "| <code>{}</code> matches | <code>{}</code> | {} |",
            escape(&c.name),
            escape(&c.pattern),
            code(analysis.claims.text(&c.name))
        )?;
    }
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralizes_markdown_and_html() {
        // The breaks are this module's own markup; what is left must hold no live character.
        let e = escape("a|b `c` <script>x</script> **d** [l](u) &amp;\n::x").replace(BREAK, "");
        for bad in ["|", "`", "<", ">", "*", "[", "](", "&amp;", "\n"] {
            assert!(!e.contains(bad), "{bad:?} in {e}");
        }
        assert!(e.starts_with("a&#124;b "));
    }

    #[test]
    fn breaks_follow_slashes_once() {
        // A path or URL wraps after its slashes (once after `//`, not between them), and a
        // `.` right after a slash gets one break, not two.
        assert_eq!(
            escape("https://a/.b"),
            "https<wbr>&#58;&#47;&#47;<wbr>a&#47;<wbr>&#46;b"
        );
    }

    #[test]
    fn messages_show_code_spans_only_when_backticks_pair() {
        assert_eq!(
            escape_message("sub `a:b` is"),
            "sub <code>a<wbr>&#58;b</code> is"
        );
        assert_eq!(escape_message("odd `a`b` x"), "odd &#96;a&#96;b&#96; x");
    }

    #[test]
    fn fence_outgrows_backticks_in_content() {
        let block = fenced("json", "x ````` y");
        assert!(block.starts_with("``````json\n"), "{block}");
        assert!(block.ends_with("\n``````\n"));
    }
}
