# shellcheck shell=bash
# The cluster mode's portal replicas: the stack's portal configuration (portal.sh) once per replica, each on its own
# port (PORTAL_PORT+10+i) with its own `jobs.replica`, all on the same PostgreSQL and behind HAProxy's $PORTAL_PORT,
# which stays the public URL (sign-in redirects, CRL links). Only replica 1 runs the HTTP-01 responder (one port).

PORTAL_REPLICAS=(1 2 3)
replica_port() { printf '%s' "$((PORTAL_PORT + 10 + $1))"; }
replica_url() { printf 'http://127.0.0.1:%s' "$(replica_port "$1")"; }

# The drill's webhook receiver (end2end/cluster/drill.mjs) listens here; replicas may call loopback webhooks.
export CLUSTER_WEBHOOK_PORT=$((PORTAL_PORT + 20))

_replica_configure() {
  local i=$1
  local out=$PORTAL_DIR/replica-$i.toml
  sed -e "s|^listen = \"127.0.0.1:$PORTAL_PORT\"|listen = \"127.0.0.1:$(replica_port "$i")\"\\ntrusted_proxies = [\"127.0.0.1\"]|" \
    "$PORTAL_DIR/certdesk.toml" >"$out"
  [ "$i" = 1 ] || sed -i -e '/^http01_listen = /d' "$out"
  cat >>"$out" <<TOML

# Cluster mode (end2end/stack/cluster_portal.sh): one of ${#PORTAL_REPLICAS[@]} replicas behind HAProxy.
[jobs]
replica = "replica-$i"
election_retry_secs = 1
[jobs.intervals]
notifications = 2
reconcile = 10
revocations = 3
crl_refresh = 5

[notifications]
webhook_allow_private = true

# Load tests and the throughput benchmark come from one person: neither the per-person request rate nor the
# quotas may be what they measure.
[limits]
caller_burst = 100000
caller_per_second = 100000
certificates_per_day = 1000000
live_certificates = 1000000
TOML
}

# replica_start I: starts replica I and waits for its /readyz (a no-op when it runs).
replica_start() {
  local i=$1 binary
  binary=$(portal_binary)
  is_running "portal-$i" && return 0
  port_free "$(replica_port "$i")" || die "portal replica $i: port $(replica_port "$i") is taken"
  _replica_configure "$i"
  CERTDESK_CONFIG="$PORTAL_DIR/replica-$i.toml" start_bg "portal-$i" "$binary" serve
  if ! wait_until "replica $i to become ready" 60 http_ok "$(replica_url "$i")/readyz"; then
    tail -n 20 "$LOG_DIR/portal-$i.log" >&2 || true
    die "portal replica $i did not become ready"
  fi
}

# replica_signal I SIGNAL: sends SIGNAL to replica I only (not a process group: SIGTERM must reach certdesk itself).
replica_signal() {
  local pid
  pid=$(pid_of "portal-$1") || die "portal replica $1 is not running"
  kill "-$2" "$pid"
}

# replica_wait_exit I: waits (at most 60 s: the drain is bounded by the request timeout) for replica I to exit.
replica_wait_exit() {
  local pid
  pid=$(pid_of "portal-$1") || return 0
  wait_until "replica $1 to exit" 60 bash -c "! kill -0 $pid 2>/dev/null" || die "replica $1 did not exit"
  rm -f "$STACK_DIR/portal-$1.pid"
}

cluster_portal_start() {
  local i
  [ -x "$(portal_binary)" ] || die "no certdesk binary at $(portal_binary): build it first (end2end/stack.sh build)"
  portal_configure
  for i in "${@:-${PORTAL_REPLICAS[@]}}"; do replica_start "$i"; done
  # HAProxy sends to a replica after two passed health checks, a second apart.
  wait_until "the load balancer to serve $PORTAL_URL/readyz" 30 http_ok "$PORTAL_URL/readyz" ||
    die "haproxy does not reach any replica (see $LOG_DIR/haproxy.log)"
  CERTDESK_CONFIG="$PORTAL_DIR/replica-1.toml" "$(portal_binary)" crl publish --file "$STACK_DIR/openbao/root.crl" \
    >>"$LOG_DIR/portal-1.log" 2>&1 || die "certdesk crl publish failed (see $LOG_DIR/portal-1.log)"
}

cluster_portal_stop() {
  local i
  for i in "${PORTAL_REPLICAS[@]}"; do stop_bg "portal-$i"; done
}
