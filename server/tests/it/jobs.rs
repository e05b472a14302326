//! Two real `certdesk serve` processes on one database: exactly one of them (the advisory-lock holder) runs the
//! background jobs; killed with SIGKILL, the other takes over within seconds; a pending request is resolved by
//! exactly one job run across both; a certificate that comes due before and one after the takeover are each
//! renewed exactly once through the stack's OpenBao; and a leader whose lock session is terminated steps down and
//! re-elects. A leader stopped with SIGTERM gives the lock up at once (the other replica leads within its election
//! retry, not after the drain) and exits 0.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::support::{config_toml, database_url_of, eventually, free_port};

struct Replica {
    name: &'static str,
    child: Child,
    base: String,
    log: std::path::PathBuf,
}

impl Replica {
    /// A `certdesk serve` named `name`; `issuers` is configuration for its issuers (may be empty).
    fn spawn(database_url: &str, name: &'static str, issuers: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("certdesk-jobs-{name}-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let listen = format!("127.0.0.1:{}", free_port());
        let extra = format!(
            "{issuers}[metrics]\n[jobs]\nreplica = \"{name}\"\nelection_retry_secs = 1\n\
             [jobs.intervals]\nreconcile = 1\nhousekeeping = 1\ncrl_refresh = 1\nnotifications = 1\nrenewal = 1\n\
             acme_orders = 1\n"
        );
        std::fs::write(dir.join("certdesk.toml"), config_toml(database_url, &listen, &extra)).unwrap();
        let log = dir.join("out.log");
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_certdesk"))
            .args(["--config", dir.join("certdesk.toml").to_str().unwrap(), "serve"])
            .env_remove("RUST_LOG")
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap();
        Self { name, child, base: format!("http://{listen}"), log }
    }

