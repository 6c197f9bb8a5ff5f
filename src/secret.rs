//! A string that must never be printed by accident: the OIDC token and the request token.

use std::fmt;

/// A secret string. It has no `Display` implementation and a redacted `Debug`, so it cannot
/// end up in a log line or an error message through `{}` or `{:?}`; reading it takes an
/// explicit call to [`Secret::reveal`].
///
/// `Debug` shows no part of the value:
///
/// ```
/// let token = oidc_preflight::Secret::new("eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
/// assert_eq!(format!("{token:?}"), "Secret(<redacted>)");
/// ```
///
/// and formatting it for display does not compile:
///
/// ```compile_fail,E0277
/// let token = oidc_preflight::Secret::new("eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
/// let line = format!("token: {}", token);
/// ```
///
/// nor does turning it into a string by `ToString`, which `Display` would bring:
///
/// ```compile_fail,E0599
/// let token = oidc_preflight::Secret::new("eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
/// let text: String = token.to_string();
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Every caller is a place where the value can leak: keep them few.
    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// True when the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
        let shown = format!("{s:?} {:#?}", Some(&s));
        assert!(!shown.contains("eyJ"), "{shown}");
        assert_eq!(s.reveal(), "eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
    }
}
