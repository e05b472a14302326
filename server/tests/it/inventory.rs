//! The inventory list against the real database: every order pages through all rows exactly once (keyset, no
//! duplicates or gaps), people see only their own certificates while admins see everyone's and can filter by
//! owner, search matches names and serials, and a forged cursor is a 400.

use app::AppError;
use app::model::{CertSort, CertificateQuery, Role};
use app::ssr::Caller;
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{person, state_for};

/// `count` issued certificates of `owner`, with distinct creation times, expiries and names.
async fn certificates(pool: &PgPool, owner: Uuid, prefix: &str, count: i32) {
    sqlx::query(
        "INSERT INTO certificates (id, owner_id, issuer_id, status, common_name, key_algorithm, serial, not_after,
                                   created_at, search_text)
         SELECT gen_random_uuid(), $1, 'private', 'issued', $2 || '-' || n || '.cluster.local', 'EC P-256',
                $2 || to_hex(n * 7919), now() + make_interval(days => (n * 37) % 90 + 1), now() - make_interval(mins => n),
                $2 || '-' || n || '.cluster.local ' || $2 || to_hex(n * 7919)
         FROM generate_series(1, $3) AS n",
    )
    .bind(owner)
    .bind(prefix)
    .bind(count)
    .execute(pool)
    .await
    .unwrap();
}

async fn all_pages(pool: &PgPool, caller: &Caller, query: CertificateQuery) -> Vec<(String, Option<String>)> {
    let state = state_for(pool, "");
    let mut seen = Vec::new();
    let mut query = query;
    loop {
        let page = certdesk::inventory::list(&state, caller, query.clone()).await.unwrap();
        seen.extend(page.rows.iter().map(|row| (row.common_name.clone(), row.not_after.clone())));
        match page.next {
            Some(next) => query.after = Some(next),
            None => return seen,
        }
    }
}

#[sqlx::test(migrator = "certdesk::db::MIGRATOR")]
async fn every_order_pages_through_all_rows_once_and_owners_are_kept_apart(pool: PgPool) {
    let pat = person(&pool, "Pat", Role::User).await;
    let sam = person(&pool, "Sam", Role::User).await;
    let admin = person(&pool, "Ada", Role::Admin).await;
    certificates(&pool, pat.user_id, "pat", 120).await;
    certificates(&pool, sam.user_id, "sam", 7).await;

    for sort in CertSort::ALL {
        let rows = all_pages(&pool, &pat, CertificateQuery { sort, ..Default::default() }).await;
        assert_eq!(rows.len(), 120, "{sort:?}: every row of Pat's, none of Sam's");
        let unique: std::collections::HashSet<_> = rows.iter().map(|row| row.0.clone()).collect();
        assert_eq!(unique.len(), 120, "{sort:?}: no row twice across pages");
        assert!(rows.iter().all(|row| row.0.starts_with("pat-")));
        match sort {
            CertSort::Name => assert!(rows.windows(2).all(|pair| pair[0].0 <= pair[1].0), "sorted by name"),
            CertSort::Expiry => assert!(rows.windows(2).all(|pair| pair[0].1 <= pair[1].1), "soonest expiry first"),
            CertSort::Newest => assert_eq!(rows[0].0, "pat-1.cluster.local", "newest first"),
        }
    }
    let everyone = all_pages(&pool, &admin, CertificateQuery::default()).await;
    assert_eq!(everyone.len(), 127, "admins see every certificate");
    let sams = all_pages(&pool, &admin, CertificateQuery { owner: "sam@EXAMPLE".into(), ..Default::default() }).await;
    assert_eq!(sams.len(), 7, "admins filter by owner e-mail");
    let ignored = all_pages(&pool, &pat, CertificateQuery { owner: "sam".into(), ..Default::default() }).await;
    assert_eq!(ignored.len(), 120, "the owner filter never widens what a person sees");

    let found = all_pages(&pool, &pat, CertificateQuery { search: "PAT-11".into(), ..Default::default() }).await;
    let names: Vec<&str> = found.iter().map(|row| row.0.as_str()).collect();
    assert!(names.contains(&"pat-11.cluster.local") && names.contains(&"pat-110.cluster.local"), "{names:?}");
    assert!(found.len() < 20);
    let by_serial =
        all_pages(&pool, &pat, CertificateQuery { search: format!("{:x}", 42 * 7919), ..Default::default() }).await;
    assert_eq!(by_serial.first().map(|row| row.0.as_str()), Some("pat-42.cluster.local"));
    let literal = all_pages(&pool, &pat, CertificateQuery { search: "%".into(), ..Default::default() }).await;
    assert!(literal.is_empty(), "% is searched for literally, not as a wildcard");

    let state = state_for(&pool, "");
    let forged = CertificateQuery { after: Some("bm90LWEtY3Vyc29y".into()), ..Default::default() };
    match certdesk::inventory::list(&state, &pat, forged).await {
        Err(certdesk::error::ServerError::Client(AppError::Invalid { field, .. })) => {
            assert_eq!(field.as_deref(), Some("after"))
        }
        other => panic!("expected a 400 on a forged cursor, got {other:?}"),
    }
}
