//! A JSON Web Key Set (RFC 7517), reduced to the keys that can verify RS256.

use std::fmt;

use base64::Engine;
use jsonwebtoken::DecodingKey;
use serde_json::Value;

use super::error::{shown, Document, VerifyError};
use crate::claims::BASE64URL;

/// ring, which does the RSA arithmetic, verifies RS256 only with moduli of this size; a smaller
/// key would fail every signature, so it is set aside with a reason instead.
const MIN_BITS: usize = 2048;
const MAX_BITS: usize = 8192;
/// The most keys a token without `kid` is tried against. Real key sets hold two or three
/// (the current key and the next during a rotation).
pub(crate) const MAX_KIDLESS_TRIES: usize = 8;

/// The signing keys of an issuer: its JWKS, keeping the RSA keys usable for RS256.
///
/// Keys of another type or use, or with another `alg`, are set aside and only named in errors.
#[derive(Debug, Clone)]
pub struct Jwks {
    keys: Vec<RsaKey>,
    set_aside: Vec<(String, String)>,
    pub(super) url: Option<String>,
    pub(super) notes: Vec<String>,
}

#[derive(Clone)]
pub(super) struct RsaKey {
    pub(super) kid: Option<String>,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The modulus is public but long; the size says what matters.
        f.debug_struct("RsaKey")
            .field("kid", &self.kid)
            .field("bits", &modulus_bits(&self.n))
            .finish()
    }
}

impl RsaKey {
    pub(super) fn decoding_key(&self) -> DecodingKey {
        DecodingKey::from_rsa_raw_components(&self.n, &self.e)
    }
}

impl Jwks {
    /// Parses a JWKS (`{"keys": [...]}`), as served at an issuer's `jwks_uri` or saved to a file.
    ///
    /// Fails when the text is not a JWKS or has no RSA key usable for RS256.
    pub fn from_json(text: &str) -> Result<Jwks, VerifyError> {
        let invalid = |reason: String| VerifyError::InvalidDocument {
            document: Document::Jwks,
            url: None,
            reason,
        };
        // serde_json's message gives a position, never content.
        let value: Value =
            serde_json::from_str(text).map_err(|e| invalid(format!("not JSON ({e})")))?;
        let Some(entries) = value.get("keys").and_then(Value::as_array) else {
            return Err(invalid("no `keys` array".to_owned()));
        };
        let mut jwks = Jwks {
            keys: Vec::new(),
            set_aside: Vec::new(),
            url: None,
            notes: Vec::new(),
        };
        for (index, entry) in entries.iter().enumerate() {
            let kid = entry.get("kid").and_then(Value::as_str).map(shown);
            match rsa_key(entry) {
                Ok((n, e)) => jwks.keys.push(RsaKey { kid, n, e }),
                Err(why) => jwks
                    .set_aside
                    .push((kid.unwrap_or_else(|| format!("#{index} (no kid)")), why)),
            }
        }
        if jwks.keys.is_empty() {
            let why = if jwks.set_aside.is_empty() {
                "it has no keys".to_owned()
            } else {
                let skipped: Vec<String> = jwks
                    .set_aside
                    .iter()
                    .map(|(kid, why)| format!("`{kid}`: {why}"))
                    .collect();
                format!("no key can verify RS256 ({})", skipped.join("; "))
            };
            return Err(invalid(why));
        }
        Ok(jwks)
    }

    /// The ids of the usable keys, in the JWKS's order (keys without an id are left out).
    pub fn kids(&self) -> Vec<&str> {
        self.keys.iter().filter_map(|k| k.kid.as_deref()).collect()
    }

    /// How many usable RSA keys there are.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is usable; never the case for a parsed JWKS.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Where the JWKS was fetched from, when it was discovered.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// What discovery noticed on the way (a fallback, a retried request, a key server on
    /// another host). Empty for a JWKS given as text.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The keys to try for a token: the one its `kid` names, or, when it names none, every
    /// usable key, up to [`MAX_KIDLESS_TRIES`] of them (more are refused rather than tried:
    /// each try is an RSA verification, and GitHub always names the key).
    pub(super) fn candidates(&self, kid: Option<&str>) -> Result<Vec<&RsaKey>, VerifyError> {
        match kid {
            Some(kid) => {
                if let Some(key) = self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)) {
                    return Ok(vec![key]);
                }
                if let Some((_, why)) = self.set_aside.iter().find(|(k, _)| k == kid) {
                    return Err(VerifyError::UnusableKey {
                        kid: shown(kid),
                        reason: why.clone(),
                    });
                }
                Err(VerifyError::KeyNotFound {
                    kid: shown(kid),
                    available: self.kids().into_iter().map(str::to_owned).collect(),
                })
            }
            None if self.keys.len() > MAX_KIDLESS_TRIES => Err(VerifyError::AmbiguousKey {
                keys: self.keys.len(),
                tried: MAX_KIDLESS_TRIES,
            }),
            None => Ok(self.keys.iter().collect()),
        }
    }
}

