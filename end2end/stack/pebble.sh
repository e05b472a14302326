# shellcheck shell=bash
# Pebble for the local stack: ACME test CA on 127.0.0.1:$PEBBLE_PORT plus pebble-challtestsrv as its DNS.

# $STACK_DIR/pebble holds listener-ca.{pem,key} and cert.pem/key.pem (the HTTPS listener, made once),
# pebble-config.json (rewritten each start), directory_url, and issuing-root.pem /
# issuing-intermediate.pem (pebble's issuing CA, new on every start: fetched by pebble_fetch_roots).

PEBBLE_DIR=$STACK_DIR/pebble
PEBBLE_TLS_PORT=${CERTDESK_PEBBLE_TLS_PORT:-5001}
PEBBLE_VALIDITY=${CERTDESK_PEBBLE_VALIDITY:-7776000}

pebble_install() {
  command -v pebble >/dev/null && command -v pebble-challtestsrv >/dev/null && return 0
  log "installing pebble (apt)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pebble >/dev/null
  command -v pebble >/dev/null || die "pebble: installed but not on PATH"
}

# Debian ships no test certificates: a small CA (clients trust listener-ca.pem) and a
# localhost/127.0.0.1 server cert for pebble's HTTPS listeners. Made once, reused across restarts.
_pebble_make_listener_certs() {
  [ -s "$PEBBLE_DIR/listener-ca.pem" ] && [ -s "$PEBBLE_DIR/cert.pem" ] && [ -s "$PEBBLE_DIR/key.pem" ] && return 0
  log "pebble: creating listener CA and localhost certificate"
  local ext
  ext=$(mktemp)
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PEBBLE_DIR/listener-ca.key" 2>/dev/null)
  openssl req -x509 -new -key "$PEBBLE_DIR/listener-ca.key" -sha256 -days 3650 -subj "/CN=certdesk Pebble Listener CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$PEBBLE_DIR/listener-ca.pem" 2>/dev/null
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PEBBLE_DIR/key.pem" 2>/dev/null)
  cat >"$ext" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
  openssl req -new -key "$PEBBLE_DIR/key.pem" -subj "/CN=localhost" |
    openssl x509 -req -CA "$PEBBLE_DIR/listener-ca.pem" -CAkey "$PEBBLE_DIR/listener-ca.key" -sha256 -days 3650 \
      -set_serial "0x$(openssl rand -hex 16)" -extfile "$ext" -out "$PEBBLE_DIR/cert.pem" 2>/dev/null
  rm -f "$ext"
  [ -s "$PEBBLE_DIR/cert.pem" ] || die "pebble: creating the listener certificate failed"
}

_pebble_write_config() {
  cat >"$PEBBLE_DIR/pebble-config.json" <<EOF
{
  "pebble": {
    "listenAddress": "127.0.0.1:$PEBBLE_PORT",
    "managementListenAddress": "127.0.0.1:$PEBBLE_MGMT_PORT",
    "certificate": "$PEBBLE_DIR/cert.pem",
    "privateKey": "$PEBBLE_DIR/key.pem",
    "httpPort": $PEBBLE_HTTP01_PORT,
    "tlsPort": $PEBBLE_TLS_PORT,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false,
    "certificateValidityPeriod": $PEBBLE_VALIDITY
  }
}
EOF
}

_pebble_dir_ok() { http_ok --cacert "$PEBBLE_DIR/listener-ca.pem" "https://127.0.0.1:$PEBBLE_PORT/dir"; }
_pebble_chall_up() { ! port_free "$CHALL_MGMT_PORT" && ! port_free "$CHALL_DNS_PORT"; }

_pebble_check_ports() {
  local p
  for p in "$@"; do
    port_free "$p" || die "pebble: port 127.0.0.1:$p is taken by another process"
  done
}

