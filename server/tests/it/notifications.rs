//! Notifications against real servers: a certificate issued by the stack's OpenBao steps through each expiry
//! threshold with time passed in; a real SMTP server (Python aiosmtpd, writing a maildir) and a webhook receiver
//! that verifies the HMAC each get exactly one notice per threshold, also after a "restart" (a fresh state), while
//! the SMTP server is down (retried, not lost, not doubled) and while the receiver answers 500. Revocation and
//! renewal notices, the admins' digest, and refusals of bad webhook settings naming the field.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::model::{NotificationSettingsInput, Role, TokenScope};
use app::ssr::{Backend, Caller, RequestMeta};
use axum::extract::State;
use http::{HeaderMap, StatusCode};
use serde_json::Value;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::issuance::{api_as, extra, server_key};
use crate::support::{Stack, eventually, free_port, state_for};

/// aiosmtpd on a fixed port, writing every message into a maildir; stopped on drop (and by `stop`).
pub(crate) struct SmtpServer {
    pub(crate) port: u16,
    maildir: std::path::PathBuf,
    child: Option<Child>,
}

impl SmtpServer {
    pub(crate) async fn start() -> Self {
        let maildir = std::env::temp_dir().join(format!("certdesk-maildir-{}", Uuid::new_v4()));
        let mut server = Self { port: free_port(), maildir, child: None };
        server.resume().await;
        server
    }

