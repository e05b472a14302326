//! Revocation against the test stack's real OpenBao and PostgreSQL: an owner revokes through the API and the CRL
//! certdesk serves lists it (checked by `openssl verify -crl_check`); revoking twice is harmless; strangers get
//! 404, bad reasons 400, read-only tokens 403, a forged browser request is refused; an admin needs step-up;
//! a batch is queued and reports each result as the background worker gets to it; a revocation made in OpenBao
//! directly is adopted from its CRL. (An unreachable OpenBao: `revocation_intents`.)

use app::model::{BatchItemState, RevocationBatchView, RevocationReason, Role, TokenScope};
use app::ssr::{Caller, RequestMeta};
use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::issuance::{Api, api_as, audit_actions, extra, openssl, server_key, temp_file};
use crate::support::{eventually, stack, state_for};

pub(crate) async fn issue(api: &Api, name: &str) -> Value {
    let (status, created) = api.request(server_key(&[name], "ec-p256", 7), None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

pub(crate) async fn revoke(api: &Api, id: &str, body: Value) -> (StatusCode, Value) {
    let request = Request::post(format!("/api/v1/certificates/{id}/revoke")).header("content-type", "application/json");
    let (status, bytes) = api.send(request, Body::from(body.to_string())).await;
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn get(api: &Api, path: &str, headers: &[(&str, &str)]) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = tower::ServiceExt::oneshot(api.router.clone(), request.body(Body::empty()).unwrap()).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, axum::body::to_bytes(response.into_body(), 1 << 22).await.unwrap().to_vec())
}

pub(crate) fn admin_caller(user_id: Uuid, fresh_mfa: bool) -> RequestMeta {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let caller = Caller {
        user_id,
        display_name: "Ada".into(),
        role: Role::Admin,
        csrf_token: String::new(),
        mfa_at: if fresh_mfa { now } else { now - 3600 },
        credential: app::ssr::Credential::Session,
    };
    RequestMeta { request_id: "test".into(), client_addr: "127.0.0.1".into(), caller: Some(caller) }
}

/// Re-reads a batch until the background worker gave every certificate its outcome.
async fn finished(state: &certdesk::state::AppState, caller: &Caller, batch: Uuid) -> RevocationBatchView {
    eventually("the revocation batch to finish", std::time::Duration::from_secs(30), || async {
        let view = certdesk::revocation::bulk::progress(state, caller, batch).await.unwrap();
        view.done.then_some(view)
    })
    .await
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn an_owner_revokes_and_the_served_crl_lists_it_within_seconds(pool: PgPool) {
    let stack = stack();
    let state = state_for(&pool, &extra(&stack, None));
    certdesk::crl::refresher::spawn_all(&state);
    let api = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let created = issue(&api, "gone.cluster.local").await;
    let id = created["id"].as_str().unwrap();
    let serial = created["serial"].as_str().unwrap().to_owned();

    let (status, revoked) = revoke(&api, id, json!({ "reason": "keyCompromise" })).await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(
        (revoked["reason"].as_str(), revoked["already_revoked"].as_bool()),
        (Some("keyCompromise"), Some(false))
    );
    let (status, again) = revoke(&api, id, json!({ "reason": "superseded" })).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["already_revoked"], true, "revoking twice is harmless");
    assert_eq!(again["reason"], "keyCompromise", "the first reason stands");

    // The refresher rebuilds and republishes the CRL after the revocation.
    let colon_upper = serial.replace(':', "").to_uppercase();
    let crl_der = eventually("the served CRL to list the serial", std::time::Duration::from_secs(30), || async {
        let (status, _, body) = get(&api, "/crl/private.crl", &[]).await;
        let file = temp_file("served.crl", &body);
        let (_, text) = openssl(&["crl", "-inform", "DER", "-in", file.to_str().unwrap(), "-noout", "-text"]);
        (status == StatusCode::OK && text.contains(&colon_upper)).then_some(body)
    })
    .await;
    let crl_file = temp_file("private.crl", &crl_der);
    let (_, fullchain) = api.download(id, "fullchain-pem", None).await;
    let (_, chain) = api.download(id, "chain-pem", None).await;
    let (leaf_file, chain_file) = (temp_file("leaf.pem", &fullchain), temp_file("chain.pem", &chain));
    let root = format!("{stack}/openbao/root_ca.pem");
    // The CRL verifies against the intermediate that issued the leaf.
    let (ok, text) = openssl(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        crl_file.to_str().unwrap(),
        "-CAfile",
        chain_file.to_str().unwrap(),
        "-noout",
    ]);
    assert!(ok && text.contains("verify OK"), "{text}");
    let (_, crl_pem) = openssl(&["crl", "-inform", "DER", "-in", crl_file.to_str().unwrap()]);
    let crl_pem_file = temp_file("private.crl.pem", crl_pem.as_bytes());
    let (ok, text) = openssl(&[
        "verify",
        "-crl_check",
        "-CAfile",
        &root,
        "-untrusted",
        chain_file.to_str().unwrap(),
        "-CRLfile",
        crl_pem_file.to_str().unwrap(),
        leaf_file.to_str().unwrap(),
    ]);
    assert!(!ok && text.contains("certificate revoked"), "{text}");

    // The same CRL under the leaf's distribution point (the mount name), as PEM, and conditionally.
    let (status, headers, by_mount) = get(&api, "/crl/pki_private_issuer.crl", &[]).await;
    assert_eq!((status, by_mount.len()), (StatusCode::OK, crl_der.len()));
    assert_eq!(headers["content-type"], "application/pkix-crl");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let last_modified = headers["last-modified"].to_str().unwrap().to_owned();
    assert!(headers["cache-control"].to_str().unwrap().starts_with("public, max-age="), "{headers:?}");
    let (status, _, body) = get(&api, "/crl/private.crl", &[("if-none-match", &etag)]).await;
    assert_eq!((status, body.len()), (StatusCode::NOT_MODIFIED, 0));
    let (status, _, _) = get(&api, "/crl/private.crl", &[("if-modified-since", &last_modified)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let (status, _, pem) = get(&api, "/crl/private.pem", &[]).await;
    assert!(status == StatusCode::OK && pem.starts_with(b"-----BEGIN X509 CRL-----"));
    let (status, _, _) = get(&api, "/crl/nobody.crl", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, index) = get(&api, "/crl", &[]).await;
    assert!(status == StatusCode::OK && String::from_utf8_lossy(&index).contains("/crl/private.crl"));
    let (status, _, ca) = get(&api, "/ca/pki_private_issuer.der", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ca, pem::parse(&chain).unwrap().into_contents(), "the AIA URL serves the issuing CA");

    // Still listed and downloadable, clearly revoked, with its reason; the readiness report shows a fresh CRL.
    let (status, listed) = api.send(Request::get("/api/v1/certificates?status=revoked"), Body::empty()).await;
    let listed: Value = serde_json::from_slice(&listed).unwrap();
    assert_eq!((status, listed["rows"][0]["id"].as_str()), (StatusCode::OK, Some(id)));
    let (_, _, ready) = get(&api, "/readyz", &[]).await;
    let ready: Value = serde_json::from_slice(&ready).unwrap();
    assert_eq!(ready["crls"]["private"]["stale"], false, "{ready}");
    let actions = audit_actions(&pool).await;
    assert_eq!(actions.iter().filter(|action| *action == "certificate.revoked").count(), 1, "{actions:?}");
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn bad_revocation_requests_are_refused_naming_what_is_wrong(pool: PgPool) {
    let stack = stack();
    let state = state_for(&pool, &extra(&stack, None));
    let owner = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let stranger = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let reader = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::Read).await;
    let created = issue(&owner, "keep.cluster.local").await;
    let id = created["id"].as_str().unwrap();

    let (status, body) = revoke(&stranger, id, json!({ "reason": "keyCompromise" })).await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{body}");
    let (status, _) = revoke(&owner, "not-a-uuid", json!({ "reason": "keyCompromise" })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = revoke(&owner, id, json!({})).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("reason")), "{body}");
    let (status, body) = revoke(&owner, id, json!({ "reason": "certificateHold" })).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("reason")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("keyCompromise"), "{body}");
    let request = Request::post(format!("/api/v1/certificates/{id}/revoke")).header("content-type", "application/json");
    let (status, _) = owner.send(request, Body::from("{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = revoke(&reader, id, json!({ "reason": "keyCompromise" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a read-only token cannot revoke");

    // A browser request with the session cookie but from another origin never reaches the handler.
    let forged = Request::post(format!("/api/v1/certificates/{id}/revoke"))
        .header("content-type", "application/json")
        .header("cookie", "certdesk_session=stolen")
        .header("origin", "https://evil.example")
        .body(Body::from(r#"{"reason":"keyCompromise"}"#))
        .unwrap();
    let response = tower::ServiceExt::oneshot(owner.router.clone(), forged).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // The same for the server function the certificate page calls, and without any Origin at all.
    for origin in [Some("https://evil.example"), None] {
        let mut forged = Request::post("/rpc/revoke_certificate")
            .header("content-type", "application/json")
            .header("cookie", "certdesk_session=stolen");
        if let Some(origin) = origin {
            forged = forged.header("origin", origin);
        }
        let body = json!({ "id": id, "reason": "keyCompromise" }).to_string();
        let response = tower::ServiceExt::oneshot(owner.router.clone(), forged.body(Body::from(body)).unwrap()).await;
        assert_eq!(response.unwrap().status(), StatusCode::FORBIDDEN, "origin {origin:?}");
    }

    // A request that never produced a certificate cannot be revoked.
    let pending = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO certificates (id, owner_id, issuer_id, status, common_name, key_algorithm)
         VALUES ($1, $2, 'private', 'pending', 'wait.cluster.local', 'EC P-256')",
    )
    .bind(pending)
    .bind(owner.user_id)
    .execute(&pool)
    .await
    .unwrap();
    let (status, body) = revoke(&owner, &pending.to_string(), json!({ "reason": "superseded" })).await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{body}");

    let status_of = sqlx::query_scalar::<_, String>("SELECT status FROM certificates WHERE id = $1::uuid");
    assert_eq!(status_of.bind(id).fetch_one(&pool).await.unwrap(), "issued", "nothing was revoked");
    assert!(!audit_actions(&pool).await.contains(&"certificate.revoked".to_owned()));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn an_admin_needs_step_up_and_a_batch_reports_each_certificate(pool: PgPool) {
    let stack = stack();
    let state = state_for(&pool, &extra(&stack, None));
    let owner = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let admin = api_as(&pool, state.clone(), &["certdesk-admins"], Role::Admin, TokenScope::ReadWrite).await;
    let first = issue(&owner, "one.cluster.local").await["id"].as_str().unwrap().parse::<Uuid>().unwrap();
    let second = issue(&owner, "two.cluster.local").await["id"].as_str().unwrap().parse::<Uuid>().unwrap();

    // API tokens never carry a second factor: an admin revoking someone else's certificate must step up.
    let (status, body) = revoke(&admin, &first.to_string(), json!({ "reason": "affiliationChanged" })).await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::FORBIDDEN, Some("step_up_required")), "{body}");
    let stale = admin_caller(admin.user_id, false);
    let refused = certdesk::revocation::bulk::submit(
        &state,
        &stale,
        stale.caller.as_ref().unwrap(),
        &[first],
        RevocationReason::Superseded,
    )
    .await;
    assert!(matches!(refused, Err(certdesk::error::ServerError::Client(app::AppError::StepUpRequired))));
    assert!(audit_actions(&pool).await.contains(&"certificate.revoke_denied".to_owned()));

    // With a fresh second factor: one revocable, one already revoked, one from an issuer certdesk no longer has,
    // a pending request, an unknown id and a duplicate — each reported for itself.
    let meta = admin_caller(admin.user_id, true);
    let caller = meta.caller.as_ref().unwrap();
    certdesk::revocation::revoke(&state, &meta, caller, second, RevocationReason::Superseded).await.unwrap();
    let (foreign, pending, unknown) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    for (id, issuer, status, serial) in
        [(foreign, "retired-ca", "issued", Some("0a:0b")), (pending, "private", "pending", None)]
    {
        sqlx::query(
            "INSERT INTO certificates (id, owner_id, issuer_id, status, common_name, key_algorithm, serial, not_after)
             VALUES ($1, $2, $3, $4, 'old.cluster.local', 'EC P-256', $5, now() + interval '1 day')",
        )
        .bind(id)
        .bind(owner.user_id)
        .bind(issuer)
        .bind(status)
        .bind(serial)
        .execute(&pool)
        .await
        .unwrap();
    }
    let ids = [first, second, foreign, pending, unknown, first];
    let queued =
        certdesk::revocation::bulk::submit(&state, &meta, caller, &ids, RevocationReason::CessationOfOperation)
            .await
            .unwrap();
    assert_eq!(queued.unknown, [unknown], "{queued:?}");
    let batch = finished(&state, caller, queued.id).await;
    assert_eq!(batch.items.len(), 4, "the duplicate is revoked once: {batch:?}");
    let item = |index: usize| &batch.items[index];
    assert_eq!((item(0).certificate_id, item(0).state), (first, BatchItemState::Revoked));
    assert_eq!((item(1).certificate_id, item(1).state), (second, BatchItemState::AlreadyRevoked));
    assert_eq!(item(2).state, BatchItemState::Failed);
    assert!(item(2).message.as_deref().unwrap().contains("retired-ca"), "{batch:?}");
    assert_eq!(item(3).state, BatchItemState::Failed);
    assert!(item(3).message.as_deref().unwrap().contains("pending"), "{batch:?}");
    let reason_of = sqlx::query_scalar::<_, Option<String>>("SELECT revocation_reason FROM certificates WHERE id = $1");
    assert_eq!(reason_of.bind(first).fetch_one(&pool).await.unwrap().as_deref(), Some("cessationOfOperation"));

    // The API batch: limits are checked first; then 202 with where to follow it.
    let request = Request::post("/api/v1/certificates/revoke").header("content-type", "application/json");
    let (status, body) =
        owner.send(request, Body::from(json!({ "ids": [], "reason": "superseded" }).to_string())).await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("ids")), "{body}");
    let request = Request::post("/api/v1/certificates/revoke").header("content-type", "application/json");
    let (status, body) =
        owner.send(request, Body::from(json!({ "ids": [first, "nope"], "reason": "superseded" }).to_string())).await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("ids[1]")), "{body}");
    let request = Request::post("/api/v1/certificates/revoke").header("content-type", "application/json");
    let (status, body) =
        owner.send(request, Body::from(json!({ "ids": [first], "reason": "superseded" }).to_string())).await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["items"][0]["state"], "already_revoked", "{body}");
    let progress = format!("/api/v1/revocations/{}", body["id"].as_str().unwrap());
    let auth = format!("Bearer {}", owner.token);
    let (status, _, answer) = get(&owner, &progress, &[("authorization", &auth)]).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&answer));
    // Someone else's batch, and a batch id that is no UUID, do not exist.
    let stranger = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let stranger_auth = format!("Bearer {}", stranger.token);
    assert_eq!(get(&stranger, &progress, &[("authorization", &stranger_auth)]).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&stranger, "/api/v1/revocations/nope", &[("authorization", &stranger_auth)]).await.0,
        StatusCode::NOT_FOUND
    );

    // Off-boarding: the plan names the person and what is left to revoke.
    let plan =
        certdesk::revocation::offboarding::owner_plan(&state, caller, &format!("{}@example.test", owner.user_id))
            .await
            .unwrap();
    assert_eq!(plan.owner_id, owner.user_id);
    assert_eq!(plan.certificates.len(), 1, "only the foreign-issuer certificate is still valid: {plan:?}");
    let missing = certdesk::revocation::offboarding::owner_plan(&state, caller, "nobody@example.test").await;
    assert!(matches!(missing, Err(certdesk::error::ServerError::Client(app::AppError::Invalid { .. }))));
}

