//! Which issuers may vouch for a token: the receiving service's side of OIDC.
//!
//! A receiver trusts the issuers it was configured with, never the `iss` a token names: anyone
//! can run an OpenID provider and sign tokens whose `sub` names any repository. And fetching
//! discovery from an unchecked `iss` lets whoever sent the token choose the URL fetched
//! (server-side request forgery). So the issuer is accepted here before any key is looked at
//! and before any request is sent.

use reqwest::Url;

use super::discovery::issuer_url;
use super::error::{shown, VerifyError};

const GITHUB: &str = "token.actions.githubusercontent.com";

/// The issuers whose keys a verification may use.
///
/// - [`TrustedIssuers::github`]: GitHub's own issuers (github.com, its enterprise-slug forms,
///   GHE.com); what a service that accepts GitHub Actions tokens trusts by default.
/// - [`TrustedIssuers::named`]: exactly one issuer the caller names (GitHub Enterprise Server
///   `https://HOST/_services/token`, a test provider); its discovery document and JWKS are the
///   keys, and a token with another `iss` fails.
///
/// (The action also trusts the token's own `iss`, for a token it fetched itself from the
/// runner's authenticated token endpoint; that constructor is not part of the receiver's API.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedIssuers(Trust);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Trust {
    GitHub,
    Named(String),
    Runner,
}

impl TrustedIssuers {
    /// GitHub's issuers: `https://token.actions.githubusercontent.com`, its enterprise-slug
    /// forms `https://token.actions.githubusercontent.com/<slug>` (one path segment), and
    /// GHE.com `https://token.actions.<subdomain>.ghe.com`. Keys are discovered from the
    /// token's `iss` once it is one of these.
    pub fn github() -> Self {
        Self(Trust::GitHub)
    }

    /// Exactly `issuer` (a trailing `/` counts, as it does for the clouds): keys come from its
    /// discovery document whatever the token says, and a token whose `iss` differs fails.
    /// https, or plain http to a loopback host (127.0.0.0/8, ::1, `localhost`).
    pub fn named(issuer: impl Into<String>) -> Result<Self, VerifyError> {
        let issuer = issuer.into();
        issuer_url(&issuer)?;
        Ok(Self(Trust::Named(issuer)))
    }

    /// The token's own `iss`, for a token that came from the runner's authenticated token
    /// endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL` with its bearer token): the runner, not the
    /// token's sender, chose the issuer, so GitHub Enterprise Server and test providers work
    /// without being named. Never use it for a token someone handed in: hidden from the
    /// receiver's API for that reason (the action is its only user).
    #[doc(hidden)]
    pub fn from_runner() -> Self {
        Self(Trust::Runner)
    }

    /// The named issuer, if this policy names one.
    pub fn pinned(&self) -> Option<&str> {
        match &self.0 {
            Trust::Named(issuer) => Some(issuer),
            Trust::GitHub | Trust::Runner => None,
        }
    }

    /// The issuer to take keys from for a token whose `iss` is `iss`, or why there is none.
    /// A named issuer is returned whatever `iss` says: the claim check then refuses a token
    /// that names another one, with keys that came from the trusted issuer only.
    pub fn accept(&self, iss: Option<&str>) -> Result<String, VerifyError> {
        match &self.0 {
            Trust::Named(issuer) => Ok(issuer.clone()),
            Trust::GitHub => {
                let iss = iss.ok_or(VerifyError::NoIssuer)?;
                if is_github_issuer(iss) {
                    Ok(iss.to_owned())
                } else {
                    Err(VerifyError::UntrustedIssuer { issuer: shown(iss) })
                }
            }
            Trust::Runner => Ok(iss.ok_or(VerifyError::NoIssuer)?.to_owned()),
        }
    }
}

