# shellcheck shell=bash
# The first-load size of the portal (issue 16): what a browser downloads before the page is interactive, that is the
# release site's wasm, JS and CSS compressed with gzip -9, against a minimal Leptos 0.8 app (SSR + hydrate, one
# route) built the same way. Reported as a ratio like the other benchmark lines; needs `end2end/stack.sh build`.

# gzip -9 of a minimal Leptos 0.8 app's wasm + JS + CSS after cargo-leptos's release build (wasm-opt -Oz), in KiB.
MINIMAL_LEPTOS_FIRST_LOAD_KIB=183
FIRST_LOAD_FILES=(certdesk.wasm certdesk.js certdesk.css)

gzip_bytes() { gzip -9 -c "$1" | wc -c; }

# Prints the Markdown table of the first-load size; fails, saying how to build it, when the release site is missing.
bench_size_report() {
  local pkg_dir=$REPO_ROOT/target/site/pkg
  local file total_bytes=0 bytes rows=""
  for file in "${FIRST_LOAD_FILES[@]}"; do
    [ -f "$pkg_dir/$file" ] || {
      log "no $pkg_dir/$file: build the release site first (end2end/stack.sh build)"
      return 1
    }
    bytes=$(gzip_bytes "$pkg_dir/$file")
    total_bytes=$((total_bytes + bytes))
    rows+=$(awk -v name="$file" -v raw="$(wc -c <"$pkg_dir/$file")" -v gz="$bytes" \
      'BEGIN { printf "| %s | %.1f | %.1f | — | — |\n", name, raw / 1024, gz / 1024 }')$'\n'
  done
  printf '\n## First load (release site, gzip -9, KiB)\n\n'
  printf '| file | raw | certdesk gzip | peer gzip (minimal Leptos 0.8 app) | ratio certdesk/peer |\n'
  printf '|---|---:|---:|---:|---:|\n'
  printf '%s' "$rows"
  awk -v gz="$total_bytes" -v peer="$MINIMAL_LEPTOS_FIRST_LOAD_KIB" \
    'BEGIN { printf "| wasm + js + css | — | %.1f | %.1f | %.3f |\n", gz / 1024, peer, gz / 1024 / peer }'
}
