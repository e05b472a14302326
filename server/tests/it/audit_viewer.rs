//! The audit viewer against the real database: every filter narrows to exactly the events a plain model of the
//! log expects, keyset pages have no duplicates or gaps, people who are not admins or auditors are refused, bad
//! filter input is a 400 naming the field, export needs a recent second factor, is itself audited, and its CSV and
//! JSON Lines parse back to the stored events (quoting of commas, quotes and line breaks included), and the banner
//! reports a tampered chain.

use app::AppError;
use app::model::{AuditListing, AuditQuery, Role};
use app::ssr::RequestMeta;
use certdesk::audit::{self, AuditEntry, Outcome, RawEntry};
use certdesk::audit_viewer::{self, export::ExportFormat};
use certdesk::error::ServerError;
use certdesk::state::AppState;
use futures_util::TryStreamExt;
use serde_json::{Value, json};
use sqlx::PgPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::support::{self, state_for, tamper};

/// A person as a request from them, their second factor proven just now.
async fn person(pool: &PgPool, name: &str, role: Role) -> RequestMeta {
    let mut caller = support::person(pool, name, role).await;
    caller.mfa_at = OffsetDateTime::now_utc().unix_timestamp();
    RequestMeta { request_id: format!("req-{name}"), client_addr: "127.0.0.1".into(), caller: Some(caller) }
}

fn actor_of(meta: &RequestMeta) -> String {
    format!("user:{}", meta.caller.as_ref().unwrap().user_id)
}

/// An event as the tests model it.
#[derive(Debug, Clone)]
struct Modelled {
    seq: i64,
    at: OffsetDateTime,
    actor: String,
    action: &'static str,
    object: String,
    outcome: Outcome,
}

const ACTIONS: [&str; 4] = ["certificate.issue", "certificate.downloaded", "auth.login", "api_token.create"];
const OUTCOMES: [Outcome; 3] = [Outcome::Success, Outcome::Failure, Outcome::Denied];

fn base_time() -> OffsetDateTime {
    OffsetDateTime::parse("2026-11-01T00:00:00Z", &Rfc3339).unwrap()
}

/// `count` events cycling through actors, actions, objects and outcomes, one minute apart.
async fn seed(pool: &PgPool, key: &audit::ChainKey, actors: &[String], count: i64) -> Vec<Modelled> {
    let mut events = Vec::new();
    for n in 1..=count {
        let index = n as usize;
        let event = Modelled {
            seq: n,
            at: base_time() + time::Duration::minutes(n),
            actor: actors[index % actors.len()].clone(),
            action: ACTIONS[index % ACTIONS.len()],
            object: format!("certificate:{}", index % 5),
            outcome: OUTCOMES[(index / 2) % OUTCOMES.len()],
        };
        let entry = AuditEntry::from(RawEntry {
            actor: event.actor.clone(),
            action: event.action.into(),
            object: event.object.clone(),
            outcome: event.outcome,
            request_id: format!("r{n}"),
            client_addr: "10.0.0.1".into(),
            details: json!({ "n": n }),
        });
        let mut tx = pool.begin().await.unwrap();
        assert_eq!(audit::append(&mut tx, key, &entry, event.at).await.unwrap(), n);
        tx.commit().await.unwrap();
        events.push(event);
    }
    events
}

/// Every page of `query`, checking that sequence numbers strictly decrease across pages (no duplicates or gaps
/// in order), and the last listing seen.
async fn all_pages(state: &AppState, meta: &RequestMeta, query: AuditQuery) -> (Vec<i64>, AuditListing) {
    let mut seqs = Vec::new();
    let mut query = query;
    loop {
        let listing = audit_viewer::list(state, meta, query.clone()).await.unwrap();
        seqs.extend(listing.rows.iter().map(|row| row.seq));
        match listing.next.clone() {
            Some(next) => query.before = Some(next),
            None => {
                assert!(seqs.windows(2).all(|pair| pair[0] > pair[1]), "newest first, each once: {seqs:?}");
                return (seqs, listing);
            }
        }
    }
}

