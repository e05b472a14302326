//! RFC 2136 updates signed with TSIG against the test stack's real BIND 9 (zone and key made by end2end/stack.sh,
//! read from `$CERTDESK_TEST_STACK_DIR/bind`): values are added, coexist, are removed one by one and are seen by
//! `dig`; a wrong secret, an unknown key and an unreachable or silent server each fail with their own error, and
//! BIND forwards every other name to pebble-challtestsrv.

use std::sync::Arc;
use std::time::{Duration, Instant};

use certdesk::config::{Config, DnsServerConfig, TsigAlgorithm};
use certdesk::dns_update::{DnsServers, DnsUpdateError, Rfc2136Publisher, TxtPublisher};
use secrecy::SecretString;

use crate::support::{Gate, config_toml, free_port};

struct Bind {
    stack: crate::support::Stack,
    address: String,
    zone: String,
    key_name: String,
}

fn bind() -> Bind {
    let stack = crate::support::stack();
    let read = |name: &str| stack.read(&format!("bind/{name}"));
    Bind { address: read("address"), zone: read("zone"), key_name: read("key_name"), stack }
}

impl Bind {
    fn secret(&self) -> String {
        self.stack.read("bind/tsig.secret")
    }

    fn server(&self) -> DnsServerConfig {
        DnsServerConfig {
            id: "bind".into(),
            address: self.address.clone(),
            zone: self.zone.clone(),
            tsig_key_name: self.key_name.clone(),
            tsig_algorithm: TsigAlgorithm::HmacSha256,
            tsig_secret: SecretString::from(self.secret()),
            timeout: Duration::from_secs(5),
        }
    }

    fn publisher(&self, change: impl FnOnce(&mut DnsServerConfig)) -> Rfc2136Publisher {
        let mut config = self.server();
        change(&mut config);
        Rfc2136Publisher::new(&config).unwrap()
    }

    /// A record name nobody else uses, so tests can run side by side on the shared zone.
    fn fresh_record(&self) -> String {
        format!("_acme-challenge.t{}.{}", uuid::Uuid::new_v4().simple(), self.zone)
    }

    /// What `dig` (an independent client) gets from BIND.
    fn dig(&self, name: &str, record_type: &str) -> Vec<String> {
        let (host, port) = self.address.rsplit_once(':').unwrap();
        let output = std::process::Command::new("dig")
            .args(["+short", "+time=2", "+tries=1", "-p", port, &format!("@{host}"), name, record_type])
            .output()
            .expect("dig is installed by end2end/stack.sh (bind9-dnsutils)");
        assert!(output.status.success(), "dig failed: {}", String::from_utf8_lossy(&output.stderr));
        let mut lines: Vec<String> = String::from_utf8(output.stdout).unwrap().lines().map(str::to_owned).collect();
        lines.sort();
        lines
    }
}

fn sorted(mut values: Vec<String>) -> Vec<String> {
    values.sort();
    values
}

#[tokio::test]
async fn values_are_added_coexist_and_are_removed_one_at_a_time() {
    let bind = bind();
    // Through the configuration file as an operator writes it, with the secret in the stack's file.
    let extra = format!(
        "[[dns_servers]]\nid = \"bind\"\naddress = \"{}\"\nzone = \"{}.\"\ntsig_key_name = \"{}\"\n\
         tsig_algorithm = \"hmac-sha256\"\ntsig_secret_file = \"{}/bind/tsig.secret\"\n",
        bind.address, bind.zone, bind.key_name, bind.stack
    );
    let config = Config::from_toml_str(&config_toml("postgres://u:p@127.0.0.1/x", "127.0.0.1:3999", &extra)).unwrap();
    let servers = DnsServers::from_config(&config.dns_servers).unwrap();
    let record = bind.fresh_record();
    let (id, publisher) = servers.for_name(&record).unwrap();
    assert_eq!(id, "bind");
    assert!(publisher.txt_values(&record).await.unwrap().is_empty(), "a fresh name has no TXT values");

    publisher.add_txt(&record, "first-value", 30).await.unwrap();
    assert_eq!(publisher.txt_values(&record).await.unwrap(), ["first-value"]);
    assert_eq!(bind.dig(&record, "TXT"), ["\"first-value\""]);

    // Upper case and a trailing dot name the same record.
    publisher.add_txt(&format!("{}.", record.to_uppercase()), "second-value", 30).await.unwrap();
    assert_eq!(sorted(publisher.txt_values(&record).await.unwrap()), ["first-value", "second-value"]);
    assert_eq!(bind.dig(&record, "TXT"), ["\"first-value\"", "\"second-value\""]);
    // Adding a value that is already there changes nothing.
    publisher.add_txt(&record, "second-value", 30).await.unwrap();
    assert_eq!(publisher.txt_values(&record).await.unwrap().len(), 2);

    publisher.remove_txt(&record, "first-value").await.unwrap();
    assert_eq!(publisher.txt_values(&record).await.unwrap(), ["second-value"]);
    assert_eq!(bind.dig(&record, "TXT"), ["\"second-value\""]);
    publisher.remove_txt(&record, "first-value").await.expect("removing an absent value is fine");
    publisher.remove_txt(&record, "second-value").await.unwrap();
    assert!(publisher.txt_values(&record).await.unwrap().is_empty());
    assert!(bind.dig(&record, "TXT").is_empty());
    publisher.remove_txt(&bind.fresh_record(), "never-there").await.expect("a name that never existed is fine too");
}

