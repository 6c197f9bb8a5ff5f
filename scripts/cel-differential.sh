#!/usr/bin/env bash
# Differential test of oidc-preflight's GCP CEL evaluator against Google's own CEL engine,
# cel-cpp, through the cel-expr-python wheel from PyPI: seeded generated conditions and claim
# sets, evaluated by both, compared (tests/differential/cel_differential.py; known differences
# with their reasons in tests/differential/allowlist.tsv).
#
# The wheel is installed into a private venv at $CEL_VENV (default
# ~/.cache/oidc-preflight/cel-venv) on first use; it needs Python >= 3.11 and PyPI.
#
# Usage: bash scripts/cel-differential.sh [CASES] [SEED]   (defaults 2000 and 13)
#        bash scripts/cel-differential.sh --install   (only make sure the venv is there)
# Exit status: 0 when every difference is explained, 1 otherwise, 2 on setup errors.
set -euo pipefail

readonly CEL_PACKAGE="cel-expr-python==0.1.3"
install_only=false
if [[ "${1:-}" == "--install" ]]; then
  install_only=true
  shift
fi
cases="${1:-2000}"
seed="${2:-13}"
readonly default_venv="${HOME}/.cache/oidc-preflight/cel-venv"
venv="${CEL_VENV:-${default_venv}}"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo_root}"

setup_failed() {
  printf 'cel-differential: %s\n' "$*" >&2
  printf 'cel-differential: provide the venv by hand (python3.11 -m venv %s && %s/bin/pip install %s) or set CEL_VENV to one that has it\n' \
    "${venv}" "${venv}" "${CEL_PACKAGE}" >&2
  exit 2
}

if ! "${venv}/bin/python" -c 'import cel_expr_python' 2>/dev/null; then
  python=""
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    if [[ -n "${candidate}" ]] && command -v "${candidate}" >/dev/null \
      && "${candidate}" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      python="${candidate}"
      break
    fi
  done
  [[ -n "${python}" ]] || setup_failed "no Python >= 3.11 found (cel-expr-python needs it)"
  # Only this script's own cache is rebuilt; a venv the user named is theirs to fix.
  if [[ "${venv}" != "${default_venv}" ]]; then
    setup_failed "CEL_VENV=${venv} has no cel_expr_python"
  fi
  printf '==> installing %s into %s\n' "${CEL_PACKAGE}" "${venv}" >&2
  rm -rf "${venv}"
  "${python}" -m venv "${venv}" || setup_failed "could not create the venv ${venv}"
  "${venv}/bin/pip" install --quiet --disable-pip-version-check "${CEL_PACKAGE}" \
    || setup_failed "could not install ${CEL_PACKAGE} from PyPI (no network, or no wheel for this platform)"
  "${venv}/bin/python" -c 'import cel_expr_python' 2>/dev/null \
    || setup_failed "${CEL_PACKAGE} installed but does not import"
fi

if [[ "${install_only}" == true ]]; then
  exit 0
fi

cargo build --locked --quiet --example cel_eval
binary="$(cargo metadata --format-version 1 --no-deps | "${venv}/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug/examples/cel_eval"
exec "${venv}/bin/python" tests/differential/cel_differential.py \
  --binary "${binary}" --cases "${cases}" --seed "${seed}"