fn expected(events: &[Modelled], keep: impl Fn(&Modelled) -> bool) -> Vec<i64> {
    let mut seqs: Vec<i64> = events.iter().filter(|event| keep(event)).map(|event| event.seq).collect();
    seqs.reverse();
    seqs
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn each_filter_narrows_to_exactly_the_matching_events_page_by_page(pool: PgPool) {
    let ada = person(&pool, "Ada", Role::Auditor).await;
    let pat = person(&pool, "Pat", Role::User).await;
    let state = state_for(&pool, "");
    let actors = [actor_of(&ada), actor_of(&pat), "system".to_owned()];
    let events = seed(&pool, &state.chain_key, &actors, 130).await;

    let (all, listing) = all_pages(&state, &ada, AuditQuery::default()).await;
    assert_eq!(all, expected(&events, |_| true), "130 events over three pages, none twice, none missing");
    assert_eq!(listing.chain.verified_through, 130);
    assert_eq!(listing.chain.broken, None);

    let pat_id = pat.caller.as_ref().unwrap().user_id;
    let by_pat = expected(&events, |event| event.actor == actors[1]);
    let cases: Vec<(AuditQuery, Vec<i64>)> = vec![
        (AuditQuery { actor: actors[1].clone(), ..Default::default() }, by_pat.clone()),
        (AuditQuery { actor: pat_id.to_string(), ..Default::default() }, by_pat.clone()),
        (AuditQuery { actor: "pat".into(), ..Default::default() }, by_pat.clone()),
        (AuditQuery { actor: "ADA@example".into(), ..Default::default() }, expected(&events, |e| e.actor == actors[0])),
        (AuditQuery { actor: "system".into(), ..Default::default() }, expected(&events, |e| e.actor == "system")),
        (AuditQuery { actor: "nobody".into(), ..Default::default() }, vec![]),
        (
            AuditQuery { action: "auth.login".into(), ..Default::default() },
            expected(&events, |e| e.action == "auth.login"),
        ),
        (
            AuditQuery { action: "certificate.".into(), ..Default::default() },
            expected(&events, |e| e.action.starts_with("certificate.")),
        ),
        (
            AuditQuery { action: "certificate.*".into(), ..Default::default() },
            expected(&events, |e| e.action.starts_with("certificate.")),
        ),
        (AuditQuery { action: "certificate".into(), ..Default::default() }, vec![]),
        (
            AuditQuery { object: "certificate:3".into(), ..Default::default() },
            expected(&events, |e| e.object == "certificate:3"),
        ),
        (
            AuditQuery { outcome: "denied".into(), ..Default::default() },
            expected(&events, |e| e.outcome == Outcome::Denied),
        ),
        (
            // From minute 10 through minute 20, both ends included at minute precision.
            AuditQuery { from: "2026-11-01T00:10".into(), to: "2026-11-01T00:20".into(), ..Default::default() },
            (10..=20).rev().collect(),
        ),
        (
            AuditQuery {
                from: "2026-11-01T01:00:00+01:00".into(),
                to: "2026-11-01T00:05:00Z".into(),
                ..Default::default()
            },
            (1..=5).rev().collect(),
        ),
        (AuditQuery { to: "2026-10-31".into(), ..Default::default() }, vec![]),
        (
            AuditQuery {
                actor: "Pat".into(),
                action: "certificate.".into(),
                outcome: "success".into(),
                from: "2026-11-01T00:30".into(),
                ..Default::default()
            },
            expected(&events, |e| {
                e.actor == actors[1]
                    && e.action.starts_with("certificate.")
                    && e.outcome == Outcome::Success
                    && e.at >= base_time() + time::Duration::minutes(30)
            }),
        ),
    ];
    for (query, want) in cases {
        let (got, _) = all_pages(&state, &ada, query.clone()).await;
        assert!(want.len() < 130, "{query:?} narrows");
        assert_eq!(got, want, "{query:?}");
    }

    let detail = audit_viewer::event(&state, &ada, 7).await.unwrap();
    assert_eq!(detail.actor, actors[7 % 3]);
    assert_eq!(detail.actor_name.as_deref(), Some("Pat"));
    assert_eq!(detail.actor_email.as_deref(), Some("pat@example.test"));
    assert_eq!(detail.request_id, "r7");
    assert_eq!(detail.details, "{\n  \"n\": 7\n}");
    assert_eq!((detail.hash.len(), detail.prev_hash.len()), (64, 64));
    let previous = audit_viewer::event(&state, &ada, 6).await.unwrap();
    assert_eq!(detail.prev_hash, previous.hash, "the details show the chain link");
    match audit_viewer::event(&state, &ada, 999).await {
        Err(ServerError::Client(AppError::NotFound { .. })) => {}
        other => panic!("expected not found, got {other:?}"),
    }
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn people_who_are_not_admins_or_auditors_are_refused(pool: PgPool) {
    let pat = person(&pool, "Pat", Role::User).await;
    let admin = person(&pool, "Root", Role::Admin).await;
    let state = state_for(&pool, "");
    seed(&pool, &state.chain_key, &[actor_of(&pat)], 3).await;
    assert!(matches!(
        audit_viewer::list(&state, &pat, AuditQuery::default()).await,
        Err(ServerError::Client(AppError::Forbidden))
    ));
    assert!(matches!(audit_viewer::event(&state, &pat, 1).await, Err(ServerError::Client(AppError::Forbidden))));
    let everything = AuditQuery::default();
    let export = audit_viewer::export::export(&state, &pat, &everything, ExportFormat::Csv, OffsetDateTime::now_utc());
    assert!(matches!(export.await, Err(ServerError::Client(AppError::Forbidden))));
    let anonymous = RequestMeta::default();
    assert!(matches!(
        audit_viewer::list(&state, &anonymous, AuditQuery::default()).await,
        Err(ServerError::Client(AppError::Unauthenticated))
    ));
    assert_eq!(audit_viewer::list(&state, &admin, AuditQuery::default()).await.unwrap().rows.len(), 3);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn bad_filter_input_is_a_400_naming_the_field(pool: PgPool) {
    let ada = person(&pool, "Ada", Role::Auditor).await;
    let state = state_for(&pool, "");
    let cases = [
        (AuditQuery { outcome: "maybe".into(), ..Default::default() }, "outcome"),
        (AuditQuery { from: "2026-11-02".into(), to: "2026-11-01".into(), ..Default::default() }, "to"),
        (AuditQuery { before: Some("not-a-cursor".into()), ..Default::default() }, "before"),
        (AuditQuery { from: "28/11/2026".into(), ..Default::default() }, "from"),
        (AuditQuery { to: "2026-11-28T25:00".into(), ..Default::default() }, "to"),
        (AuditQuery { actor: "x".repeat(300), ..Default::default() }, "actor"),
    ];
    for (query, field) in cases {
        let error = audit_viewer::list(&state, &ada, query.clone()).await.unwrap_err().into_app_error(&ada);
        assert_eq!(error.status(), 400, "{query:?}");
        match error {
            AppError::Invalid { field: Some(named), .. } => assert_eq!(named, field, "{query:?}"),
            other => panic!("{query:?}: {other:?}"),
        }
        let export = audit_viewer::export::export(&state, &ada, &query, ExportFormat::Csv, OffsetDateTime::now_utc());
        if query.before.is_none() {
            assert!(matches!(export.await, Err(ServerError::Client(AppError::Invalid { .. }))), "{query:?}");
        }
    }
}

/// RFC 4180: records end in CRLF; quoted fields may hold commas, doubled quotes and line breaks.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                assert!(field.is_empty(), "a quote inside an unquoted field");
                quoted = true;
            }
            ',' => record.push(std::mem::take(&mut field)),
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "CR only as part of CRLF");
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            '\n' => panic!("a bare line feed outside quotes"),
            c => field.push(c),
        }
    }
    assert!(!quoted && field.is_empty() && record.is_empty(), "the file ends with a complete record");
    records
}