/// True for GitHub's own issuers, recognised by parsing the URL, not by its ending:
/// `https://token.actions.attacker.example/x.ghe.com` ends like GHE.com and is not.
pub fn is_github_issuer(iss: &str) -> bool {
    // Leading or trailing spaces and control characters are dropped by the URL parser; the
    // claim must be the URL itself.
    if iss.trim() != iss || iss.chars().any(char::is_control) {
        return false;
    }
    let Ok(url) = Url::parse(iss) else {
        return false;
    };
    let Some(url::Host::Domain(host)) = url.host() else {
        return false;
    };
    // The authority as written must be the bare host: the parser would also accept
    // `https:host`, drop a `:443` and lower-case the name, and the claim is compared as text.
    let authority = iss
        .strip_prefix("https://")
        .map(|rest| rest.split('/').next().unwrap_or_default());
    if authority != Some(host) || url.query().is_some() || url.fragment().is_some() {
        return false;
    }
    let path = url.path();
    if host == GITHUB {
        // The root issuer, or an enterprise slug: exactly one non-empty path segment.
        return path == "/" || path.strip_prefix('/').is_some_and(is_slug);
    }
    // GHE.com: `token.actions.<one label>.ghe.com` with no path.
    let Some(label) = host
        .strip_prefix("token.actions.")
        .and_then(|rest| rest.strip_suffix(".ghe.com"))
    else {
        return false;
    };
    path == "/" && is_label(label)
}

fn is_slug(segment: &str) -> bool {
    !segment.is_empty()
        && segment.len() <= 100
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_issuers_are_recognised_by_their_parsed_url() {
        for good in [
            "https://token.actions.githubusercontent.com",
            "https://token.actions.githubusercontent.com/",
            "https://token.actions.githubusercontent.com/acme",
            "https://token.actions.githubusercontent.com/acme-corp_1",
            "https://token.actions.octo.ghe.com",
            "https://token.actions.octo-eu.ghe.com/",
        ] {
            assert!(is_github_issuer(good), "{good}");
        }
        for bad in [
            "https://token.actions.attacker.example/x.ghe.com",
            "https://token.actions.attacker.example/.ghe.com",
            "https://token.actions.a.b.ghe.com",
            "https://token.actions..ghe.com",
            "https://token.actions.octo.ghe.com/x",
            "https://token.actions.octo.ghe.com:8443",
            "https://token.actions.octo.ghe.com:443",
            "https://token.actions.octo.ghe.com?x=1",
            "https://token.actions.octo.ghe.com#x",
            "https://user@token.actions.octo.ghe.com",
            "http://token.actions.githubusercontent.com",
            "https://token.actions.githubusercontent.com/a/b",
            "https://token.actions.githubusercontent.com/a/",
            "https://token.actions.githubusercontent.com.attacker.example",
            "https://token.actions.githubusercontent.com@attacker.example",
            "https://attacker.example/token.actions.githubusercontent.com",
            " https://token.actions.githubusercontent.com",
            "https://github.example.net/_services/token",
            "http://127.0.0.1:8080",
            "",
        ] {
            assert!(!is_github_issuer(bad), "{bad}");
        }
    }

    #[test]
    fn policies_choose_the_issuer_to_fetch_from() {
        let attacker = Some("https://attacker.example");
        assert!(matches!(
            TrustedIssuers::github().accept(attacker),
            Err(VerifyError::UntrustedIssuer { .. })
        ));
        assert!(matches!(
            TrustedIssuers::github().accept(None),
            Err(VerifyError::NoIssuer)
        ));
        let named = TrustedIssuers::named("https://ghes.example/_services/token").unwrap();
        assert_eq!(
            named.accept(attacker).unwrap(),
            "https://ghes.example/_services/token"
        );
        assert_eq!(
            TrustedIssuers::from_runner().accept(attacker).unwrap(),
            "https://attacker.example"
        );
        assert!(TrustedIssuers::named("http://127.0.0.1:9").is_ok());
        assert!(TrustedIssuers::named("http://localhost:9/x").is_ok());
        assert!(matches!(
            TrustedIssuers::named("http://ghes.example/_services/token"),
            Err(VerifyError::InsecureUrl { .. })
        ));
        assert!(matches!(
            TrustedIssuers::named("ghes.example"),
            Err(VerifyError::InvalidIssuerUrl { .. })
        ));
    }
}
