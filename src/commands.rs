//! Workflow commands: the `::name key=value::data` lines the runner reads from a step's output.
//!
//! See <https://docs.github.com/actions/reference/workflow-commands-for-github-actions>. The
//! runner unescapes `%25`, `%0D` and `%0A` in data, and additionally `%3A` and `%2C` in property
//! values; we escape exactly those so every message arrives as written. Untrusted text (claim
//! values are chosen by whoever can push a branch) is never written at the start of a line: it
//! goes inside a `::stop-commands::` block and is rendered on one line by [`inert`].

use std::io::{self, Write};

/// Escapes the data part of a workflow command (the text after the second `::`).
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (`title=...`): data escaping plus `:` and `,`, which would
/// otherwise end the property list or the property.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Writes `::add-mask::<value>`, after which the runner replaces the value with `***` in the log.
pub fn add_mask(out: &mut impl Write, value: &str) -> io::Result<()> {
    // An empty mask only draws a runner warning; there is nothing to hide.
    if value.is_empty() {
        return Ok(());
    }
    writeln!(out, "::add-mask::{}", escape_data(value))
}

/// The severity of an annotation (and of a finding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// A failed check or a fatal problem; shown red, and fails nothing by itself.
    Error,
    /// Something that will probably break the deploy, or a failed check in debugging mode.
    Warning,
    /// Useful context.
    Notice,
}

impl Level {
    /// The workflow command name for this level.
    pub fn command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

/// Most characters of one untrusted value shown in the log or the job summary. Claims that
/// GitHub issues are far shorter; a longer value is crafted, and showing it whole would flood
/// the log and push the summary past the runner's 1 MiB limit. Outputs carry values whole.
pub const DISPLAY_LIMIT: usize = 2048;

/// Most characters of an annotation's message (a finding quotes a few values and a hint).
pub const ANNOTATION_LIMIT: usize = 4 * DISPLAY_LIMIT;

/// `text` cut to at most `max_chars` characters, saying how many were left out.
pub fn shorten(text: &str, max_chars: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => std::borrow::Cow::Borrowed(text),
        Some((cut, _)) => {
            let left_out = text[cut..].chars().count();
            std::borrow::Cow::Owned(format!("{}… ({left_out} more characters)", &text[..cut]))
        }
    }
}

/// Writes an annotation such as `::error title=Subject mismatch::message`. Messages quote
/// claim values, so control and bidirectional characters are shown escaped
/// ([`escape_controls`]); line breaks are kept, as annotations have several lines.
pub fn annotation(
    out: &mut impl Write,
    level: Level,
    title: &str,
    message: &str,
) -> io::Result<()> {
    writeln!(
        out,
        "::{} title={}::{}",
        level.command(),
        escape_property(&inert(&shorten(title, DISPLAY_LIMIT))),
        escape_data(&escape_controls(&shorten(message, ANNOTATION_LIMIT)))
    )
}

/// Writes a `::debug::` line, shown only when step debug logging is on.
pub fn debug(out: &mut impl Write, message: &str) -> io::Result<()> {
    writeln!(out, "::debug::{}", escape_data(message))
}

/// Runs `body` with workflow command processing stopped, so that nothing it prints can be read
/// as a command. The resume token is random per block: untrusted text cannot guess it.
pub fn without_commands<W: Write>(
    out: &mut W,
    body: impl FnOnce(&mut W) -> io::Result<()>,
) -> io::Result<()> {
    let token = crate::random::hex_token();
    writeln!(out, "::stop-commands::{token}")?;
    let result = body(out);
    // Resume even when the body failed halfway, or every later annotation would be lost.
    writeln!(out, "::{token}::")?;
    result
}

/// Whether `c` must not reach a screen as is: a control character other than tab and line
/// feed (C0, DEL, C1: a CR rewrites the line, an ESC drives the terminal), or a
/// bidirectional override, isolate or mark, which makes text read differently from what it
/// contains. The one rule for every sink: log ([`inert`]), annotations and the job summary.
pub fn is_unsafe_to_show(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)
}

fn push_escaped(out: &mut String, c: char) {
    out.push_str(&format!("\\u{{{:x}}}", c as u32));
}

/// `text` with every [`is_unsafe_to_show`] character shown as `\u{...}`; tabs and line breaks
/// are kept, for text that may span lines (annotations, code blocks of the job summary).
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_unsafe_to_show) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe_to_show(c) {
            push_escaped(&mut shown, c);
        } else {
            shown.push(c);
        }
    }
    std::borrow::Cow::Owned(shown)
}

/// [`without_commands`] inside a runner, which reads workflow commands from the output; at a
/// terminal, which does not, the text as it is (no stop-commands lines to puzzle a person).
pub fn fenced_if<W: Write>(
    out: &mut W,
    in_runner: bool,
    body: impl FnOnce(&mut W) -> io::Result<()>,
) -> io::Result<()> {
    if in_runner {
        without_commands(out, body)
    } else {
        body(out)
    }
}