/// The stored events that an export of everything up to `through` must hold, newest first.
async fn stored(pool: &PgPool, through: i64, action_prefix: &str) -> Vec<(i64, String, String, String, Value, String)> {
    sqlx::query_as::<_, (i64, String, String, String, Value, Vec<u8>)>(
        "SELECT seq, actor, action, object, details, hash FROM audit_events
         WHERE seq <= $1 AND action LIKE $2 || '%' ORDER BY seq DESC",
    )
    .bind(through)
    .bind(action_prefix)
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .map(|(seq, actor, action, object, details, hash)| (seq, actor, action, object, details, hex::encode(hash)))
    .collect()
}

async fn body_of(export: audit_viewer::export::Export) -> String {
    let chunks: Vec<axum::body::Bytes> = export.body.try_collect().await.unwrap();
    String::from_utf8(chunks.concat()).unwrap()
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn export_needs_step_up_is_audited_and_parses_back_to_the_events(pool: PgPool) {
    let ada = person(&pool, "Ada", Role::Auditor).await;
    let state = state_for(&pool, "");
    // More than one export page (500), so the file is streamed in several database round trips.
    seed(&pool, &state.chain_key, &[actor_of(&ada), "system".into()], 620).await;
    let awkward = AuditEntry::from(RawEntry {
        actor: "token:0b7e, \"quoted\"".into(),
        action: "certificate.downloaded".into(),
        object: "certificate:a,b".into(),
        outcome: Outcome::Success,
        request_id: " padded ".into(),
        client_addr: "::1".into(),
        details: json!({ "note": "commas, \"quotes\"\nand a second line\r\nand CRLF", "list": [1, "two"] }),
    });
    audit::record(&pool, &state.chain_key, &awkward, OffsetDateTime::now_utc()).await.unwrap();
    let now = OffsetDateTime::now_utc();

    let mut stale = ada.clone();
    stale.caller.as_mut().unwrap().mfa_at = (now - time::Duration::hours(1)).unix_timestamp();
    let refused = audit_viewer::export::export(&state, &stale, &AuditQuery::default(), ExportFormat::Csv, now).await;
    assert!(matches!(refused, Err(ServerError::Client(AppError::StepUpRequired))));
    let exported_rows = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM audit_events WHERE action = 'audit.exported'")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert_eq!(exported_rows().await, 0, "a refused export leaves no export row");

    let query = AuditQuery { action: "certificate.".into(), ..Default::default() };
    let csv = audit_viewer::export::export(&state, &ada, &query, ExportFormat::Csv, now).await.unwrap();
    assert!(csv.file_name.ends_with(".csv") && csv.content_type.starts_with("text/csv"));
    let csv_rows = csv.rows;
    let csv_text = body_of(csv).await;
    let want = stored(&pool, 621, "certificate.").await;
    assert_eq!(csv_rows, want.len() as i64);
    assert!(csv_rows > 300, "{csv_rows}");

    let records = parse_csv(&csv_text);
    let header = &records[0];
    assert_eq!(header, &audit_viewer::export::COLUMNS.map(String::from).to_vec());
    let column = |name: &str| header.iter().position(|column| column == name).unwrap();
    assert_eq!(records.len() - 1, want.len());
    for (record, (seq, actor, action, object, details, hash)) in records[1..].iter().zip(&want) {
        assert_eq!(record.len(), header.len());
        assert_eq!(record[column("seq")], seq.to_string());
        assert_eq!(&record[column("actor")], actor);
        assert_eq!(&record[column("action")], action);
        assert_eq!(&record[column("object")], object);
        assert_eq!(&serde_json::from_str::<Value>(&record[column("details")]).unwrap(), details);
        assert_eq!(&record[column("hash")], hash);
    }
    let awkward_record = records.iter().find(|record| record[column("object")] == "certificate:a,b").unwrap();
    assert_eq!(awkward_record[column("actor")], "token:0b7e, \"quoted\"");
    assert_eq!(awkward_record[column("request_id")], " padded ");

    let jsonl = audit_viewer::export::export(&state, &ada, &query, ExportFormat::JsonLines, now).await.unwrap();
    let jsonl_text = body_of(jsonl).await;
    let lines: Vec<Value> = jsonl_text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), want.len(), "the same events as JSON Lines");
    for (line, (seq, actor, _, object, details, hash)) in lines.iter().zip(&want) {
        assert_eq!((&line["seq"], &line["actor"], &line["object"]), (&json!(seq), &json!(actor), &json!(object)));
        assert_eq!((&line["details"], &line["hash"]), (details, &json!(hash)));
    }

    assert_eq!(exported_rows().await, 2, "each export is audited");
    let (actor, details): (String, Value) =
        sqlx::query_as("SELECT actor, details FROM audit_events WHERE action = 'audit.exported' ORDER BY seq LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(actor, actor_of(&ada));
    assert_eq!(details["rows"], json!(csv_rows));
    assert_eq!(details["format"], json!("csv"));
    assert_eq!(details["filter"], json!({ "action": "certificate." }));
    assert_eq!(details["through_seq"], json!(621));
}

