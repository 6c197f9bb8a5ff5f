//! The token's time claims against the clock: one set of rules, read by the verifier (which
//! refuses a token) and by the analysis (which explains it). Saturating arithmetic throughout:
//! the values are untrusted and may be anything an i64 holds.

use crate::claims::Claims;

/// The system clock, in seconds since the epoch: the one place it is read. The binary passes
/// it to the run (which reads it when the token arrives, not before the retries); a
/// [`crate::Verifier`] without `VerifyOptions::now` reads it when it verifies.
pub fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The clock tolerance the analysis allows, as the clouds do: a token that expires within it
/// draws a warning, an `nbf` or `iat` ahead by more than it an error or a skew warning.
pub const LEEWAY: i64 = 60;

/// What the time claims say, measured against now. Facts, not verdicts: whether one refuses
/// the token depends on the tolerance ([`TimeFact::refuses`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFact {
    /// The claim is there but not a number of seconds since the epoch (RFC 7519's NumericDate).
    NotANumber {
        /// `exp`, `nbf` or `iat`.
        claim: &'static str,
    },
    /// Now is at or after `exp` (RFC 7519 4.1.4: the token must not be accepted from then).
    Expired {
        /// The claim.
        exp: i64,
        /// Seconds since it.
        ago: i64,
    },
    /// `exp` is less than [`LEEWAY`] away.
    ExpiresSoon {
        /// Seconds left.
        left: i64,
    },
    /// `nbf` or `iat` is after now (RFC 7519 4.1.5: not to be accepted before `nbf`).
    InFuture {
        /// `nbf` or `iat`.
        claim: &'static str,
        /// The claim.
        at: i64,
        /// Seconds ahead of now.
        ahead: i64,
    },
    /// `iat` is more than [`LEEWAY`] before now: for a token requested just now, the clocks
    /// disagree.
    IssuedEarlier {
        /// The claim.
        iat: i64,
        /// Seconds before now.
        behind: i64,
    },
}

impl TimeFact {
    /// Whether a verifier that tolerates `leeway` seconds of clock difference refuses the
    /// token for this (jsonwebtoken's rule, and the clouds': expired when `exp < now - leeway`,
    /// not yet valid when `nbf > now + leeway`; `iat` in the future is refused likewise).
    pub fn refuses(&self, leeway: i64) -> bool {
        match *self {
            TimeFact::NotANumber { .. } => true,
            // A distance that saturated is beyond any tolerance, however large.
            TimeFact::Expired { ago, .. } => ago > leeway || ago == i64::MAX,
            TimeFact::InFuture { ahead, .. } => ahead > leeway || ahead == i64::MAX,
            TimeFact::ExpiresSoon { .. } | TimeFact::IssuedEarlier { .. } => false,
        }
    }
}

/// The facts about `exp`, `nbf` and `iat` at `now`, in that order.
pub fn facts(claims: &Claims, now: i64) -> Vec<TimeFact> {
    let mut facts = Vec::new();
    for claim in ["exp", "nbf", "iat"] {
        // A time claim that is there but not a number would otherwise be skipped below, and a
        // token with `exp: "tomorrow"` would pass; every consumer rejects it.
        let present = claims.get(claim).is_some_and(|v| !v.is_null());
        let Some(at) = claims.timestamp(claim) else {
            if present {
                facts.push(TimeFact::NotANumber { claim });
            }
            continue;
        };
        let ahead = at.saturating_sub(now);
        match claim {
            "exp" if ahead <= 0 => facts.push(TimeFact::Expired {
                exp: at,
                ago: now.saturating_sub(at),
            }),
            "exp" if ahead < LEEWAY => facts.push(TimeFact::ExpiresSoon { left: ahead }),
            "exp" => {}
            _ if ahead > 0 => facts.push(TimeFact::InFuture { claim, at, ahead }),
            "iat" if ahead < -LEEWAY => facts.push(TimeFact::IssuedEarlier {
                iat: at,
                behind: now.saturating_sub(at),
            }),
            _ => {}
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: serde_json::Value) -> Claims {
        Claims::from(v.as_object().unwrap().clone())
    }

    #[test]
    fn facts_in_claim_order_with_the_boundaries() {
        let now = 1_700_000_000;
        assert_eq!(
            facts(
                &claims(json!({"exp": now, "nbf": now + 1, "iat": now - 61})),
                now
            ),
            [
                TimeFact::Expired { exp: now, ago: 0 },
                TimeFact::InFuture {
                    claim: "nbf",
                    at: now + 1,
                    ahead: 1
                },
                TimeFact::IssuedEarlier {
                    iat: now - 61,
                    behind: 61
                },
            ]
        );
        assert_eq!(
            facts(&claims(json!({"exp": now + 59, "iat": now - 60})), now),
            [TimeFact::ExpiresSoon { left: 59 }]
        );
        assert!(facts(
            &claims(json!({"exp": now + 60, "nbf": now, "iat": now})),
            now
        )
        .is_empty());
        assert_eq!(
            facts(&claims(json!({"exp": "tomorrow", "iat": null})), now),
            [TimeFact::NotANumber { claim: "exp" }]
        );
    }

    #[test]
    fn the_tolerance_decides_what_refuses() {
        let expired = TimeFact::Expired { exp: 0, ago: 60 };
        assert!(!expired.refuses(60));
        assert!(expired.refuses(59));
        assert!(TimeFact::NotANumber { claim: "iat" }.refuses(i64::MAX));
        assert!(!TimeFact::ExpiresSoon { left: 1 }.refuses(0));
    }

    #[test]
    fn hostile_extremes_do_not_overflow() {
        let f = facts(&claims(json!({"exp": i64::MIN, "iat": i64::MAX})), i64::MAX);
        assert!(matches!(f[0], TimeFact::Expired { .. }), "{f:?}");
        let f = facts(&claims(json!({"exp": i64::MAX, "nbf": i64::MIN})), i64::MIN);
        assert!(f.is_empty(), "{f:?}");
    }
}
