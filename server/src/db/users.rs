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

/// Inserts the person or refreshes their name, e-mail, role and groups; returns their id. Keyed on (issuer, subject).
/// Called only for a sign-in whose membership grants access, so it also ends an off-boarding (`disabled_at`).
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
                 groups = EXCLUDED.groups, last_login_at = EXCLUDED.last_login_at, disabled_at = NULL
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
    pub disabled_at: Option<OffsetDateTime>,
}

pub async fn person(pool: &sqlx::PgPool, id: Uuid) -> Result<Option<Person>, sqlx::Error> {
    sqlx::query_as!(Person, "SELECT id, display_name, email, disabled_at FROM users WHERE id = $1", id)
        .fetch_optional(pool)
        .await
}

/// People whose e-mail address or display name is exactly `who` (ignoring case); at most a few, for an
/// administrator to pick one.
pub async fn find_people(pool: &sqlx::PgPool, who: &str) -> Result<Vec<Person>, sqlx::Error> {
    sqlx::query_as!(
        Person,
        "SELECT id, display_name, email, disabled_at FROM users
         WHERE lower(email) = lower($1) OR lower(display_name) = lower($1)
         ORDER BY display_name, id LIMIT 5",
        who,
    )
    .fetch_all(pool)
    .await
}

/// What decides, at every request, whether a signed-in session or a token still stands for the person.
#[derive(Debug, Clone)]
pub struct Standing {
    pub display_name: String,
    pub groups: Vec<String>,
    pub disabled_at: Option<OffsetDateTime>,
    pub sessions_valid_after: Option<OffsetDateTime>,
}

pub async fn standing(pool: &sqlx::PgPool, user_id: Uuid) -> Result<Option<Standing>, sqlx::Error> {
    sqlx::query_as!(
        Standing,
        "SELECT display_name, groups, disabled_at, sessions_valid_after FROM users WHERE id = $1",
        user_id,
    )
    .fetch_optional(pool)
    .await
}

/// Off-boards the person: disabled, and every session begun until now ended. `false` when they were already
/// disabled (a repeated off-boarding changes nothing).
pub async fn disable(tx: &mut PgConnection, user_id: Uuid, now: OffsetDateTime) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query!(
        "UPDATE users SET disabled_at = $2, sessions_valid_after = $2 WHERE id = $1 AND disabled_at IS NULL",
        user_id,
        now,
    )
    .execute(tx)
    .await?;
    Ok(changed.rows_affected() == 1)
}
