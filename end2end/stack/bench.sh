# shellcheck shell=bash
# The issuance benchmark (server/benches/issuance.rs, README "Benchmarks"): certdesk against OpenBao used directly,
# on the test stack's PostgreSQL and OpenBao (its folder and ports), which are stopped again whatever happens.

BENCH_SERVICES=(postgres openbao)

# shellcheck source=stack/bench_size.sh
source "$STACK_LIB/bench_size.sh"

bench_install() {
  apt_install_missing curl jq openssl ca-certificates build-essential pkg-config
  command -v cargo >/dev/null || die "cargo is needed: see https://rustup.rs"
  postgres_install
  openbao_install
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
  # openbao_start runs the PKI ceremony with the certdesk CLI (portal_binary): build it once if there is none.
  export CERTDESK_BINARY=${CERTDESK_BINARY:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/certdesk}
  if [ ! -x "$CERTDESK_BINARY" ]; then
    log "building the certdesk binary for the PKI ceremony"
    cargo build --release --locked -p server --bin certdesk
    [ -x "$CERTDESK_BINARY" ] || die "no certdesk binary at $CERTDESK_BINARY after the build"
  fi

  trap 'log "stopping the bench services"; bench_down' EXIT
  mkdir -p "$STACK_DIR" "$LOG_DIR"
  for service in "${BENCH_SERVICES[@]}"; do
    log "starting $service"
    "${service}_start"
  done

  log "issuance, inventory and revocation benchmarks (release build; CERTDESK_BENCH_REQUESTS=${CERTDESK_BENCH_REQUESTS:-200} per arm and level)"
  # The LEPTOS_* variables of cargo-leptos's server build, as in tests.sh, so the release dependencies it compiled
  # are reused instead of rebuilt.
  LEPTOS_OUTPUT_NAME=certdesk LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_SITE_ADDR=127.0.0.1:3000 \
    LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=app LEPTOS_BIN_DIR=server LEPTOS_JS_MINIFY=true LEPTOS_HASH_FILES=false \
    CERTDESK_BENCH_STACK_DIR=$STACK_DIR \
    cargo bench --locked -p server --bench issuance --bench inventory --bench revocation
  # The first-load size needs no service: it measures the release site already built in target/site.
  bench_size_report
}
