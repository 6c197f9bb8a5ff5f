//! Integration tests: one binary, one module per area.
// Tests and examples may unwrap and print (Cargo.toml's [lints] are for library code).
#![allow(
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

#[cfg(unix)]
#[path = "../support/composite.rs"]
mod composite;
#[path = "../support/provider.rs"]
mod provider;
#[path = "../support/runner.rs"]
mod runner;

mod action;
mod audit;
mod binary;
mod bounded;
mod cli;
mod common;
mod differential;
mod docs;
mod faults;
mod hostile;
mod inputs;
mod layers;
mod properties;
mod record;
mod reference;
mod rendered;
// The resolver's tests run bash, sha256sum and Unix permissions.
#[cfg(unix)]
mod resolver;
mod scenarios;
