//! CRLs served from each replica's memory: once loaded, neither a download nor a 304 reads the database (shown
//! with the `crls` table locked by another connection, so any read of it would wait), and a CRL stored by anyone
//! (another replica, `certdesk crl publish`) reaches every replica's next answer through PostgreSQL NOTIFY.

use std::time::Duration;

use axum::body::Body;
use certdesk::crl::checked::check;
use certdesk::crl::store::store;
use http::header::{ETAG, IF_NONE_MATCH};
use http::{Request, StatusCode};
use sqlx::PgPool;
use time::OffsetDateTime;
use tower::ServiceExt;

use crate::crl::{TestRoot, crl_of, test_root};
use crate::support::{CHAIN_KEY, eventually, state_for};

struct Answer {
    status: StatusCode,
    etag: Option<String>,
    body: Vec<u8>,
}

async fn get(router: &axum::Router, uri: &str, if_none_match: Option<&str>) -> Answer {
    let mut request = Request::get(uri);
    if let Some(etag) = if_none_match {
        request = request.header(IF_NONE_MATCH, etag);
    }
    let response = router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let etag = response.headers().get(ETAG).map(|value| value.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), 1 << 22).await.unwrap().to_vec();
    Answer { status, etag, body }
}

/// `uri` asked while another connection holds `crls` locked: `Some` only when the answer needed no read of it.
/// A plain request first, so a replica whose listener is connected keeps what it reads.
async fn from_memory(pool: &PgPool, router: &axum::Router, uri: &str, if_none_match: Option<&str>) -> Option<Answer> {
    get(router, uri, None).await;
    let mut lock = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE crls IN ACCESS EXCLUSIVE MODE").execute(&mut *lock).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_millis(500), get(router, uri, if_none_match)).await.ok();
    lock.rollback().await.unwrap();
    answer
}

async fn publish(pool: &PgPool, root: &TestRoot, number: u64, revoked: &[(u8, rcgen::RevocationReason)]) -> Vec<u8> {
    let key = certdesk::audit::ChainKey::new(secrecy::SecretString::from(CHAIN_KEY.to_owned()));
    let der = crl_of(root, number, revoked);
    let checked = check(&der, &root.der, None).unwrap();
    store(pool, &key, "root", None, &checked, OffsetDateTime::now_utc()).await.unwrap();
    der
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn crls_are_served_from_memory_and_a_stored_crl_reaches_every_replica(pool: PgPool) {
    let root = test_root("Served Root");
    let first = publish(&pool, &root, 5, &[]).await;
    let replicas = [certdesk::http::router(state_for(&pool, "")), certdesk::http::router(state_for(&pool, ""))];

    for replica in &replicas {
        let answer = get(replica, "/crl/root.crl", None).await;
        assert_eq!((answer.status, answer.body.as_slice()), (StatusCode::OK, first.as_slice()));
        // Once its listener is connected, the replica answers with the table locked: from memory.
        let served = eventually("the CRL served from memory", Duration::from_secs(10), || async {
            from_memory(&pool, replica, "/crl/root.crl", None).await.filter(|answer| answer.status == StatusCode::OK)
        })
        .await;
        assert_eq!(served.body, first);
        let etag = served.etag.unwrap();
        let unchanged = from_memory(&pool, replica, "/crl/root.crl", Some(&etag)).await.expect("a 304 from memory");
        assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
        assert!(unchanged.body.is_empty());
        let pem = from_memory(&pool, replica, "/crl/root.pem", None).await.expect("the PEM from memory");
        assert!(String::from_utf8(pem.body).unwrap().starts_with("-----BEGIN X509 CRL-----"));
        let ca = from_memory(&pool, replica, "/ca/root.der", None).await.expect("the CA certificate from memory");
        assert_eq!((ca.status, ca.body), (StatusCode::OK, root.der.clone()));
    }

    // A newer CRL stored elsewhere (here as `certdesk crl publish` stores it): every replica serves it next.
    let second = publish(&pool, &root, 6, &[(0x2a, rcgen::RevocationReason::KeyCompromise)]).await;
    for replica in &replicas {
        eventually("the newer CRL on every replica", Duration::from_secs(5), || async {
            let answer = get(replica, "/crl/root.crl", None).await;
            (answer.body == second).then_some(())
        })
        .await;
        let served = eventually("the newer CRL from memory", Duration::from_secs(10), || async {
            from_memory(&pool, replica, "/crl/root.crl", None).await.filter(|answer| answer.status == StatusCode::OK)
        })
        .await;
        assert_eq!(served.body, second);
    }
}
