//! oidc-preflight: fetch the GitHub Actions OIDC token, mask it, decode it, and check it
//! against what the cloud will accept, before the deploy step fails.
//!
//! The binary runs the action. The library is for services that receive GitHub Actions
//! tokens: decode, verify against trusted issuers only ([`Verifier`], [`TrustedIssuers`]),
//! evaluate a trust document as its cloud would ([`Policy`]), and analyse the claims against
//! expectations ([`analyze`]); `examples/receiver.rs` puts them together.
//!
//! ```
//! use oidc_preflight::{decode, Policy};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A token's claims (header {"alg":"none"}: decoding does not verify; see Verifier).
//! let token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJyZXBvOm9jdG8vYXBwOnB1bGxfcmVxdWVzdCIsImF1ZCI6InN0cy5hbWF6b25hd3MuY29tIiwiaXNzIjoiaHR0cHM6Ly90b2tlbi5hY3Rpb25zLmdpdGh1YnVzZXJjb250ZW50LmNvbSJ9.";
//! let decoded = decode(token)?;
//! let policy = Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
//!   "Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
//!   "Action":"sts:AssumeRoleWithWebIdentity",
//!   "Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:octo/app:ref:refs/heads/*"}}}]}"#, None)?;
//! let report = policy.evaluate(&decoded.claims);
//! // A pull_request token is not a branch: IAM would refuse it.
//! assert!(!report.allowed);
//! # Ok(())
//! # }
//! ```
//!
//! # Layers
//!
//! A module may use only modules of lower layers (`tests/integration/layers.rs` reads the
//! sources and fails on any other `crate::` use, so there are no import cycles):
//!
//! | layer | modules | what they are |
//! |---|---|---|
//! | 0 | `random`, `secret`, `files`, `pattern`, `claims` | primitives: no other module |
//! | 1 | `commands`, `outputs`, `subject`, `request`, `times` | workflow commands, output files, `sub` forms, HTTP, the time claims' rules |
//! | 2 | `findings`, `verify` | the finding model; signature verification |
//! | 3 | `consumer` | one module per consumer: audiences, limits, snippets, rules |
//! | 4 | `policy`, `plan` | trust document evaluators; what the user asked to check |
//! | 5 | `snippets` | ready-to-paste policy fragments |
//! | 6 | `diagnose` | the checks, producing the analysis |
//! | 7 | `trust`, `report` | trust documents into findings; the finished report |
//! | 8 | `sink` | what each reader gets from the report: log, annotations, summary, outputs, JSON |
//! | 9 | `config` | the environment snapshot and the action's configuration |
//! | 10 | `error` | the error every path reports |
//! | 11 | `action`, `cli` | the action; the command line's definition |
//! | 12 | `offline` | `check` and `predict` |
//! | 13 | `app` | dispatch |
#![forbid(unsafe_code)]
// Cargo.toml's [lints] deny unwrap, expect and printing in library code; unit tests may.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

// The library a receiving service uses is what is re-exported below; the other modules are
// the action's and the command line's plumbing, public only for the binary and the tests, and
// hidden from the documentation.
mod action;
#[doc(hidden)]
pub mod app;
#[doc(hidden)]
pub mod claims;
#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod commands;
#[doc(hidden)]
pub mod config;
#[doc(hidden)]
pub mod consumer;
#[doc(hidden)]
pub mod diagnose;
#[doc(hidden)]
pub mod error;
#[doc(hidden)]
pub mod files;
#[doc(hidden)]
pub mod findings;
#[doc(hidden)]
pub mod offline;
#[doc(hidden)]
pub mod outputs;
#[doc(hidden)]
pub mod pattern;
#[doc(hidden)]
pub mod plan;
#[doc(hidden)]
pub mod policy;
mod random;
#[doc(hidden)]
pub mod report;
#[doc(hidden)]
pub mod request;
#[doc(hidden)]
pub mod secret;
#[doc(hidden)]
pub mod sink;
#[doc(hidden)]
pub mod snippets;
#[doc(hidden)]
pub mod subject;
#[doc(hidden)]
pub mod times;
#[doc(hidden)]
pub mod trust;
#[doc(hidden)]
pub mod verify;

// The receiver's API: decode, verify against trusted issuers, evaluate a trust document,
// analyse the claims.
pub use claims::{decode, Claims, DecodedToken};
pub use diagnose::{analyze, Analysis, Clock};
pub use findings::{Finding, FindingId, Severity};
pub use plan::Expectations;
pub use policy::{Policy, PolicyError, PolicyFormat, PolicyReport, Reason};
pub use secret::Secret;
pub use verify::{TrustedIssuers, Verified, Verifier, VerifyError, VerifyOptions};

// For the binary and the tests. Keys given rather than discovered are
// `verify::{Jwks, KeySource}`: a receiver fetches its issuer's keys.
#[doc(hidden)]
pub use action::run_action;
#[doc(hidden)]
pub use config::{ActionConfig, Env};
#[doc(hidden)]
pub use diagnose::describe_signature;
#[doc(hidden)]
pub use error::{Error, ExitStatus};
#[doc(hidden)]
pub use verify::{Jwks, KeySource, SignatureStatus};
