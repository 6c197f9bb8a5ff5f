//! RE2's pattern syntax (the engine of CEL's `matches` in GCP and in cel-cpp) on the `regex`
//! crate. The two agree on most syntax and on Unicode matching (`\p{L}`, scripts, `(?i)` with
//! simple Unicode case folding, `.` as one code point), and differ where this module rewrites
//! the pattern before compiling it:
//!
//! - RE2's Perl classes and word boundary are ASCII (`\d` is `[0-9]`, `\w` is
//!   `[0-9A-Za-z_]`, `\s` is `[\t\n\f\r ]`, `\b` an ASCII word boundary); the crate's are
//!   Unicode. Rewritten to the ASCII classes.
//! - RE2 takes `{` that does not start a repetition (`{name}`, `a{`, `{,2}`) as a literal; the
//!   crate refuses it. Escaped.
//! - Inside a class RE2 takes `[`, `&&`, `--` and `~~` literally; the crate reads nested
//!   classes and set operations there. Escaped.
//! - RE2 has `\Q...\E` (literal text) and octal escapes (`\101`); the crate has neither.
//!   Rewritten.
//! - RE2 refuses what the crate accepts: the `x`, `u` and `R` flags, `\u` escapes, `\<`/`\>`
//!   as word boundaries (RE2 reads them as `<` and `>`), repetition counts over 1000, stacked
//!   repetition operators (`a**`).
//! - RE2's `\C` (any byte) becomes any code point: the same on ASCII text.
//!
//! Sources: RE2's syntax table (github.com/google/re2/wiki/Syntax) and its parser
//! (`re2/parse.cc`: octal escapes, the 1000 repeat limit, literal `{`); checked against
//! cel-cpp by `scripts/cel-differential.sh`.

/// RE2's largest repetition count (`kMaxRepeat` in `re2/parse.cc`).
const MAX_REPEAT: u32 = 1000;

const DIGIT: &str = "0-9";
const WORD: &str = "0-9A-Za-z_";
const SPACE: &str = "\\t\\n\\f\\r ";

/// The pattern in the crate's syntax with RE2's meaning, or RE2's reason to refuse it.
pub(super) fn translate(pattern: &str) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut i = 0;
    // Inside `[...]`: where its items start (a `]` there is a literal).
    let mut class_items: Option<usize> = None;
    // Whether the last thing copied was a repetition operator: RE2 refuses a second one
    // right after it (`a**`, `a+{2}`), which the crate accepts.
    let mut after_repeat = false;
    while i < chars.len() {
        let c = chars[i];
        let repeats = class_items.is_none()
            && (matches!(c, '*' | '+' | '?') || (c == '{' && repetition(&chars, i)?.is_some()));
        if repeats {
            let end = match c {
                '{' => repetition(&chars, i)?.unwrap_or(i + 1),
                _ => i + 1,
            };
            let end = if chars.get(end) == Some(&'?') {
                end + 1
            } else {
                end
            };
            let operator: String = chars[i..end].iter().collect();
            if after_repeat {
                return Err(format!("bad repetition operator: {operator}"));
            }
            out.push_str(&operator);
            after_repeat = true;
            i = end;
            continue;
        }
        after_repeat = false;
        match (class_items, c) {
            (_, '\\') => {
                i = escape(&chars, i + 1, class_items.is_some(), &mut out)?;
                continue;
            }
            (None, '[') => {
                out.push('[');
                let mut start = i + 1;
                if chars.get(start) == Some(&'^') {
                    out.push('^');
                    start += 1;
                }
                if chars.get(start) == Some(&']') {
                    out.push_str("\\]");
                    start += 1;
                }
                class_items = Some(start);
                i = start;
                continue;
            }
            (None, '(') if chars.get(i + 1) == Some(&'?') => {
                i = group(&chars, i, &mut out)?;
                continue;
            }
            // Not a repetition (that was handled above): a literal in RE2.
            (None, '{') => out.push_str("\\{"),
            (None, '}') => out.push_str("\\}"),
            (Some(_), ']') => {
                class_items = None;
                out.push(']');
            }
            (Some(_), '[') if chars.get(i + 1) == Some(&':') => {
                // A POSIX class, `[:alpha:]`, the same in both.
                let end = find(&chars, i + 2, &[':', ']']);
                match end {
                    Some(end) => {
                        out.extend(&chars[i..end + 2]);
                        i = end + 2;
                        continue;
                    }
                    None => out.push_str("\\["),
                }
            }
            (Some(_), '[' | '&' | '~') => {
                out.push('\\');
                out.push(c);
            }
            (Some(start), '-') if i > start && chars[i - 1] == '-' => out.push_str("\\-"),
            _ => out.push(c),
        }
        i += 1;
    }
    Ok(out)
}

