//! Subject and claim patterns with AWS IAM `StringLike` semantics.
//!
//! `*` matches any run of characters (none included, `:` and `/` included), `?` matches
//! exactly one (Unicode) character, everything else is literal and case-sensitive. There is no
//! escape character and no character class, exactly as in IAM.
//!
//! Matching takes time linear in the value. A backtracking glob matcher is
//! O(pattern x value): `*` and 5,000 `a` then `b` against a 1 MB claim ran for minutes. Here
//! the pattern is split at `*`: the piece before the first `*` is anchored at the start, the
//! piece after the last at the end, and the pieces in between are found leftmost, in order,
//! which is exact for `*`-globs (taking the earliest occurrence of a piece never rules out a
//! match that a later one allows). A piece without `?` is found with `str::find` (Two-Way,
//! linear); a piece with `?` with a bit-parallel Shift-And, O(value x ceil(piece / 64)).
//! That last factor is why patterns are capped at [`MAX_PATTERN_CHARS`].

use std::collections::HashMap;

use thiserror::Error;

/// Longest pattern, in characters, that is matched: a cap of ours, chosen well above any
/// pattern a trust document holds in practice (not a documented limit of any cloud; IAM's
/// trust-policy length quota is smaller, but we did not pin its figure to a source). Every
/// place a pattern enters (inputs, `check` options, policy documents) refuses a longer one with
/// [`PatternTooLong`], which keeps the Shift-And work per value character at most 128 machine
/// words.
pub const MAX_PATTERN_CHARS: usize = 8192;

/// A pattern longer than [`MAX_PATTERN_CHARS`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a pattern of {chars} or more characters is longer than the {MAX_PATTERN_CHARS} characters oidc-preflight matches (a cap of ours, far above any real pattern)")]
pub struct PatternTooLong {
    /// The pattern's length in characters, counted up to one past the cap.
    pub chars: usize,
}

/// Refuses a pattern longer than [`MAX_PATTERN_CHARS`].
pub fn check_pattern(pattern: &str) -> Result<(), PatternTooLong> {
    // Counting stops past the cap, so even a huge pattern costs only the cap to refuse.
    let chars = pattern.chars().take(MAX_PATTERN_CHARS + 1).count();
    if chars > MAX_PATTERN_CHARS {
        return Err(PatternTooLong { chars });
    }
    Ok(())
}

/// True when `value` matches `pattern` under IAM `StringLike` rules. A pattern longer than
/// [`MAX_PATTERN_CHARS`] matches nothing (callers refuse such patterns with
/// [`check_pattern`] where they are read, so this only guards library callers).
pub fn string_like(pattern: &str, value: &str) -> bool {
    if check_pattern(pattern).is_err() {
        return false;
    }
    glob_match(pattern, value)
}

/// True when `value` matches `pattern` if case is ignored. Used only to explain a mismatch:
/// AWS, Azure and GCP all compare case-sensitively.
pub fn string_like_ignoring_case(pattern: &str, value: &str) -> bool {
    string_like(&pattern.to_lowercase(), &value.to_lowercase())
}

/// The matcher itself, for a pattern within the cap.
fn glob_match(pattern: &str, value: &str) -> bool {
    let pieces: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = match pieces.split_first() {
        Some((first, rest)) if !rest.is_empty() => (*first, rest),
        // No `*`: the whole value, character for character.
        _ => return exact(pattern, value),
    };
    let Some(start) = prefix_end(first, value) else {
        return false;
    };
    let (last, middle) = match rest.split_last() {
        Some(split) => split,
        None => return false,
    };
    // The last piece sits at the very end; it must not overlap what the first piece took.
    let Some(end) = suffix_start(last, &value[start..]).map(|s| start + s) else {
        return false;
    };
    let mut at = start;
    for piece in middle.iter().filter(|p| !p.is_empty()) {
        match find(piece, &value[at..end]) {
            Some(after) => at += after,
            None => return false,
        }
    }
    true
}

/// Whether one pattern character accepts one value character.
fn accepts(p: char, v: char) -> bool {
    p == '?' || p == v
}

fn exact(piece: &str, value: &str) -> bool {
    let mut v = value.chars();
    piece
        .chars()
        .all(|p| v.next().is_some_and(|c| accepts(p, c)))
        && v.next().is_none()
}

/// The byte offset after `piece` when `value` starts with it.
fn prefix_end(piece: &str, value: &str) -> Option<usize> {
    let mut chars = value.char_indices();
    for p in piece.chars() {
        match chars.next() {
            Some((_, c)) if accepts(p, c) => {}
            _ => return None,
        }
    }
    Some(chars.next().map_or(value.len(), |(i, _)| i))
}

/// The byte offset where `piece` starts when `value` ends with it.
fn suffix_start(piece: &str, value: &str) -> Option<usize> {
    let mut chars = value.char_indices().rev();
    let mut start = value.len();
    for p in piece.chars().rev() {
        match chars.next() {
            Some((i, c)) if accepts(p, c) => start = i,
            _ => return None,
        }
    }
    Some(start)
}

/// The byte offset just after the leftmost occurrence of `piece` (not empty) in `value`.
fn find(piece: &str, value: &str) -> Option<usize> {
    if !piece.contains('?') {
        // A UTF-8 needle found in UTF-8 text always starts and ends on character boundaries.
        return value.find(piece).map(|i| i + piece.len());
    }
    ShiftAnd::new(piece).find_end(value)
}

