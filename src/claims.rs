//! Decoding the JWT: header and claims, without checking the signature.
//!
//! Nothing in a malformed token is echoed back: errors name the part that is wrong, never its
//! content, because even a broken token may be a live credential.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use serde_json::{Map, Value};
use thiserror::Error;

/// base64url as JWTs use it: no padding expected, but tolerated.
pub(crate) const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Which of the three dot-separated parts of a JWT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The first part, the JOSE header.
    Header,
    /// The second part, the claims.
    Payload,
    /// The third part, the signature.
    Signature,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Part::Header => "header",
            Part::Payload => "payload",
            Part::Signature => "signature",
        })
    }
}

/// Why a token is not a well-formed JWT.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum MalformedToken {
    /// The token is empty or only whitespace.
    #[error("the token is empty")]
    Empty,
    /// A JWT has exactly three parts separated by dots.
    #[error("the token is not a JWT: it has {found} dot-separated part(s), a JWT has 3")]
    PartCount {
        /// How many parts were found.
        found: usize,
    },
    /// A part is not base64url.
    #[error("the token is not a JWT: its {part} is not base64url")]
    NotBase64 {
        /// The offending part.
        part: Part,
    },
    /// The header or payload does not decode to JSON.
    #[error("the token is not a JWT: its {part} is not JSON ({reason})")]
    NotJson {
        /// The offending part.
        part: Part,
        /// serde_json's description, which gives a position and never the content.
        reason: String,
    },
    /// The header or payload is JSON but not an object.
    #[error("the token is not a JWT: its {part} is JSON but not an object")]
    NotObject {
        /// The offending part.
        part: Part,
    },
}

impl MalformedToken {
    /// What the user can do about it.
    pub fn hint(&self) -> &'static str {
        "the JWT is the `value` field of the token endpoint's JSON response; if you passed a \
         token by hand, pass the whole `value` (three base64url parts separated by dots), not \
         ACTIONS_ID_TOKEN_REQUEST_TOKEN, which is only the bearer token used to request it"
    }
}

/// A decoded (not verified) JWT.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedToken {
    /// The JOSE header (`alg`, `kid`, `typ`, ...).
    pub header: Map<String, Value>,
    /// The claims.
    pub claims: Claims,
}

/// The token's claims, with typed accessors for the ones the checks use.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Claims(pub(crate) Map<String, Value>);

impl From<Map<String, Value>> for Claims {
    fn from(map: Map<String, Value>) -> Self {
        Claims(map)
    }
}

impl Claims {
    /// Every claim, as the token's JSON object holds them.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The claims as a JSON object.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }

    /// A claim's raw JSON value.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// A claim as text: strings as they are, numbers and booleans in JSON form, arrays and
    /// objects as compact JSON. `None` when absent or `null`.
    pub fn text(&self, name: &str) -> Option<String> {
        match self.0.get(name)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    /// A claim that is a string, as a borrowed `&str`.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name)?.as_str()
    }

    /// A claim's values as text, as the consumers match them: each element of an array, else
    /// the one value (see [`value_strings`]). `None` when absent or `null`.
    pub fn values(&self, name: &str) -> Option<Vec<String>> {
        value_strings(self.0.get(name)?)
    }

    /// The `sub` claim.
    pub fn subject(&self) -> Option<&str> {
        self.str("sub")
    }

    /// A numeric date claim (`exp`, `iat`, `nbf`) in seconds since the epoch. Fractions are
    /// allowed by RFC 7519 and truncated.
    pub fn timestamp(&self, name: &str) -> Option<i64> {
        let value = self.0.get(name)?;
        value
            .as_i64()
            .or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
    }

    /// All claims as one compact JSON object.
    pub fn to_json(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }
}

/// A claim value as a list of strings: a string is one value, an array its elements, `null`
/// none (`None`). Other scalars, and array elements that are not strings, are in their JSON
/// form, as STS passes them. The one rule for every check and evaluator, so that a claim
/// never matches in one place and fails in another.
pub fn value_strings(value: &Value) -> Option<Vec<String>> {
    let scalar = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match value {
        Value::Null => None,
        Value::Array(items) => Some(items.iter().map(scalar).collect()),
        other => Some(vec![scalar(other)]),
    }
}