    async fn resume(&mut self) {
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{}", self.port)])
            .args(["-c", "aiosmtpd.handlers.Mailbox", self.maildir.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd)");
        self.child = Some(child);
        let port = self.port;
        eventually("aiosmtpd to listen", Duration::from_secs(20), || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok().map(|_| ())
        })
        .await;
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// (recipient, subject) of every message received so far.
    pub(crate) fn messages(&self) -> Vec<(String, String)> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else { return Vec::new() };
        entries
            .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
            .map(|message| {
                let header = |name: &str| {
                    message
                        .lines()
                        .find_map(|line| line.strip_prefix(&format!("{name}: ")).map(str::to_owned))
                        .unwrap_or_default()
                };
                (header("To"), header("Subject"))
            })
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A webhook receiver that checks every signature with `secret`, and can be told to answer 500.
#[derive(Clone, Default)]
struct Receiver {
    secret: Arc<Mutex<String>>,
    failing: Arc<std::sync::atomic::AtomicBool>,
    accepted: Arc<Mutex<Vec<Value>>>,
    attempts: Arc<std::sync::atomic::AtomicUsize>,
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
    use std::sync::atomic::Ordering;
    receiver.attempts.fetch_add(1, Ordering::SeqCst);
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
    let timestamp: i64 = header("x-certdesk-timestamp").parse().unwrap();
    // Checked independently of certdesk's code: HMAC-SHA256 over "<timestamp>.<body>".
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(receiver.secret.lock().unwrap().as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(&body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(header("x-certdesk-signature"), expected, "webhook signature");
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["id"].as_str().unwrap(), header("x-certdesk-event-id"));
    if receiver.failing.load(Ordering::SeqCst) {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    receiver.accepted.lock().unwrap().push(event);
    StatusCode::NO_CONTENT
}

impl Receiver {
    async fn start(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = axum::Router::new().route("/hook", axum::routing::post(receive)).with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        address
    }

    fn accepted(&self) -> Vec<Value> {
        self.accepted.lock().unwrap().clone()
    }
}

fn config(stack: &Stack, smtp_port: u16, more: &str) -> String {
    format!("{}{}{more}", extra(stack, None), notifying(smtp_port))
}

/// E-mail through the test's SMTP server, webhooks to 127.0.0.1 allowed; `[notifications]` comes last.
pub(crate) fn notifying(smtp_port: u16) -> String {
    format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\nfrom = \"certdesk <certdesk@example.test>\"\n\
         [notifications]\nwebhook_allow_private = true\n"
    )
}

pub(crate) fn meta_for(user_id: Uuid, role: Role) -> RequestMeta {
    // Just signed in with a second factor: pointing the webhook somewhere new is a step-up action.
    let mfa_at = time::OffsetDateTime::now_utc().unix_timestamp();
    let caller = Caller {
        user_id,
        display_name: "Pat".into(),
        role,
        csrf_token: String::new(),
        mfa_at,
        credential: app::ssr::Credential::Session,
    };
    RequestMeta { request_id: "test".into(), client_addr: "127.0.0.1".into(), caller: Some(caller) }
}

/// Expiry notices (subjects / webhook thresholds) so far.
fn expiry_counts(smtp: &SmtpServer, receiver: &Receiver) -> (usize, usize) {
    let emails = smtp.messages().iter().filter(|(_, subject)| subject.contains("expires in")).count();
    let hooks = receiver.accepted().iter().filter(|event| event["type"] == "certificate.expiring").count();
    (emails, hooks)
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn each_threshold_gives_exactly_one_notice_per_channel_through_restarts_and_outages(pool: PgPool) {
    let stack = crate::support::stack();
    let mut smtp = SmtpServer::start().await;
    let receiver = Receiver::default();
    let hook = receiver.start().await;
    let state = state_for(&pool, &config(&stack, smtp.port, ""));
    let api = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let backend = certdesk::backend::ServerBackend::new(state.clone());
    let owner = meta_for(api.user_id, Role::User);
    let input = NotificationSettingsInput {
        email_enabled: true,
        webhook_url: format!("http://{hook}/hook"),
        new_secret: false,
    };
    let saved = backend.save_notification_settings(&owner, input).await.unwrap();
    *receiver.secret.lock().unwrap() = saved.webhook_secret.expect("a first webhook gets a secret, shown once");
    let (status, created) = api.request(server_key(&["notify.cluster.local"], "ec-p256", 40), None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let not_after: OffsetDateTime =
        sqlx::query_scalar("SELECT not_after FROM certificates WHERE id = $1").bind(id).fetch_one(&pool).await.unwrap();
    let run = |state: certdesk::state::AppState, now: OffsetDateTime| async move {
        certdesk::notifications::run_once(&state, now).await.unwrap()
    };

    let before = not_after - time::Duration::days(31);
    run(state.clone(), before).await;
    assert_eq!(expiry_counts(&smtp, &receiver), (0, 0), "nothing before the first threshold");

    // Crossing 30 days: one e-mail, one webhook; running again (a "restart": a fresh state) adds nothing.
    let at_30 = not_after - time::Duration::days(29);
    let done = run(state.clone(), at_30).await;
    assert_eq!((done.expiry_notices, done.delivered.sent), (2, 2), "{done:?}");
    assert_eq!(expiry_counts(&smtp, &receiver), (1, 1));
    let restarted = state_for(&pool, &config(&stack, smtp.port, ""));
    run(restarted.clone(), at_30 + time::Duration::hours(1)).await;
    run(state.clone(), at_30 + time::Duration::hours(2)).await;
    assert_eq!(expiry_counts(&smtp, &receiver), (1, 1), "no duplicate after a restart");
    let (to, subject) = smtp.messages().pop().unwrap();
    assert!(to.contains(&format!("{}@example.test", api.user_id)), "{to}");
    assert!(subject.contains("notify.cluster.local") && subject.contains("29 days"), "{subject}");
    let hooked = receiver.accepted().pop().unwrap();
    assert_eq!(hooked["data"]["threshold_days"], 30);
    assert_eq!(hooked["data"]["certificate"]["id"], id.to_string());

    // Crossing 14 days while the SMTP server is down: the webhook goes, the e-mail waits and is retried once the
    // server is back (not lost, not doubled).
    smtp.stop();
    let at_14 = not_after - time::Duration::days(13);
    let done = run(restarted.clone(), at_14).await;
    assert_eq!((done.delivered.sent, done.delivered.retrying), (1, 1), "{done:?}");
    assert_eq!(expiry_counts(&smtp, &receiver), (1, 2));
    run(restarted.clone(), at_14 + time::Duration::seconds(30)).await;
    smtp.resume().await;
    run(restarted.clone(), at_14 + time::Duration::seconds(30)).await;
    assert_eq!(expiry_counts(&smtp, &receiver), (1, 2), "the retry waits for its backoff");
    let done = run(restarted.clone(), at_14 + time::Duration::minutes(2)).await;
    assert_eq!(done.delivered.sent, 1, "{done:?}");
    assert_eq!(expiry_counts(&smtp, &receiver), (2, 2));

    // Crossing 7 days while the receiver answers 500: retried until it accepts, accepted once.
    receiver.failing.store(true, std::sync::atomic::Ordering::SeqCst);
    let at_7 = not_after - time::Duration::days(6);
    run(state.clone(), at_7).await;
    assert_eq!(expiry_counts(&smtp, &receiver), (3, 2));
    run(state.clone(), at_7 + time::Duration::minutes(1)).await;
    receiver.failing.store(false, std::sync::atomic::Ordering::SeqCst);
    run(state.clone(), at_7 + time::Duration::minutes(4)).await;
    assert_eq!(expiry_counts(&smtp, &receiver), (3, 3));
    assert_eq!(receiver.attempts.load(std::sync::atomic::Ordering::SeqCst), 5, "3 accepted + 2 refused attempts");
    let last_error: Option<String> =
        sqlx::query_scalar("SELECT last_error FROM notifications WHERE channel = 'webhook' AND threshold_days = 7")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(last_error, None, "cleared once delivered");

    // The last day, then nothing more however often it runs.
    let at_1 = not_after - time::Duration::hours(12);
    run(state.clone(), at_1).await;
    run(restarted.clone(), at_1 + time::Duration::hours(1)).await;
    assert_eq!(expiry_counts(&smtp, &receiver), (4, 4));
    let thresholds: Vec<i32> = receiver
        .accepted()
        .iter()
        .filter(|event| event["type"] == "certificate.expiring")
        .map(|event| event["data"]["threshold_days"].as_i64().unwrap() as i32)
        .collect();
    assert_eq!(thresholds, vec![30, 14, 7, 1]);
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, count(*) FROM notifications WHERE kind = 'expiry' GROUP BY status ORDER BY status",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(rows, vec![("sent".to_owned(), 8)], "one row per threshold per channel");

    // Revocation: one notice per channel, delivered by the next run.
    let request =
        http::Request::post(format!("/api/v1/certificates/{id}/revoke")).header("content-type", "application/json");
    let (status, _) = api.send(request, axum::body::Body::from(r#"{"reason":"superseded"}"#)).await;
    assert_eq!(status, StatusCode::OK);
    run(state.clone(), OffsetDateTime::now_utc()).await;
    run(state.clone(), OffsetDateTime::now_utc()).await;
    assert_eq!(smtp.messages().iter().filter(|(_, subject)| subject.contains("was revoked")).count(), 1);
    let revoked: Vec<Value> =
        receiver.accepted().into_iter().filter(|event| event["type"] == "certificate.revoked").collect();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["data"]["reason"], "superseded");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn renewal_notices_digests_and_channel_choices(pool: PgPool) {
    let stack = crate::support::stack();
    let smtp = SmtpServer::start().await;
    let state = state_for(&pool, &config(&stack, smtp.port, "admin_digest = true\n"));
    let api = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let admin = crate::support::person(&pool, "Ada", Role::Admin).await;
    let (status, created) = api.request(server_key(&["renew.cluster.local"], "ec-p256", 10), None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id: Uuid = created["id"].as_str().unwrap().parse().unwrap();

    // A real renewal through OpenBao tells the owner once (recording the notice again adds nothing); failures
    // at most once a day (the failing issuer itself is in `renewal.rs`).
    let renew_at: OffsetDateTime =
        sqlx::query_scalar("SELECT renew_at FROM certificates WHERE id = $1").bind(id).fetch_one(&pool).await.unwrap();
    let renewed = certdesk::renewal::run_once(&state, renew_at + time::Duration::minutes(1)).await.unwrap();
    assert_eq!(renewed.renewed.len(), 1, "{renewed:?}");
    let (_, renewed_id) = renewed.renewed[0];
    // Notices are due from when they were recorded (the real time of the renewal).
    let now = OffsetDateTime::now_utc();
    certdesk::notifications::renewal_succeeded(&state, id, renewed_id, now).await.unwrap();
    certdesk::notifications::renewal_failed(&state, id, "issuer unavailable", now).await.unwrap();
    certdesk::notifications::renewal_failed(&state, id, "issuer unavailable", now + time::Duration::hours(1))
        .await
        .unwrap();
    let done = certdesk::notifications::run_once(&state, now).await.unwrap();
    assert_eq!(done.digests, 1, "{done:?}");
    let subjects: Vec<String> = smtp.messages().into_iter().map(|(_, subject)| subject).collect();
    assert_eq!(subjects.iter().filter(|subject| subject.contains("was renewed")).count(), 1, "{subjects:?}");
    assert_eq!(subjects.iter().filter(|subject| subject.contains("failed")).count(), 1, "{subjects:?}");
    // The digest goes to the admin and lists the certificate expiring within two weeks (the 7-day notice went too).
    let digests: Vec<(String, String)> =
        smtp.messages().into_iter().filter(|(_, subject)| subject.starts_with("certdesk digest")).collect();
    assert_eq!(digests.len(), 1, "{digests:?}");
    assert!(digests[0].0.contains("ada@example.test") && digests[0].1.contains("1 expiring"), "{digests:?}");
    // Later the same UTC day (a digest is one per day: an hour later could be tomorrow's).
    let later_today = now.replace_time(time::Time::from_hms(23, 59, 59).unwrap());
    certdesk::notifications::run_once(&state, later_today).await.unwrap();
    assert_eq!(smtp.messages().iter().filter(|(_, subject)| subject.starts_with("certdesk digest")).count(), 1);
    let _ = admin;

    // E-mail switched off: the next notice is not sent.
    let backend = certdesk::backend::ServerBackend::new(state.clone());
    let owner = meta_for(api.user_id, Role::User);
    let off = NotificationSettingsInput { email_enabled: false, webhook_url: String::new(), new_secret: false };
    backend.save_notification_settings(&owner, off).await.unwrap();
    let before = smtp.messages().len();
    certdesk::notifications::renewal_failed(&state, id, "again", now + time::Duration::days(1)).await.unwrap();
    certdesk::notifications::run_once(&state, now + time::Duration::days(1)).await.unwrap();
    let after: Vec<String> = smtp
        .messages()
        .into_iter()
        .map(|(_, subject)| subject)
        .filter(|subject| !subject.starts_with("certdesk digest"))
        .collect();
    assert_eq!(after.len(), before - 1, "no notice once e-mail is off: {after:?}");
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'notifications.settings_changed'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(audited, 1);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn bad_webhook_settings_are_refused_naming_the_field(pool: PgPool) {
    let stack = crate::support::stack();
    // The default policy: no private, loopback or link-local targets.
    let state = state_for(&pool, &extra(&stack, None));
    let person = crate::support::person(&pool, "Max", Role::User).await;
    let backend = certdesk::backend::ServerBackend::new(state);
    let meta = meta_for(person.user_id, Role::User);
    let cases = [
        ("ftp://hooks.example.com/x", "http"),
        ("javascript:alert(1)", "http"),
        ("http://127.0.0.1:8080/hook", "private"),
        ("http://10.1.2.3/hook", "private"),
        ("http://169.254.169.254/latest/meta-data", "private"),
        ("http://[::1]/hook", "private"),
        ("https://user:secret@hooks.example.com/", "password"),
    ];
    let long = format!("https://hooks.example.com/{}", "a".repeat(3000));
    for (url, says) in cases.iter().map(|(url, says)| (url.to_string(), *says)).chain([(long, "2048")]) {
        let input = NotificationSettingsInput { email_enabled: true, webhook_url: url.clone(), new_secret: false };
        match backend.save_notification_settings(&meta, input).await {
            Err(error @ app::AppError::Invalid { .. }) => {
                assert_eq!(error.status(), 400);
                let app::AppError::Invalid { field, message } = error else { unreachable!() };
                assert_eq!(field.as_deref(), Some("webhook_url"), "{url}");
                assert!(message.contains(says), "{url}: {message}");
            }
            other => panic!("{url} was not refused: {other:?}"),
        }
    }
    let saved: i64 = sqlx::query_scalar("SELECT count(*) FROM notification_settings").fetch_one(&pool).await.unwrap();
    assert_eq!(saved, 0, "nothing saved");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_database_restart_between_a_delivery_and_its_record_does_not_send_it_again(pool: PgPool) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let stack = crate::support::stack();
    let options = pool.connect_options().as_ref().clone();
    let upstream = format!("{}:{}", options.get_host(), options.get_port()).parse().unwrap();
    let gate = Arc::new(crate::support::Gate::start(upstream).await);
    let gated = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(1))
        .connect_lazy_with(options.port(gate.port));
    // The receiver takes the notice, and PostgreSQL goes away before certdesk records it, for a second and a half.
    let deliveries = Arc::new(AtomicUsize::new(0));
    let receiver = {
        let (gate, deliveries) = (gate.clone(), deliveries.clone());
        axum::Router::new().route(
            "/hook",
            axum::routing::post(move || {
                let (gate, deliveries) = (gate.clone(), deliveries.clone());
                async move {
                    deliveries.fetch_add(1, Ordering::SeqCst);
                    gate.close();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(1500)).await;
                        gate.open();
                    });
                    StatusCode::NO_CONTENT
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    let state = state_for(&gated, &config(&stack, free_port(), ""));
    let api = api_as(&gated, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let backend = certdesk::backend::ServerBackend::new(state.clone());
    let owner = meta_for(api.user_id, Role::User);
    let input = NotificationSettingsInput {
        email_enabled: false,
        webhook_url: format!("http://{hook}/hook"),
        new_secret: false,
    };
    backend.save_notification_settings(&owner, input).await.unwrap();
    let (status, created) = api.request(server_key(&["restart.cluster.local"], "ec-p256", 40), None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let not_after: OffsetDateTime =
        sqlx::query_scalar("SELECT not_after FROM certificates WHERE id = $1").bind(id).fetch_one(&pool).await.unwrap();

    let at_30 = not_after - time::Duration::days(29);
    let first = certdesk::notifications::run_once(&state, at_30).await;
    assert_eq!(deliveries.load(Ordering::SeqCst), 1, "{first:?}");
    // Whatever the run itself said, the delivery is recorded once the database is back, and never sent again.
    eventually("the delivery to be recorded", Duration::from_secs(20), || async {
        let status: String = sqlx::query_scalar("SELECT status FROM notifications WHERE channel = 'webhook'")
            .fetch_one(&pool)
            .await
            .ok()?;
        (status == "sent").then_some(())
    })
    .await;
    for later in [time::Duration::minutes(5), time::Duration::hours(1)] {
        let _ = certdesk::notifications::run_once(&state, at_30 + later).await;
    }
    assert_eq!(deliveries.load(Ordering::SeqCst), 1, "sent once");
}
