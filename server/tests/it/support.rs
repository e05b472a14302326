//! Shared test helpers: configuration for a test database, the router, and polling with deadlines.

use std::time::{Duration, Instant};

use app::model::Role;
use app::ssr::Caller;
use certdesk::config::Config;
use certdesk::state::AppState;
use sqlx::PgPool;

pub const CHAIN_KEY: &str = "test-chain-key-0123456789abcdef0123456789";
pub const CLIENT_SECRET: &str = "test-client-secret-4b1d";

/// Names the running test stack's state folder; `end2end/stack.sh test` sets it.
const STACK_DIR_VARIABLE: &str = "CERTDESK_TEST_STACK_DIR";

/// The running test stack (PostgreSQL, OpenBao, Pebble, BIND, the OpenID provider): its state folder, where each
/// service leaves its address, credentials and CA files. Shown with `{}` it is the folder's path.
pub struct Stack {
    dir: String,
}

impl Stack {
    /// The trimmed contents of `relative` inside the stack's folder, such as `openbao/addr`.
    pub fn read(&self, relative: &str) -> String {
        let path = format!("{}/{relative}", self.dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => text.trim().to_owned(),
            Err(error) => panic!("the test stack has no {path} ({error}): is every service of the stack running?"),
        }
    }

    /// Where the stack's OpenBao listens.
    pub fn openbao_address(&self) -> reqwest::Url {
        let address = self.read("openbao/addr");
        reqwest::Url::parse(&address).unwrap_or_else(|error| panic!("the stack's openbao/addr `{address}`: {error}"))
    }
}

impl std::fmt::Display for Stack {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.dir)
    }
}

fn running_stack() -> Option<Stack> {
    std::env::var(STACK_DIR_VARIABLE).ok().filter(|dir| std::path::Path::new(dir).is_dir()).map(|dir| Stack { dir })
}

/// The running test stack. A test that needs it fails, saying how to start it, when there is none: it never passes
/// by skipping.
pub fn stack() -> Stack {
    running_stack().unwrap_or_else(|| {
        panic!(
            "this test needs the running test stack (OpenBao, Pebble, BIND, the OpenID provider): run the tests with \
             `end2end/stack.sh test`, or start the stack's services and set {STACK_DIR_VARIABLE} to its folder \
             (.stack/test)"
        )
    })
}

/// The stack's OpenID provider when there is a stack; otherwise an address nobody answers, for the tests that only
/// need a configuration to start from (those needing the provider call [`stack`]).
pub fn test_issuer_url() -> String {
    running_stack().map(|stack| stack.read("oidc/issuer")).unwrap_or_else(|| "http://127.0.0.1:9".to_owned())
}

/// The URL of the database a `#[sqlx::test]` pool points at (same server and credentials as `DATABASE_URL`).
pub fn database_url_of(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL must point at the test stack's PostgreSQL");
    let database = pool.connect_options().get_database().expect("test pools name their database").to_owned();
    let mut url = reqwest::Url::parse(&base).unwrap();
    url.set_path(&database);
    url.to_string()
}

/// A minimal valid configuration for `database_url`, plus `extra` TOML (issuers and the like).
pub fn config_toml(database_url: &str, listen: &str, extra: &str) -> String {
    format!(
        "[server]\nlisten = \"{listen}\"\npublic_url = \"http://{listen}\"\nsecure_cookies = false\n\
         [database]\nurl = \"{database_url}\"\n[audit]\nchain_key = \"{CHAIN_KEY}\"\n[log]\nformat = \"json\"\n\
         [auth]\nissuer_url = \"{issuer}\"\nclient_id = \"certdesk\"\nclient_secret = \"{CLIENT_SECRET}\"\n{extra}",
        issuer = test_issuer_url()
    )
}

/// Application state over the test database, migrations marked as applied (the pool is already migrated).
pub fn state_for(pool: &PgPool, extra: &str) -> AppState {
    let config = Config::from_toml_str(&config_toml(&database_url_of(pool), "127.0.0.1:3999", extra)).unwrap();
    let state = certdesk::serve::build_state(config).unwrap();
    state.migrations.mark_applied();
    state.with(|shared| shared.pool = pool.clone())
}

/// Polls `check` until it returns `Some`, or panics with `what` after `deadline`.
pub async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(start.elapsed() < deadline, "timed out after {deadline:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A TCP listener that accepts connections and never says a word (a silent DNS server, a hung web server); abort
/// the handle to let the connections go.
pub async fn silent_listener() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = listener.accept().await {
            held.push(connection);
        }
    });
    (port, holder)
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A TCP forwarder in front of a real server that can be closed (every connection cut, new ones refused) and
/// opened again: "the issuer went down" and "it came back" without stopping the shared server.
pub struct Gate {
    pub port: u16,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    connections: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Gate {
    pub async fn start(upstream: std::net::SocketAddr) -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let connections = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (is_open, tracked) = (open.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !is_open.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tracked.lock().unwrap().push(task.abort_handle());
            }
        });
        Self { port, open, connections }
    }

    pub fn close(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    pub fn open(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A signed-up person named `name` (e-mail `{name}@example.test`, lower case) with `role`, as the caller they are.
pub async fn person(pool: &PgPool, name: &str, role: Role) -> Caller {
    let id = uuid::Uuid::new_v4();
    sqlx::query(
        "INSERT INTO users (id, issuer, subject, display_name, email, role) VALUES ($1, 'https://idp', $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(id.to_string())
    .bind(name)
    .bind(format!("{}@example.test", name.to_lowercase()))
    .bind(role.as_str())
    .execute(pool)
    .await
    .unwrap();
    Caller {
        user_id: id,
        display_name: name.into(),
        role,
        csrf_token: String::new(),
        mfa_at: 0,
        credential: app::ssr::Credential::Session,
    }
}

/// Runs `statements` on the audit log with its append-only trigger switched off, as someone tampering with the
/// table would (the table owner can).
pub async fn tamper(pool: &PgPool, statements: &[&str]) {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("ALTER TABLE audit_events DISABLE TRIGGER USER").execute(&mut *tx).await.unwrap();
    for statement in statements {
        sqlx::query(statement).execute(&mut *tx).await.unwrap();
    }
    sqlx::query("ALTER TABLE audit_events ENABLE TRIGGER USER").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
}

/// The details of every audit event with `action`, oldest first.
pub async fn audit_details(pool: &PgPool, action: &str) -> Vec<serde_json::Value> {
    sqlx::query_scalar("SELECT details FROM audit_events WHERE action = $1 ORDER BY seq")
        .bind(action)
        .fetch_all(pool)
        .await
        .unwrap()
}
