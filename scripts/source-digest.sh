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

# Two hashing commands, each printing "HASH<space><space or *>PATH" lines: for the source's
# small files the quickest to start (coreutils' sha256sum, else shasum or OpenSSL), and for a
# 4 MB binary, which the resolver hashes on every cached start, the quickest to hash (OpenSSL:
# 8 ms against sha256sum's 18 ms here, where it starts about 5 ms slower).
if command -v sha256sum >/dev/null 2>&1; then
  sha256_tool=(sha256sum)
elif command -v shasum >/dev/null 2>&1; then
  sha256_tool=(shasum -a 256)
elif command -v openssl >/dev/null 2>&1; then
  sha256_tool=(openssl dgst -sha256 -r)
else
  echo "error: none of sha256sum, shasum or openssl is installed" >&2
  exit 2
fi
if command -v openssl >/dev/null 2>&1; then
  sha256_big_tool=(openssl dgst -sha256 -r)
else
  sha256_big_tool=("${sha256_tool[@]}")
fi

# sha256 of standard input as 64 hex digits.
sha256_stdin() {
  local line
  line="$("${sha256_tool[@]}")"
  printf '%s\n' "${line%% *}"
}

# sha256 of one (large) file as 64 hex digits.
sha256_file() {
  local line
  line="$("${sha256_big_tool[@]}" "$1")"
  printf '%s\n' "${line%% *}"
}

source_digest() {
  local root="$1"
  (
    cd "${root}"
    # Paths are listed relative to the root, so the digest does not depend on where the
    # action was unpacked; one hashing process for all files keeps this in milliseconds. The
    # listing is normalised to sha256sum's "HASH  PATH" whatever the tool.
    { printf '%s\n' Cargo.toml Cargo.lock; find src -type f; } | LC_ALL=C sort | tr '\n' '\0' |
      xargs -0 "${sha256_tool[@]}" | sed -E 's/^([0-9a-f]{64}) [ *]?/\1  /'
  ) | sha256_stdin
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  source_digest "${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
fi
