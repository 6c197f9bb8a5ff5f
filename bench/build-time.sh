#!/usr/bin/env bash
# Cold build time of the binary: what the Dockerfile's build stage does, from an empty
# target directory with the crates already downloaded (`cargo fetch` first).
#
# Usage: bash bench/build-time.sh [-n RUNS] [--profile NAME] [--features F] [--no-default-features]
#                                 [--config KEY=VALUE ...] [VAR=VALUE ...]
#   VAR=VALUE pairs are exported for the build, e.g. CARGO_PROFILE_ACTION_OPT_LEVEL=1, and
#   --config is passed to cargo, e.g. --config profile.action.package.rustls.opt-level=0, so
#   every profile setting can be varied without editing Cargo.toml.
# Prints one line per run (wall and CPU seconds, load average at the start, stripped binary
# size) and the medians. Each run uses a fresh temporary target directory.
set -euo pipefail

runs=3
profile=action
cargo_args=()
while (($# > 0)); do
  case "$1" in
    -n) runs="$2"; shift 2 ;;
    --profile) profile="$2"; shift 2 ;;
    --features) cargo_args+=(--features "$2"); shift 2 ;;
    --no-default-features) cargo_args+=(--no-default-features); shift ;;
    --config) cargo_args+=(--config "$2"); shift 2 ;;
    *=*) export "${1?}"; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo fetch --locked --quiet

median() {
  sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

walls=() cpus=() sizes=()
for ((i = 1; i <= runs; i++)); do
  target="$(mktemp -d /tmp/oidc-preflight-cold.XXXXXX)"
  load="$(cut -d' ' -f1 /proc/loadavg)"
  timing="${target}.time"
  # %e wall, %U user, %S system: CPU time includes every rustc child cargo waited for.
  /usr/bin/time -o "${timing}" -f '%e %U %S' \
    env CARGO_TARGET_DIR="${target}" cargo build --quiet --locked --profile "${profile}" \
    --bin oidc-preflight "${cargo_args[@]}"
  read -r wall user sys <"${timing}"
  bin="${target}/${profile/#dev/debug}/oidc-preflight"
  "${bin}" --version >/dev/null
  strip -o "${target}/stripped" "${bin}"
  size="$(stat -c %s "${target}/stripped")"
  cpu="$(awk -v u="${user}" -v s="${sys}" 'BEGIN { printf "%.1f", u + s }')"
  printf 'run %d: wall %6.1f s  cpu %6.1f s  load %5s  stripped %8d bytes\n' \
    "${i}" "${wall}" "${cpu}" "${load}" "${size}"
  walls+=("${wall}") cpus+=("${cpu}") sizes+=("${size}")
  rm -rf "${target}" "${timing}"
done
printf 'median: wall %s s  cpu %s s  stripped %s bytes\n' \
  "$(printf '%s\n' "${walls[@]}" | median)" \
  "$(printf '%s\n' "${cpus[@]}" | median)" \
  "$(printf '%s\n' "${sizes[@]}" | median)"
