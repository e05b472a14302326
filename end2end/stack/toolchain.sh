# shellcheck shell=bash
# The build chain: system packages, the wasm target, cargo-leptos and wasm-bindgen at pinned versions, npm tools.

# Pinned together: the wasm-bindgen CLI refuses a crate of another version (see Cargo.toml).
WASM_BINDGEN_VERSION=0.2.130
# 0.3.10 is the newest that builds with --locked on rustc 1.95.
CARGO_LEPTOS_VERSION=0.3.10
# What building certdesk needs: all that the container image's build stage installs (deploy/Containerfile runs
# `end2end/stack.sh build-tools`).
BUILD_APT_PACKAGES=(ca-certificates build-essential pkg-config nodejs npm)
# The rest of the stack's and the tests' tools. lego is one of the real ACME clients the ACME-server tests drive
# (issue 17); certbot, the other, comes from PyPI.
APT_PACKAGES=(curl jq openssl chromium libnss3-tools lego)
# From PyPI rather than Debian (2.1): certbot >= 4.1 follows renewalInfo (RFC 9773 ARI), which certdesk serves.
# certbot, acme and the dns-rfc2136 plugin are released together and pinned together.
CERTBOT_VERSION=5.8.0

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

# Every Debian package of the stack in one apt run (PostgreSQL, BIND and Pebble's too): one `apt-get update`
# instead of one per component.
toolchain_system_install() {
  toolchain_build_system_install "${APT_PACKAGES[@]}" "$@"
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
}

# The Debian packages of the build (and those named as arguments), Node.js and the wasm target. Node from the
# distribution is enough when it is >= 20 (oidc-provider's floor); an existing newer one is kept.
toolchain_build_system_install() {
  local packages=()
  for package in "${BUILD_APT_PACKAGES[@]}" "$@"; do
    case $package in nodejs | npm) command -v node >/dev/null 2>&1 && continue ;; esac
    packages+=("$package")
  done
  apt_install_missing "${packages[@]}"
  local node_major
  node_major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$node_major" -ge 20 ] || die "Node.js >= 20 is needed (found $(node --version)); install a newer nodejs"

  command -v rustup >/dev/null || die "rustup is needed: see https://rustup.rs"
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
}

# Only the build chain (Debian packages, wasm target, cargo-leptos, wasm-bindgen, npm's wasm-opt): the container
# image's build stage, which runs no services and no tests.
toolchain_build_tools_install() {
  toolchain_build_system_install
  toolchain_rust_tools_start
  toolchain_npm_install
  toolchain_rust_tools_wait
}

