#!/usr/bin/env bash
# Finds the oidc-preflight binary for the composite action (action.yml), in this order:
#   1. the `binary` input: a binary already on the runner (GHES without github.com, air-gapped
#      self-hosted runners); used as given, never replaced by a download;
#   2. the runner's tool cache, checksum verified again before every use;
#   3. the release asset for this OS and architecture, from the release that dist/manifest.txt
#      names, verified against the SHA-256 the same manifest pins before it is made executable;
#   4. when this commit of the action is not that release (@main, a branch, `uses: ./`: the
#      manifest's source digest differs from this tree's), or the download failed, a build from
#      the action's own source with cargo, cached for later jobs on the same runner;
#   5. otherwise an error that lists the ways to provide the binary.
# The version is read from the manifest, never from `github.action_ref`: that is empty inside
# composite steps (actions/runner#2473) and a commit SHA when users pin one.
#
# Writes `path=<binary>` and `source=<input|cache|download|build>` to $GITHUB_OUTPUT (to
# standard output when that is unset). Progress goes to standard error.
# Exit status: 0 found; 1 nothing usable; 2 bad configuration (input, platform, manifest).
#
# Environment: OIDC_PREFLIGHT_BINARY (the `binary` input), RUNNER_OS, RUNNER_ARCH,
# RUNNER_TOOL_CACHE, GITHUB_ACTION_PATH, GITHUB_OUTPUT. For tests only:
# OIDC_PREFLIGHT_TEST_DOWNLOAD_BASE (https, or http to a loopback address),
# OIDC_PREFLIGHT_TEST_DOWNLOAD_TIMEOUT (seconds per attempt) and OIDC_PREFLIGHT_TEST_BACKOFF.
#
# Portable: bash 3.2 (macOS), Git Bash on Windows, Linux; needs curl only for step 3.
set -euo pipefail

# Nothing here needs the job's OIDC request credentials, and a cargo build runs every locked
# crate's build script and proc macro, and `binary --version` runs a binary the user named:
# none of them may be able to request tokens.
unset ACTIONS_ID_TOKEN_REQUEST_TOKEN ACTIONS_ID_TOKEN_REQUEST_URL

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/source-digest.sh
. "${here}/source-digest.sh"

readonly RELEASES="https://github.com/oidc-preflight/oidc-preflight/releases/download"
readonly SUPPORTED="Linux (X64, ARM64), macOS (X64, ARM64), Windows (X64, ARM64)"
readonly ATTEMPTS=3

log() {
  printf 'oidc-preflight: %s\n' "$*" >&2
}

# An error annotation and a log line; the message is escaped as workflow command data, since
# it can quote a path the user gave.
fail() {
  local status="$1" message="$2" data
  data="${message//'%'/%25}"
  data="${data//$'\r'/%0D}"
  data="${data//$'\n'/%0A}"
  printf '::error title=oidc-preflight could not be started::%s\n' "${data}"
  printf 'error: %s\n' "${message}" >&2
  exit "${status}"
}

unix_path() {
  if command -v cygpath >/dev/null 2>&1; then
    cygpath -u "$1"
  else
    printf '%s\n' "$1"
  fi
}

emit() {
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    printf 'path=%s\nsource=%s\n' "$1" "$2" >>"${GITHUB_OUTPUT}"
  else
    printf 'path=%s\nsource=%s\n' "$1" "$2"
  fi
  log "using $1 ($2)"
  exit 0
}

# ---- where am I --------------------------------------------------------------------------

os="${RUNNER_OS:-}"
arch="${RUNNER_ARCH:-}"
if [[ -z "${os}" ]]; then
  case "$(uname -s)" in
    Linux) os=Linux ;;
    Darwin) os=macOS ;;
    MINGW* | MSYS* | CYGWIN*) os=Windows ;;
    *) os="$(uname -s)" ;;
  esac
fi
if [[ -z "${arch}" ]]; then
  case "$(uname -m)" in
    x86_64 | amd64) arch=X64 ;;
    aarch64 | arm64) arch=ARM64 ;;
    *) arch="$(uname -m)" ;;
  esac
fi
exe=""
case "${os}/${arch}" in
  Linux/X64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-msvc exe=.exe ;;
  Windows/ARM64) target=aarch64-pc-windows-msvc exe=.exe ;;
  *)
    fail 2 "no oidc-preflight binary is built for ${os} ${arch}; supported: ${SUPPORTED}. Build one (cargo install --locked oidc-preflight) and pass its path in the \`binary\` input."
    ;;
