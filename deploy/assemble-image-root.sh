#!/usr/bin/env bash
# Lays out, from a finished `cargo leptos build --release --split`, exactly the files of certdesk's container image:
# the binary and the site (wasm, js, css). deploy/Containerfile copies the result over its runtime base as it is;
# the stack's release build (end2end/stack/toolchain.sh) runs this same script and the gate checks what it made
# (end2end/deploy/image-root.mjs), so the image's contents cannot drift from what is tested.
#
#   deploy/assemble-image-root.sh DEST
#
# The binary is $CERTDESK_BINARY, else ${CARGO_TARGET_DIR:-target}/release/certdesk; the site is
# $CERTDESK_SITE_DIR, else target/site (cargo-leptos's site-root, relative to the workspace whatever the target
# folder). DEST is emptied first.
set -euo pipefail

# Where the files go inside the image; deploy/Containerfile's ENTRYPOINT and CERTDESK_SERVER__SITE_ROOT name them
# (the gate compares them).
BINARY_PATH=usr/local/bin/certdesk
SITE_PATH=usr/share/certdesk/site

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:?usage: deploy/assemble-image-root.sh DEST}
binary=${CERTDESK_BINARY:-${CARGO_TARGET_DIR:-$repo_root/target}/release/certdesk}
site=${CERTDESK_SITE_DIR:-$repo_root/target/site}

fail() {
  printf 'assemble-image-root: %s\n' "$*" >&2
  exit 1
}

[ -x "$binary" ] || fail "no certdesk binary at $binary (run cargo leptos build --release --split first)"
# The wasm, its loader, the css and the split chunks' manifest: without any of them pages do not hydrate.
for file in pkg/certdesk.js pkg/certdesk.wasm pkg/certdesk.css pkg/__wasm_split_manifest.json; do
  [ -s "$site/$file" ] || fail "the site at $site has no $file (build with cargo leptos build --release --split)"
done

case $dest in
  / | "$repo_root" | "$repo_root/target") fail "refusing to empty $dest" ;;
esac
rm -rf -- "$dest"
mkdir -p "$dest/$(dirname "$BINARY_PATH")" "$dest/$SITE_PATH"
# Root-owned and not writable by the runtime user (the image runs as 65532).
install -m 0755 "$binary" "$dest/$BINARY_PATH"
cp -R "$site/." "$dest/$SITE_PATH/"
chmod -R u=rwX,go=rX "$dest"
printf 'assemble-image-root: %s and %s in %s\n' "$BINARY_PATH" "$SITE_PATH" "$dest" >&2
