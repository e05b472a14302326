# shellcheck shell=bash
# The `floor` benchmark: what PostgreSQL alone spends on the durable writes that issuance and an ACME flow cannot do
# without (end2end/stack/floor/*.pgb on the smallest tables that hold them, floor/schema.sql), driven by pgbench at 1
# and 8 clients on the stack's PostgreSQL. It bounds what the ratio goals of issues 16 and 17 can reach on this
# machine: no design that keeps the intent durable before the CA call, each audited moment in its own transaction
# and the audit chain linked under its head's lock can spend less PostgreSQL CPU than this (README "Benchmarks").

FLOOR_DIR=$REPO_ROOT/end2end/stack/floor
FLOOR_DATABASE=certdesk_bench_floor
# Scripts per client: enough for a second or more of work at each level.
FLOOR_RUNS_PER_LEVEL=${CERTDESK_BENCH_FLOOR_RUNS:-4000}

# Set by bench_floor_report: the stack's postmaster, its admin URL and the scratch database's URL.
FLOOR_POSTMASTER=
FLOOR_ADMIN_URL=
FLOOR_URL=

# CPU ticks of the stack's PostgreSQL: its postmaster and the processes running under it, plus the children that
# already exited (pgbench's backends end with the run and their time moves to the postmaster's cutime/cstime).
_floor_postgres_ticks() {
  local pid ticks=0
  ticks=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$FLOOR_POSTMASTER/stat")
  for pid in $(pgrep -P "$FLOOR_POSTMASTER"); do
    ticks=$((ticks + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  printf '%s\n' "$ticks"
}

# Waits until pgbench's backends have exited and the postmaster has reaped them, so that their time is in its cutime
# and counted once.
_floor_backends_gone() {
  local left
  for _ in $(seq 1 50); do
    left=$("$(_pg_bindir)/psql" -X -q -At "$FLOOR_ADMIN_URL" \
      -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$FLOOR_DATABASE'") || left=1
    if [ "$left" = 0 ]; then
      sleep 0.5
      return 0
    fi
    sleep 0.1
  done
  die "floor: pgbench's backends did not exit"
}

# One row: `script` run by `clients` pgbench clients; throughput and PostgreSQL CPU ms per script run.
_floor_row() {
  local what=$1 script=$2 clients=$3
  local runs=$((FLOOR_RUNS_PER_LEVEL / clients * clients)) before after output tps hz
  hz=$(getconf CLK_TCK)
  _floor_backends_gone
  before=$(_floor_postgres_ticks)
  output=$("$(_pg_bindir)/pgbench" -n -M prepared -c "$clients" -j 1 -t $((runs / clients)) -f "$FLOOR_DIR/$script" \
    "$FLOOR_URL" 2>&1) || die "pgbench $script failed: $output"
  _floor_backends_gone
  after=$(_floor_postgres_ticks)
  tps=$(printf '%s\n' "$output" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -n1)
  awk -v what="$what" -v c="$clients" -v tps="$tps" -v ticks=$((after - before)) -v hz="$hz" -v runs="$runs" \
    'BEGIN { printf "| %s | %d | %.0f | %.2f |\n", what, c, tps, ticks * 1000 / hz / runs }'
}

bench_floor_report() {
  local clients
  FLOOR_ADMIN_URL=$(cat "$STACK_DIR/postgres/admin_url")
  FLOOR_URL=${FLOOR_ADMIN_URL%/*}/$FLOOR_DATABASE
  FLOOR_POSTMASTER=$(head -n1 "$(readlink -f "$STACK_DIR/postgres/data")/postmaster.pid")
  "$(_pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 "$FLOOR_ADMIN_URL" \
    -c "DROP DATABASE IF EXISTS $FLOOR_DATABASE" -c "CREATE DATABASE $FLOOR_DATABASE" >/dev/null ||
    die "floor: cannot create the scratch database $FLOOR_DATABASE"
  "$(_pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 "$FLOOR_URL" -f "$FLOOR_DIR/schema.sql" >/dev/null ||
    die "floor: cannot create its tables"
  printf '\n## PostgreSQL floor (pgbench on the stack'"'"'s PostgreSQL, %s runs per level)\n\n' "$FLOOR_RUNS_PER_LEVEL"
  printf 'The durable writes alone, on the smallest tables that hold them (end2end/stack/floor/).\n\n'
  printf '| writes | clients | runs/s | PostgreSQL CPU ms per run |\n|---|---:|---:|---:|\n'
  for clients in 1 8; do
    _floor_row "one issuance: intent + audit event, issued + audit event" issuance.pgb "$clients"
  done
  for clients in 1 8; do
    _floor_row "one ACME flow: 7 nonces, 5 audited transactions" acme_flow.pgb "$clients"
  done
  "$(_pg_bindir)/psql" -X -q "$FLOOR_ADMIN_URL" -c "DROP DATABASE IF EXISTS $FLOOR_DATABASE" >/dev/null || true
}