async fn banner(state: &AppState, meta: &RequestMeta) -> (i64, Option<String>) {
    let listing = audit_viewer::list(state, meta, AuditQuery::default()).await.unwrap();
    (listing.chain.verified_through, listing.chain.broken)
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_banner_follows_new_events_and_reports_tampering(pool: PgPool) {
    let ada = person(&pool, "Ada", Role::Auditor).await;
    let state = state_for(&pool, "");
    let key = state.chain_key.clone();
    assert_eq!(banner(&state, &ada).await, (0, None), "an empty log verifies");
    seed(&pool, &key, &["system".into()], 5).await;
    assert_eq!(banner(&state, &ada).await, (5, None));
    let more = AuditEntry::from(RawEntry {
        actor: "system".into(),
        action: "certificate.issue".into(),
        object: String::new(),
        outcome: Outcome::Success,
        request_id: String::new(),
        client_addr: String::new(),
        details: json!({}),
    });
    for _ in 0..2 {
        audit::record(&pool, &key, &more, OffsetDateTime::now_utc()).await.unwrap();
    }
    assert_eq!(banner(&state, &ada).await, (7, None), "new events are verified incrementally");

    // An event appended after the last check, then edited, is caught by the incremental walk.
    audit::record(&pool, &key, &more, OffsetDateTime::now_utc()).await.unwrap();
    tamper(&pool, &["UPDATE audit_events SET actor = 'user:mallory' WHERE seq = 8"]).await;
    assert_eq!(
        banner(&state, &ada).await,
        (0, Some("event 8 was altered: its seal does not match its contents".into()))
    );

    // An older event edited behind a warm monitor is caught by a walk from genesis (at start, and periodically).
    tamper(&pool, &["UPDATE audit_events SET details = '{\"n\": 99}' WHERE seq = 3"]).await;
    let restarted = state_for(&pool, "");
    let (_, broken) = banner(&restarted, &ada).await;
    assert_eq!(broken.as_deref(), Some("event 3 was altered: its seal does not match its contents"));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn deleting_the_checkpoint_event_is_caught_at_the_next_view(pool: PgPool) {
    let ada = person(&pool, "Ada", Role::Auditor).await;
    let state = state_for(&pool, "");
    seed(&pool, &state.chain_key, &["system".into()], 6).await;
    assert_eq!(banner(&state, &ada).await, (6, None));
    tamper(&pool, &["DELETE FROM audit_events WHERE seq >= 5"]).await;
    let (_, broken) = banner(&state, &ada).await;
    assert_eq!(
        broken.as_deref(),
        Some("the chain head records event 6 but the log ends at event 4: events were deleted")
    );
}

/// Events stored under the names of earlier versions read as today's actions, and one action filter finds both:
/// a former name that covered a success and a refusal is told apart by its outcome.
#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn former_action_names_read_and_filter_as_todays(pool: PgPool) {
    let ada = person(&pool, "Ada", Role::Auditor).await;
    let state = state_for(&pool, "");
    let stored = |action: &str, outcome: Outcome| {
        AuditEntry::from(RawEntry {
            actor: actor_of(&ada),
            action: action.into(),
            object: String::new(),
            outcome,
            request_id: "r".into(),
            client_addr: "127.0.0.1".into(),
            details: json!({}),
        })
    };
    let now = OffsetDateTime::now_utc();
    audit::record(&pool, &state.chain_key, &stored("auth.login", Outcome::Success), now).await.unwrap();
    audit::record(&pool, &state.chain_key, &stored("auth.login", Outcome::Denied), now).await.unwrap();
    let today = audit::Actor::person(&ada, ada.caller.as_ref().unwrap().user_id).did(audit::Action::AuthSignedIn);
    audit::record(&pool, &state.chain_key, &today, now).await.unwrap();
    audit::record(&pool, &state.chain_key, &stored("api_token.create", Outcome::Success), now).await.unwrap();

    let listed = |action: &str| {
        let query = AuditQuery { action: action.into(), ..Default::default() };
        let (state, ada) = (state.clone(), ada.clone());
        async move {
            let listing = audit_viewer::list(&state, &ada, query).await.unwrap();
            listing.rows.iter().map(|row| (row.seq, row.action.clone())).collect::<Vec<_>>()
        }
    };
    let signed_in = [(3, "auth.signed_in".to_owned()), (1, "auth.signed_in".to_owned())];
    assert_eq!(listed("auth.signed_in").await, signed_in, "old and new successes, under today's name");
    assert_eq!(listed("auth.sign_in_denied").await, [(2, "auth.sign_in_denied".to_owned())]);
    assert_eq!(listed("auth.login").await.len(), 3, "a former name finds every action it covered");
    assert_eq!(listed("api_token.created").await, [(4, "api_token.created".to_owned())]);
    let old = audit_viewer::event(&state, &ada, 1).await.unwrap();
    assert_eq!((old.action.as_str(), old.recorded_action.as_deref()), ("auth.signed_in", Some("auth.login")));
    let new = audit_viewer::event(&state, &ada, 3).await.unwrap();
    assert_eq!((new.action.as_str(), new.recorded_action.as_deref()), ("auth.signed_in", None));
    let verified = audit::verify_chain(&pool, &state.chain_key).await.unwrap();
    assert_eq!(verified, Ok(audit::VerifyReport { events: 4, verified_through: 4 }), "names are read, never rewritten");
}
