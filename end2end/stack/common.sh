# shellcheck shell=bash
# Shared paths, ports and process helpers for the local stack; sourced by stack.sh and each component file.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK_DIR=${CERTDESK_STACK_DIR:-$REPO_ROOT/.stack}
LOG_DIR=$STACK_DIR/logs

# Every port can be overridden from the environment so two stacks (demo and test) can run side by side.
PG_PORT=${CERTDESK_PG_PORT:-55432}
BAO_PORT=${CERTDESK_BAO_PORT:-58200}
PEBBLE_PORT=${CERTDESK_PEBBLE_PORT:-14000}
PEBBLE_MGMT_PORT=${CERTDESK_PEBBLE_MGMT_PORT:-15000}
PEBBLE_HTTP01_PORT=${CERTDESK_PEBBLE_HTTP01_PORT:-5002}
CHALL_DNS_PORT=${CERTDESK_CHALL_DNS_PORT:-8053}
CHALL_MGMT_PORT=${CERTDESK_CHALL_MGMT_PORT:-8055}
BIND_PORT=${CERTDESK_BIND_PORT:-8054}
OIDC_PORT=${CERTDESK_OIDC_PORT:-59400}
PORTAL_PORT=${CERTDESK_PORT:-3000}
PORTAL_URL=${CERTDESK_PUBLIC_URL:-http://127.0.0.1:$PORTAL_PORT}

# npm's tools first (its binaryen: Debian's wasm-opt breaks hydration), then where `cargo install` puts the build
# tools, which a fresh rustup install has not put on PATH in this shell yet.
export PATH="$REPO_ROOT/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

# wait_until DESCRIPTION SECONDS COMMAND...: polls COMMAND every 0.2 s until it succeeds or the deadline passes.
wait_until() {
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${seconds}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$@"; }

# start_bg NAME COMMAND...: runs COMMAND detached, logging to $LOG_DIR/NAME.log, pid in $STACK_DIR/NAME.pid.
start_bg() {
  local name=$1; shift
  mkdir -p "$LOG_DIR"
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$STACK_DIR/$name.pid"
}

# A process this shell started stays a zombie until reaped, and kill -0 still succeeds on a zombie.
alive() {
  kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

pid_of() { [ -f "$STACK_DIR/$1.pid" ] && cat "$STACK_DIR/$1.pid"; }

is_running() {
  local pid
  pid=$(pid_of "$1") || return 1
  [ -n "$pid" ] && alive "$pid"
}

# stop_bg NAME: TERM the process group, wait up to 10 s, then KILL; removes the pid file.
stop_bg() {
  local name=$1 pid
  pid=$(pid_of "$name") || return 0
  if [ -n "$pid" ] && alive "$pid"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    local deadline=$((SECONDS + 10))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$STACK_DIR/$name.pid"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
