//! The job summary as GitHub renders it: real summaries whose claims hold hostile values,
//! rendered by comrak (GFM, autolinks on, raw HTML passed through as GitHub's renderer does
//! before its sanitizer) must show every value as text: no link, no image, no element but
//! those the summary writes itself.

use oidc_preflight::claims::Claims;
use oidc_preflight::diagnose::{analyze, ClaimExpectation, Clock, Expectations};
use oidc_preflight::pattern::PatternSet;
use oidc_preflight::report::Report;
use oidc_preflight::sink;
use oidc_preflight::verify::SignatureStatus;
use serde_json::{json, Value};

use crate::provider::{now, Job};

/// Values that GFM would turn into links, images or HTML if they reached it as Markdown.
const HOSTILE: &[&str] = &[
    "security@evil.example",
    "refs/heads/security@evil.example",
    "mailto:security@evil.example",
    "xmpp:bot@evil.example",
    "www.evil.example",
    "see WWW.evil.example/x",
    "https://evil.example/login",
    "http://evil.example",
    "x<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "![x](http://evil.example/p.png)",
    "a|b|c",
    "`code` ``two``",
    "line1\nline2\r\n| x | y |",
    "<a href=\"https://evil.example\">x</a>",
    "&lt;b&gt;entity&lt;/b&gt;",
    "<!-- -->@evil.example",
    "\\<b>escaped\\</b>",
    "*em* _u_ ~~s~~ **b**",
    "[ref]: https://evil.example",
    "<https://evil.example>",
    "<user@evil.example>",
    "main\u{202e}lmth.exe\u{2066}\u{1b}[2J\u{85}\u{9b}\u{7f}\u{61c}",
];

fn render(markdown: &str) -> String {
    let mut options = comrak::Options::default();
    options.extension.autolink = true;
    options.extension.table = true;
    options.extension.strikethrough = true;
    options.extension.tasklist = true;
    options.extension.footnotes = true;
    options.render.r#unsafe = true;
    comrak::markdown_to_html(markdown, &options)
}

/// The elements the summary writes itself, as comrak renders them.
const OWN_ELEMENTS: &[&str] = &[
    "h2",
    "h3",
    "p",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "code",
    "em",
    "strong",
    "br",
    "details",
    "summary",
    "pre",
    "ul",
    "li",
    "blockquote",
    "wbr",
];

/// Asserts the HTML holds no link or image and no element the summary does not write.
fn assert_inert(html: &str, value: &str) {
    let lower = html.to_lowercase();
    for bad in ["<a ", "<a>", "<img", "<script"] {
        assert!(!lower.contains(bad), "{bad} for {value:?}:\n{html}");
    }
    // Control and bidirectional characters are shown escaped, code blocks included.
    assert!(
        !html
            .chars()
            .any(oidc_preflight::commands::is_unsafe_to_show),
        "a raw control or bidi character for {value:?}:\n{html}"
    );
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        if rest.starts_with("!--") {
            // The summary's own empty comments (the autolink breaks).
            assert!(rest.starts_with("!---->"), "comment for {value:?}:\n{html}");
            continue;
        }
        let name: String = rest
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert!(
            OWN_ELEMENTS.contains(&name.as_str()),
            "element <{name}> for {value:?}:\n{html}"
        );
    }
}

fn summary_for(value: &str) -> String {
    let mut map = Job::default().claims();
    for name in [
        "sub",
        "aud",
        "iss",
        "repository",
        "repository_owner",
        "ref",
        "environment",
        "event_name",
        "workflow_ref",
        "job_workflow_ref",
        "runner_environment",
    ] {
        map.insert(name.into(), json!(value));
    }
    map.insert("extra".into(), Value::String(value.into()));
    // Expectations that fail, so that findings, hints and suggestions quote the values too.
    let expect = Expectations {
        subject_patterns: PatternSet::new([format!("repo:{value}:*")]),
        claims: vec![ClaimExpectation {
            name: "environment".into(),
            pattern: format!("prod-{value}"),
        }],
        audience: Some(format!("aud-{value}")),
        issuer: Some(format!("https://{value}")),
        ..Expectations::default()
    };
    let mut analysis = analyze(
        &Claims::from(map),
        &expect,
        Clock {
            now: now(),
            fresh: true,
        },
    );
    analysis.signature = Some(format!("valid (RS256, key `k` published by `{value}`)"));
    let claims = analysis.claims.clone();
    let report = Report::finish(analysis, claims, SignatureStatus::Skipped, now(), true);
    let mut out = Vec::new();
    sink::summary::write(&mut out, &report).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn hostile_claim_values_render_as_text_in_the_job_summary() {
    for value in HOSTILE {
        let markdown = summary_for(value);
        let html = render(&markdown);
        // Not vacuous: the summary rendered, its table and findings with it.
        assert!(html.contains("<td><code>"), "{html}");
        assert!(html.contains("<h3>Findings</h3>"), "{html}");
        assert_inert(&html, value);
    }
}

#[test]
fn the_renderer_links_what_the_summary_must_not_write() {
    // The test's own premise: this renderer does turn such text into links and elements.
    for markdown in [
        "security@evil.example",
        "xmpp:a@evil.example",
        "www.evil.example",
        "<img src=x>",
        "<code>security&#64;evil&#46;example</code>",
    ] {
        let html = render(markdown);
        assert!(html.contains("<a ") || html.contains("<img"), "{html}");
    }
}

/// The longest run of characters outside code blocks that the browser cannot wrap: no space,
/// no `<wbr>`, no hyphen (browsers wrap after one).
fn longest_unbreakable(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    // Code blocks scroll sideways on GitHub, as code does: not part of the page's width.
    while let Some(at) = rest.find("<pre") {
        text.push_str(&rest[..at]);
        rest = rest[at..]
            .split_once("</pre>")
            .map_or("", |(_, after)| after);
    }
    text.push_str(rest);
    // Every tag but <wbr> joins the text on each side (`<code>a</code>b` is one word).
    let text = text.replace("<wbr>", " ");
    let text = regex_lite::Regex::new(r"<[^>]*>")
        .unwrap()
        .replace_all(&text, "");
    text.split(|c: char| c.is_whitespace() || c == '-')
        .max_by_key(|w| w.chars().count())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn long_values_wrap_within_githubs_width() {
    // A GCP audience has a run of 90 characters between its dots, which once pushed the
    // trust-policy table past the page (a 3-column table at 1012 px leaves about 60
    // monospace characters to the widest cell).
    let audience = "https://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/providers/octo-org";
    let html = render(&summary_for(audience));
    assert!(html.contains("workloadIdentityPools"), "{html}");
    let longest = longest_unbreakable(&html);
    assert!(longest.chars().count() <= 48, "unbreakable: {longest:?}");
    // The measure itself: the same value without the summary's breaks is one long word.
    assert!(longest_unbreakable(&format!("<p><code>{audience}</code></p>")).len() > 48);
}
