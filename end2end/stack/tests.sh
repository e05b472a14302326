# shellcheck shell=bash
# Every test, in the order that fails fastest: format and lints, one release build, then the Rust tests and the
# browser tests against a freshly started test stack, which is stopped whatever happens, and last the failover drill
# against the cluster mode, on the same build.

phase() {
  PHASE_NAME=$1
  PHASE_START=$SECONDS
  log "── $1"
}

phase_done() { log "   $PHASE_NAME took $((SECONDS - PHASE_START)) s"; }

run_all_tests() {
  local started=$SECONDS
  export SQLX_OFFLINE=true
  cd "$REPO_ROOT"

  phase "format"
  cargo fmt --all --check
  phase_done

  phase "README's Kubernetes example (schemas, offline)"
  node end2end/readme/k8s-examples.mjs
  phase_done

  phase "deploy/kubernetes (kustomize render, schemas, references, offline)"
  node end2end/deploy/manifests.mjs
  phase_done

  phase "clippy (server build, ssr)"
  cargo clippy --workspace --all-targets --locked -- -D warnings
  phase_done

  phase "clippy (browser build, hydrate)"
  cargo clippy -p app --lib --locked --target wasm32-unknown-unknown --no-default-features --features hydrate -- -D warnings
  phase_done

  phase "release build"
  toolchain_build
  phase_done

  phase "container image files (layout, config check of the manifests' configuration, serve and stop)"
  node end2end/deploy/image-root.mjs "$(image_root)"
  phase_done

  phase "test stack"
  trap 'log "stopping the test stack"; stack_down' EXIT
  stack_down >/dev/null 2>&1 || true
  # Every run starts from an empty test stack, as CI's clean clone does: state left by an earlier run (an enrolled
  # second factor, issued certificates) must not decide whether a test passes.
  case $STACK_DIR in */.stack/test) rm -rf -- "$STACK_DIR" ;; esac
  services_up
  portal_start
  phase_done

  phase "rust tests (on the release build's dependencies)"
  # Same profile, features and LEPTOS_* variables as cargo-leptos's server build, so the tests reuse what it compiled
  # instead of building everything a second time in the debug profile. Its features exactly: cargo-leptos builds the
  # server with `--no-default-features --features=ssr`, and a feature set that merely adds `default` (even an empty
  # one) makes cargo compile `app` and `server` again.
  LEPTOS_OUTPUT_NAME=certdesk LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_SITE_ADDR=127.0.0.1:3000 \
    LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=app LEPTOS_BIN_DIR=server LEPTOS_JS_MINIFY=true LEPTOS_HASH_FILES=false \
    DATABASE_URL=$(cat "$STACK_DIR/postgres/url") \
    CERTDESK_TEST_STACK_DIR=$STACK_DIR \
    cargo test --release --locked -p server -p app --no-default-features --features server/ssr,app/ssr
  phase_done

  phase "browser tests (Chromium, release build)"
  CERTDESK_E2E_URL=$PORTAL_URL CERTDESK_E2E_STACK_DIR=$STACK_DIR \
    node --test --test-concurrency=1 "$REPO_ROOT"/end2end/tests/*.test.mjs
  phase_done

  phase "audit chain of the test portal"
  CERTDESK_CONFIG="$STACK_DIR/portal/certdesk.toml" "$(portal_binary)" audit verify
  phase_done

  phase "failover drill (3 replicas behind HAProxy, OpenBao Raft, faults under load; same build)"
  # The cluster mode takes the test stack's ports: the stack goes first.
  stack_down
  "$REPO_ROOT/end2end/stack.sh" cluster-test
  phase_done

  log "all tests passed in $((SECONDS - started)) s"
}