# wasm-bindgen and cargo-leptos compile for minutes: started in the background (`toolchain_rust_tools_wait` waits)
# so pip, npm and the services' setup run meanwhile. They are built in cargo's dev profile without debug info:
# optimising swc, lightningcss and walrus is most of a release install's time (cargo-leptos took 13.7 minutes on
# 2 cores with its own fat-LTO profile), while unoptimised it costs 11 CPU minutes and wasm-bindgen 2. What the
# tools themselves do in a build is small next to the compiler and wasm-opt they drive: measured on a release build,
# unoptimised, splitting the wasm, wasm-bindgen and JS minification took 2.8 s together, wasm-opt 141 s.
toolchain_rust_tools_start() {
  local need_bindgen=false need_leptos=false
  # The project's own crates download meanwhile (the network is idle while the tools compile), not at the start of
  # the build; a failure here is only reported by the build, which fetches what is missing itself.
  (cd "$REPO_ROOT" && cargo fetch --locked --quiet) >/dev/null 2>&1 &
  CRATES_FETCH_PID=$!
  [ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $WASM_BINDGEN_VERSION" ] || need_bindgen=true
  [ "$(cargo leptos --version 2>/dev/null)" = "cargo-leptos $CARGO_LEPTOS_VERSION" ] || need_leptos=true
  $need_bindgen || $need_leptos || return 0
  $need_bindgen && log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION in the background (about a minute)"
  $need_leptos && log "installing cargo-leptos $CARGO_LEPTOS_VERSION in the background (several minutes on 2 cores, once)"
  RUST_TOOLS_LOG=$(mktemp -t certdesk-rust-tools.XXXXXX)
  (
    export CARGO_PROFILE_DEV_DEBUG=0
    # Not --locked: wasm-bindgen-cli's lockfile names a crate version the registry no longer serves.
    if $need_bindgen; then cargo install --quiet --debug wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"; fi
    if $need_leptos; then cargo install --quiet --debug --locked cargo-leptos --version "$CARGO_LEPTOS_VERSION"; fi
  ) >"$RUST_TOOLS_LOG" 2>&1 &
  RUST_TOOLS_PID=$!
}

toolchain_rust_tools_wait() {
  if [ -n "${CRATES_FETCH_PID:-}" ]; then
    wait "$CRATES_FETCH_PID" || true
    CRATES_FETCH_PID=
  fi
  [ -n "${RUST_TOOLS_PID:-}" ] || return 0
  if ! wait "$RUST_TOOLS_PID"; then
    cat "$RUST_TOOLS_LOG" >&2
    die "installing wasm-bindgen-cli or cargo-leptos failed (output above)"
  fi
  rm -f "$RUST_TOOLS_LOG"
  RUST_TOOLS_PID=
  log "wasm-bindgen-cli and cargo-leptos are installed"
}

# pip and npm: the SMTP server of the notification tests, certbot, wasm-opt, Playwright and the Kubernetes models.
toolchain_packages_install() {
  # The notification tests start a real SMTP server (aiosmtpd) that writes what it receives to a maildir.
  if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
    log "installing aiosmtpd (pip)"
    python3 -m pip install -q aiosmtpd
  fi
  toolchain_certbot_install
  toolchain_npm_install
}

# npm's packages (wasm-opt for the build; Playwright, the OpenID provider and the Kubernetes models for the tests).
toolchain_npm_install() {
  # npm writes node_modules/.package-lock.json at each install: one older than package-lock.json means the lock
  # changed since (a package added, e.g. by a merge), which checking for a few packages' folders would miss.
  local installed=$REPO_ROOT/node_modules/.package-lock.json
  if [ ! -x "$REPO_ROOT/node_modules/.bin/wasm-opt" ] || [ ! -f "$installed" ] ||
    [ "$REPO_ROOT/package-lock.json" -nt "$installed" ]; then
    log "installing npm packages"
    (cd "$REPO_ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# certbot with its RFC 2136 DNS plugin, for python3 (the interpreter the stack pip-installs into), and on PATH: pip
# puts the command next to the interpreter, which pyenv's shims or a per-user install leave off PATH, and a
# distribution's certbot found first would be another version.
toolchain_certbot_install() {
  local version
  version=$(python3 -c 'import certbot, certbot_dns_rfc2136; print(certbot.__version__)' 2>/dev/null) || version=
  if [ "$version" != "$CERTBOT_VERSION" ]; then
    log "installing certbot $CERTBOT_VERSION with its dns-rfc2136 plugin (pip)"
    python3 -m pip install -q "certbot==$CERTBOT_VERSION" "acme==$CERTBOT_VERSION" \
      "certbot-dns-rfc2136==$CERTBOT_VERSION"
  fi
  local scripts
  scripts=$(python3 -c '
import os, sysconfig
for scheme in (sysconfig.get_default_scheme(), f"{os.name}_user"):
    scripts = sysconfig.get_path("scripts", scheme)
    if os.access(os.path.join(scripts, "certbot"), os.X_OK):
        print(scripts)
        break') || scripts=
  [ -n "$scripts" ] || die "pip installed certbot but its command is in none of python3's script folders"
  [ "$(command -v certbot)" = "$scripts/certbot" ] || export PATH="$scripts:$PATH"
}

# The release build: server binary in target/release/certdesk, site (wasm, js, css) in target/site. npm's
# binaryen comes first on PATH: Debian's wasm-opt 108 produces wasm that silently fails to hydrate. `--split` is
# required: the lazy pages (app/src/app/lazy.rs) import their wasm chunks through the loader it writes. Then the
# container image's files are laid out from it (deploy/assemble-image-root.sh, the script the image's build runs).
toolchain_build() {
  log "building certdesk (cargo leptos build --release --split)"
  (cd "$REPO_ROOT" && SQLX_OFFLINE=true cargo leptos build --release --split)
  "$REPO_ROOT/deploy/assemble-image-root.sh" "$(image_root)"
}

# The container image's files, as deploy/Containerfile copies them (checked by end2end/deploy/image-root.mjs).
image_root() { printf '%s' "${CARGO_TARGET_DIR:-$REPO_ROOT/target}/image-root"; }
