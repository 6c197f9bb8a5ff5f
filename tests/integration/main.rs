//! Integration tests: one binary, one module per area.
// Tests and examples may unwrap and print (Cargo.toml's [lints] are for library code).
#![allow(
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

#[path = "../support/composite.rs"]
mod composite;
#[path = "../support/provider.rs"]
mod provider;
#[path = "../support/runner.rs"]
mod runner;

mod action;
mod binary;
mod bounded;
mod cli;
mod common;
mod faults;
mod hostile;
mod inputs;
mod layers;
mod properties;
mod record;
mod rendered;
mod resolver;
mod scenarios;
