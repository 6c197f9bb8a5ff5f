#!/usr/bin/env bash
# Run time of the binary per optimization level, to choose the Dockerfile's profile: the
# `action` profile with opt-level 0, 1, 2, 3 and "s" (and per-package overrides, below), and
# the `release` profile. Timed
# against the loopback provider over plain HTTP (as bench/compare.sh), then with the token
# request over TLS through a loopback HTTPS front (bench/tls-proxy.py) whose CA is added to
# the system roots, because real runs pay TLS handshakes to GitHub, in code whose speed
# depends on the optimization level.
#
# Each variant builds into its own directory under $CARGO_TARGET_DIR/bench-variants, so a
# second run rebuilds nothing.
#
# Usage: bash bench/runtime-by-profile.sh [RUNS]   RUNS timed runs per binary (default 100)
set -euo pipefail

runs="${1:-100}"

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/common.sh
source bench/common.sh
ensure_tools

# NAME:OPT-LEVEL[:PACKAGE=LEVEL,...]: the `action` profile with that opt-level, and per-package
# overrides (passed as --config profile.action.package.PACKAGE.opt-level=LEVEL).
variants=(
  "opt-level 0:0"
  "opt-level 0, rustls-pki-types 3:0:rustls-pki-types=3"
  "opt-level 1:1"
  "opt-level 1, rustls and clap_builder 0:1:rustls=0,clap_builder=0"
  "opt-level 2:2"
  "opt-level 3:3"
  "opt-level s:s"
)
names=() binaries=()
for variant in "${variants[@]}"; do
  IFS=: read -r name level overrides <<<"${variant}"
  config=()
  IFS=, read -ra packages <<<"${overrides}"
  for package in "${packages[@]}"; do
    config+=(--config "profile.action.package.${package%%=*}.opt-level=${package#*=}")
  done
  dir="${target_dir}/bench-variants/${name//[ ,]/}"
  log "building profile action, ${name}"
  CARGO_TARGET_DIR="${dir}" CARGO_PROFILE_ACTION_OPT_LEVEL="${level}" \
    cargo build --quiet --locked --profile action --bin oidc-preflight "${config[@]}"
  names+=("action, ${name}")
  binaries+=("${dir}/action/oidc-preflight")
done
log "building profile release, and the provider"
cargo build --quiet --locked --release --bin oidc-preflight
cargo build --quiet --locked --profile action --example provider
names+=("release")
binaries+=("${target_dir}/release/oidc-preflight")

start_provider
for bin in "${binaries[@]}"; do
  check_action_run "${bin}"
done

time_all() {
  local label="$1" i
  local args=(-N --warmup 5 --runs "${runs}" --export-json "${work}/${label}.json" --style basic)
  for i in "${!binaries[@]}"; do
    args+=(--command-name "${names[i]}" "${binaries[i]}")
  done
  log "timing over ${label} (${runs} runs each)"
  "${run_env[@]}" hyperfine "${args[@]}" >/dev/null
}
time_all http

# A throwaway CA and a certificate for 127.0.0.1, trusted through SSL_CERT_FILE: the system
# bundle plus this CA, so the client still loads every system root as it does on a runner.
log "starting the HTTPS front"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=bench-ca \
  -keyout "${work}/ca.key" -out "${work}/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
  -keyout "${work}/leaf.key" -out "${work}/leaf.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
  >"${work}/leaf.ext"
openssl x509 -req -in "${work}/leaf.csr" -CA "${work}/ca.pem" -CAkey "${work}/ca.key" \
  -CAcreateserial -days 1 -extfile "${work}/leaf.ext" -out "${work}/leaf.pem" 2>/dev/null
cat /etc/ssl/certs/ca-certificates.crt "${work}/ca.pem" >"${work}/roots.pem"
upstream="${ACTIONS_ID_TOKEN_REQUEST_URL%%/_apis/*}"
python3 bench/tls-proxy.py "${work}/leaf.pem" "${work}/leaf.key" "${upstream}" "${work}/tls.port" &
background_pids+=($!)
wait_for_file "${work}/tls.port" "$!"
tls_port="$(cat "${work}/tls.port")"
ssl_cert_file="${work}/roots.pem"
request_url="https://127.0.0.1:${tls_port}/${ACTIONS_ID_TOKEN_REQUEST_URL#*://*/}"
set_run_env
for bin in "${binaries[@]}"; do
  check_action_run "${bin}"
done
time_all tls

python3 - "${work}" <<'PY'
import json, statistics, sys

work = sys.argv[1]
http = json.load(open(f"{work}/http.json"))["results"]
tls = json.load(open(f"{work}/tls.json"))["results"]
print()
print("| binary | median, HTTP | median, token over TLS | TLS costs |")
print("|---|---|---|---|")
for h, t in zip(http, tls):
    mh, mt = (statistics.median(r["times"]) * 1000 for r in (h, t))
    print(f"| {h['command']} | {mh:.1f} ms | {mt:.1f} ms | {mt - mh:+.1f} ms |")
PY
