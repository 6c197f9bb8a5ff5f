#!/usr/bin/env bash
# Whole-process run of the action against a loopback OIDC provider (request, decode, checks,
# signature verification with the provider's keys, outputs, job summary), timed side by side
# with what a JavaScript action does (@actions/core getIDToken, then setOutput) against the
# same provider, then the peak RSS of each.
#
# Installs what it needs: hyperfine and GNU time from Debian (apt-get) if missing,
# @actions/core from npm into bench/node_modules (`npm ci`, from the committed lock file).
# Builds the binary with the Dockerfile's profile (`action`) and with `release` (the
# published image and binaries), and the provider (examples/provider.rs), which runs in the
# background until the script exits.
#
# Usage: bash bench/compare.sh [RUNS]     RUNS timed runs per command (default 200)
#        RSS_RUNS=N                        runs per command for peak RSS (default 15)
#        CARGO_TARGET_DIR                  honoured (default: target/)
set -euo pipefail

runs="${1:-200}"
rss_runs="${RSS_RUNS:-15}"

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/common.sh
source bench/common.sh

ensure_tools
ensure_node_peer

log "building the binary (profiles action and release) and the provider"
cargo build --locked --profile action --bin oidc-preflight --example provider
cargo build --locked --release --bin oidc-preflight
cp "${target_dir}/action/oidc-preflight" "${work}/oidc-preflight-action"
cp "${target_dir}/release/oidc-preflight" "${work}/oidc-preflight-release"

start_provider

names=("oidc-preflight (profile action)" "oidc-preflight (profile release)" "node @actions/core")
commands=("${work}/oidc-preflight-action" "${work}/oidc-preflight-release"
  "$(command -v node) ${repo_root}/bench/id-token.mjs")

log "checking that every command does its job"
check_action_run "${commands[0]}"
check_action_run "${commands[1]}"
: >"${work}/output"
# shellcheck disable=SC2086 # split on purpose, as hyperfine -N does
"${run_env[@]}" ${commands[2]} >/dev/null
grep -q '^token<<' "${work}/output" || { log "error: Node wrote no token output"; exit 1; }

log "timing (${runs} runs each, 10 warm-up runs)"
hyperfine_args=(-N --warmup 10 --runs "${runs}" --export-json "${work}/times.json")
for i in "${!commands[@]}"; do
  hyperfine_args+=(--command-name "${names[i]}" "${commands[i]}")
done
"${run_env[@]}" hyperfine "${hyperfine_args[@]}"

log "peak RSS (${rss_runs} runs each, /usr/bin/time -v)"
for i in "${!commands[@]}"; do
  for _ in $(seq "${rss_runs}"); do
    # shellcheck disable=SC2086
    "${run_env[@]}" /usr/bin/time -v -o "${work}/time.txt" ${commands[i]} >/dev/null 2>&1
    awk -F': ' '/Maximum resident set size/ { print $2 }' "${work}/time.txt"
  done >"${work}/rss.${i}"
done

python3 - "${work}" "${names[@]}" <<'PY'
import json, statistics, sys

work, names = sys.argv[1], sys.argv[2:]
results = json.load(open(f"{work}/times.json"))["results"]
node = statistics.median(results[-1]["times"])
print()
print("| command | median | mean ± σ | min | max | peak RSS median (max) | Node median ÷ this |")
print("|---|---|---|---|---|---|---|")
for i, (name, r) in enumerate(zip(names, results)):
    ms = [t * 1000 for t in r["times"]]
    rss = [int(line) / 1024 for line in open(f"{work}/rss.{i}") if line.strip()]
    median = statistics.median(ms)
    print(
        f"| {name} | {median:.1f} ms | {statistics.mean(ms):.1f} ± {statistics.stdev(ms):.1f} ms"
        f" | {min(ms):.1f} ms | {max(ms):.1f} ms"
        f" | {statistics.median(rss):.1f} MiB ({max(rss):.1f} MiB) | {node * 1000 / median:.1f}× |"
    )
PY
