# shellcheck shell=bash
# PostgreSQL for the local stack: a private cluster on 127.0.0.1:$PG_PORT with the certdesk role and database.

# Layout: $STACK_DIR/postgres/{data,run,url,admin_url}. data (the cluster) and run (the unix socket) belong
# to the postgres user; url files are written by root. When the postgres user cannot reach $STACK_DIR
# (e.g. the checkout lives under /root, mode 0700) data and run are symlinks into a postgres-owned
# directory under /var/lib/postgresql/certdesk/ (see _pg_home).

PG_SUPERUSER_PASSWORD=postgres
PG_APP_ROLE=certdesk
PG_APP_PASSWORD=certdesk
PG_APP_DB=certdesk

# Newest installed server version's bin dir, e.g. /usr/lib/postgresql/15/bin. Prints nothing (and
# still succeeds, so `x=$(_pg_bindir)` is safe under set -e) when none is installed.
_pg_bindir() {
  local d
  d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n1) || d=
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then printf '%s\n' "$d"; fi
}

# Runs a command as the postgres user from /, so a root-only cwd (/root) cannot break it.
_pg_as() { (cd / && runuser -u postgres -- "$@"); }

postgres_install() {
  if [ -n "$(_pg_bindir)" ]; then return 0; fi
  log "installing postgresql (apt)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  [ -n "$(_pg_bindir)" ] || die "postgresql installed but no /usr/lib/postgresql/*/bin/initdb found"
}

# Where data/ and run/ really live. $STACK_DIR/postgres when the postgres user can get there (after
# giving o+x to STACK_DIR and STACK_DIR/postgres, which this stack owns), else a per-stack directory
# in the postgres user's home. The socket path must also stay under the kernel's 107-byte limit.
_pg_home() {
  local own=$STACK_DIR/postgres
  mkdir -p "$own"
  chmod o+x "$STACK_DIR" "$own"
  if _pg_as test -x "$own" && [ ${#own} -le 80 ]; then
    printf '%s\n' "$own"
  else
    printf '/var/lib/postgresql/certdesk/%s\n' "$(printf '%s' "$STACK_DIR" | cksum | cut -d' ' -f1)"
  fi
}

# Makes $STACK_DIR/postgres/{data,run} usable by the postgres user; prints the real data dir path.
_pg_prepare_dirs() {
  local home own=$STACK_DIR/postgres sub
  home=$(_pg_home)
  # No symlink in the stack dir but a directory outside: left over from a deleted stack dir with the
  # same path. Start clean, as a fresh stack dir would.
  if [ "$home" != "$own" ] && [ ! -L "$own/data" ] && [ -d "$home" ]; then
    log "postgres: removing stale cluster $home (its stack dir was deleted)"
    rm -rf -- "$home"
  fi
  for sub in data run; do
    if [ "$home" != "$own" ]; then
      mkdir -p "$home/$sub"
      ln -sfn "$home/$sub" "$own/$sub"
    else
      mkdir -p "$own/$sub"
    fi
    chown postgres:postgres "$home/$sub"
    chmod 0700 "$home/$sub"
  done
  if [ "$home" != "$own" ]; then chown postgres:postgres "$home" "$(dirname "$home")"; fi
  readlink -f "$own/data"
}

_pg_sockdir() { readlink -f "$STACK_DIR/postgres/run"; }

# The postmaster's pid if our cluster is running (from postmaster.pid; checks the process is postgres).
_pg_pid() {
  local pidfile=$STACK_DIR/postgres/data/postmaster.pid pid
  [ -f "$pidfile" ] || return 1
  pid=$(head -n1 "$pidfile")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ] &&
    printf '%s\n' "$pid"
}

_pg_ready() { "$(_pg_bindir)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2; }

# initdb once: UTF-8, superuser postgres with a password, and an hba that only allows scram on
# 127.0.0.1 (peer for the postgres OS user on the private socket, for maintenance).
_pg_initdb() {
  local data=$1 bin pwfile
  bin=$(_pg_bindir)
  pwfile=$(dirname "$data")/.pwfile
  printf '%s\n' "$PG_SUPERUSER_PASSWORD" >"$pwfile"
  chown postgres:postgres "$pwfile"
  chmod 0600 "$pwfile"
  log "postgres: initdb in $data"
  if ! _pg_as "$bin/initdb" -D "$data" -U postgres --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >>"$LOG_DIR/postgres.log" 2>&1; then
    rm -f "$pwfile"
    die "postgres: initdb failed (see $LOG_DIR/postgres.log)"
  fi
  rm -f "$pwfile"
  cat >"$data/pg_hba.conf" <<'EOF'
# certdesk local stack: TCP on 127.0.0.1 only, passwords with SCRAM.
local   all   postgres                   peer
local   all   all                        scram-sha-256
host    all   all        127.0.0.1/32    scram-sha-256
EOF
  chown postgres:postgres "$data/pg_hba.conf"
}

# Role and database; safe to run on every start (also resets the demo password if someone changed it).
_pg_ensure_app() {
  local bin
  bin=$(_pg_bindir)
  PGPASSWORD=$PG_SUPERUSER_PASSWORD "$bin/psql" -X -q -v ON_ERROR_STOP=1 \
    "host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres" >>"$LOG_DIR/postgres.log" 2>&1 <<EOF
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_APP_ROLE') THEN
    CREATE ROLE $PG_APP_ROLE LOGIN CREATEDB;
  END IF;
END \$\$;
ALTER ROLE $PG_APP_ROLE WITH LOGIN CREATEDB PASSWORD '$PG_APP_PASSWORD';
SELECT 'CREATE DATABASE $PG_APP_DB OWNER $PG_APP_ROLE'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PG_APP_DB') \gexec
EOF
}

_pg_write_urls() {
  printf 'postgres://%s:%s@127.0.0.1:%s/%s\n' "$PG_APP_ROLE" "$PG_APP_PASSWORD" "$PG_PORT" "$PG_APP_DB" \
    >"$STACK_DIR/postgres/url"
  printf 'postgres://postgres:%s@127.0.0.1:%s/postgres\n' "$PG_SUPERUSER_PASSWORD" "$PG_PORT" \
    >"$STACK_DIR/postgres/admin_url"
}

postgres_start() {
  local bin data sock
  bin=$(_pg_bindir)
  [ -n "$bin" ] || die "postgres: server binaries missing (run postgres_install)"
  mkdir -p "$LOG_DIR"
  if _pg_pid >/dev/null; then
    # Ours is already running (maybe still starting): only re-check the role and database.
    wait_until "postgres on 127.0.0.1:$PG_PORT" 30 _pg_ready ||
      die "postgres: the stack's server runs but does not answer on 127.0.0.1:$PG_PORT (port changed? run stop first)"
    _pg_ensure_app || die "postgres: creating role/database failed (see $LOG_DIR/postgres.log)"
    _pg_write_urls
    return 0
  fi
  port_free "$PG_PORT" || die "postgres: port 127.0.0.1:$PG_PORT is taken by another process"
  data=$(_pg_prepare_dirs)
  sock=$(_pg_sockdir)
  [ -f "$data/PG_VERSION" ] || _pg_initdb "$data"
  # Port, socket and address are passed on every start rather than written to postgresql.conf,
  # so CERTDESK_PG_PORT can change between runs. pg_ctl's output (the server log) goes to a file
  # opened by root, which works even when the postgres user cannot write to $LOG_DIR.
  log "postgres: starting on 127.0.0.1:$PG_PORT"
  if ! _pg_as "$bin/pg_ctl" start -D "$data" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k '$sock'" >>"$LOG_DIR/postgres.log" 2>&1; then
    die "postgres: pg_ctl start failed (see $LOG_DIR/postgres.log)"
  fi
  wait_until "postgres on 127.0.0.1:$PG_PORT" 30 _pg_ready || die "postgres: not ready (see $LOG_DIR/postgres.log)"
  _pg_ensure_app || die "postgres: creating role/database failed (see $LOG_DIR/postgres.log)"
  _pg_write_urls
}

postgres_stop() {
  local pid
  pid=$(_pg_pid) || return 0
  _pg_as "$(_pg_bindir)/pg_ctl" stop -D "$(readlink -f "$STACK_DIR/postgres/data")" -m fast -w -t 60 \
    >>"$LOG_DIR/postgres.log" 2>&1 || true
  # pg_ctl waits for the postmaster; this catches a server it could not stop (e.g. a broken pid file).
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait_until "postgres to exit" 15 bash -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null || true
  fi
}

postgres_status() {
  if _pg_pid >/dev/null && _pg_ready; then
    printf 'postgres  up  127.0.0.1:%s\n' "$PG_PORT"
    return 0
  fi
  printf 'postgres  down\n'
  return 1
}
