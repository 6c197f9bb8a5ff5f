//! Subject and claim patterns with AWS IAM `StringLike` semantics.
//!
//! `*` matches any run of characters (none included, `:` and `/` included), `?` matches
//! exactly one character, everything else is literal and case-sensitive. There is no escape
//! character and no character class, exactly as in IAM.

use wildmatch::WildMatch;

/// True when `value` matches `pattern` under IAM `StringLike` rules.
pub fn string_like(pattern: &str, value: &str) -> bool {
    WildMatch::new(pattern).matches(value)
}

/// True when `value` matches `pattern` if case is ignored. Used only to explain a mismatch:
/// AWS, Azure and GCP all compare case-sensitively.
pub fn string_like_ignoring_case(pattern: &str, value: &str) -> bool {
    WildMatch::new_case_insensitive(pattern).matches(value)
}

/// A list of patterns of which any one must match, as in an IAM condition with several values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatternSet {
    patterns: Vec<String>,
}

impl PatternSet {
    /// Parses one pattern per line; surrounding whitespace and blank lines are ignored (a
    /// `sub` never starts or ends with a space, and YAML block scalars add trailing newlines).
    pub fn from_lines(text: &str) -> Self {
        let patterns = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect();
        Self { patterns }
    }

    /// Builds a set from patterns given one by one.
    pub fn new(patterns: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            patterns: patterns.into_iter().map(Into::into).collect(),
        }
    }

    /// True when no pattern was given, i.e. no check was requested.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The patterns, in the order given.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// The first pattern that matches `value`, if any.
    pub fn first_match(&self, value: &str) -> Option<&str> {
        self.patterns
            .iter()
            .map(String::as_str)
            .find(|p| string_like(p, value))
    }

    /// True when any pattern matches `value`. An empty set matches nothing: callers decide
    /// whether "no check requested" counts as a pass.
    pub fn matches(&self, value: &str) -> bool {
        self.first_match(value).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_like_table() {
        let sub = "repo:octo-org/octo-repo:ref:refs/heads/main";
        let cases: &[(&str, &str, bool)] = &[
            (sub, sub, true),
            ("repo:octo-org/octo-repo:*", sub, true),
            ("repo:octo-org/*", sub, true),
            // `*` crosses `:` and `/`
            ("repo:*:ref:refs/heads/main", sub, true),
            ("*", sub, true),
            ("*", "", true),
            // `*` matches the empty run
            ("repo:octo-org/octo-repo:ref:refs/heads/main*", sub, true),
            ("repo:octo-org/octo-repo:ref:refs/heads/mai?", sub, true),
            // `?` is exactly one character, not zero, not two
            ("repo:octo-org/octo-repo:ref:refs/heads/main?", sub, false),
            ("repo:octo-org/octo-repo:ref:refs/heads/ma?", sub, false),
            ("??", "ab", true),
            ("??", "a", false),
            ("?", "é", true),
            // case-sensitive
            ("repo:Octo-Org/octo-repo:*", sub, false),
            ("REPO:*", sub, false),
            // anchored at both ends
            ("octo-org/octo-repo", sub, false),
            ("repo:octo-org/octo-repo:ref:refs/heads/", sub, false),
            // regex and glob specials are literal
            ("repo:o.to-org/*", sub, false),
            ("a.b", "a.b", true),
            ("a.b", "axb", false),
            ("a+b", "a+b", true),
            ("a+b", "aab", false),
            ("[ab]", "a", false),
            ("[ab]", "[ab]", true),
            ("a{1,2}", "a{1,2}", true),
            ("^a$", "^a$", true),
            ("^a$", "a", false),
            ("a\\*b", "a\\xyzb", true),
            ("(x|y)", "x", false),
            ("", "", true),
            ("", "a", false),
        ];
        for (pattern, value, want) in cases {
            assert_eq!(
                string_like(pattern, value),
                *want,
                "{pattern:?} vs {value:?}"
            );
        }
    }

    #[test]
    fn case_insensitive_match_is_separate() {
        assert!(!string_like("repo:Octo/*", "repo:octo/x"));
        assert!(string_like_ignoring_case("repo:Octo/*", "repo:octo/x"));
        assert!(!string_like_ignoring_case("repo:Octo/y", "repo:octo/x"));
    }

    #[test]
    fn pattern_lines_skip_blanks_and_trim() {
        let set = PatternSet::from_lines("\n  repo:a/b:*  \n\n\trepo:c/d:ref:refs/heads/main\n");
        assert_eq!(
            set.patterns(),
            ["repo:a/b:*", "repo:c/d:ref:refs/heads/main"]
        );
        assert!(set.matches("repo:c/d:ref:refs/heads/main"));
        assert_eq!(set.first_match("repo:a/b:pull_request"), Some("repo:a/b:*"));
        assert!(!set.matches("repo:c/d:ref:refs/heads/dev"));
    }

    #[test]
    fn empty_pattern_list_matches_nothing_and_is_empty() {
        for text in ["", "\n\n", "   \n\t\n"] {
            let set = PatternSet::from_lines(text);
            assert!(set.is_empty(), "{text:?}");
            assert!(!set.matches("repo:a/b:pull_request"));
        }
    }
}