/// Renders untrusted text on a single line: control characters (CR, LF, ESC, ...) are shown as
/// escapes, so a value can neither start a new log line nor move the terminal cursor; and at
/// most [`DISPLAY_LIMIT`] characters of it, so a crafted value cannot flood the log.
///
/// The `[` of `##[` is shown as `\u{5b}` too: the runner reads a legacy `##[command]`
/// anywhere in a line, on stdout and stderr alike, so text printed outside a
/// [`without_commands`] block (error lines) would otherwise run it.
pub fn inert(text: &str) -> String {
    let text = shorten(text, DISPLAY_LIMIT);
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '[' if shown.ends_with("##") => shown.push_str("\\u{5b}"),
            '\n' => shown.push_str("\\n"),
            '\r' => shown.push_str("\\r"),
            '\t' => shown.push_str("\\t"),
            '\\' => shown.push_str("\\\\"),
            c if is_unsafe_to_show(c) => push_escaped(&mut shown, c),
            c => shown.push(c),
        }
    }
    shown
}

/// Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the
/// left-to-right, right-to-left and Arabic letter marks.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(f: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut buf = Vec::new();
        f(&mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn data_escaping_matches_the_runner() {
        assert_eq!(escape_data("100%\r\nnext"), "100%25%0D%0Anext");
        assert_eq!(escape_data("%0A"), "%250A");
        assert_eq!(escape_data("a:b,c"), "a:b,c");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn mask_line_is_escaped_and_empty_is_skipped() {
        assert_eq!(
            written(|w| add_mask(w, "ab%c\nd")),
            "::add-mask::ab%25c%0Ad\n"
        );
        assert_eq!(written(|w| add_mask(w, "")), "");
    }

    #[test]
    fn annotation_escapes_title_and_message() {
        let line = written(|w| {
            annotation(
                w,
                Level::Error,
                "Sub: mismatch, really",
                "a\n::set-output name=x::y",
            )
        });
        assert_eq!(
            line,
            "::error title=Sub%3A mismatch%2C really::a%0A::set-output name=x::y\n"
        );
        assert_eq!(line.lines().count(), 1);
    }

    #[test]
    fn stop_commands_block_resumes_with_same_random_token() {
        let text = written(|w| without_commands(w, |w| writeln!(w, "::error::x")));
        let lines: Vec<_> = text.lines().collect();
        let token = lines[0].strip_prefix("::stop-commands::").unwrap();
        assert!(token.len() >= 32);
        assert_eq!(lines[2], format!("::{token}::"));
        let other = written(|w| without_commands(w, |_| Ok(())));
        assert!(!other.contains(token), "tokens must differ per block");
    }

    #[test]
    fn long_values_are_shortened_for_display() {
        let long = "é".repeat(DISPLAY_LIMIT + 10);
        let shown = inert(&long);
        assert!(shown.starts_with(&"é".repeat(DISPLAY_LIMIT)));
        assert!(shown.ends_with("… (10 more characters)"), "{shown}");
        assert_eq!(inert("short"), "short");
        let line = written(|w| annotation(w, Level::Error, "t", &"x".repeat(ANNOTATION_LIMIT + 1)));
        assert!(line.ends_with("x… (1 more characters)\n"));
    }

    #[test]
    fn inert_keeps_text_on_one_line() {
        assert_eq!(inert("main\n::error::x"), "main\\n::error::x");
        assert_eq!(inert("a\r\x1b[2Jb"), "a\\r\\u{1b}[2Jb");
        assert_eq!(inert("\u{202e}evil"), "\\u{202e}evil");
        assert_eq!(inert("feature/ünï"), "feature/ünï");
    }

    #[test]
    fn every_sink_escapes_controls_and_bidi_characters() {
        let hostile = [
            '\u{1}', '\u{1b}', '\r', '\u{7f}', '\u{80}', '\u{85}', '\u{9b}', '\u{9f}', '\u{202a}',
            '\u{202e}', '\u{2066}', '\u{2069}', '\u{200e}', '\u{200f}', '\u{61c}',
        ];
        for c in hostile {
            let text = format!("main{c}niam");
            let escaped = format!("main\\u{{{:x}}}niam", c as u32);
            let line = written(|w| annotation(w, Level::Error, &text, &format!("{text}\nnext")));
            assert!(!line.contains(c), "{c:?} raw in {line:?}");
            assert_eq!(
                line,
                format!(
                    "::error title={}::{escaped}%0Anext\n",
                    escape_property(&inert(&text))
                )
            );
            assert!(!inert(&text).contains(c));
            if c != '\r' {
                assert_eq!(inert(&text), escaped);
            }
            assert_eq!(escape_controls(&text), escaped);
        }
        // Tabs and line breaks are text, and the rest of Unicode is shown as it is.
        assert_eq!(
            escape_controls("a\tb\nc ünï \u{202e}"),
            "a\tb\nc ünï \\u{202e}"
        );
    }

    #[test]
    fn inert_defuses_legacy_commands_anywhere_in_the_line() {
        assert_eq!(
            inert("found `##[set-output name=matched]true`"),
            "found `##\\u{5b}set-output name=matched]true`"
        );
        assert_eq!(inert("###[error]x"), "###\\u{5b}error]x");
        // Only the `##[` sequence: ordinary brackets and single hashes stay as they are.
        assert_eq!(inert("#[a] [b] ## [c]"), "#[a] [b] ## [c]");
    }
}