/// Revokes `serial` in the stack's OpenBao directly, as someone with its root token would, behind certdesk's back.
async fn revoke_in_openbao(stack: &crate::support::Stack, serial: &str) {
    let bao = format!("{stack}/openbao");
    let read = |name: &str| std::fs::read_to_string(format!("{bao}/{name}")).unwrap().trim().to_owned();
    let response = reqwest::Client::new()
        .post(format!("{}/v1/pki_private_issuer/revoke", read("addr")))
        .header("x-vault-token", read("root_token"))
        .json(&json!({ "serial_number": serial }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{:?}", response.text().await);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_revocation_made_in_openbao_is_adopted_from_its_crl(pool: PgPool) {
    let stack = stack();
    let state = state_for(&pool, &extra(&stack, None));
    let owner = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let created = issue(&owner, "elsewhere.cluster.local").await;
    let (id, serial) = (created["id"].as_str().unwrap().to_owned(), created["serial"].as_str().unwrap().to_owned());
    revoke_in_openbao(&stack, &serial).await;

    let issuer = state.issuers.get("private").unwrap();
    certdesk::crl::refresher::refresh_once(&state, issuer, true).await.unwrap();
    let status_of = sqlx::query_scalar::<_, String>("SELECT status FROM certificates WHERE id = $1::uuid");
    assert_eq!(status_of.bind(&id).fetch_one(&pool).await.unwrap(), "revoked");
    let actor: String = sqlx::query_scalar(
        "SELECT actor FROM audit_events WHERE action = 'certificate.revoked' AND object = 'certificate:' || $1",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(actor, "system:crl");

    // The owner can still record why.
    let (status, body) = revoke(&owner, &id, json!({ "reason": "cessationOfOperation" })).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::OK, Some("cessationOfOperation")), "{body}");
    let revoked_by: Option<Uuid> = sqlx::query_scalar("SELECT revoked_by FROM certificates WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(revoked_by, Some(owner.user_id));
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn adopting_from_the_crl_while_a_revocation_holds_the_certificate_does_not_deadlock(pool: PgPool) {
    let stack = stack();
    let state = state_for(&pool, &extra(&stack, None));
    let owner = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let created = issue(&owner, "deadlock.cluster.local").await;
    let (id, serial) = (created["id"].as_str().unwrap().to_owned(), created["serial"].as_str().unwrap().to_owned());
    revoke_in_openbao(&stack, &serial).await;

    // A revocation in flight: it holds the certificate's row, and appends its audit event next.
    let mut in_flight = pool.begin().await.unwrap();
    sqlx::query("UPDATE certificates SET updated_at = now() WHERE id = $1::uuid")
        .bind(&id)
        .execute(&mut *in_flight)
        .await
        .unwrap();
    let refreshing = {
        let state = state.clone();
        tokio::spawn(async move {
            let issuer = state.issuers.get("private").unwrap();
            certdesk::crl::refresher::refresh_once(&state, issuer, true).await
        })
    };
    // The refresher's transaction reaches the certificate's row and waits for it.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let entry = certdesk::audit::Actor::job("test")
        .did(certdesk::audit::Action::CrlUpdated)
        .on(certdesk::audit::Object::Crl("in-flight".into()));
    certdesk::audit::append(&mut in_flight, &state.chain_key, &entry.with(json!({})), OffsetDateTime::now_utc())
        .await
        .expect("the revocation appends its event: the refresher does not hold the chain's head while it waits");
    in_flight.commit().await.unwrap();
    refreshing.await.unwrap().expect("the refresher finishes once the row is free");
    let status: String = sqlx::query_scalar("SELECT status FROM certificates WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "revoked", "adopted from the CRL");
}
