//! Entra's claims matching expressions (flexible federated identity credentials), language
//! version 1: `claims['sub'] matches 'repo:o/r:ref:refs/heads/*' and claims['job_workflow_ref']
//! eq '...'`. Keywords are case-insensitive, strings single-quoted without escapes, terms are
//! joined by `and`, and parentheses may group them. No crate implements this, and the language
//! is small enough that a hand-written parser stays readable.

use crate::policy::PolicyError;
use std::iter::{Enumerate, Peekable};
use std::str::CharIndices;

/// Claims Entra lets a GitHub flexible credential match on.
const SUPPORTED_CLAIMS: &[&str] = &["sub", "job_workflow_ref"];

/// Parentheses nested deeper than this are refused, which bounds the parser's recursion.
const MAX_NESTING: usize = 32;

/// How a term compares the claim with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Operator {
    /// `matches`: `*` and `?` wildcards.
    Matches,
    /// `eq`: exact.
    Eq,
}

/// One `claims['NAME'] OP 'VALUE'` comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Term {
    pub(super) claim: String,
    pub(super) operator: Operator,
    pub(super) value: String,
    /// The term as written, for messages.
    pub(super) text: String,
}

/// A parsed expression: every term must hold (the language only has `and`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Expression {
    pub(super) terms: Vec<Term>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    End,
}

/// A token and its 1-based character position and byte span.
#[derive(Debug, Clone)]
struct Spanned {
    token: Token,
    position: usize,
    start: usize,
    end: usize,
}

/// Parses `source`; errors name `location` and a 1-based character position.
pub(super) fn parse(source: &str, location: &str) -> Result<Expression, PolicyError> {
    let tokens = tokenize(source, location)?;
    let mut parser = Parser {
        tokens,
        next: 0,
        source,
        location,
        terms: Vec::new(),
    };
    parser.conjunction(0)?;
    parser.expect_end()?;
    Ok(Expression {
        terms: parser.terms,
    })
}

/// The characters still to lex, each with its 0-based index and byte offset.
type Chars<'a> = Peekable<Enumerate<CharIndices<'a>>>;

fn tokenize(source: &str, location: &str) -> Result<Vec<Spanned>, PolicyError> {
    let mut tokens = Vec::new();
    let mut chars: Chars<'_> = source.char_indices().enumerate().peekable();
    while let Some((index, (start, c))) = chars.next() {
        let position = index + 1;
        let (token, end) = match c {
            c if c.is_whitespace() => continue,
            '(' => (Token::Open, start + 1),
            ')' => (Token::Close, start + 1),
            '[' => (Token::OpenBracket, start + 1),
            ']' => (Token::CloseBracket, start + 1),
            '\'' => string(&mut chars)
                .ok_or_else(|| syntax(location, position, "unterminated string"))?,
            c if c.is_alphanumeric() || c == '_' => word(c, start, &mut chars),
            c => {
                let message = format!("unexpected character `{c}`");
                return Err(syntax(location, position, &message));
            }
        };
        tokens.push(Spanned {
            token,
            position,
            start,
            end,
        });
    }
    tokens.push(Spanned {
        token: Token::End,
        position: source.chars().count() + 1,
        start: source.len(),
        end: source.len(),
    });
    Ok(tokens)
}

/// The rest of a string after its opening quote, and the byte offset after its closing one;
/// `None` when it is not closed.
fn string(chars: &mut Chars<'_>) -> Option<(Token, usize)> {
    let mut text = String::new();
    for (_, (at, c)) in chars.by_ref() {
        if c == '\'' {
            return Some((Token::Str(text), at + 1));
        }
        text.push(c);
    }
    None
}

/// A word starting with `first` at byte `start`, and the byte offset after it.
fn word(first: char, start: usize, chars: &mut Chars<'_>) -> (Token, usize) {
    let mut word = String::from(first);
    let mut end = start + first.len_utf8();
    while let Some((_, (at, c))) = chars.next_if(|(_, (_, c))| c.is_alphanumeric() || *c == '_') {
        word.push(c);
        end = at + c.len_utf8();
    }
    (Token::Word(word), end)
}

