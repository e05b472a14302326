# shellcheck shell=bash
# The benchmarks (server/benches/, README "Benchmarks"): issuance against OpenBao used directly, the inventory,
# revocation → served CRL, the public GETs against nginx serving the same bytes (with wrk for load), and whole ACME
# flows against Pebble, on the test stack's PostgreSQL, OpenBao, BIND and Pebble (its folder and ports), which are
# stopped again whatever happens; last the PostgreSQL floor of issuance and of an ACME flow (`floor`, pgbench, see
# bench_floor.sh). CERTDESK_BENCH_ONLY="acme_flows issuance" runs only the benchmarks it names (and then not the
# first-load size).

# BIND and Pebble (with pebble-challtestsrv behind BIND) are the ACME-flows benchmark's peer and its DNS.
BENCH_SERVICES=(postgres openbao bind pebble)
BENCHES=(issuance inventory revocation public_gets acme_flows floor)

# shellcheck source=stack/bench_size.sh
source "$STACK_LIB/bench_size.sh"
# shellcheck source=stack/bench_floor.sh
source "$STACK_LIB/bench_floor.sh"

bench_install() {
  apt_install_missing curl jq openssl ca-certificates build-essential pkg-config wrk
  nginx_install
  command -v cargo >/dev/null || die "cargo is needed: see https://rustup.rs"
  postgres_install
  openbao_install
  bind_install
  pebble_install
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

  local -a benches=("${BENCHES[@]}")
  local bench
  if [ -n "${CERTDESK_BENCH_ONLY:-}" ]; then
    read -r -a benches <<<"$CERTDESK_BENCH_ONLY"
    for bench in "${benches[@]}"; do
      [[ " ${BENCHES[*]} " == *" $bench "* ]] || die "CERTDESK_BENCH_ONLY: no benchmark '$bench' (${BENCHES[*]})"
    done
  fi
  # Pebble validates for real and without its validation sleeps (the ACME-flows benchmark checks both): never its
  # defaults here, whatever the environment says.
  export CERTDESK_PEBBLE_DEFAULTS=0

  trap 'log "stopping the bench services"; bench_down' EXIT
  mkdir -p "$STACK_DIR" "$LOG_DIR"
  # A Pebble left running from an earlier stack keeps every order it saw in memory, and Pebble 2.4's store can
  # deadlock under concurrent newOrders the more likely the more it holds: the benchmark gets a fresh one.
  pebble_stop || true
  for service in "${BENCH_SERVICES[@]}"; do
    log "starting $service"
    "${service}_start"
  done

  log "benchmarks: ${benches[*]} (release build; CERTDESK_BENCH_REQUESTS=${CERTDESK_BENCH_REQUESTS:-200} per arm and level, CERTDESK_BENCH_ACME_FLOWS=${CERTDESK_BENCH_ACME_FLOWS:-500})"
  local -a bench_args=()
  for bench in "${benches[@]}"; do
    # `floor` is pgbench's, not cargo's.
    [ "$bench" = floor ] || bench_args+=(--bench "$bench")
  done
  if [ ${#bench_args[@]} -gt 0 ]; then
    CERTDESK_BENCH_STACK_DIR=$STACK_DIR cargo bench --locked -p server "${bench_args[@]}"
  fi
  [[ " ${benches[*]} " != *" floor "* ]] || bench_floor_report
  # The first-load size needs no service: it measures the release site already built in target/site.
  [ -n "${CERTDESK_BENCH_ONLY:-}" ] || bench_size_report
}