/// The index of the first `needle` sequence at or after `from`.
fn find(chars: &[char], from: usize, needle: &[char]) -> Option<usize> {
    (from..chars.len()).find(|&i| chars[i..].starts_with(needle))
}

/// Rewrites the escape whose letter is at `at`; the index after it.
fn escape(chars: &[char], at: usize, in_class: bool, out: &mut String) -> Result<usize, String> {
    let Some(&c) = chars.get(at) else {
        return Err("trailing \\".into());
    };
    let class = |set: &str, negated: bool, out: &mut String| match (in_class, negated) {
        (true, false) => out.push_str(set),
        (_, negated) => {
            out.push('[');
            if negated {
                out.push('^');
            }
            out.push_str(set);
            out.push(']');
        }
    };
    match c {
        'd' | 'D' => class(DIGIT, c == 'D', out),
        'w' | 'W' => class(WORD, c == 'W', out),
        's' | 'S' => class(SPACE, c == 'S', out),
        'b' | 'B' if !in_class => out.push_str(if c == 'b' { "(?-u:\\b)" } else { "(?-u:\\B)" }),
        // RE2's `\C` is any byte; the crate matches text by code point, so it is any code
        // point here (the same on ASCII text).
        'C' if !in_class => out.push_str("(?s:.)"),
        'Q' if !in_class => {
            let end = find(chars, at + 1, &['\\', 'E']);
            let text: String = chars[at + 1..end.unwrap_or(chars.len())].iter().collect();
            out.push_str(&regex::escape(&text));
            return Ok(end.map_or(chars.len(), |e| e + 2));
        }
        '0'..='7' => {
            // RE2: `\0` and `\1`..`\7` followed by an octal digit start an octal code of up
            // to three digits; a lone `\1`..`\7` would be a backreference, which RE2 refuses.
            let digits: String = chars[at..]
                .iter()
                .take(3)
                .take_while(|d| ('0'..='7').contains(d))
                .collect();
            if c != '0' && digits.len() == 1 {
                return Err(format!(
                    "invalid escape sequence: \\{c} (backreferences are not supported)"
                ));
            }
            let code = u32::from_str_radix(&digits, 8).unwrap_or(0);
            out.push_str(&format!("\\x{{{code:X}}}"));
            return Ok(at + digits.len());
        }
        'p' | 'P' => return property(chars, at, out),
        'x' => {
            // `\x41`, `\x{10FFFF}`: the same in both.
            let end = if chars.get(at + 1) == Some(&'{') {
                find(chars, at + 1, &['}']).map_or(chars.len(), |e| e + 1)
            } else {
                (at + 3).min(chars.len())
            };
            out.push('\\');
            out.extend(&chars[at..end]);
            return Ok(end);
        }
        'A' | 'z' | 'a' | 'f' | 't' | 'n' | 'r' | 'v' => {
            out.push('\\');
            out.push(c);
        }
        'b' | 'B' => {
            return Err(format!(
                "invalid escape sequence: \\{c} in a character class"
            ))
        }
        // RE2 reads an escaped punctuation character as that character; the crate gives `\<`
        // and `\>` a meaning of their own.
        '<' | '>' => out.push(c),
        c if c.is_ascii_punctuation() => {
            out.push('\\');
            out.push(c);
        }
        c => return Err(format!("invalid escape sequence: \\{c}")),
    }
    Ok(at + 1)
}