esac

# ---- 1. a binary the user named ----------------------------------------------------------

if [[ -n "${OIDC_PREFLIGHT_BINARY:-}" ]]; then
  given="$(unix_path "${OIDC_PREFLIGHT_BINARY}")"
  if [[ ! -f "${given}" ]]; then
    fail 2 "the \`binary\` input names \`${OIDC_PREFLIGHT_BINARY}\`, which is not a file; give the path of an oidc-preflight binary on this runner, or remove the input to download the release"
  fi
  if ! version_line="$("${given}" --version 2>/dev/null)" || [[ "${version_line}" != oidc-preflight\ * ]]; then
    fail 2 "the \`binary\` input names \`${OIDC_PREFLIGHT_BINARY}\`, which does not run as oidc-preflight (\`--version\` failed); give the path of an oidc-preflight binary built for ${os} ${arch}"
  fi
  log "the binary input: ${version_line}"
  emit "${given}" input
fi

# ---- the manifest ------------------------------------------------------------------------

action_path="$(unix_path "${GITHUB_ACTION_PATH:-$(cd "${here}/.." && pwd)}")"
manifest="${action_path}/dist/manifest.txt"
[[ -f "${manifest}" ]] || fail 2 "the action's manifest \`${manifest}\` is missing; the action's files are incomplete"
version="" source_sha="" asset="" asset_sha=""
while read -r key first second third; do
  case "${key}" in
    version) version="${first}" ;;
    source-sha256) source_sha="${first}" ;;
    asset)
      if [[ "${first}" == "${target}" ]]; then
        asset="${second}" asset_sha="${third}"
      fi
      ;;
  esac
done <"${manifest}"

tree_sha="$(source_digest "${action_path}")"
released=false
if [[ -n "${version}" && "${version}" != unreleased && "${source_sha}" == "${tree_sha}" ]]; then
  released=true
  if [[ -z "${asset_sha}" ]]; then
    log "release ${version} has no binary for ${target}"
  fi
else
  log "this commit of the action is not a release (manifest: ${version:-no version}); the source will be built"
fi

cache_root="${RUNNER_TOOL_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}}"
cache_root="$(unix_path "${cache_root}")/oidc-preflight"

# 64 hex digits of a file's SHA-256.
file_sha() {
  sha256_file "$1"
}

# ---- 2. the tool cache --------------------------------------------------------------------

# A cached binary is used only when its bytes still hash to what they must: the manifest's pin
# for a release, the digest recorded next to it for a source build.
cached_binary() {
  local bin="$1" want="$2"
  [[ -f "${bin}" && -n "${want}" ]] || return 1
  if [[ "$(file_sha "${bin}")" == "${want}" ]]; then
    return 0
  fi
  log "the cached ${bin} does not match its checksum; removing it"
  rm -f "${bin}"
  return 1
}

if [[ "${released}" == true && -n "${asset_sha}" ]]; then
  release_dir="${cache_root}/${version}/${target}"
  release_bin="${release_dir}/oidc-preflight${exe}"
  if cached_binary "${release_bin}" "${asset_sha}"; then
    emit "${release_bin}" cache
  fi
fi
build_dir="${cache_root}/source-${tree_sha:0:16}/${target}"
build_bin="${build_dir}/oidc-preflight${exe}"
if [[ -f "${build_bin}.sha256" ]] && cached_binary "${build_bin}" "$(cat "${build_bin}.sha256")"; then
  emit "${build_bin}" cache
fi

# ---- 3. the release asset -----------------------------------------------------------------

