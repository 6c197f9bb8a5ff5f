#!/usr/bin/env bash
# The SHA-256 digest of the source that a release binary is built from: Cargo.toml, Cargo.lock
# and every file under src/, in byte order of their paths: the SHA-256 of the `sha256sum` listing
# of those files. (A Windows checkout with autocrlf digests differently, so `uses: ./` there
# builds from source, which is what an unreleased checkout does anyway.)
#
# The release workflow writes it into dist/manifest.txt; scripts/resolve-binary.sh recomputes it
# from the action's own tree and downloads the pinned binary only when the two agree, so an
# action used at `@main`, a branch or `uses: ./` never runs a binary built from other source.
#
# Usage: bash scripts/source-digest.sh [DIR]   (DIR defaults to the repository root)
# Prints the 64-hex-digit digest. Runs under bash 3.2 (macOS) and Git Bash on Windows.
set -euo pipefail

# sha256 of standard input as 64 hex digits, with whichever tool the system has.
sha256_stdin() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 | cut -d' ' -f1
  else
    echo "error: neither sha256sum nor shasum is installed" >&2
    return 2
  fi
}

source_digest() {
  local root="$1" hasher
  if command -v sha256sum >/dev/null 2>&1; then
    hasher="sha256sum"
  else
    hasher="shasum -a 256"
  fi
  (
    cd "${root}"
    # Paths are listed relative to the root, so the digest does not depend on where the
    # action was unpacked; one hashing process for all files keeps this in milliseconds.
    # shellcheck disable=SC2086 # ${hasher} is a command and its arguments
    { printf '%s\n' Cargo.toml Cargo.lock; find src -type f; } | LC_ALL=C sort | tr '\n' '\0' |
      xargs -0 ${hasher}
  ) | sha256_stdin
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  source_digest "${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
fi
