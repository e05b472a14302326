# shellcheck shell=bash
# The benchmarks (server/benches/, README "Benchmarks"): issuance against OpenBao used directly, the inventory,
# revocation → served CRL, and the public GETs against nginx serving the same bytes (with wrk for load), on the
# test stack's PostgreSQL and OpenBao (its folder and ports), which are stopped again whatever happens.

BENCH_SERVICES=(postgres openbao)

# shellcheck source=stack/bench_size.sh
source "$STACK_LIB/bench_size.sh"

bench_install() {
  apt_install_missing curl jq openssl ca-certificates build-essential pkg-config wrk
  nginx_install
  command -v cargo >/dev/null || die "cargo is needed: see https://rustup.rs"
  postgres_install
  openbao_install
}

# Debian starts a package's nginx on port 80 as it installs it; the bench runs its own on a loopback port, so the
# service is kept from starting (a policy-rc.d that says no, removed again unless one was already there).
nginx_install() {
  dpkg-query -W -f='${Status}' nginx-light 2>/dev/null | grep -q "install ok installed" && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  local policy=/usr/sbin/policy-rc.d
  if [ -e "$policy" ]; then
    apt_install_missing nginx-light
    return
  fi
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  apt_install_missing nginx-light
  local installed=$?
  $sudo rm -f "$policy"
  return $installed
}

bench_down() {
  for ((i = ${#BENCH_SERVICES[@]} - 1; i >= 0; i--)); do
    "${BENCH_SERVICES[i]}_stop" || true
  done
}

run_bench() {
  export SQLX_OFFLINE=true
  cd "$REPO_ROOT" || die "cannot cd to $REPO_ROOT"
  bench_install
  # The LEPTOS_* variables of cargo-leptos's server build, as in tests.sh, so the release dependencies it compiled
  # are reused instead of rebuilt.
  export LEPTOS_OUTPUT_NAME=certdesk LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_SITE_ADDR=127.0.0.1:3000 \
    LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=app LEPTOS_BIN_DIR=server LEPTOS_JS_MINIFY=true LEPTOS_HASH_FILES=false
  # The binary runs the PKI ceremony (openbao_start) and is the server the public-GET benchmark measures: built
  # from this checkout, never an older one left in target/.
  export CERTDESK_BINARY=${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/certdesk
  log "building the certdesk binary"
  cargo build --release --locked -p server --bin certdesk
  [ -x "$CERTDESK_BINARY" ] || die "no certdesk binary at $CERTDESK_BINARY after the build"

  trap 'log "stopping the bench services"; bench_down' EXIT
  mkdir -p "$STACK_DIR" "$LOG_DIR"
  for service in "${BENCH_SERVICES[@]}"; do
    log "starting $service"
    "${service}_start"
  done

  log "issuance, inventory, revocation and public-GET benchmarks (release build; CERTDESK_BENCH_REQUESTS=${CERTDESK_BENCH_REQUESTS:-200} per arm and level)"
  CERTDESK_BENCH_STACK_DIR=$STACK_DIR \
    cargo bench --locked -p server --bench issuance --bench inventory --bench revocation --bench public_gets
  # The first-load size needs no service: it measures the release site already built in target/site.
  bench_size_report
}
