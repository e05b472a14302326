//! Private keys leave only to their owner, against the test stack's real OpenBao: the owner in the browser and
//! with a token created for private keys; never with a read or read-write token without it, never to an auditor,
//! never to someone else (404, as before); an admin only by an export on the owner's behalf with a reason and a
//! fresh second factor, recorded with that reason. Certificate formats stay open to all who can see it.

use app::AppError;
use app::model::{KeyAccess, Role, TokenScope};
use app::ssr::{Caller, Credential, RequestMeta};
use certdesk::bundle::{DownloadFormat, RenderOptions};
use certdesk::state::AppState;
use http::StatusCode;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::issuance::{api_as, extra, server_key};
use crate::renewal::token_for;
use crate::support::{audit_details, person, stack, state_for};

fn meta_of(caller: &Caller) -> RequestMeta {
    RequestMeta { request_id: "test".into(), client_addr: "127.0.0.1".into(), caller: Some(caller.clone()) }
}

async fn download_as(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    format: &str,
    reason: Option<&str>,
) -> Result<Vec<u8>, AppError> {
    let format: DownloadFormat = format.parse().unwrap();
    let meta = meta_of(caller);
    certdesk::downloads::download(state, &meta, caller, id, format, &RenderOptions::default(), reason)
        .await
        .map(|rendered| rendered.bytes.to_vec())
        .map_err(|error| error.into_app_error(&meta))
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn a_private_key_leaves_only_to_its_owner_or_an_admin_exporting_on_their_behalf(pool: PgPool) {
    let stack = stack();
    let state = state_for(&pool, &extra(&stack, None));
    let owner = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let (status, created) = owner.request(server_key(&["keys.cluster.local"], "ec-p256", 30), None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id_text = created["id"].as_str().unwrap().to_owned();
    let id: Uuid = id_text.parse().unwrap();

    // The owner's token made for private keys gets every format.
    for format in ["key-pem", "kubernetes-secret", "fullchain-pem"] {
        let (status, body) = owner.download(&id_text, format, None).await;
        assert_eq!(status, StatusCode::OK, "{format}: {}", String::from_utf8_lossy(&body));
    }
    // Tokens made without it get certificates only, whatever their scope: 403 naming what is missing.
    for scope in [TokenScope::Read, TokenScope::ReadWrite] {
        let token = token_for(&pool, &state, owner.user_id, scope, false).await;
        for format in ["key-pem", "pkcs12", "kubernetes-secret"] {
            let (status, body) = token.download(&id_text, format, Some("correct horse battery")).await;
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(status, StatusCode::FORBIDDEN, "{scope:?} {format}: {body}");
            assert!(body["message"].as_str().unwrap().contains("private-key access"), "{body}");
        }
        let (status, _) = token.download(&id_text, "fullchain-pem", None).await;
        assert_eq!(status, StatusCode::OK, "certificate formats stay open to {scope:?}");
    }

    // Someone else: the certificate does not exist for them, key or not.
    let stranger = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    for format in ["key-pem", "fullchain-pem"] {
        assert_eq!(stranger.download(&id_text, format, None).await.0, StatusCode::NOT_FOUND, "{format}");
    }

    // An auditor sees the certificate and downloads it, never its key.
    let auditor = person(&pool, "Audrey", Role::Auditor).await;
    assert!(download_as(&state, &auditor, id, "fullchain-pem", None).await.is_ok());
    let refused = download_as(&state, &auditor, id, "key-pem", None).await.unwrap_err();
    assert!(matches!(&refused, AppError::NotPermitted { message } if message.contains("auditors")), "{refused:?}");
    assert_eq!(refused.status(), 403);

    // An admin: not by a plain download, not without a fresh second factor, and with both the export is recorded
    // with its reason.
    let mut admin = person(&pool, "Ada", Role::Admin).await;
    let refused = download_as(&state, &admin, id, "key-pem", None).await.unwrap_err();
    assert!(
        matches!(&refused, AppError::NotPermitted { message } if message.contains("on their behalf")),
        "{refused:?}"
    );
    let refused = download_as(&state, &admin, id, "key-pem", Some("ticket OPS-42: Pat is on leave")).await;
    assert_eq!(refused.unwrap_err(), AppError::StepUpRequired, "admin without a fresh second factor");
    let too_long = "x".repeat(501);
    assert!(matches!(
        download_as(&state, &admin, id, "key-pem", Some(&too_long)).await,
        Err(AppError::Invalid { field: Some(field), .. }) if field == "reason"
    ));
    admin.mfa_at = OffsetDateTime::now_utc().unix_timestamp();
    let key = download_as(&state, &admin, id, "key-pem", Some("  ticket OPS-42: Pat is on leave ")).await.unwrap();
    assert!(String::from_utf8_lossy(&key).starts_with("-----BEGIN PRIVATE KEY-----"));
    let exported = audit_details(&pool, "certificate.key_exported_on_behalf").await;
    assert_eq!(exported.len(), 1);
    assert_eq!(exported[0]["reason"], "ticket OPS-42: Pat is on leave");
    assert_eq!(exported[0]["owner"], owner.user_id.to_string());

    // An admin's own token never exports on someone's behalf, even one made for private keys (tokens carry no
    // second factor), though it sees and downloads the certificate.
    let admin_api = api_as(&pool, state.clone(), &["certdesk-admins"], Role::Admin, TokenScope::ReadWrite).await;
    let (status, body) = admin_api.download(&id_text, "key-pem", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{}", String::from_utf8_lossy(&body));
    assert_eq!(admin_api.download(&id_text, "fullchain-pem", None).await.0, StatusCode::OK);

    // Every refusal is in the audit log: 2 tokens × 3 formats, the auditor, the admin's two refusals in the browser
    // (no reason; no fresh factor) and the admin's token.
    assert_eq!(audit_details(&pool, "certificate.key_download_denied").await.len(), 6 + 1 + 2 + 1);
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn the_certificate_page_offers_the_key_only_to_whom_it_is_allowed(pool: PgPool) {
    let stack = stack();
    let state = state_for(&pool, &extra(&stack, None));
    let owner = api_as(&pool, state.clone(), &["platform-team"], Role::User, TokenScope::ReadWrite).await;
    let (status, created) = owner.request(server_key(&["page.cluster.local"], "ec-p256", 30), None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let as_owner = Caller {
        user_id: owner.user_id,
        display_name: "Pat".into(),
        role: Role::User,
        csrf_token: String::new(),
        mfa_at: 0,
        credential: Credential::Session,
    };
    let cases = [
        (as_owner, KeyAccess::Owner),
        (person(&pool, "Ada", Role::Admin).await, KeyAccess::OnBehalf),
        (person(&pool, "Audrey", Role::Auditor).await, KeyAccess::Denied),
    ];
    for (caller, expected) in cases {
        let detail = certdesk::inventory::detail(&state, &caller, id).await.unwrap();
        assert!(detail.key_held);
        assert_eq!(detail.key_access, expected, "{:?}", caller.role);
    }
}
