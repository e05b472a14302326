//! `certdesk serve` as a process: starts while PostgreSQL is unreachable (retries, `/readyz` 503, no panic),
//! becomes ready by itself when the database appears, never logs secrets, refuses a port in use, and shuts down
//! cleanly on SIGTERM.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use sqlx::PgPool;
use tokio::net::{TcpListener, TcpStream};

use crate::support::{CHAIN_KEY, config_toml, database_url_of, eventually, free_port};

/// A TCP gate in front of the real PostgreSQL: closed until `open` is called, so "the database is down" and
/// "the database came back" can be staged without stopping the shared server.
async fn open_gate(port: u16, upstream: SocketAddr) {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut server) = TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
}

fn upstream_of(database_url: &str) -> SocketAddr {
    let url = reqwest::Url::parse(database_url).unwrap();
    let host = url.host_str().unwrap();
    let host = if host == "localhost" { "127.0.0.1" } else { host };
    format!("{host}:{}", url.port().unwrap_or(5432)).parse().unwrap()
}

async fn status_of(client: &reqwest::Client, url: &str) -> Option<(u16, String)> {
    let response = client.get(url).send().await.ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().await.unwrap_or_default()))
}

#[test]
fn serve_starts_without_its_database_retries_and_never_logs_secrets() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let secret_password = "pw-only-in-the-config-7c1e";
    let unreachable = format!("postgres://certdesk:{secret_password}@127.0.0.1:{}/certdesk", free_port());
    let (mut child, base, log_path) = spawn_serve(&unreachable);
    runtime.block_on(async {
        let client = reqwest::Client::new();
        eventually("the server to answer /healthz", Duration::from_secs(20), || async {
            status_of(&client, &format!("{base}/healthz")).await.filter(|(status, _)| *status == 200)
        })
        .await;
        let (status, body) = status_of(&client, &format!("{base}/readyz")).await.unwrap();
        assert_eq!(status, 503, "{body}");
        let readiness: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(readiness["down"], serde_json::json!(["database"]), "{body}");
        assert_eq!(readiness["database"]["ok"], false, "{body}");
        eventually("two logged retries", Duration::from_secs(20), || async {
            let log = std::fs::read_to_string(&log_path).unwrap();
            (log.matches("database not ready; will retry").count() >= 2).then_some(())
        })
        .await;
    });
    assert!(child.try_wait().unwrap().is_none(), "the server must not exit while the database is unavailable");
    stop(&mut child);
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(!log.contains(secret_password), "the database password reached the log:\n{log}");
    assert!(!log.contains(CHAIN_KEY), "the audit chain key reached the log:\n{log}");
    assert!(!log.contains("panicked"), "{log}");
    for line in log.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
    }
}

#[sqlx::test(migrations = false)]
async fn serve_becomes_ready_by_itself_when_the_database_returns(pool: PgPool) {
    let real_url = database_url_of(&pool);
    let gate_port = free_port();
    let mut gated = reqwest::Url::parse(&real_url).unwrap();
    gated.set_port(Some(gate_port)).unwrap();
    let (mut child, base, log_path) = spawn_serve(gated.as_str());
    let client = reqwest::Client::new();
    eventually("/readyz to answer 503 while the database is down", Duration::from_secs(20), || async {
        status_of(&client, &format!("{base}/readyz")).await.filter(|(status, _)| *status == 503)
    })
    .await;

    open_gate(gate_port, upstream_of(&real_url)).await;
    let (_, body) = eventually("/readyz to turn 200 once the database is back", Duration::from_secs(60), || async {
        status_of(&client, &format!("{base}/readyz")).await.filter(|(status, _)| *status == 200)
    })
    .await;
    assert!(body.contains("\"status\":\"ready\""), "{body}");
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations").fetch_one(&pool).await.unwrap();
    assert!(applied >= 1, "the server applied the migrations");

    let exit = stop(&mut child);
    assert!(exit.success(), "SIGTERM ends the server cleanly: {exit:?}");
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("shutdown requested"), "{log}");
    assert!(log.contains("migrations applied"), "{log}");
}

#[test]
fn serve_refuses_a_port_in_use_with_a_clear_message() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let dir = std::env::temp_dir().join(format!("certdesk-port-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("certdesk.toml"), config_toml("postgres://u:p@127.0.0.1:1/db", &listen, "")).unwrap();
    let output = crate::cli::certdesk(&dir.join("certdesk.toml"), &["serve"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("already in use") && stderr.contains(&listen), "{stderr}");
}

fn spawn_serve(database_url: &str) -> (std::process::Child, String, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("certdesk-serve-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    std::fs::write(dir.join("certdesk.toml"), config_toml(database_url, &listen, "")).unwrap();
    let log_path = dir.join("out.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_certdesk"))
        .args(["--config", dir.join("certdesk.toml").to_str().unwrap(), "serve"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    (child, format!("http://{listen}"), log_path)
}

fn stop(child: &mut std::process::Child) -> std::process::ExitStatus {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("certdesk did not stop within 10 s of SIGTERM");
}
