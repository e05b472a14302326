# shellcheck shell=bash
# The build chain: system packages, the wasm target, cargo-leptos and wasm-bindgen at pinned versions, npm tools.

# Pinned together: the wasm-bindgen CLI refuses a crate of another version (see Cargo.toml).
WASM_BINDGEN_VERSION=0.2.130
# 0.3.10 is the newest that builds with --locked on rustc 1.95.
CARGO_LEPTOS_VERSION=0.3.10
APT_PACKAGES=(curl jq openssl ca-certificates build-essential pkg-config chromium libnss3-tools nodejs npm)

apt_install_missing() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing system packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

toolchain_install() {
  # Node from the distribution is enough when it is >= 20 (oidc-provider's floor); keep an existing newer one.
  if command -v node >/dev/null 2>&1; then
    APT_PACKAGES=("${APT_PACKAGES[@]/nodejs/}")
    APT_PACKAGES=("${APT_PACKAGES[@]/npm/}")
  fi
  local packages=()
  for package in "${APT_PACKAGES[@]}"; do [ -n "$package" ] && packages+=("$package"); done
  apt_install_missing "${packages[@]}"
  local node_major
  node_major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$node_major" -ge 20 ] || die "Node.js >= 20 is needed (found $(node --version)); install a newer nodejs"

  command -v rustup >/dev/null || die "rustup is needed: see https://rustup.rs"
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt

  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes)"
    # Not --locked: its lockfile names a crate version the registry no longer serves.
    cargo install --quiet wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
  if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 15 minutes on 2 cores, once)"
    cargo install --quiet --locked cargo-leptos --version "$CARGO_LEPTOS_VERSION"
  fi
  # The notification tests start a real SMTP server (aiosmtpd) that writes what it receives to a maildir.
  if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
    log "installing aiosmtpd (pip)"
    python3 -m pip install -q aiosmtpd
  fi
  if [ ! -x "$REPO_ROOT/node_modules/.bin/wasm-opt" ] || [ ! -d "$REPO_ROOT/node_modules/playwright-core" ]; then
    log "installing npm packages"
    (cd "$REPO_ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# The release build: server binary in target/release/certdesk, site (wasm, js, css) in target/site. npm's
# binaryen comes first on PATH: Debian's wasm-opt 108 produces wasm that silently fails to hydrate. `--split` is
# required: the lazy pages (app/src/app/lazy.rs) import their wasm chunks through the loader it writes.
toolchain_build() {
  log "building certdesk (cargo leptos build --release --split)"
  (cd "$REPO_ROOT" && SQLX_OFFLINE=true cargo leptos build --release --split)
}
