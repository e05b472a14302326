# shellcheck shell=bash
# The first-load size of the portal (issue 16): what a browser downloads from the site before the page it opened
# is interactive, compressed with gzip -9, against a minimal Leptos 0.8 app (SSR + hydrate, one route) built the
# same way. The wasm is split (`cargo leptos build --split`): every first load fetches the JS glue, the split
# loader it imports, the main wasm and the stylesheet; the pages of app/src/app/lazy.rs are wasm chunks fetched
# when one of them is shown, listed with what opening that page directly adds. Reported as a ratio like the other
# benchmark lines; needs `end2end/stack.sh build`.

# gzip -9 of a minimal Leptos 0.8 app's wasm + JS + CSS after cargo-leptos's release build (wasm-opt -Oz), in KiB.
MINIMAL_LEPTOS_FIRST_LOAD_KIB=183
# Every file of the site that the first load of `/` (or of any page that is not lazy) fetches, besides the HTML
# document and /favicon.svg; end2end/tests/hydration.test.mjs checks in Chromium that it is exactly these.
FIRST_LOAD_FILES=(certdesk.wasm certdesk.js __wasm_split.______________________.js certdesk.css)
SPLIT_MANIFEST=__wasm_split_manifest.json

gzip_bytes() { gzip -9 -c "$1" | wc -c; }

# "| name | raw KiB | gzip KiB |" for a file of the site.
size_row() {
  awk -v name="$1" -v raw="$(wc -c <"$2")" -v gz="$(gzip_bytes "$2")" \
    'BEGIN { printf "| %s | %.1f | %.1f | — | — |\n", name, raw / 1024, gz / 1024 }'
}

# Prints the Markdown tables of the first load and of the chunks loaded on demand; fails, saying how to build it,
# when the release site is missing.
bench_size_report() {
  local pkg_dir=$REPO_ROOT/target/site/pkg
  local file first_load_bytes=0 rows=""
  for file in "${FIRST_LOAD_FILES[@]}" "$SPLIT_MANIFEST"; do
    [ -f "$pkg_dir/$file" ] || {
      log "no $pkg_dir/$file: build the release site first (end2end/stack.sh build)"
      return 1
    }
  done
  for file in "${FIRST_LOAD_FILES[@]}"; do
    first_load_bytes=$((first_load_bytes + $(gzip_bytes "$pkg_dir/$file")))
    rows+=$(size_row "$file" "$pkg_dir/$file")$'\n'
  done
  printf '\n## First load (release site, gzip -9, KiB)\n\n'
  printf 'What opening `/`, `/certificates` or a sign-in page fetches besides the HTML and the icon.\n\n'
  printf '| file | raw | certdesk gzip | peer gzip (minimal Leptos 0.8 app) | ratio certdesk/peer |\n'
  printf '|---|---:|---:|---:|---:|\n'
  printf '%s' "$rows"
  awk -v gz="$first_load_bytes" -v peer="$MINIMAL_LEPTOS_FIRST_LOAD_KIB" \
    'BEGIN { printf "| first load | — | %.1f | %.1f | %.3f |\n", gz / 1024, peer, gz / 1024 / peer }'
  bench_size_lazy_report "$pkg_dir" "$first_load_bytes"
}

# The lazy pages: per page (its LazyRoute in app/src/app/lazy.rs), the chunks the manifest lists for it and their
# size, and the first load of that page opened directly (the first-load files plus those chunks, which the server
# preloads); then every chunk once.
bench_size_lazy_report() {
  local pkg_dir=$1 first_load_bytes=$2 key route chunk raw gz
  printf '\n## Loaded on demand (gzip -9, KiB)\n\n'
  printf '| page (app/src/app/lazy.rs) | chunks | raw | gzip | first load opened directly |\n'
  printf '|---|---:|---:|---:|---:|\n'
  while read -r key; do
    route=$(sed -E 's/^__//; s/_view_[0-9]+$//' <<<"$key" | awk -F_ '{ for (i = 1; i <= NF; i++) printf "%s", toupper(substr($i, 1, 1)) substr($i, 2) }')
    raw=0 gz=0
    while read -r chunk; do
      raw=$((raw + $(wc -c <"$pkg_dir/$chunk.wasm")))
      gz=$((gz + $(gzip_bytes "$pkg_dir/$chunk.wasm")))
    done < <(jq -r --arg key "$key" '.[$key][]' "$pkg_dir/$SPLIT_MANIFEST")
    awk -v route="$route" -v n="$(jq --arg key "$key" '.[$key] | length' "$pkg_dir/$SPLIT_MANIFEST")" \
      -v raw="$raw" -v gz="$gz" -v first="$first_load_bytes" \
      'BEGIN { printf "| %s | %d | %.1f | %.1f | %.1f |\n", route, n, raw / 1024, gz / 1024, (first + gz) / 1024 }'
  done < <(jq -r 'keys[]' "$pkg_dir/$SPLIT_MANIFEST")
  raw=0 gz=0
  while read -r chunk; do
    raw=$((raw + $(wc -c <"$pkg_dir/$chunk.wasm")))
    gz=$((gz + $(gzip_bytes "$pkg_dir/$chunk.wasm")))
  done < <(jq -r '[.[][]] | unique[]' "$pkg_dir/$SPLIT_MANIFEST")
  awk -v n="$(jq '[.[][]] | unique | length' "$pkg_dir/$SPLIT_MANIFEST")" -v raw="$raw" -v gz="$gz" \
    'BEGIN { printf "| every lazy chunk, once | %d | %.1f | %.1f | — |\n", n, raw / 1024, gz / 1024 }'
}