/// RE2's Unicode general categories (`re2/unicode_groups.cc`); any other name is a script.
const CATEGORIES: &[&str] = &[
    "C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn", "N",
    "Nd", "Nl", "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm", "So",
    "Z", "Zl", "Zp", "Zs",
];

/// `\pL`, `\p{Greek}`, `\P{Lu}`, `\p{^Greek}` (the `p` or `P` at `at`). RE2 knows `Any`, the
/// general categories and the scripts, by their exact names; the crate also takes other
/// properties (`Alphabetic`) and loose spellings (`greek`, `gc=L`), so the name is checked
/// and the class written as `gc=` or `sc=` for the crate.
fn property(chars: &[char], at: usize, out: &mut String) -> Result<usize, String> {
    let (name, end) = match chars.get(at + 1) {
        Some('{') => match find(chars, at + 2, &['}']) {
            Some(close) => (chars[at + 2..close].iter().collect::<String>(), close + 1),
            None => return Err("invalid character class range: missing }".into()),
        },
        Some(&letter) => (letter.to_string(), at + 2),
        None => return Err("invalid character class range: \\p at the end".into()),
    };
    let (negated, name) = match name.strip_prefix('^') {
        Some(name) => (chars[at] == 'p', name),
        None => (chars[at] == 'P', name.as_str()),
    };
    let script = name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphabetic() || c == '_');
    let class = match name {
        "Any" => "Any".to_owned(),
        name if CATEGORIES.contains(&name) => format!("gc={name}"),
        name if script && name.len() > 2 => format!("sc={name}"),
        _ => return Err(format!("invalid character class range: \\p{{{name}}}")),
    };
    out.push_str(if negated { "\\P{" } else { "\\p{" });
    out.push_str(&class);
    out.push('}');
    Ok(end)
}

/// Copies the `(?...` at `at`: named groups and RE2's flags (`i`, `m`, `s`, `U`); the index
/// after what was copied.
fn group(chars: &[char], at: usize, out: &mut String) -> Result<usize, String> {
    let rest: String = chars[at + 2..].iter().take(2).collect();
    if rest.starts_with("P<")
        || (rest.starts_with('<') && !rest.starts_with("<=") && !rest.starts_with("<!"))
    {
        out.push_str("(?");
        return Ok(at + 2);
    }
    let mut i = at + 2;
    while let Some(&c) = chars.get(i) {
        match c {
            ':' | ')' => break,
            'i' | 'm' | 's' | 'U' | '-' => {}
            c => return Err(format!("invalid or unsupported Perl syntax: (?{c}")),
        }
        i += 1;
    }
    out.extend(&chars[at..i]);
    Ok(i)
}

fn number(s: &str) -> Option<&str> {
    (!s.is_empty() && s.chars().all(|c| c.is_ascii_digit())).then_some(s)
}

/// When the `{` at `at` starts a repetition (`{n}`, `{n,}`, `{n,m}`), the index after its `}`;
/// RE2 refuses counts over [`MAX_REPEAT`].
fn repetition(chars: &[char], at: usize) -> Result<Option<usize>, String> {
    let Some(close) = find(chars, at + 1, &['}']) else {
        return Ok(None);
    };
    let inner: String = chars[at + 1..close].iter().collect();
    let (low, high) = match inner.split_once(',') {
        Some((low, high)) => (low, Some(high)),
        None => (inner.as_str(), None),
    };
    let Some(low) = number(low) else {
        return Ok(None);
    };
    let high = match high {
        Some("") | None => None,
        Some(high) => match number(high) {
            Some(high) => Some(high),
            None => return Ok(None),
        },
    };
    let too_big = |s: &str| s.parse::<u32>().map_or(true, |n| n > MAX_REPEAT);
    if too_big(low) || high.is_some_and(too_big) {
        let text: String = chars[at..=close].iter().collect();
        return Err(format!("bad repetition operator: {text}"));
    }
    Ok(Some(close + 1))
}

#[cfg(test)]
mod tests {
    use super::translate;

    /// Compiles the translation and matches, as CEL's `matches` does (anywhere in the text).
    fn re2_matches(pattern: &str, text: &str) -> Result<bool, String> {
        let translated = translate(pattern)?;
        regex::Regex::new(&translated)
            .map(|r| r.is_match(text))
            .map_err(|e| format!("{translated}: {e}"))
    }

