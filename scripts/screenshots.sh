#!/usr/bin/env bash
# Screenshots of the job summaries as GitHub renders them, into docs/screenshots/.
#
# 1. `cargo run --example summary_gallery` writes each scenario's summary (the library's own
#    writer) as Markdown and as an HTML page: GFM rendered by comrak with github.com's
#    extensions, inside GitHub's stylesheet (the github-markdown-css npm package).
# 2. Headless Chromium shoots each page at its full height, 1012 px wide (why that width:
#    examples/summary_gallery.rs, `page`).
#
# Needs: chromium (Debian: `apt-get update && apt-get install -y chromium`), npm (to fetch
# github-markdown-css into a cache outside the repository), and pngquant if present (to keep
# the pictures small; without it they are larger but the same).
# Usage: bash scripts/screenshots.sh [OUT_DIR]   (default docs/screenshots)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${1:-docs/screenshots}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/oidc-preflight/screenshots"

chromium_bin="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$chromium_bin" ]; then
  echo "error: chromium not found; install it: apt-get update && apt-get install -y chromium" >&2
  exit 2
fi

css="$cache/node_modules/github-markdown-css/github-markdown-light.css"
if [ ! -f "$css" ]; then
  if ! command -v npm >/dev/null; then
    echo "error: npm not found; it fetches GitHub's stylesheet (github-markdown-css)" >&2
    exit 2
  fi
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-audit --no-fund --silent github-markdown-css
fi

pages="$(mktemp -d)"
trap 'rm -rf "$pages"' EXIT
cargo run --locked --quiet --example summary_gallery -- "$pages" "file://$css" >"$pages/names"

shoot() {
  # --hide-scrollbars: the page is as wide as the window, and a scrollbar would narrow it.
  "$chromium_bin" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --force-device-scale-factor=1 --allow-file-access-from-files "$@" 2>/dev/null
}

mkdir -p "$out"
width=1012
while read -r name; do
  page="file://$pages/$name.html"
  # The page records its own height and width once loaded (the gallery's script).
  dom="$(shoot --virtual-time-budget=2000 --window-size="$width,800" --dump-dom "$page")"
  height="$(sed -n 's/.*data-height="\([0-9]*\)".*/\1/p' <<<"$dom" | head -n1)"
  scroll_width="$(sed -n 's/.*data-width="\([0-9]*\)".*/\1/p' <<<"$dom" | head -n1)"
  if [ -z "$height" ]; then
    echo "error: $name: the page did not report its height" >&2
    exit 1
  fi
  cut="$(sed -n 's/.*data-cut="\([0-9]*\)".*/\1/p' <<<"$dom" | head -n1)"
  if [ "${scroll_width:-0}" -gt "$width" ] || [ "${cut:-0}" -gt 0 ]; then
    # Wider than the page: GitHub scrolls it sideways, and a reader does not see the rest.
    echo "warning: $name: ${cut:-0} table(s) or code block(s) wider than the page (page ${scroll_width} px)" >&2
  fi
  shoot --virtual-time-budget=2000 --window-size="$width,$height" \
    --screenshot="$out/$name.png" "$page"
  if command -v pngquant >/dev/null; then
    pngquant --force --skip-if-larger --quality=70-95 --strip --output "$out/$name.png" "$out/$name.png" || true
  fi
  printf '%-28s %5s px high  %s\n' "$name.png" "$height" "$(du -h "$out/$name.png" | cut -f1)"
done <"$pages/names"
