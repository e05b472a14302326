#!/usr/bin/env bash
# The local certdesk stack: installs what is missing, builds, starts and stops PostgreSQL, OpenBao, BIND, Pebble, the
# OpenID provider and the portal on 127.0.0.1, and runs every test. `demo` and `test` are README's two commands;
# `bench` runs the benchmarks on the test stack's PostgreSQL, OpenBao, BIND and Pebble.
set -euo pipefail

usage() {
  cat <<'TXT'
usage: end2end/stack.sh COMMAND

  demo        install what is missing, build, start the whole stack with demo data, print where to log in
  test        install what is missing, lint, build once, start a separate test stack, run every test, stop it
  bench       start the test stack's PostgreSQL, OpenBao, BIND and Pebble, run the benchmarks (certdesk vs its peers), stop them
  cluster-up | cluster-down | cluster-status
              three portal replicas and a 3-node OpenBao Raft cluster behind HAProxy, on the test ports
  cluster-test   start the cluster, run the failover drill under load (end2end/cluster/drill.mjs), stop it
  cluster-bench  issuance throughput through the load balancer with 1, 2 and 3 replicas
  install     install every tool and package the stack needs (idempotent)
  build       cargo leptos build --release --split, then lay out the container image's files in target/image-root
  build-tools install only what building needs (deploy/Containerfile's build stage)
  up | down   start | stop every service and the portal
  status      one line per service
  totp USER   print the current TOTP code of a demo user (alice, bob)
  logins      print the demo logins

Ports and the state folder are set by CERTDESK_* variables (see end2end/stack/common.sh).
TXT
}

command=${1:-}
[ -n "$command" ] || { usage; exit 2; }
shift || true

# The test stack gets its own folder and ports, so it can run while a demo is up; the benchmark uses them too, and so
# does the cluster mode, in a folder of its own next to the test stack's.
case $command in test | bench | cluster-*) test_ports=1 ;; *) test_ports=0 ;; esac
if [ "$test_ports" = 1 ]; then
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  export CERTDESK_STACK_DIR=${CERTDESK_TEST_STACK_DIR:-$here/.stack/test}
  case $command in cluster-*) CERTDESK_STACK_DIR=$CERTDESK_STACK_DIR-cluster ;; esac
  export CERTDESK_PG_PORT=${CERTDESK_TEST_PG_PORT:-55532}
  export CERTDESK_BAO_PORT=${CERTDESK_TEST_BAO_PORT:-58300}
  export CERTDESK_PEBBLE_PORT=${CERTDESK_TEST_PEBBLE_PORT:-14100}
  export CERTDESK_PEBBLE_MGMT_PORT=${CERTDESK_TEST_PEBBLE_MGMT_PORT:-15100}
  export CERTDESK_PEBBLE_HTTP01_PORT=${CERTDESK_TEST_PEBBLE_HTTP01_PORT:-5102}
  export CERTDESK_PEBBLE_TLS_PORT=${CERTDESK_TEST_PEBBLE_TLS_PORT:-5101}
  export CERTDESK_CHALL_DNS_PORT=${CERTDESK_TEST_CHALL_DNS_PORT:-8153}
  export CERTDESK_CHALL_MGMT_PORT=${CERTDESK_TEST_CHALL_MGMT_PORT:-8155}
  export CERTDESK_BIND_PORT=${CERTDESK_TEST_BIND_PORT:-8163}
  export CERTDESK_OIDC_PORT=${CERTDESK_TEST_OIDC_PORT:-59500}
  export CERTDESK_PORT=${CERTDESK_TEST_PORT:-3100}
  export CERTDESK_PUBLIC_URL=http://127.0.0.1:$CERTDESK_PORT
  export CERTDESK_OIDC_TEST_USERS=21
  # Short enough for the step-up test to outwait a provider login, long enough for every other test's actions.
  export CERTDESK_STEP_UP_MAX_AGE_SECONDS=${CERTDESK_TEST_STEP_UP_MAX_AGE_SECONDS:-60}
fi

STACK_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")/stack" && pwd)
# shellcheck source=stack/common.sh
source "$STACK_LIB/common.sh"
for component in postgres openbao bind pebble oidc portal toolchain; do
  # shellcheck source=/dev/null
  source "$STACK_LIB/$component.sh"
done

SERVICES=(postgres openbao bind pebble oidc)

services_up() {
  mkdir -p "$STACK_DIR" "$LOG_DIR"
  for service in "${SERVICES[@]}"; do
    log "starting $service"
    "${service}_start"
  done
}

stack_up() {
  services_up
  log "starting the portal"
  portal_start
}

stack_down() {
  portal_stop || true
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
    "${SERVICES[i]}_stop" || true
  done
}

stack_status() {
  local rc=0
  for service in "${SERVICES[@]}" portal; do
    "${service}_status" || rc=1
  done
  return $rc
}

# install_all [PACKAGE...]: everything the stack needs, and the named Debian packages in the same apt run.
install_all() {
  toolchain_system_install postgresql bind9 bind9-dnsutils pebble "$@"
  toolchain_rust_tools_start
  postgres_install
  openbao_install
  bind_install
  pebble_install
  toolchain_packages_install
  oidc_install
  toolchain_rust_tools_wait
}

print_demo() {
  cat <<TXT

certdesk is running: $PORTAL_URL
  readiness:   $PORTAL_URL/readyz
  logs:        $LOG_DIR
  stop:        end2end/stack.sh down

Sign in at $PORTAL_URL with one of these (bob is a regular user, alice an admin; carol has no MFA at the
provider, so certdesk enrols her in its own TOTP second factor); 'end2end/stack.sh totp bob' prints bob's
current one-time code.
TXT
  oidc_demo_logins
}

case "$command" in
  demo)
    install_all
    toolchain_build
    stack_up
    print_demo
    ;;
  test)
    # HAProxy for the failover drill's cluster mode, which the tests end with.
    install_all haproxy
    # shellcheck source=stack/tests.sh
    source "$STACK_LIB/tests.sh"
    run_all_tests "$@"
    ;;
  bench)
    # shellcheck source=stack/bench.sh
    source "$STACK_LIB/bench.sh"
    run_bench
    ;;
  cluster-*)
    # shellcheck source=stack/cluster.sh
    source "$STACK_LIB/cluster.sh"
    case $command in
      cluster-up) cluster_install && cluster_up "$@" ;;
      cluster-down) cluster_down ;;
      cluster-status) cluster_status ;;
      cluster-test) cluster_install && run_cluster_test ;;
      cluster-bench) cluster_install && run_cluster_bench ;;
      cluster-fault) cluster_fault "$@" ;;
      *)
        usage
        exit 2
        ;;
    esac
    ;;
  install) install_all ;;
  build) toolchain_build ;;
  build-tools) toolchain_build_tools_install ;;
  up) stack_up ;;
  down) stack_down ;;
  status) stack_status ;;
  totp) oidc_totp "${1:?usage: end2end/stack.sh totp USER}" ;;
  logins) oidc_demo_logins ;;
  -h | --help | help) usage ;;
  *)
    usage
    exit 2
    ;;
esac