    #[test]
    fn unicode_classes_and_case_folding_as_in_re2() {
        for (pattern, text, want) in [
            ("^\\p{L}+$", "Größe", true),
            ("^\\pL+$", "日本", true),
            ("^\\p{Greek}+$", "αβγ", true),
            ("^\\P{L}+$", "123", true),
            ("(?i)^straße$", "STRASSE", false),
            ("(?i)^ΣΑΣ$", "σας", true),
            ("(?i)^k$", "\u{212a}", true),
            ("(?i)^octo-org/", "Octo-Org/x", true),
            ("^.$", "é", true),
            ("^[[:alpha:]]+$", "abc", true),
            ("^[[:alpha:]]+$", "é", false),
            ("^\\p{^Greek}$", "a", true),
            ("^\\p{Any}$", "a", true),
            ("^\\PL$", "1", true),
            ("^[\\p{Lu}\\d]+$", "A1", true),
        ] {
            assert_eq!(re2_matches(pattern, text), Ok(want), "{pattern} on {text}");
        }
    }

    #[test]
    fn perl_classes_and_word_boundaries_are_ascii_as_in_re2() {
        for (pattern, text, want) in [
            ("^\\w+$", "abc_09", true),
            ("^\\w$", "é", false),
            ("^\\d$", "٣", false),
            ("^\\s$", "\u{a0}", false),
            ("^\\s$", "\u{b}", false),
            ("^\\W$", "é", true),
            ("^\\D$", "é", true),
            ("^[\\d\\s]+$", "1 2", true),
            ("^[^\\d]$", "a", true),
            ("^[\\D]$", "1", false),
            ("é\\b", "é", false),
            ("a\\b", "a", true),
            ("a\\B", "ab", true),
        ] {
            assert_eq!(re2_matches(pattern, text), Ok(want), "{pattern} on {text}");
        }
    }

    #[test]
    fn re2_literals_the_crate_would_refuse_or_read_otherwise() {
        for (pattern, text, want) in [
            ("^{name}$", "{name}", true),
            ("^a{$", "a{", true),
            ("^a{,2}$", "a{,2}", true),
            ("^a{2}$", "aa", true),
            ("^a{1,2}$", "aa", true),
            ("^a{2,}$", "aaa", true),
            ("^[a[]$", "[", true),
            ("^[a&&b]$", "&", true),
            ("^[]a]$", "]", true),
            ("^[^]a]$", "b", true),
            ("^\\Q.*\\E$", ".*", true),
            ("^\\Q.*$", ".*$", true),
            ("^\\101$", "A", true),
            ("^\\0$", "\0", true),
            ("^\\<a\\>$", "<a>", true),
            ("^\\/\\-$", "/-", true),
            ("^(?P<x>a)(?<y>b)$", "ab", true),
            ("(?s)^a.b$", "a\nb", true),
            ("(?m)^b$", "a\nb", true),
            ("(?U)a+", "aa", true),
            ("(?i:A)b", "ab", true),
            ("^a*?b+?c??$", "abc", true),
            ("^a{1,2}?$", "a", true),
            ("^\\C$", "a", true),
        ] {
            assert_eq!(re2_matches(pattern, text), Ok(want), "{pattern} on {text}");
        }
    }

    #[test]
    fn what_re2_refuses_is_refused() {
        for pattern in [
            "(?x)a b",
            "(?u)a",
            "\\u0041",
            "a{1001}",
            "a{1,1001}",
            "\\1",
            "\\8",
            "\\e",
            "\\",
            "[\\b]",
            "\\y",
            "a**",
            "a+{2}",
            "a{2}*",
            "a*?+",
        ] {
            assert!(re2_matches(pattern, "a").is_err(), "{pattern}");
        }
        // Refused by both engines' own parsers.
        for pattern in [
            "(",
            "(?=a)",
            "[z-a]",
            "\\p{Alphabetic}",
            "\\p{greek}",
            "\\p{gc=L}",
        ] {
            assert!(re2_matches(pattern, "a").is_err(), "{pattern}");
        }
    }
}