#[tokio::test]
async fn a_wrong_secret_is_refused_naming_the_key_and_publishes_nothing() {
    let bind = bind();
    let good = bind.publisher(|_| {});
    let wrong = bind.publisher(|config| {
        config.tsig_secret = SecretString::from("d3JvbmctdHNpZy1zZWNyZXQtZm9yLXRoZS10ZXN0cyE=");
    });
    let record = bind.fresh_record();
    let error = wrong.add_txt(&record, "forged", 30).await.unwrap_err();
    assert!(matches!(error, DnsUpdateError::KeyRejected { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&format!("the TSIG key `{}` was not accepted", bind.key_name)), "{message}");
    assert!(message.contains("BADSIG") && message.contains("tsig_secret"), "{message}");
    assert!(!error.is_transient());
    assert!(good.txt_values(&record).await.unwrap().is_empty(), "nothing was published");
    assert!(bind.dig(&record, "TXT").is_empty());
    // A read signed with the wrong key is refused the same way: its answer could not be trusted.
    assert!(matches!(wrong.txt_values(&record).await, Err(DnsUpdateError::KeyRejected { .. })));
}

#[tokio::test]
async fn an_unknown_key_name_or_algorithm_is_refused() {
    let bind = bind();
    let record = bind.fresh_record();
    let unknown = bind.publisher(|config| config.tsig_key_name = "no-such-key".into());
    let error = unknown.add_txt(&record, "value", 30).await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, DnsUpdateError::KeyRejected { .. }), "{error:?}");
    assert!(message.contains("`no-such-key`") && message.contains("BADKEY"), "{message}");
    let other_algorithm = bind.publisher(|config| config.tsig_algorithm = TsigAlgorithm::HmacSha512);
    let error = other_algorithm.add_txt(&record, "value", 30).await.unwrap_err();
    assert!(matches!(error, DnsUpdateError::KeyRejected { .. }), "{error:?}");
    assert!(bind.publisher(|_| {}).txt_values(&record).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_zone_the_server_does_not_serve_is_reported_as_such() {
    let bind = bind();
    // The configuration claims the parent zone; BIND only serves dns01.certdesk.test.
    let parent = bind.zone.split_once('.').unwrap().1.to_owned();
    let misconfigured = bind.publisher(|config| config.zone = parent.clone());
    let record = format!("_acme-challenge.t{}.{parent}", uuid::Uuid::new_v4().simple());
    let error = misconfigured.add_txt(&record, "value", 30).await.unwrap_err();
    assert!(matches!(&error, DnsUpdateError::Rejected { rcode, .. } if rcode == "NOTAUTH"), "{error:?}");
    assert!(error.to_string().contains("not authoritative"), "{error}");
    let error = misconfigured.txt_values(&record).await.unwrap_err();
    assert!(error.to_string().contains("not authoritative"), "{error}");
}

#[tokio::test]
async fn a_name_outside_the_zone_is_refused_before_sending() {
    let bind = bind();
    let publisher = bind.publisher(|_| {});
    let error = publisher.add_txt("_acme-challenge.www.example.com", "value", 30).await.unwrap_err();
    assert!(matches!(error, DnsUpdateError::OutsideZone { .. }), "{error:?}");
    assert!(error.to_string().contains(&bind.zone), "{error}");
}

#[tokio::test]
async fn an_unreachable_or_silent_server_fails_within_the_timeout() {
    let bind = bind();
    let record = bind.fresh_record();
    let timeout = Duration::from_secs(2);

    let closed_port = format!("127.0.0.1:{}", free_port());
    let nobody = bind.publisher(|config| {
        config.address = closed_port.clone();
        config.timeout = timeout;
    });
    let started = Instant::now();
    let error = nobody.add_txt(&record, "value", 30).await.unwrap_err();
    assert!(matches!(error, DnsUpdateError::Unreachable { .. }), "{error:?}");
    assert!(error.to_string().contains(&closed_port) && error.is_transient(), "{error}");
    assert!(started.elapsed() < timeout, "a refused connection is reported at once");

    // BIND behind a gate: works while open, fails as unreachable once the gate closes.
    let gate = Gate::start(bind.address.parse().unwrap()).await;
    let gated = Arc::new(bind.publisher(|config| {
        config.address = format!("127.0.0.1:{}", gate.port);
        config.timeout = timeout;
    }));
    gated.add_txt(&record, "through-the-gate", 30).await.unwrap();
    gate.close();
    let error = gated.remove_txt(&record, "through-the-gate").await.unwrap_err();
    assert!(matches!(error, DnsUpdateError::Unreachable { .. }), "{error:?}");
    gate.open();
    gated.remove_txt(&record, "through-the-gate").await.unwrap();

    // A server that accepts the connection and never answers: the timeout, not a hang.
    let (silent_port, holder) = crate::support::silent_listener().await;
    let silent_address = format!("127.0.0.1:{silent_port}");
    let mute = bind.publisher(|config| {
        config.address = silent_address.clone();
        config.timeout = timeout;
    });
    let started = Instant::now();
    let error = mute.txt_values(&record).await.unwrap_err();
    assert!(matches!(error, DnsUpdateError::TimedOut { seconds: 2, .. }), "{error:?}");
    assert!(started.elapsed() >= timeout && started.elapsed() < timeout * 3, "{:?}", started.elapsed());
    holder.abort();
}

#[tokio::test]
async fn bind_forwards_every_other_name_to_challtestsrv() {
    let bind = bind();
    assert_eq!(bind.dig("anything.example.com", "A"), ["127.0.0.1"]);
    // Names in the zone answer 127.0.0.1 too (the zone's wildcard), so HTTP-01 works for them as well.
    assert_eq!(bind.dig(&format!("www.{}", bind.zone), "A"), ["127.0.0.1"]);
}

/// A man in the middle that passes requests to BIND and sets the AD flag in each answer: the answer still parses,
/// only its TSIG no longer matches.
async fn tampering_proxy(upstream: String) -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let mut server = tokio::net::TcpStream::connect(&upstream).await.unwrap();
            let mut frame = [0_u8; 2];
            client.read_exact(&mut frame).await.unwrap();
            let mut request = vec![0_u8; usize::from(u16::from_be_bytes(frame))];
            client.read_exact(&mut request).await.unwrap();
            server.write_all(&frame).await.unwrap();
            server.write_all(&request).await.unwrap();
            server.read_exact(&mut frame).await.unwrap();
            let mut answer = vec![0_u8; usize::from(u16::from_be_bytes(frame))];
            server.read_exact(&mut answer).await.unwrap();
            answer[3] |= 0x20;
            client.write_all(&frame).await.unwrap();
            client.write_all(&answer).await.unwrap();
        }
    });
    (address, task)
}

#[tokio::test]
async fn an_answer_whose_signature_does_not_verify_is_not_believed() {
    let bind = bind();
    let (address, proxy) = tampering_proxy(bind.address.clone()).await;
    let tampered = bind.publisher(|config| config.address = address.clone());
    let record = bind.fresh_record();
    let error = tampered.txt_values(&record).await.unwrap_err();
    assert!(matches!(error, DnsUpdateError::BadResponseSignature { .. }), "{error:?}");
    let error = tampered.add_txt(&record, "value", 30).await.unwrap_err();
    assert!(matches!(error, DnsUpdateError::BadResponseSignature { .. }), "{error:?}");
    assert!(error.to_string().contains("may or may not have been made"), "{error}");
    // BIND did make the change; the honest publisher cleans it up.
    let honest = bind.publisher(|_| {});
    assert_eq!(honest.txt_values(&record).await.unwrap(), ["value"]);
    honest.remove_txt(&record, "value").await.unwrap();
    proxy.abort();
}
