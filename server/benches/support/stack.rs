//! The running stack the benchmark measures against (`CERTDESK_BENCH_STACK_DIR`), and the scratch database made
//! on its PostgreSQL for one run and dropped after it.

use std::path::PathBuf;

use anyhow::{Context, Result};
use reqwest::Url;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use super::cpu::Process;

/// What a stack started by end2end/stack.sh leaves in its folder.
#[derive(Debug, Clone)]
pub struct Stack {
    pub dir: PathBuf,
    pub bao_address: Url,
    pub postgres_url: Url,
}

impl Stack {
    pub fn from_env() -> Result<Self> {
        let dir = std::env::var_os("CERTDESK_BENCH_STACK_DIR")
            .map(PathBuf::from)
            .context("CERTDESK_BENCH_STACK_DIR must name a running stack's folder (end2end/stack.sh bench sets it)")?;
        let bao_address = Url::parse(&read(&dir, "openbao/addr")?).context("openbao/addr is not a URL")?;
        let postgres_url = Url::parse(&read(&dir, "postgres/url")?).context("postgres/url is not a URL")?;
        Ok(Self { dir, bao_address, postgres_url })
    }

    /// A file of the stack's OpenBao folder (`role_id`, `secret_id`, `root_ca.pem`).
    pub fn openbao_file(&self, name: &str) -> PathBuf {
        self.dir.join("openbao").join(name)
    }

    pub fn read_openbao(&self, name: &str) -> Result<String> {
        read(&self.dir, &format!("openbao/{name}"))
    }

    /// The stack's PostgreSQL server (its backends are the postmaster's children).
    pub fn postgres_process(&self) -> Result<Process> {
        Process::from_pid_file(&self.dir.join("postgres/data/postmaster.pid"))
    }

    /// The stack's OpenBao server.
    pub fn openbao_process(&self) -> Result<Process> {
        Process::from_pid_file(&self.dir.join("openbao.pid"))
    }
}

/// The stack's Pebble (end2end/stack/pebble.sh): where its directory is, the CA its HTTPS listener's certificate
/// chains to, and the port its validator fetches http-01 answers from (on the address the name resolves to, which
/// the stack's DNS answers with 127.0.0.1 for every name outside BIND's own zone).
pub struct StackPebble {
    pub directory_url: String,
    pub listener_ca: PathBuf,
    pub http01_port: u16,
}

impl Stack {
    pub fn pebble(&self) -> Result<StackPebble> {
        let missing = "the stack has no Pebble: `end2end/stack.sh bench` starts one";
        let directory_url = read(&self.dir, "pebble/directory_url").context(missing)?;
        let config = read(&self.dir, "pebble/pebble-config.json").context(missing)?;
        let config: serde_json::Value =
            serde_json::from_str(&config).context("pebble/pebble-config.json is not JSON")?;
        let http01_port = config["pebble"]["httpPort"]
            .as_u64()
            .and_then(|port| u16::try_from(port).ok())
            .context("pebble/pebble-config.json has no pebble.httpPort")?;
        Ok(StackPebble { directory_url, listener_ca: self.dir.join("pebble/listener-ca.pem"), http01_port })
    }

    /// The stack's BIND (`host:port`), the resolver Pebble's validator asks through `-dnsserver`.
    pub fn bind_address(&self) -> Result<String> {
        read(&self.dir, "bind/address").context("the stack has no BIND: `end2end/stack.sh bench` starts one")
    }

    pub fn pebble_process(&self) -> Result<Process> {
        Process::from_pid_file(&self.dir.join("pebble.pid"))
    }

    /// The stack's DNS: BIND, and pebble-challtestsrv it forwards to.
    pub fn dns_processes(&self) -> Result<[Process; 2]> {
        Ok([
            Process::from_pid_file(&self.dir.join("bind.pid"))?,
            Process::from_pid_file(&self.dir.join("pebble-challtestsrv.pid"))?,
        ])
    }
}

fn read(dir: &std::path::Path, name: &str) -> Result<String> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text.trim().to_owned())
}

/// A uniquely named database on the stack's PostgreSQL, for one run only.
pub struct ScratchDatabase {
    admin: PgPool,
    name: String,
    pub url: Url,
}

impl ScratchDatabase {
    pub async fn create(stack: &Stack) -> Result<Self> {
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(stack.postgres_url.as_str())
            .await
            .context("cannot connect to the stack's PostgreSQL")?;
        // A generated name (letters, digits, underscores), so quoting it is enough.
        let name = format!("certdesk_bench_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&admin)
            .await
            .with_context(|| format!("CREATE DATABASE {name}"))?;
        let mut url = stack.postgres_url.clone();
        url.set_path(&name);
        Ok(Self { admin, name, url })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database even if a pool still holds connections to it. An autovacuum worker (after a bulk
    /// load) cannot be terminated by a non-superuser: wait for it, up to 30 s.
    pub async fn drop_now(self) -> Result<()> {
        let statement = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        let mut attempts = 0;
        let dropped = loop {
            attempts += 1;
            match sqlx::query(&statement).execute(&self.admin).await {
                Err(_) if attempts < 60 => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
                other => break other.with_context(|| format!("DROP DATABASE {}", self.name)),
            }
        };
        self.admin.close().await;
        dropped.map(|_| ())
    }
}
