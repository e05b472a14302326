//! SQL for people: created or refreshed at every sign-in.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

pub struct UserUpsert<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub role: &'a str,
    pub groups: &'a [String],
}

/// Inserts the person or refreshes their name, e-mail and role; returns their id. Keyed on (issuer, subject).
pub async fn upsert_at_login(
    tx: &mut PgConnection,
    user: &UserUpsert<'_>,
    now: OffsetDateTime,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO users (id, issuer, subject, display_name, email, role, groups, created_at, last_login_at)
         VALUES ($1, $2, $3, $4, $5, $6, $8, $7, $7)
         ON CONFLICT (issuer, subject) DO UPDATE
             SET display_name = EXCLUDED.display_name, email = EXCLUDED.email, role = EXCLUDED.role,
                 groups = EXCLUDED.groups, last_login_at = EXCLUDED.last_login_at
         RETURNING id",
        Uuid::new_v4(),
        user.issuer,
        user.subject,
        user.display_name,
        user.email,
        user.role,
        now,
        user.groups,
    )
    .fetch_one(tx)
    .await
}

/// The person's groups as of their last sign-in (issuance policy is written in groups).
pub async fn groups(pool: &sqlx::PgPool, user_id: Uuid) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT groups FROM users WHERE id = $1", user_id)
        .fetch_optional(pool)
        .await
        .map(Option::unwrap_or_default)
}

#[derive(Debug, Clone)]
pub struct Person {
    pub id: Uuid,
    pub display_name: String,
    pub email: Option<String>,
}

/// People whose e-mail address or display name is exactly `who` (ignoring case); at most a few, for an
/// administrator to pick one.
pub async fn find_people(pool: &sqlx::PgPool, who: &str) -> Result<Vec<Person>, sqlx::Error> {
    sqlx::query_as!(
        Person,
        "SELECT id, display_name, email FROM users
         WHERE lower(email) = lower($1) OR lower(display_name) = lower($1)
         ORDER BY display_name, id LIMIT 5",
        who,
    )
    .fetch_all(pool)
    .await
}
