//! Property tests: the decoder, the report and the summary on arbitrary input, the pattern
//! matcher against a reference implementation, and the runner formats round-tripping.
//! Each property runs a bounded number of cases, so the suite stays fast.

use oidc_preflight::claims::{self, base64url, Claims};
use oidc_preflight::commands::{self, escape_data};
use oidc_preflight::diagnose::{analyze, ClaimExpectation, Clock, Expectations};
use oidc_preflight::outputs::{check_output, write_output_with_delimiter, OutputError};
use oidc_preflight::pattern::{string_like, PatternSet};
use oidc_preflight::report::Report;
use oidc_preflight::sink;
use oidc_preflight::verify::SignatureStatus;
use oidc_preflight::Secret;
use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::runner;

/// Cases per property (stated in docs/reliability.md).
pub const CASES: u32 = 256;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        // No regression files in the source tree; a failure prints its minimal input.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Text that leans on what breaks parsers: command and delimiter markers, escapes, Markdown,
/// HTML, line breaks, controls and non-ASCII, mixed with arbitrary characters.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "::",
        "::error::",
        "::add-mask::",
        "::stop-commands::",
        "##[",
        "%",
        "%0A",
        "%0D",
        "%25",
        "\r",
        "\n",
        "\r\n",
        "|",
        "`",
        "```",
        "<",
        ">",
        "<script>",
        "*",
        "_",
        "[",
        "]",
        "&",
        "ghadelimiter_",
        "<<",
        "=",
        ":",
        "/",
        "\u{0}",
        "\u{1b}",
        "\u{202e}",
        "é",
        "🦀",
        "\\",
        "'",
        "\"",
        "$(",
        "repo:o/r:ref:refs/heads/",
        " ",
    ]);
    prop::collection::vec(
        prop_oneof![pieces.prop_map(str::to_owned), any::<String>()],
        0..8,
    )
    .prop_map(|parts| parts.concat())
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        hostile_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(hostile_text(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Claim maps with the names the checks read, and others, holding anything.
fn claim_map() -> impl Strategy<Value = Map<String, Value>> {
    let names = prop_oneof![
        prop::sample::select(vec![
            "sub",
            "aud",
            "iss",
            "exp",
            "nbf",
            "iat",
            "ref",
            "environment",
            "repository",
            "repository_owner",
            "workflow_ref",
            "job_workflow_ref",
            "event_name",
        ])
        .prop_map(str::to_owned),
        hostile_text(),
    ];
    prop::collection::btree_map(names, json_value(), 0..10).prop_map(|m| m.into_iter().collect())
}

/// IAM `StringLike` by the book: `*` any run (none included), `?` exactly one character,
/// everything else literal; dynamic programming over characters.
fn reference_like(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    // m[i][j]: the first i pattern characters match the first j value characters.
    let mut m = vec![vec![false; v.len() + 1]; p.len() + 1];
    m[0][0] = true;
    for i in 1..=p.len() {
        for j in 0..=v.len() {
            m[i][j] = match p[i - 1] {
                '*' => m[i - 1][j] || (j > 0 && m[i][j - 1]),
                '?' => j > 0 && m[i - 1][j - 1],
                c => j > 0 && m[i - 1][j - 1] && v[j - 1] == c,
            };
        }
    }
    m[p.len()][v.len()]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn decoding_arbitrary_text_never_panics(text in any::<String>()) {
        let _ = claims::decode(&text);
    }

    #[test]
    fn decoding_arbitrary_parts_never_panics_nor_echoes(
        header in prop::collection::vec(any::<u8>(), 0..64),
        payload in prop::collection::vec(any::<u8>(), 0..256),
        signature in prop::collection::vec(any::<u8>(), 0..32),
    ) {
        let token = format!("{}.{}.{}", base64url(&header), base64url(&payload), base64url(&signature));
        if let Err(e) = claims::decode(&token) {
            let shown = e.to_string();
            for part in token.split('.').filter(|p| p.len() > 12) {
                prop_assert!(!shown.contains(part), "{shown}");
            }
        }
    }

    #[test]
    fn the_report_summary_and_outputs_never_panic_nor_inject(
        map in claim_map(),
        pattern in hostile_text(),
        expected in hostile_text(),
        now in any::<i64>(),
        fresh in any::<bool>(),
    ) {
        let claims = Claims::from(map);
        let expect = Expectations {
            subject_patterns: PatternSet::new([pattern.clone()]),
            claims: vec![ClaimExpectation { name: "ref".into(), pattern: expected }],
            audience: Some(pattern),
            ..Expectations::default()
        };
        let analysis = analyze(&claims, &expect, Clock { now, fresh });
        let analysis = Report::finish(analysis, claims.clone(), SignatureStatus::Skipped, now, true);
        let mut log = Vec::new();
        commands::without_commands(&mut log, |out| sink::log::write(out, &analysis)).unwrap();
        sink::annotations::write(&mut log, &analysis).unwrap();
        let log = String::from_utf8(log).unwrap();
        let view = runner::process(&log);
        prop_assert!(view.unexpected_commands().is_empty(), "{:?}", view.unexpected_commands());
        prop_assert!(view.masks.is_empty());
        prop_assert_eq!(view.annotations().len(), analysis.findings.len());

        let mut md = Vec::new();
        sink::summary::write(&mut md, &analysis).unwrap();
        let md = String::from_utf8(md).unwrap();
        crate::common::assert_summary_inert(&md);

        let token = Secret::new("e30.e30.c2ln");
        for (name, value) in sink::outputs::values(&token, &analysis) {
            let mut file = Vec::new();
            match write_output_with_delimiter(&mut file, name, &value, "ghadelimiter_prop") {
                Ok(()) => {
                    let parsed = runner::parse_outputs(&String::from_utf8(file).unwrap());
                    prop_assert_eq!(parsed, Ok(vec![(name.to_owned(), value)]));
                }
                Err(OutputError::NotRoundTrip { .. }) => prop_assert!(value.ends_with('\r')),
                Err(OutputError::DelimiterInValue { .. }) => {
                    prop_assert!(value.contains("ghadelimiter_prop"))
                }
                Err(e) => prop_assert!(false, "{e}"),
            }
        }
    }

    #[test]
    fn string_like_agrees_with_the_reference(
        pattern in "[ab*?é]{0,8}",
        value in "[abé]{0,10}",
    ) {
        prop_assert_eq!(string_like(&pattern, &value), reference_like(&pattern, &value),
            "{:?} vs {:?}", pattern, value);
    }

    #[test]
    fn string_like_agrees_with_the_reference_on_any_text(
        pattern in hostile_text(),
        value in hostile_text(),
    ) {
        prop_assert_eq!(string_like(&pattern, &value), reference_like(&pattern, &value));
        // A subject always matches itself taken as a pattern when it has no wildcard.
        if !value.contains(['*', '?']) {
            prop_assert!(string_like(&value, &value));
        }
    }

    #[test]
    fn accepted_outputs_read_back_exactly(
        name in "[a-z][a-z0-9_-]{0,12}",
        value in hostile_text(),
        delimiter in "ghadelimiter_[0-9a-f]{1,32}",
    ) {
        let mut file = b"earlier=kept\n".to_vec();
        match write_output_with_delimiter(&mut file, &name, &value, &delimiter) {
            Ok(()) => {
                let parsed = runner::parse_outputs(&String::from_utf8(file).unwrap());
                prop_assert_eq!(parsed, Ok(vec![
                    ("earlier".to_owned(), "kept".to_owned()),
                    (name, value),
                ]));
            }
            // Refused only for what cannot read back the same, and with nothing written.
            Err(e) => {
                prop_assert!(value.contains(&delimiter) || value.ends_with('\r'), "{e}");
                prop_assert!(check_output(&name, &value, &delimiter).is_err());
                prop_assert_eq!(file, b"earlier=kept\n".to_vec());
            }
        }
    }

    #[test]
    fn escaped_command_data_round_trips_through_the_runner(text in hostile_text()) {
        let escaped = escape_data(&text);
        prop_assert!(!escaped.contains(['\r', '\n']));
        prop_assert_eq!(runner::unescape(&escaped, false), text.clone());
        // As a whole command line: one command whose data is the text.
        let view = runner::process(&format!("::debug::{escaped}"));
        prop_assert_eq!(view.commands.len(), 1);
        prop_assert_eq!(&view.commands[0].data, &text);
    }

    #[test]
    fn escaped_summary_text_has_no_markup(text in hostile_text()) {
        // The autolink breaks are the escaper's own markup; nothing else may be live.
        let escaped = sink::summary::escape(&text).replace(sink::summary::BREAK, "");
        for c in ['<', '>', '|', '`', '*', '_', '[', ']', '\n', '\r'] {
            prop_assert!(!escaped.contains(c), "{:?} in {:?}", c, escaped);
        }
    }
}

/// Properties in this file, for the record in docs/reliability.md: the tests in the `proptest!` block.
pub fn properties() -> usize {
    include_str!("properties.rs")
        .matches("\n    #[test]\n    fn ")
        .count()
}