/// Decodes a JWT's header and claims. The signature is only checked to be base64url.
pub fn decode(token: &str) -> Result<DecodedToken, MalformedToken> {
    let token = token.trim();
    if token.is_empty() {
        return Err(MalformedToken::Empty);
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        return Err(MalformedToken::PartCount { found: parts.len() });
    };
    let header = decode_object(header, Part::Header)?;
    let claims = decode_object(payload, Part::Payload)?;
    BASE64URL
        .decode(signature)
        .map_err(|_| MalformedToken::NotBase64 {
            part: Part::Signature,
        })?;
    Ok(DecodedToken {
        header,
        claims: Claims(claims),
    })
}

fn decode_object(segment: &str, part: Part) -> Result<Map<String, Value>, MalformedToken> {
    let bytes = BASE64URL
        .decode(segment)
        .map_err(|_| MalformedToken::NotBase64 { part })?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| MalformedToken::NotJson {
        part,
        // serde_json's Display names the line and column and the kind of error; strip
        // nothing of the value because it never contains any.
        reason: e.to_string(),
    })?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(MalformedToken::NotObject { part }),
    }
}

/// Encodes bytes as unpadded base64url. Used by tests and the embedded provider.
pub fn base64url(bytes: &[u8]) -> String {
    BASE64URL.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.c2lnbmF0dXJl",
            base64url(header.as_bytes()),
            base64url(payload.as_bytes())
        )
    }

    #[test]
    fn decodes_header_and_claims() {
        let token = jwt(
            r#"{"alg":"RS256","kid":"k1"}"#,
            r#"{"sub":"repo:a/b:ref:refs/heads/main","aud":["x","y"],"exp":1700000000.5}"#,
        );
        let decoded = decode(&token).unwrap();
        assert_eq!(decoded.header["kid"], "k1");
        assert_eq!(
            decoded.claims.subject(),
            Some("repo:a/b:ref:refs/heads/main")
        );
        assert_eq!(decoded.claims.text("aud").unwrap(), r#"["x","y"]"#);
        assert_eq!(decoded.claims.timestamp("exp"), Some(1_700_000_000));
        assert_eq!(decoded.claims.text("environment"), None);
    }

    #[test]
    fn rejects_malformed_tokens_without_echoing_them() {
        let b = |s: &str| base64url(s.as_bytes());
        let cases = [
            ("", MalformedToken::Empty),
            ("   ", MalformedToken::Empty),
            ("secretvalue", MalformedToken::PartCount { found: 1 }),
            ("a.b", MalformedToken::PartCount { found: 2 }),
            ("a.b.c.d", MalformedToken::PartCount { found: 4 }),
            ("@@.e30.", MalformedToken::NotBase64 { part: Part::Header }),
            (
                &*format!("{}.{}.", b("{}"), "!!"),
                MalformedToken::NotBase64 {
                    part: Part::Payload,
                },
            ),
            (
                &*format!("{}.{}.***", b("{}"), b("{}")),
                MalformedToken::NotBase64 {
                    part: Part::Signature,
                },
            ),
            (
                &*format!("{}.{}.", b("[1]"), b("{}")),
                MalformedToken::NotObject { part: Part::Header },
            ),
            (
                &*format!("{}.{}.", b("{}"), b("\"s\"")),
                MalformedToken::NotObject {
                    part: Part::Payload,
                },
            ),
        ];
        for (token, want) in cases {
            assert_eq!(decode(token).unwrap_err(), want, "{token:?}");
        }
        let err = decode(&format!("{}.{}.", b("{}"), b("{not json secretvalue"))).unwrap_err();
        assert!(matches!(
            err,
            MalformedToken::NotJson {
                part: Part::Payload,
                ..
            }
        ));
        assert!(!err.to_string().contains("secretvalue"), "{err}");
    }

    #[test]
    fn claim_values_are_one_list_rule() {
        let c = Claims(
            serde_json::json!({"aud": ["a", 1, true], "n": 5, "s": "x", "z": null})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        assert_eq!(c.values("aud").unwrap(), ["a", "1", "true"]);
        assert_eq!(c.values("n").unwrap(), ["5"]);
        assert_eq!(c.values("s").unwrap(), ["x"]);
        assert_eq!(c.values("z"), None);
        assert_eq!(c.values("absent"), None);
    }

    #[test]
    fn empty_signature_is_well_formed() {
        // `alg: none` tokens have an empty signature; rejecting them is verification's job.
        let token = format!("{}.{}.", base64url(b"{\"alg\":\"none\"}"), base64url(b"{}"));
        assert!(decode(&token).is_ok());
    }
}
