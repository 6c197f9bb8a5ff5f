# shellcheck shell=bash
# Shared by the bench scripts (sourced, not run): tools, the loopback provider, the runner's
# environment. Expects `set -euo pipefail` and the repository root as the working directory.

repo_root="${PWD}"
target_dir="${CARGO_TARGET_DIR:-${repo_root}/target}"
audience="sts.amazonaws.com"

log() {
  printf '==> %s\n' "$*" >&2
}

as_root() {
  if ((EUID == 0)); then
    "$@"
  else
    sudo "$@"
  fi
}

apt_updated=false
apt_install() {
  if ! ${apt_updated}; then
    as_root apt-get update -qq
    apt_updated=true
  fi
  as_root apt-get install -y -qq --no-install-recommends "$@"
}

# hyperfine and GNU time from Debian when missing.
ensure_tools() {
  command -v hyperfine >/dev/null || apt_install hyperfine
  [[ -x /usr/bin/time ]] || apt_install time
}

# A scratch directory and the background processes to stop, cleaned up on exit.
work="$(mktemp -d)"
background_pids=()
cleanup() {
  local pid
  for pid in "${background_pids[@]}"; do
    kill "${pid}" 2>/dev/null || true
    wait "${pid}" 2>/dev/null || true
  done
  rm -rf "${work}"
}
trap cleanup EXIT

# Waits until FILE exists, as long as process PID runs (at most 30 s).
wait_for_file() {
  local file="$1" pid="$2"
  for _ in $(seq 300); do
    [[ -f "${file}" ]] && return 0
    kill -0 "${pid}" 2>/dev/null || { log "error: process ${pid} exited"; exit 1; }
    sleep 0.1
  done
  log "error: ${file} did not appear"
  exit 1
}

# Starts examples/provider.rs (built with --profile action) in the background and reads the runner's
# variables it prints, then sets run_env (see set_run_env).
start_provider() {
  "${target_dir}/action/examples/provider" --env-file "${work}/provider.env" &
  background_pids+=($!)
  wait_for_file "${work}/provider.env" "$!"
  # shellcheck disable=SC1091
  source "${work}/provider.env"
  request_url="${ACTIONS_ID_TOKEN_REQUEST_URL}"
  ssl_cert_file=/etc/ssl/certs/ca-certificates.crt
  # Node's setOutput requires GITHUB_OUTPUT to exist already.
  touch "${work}/output" "${work}/summary"
  set_run_env
}

# run_env: env(1) with a clean environment holding only what a runner gives a container
# step, so nothing from this machine (SSL_CERT_DIR, NODE_EXTRA_CA_CERTS, ...) changes the
# work done. The roots are the CA bundle file, as in the image (SSL_CERT_FILE). Input names
# keep their hyphen, which `export` could not set.
set_run_env() {
  run_env=(env -i "PATH=${PATH}" "HOME=${HOME}" "SSL_CERT_FILE=${ssl_cert_file}"
    "GITHUB_ACTIONS=true" "GITHUB_OUTPUT=${work}/output" "GITHUB_STEP_SUMMARY=${work}/summary"
    "ACTIONS_ID_TOKEN_REQUEST_URL=${request_url}"
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN=${ACTIONS_ID_TOKEN_REQUEST_TOKEN}"
    "INPUT_AUDIENCE=${audience}" "INPUT_SUBJECT-PATTERN=${OIDC_PROVIDER_SUBJECT}"
    "BENCH_AUDIENCE=${audience}")
}

# Runs the action binary BIN once with run_env and checks that it did the whole job: the
# signature verified with the provider's keys, the subject check passed.
check_action_run() {
  local bin="$1" expected value
  : >"${work}/output"
  if ! "${run_env[@]}" "${bin}" >"${work}/log" 2>&1; then
    cat "${work}/log" >&2
    log "error: ${bin} failed"
    exit 1
  fi
  for expected in signature:valid matched:true; do
    value="$(grep -A1 "^${expected%%:*}<<" "${work}/output" | tail -n1)"
    if [[ "${value}" != "${expected#*:}" ]]; then
      log "error: ${bin}: output ${expected%%:*} is '${value}'"
      exit 1
    fi
  done
}

median() {
  sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Node and @actions/core for the JavaScript peer (bench/id-token.mjs), from the committed lock
# file into bench/node_modules.
ensure_node_peer() {
  command -v node >/dev/null || { log "error: node not found (Node 20 or later)"; exit 2; }
  if [[ ! bench/node_modules/.package-lock.json -nt bench/package-lock.json ]]; then
    log "installing @actions/core into bench/node_modules"
    (cd bench && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