/// Shift-And over characters: bit `j` of the state is set when the last `j + 1` value
/// characters match the piece's first `j + 1` characters. Every piece character has a fixed
/// width of one character, so the leftmost end is also the leftmost start.
struct ShiftAnd {
    /// Per literal character, the positions that accept it (besides the `?` positions).
    masks: HashMap<char, Vec<u64>>,
    /// The `?` positions, which accept any character.
    any: Vec<u64>,
    len: usize,
}

impl ShiftAnd {
    fn new(piece: &str) -> Self {
        let len = piece.chars().count();
        let words = len.div_ceil(64);
        let mut any = vec![0u64; words];
        let mut masks: HashMap<char, Vec<u64>> = HashMap::new();
        for (j, p) in piece.chars().enumerate() {
            let target = if p == '?' {
                &mut any
            } else {
                masks.entry(p).or_insert_with(|| vec![0u64; words])
            };
            target[j / 64] |= 1 << (j % 64);
        }
        // A literal position also accepts what a `?` accepts: fold `any` into each mask once
        // so that the scan does one lookup per character.
        for mask in masks.values_mut() {
            for (m, a) in mask.iter_mut().zip(&any) {
                *m |= a;
            }
        }
        Self { masks, any, len }
    }

    fn find_end(&self, value: &str) -> Option<usize> {
        let words = self.any.len();
        let last = (self.len - 1) / 64;
        let top = 1u64 << ((self.len - 1) % 64);
        let mut state = vec![0u64; words];
        for (i, c) in value.char_indices() {
            let mask = self.masks.get(&c).unwrap_or(&self.any);
            // state = ((state << 1) | 1) & mask, over all words, carrying the top bits up.
            let mut carry = 1u64;
            for (s, m) in state.iter_mut().zip(mask) {
                let next_carry = *s >> 63;
                *s = ((*s << 1) | carry) & m;
                carry = next_carry;
            }
            if state[last] & top != 0 {
                return Some(i + c.len_utf8());
            }
        }
        None
    }
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

    /// Refuses the set when a pattern is longer than [`MAX_PATTERN_CHARS`].
    pub fn check(&self) -> Result<(), PatternTooLong> {
        self.patterns.iter().try_for_each(|p| check_pattern(p))
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

    use proptest::prelude::*;

    proptest! {
        // Small alphabets make `*`, `?` and literals collide often; `é` checks that `?` is
        // one character, not one byte.
        #[test]
        fn agrees_with_wildmatch(
            pattern in "[ab*?é]{0,12}",
            value in "[abé]{0,16}",
        ) {
            let want = wildmatch::WildMatch::new(&pattern).matches(&value);
            prop_assert_eq!(string_like(&pattern, &value), want);
        }

        #[test]
        fn agrees_with_wildmatch_ignoring_case(
            pattern in "[aAb*?]{0,10}",
            value in "[aAbB]{0,12}",
        ) {
            let want = wildmatch::WildMatch::new_case_insensitive(&pattern).matches(&value);
            prop_assert_eq!(string_like_ignoring_case(&pattern, &value), want);
        }

        // Long `?` pieces cross the 64-bit word boundary of the Shift-And state.
        #[test]
        fn long_pieces_agree_with_wildmatch(
            pattern in "[ab?]{60,140}(\\*[ab?]{0,70}){0,2}",
            value in "[ab]{0,300}",
        ) {
            let want = wildmatch::WildMatch::new(&pattern).matches(&value);
            prop_assert_eq!(string_like(&pattern, &value), want);
        }
    }

    /// Runs `f` on a thread and fails if it has not finished within `bound`: a hang guard,
    /// not a speed test (the bound is hundreds of times what the work takes).
    fn within<T: Send + 'static>(
        bound: std::time::Duration,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(bound)
            .expect("the match did not finish: it is not linear")
    }

    #[test]
    fn hostile_patterns_take_linear_time() {
        let bound = std::time::Duration::from_secs(60);
        // A star then a long literal ending where the value does not: a backtracking
        // matcher retries the literal at every offset (more than two minutes).
        let value = "a".repeat(1 << 20);
        let pattern = format!("*{}b", "a".repeat(5000));
        let v = value.clone();
        assert!(!within(bound, move || string_like(&pattern, &v)));
        // Many stars, each piece with `?`: Shift-And, no backtracking.
        let pattern = format!("{}b", "*a?a".repeat(2000));
        assert!(!within(bound, move || string_like(&pattern, &value)));
        let value = format!("{}b", "a".repeat(1 << 20));
        let pattern = format!("*{}*b", "a?".repeat(4000));
        assert!(within(bound, move || string_like(&pattern, &value)));
    }

    #[test]
    fn patterns_longer_than_the_cap_are_refused() {
        let at_cap = "?".repeat(MAX_PATTERN_CHARS);
        assert_eq!(check_pattern(&at_cap), Ok(()));
        assert!(string_like(&at_cap, &"x".repeat(MAX_PATTERN_CHARS)));
        let over = "é".repeat(MAX_PATTERN_CHARS + 1);
        let err = check_pattern(&over).unwrap_err();
        assert_eq!(err.chars, MAX_PATTERN_CHARS + 1);
        assert!(err.to_string().contains("8192"), "{err}");
        assert!(!string_like(&over, &over));
        assert!(PatternSet::new([over]).check().is_err());
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