/// `n` and `e` of a JWK that can verify RS256, or why it cannot.
fn rsa_key(entry: &Value) -> Result<(Vec<u8>, Vec<u8>), String> {
    let field = |name: &str| entry.get(name).and_then(Value::as_str);
    match field("kty") {
        Some("RSA") => {}
        Some(other) => return Err(format!("key type {}, not RSA", shown(other))),
        None => return Err("no key type (`kty`)".to_owned()),
    }
    // `use` and `alg` are optional; when present they must allow RS256 signatures.
    if let Some(usage) = field("use").filter(|u| *u != "sig") {
        return Err(format!("use `{}`, not `sig`", shown(usage)));
    }
    if let Some(alg) = field("alg").filter(|a| *a != "RS256") {
        return Err(format!("alg `{}`, not RS256", shown(alg)));
    }
    let component = |name: &str| -> Result<Vec<u8>, String> {
        let text = field(name).ok_or_else(|| format!("no `{name}`"))?;
        BASE64URL
            .decode(text)
            .map_err(|_| format!("`{name}` is not base64url"))
    };
    let n = component("n")?;
    let e = component("e")?;
    let bits = modulus_bits(&n);
    if !(MIN_BITS..=MAX_BITS).contains(&bits) {
        return Err(format!(
            "a {bits}-bit modulus; RS256 needs {MIN_BITS} to {MAX_BITS} bits"
        ));
    }
    if e.iter().all(|b| *b == 0) {
        return Err("a zero exponent".to_owned());
    }
    Ok((n, e))
}

fn modulus_bits(n: &[u8]) -> usize {
    let n = match n.iter().position(|b| *b != 0) {
        Some(first) => &n[first..],
        None => return 0,
    };
    n.len() * 8 - n[0].leading_zeros() as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::base64url;

    fn rsa_jwk(kid: &str, bytes: usize) -> String {
        let mut n = vec![0xC5u8; bytes];
        n[bytes - 1] |= 1;
        format!(
            r#"{{"kty":"RSA","use":"sig","alg":"RS256","kid":"{kid}","n":"{}","e":"AQAB"}}"#,
            base64url(&n)
        )
    }

    #[test]
    fn keeps_rsa_signing_keys_and_sets_others_aside() {
        let text = format!(
            r#"{{"keys":[{},{},{{"kty":"EC","kid":"ec","crv":"P-256","x":"AA","y":"AA"}},
            {{"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"}},
            {{"kty":"RSA","kid":"ps","alg":"PS256","n":"AQAB","e":"AQAB"}},
            {},{{"kty":"RSA","kid":"bad","n":"!!","e":"AQAB"}}]}}"#,
            rsa_jwk("k1", 256),
            rsa_jwk("k2", 512),
            rsa_jwk("small", 128),
        );
        let jwks = Jwks::from_json(&text).unwrap();
        assert_eq!(jwks.kids(), ["k1", "k2"]);
        assert_eq!(
            jwks.candidates(Some("k2")).unwrap()[0].kid.as_deref(),
            Some("k2")
        );
        let cases = [
            ("ec", "key type EC, not RSA"),
            ("enc", "use `enc`, not `sig`"),
            ("ps", "alg `PS256`, not RS256"),
            ("small", "a 1024-bit modulus; RS256 needs 2048 to 8192 bits"),
            ("bad", "`n` is not base64url"),
        ];
        for (kid, want) in cases {
            match jwks.candidates(Some(kid)) {
                Err(VerifyError::UnusableKey { reason, .. }) => assert_eq!(reason, want),
                other => panic!("{kid}: {other:?}"),
            }
        }
        match jwks.candidates(Some("nope")) {
            Err(VerifyError::KeyNotFound { kid, available }) => {
                assert_eq!(kid, "nope");
                assert_eq!(available, ["k1", "k2"]);
            }
            other => panic!("{other:?}"),
        }
        // No `kid`: every usable key is a candidate.
        assert_eq!(jwks.candidates(None).unwrap().len(), 2);
    }

    #[test]
    fn no_kid_uses_the_only_key() {
        let jwks = Jwks::from_json(&format!(r#"{{"keys":[{}]}}"#, rsa_jwk("only", 256))).unwrap();
        assert_eq!(
            jwks.candidates(None).unwrap()[0].kid.as_deref(),
            Some("only")
        );
        assert_eq!(jwks.len(), 1);
    }

    #[test]
    fn a_token_without_kid_is_tried_against_a_bounded_number_of_keys() {
        let keys: Vec<String> = (0..=MAX_KIDLESS_TRIES)
            .map(|i| rsa_jwk(&format!("k{i}"), 256))
            .collect();
        let at_cap = Jwks::from_json(&format!(
            r#"{{"keys":[{}]}}"#,
            keys[..MAX_KIDLESS_TRIES].join(",")
        ))
        .unwrap();
        assert_eq!(at_cap.candidates(None).unwrap().len(), MAX_KIDLESS_TRIES);
        let over = Jwks::from_json(&format!(r#"{{"keys":[{}]}}"#, keys.join(","))).unwrap();
        assert!(matches!(
            over.candidates(None),
            Err(VerifyError::AmbiguousKey { keys, tried: MAX_KIDLESS_TRIES }) if keys == MAX_KIDLESS_TRIES + 1
        ));
    }

    #[test]
    fn rejects_what_is_not_a_usable_jwks() {
        for (text, want) in [
            ("<html>", "not JSON"),
            (r#"{"kty":"RSA"}"#, "no `keys` array"),
            (r#"{"keys":[]}"#, "it has no keys"),
            (
                r#"{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]}"#,
                "no key can verify RS256 (`h`: key type oct, not RSA)",
            ),
        ] {
            match Jwks::from_json(text) {
                Err(VerifyError::InvalidDocument { reason, .. }) => {
                    assert!(reason.starts_with(want), "{text}: {reason}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn modulus_bits_ignores_leading_zeros() {
        assert_eq!(modulus_bits(&[0, 0x80, 0]), 16);
        assert_eq!(modulus_bits(&[0x01]), 1);
        assert_eq!(modulus_bits(&[0, 0]), 0);
    }
}