# Mock DNS (every A query answers 127.0.0.1, no AAAA) and the management API for TXT records.
# Its own HTTP-01/TLS-ALPN responders are off: the portal answers the challenges.
_pebble_start_challtestsrv() {
  if ! is_running pebble-challtestsrv; then
    start_bg pebble-challtestsrv pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
      -dns01 "127.0.0.1:$CHALL_DNS_PORT" -http01 "" -https01 "" -tlsalpn01 "" -management "127.0.0.1:$CHALL_MGMT_PORT"
  fi
  wait_until "pebble-challtestsrv on 127.0.0.1:$CHALL_MGMT_PORT" 20 _pebble_chall_up ||
    die "pebble: pebble-challtestsrv did not come up (see $LOG_DIR/pebble-challtestsrv.log)"
}

# Deterministic by default (no validation sleep, no random badNonce, no authz reuse); with
# CERTDESK_PEBBLE_DEFAULTS=1 those variables are removed so pebble's defaults apply.
_pebble_start_pebble() {
  local -a envs=(env -u PEBBLE_VA_NOSLEEP -u PEBBLE_WFE_NONCEREJECT -u PEBBLE_AUTHZREUSE)
  if [ "${CERTDESK_PEBBLE_DEFAULTS:-0}" != 1 ]; then
    envs+=(PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0)
  fi
  if ! is_running pebble; then
    # -dnsserver keeps the validator on challtestsrv instead of the machine's resolver.
    start_bg pebble "${envs[@]}" pebble -config "$PEBBLE_DIR/pebble-config.json" -dnsserver "127.0.0.1:$CHALL_DNS_PORT"
  fi
  wait_until "pebble directory on https://127.0.0.1:$PEBBLE_PORT/dir" 30 _pebble_dir_ok ||
    die "pebble: directory not served (see $LOG_DIR/pebble.log)"
}

pebble_start() {
  command -v pebble >/dev/null || die "pebble: not installed (run pebble_install)"
  mkdir -p "$PEBBLE_DIR" "$LOG_DIR"
  if is_running pebble && is_running pebble-challtestsrv && _pebble_dir_ok; then return 0; fi
  # All ports are checked before anything starts, so a conflict leaves nothing half-running.
  is_running pebble-challtestsrv || _pebble_check_ports "$CHALL_DNS_PORT" "$CHALL_MGMT_PORT"
  is_running pebble || _pebble_check_ports "$PEBBLE_PORT" "$PEBBLE_MGMT_PORT"
  log "pebble: starting on 127.0.0.1:$PEBBLE_PORT (dns 127.0.0.1:$CHALL_DNS_PORT)"
  _pebble_make_listener_certs
  _pebble_write_config
  _pebble_start_challtestsrv
  _pebble_start_pebble
  printf 'https://127.0.0.1:%s/dir\n' "$PEBBLE_PORT" >"$PEBBLE_DIR/directory_url"
  # The resolver pebble's validator uses; tests start Pebbles of their own with the same one.
  printf '127.0.0.1:%s\n' "$CHALL_DNS_PORT" >"$PEBBLE_DIR/dns_server"
  pebble_fetch_roots
}

# Pebble makes a new issuing hierarchy on every start: save the current root and intermediate.
pebble_fetch_roots() {
  local base=https://127.0.0.1:$PEBBLE_MGMT_PORT
  local what
  for what in root intermediate; do
    curl -fsS --max-time 5 --cacert "$PEBBLE_DIR/listener-ca.pem" "$base/${what}s/0" \
      -o "$PEBBLE_DIR/issuing-$what.pem" || die "pebble: could not fetch $base/${what}s/0"
  done
}

# Both take about a second to exit after TERM: stop them side by side. Wait for these two jobs only: a bare
# `wait` would also wait for every other service this shell started.
pebble_stop() {
  local jobs=()
  stop_bg pebble &
  jobs+=($!)
  stop_bg pebble-challtestsrv &
  jobs+=($!)
  wait "${jobs[@]}"
}

pebble_status() {
  if is_running pebble && is_running pebble-challtestsrv && _pebble_dir_ok; then
    printf 'pebble  up  127.0.0.1:%s\n' "$PEBBLE_PORT"
    return 0
  fi
  printf 'pebble  down\n'
  return 1
}
