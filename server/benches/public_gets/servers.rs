//! The two servers measured, each a child process on a loopback port of its own: certdesk's release binary
//! (`certdesk serve` on the scratch database, its CRL fetched from the stack's OpenBao as in production, its
//! access log written like production's) and Debian's nginx serving the same bytes from disk. CPU time is read
//! from /proc for the process and its children (nginx's workers).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::support::cpu::Process;

pub struct Server {
    pub base: String,
    child: Child,
}

impl Server {
    /// User plus system CPU seconds of the server so far, its child processes included.
    pub fn cpu_seconds(&self) -> Result<f64> {
        Process::new(self.child.id()).seconds()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// certdesk's release binary with `config` (written to `dir/certdesk.toml`), once `/crl/private.crl` answers.
pub async fn certdesk(binary: &Path, dir: &Path, config: &str, base: String) -> Result<Server> {
    let config_file = dir.join("certdesk.toml");
    std::fs::write(&config_file, config)?;
    let log = std::fs::File::create(dir.join("certdesk.log"))?;
    let child = Command::new(binary)
        .arg("serve")
        .env("CERTDESK_CONFIG", &config_file)
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let server = Server { base, child };
    // The CRL refresher fetches the issuer's CRL from OpenBao at start.
    wait_for_ok(&format!("{}/crl/private.crl", server.base), Duration::from_secs(90), &dir.join("certdesk.log"))
        .await?;
    Ok(server)
}

/// nginx serving `files` (path below the root, bytes) from `dir/www`, with the content types certdesk sends.
pub async fn nginx(dir: &Path, port: u16, files: &[(&str, Vec<u8>)]) -> Result<Server> {
    let root = dir.join("www");
    for (path, bytes) in files {
        let relative = path.trim_start_matches('/');
        // nginx answers a directory (`/`) with its index.html.
        let file = if relative.is_empty() { root.join("index.html") } else { root.join(relative) };
        std::fs::create_dir_all(file.parent().context("a file below the root")?)?;
        std::fs::write(&file, bytes)?;
    }
    let text = |path: &Path| path.to_string_lossy().into_owned();
    let config = format!(
        "worker_processes auto;\ndaemon off;\npid {dir}/nginx.pid;\nerror_log {dir}/error.log warn;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log {dir}/access.log;\n  client_body_temp_path {dir}/body;\n  proxy_temp_path {dir}/proxy;\n\
         \x20 fastcgi_temp_path {dir}/fastcgi;\n  uwsgi_temp_path {dir}/uwsgi;\n  scgi_temp_path {dir}/scgi;\n\
         \x20 types {{ application/pkix-crl crl; application/pkix-cert der; }}\n  default_type text/plain;\n\
         \x20 server {{ listen 127.0.0.1:{port}; root {root}; }}\n}}\n",
        dir = text(dir),
        root = text(&root),
    );
    let config_file = dir.join("nginx.conf");
    std::fs::write(&config_file, config)?;
    let child = Command::new("nginx")
        .args(["-e", &text(&dir.join("error.log")), "-p", &text(dir), "-c", &text(&config_file)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting nginx (apt install nginx-light; end2end/stack.sh bench installs it)")?;
    let server = Server { base: format!("http://127.0.0.1:{port}"), child };
    wait_for_ok(&format!("{}/healthz", server.base), Duration::from_secs(10), &dir.join("error.log")).await?;
    Ok(server)
}

async fn wait_for_ok(url: &str, within: Duration, log: &Path) -> Result<()> {
    let started = Instant::now();
    let client = reqwest::Client::new();
    loop {
        if let Ok(response) = client.get(url).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        if started.elapsed() > within {
            let tail = std::fs::read_to_string(log).unwrap_or_default();
            let tail: String =
                tail.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
            bail!("{url} did not answer 200 within {within:?}; last lines of {}:\n{tail}", log.display());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The certdesk binary the bench measures: `CERTDESK_BINARY`, or the workspace's release build.
pub fn certdesk_binary() -> PathBuf {
    std::env::var_os("CERTDESK_BINARY").map(PathBuf::from).unwrap_or_else(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        manifest.parent().unwrap_or(manifest).join("target/release/certdesk")
    })
}