# Sets download_base. Not called in $(...): its failure must end the script.
check_download_base() {
  local base="${OIDC_PREFLIGHT_TEST_DOWNLOAD_BASE:-${RELEASES}}"
  # The host is matched whole: `http://127.0.0.1.example.com` and userinfo tricks are not
  # loopback.
  local loopback='^http://(127\.[0-9]+\.[0-9]+\.[0-9]+|localhost|\[::1\])(:[0-9]+)?(/[^@]*)?$'
  if [[ ! "${base}" =~ ^https://[^/@]+(/[^@]*)?$ && ! "${base}" =~ ${loopback} ]]; then
    fail 2 "OIDC_PREFLIGHT_TEST_DOWNLOAD_BASE must be https, or http to a loopback address; got \`${base}\`"
  fi
  download_base="${base%/}"
}

# Downloads to a file that is not executable, checks the pin, and only then makes it
# executable and moves it into place, so a failed, truncated or altered download leaves
# nothing that can run.
download() {
  local url="$1" dest="$2" want="$3" timeout backoff attempt=1 part got
  timeout="${OIDC_PREFLIGHT_TEST_DOWNLOAD_TIMEOUT:-60}"
  backoff="${OIDC_PREFLIGHT_TEST_BACKOFF:-1}"
  if ! command -v curl >/dev/null 2>&1; then
    log "curl is not installed; cannot download ${url}"
    return 1
  fi
  mkdir -p "$(dirname "${dest}")"
  part="${dest}.part.$$"
  while :; do
    rm -f "${part}"
    # --proto: https only (redirects included), except a loopback test server.
    # -q first: no ~/.curlrc (a self-hosted runner's could add --insecure or a proxy).
    if curl -q --fail --silent --show-error --location --proto '=https,http' --proto-redir '=https' \
      --connect-timeout 10 --max-time "${timeout}" --output "${part}" "${url}"; then
      got="$(file_sha "${part}")"
      if [[ "${got}" == "${want}" ]]; then
        # In an `if`, set -e does not apply: a failed install must not report success.
        if chmod 0755 "${part}" && mv -f "${part}" "${dest}"; then
          return 0
        fi
        rm -f "${part}"
        log "could not install ${dest}"
        return 1
      fi
      rm -f "${part}"
      printf '::warning title=oidc-preflight download refused::the release asset does not match the SHA-256 pinned in dist/manifest.txt; it was deleted unrun\n'
      log "refused ${url}: its SHA-256 is ${got}, the manifest pins ${want}"
      return 1
    fi
    rm -f "${part}"
    if ((attempt >= ATTEMPTS)); then
      log "giving up on ${url} after ${ATTEMPTS} attempts"
      return 1
    fi
    log "attempt ${attempt} of ${ATTEMPTS} failed; retrying in $((backoff * attempt)) s"
    sleep "$((backoff * attempt))"
    attempt=$((attempt + 1))
  done
}

if [[ "${released}" == true && -n "${asset_sha}" ]]; then
  check_download_base
  url="${download_base}/v${version}/${asset}"
  log "downloading ${url}"
  if download "${url}" "${release_bin}" "${asset_sha}"; then
    emit "${release_bin}" download
  fi
fi

# ---- 4. a build from the action's source --------------------------------------------------

built_why="cargo is not available to build it"
if command -v cargo >/dev/null 2>&1; then
  built_why="the build from source with cargo failed (its output is above)"
  log "building oidc-preflight from ${action_path} with $(cargo --version 2>/dev/null || echo cargo)"
  target_dir="${cache_root}/build"
  if cargo build --locked --profile action --manifest-path "${action_path}/Cargo.toml" \
    --target-dir "${target_dir}" >&2; then
    built="${target_dir}/action/oidc-preflight${exe}"
    if [[ -f "${built}" ]]; then
      mkdir -p "${build_dir}"
      cp -f "${built}" "${build_bin}.part.$$"
      chmod 0755 "${build_bin}.part.$$"
      mv -f "${build_bin}.part.$$" "${build_bin}"
      file_sha "${build_bin}" >"${build_bin}.sha256"
      emit "${build_bin}" build
    fi
    log "cargo reported success but ${built} is missing"
  else
    log "cargo build failed"
  fi
fi

# ---- 5. nothing worked --------------------------------------------------------------------

if [[ "${released}" == true && -z "${asset_sha}" ]]; then
  why="the release ${version} has no binary for ${target}"
elif [[ "${released}" == true ]]; then
  why="the release ${version} binary for ${target} could not be downloaded"
else
  why="this commit of the action is not a release, so there is no pinned binary to download"
fi
fail 1 "${why}, and ${built_why}. Either: pin the action to a release tag (uses: oidc-preflight/oidc-preflight@v1); pass a binary already on the runner in the \`binary\` input; put the release binary in the tool cache (${cache_root}); or install Rust (cargo) on the runner."
