# shellcheck shell=bash
# Dev OpenID Connect provider (end2end/oidc, npm oidc-provider): install, start/stop, status, TOTP and demo logins.
# Sourced after common.sh by end2end/stack.sh; defines functions only. State lives in $STACK_DIR/oidc.

oidc_issuer() { printf 'http://127.0.0.1:%s' "$OIDC_PORT"; }

oidc_install() {
  [ -f "$REPO_ROOT/node_modules/oidc-provider/package.json" ] && return 0
  log "installing npm packages (oidc-provider) with npm ci"
  (cd "$REPO_ROOT" && npm ci --no-audit --no-fund) || die "npm ci failed"
}

# Creates the client secret once, then (re)writes config.json: keys and secrets are kept, redirect URIs follow the
# current ports. Also writes the issuer/client_id/client_secret files the portal configuration reads.
_oidc_write_config() {
  local dir=$STACK_DIR/oidc
  mkdir -p "$dir" && chmod 700 "$dir"
  if [ ! -s "$dir/client_secret" ]; then
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/client_secret")
  fi
  node "$REPO_ROOT/end2end/oidc/config.mjs" "$dir/config.json" "$(oidc_issuer)" "$OIDC_PORT" \
    "$PORTAL_URL" "$PORTAL_PORT" "$dir/client_secret" || die "could not write $dir/config.json"
  oidc_issuer >"$dir/issuer"
  printf 'certdesk' >"$dir/client_id"
}

oidc_start() {
  oidc_install
  if is_running oidc; then
    log "oidc already running at $(oidc_issuer)"
    return 0
  fi
  port_free "$OIDC_PORT" || die "port $OIDC_PORT (OIDC) is already in use"
  _oidc_write_config
  start_bg oidc node "$REPO_ROOT/end2end/oidc/provider.mjs" "$STACK_DIR/oidc/config.json"
  wait_until "oidc discovery" 30 http_ok "$(oidc_issuer)/.well-known/openid-configuration" \
    || die "oidc did not come up; see $LOG_DIR/oidc.log"
  log "oidc up at $(oidc_issuer)"
}

oidc_stop() { stop_bg oidc; }

oidc_status() {
  if is_running oidc && http_ok "$(oidc_issuer)/.well-known/openid-configuration"; then
    printf 'oidc  up  %s\n' "$(oidc_issuer)"
    return 0
  fi
  printf 'oidc  down\n'
  return 1
}

# Demo users and secrets are fixed, so totp and demo-logins work before the first start too.
_oidc_ensure_config() { [ -f "$STACK_DIR/oidc/config.json" ] || _oidc_write_config; }

# oidc_totp USER: prints USER's current TOTP code.
oidc_totp() {
  [ -n "${1:-}" ] || die "usage: totp USER"
  _oidc_ensure_config
  node "$REPO_ROOT/end2end/oidc/totp.mjs" "$STACK_DIR/oidc/config.json" "$1"
}

oidc_demo_logins() {
  _oidc_ensure_config
  node "$REPO_ROOT/end2end/oidc/demo-logins.mjs" "$STACK_DIR/oidc/config.json"
}
