# shellcheck shell=bash
# The cluster mode: PostgreSQL, BIND, Pebble and the OpenID provider as in the test stack, OpenBao as a 3-node Raft
# cluster, three portal replicas, HAProxy in front of both; `cluster-test` runs the failover drill under load
# (end2end/cluster/drill.mjs), `cluster-bench` the issuance throughput with 1, 2 and 3 replicas, `cluster-fault`
# is what the drill calls to break things.

# shellcheck source=stack/cluster_openbao.sh
source "$STACK_LIB/cluster_openbao.sh"
# shellcheck source=stack/cluster_portal.sh
source "$STACK_LIB/cluster_portal.sh"
# shellcheck source=stack/cluster_lb.sh
source "$STACK_LIB/cluster_lb.sh"

CLUSTER_SERVICES=(postgres bind pebble oidc)

# cluster_up [REPLICA...]: every service, then the named replicas (all three by default).
cluster_up() {
  local service
  mkdir -p "$STACK_DIR" "$LOG_DIR"
  for service in "${CLUSTER_SERVICES[@]}"; do
    log "starting $service"
    "${service}_start"
  done
  log "starting haproxy (portal :$PORTAL_PORT, OpenBao :$BAO_PORT)"
  lb_start
  log "starting the OpenBao cluster"
  cluster_openbao_start
  log "starting portal replicas ${*:-${PORTAL_REPLICAS[*]}}"
  cluster_portal_start "$@"
}

cluster_down() {
  local i
  cluster_portal_stop || true
  cluster_openbao_stop || true
  lb_stop || true
  for ((i = ${#CLUSTER_SERVICES[@]} - 1; i >= 0; i--)); do
    "${CLUSTER_SERVICES[i]}_stop" || true
  done
}

cluster_status() {
  local i
  postgres_status || true
  for i in "${BAO_NODES[@]}"; do printf 'openbao node %s  %s\n' "$i" "$(bao_node_health "$i")"; done
  for i in "${PORTAL_REPLICAS[@]}"; do
    if is_running "portal-$i" && http_ok "$(replica_url "$i")/readyz"; then
      printf 'replica %s  up  %s\n' "$i" "$(replica_url "$i")"
    else
      printf 'replica %s  down\n' "$i"
    fi
  done
  is_running haproxy && printf 'haproxy  up  %s (portal), 127.0.0.1:%s (OpenBao)\n' "$PORTAL_URL" "$BAO_PORT"
}

cluster_install() {
  apt_install_missing postgresql bind9 bind9-dnsutils pebble haproxy jq curl openssl
  command -v node >/dev/null || die "node is needed (end2end/stack.sh install)"
  postgres_install
  openbao_install
  bind_install
  pebble_install
  oidc_install
}

# cluster_fault NAME [ARG]: one fault or repair, as the drill asks for it; prints what it did.
cluster_fault() {
  local what=$1 arg=${2:-} node
  case $what in
    kill-replica) replica_signal "$arg" KILL; rm -f "$STACK_DIR/portal-$arg.pid" ;;
    term-replica) replica_signal "$arg" TERM; replica_wait_exit "$arg" ;;
    start-replica) replica_start "$arg" ;;
    kill-bao-leader)
      node=$(bao_active_node) || die "no active OpenBao node"
      bao_node_kill "$node"
      printf '%s\n' "$node"
      ;;
    start-bao) bao_node_start "$arg" ;;
    restart-postgres) postgres_stop && postgres_start ;;
    *) die "unknown fault $what" ;;
  esac
}

# The drill against a fresh cluster, stopped again whatever happens.
run_cluster_test() {
  trap 'log "stopping the cluster"; cluster_down' EXIT
  cluster_down >/dev/null 2>&1 || true
  case $STACK_DIR in *-cluster) rm -rf -- "$STACK_DIR" ;; esac
  cluster_up
  log "failover drill (end2end/cluster/drill.mjs)"
  cluster_node end2end/cluster/drill.mjs
  log "audit chain after the drill"
  CERTDESK_CONFIG="$PORTAL_DIR/replica-1.toml" "$(portal_binary)" audit verify
}

# Issuance throughput with 1, 2 and 3 replicas behind the same load balancer, PostgreSQL and OpenBao cluster.
run_cluster_bench() {
  trap 'log "stopping the cluster"; cluster_down' EXIT
  cluster_down >/dev/null 2>&1 || true
  case $STACK_DIR in *-cluster) rm -rf -- "$STACK_DIR" ;; esac
  cluster_up 1
  cluster_node end2end/cluster/bench.mjs
}

# Runs a cluster script with everything it needs to find the stack.
cluster_node() {
  (cd "$REPO_ROOT" && CERTDESK_E2E_URL=$PORTAL_URL CERTDESK_E2E_STACK_DIR=$STACK_DIR \
    CERTDESK_CLUSTER_REPLICAS="$(for i in "${PORTAL_REPLICAS[@]}"; do printf '%s ' "$(replica_url "$i")"; done)" \
    CERTDESK_CLUSTER_WEBHOOK_PORT=$CLUSTER_WEBHOOK_PORT CERTDESK_BINARY=$(portal_binary) \
    CERTDESK_CLUSTER_FAULT="$REPO_ROOT/end2end/stack.sh" node "$@")
}
