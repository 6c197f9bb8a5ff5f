//! Integration tests: one binary, one module per area.

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
mod properties;
mod record;
mod rendered;
mod resolver;
mod scenarios;