    /// `certdesk_job_leader` as this process reports it, once it answers.
    async fn leader_gauge(&self) -> Option<f64> {
        let body = reqwest::get(format!("{}/metrics", self.base)).await.ok()?.text().await.ok()?;
        let lines = body.lines().map(|line| Ok(line.to_owned()));
        let scrape = prometheus_parse::Scrape::parse(lines).ok()?;
        scrape.samples.iter().find(|sample| sample.metric == "certdesk_job_leader").and_then(|sample| {
            match sample.value {
                prometheus_parse::Value::Gauge(value) => Some(value),
                _ => None,
            }
        })
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A request left `pending` ten minutes ago by a crash, for an issuer that is not configured: the reconciler
/// marks it failed (in one run, whichever replica leads).
async fn interrupted_request(pool: &PgPool, owner: Uuid) -> Uuid {
    let names = vec![format!("{}.cluster.local", Uuid::new_v4())];
    let started = OffsetDateTime::now_utc() - time::Duration::minutes(10);
    crate::issuance::pending_intent(pool, owner, "gone", &names, "-", started).await
}

async fn status_of(pool: &PgPool, id: Uuid) -> String {
    sqlx::query_scalar("SELECT status FROM certificates WHERE id = $1").bind(id).fetch_one(pool).await.unwrap()
}

async fn run_replicas(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT DISTINCT replica FROM job_runs ORDER BY replica").fetch_all(pool).await.unwrap()
}

/// A certificate issued by the stack's OpenBao whose renewal point has come (it is made due now: the replicas
/// run on the real clock).
async fn due_certificate(pool: &PgPool, issuers: &str, name: &str) -> Uuid {
    let state = crate::support::state_for(pool, issuers);
    let api = crate::issuance::api_as(
        pool,
        state,
        &["platform-team"],
        app::model::Role::User,
        app::model::TokenScope::ReadWrite,
    )
    .await;
    let (status, created) = api.request(crate::issuance::server_key(&[name], "ec-p256", 10), None).await;
    assert_eq!(status, http::StatusCode::CREATED, "{created}");
    let id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
    // Due now, and requested longer ago than the renewal floor (the job never renews a younger certificate).
    sqlx::query(
        "UPDATE certificates SET renew_at = now() - interval '1 minute', created_at = now() - interval '2 hours'
         WHERE id = $1",
    )
    .bind(id)
    .execute(pool)
    .await
    .unwrap();
    id
}

/// Every certificate that renews `id`, whatever became of it.
async fn renewals_of(pool: &PgPool, id: Uuid) -> Vec<String> {
    sqlx::query_scalar("SELECT status FROM certificates WHERE renewed_from = $1")
        .bind(id)
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn one_replica_runs_the_jobs_and_another_takes_over_when_it_is_killed(pool: PgPool) {
    let stack = crate::support::stack();
    let url = database_url_of(&pool);
    let issuers = crate::issuance::extra(&stack, None);
    let owner = crate::support::person(&pool, "Jo", app::model::Role::User).await.user_id;
    let first = interrupted_request(&pool, owner).await;
    let due_before = due_certificate(&pool, &issuers, "before.cluster.local").await;
    let mut replicas = vec![Replica::spawn(&url, "replica-a", &issuers), Replica::spawn(&url, "replica-b", &issuers)];

    // Exactly one leads, the other reports 0, and every recorded run is the leader's.
    let leader = eventually("one replica to lead", Duration::from_secs(30), || async {
        let (a, b) = (replicas[0].leader_gauge().await?, replicas[1].leader_gauge().await?);
        match (a, b) {
            (1.0, 0.0) => Some(0),
            (0.0, 1.0) => Some(1),
            _ => None,
        }
    })
    .await;
    let leader_name = replicas[leader].name;
    eventually("the pending request to be resolved", Duration::from_secs(30), || async {
        (status_of(&pool, first).await == "failed").then_some(())
    })
    .await;
    // (`acme_orders` has nothing to do here, and idle runs are not kept.)
    eventually("several runs of every job", Duration::from_secs(30), || async {
        let counts: Vec<i64> =
            sqlx::query_scalar("SELECT count(*) FROM job_runs GROUP BY job").fetch_all(&pool).await.unwrap();
        (counts.len() == 5 && counts.iter().all(|count| *count >= 3)).then_some(())
    })
    .await;
    eventually("the due certificate to be renewed", Duration::from_secs(30), || async {
        (status_of(&pool, due_before).await == "superseded").then_some(())
    })
    .await;
    assert_eq!(run_replicas(&pool).await, vec![leader_name.to_owned()], "only the leader runs jobs");
    assert_eq!(replicas[1 - leader].leader_gauge().await, Some(0.0));

    // SIGKILL: no shutdown, the lock goes with the dead process's connection.
    let mut dead = replicas.remove(leader);
    dead.child.kill().unwrap();
    dead.child.wait().unwrap();
    let killed_at = OffsetDateTime::now_utc();
    let survivor = &replicas[0];
    eventually("the other replica to take over", Duration::from_secs(20), || async {
        (survivor.leader_gauge().await == Some(1.0)).then_some(())
    })
    .await;
    let second = interrupted_request(&pool, owner).await;
    let due_after = due_certificate(&pool, &issuers, "after.cluster.local").await;
    eventually("the new leader to resolve a new pending request", Duration::from_secs(30), || async {
        (status_of(&pool, second).await == "failed").then_some(())
    })
    .await;
    eventually("the new leader to renew the certificate that came due", Duration::from_secs(30), || async {
        (status_of(&pool, due_after).await == "superseded").then_some(())
    })
    .await;
    // Each renewed exactly once, across both replicas and the takeover.
    assert_eq!(renewals_of(&pool, due_before).await, ["issued"]);
    assert_eq!(renewals_of(&pool, due_after).await, ["issued"]);
    let after_kill: Vec<String> = sqlx::query_scalar("SELECT DISTINCT replica FROM job_runs WHERE started_at > $1")
        .bind(killed_at)
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(after_kill, vec![survivor.name.to_owned()]);

    // Each pending request was failed by exactly one reconcile run, across both replicas, and audited once.
    let details: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM job_runs WHERE job = 'reconcile' AND outcome = 'success'")
            .fetch_all(&pool)
            .await
            .unwrap();
    let failed: u32 = details
        .iter()
        .map(|detail| {
            let count = detail.split("failed ").nth(1).unwrap().split(',').next().unwrap();
            count.parse::<u32>().unwrap()
        })
        .sum();
    assert_eq!(failed, 2, "{details:?}");
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'certificate.failed' AND actor = 'system:reconciler'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 2);

    // Runs of one job never overlap in time, not even around the takeover.
    let runs: Vec<(String, OffsetDateTime, Option<OffsetDateTime>)> =
        sqlx::query_as("SELECT job, started_at, finished_at FROM job_runs ORDER BY job, started_at, id")
            .fetch_all(&pool)
            .await
            .unwrap();
    for pair in runs.windows(2) {
        if pair[0].0 == pair[1].0 {
            let finished = pair[0].2.expect("every run before the last one is closed");
            assert!(finished <= pair[1].1, "overlapping runs of {}: {pair:?}", pair[0].0);
        }
    }

    // A leader whose lock session ends (here: terminated by an operator) notices, stops, and runs for election again.
    let terminated: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = 'certdesk-jobs-leader' AND datname = current_database()",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(terminated, vec![true], "one leader connection");
    eventually("the survivor to notice and lead again", Duration::from_secs(30), || async {
        let log = survivor.log();
        (log.contains("lost the job leader lock") && log.matches("is now the job leader").count() == 2).then_some(())
    })
    .await;
    eventually("the survivor to report itself leader again", Duration::from_secs(10), || async {
        (survivor.leader_gauge().await == Some(1.0)).then_some(())
    })
    .await;
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_leader_stopped_with_sigterm_hands_the_jobs_over_at_once_and_exits_0(pool: PgPool) {
    let url = database_url_of(&pool);
    let mut replicas = vec![Replica::spawn(&url, "replica-a", ""), Replica::spawn(&url, "replica-b", "")];
    let leader = eventually("one replica to lead", Duration::from_secs(30), || async {
        match (replicas[0].leader_gauge().await?, replicas[1].leader_gauge().await?) {
            (1.0, 0.0) => Some(0),
            (0.0, 1.0) => Some(1),
            _ => None,
        }
    })
    .await;
    let mut stopping = replicas.remove(leader);
    let other = &replicas[0];

    let asked = std::time::Instant::now();
    let killed = Command::new("kill").args(["-TERM", &stopping.child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    // The other replica retries the election every second: it leads within about that, lock released at once.
    eventually("the other replica to lead", Duration::from_secs(3), || async {
        (other.leader_gauge().await == Some(1.0)).then_some(())
    })
    .await;
    let status = loop {
        if let Some(status) = stopping.child.try_wait().unwrap() {
            break status;
        }
        assert!(asked.elapsed() < Duration::from_secs(15), "no exit within 15 s of SIGTERM:\n{}", stopping.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM; log:\n{}", stopping.log());
    assert!(asked.elapsed() < Duration::from_secs(15));
    let log = stopping.log();
    let released = log.find("released the job leader lock").unwrap_or_else(|| panic!("no release logged:\n{log}"));
    let stopped = log.find("certdesk stopped").unwrap_or_else(|| panic!("no stop logged:\n{log}"));
    assert!(released < stopped, "the lock is released before the process ends:\n{log}");
    let unfinished: i64 =
        sqlx::query_scalar("SELECT count(*) FROM job_runs WHERE replica = $1 AND finished_at IS NULL")
            .bind(stopping.name)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(unfinished, 0, "a stopped leader leaves no run open");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_leader_stopped_with_sigterm_while_sending_a_notice_sends_it_once_and_records_it(pool: PgPool) {
    use app::ssr::Backend;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let kek = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let extra = format!(
        "[encryption]\nactive = \"k1\"\n[[encryption.keys]]\nid = \"k1\"\nkey = \"{kek}\"\n\
         [notifications]\nwebhook_allow_private = true\n"
    );
    // A receiver that takes its time answering: the replica is told to stop while the notice is on the wire.
    let deliveries = Arc::new(AtomicUsize::new(0));
    let (arrived_tx, arrived) = tokio::sync::mpsc::unbounded_channel::<()>();
    let receiver = {
        let deliveries = deliveries.clone();
        axum::Router::new().route(
            "/hook",
            axum::routing::post(move || {
                let (deliveries, arrived_tx) = (deliveries.clone(), arrived_tx.clone());
                async move {
                    deliveries.fetch_add(1, Ordering::SeqCst);
                    let _ = arrived_tx.send(());
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    http::StatusCode::NO_CONTENT
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    let state = crate::support::state_for(&pool, &extra);
    let owner = crate::support::person(&pool, "Nell", app::model::Role::User).await;
    let settings = app::model::NotificationSettingsInput {
        email_enabled: false,
        webhook_url: format!("http://{hook}/hook"),
        new_secret: false,
    };
    let meta = crate::notifications::meta_for(owner.user_id, app::model::Role::User);
    certdesk::backend::ServerBackend::new(state).save_notification_settings(&meta, settings).await.unwrap();
    let notice = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO notifications (id, event_key, channel, kind, user_id, payload, next_attempt_at, created_at)
         VALUES ($1, 'digest:sigterm', 'webhook', 'digest', $2, '{\"type\": \"digest\"}', now(), now())",
    )
    .bind(notice)
    .bind(owner.user_id)
    .execute(&pool)
    .await
    .unwrap();

    let mut replica = Replica::spawn(&database_url_of(&pool), "replica-sender", &extra);
    let mut arrived = arrived;
    tokio::time::timeout(Duration::from_secs(30), arrived.recv())
        .await
        .unwrap_or_else(|_| panic!("the notice was not sent within 30 s:\n{}", replica.log()));
    let stopped = Command::new("kill").args(["-TERM", &replica.child.id().to_string()]).status().unwrap();
    assert!(stopped.success());
    let status = loop {
        if let Some(status) = replica.child.try_wait().unwrap() {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM; log:\n{}", replica.log());
    let (state, attempts): (String, i32) = sqlx::query_as("SELECT status, attempts FROM notifications WHERE id = $1")
        .bind(notice)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        (state.as_str(), attempts),
        ("sent", 1),
        "the notice on the wire at SIGTERM is recorded before the process ends, so no leader sends it again:\n{}",
        replica.log()
    );
    assert_eq!(deliveries.load(Ordering::SeqCst), 1);
}
