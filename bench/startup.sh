#!/usr/bin/env bash
# Start-up cost of the composite action (action.yml), from the start of its first step to the
# binary's exit, in one hyperfine run beside the bare binary and the Node @actions/core peer,
# all against the loopback OIDC provider (examples/provider.rs) doing the whole job (token
# request, signature verification with the provider's keys, subject check, outputs, summary):
#   - bare binary: the binary alone (what a runner step costs once the binary is there);
#   - composite, cached: scripts/resolve-binary.sh finds the binary in the tool cache and
#     verifies its SHA-256 again, then the binary runs;
#   - composite, download: the tool cache is emptied before each run, so the resolver downloads
#     the pinned asset from a loopback release server (python3 -m http.server), verifies it and
#     installs it, then the binary runs;
#   - node @actions/core: getIDToken + setOutput (bench/id-token.mjs).
# Then, once, today's alternative it replaces: the cold compile that `image: Dockerfile` made
# every job pay (the Dockerfile's `action` profile in an empty target directory; no Docker
# engine needed, the image pull is not counted). SKIP_COLD_BUILD=1 skips it.
#
# The two composite steps are run as the runner runs them: `bash --noprofile --norc -eo
# pipefail` on the step's script, the resolver's GITHUB_OUTPUT read back for the path.
#
# Usage: bash bench/startup.sh [RUNS]   (default 100; from anywhere)
set -euo pipefail

runs="${1:-100}"

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/common.sh
source bench/common.sh

ensure_tools
ensure_node_peer

log "building the binary (release profile, as published) and the provider"
cargo build --locked --release --bin oidc-preflight
cargo build --locked --profile action --example provider
binary="${work}/oidc-preflight"
cp "${target_dir}/release/oidc-preflight" "${binary}"

# An unpacked copy of the action whose manifest pins this binary, as a release's would.
action="${work}/action"
mkdir -p "${action}/dist" "${work}/assets/v0.0.0-bench" "${work}/toolcache"
cp -R src scripts Cargo.toml Cargo.lock action.yml "${action}/"
case "$(uname -m)" in
  aarch64 | arm64) platform_target=aarch64-unknown-linux-musl arch=ARM64 ;;
  *) platform_target=x86_64-unknown-linux-musl arch=X64 ;;
esac
asset="oidc-preflight-${platform_target}"
cp "${binary}" "${work}/assets/v0.0.0-bench/${asset}"
{
  echo "version 0.0.0-bench"
  echo "source-sha256 $(bash scripts/source-digest.sh "${action}")"
  echo "asset ${platform_target} ${asset} $(sha256sum "${binary}" | cut -d' ' -f1)"
} >"${action}/dist/manifest.txt"

log "starting the loopback release server"
port_file="${work}/release-port"
python3 - "${work}/assets" "${port_file}" <<'PY' &
import functools, http.server, os, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
handler = functools.partial(Quiet, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
open(sys.argv[2] + ".tmp", "w").write(str(server.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
PY
background_pids+=($!)
wait_for_file "${port_file}" "$!"
release_base="http://127.0.0.1:$(cat "${port_file}")"

start_provider

# The composite action's two steps, as the runner runs them.
step_env=("RUNNER_OS=Linux" "RUNNER_ARCH=${arch}" "RUNNER_TOOL_CACHE=${work}/toolcache"
  "GITHUB_ACTION_PATH=${action}" "OIDC_PREFLIGHT_TEST_DOWNLOAD_BASE=${release_base}")
cat >"${work}/composite.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
export ${step_env[*]}
: >"${work}/resolver-output"
GITHUB_OUTPUT="${work}/resolver-output" bash --noprofile --norc -eo pipefail "${action}/scripts/resolve-binary.sh" 2>/dev/null
bin="\$(sed -n 's/^path=//p' "${work}/resolver-output")"
exec bash --noprofile --norc -eo pipefail -c '"\$0"' "\${bin}"
EOF
chmod +x "${work}/composite.sh"
composite="${work}/composite.sh"

log "checking that every command does its job"
check_action_run "${binary}"
rm -rf "${work}/toolcache/oidc-preflight"
check_action_run "${composite}"
grep -q '^source=download$' "${work}/resolver-output" || { log "error: the first composite run did not download"; exit 1; }
check_action_run "${composite}"
grep -q '^source=cache$' "${work}/resolver-output" || { log "error: the second composite run did not use the cache"; exit 1; }

log "timing (${runs} runs each, 5 warm-up runs)"
# One --prepare per command, in order (a single one would apply to every command).
"${run_env[@]}" hyperfine -N --warmup 5 --runs "${runs}" --export-json "${work}/times.json" \
  --prepare true --prepare true --prepare "rm -rf ${work}/toolcache/oidc-preflight" --prepare true \
  --command-name "bare binary" "${binary}" \
  --command-name "composite, cached" "${composite}" \
  --command-name "composite, download" "${composite}" \
  --command-name "node @actions/core" "$(command -v node) ${repo_root}/bench/id-token.mjs"

cold=""
if [[ "${SKIP_COLD_BUILD:-}" != 1 ]]; then
  log "cold compile of the Dockerfile's profile (what image: Dockerfile cost every job)"
  started=$(date +%s.%N)
  CARGO_TARGET_DIR="${work}/cold-target" cargo build --locked --profile action --bin oidc-preflight --quiet
  cold=$(echo "$(date +%s.%N) - ${started}" | bc)
fi

python3 - "${work}/times.json" "${cold}" <<'PY'
import json, statistics, sys
results = json.load(open(sys.argv[1]))["results"]
bare = statistics.median(results[0]["times"])
print()
print("| path | median | mean ± σ | min | max | over the bare binary |")
print("|---|---|---|---|---|---|")
for r in results:
    ms = [t * 1000 for t in r["times"]]
    median = statistics.median(ms)
    print(f"| {r['command']} | {median:.1f} ms | {statistics.mean(ms):.1f} ± {statistics.stdev(ms):.1f} ms"
          f" | {min(ms):.1f} ms | {max(ms):.1f} ms | +{max(0.0, median - bare * 1000):.1f} ms |")
if sys.argv[2]:
    print(f"| cold compile, Dockerfile profile `action` (once) | {float(sys.argv[2]):.1f} s | | | | |")
PY
