//! oidc-preflight: fetch the GitHub Actions OIDC token, mask it, decode it, and check it
//! against what the cloud will accept, before the deploy step fails.
//!
//! The binary runs the action; the pieces are usable on their own:
//!
//! ```
//! use oidc_preflight::{claims, pattern::PatternSet};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A token from a failed run (header {"alg":"none"}, claims {"sub": ...}).
//! let token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJyZXBvOm9jdG8vYXBwOnB1bGxfcmVxdWVzdCJ9.";
//! let decoded = claims::decode(token)?;
//! let patterns = PatternSet::from_lines("repo:octo/app:ref:refs/heads/*\nrepo:octo/app:pull_request");
//! assert_eq!(patterns.first_match(decoded.claims.subject().unwrap()), Some("repo:octo/app:pull_request"));
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
//! | 1 | `commands`, `outputs`, `subject`, `request` | workflow commands, output files, `sub` forms, HTTP |
//! | 2 | `findings`, `verify` | the finding model; signature verification |
//! | 3 | `consumer` | one module per consumer: audiences, limits, snippets, rules |
//! | 4 | `policy`, `plan` | trust document evaluators; what the user asked to check |
//! | 5 | `snippets` | ready-to-paste policy fragments |
//! | 6 | `diagnose` | the checks, producing the analysis |
//! | 7 | `trust`, `report`, `summary` | trust documents into findings; the log and summary sinks |
//! | 8 | `config` | the environment snapshot and the action's configuration |
//! | 9 | `error` | the error every path reports |
//! | 10 | `action`, `cli` | the action; the command line's definition |
//! | 11 | `offline` | `check` and `predict` |
//! | 12 | `app` | dispatch |
#![forbid(unsafe_code)]
// Cargo.toml's [lints] deny unwrap, expect and printing in library code; unit tests may.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

mod action;
pub mod app;
pub mod claims;
pub mod cli;
pub mod commands;
pub mod config;
pub mod consumer;
pub mod diagnose;
pub mod error;
pub mod files;
pub mod findings;
pub mod offline;
pub mod outputs;
pub mod pattern;
pub mod plan;
pub mod policy;
mod random;
pub mod report;
pub mod request;
pub mod secret;
pub mod snippets;
pub mod subject;
pub mod summary;
pub mod trust;
pub mod verify;

pub use action::{describe_signature, output_values, report_error, run_action, write_annotations};
pub use config::{ActionConfig, Env};
pub use error::{Error, ExitStatus};
pub use secret::Secret;