fn syntax(location: &str, position: usize, message: &str) -> PolicyError {
    PolicyError::Expression {
        location: location.to_owned(),
        position,
        message: message.to_owned(),
    }
}

struct Parser<'a> {
    tokens: Vec<Spanned>,
    next: usize,
    source: &'a str,
    location: &'a str,
    terms: Vec<Term>,
}

impl Parser<'_> {
    fn peek(&self) -> Spanned {
        // The token list always ends with `End`, and `advance` never moves past it.
        self.tokens
            .get(self.next)
            .or_else(|| self.tokens.last())
            .cloned()
            .unwrap_or(Spanned {
                token: Token::End,
                position: 1,
                start: 0,
                end: 0,
            })
    }

    fn advance(&mut self) -> Spanned {
        let token = self.peek();
        if token.token != Token::End {
            self.next += 1;
        }
        token
    }

    fn error(&self, at: &Spanned, message: &str) -> PolicyError {
        syntax(self.location, at.position, message)
    }

    /// `atom (and atom)*`
    fn conjunction(&mut self, depth: usize) -> Result<(), PolicyError> {
        self.atom(depth)?;
        loop {
            let next = self.peek();
            match &next.token {
                Token::Word(w) if w.eq_ignore_ascii_case("and") => {
                    self.advance();
                    self.atom(depth)?;
                }
                Token::Word(w) if w.eq_ignore_ascii_case("or") => {
                    return Err(
                        self.error(&next, "only `and` can join terms, `or` is not supported")
                    );
                }
                _ => return Ok(()),
            }
        }
    }

    /// `( conjunction )` or a comparison.
    fn atom(&mut self, depth: usize) -> Result<(), PolicyError> {
        let next = self.peek();
        if next.token != Token::Open {
            return self.comparison();
        }
        if depth >= MAX_NESTING {
            return Err(self.error(&next, "parentheses nested too deeply"));
        }
        self.advance();
        self.conjunction(depth + 1)?;
        let close = self.advance();
        if close.token != Token::Close {
            return Err(self.error(&close, "expected `)`"));
        }
        Ok(())
    }

    /// `claims [ 'NAME' ] (matches | eq) 'VALUE'`
    fn comparison(&mut self) -> Result<(), PolicyError> {
        let first = self.advance();
        match &first.token {
            Token::Word(w) if w.eq_ignore_ascii_case("claims") => {}
            _ => return Err(self.error(&first, "expected `claims['NAME']`")),
        }
        self.expect(&Token::OpenBracket, "expected `[` after `claims`")?;
        let name = self.advance();
        let Token::Str(claim) = name.token.clone() else {
            return Err(self.error(&name, "expected a quoted claim name"));
        };
        if !SUPPORTED_CLAIMS.contains(&claim.as_str()) {
            return Err(PolicyError::UnsupportedClaim {
                location: self.location.to_owned(),
                claim,
                position: name.position,
            });
        }
        self.expect(&Token::CloseBracket, "expected `]` after the claim name")?;
        let operator = self.operator()?;
        let value = self.advance();
        let Token::Str(text) = value.token else {
            return Err(self.error(&value, "expected a quoted value"));
        };
        if operator == Operator::Matches {
            // A longer pattern would make matching slow, and Azure accepts none this long.
            crate::pattern::check_pattern(&text)
                .map_err(|e| PolicyError::invalid(self.location, e.to_string()))?;
        }
        self.terms.push(Term {
            claim,
            operator,
            value: text,
            text: self
                .source
                .get(first.start..value.end)
                .unwrap_or_default()
                .to_owned(),
        });
        Ok(())
    }

    fn operator(&mut self) -> Result<Operator, PolicyError> {
        let token = self.advance();
        match &token.token {
            Token::Word(w) if w.eq_ignore_ascii_case("matches") => Ok(Operator::Matches),
            Token::Word(w) if w.eq_ignore_ascii_case("eq") => Ok(Operator::Eq),
            _ => Err(self.error(&token, "expected `matches` or `eq`")),
        }
    }

    fn expect(&mut self, want: &Token, message: &str) -> Result<(), PolicyError> {
        let token = self.advance();
        if &token.token == want {
            Ok(())
        } else {
            Err(self.error(&token, message))
        }
    }

    fn expect_end(&mut self) -> Result<(), PolicyError> {
        let token = self.peek();
        if token.token == Token::End {
            Ok(())
        } else {
            Err(self.error(&token, "expected `and` or the end of the expression"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(claim: &str, operator: Operator, value: &str, text: &str) -> Term {
        Term {
            claim: claim.into(),
            operator,
            value: value.into(),
            text: text.into(),
        }
    }

    #[test]
    fn parses_documented_forms() {
        let cases: &[(&str, Vec<Term>)] = &[
            (
                "claims['sub'] matches 'repo:contoso/repo:ref:refs/heads/*'",
                vec![term(
                    "sub",
                    Operator::Matches,
                    "repo:contoso/repo:ref:refs/heads/*",
                    "claims['sub'] matches 'repo:contoso/repo:ref:refs/heads/*'",
                )],
            ),
            (
                "CLAIMS['sub'] EQ 'x' AND claims['job_workflow_ref'] Matches 'o/r/.github/*@*'",
                vec![
                    term("sub", Operator::Eq, "x", "CLAIMS['sub'] EQ 'x'"),
                    term(
                        "job_workflow_ref",
                        Operator::Matches,
                        "o/r/.github/*@*",
                        "claims['job_workflow_ref'] Matches 'o/r/.github/*@*'",
                    ),
                ],
            ),
            (
                "(claims['sub'] eq 'a') and ((claims['sub'] matches 'b'))",
                vec![
                    term("sub", Operator::Eq, "a", "claims['sub'] eq 'a'"),
                    term("sub", Operator::Matches, "b", "claims['sub'] matches 'b'"),
                ],
            ),
            (
                "  claims [ 'sub' ]  eq  'é and ü'  ",
                vec![term(
                    "sub",
                    Operator::Eq,
                    "é and ü",
                    "claims [ 'sub' ]  eq  'é and ü'",
                )],
            ),
        ];
        for (source, want) in cases {
            let got = parse(source, "claimsMatchingExpression.value").unwrap();
            assert_eq!(&got.terms, want, "{source}");
        }
    }

    #[test]
    fn syntax_errors_have_positions() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 1, "expected `claims['NAME']`"),
            ("claims['sub'] matches", 22, "expected a quoted value"),
            ("claims['sub'] like 'x'", 15, "expected `matches` or `eq`"),
            (
                "claims['sub' eq 'x'",
                14,
                "expected `]` after the claim name",
            ),
            ("claims[sub] eq 'x'", 8, "expected a quoted claim name"),
            ("claims('sub') eq 'x'", 7, "expected `[` after `claims`"),
            ("claims['sub'] eq 'x", 18, "unterminated string"),
            (
                "claims['sub'] eq 'x' or claims['sub'] eq 'y'",
                22,
                "only `and`",
            ),
            (
                "claims['sub'] eq 'x' claims",
                22,
                "expected `and` or the end",
            ),
            ("(claims['sub'] eq 'x'", 22, "expected `)`"),
            ("claims['sub'] == 'x'", 15, "unexpected character `=`"),
            ("é claims", 1, "expected `claims['NAME']`"),
        ];
        for (source, position, message) in cases {
            match parse(source, "v") {
                Err(PolicyError::Expression {
                    position: got,
                    message: text,
                    ..
                }) => {
                    assert_eq!(got, *position, "{source}: {text}");
                    assert!(text.starts_with(message), "{source}: {text}");
                }
                other => panic!("{source}: {other:?}"),
            }
        }
    }

    #[test]
    fn unsupported_claims_and_deep_nesting_are_refused() {
        assert_eq!(
            parse(
                "claims['sub'] eq 'a' and claims['repository'] eq 'o/r'",
                "v"
            ),
            Err(PolicyError::UnsupportedClaim {
                location: "v".into(),
                claim: "repository".into(),
                position: 33,
            })
        );
        let deep = format!(
            "{}claims['sub'] eq 'x'{}",
            "(".repeat(10_000),
            ")".repeat(10_000)
        );
        assert!(matches!(
            parse(&deep, "v"),
            Err(PolicyError::Expression { position: 33, .. })
        ));
    }
}
