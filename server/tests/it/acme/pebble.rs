//! A Pebble of the test's own (real ACME CA, own ports, killed on drop) next to the stack's: each test gets an
//! HTTP-01 port it can answer on, a fresh issuing root, and the Pebble settings it needs (deterministic, or the
//! defaults with random badNonce rejections and validation sleeps). It resolves names through the same DNS
//! server as the stack's Pebble.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

use serde_json::Value;

use crate::support::{Stack, free_port};

pub struct Pebble {
    child: Child,
    pub directory_url: String,
    /// Where Pebble's validator connects for HTTP-01.
    pub http01_port: u16,
    mgmt_port: u16,
    /// Pebble's issuing root (new for every Pebble), PEM.
    pub root: PathBuf,
    http: reqwest::Client,
}

pub enum Behaviour {
    /// No validation sleeps, no random badNonce, no authorization reuse.
    Deterministic,
    /// Pebble's defaults: about 5 % of requests refused with badNonce, validations delayed by up to 15 s.
    Defaults,
}

impl Pebble {
    pub async fn start(stack: &Stack, behaviour: Behaviour) -> Self {
        let pebble = format!("{stack}/pebble");
        let dir = std::env::temp_dir().join(format!("certdesk-pebble-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let (port, mgmt_port, http01_port, tls_port) = (free_port(), free_port(), free_port(), free_port());
        let config = serde_json::json!({ "pebble": {
            "listenAddress": format!("127.0.0.1:{port}"),
            "managementListenAddress": format!("127.0.0.1:{mgmt_port}"),
            "certificate": format!("{pebble}/cert.pem"),
            "privateKey": format!("{pebble}/key.pem"),
            "httpPort": http01_port,
            "tlsPort": tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false,
            "certificateValidityPeriod": 7_776_000,
        }});
        let config_path = dir.join("pebble.json");
        std::fs::write(&config_path, config.to_string()).unwrap();
        let dns_server = std::fs::read_to_string(format!("{pebble}/dns_server")).unwrap();
        let log = std::fs::File::create(dir.join("pebble.log")).unwrap();
        let mut command = Command::new("pebble");
        command
            .arg("-config")
            .arg(&config_path)
            .arg("-dnsserver")
            .arg(dns_server.trim())
            .env_remove("PEBBLE_VA_NOSLEEP")
            .env_remove("PEBBLE_WFE_NONCEREJECT")
            .env_remove("PEBBLE_AUTHZREUSE")
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        if let Behaviour::Deterministic = behaviour {
            command.env("PEBBLE_VA_NOSLEEP", "1").env("PEBBLE_WFE_NONCEREJECT", "0").env("PEBBLE_AUTHZREUSE", "0");
        }
        let child = command.spawn().expect("pebble is installed by the stack");
        let listener_ca = PathBuf::from(format!("{pebble}/listener-ca.pem"));
        let ca = reqwest::Certificate::from_pem(&std::fs::read(&listener_ca).unwrap()).unwrap();
        let http = reqwest::Client::builder().add_root_certificate(ca).timeout(Duration::from_secs(5)).build().unwrap();
        let directory_url = format!("https://127.0.0.1:{port}/dir");
        let mut pebble = Self { child, directory_url, http01_port, mgmt_port, root: dir.join("root.pem"), http };
        pebble.wait_until_up().await;
        let root = pebble.management("roots/0").await;
        std::fs::write(&pebble.root, root).unwrap();
        pebble
    }

    async fn wait_until_up(&mut self) {
        for _ in 0..100 {
            if let Ok(response) = self.http.get(&self.directory_url).send().await
                && response.status().is_success()
            {
                return;
            }
            assert!(self.child.try_wait().unwrap().is_none(), "pebble exited at start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("pebble did not serve its directory within 10 s");
    }

    async fn management(&self, path: &str) -> String {
        let url = format!("https://127.0.0.1:{}/{path}", self.mgmt_port);
        self.http.get(url).send().await.unwrap().text().await.unwrap()
    }

    /// Pebble's view of a certificate: `{"Status": "Valid" | "Revoked", "Reason": n, …}`, by certdesk's serial
    /// ("0a:1b:…").
    pub async fn certificate_status(&self, serial: &str) -> Value {
        let hex = serial.replace(':', "");
        let hex = hex.trim_start_matches('0');
        serde_json::from_str(&self.management(&format!("cert-status-by-serial/{hex}")).await).unwrap_or(Value::Null)
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
