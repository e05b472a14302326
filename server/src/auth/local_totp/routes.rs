//! `/signin/second-factor`: enrolment (QR code, then recovery codes shown once) and verification (a TOTP code or
//! a recovery code) for people whose provider proved no MFA. Codes are single-use per time step, wrong codes
//! lock the factor for a while, every outcome is audited, and the session opens only after success.

use app::model::Role;
use app::ssr::RequestMeta;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::codes::{self, CodeCheck};
use super::pages::{self, EnrolmentView};
use crate::audit::{self, Action, Actor, AuditEntry, Object};
use crate::auth::oidc::VerifiedLogin;
use crate::auth::routes::{open_session, sign_in_event, unavailable, upsert_person};
use crate::auth::session::{PendingLogin, random_token};
use crate::auth::{page, roles};
use crate::db;
use crate::error::ServerError;
use crate::http::RequestContext;
use crate::sealing::{Sealer, totp_context};
use crate::state::AppState;

pub const PATH: &str = "/signin/second-factor";
/// Session key of a sign-in waiting for its second factor.
const PENDING_SECOND_FACTOR: &str = "certdesk.pending_second_factor";
/// The second factor must follow the provider's sign-in within this time.
const DEADLINE_SECS: i64 = 600;
/// An enrolment not confirmed within this time starts over with a new secret.
const ENROLMENT_SECS: i64 = 600;

pub fn routes() -> Router<AppState> {
    Router::new().route(PATH, get(show).post(submit))
}

/// The provider's verified answer, kept in the session until the second factor is done.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingSecondFactor {
    user_id: Uuid,
    display_name: String,
    account_label: String,
    role: Role,
    issuer: String,
    amr: Vec<String>,
    acr: Option<String>,
    id_token: String,
    next: String,
    step_up: bool,
    started_at: i64,
    csrf_token: String,
}

/// Called by the OIDC callback when the provider proved no MFA: records the person, rotates the session id and
/// remembers the sign-in until the second factor is done.
pub async fn begin(
    state: &AppState,
    session: &Session,
    meta: &RequestMeta,
    login: &VerifiedLogin,
    pending: &PendingLogin,
    now: OffsetDateTime,
) -> Result<(), ()> {
    let role = roles::role_for(&login.groups, &state.config.auth);
    let recorded = async {
        let mut tx = state.pool.begin().await?;
        let user_id = upsert_person(&mut tx, login, role, now).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(user_id)
    }
    .await;
    let user_id = recorded
        .map_err(|error| tracing::error!(request_id = %meta.request_id, error = %error, "cannot record person"))?;
    session.cycle_id().await.map_err(|_| ())?;
    let waiting = PendingSecondFactor {
        user_id,
        display_name: login.display_name.clone(),
        account_label: login.email.clone().unwrap_or_else(|| login.display_name.clone()),
        role,
        issuer: login.issuer.clone(),
        amr: login.amr.clone(),
        acr: login.acr.clone(),
        id_token: login.id_token.clone(),
        next: pending.next.clone(),
        step_up: pending.step_up,
        started_at: now.unix_timestamp(),
        csrf_token: random_token(),
    };
    session.insert(PENDING_SECOND_FACTOR, waiting).await.map_err(|_| ())
}

/// The factor as it stands: locked, waiting for enrolment (with its secret), or enrolled.
enum Factor {
    Locked { until: OffsetDateTime },
    Enrolling { secret: zeroize::Zeroizing<Vec<u8>> },
    Enrolled { secret: zeroize::Zeroizing<Vec<u8>> },
}

async fn show(State(state): State<AppState>, session: Session, context: RequestContext) -> Response {
    let meta = &context.meta;
    let now = OffsetDateTime::now_utc();
    let waiting = match waiting_sign_in(&session, now).await {
        Ok(waiting) => waiting,
        Err(response) => return response,
    };
    let Some(sealer) = state.config.encryption.as_ref() else { return unavailable(meta) };
    match load_factor(&state, sealer, &waiting, now).await {
        Ok(Factor::Locked { until }) => pages::locked(until),
        Ok(Factor::Enrolling { secret, .. }) => {
            pages::enrol(StatusCode::OK, &enrolment_view(&secret, &waiting), &waiting.csrf_token, None)
        }
        Ok(Factor::Enrolled { .. }) => pages::verify(StatusCode::OK, &waiting.csrf_token, None),
        Err(error) => {
            tracing::error!(request_id = %meta.request_id, error = %error, "second factor unavailable");
            unavailable(meta)
        }
    }
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    code: String,
}

async fn submit(
    State(state): State<AppState>,
    session: Session,
    context: RequestContext,
    axum::Form(form): axum::Form<CodeForm>,
) -> Response {
    let meta = &context.meta;
    let now = OffsetDateTime::now_utc();
    let waiting = match waiting_sign_in(&session, now).await {
        Ok(waiting) => waiting,
        Err(response) => return response,
    };
    if !bool::from(form.csrf_token.as_bytes().ct_eq(waiting.csrf_token.as_bytes())) {
        let details = json!({ "reason": "csrf token mismatch" });
        let entry = mfa_event(meta, &waiting, Action::MfaFailed).with(details);
        if audit::record(&state.pool, &state.chain_key, &entry, now).await.is_err() {
            return unavailable(meta);
        }
        return page::problem(
            StatusCode::FORBIDDEN,
            "Code refused",
            "This form did not come from this browser's certdesk sign-in. Please sign in again.",
            &meta.request_id,
        );
    }
    let Some(sealer) = state.config.encryption.as_ref() else { return unavailable(meta) };
    let outcome = match load_factor(&state, sealer, &waiting, now).await {
        Ok(Factor::Locked { until }) => return pages::locked(until),
        Ok(Factor::Enrolling { secret }) => match claim(&state, &waiting, &form.code, true, now).await {
            Ok(Claim::Checkable(counted)) => {
                confirm_enrolment(&state, meta, &waiting, &secret, &form.code, counted, now).await
            }
            Ok(Claim::Refused(Step::Retry { message, status, .. })) => {
                Ok(Step::Retry { message, status, secret: Some(secret) })
            }
            Ok(Claim::Refused(step)) => Ok(step),
            Err(error) => Err(error),
        },
        Ok(Factor::Enrolled { secret }) => match claim(&state, &waiting, &form.code, false, now).await {
            Ok(Claim::Checkable(counted)) => {
                verify_code(&state, meta, &waiting, &secret, &form.code, counted, now).await
            }
            Ok(Claim::Refused(step)) => Ok(step),
            Err(error) => Err(error),
        },
        Err(error) => Err(error),
    };
    match outcome {
        Ok(Step::Admitted { recovery_codes }) => {
            if session.remove::<PendingSecondFactor>(PENDING_SECOND_FACTOR).await.is_err()
                || open_session(
                    &session,
                    waiting.user_id,
                    &waiting.display_name,
                    waiting.role,
                    &waiting.id_token,
                    now,
                    // certdesk's own factor was proven just now.
                    now.unix_timestamp(),
                )
                .await
                .is_err()
            {
                return unavailable(meta);
            }
            match recovery_codes {
                Some(codes) => pages::recovery_codes(&codes, &waiting.next),
                None => Redirect::to(&waiting.next).into_response(),
            }
        }
        Ok(Step::Retry { message, status, secret }) => match secret {
            Some(secret) => {
                pages::enrol(status, &enrolment_view(&secret, &waiting), &waiting.csrf_token, Some(&message))
            }
            None => pages::verify(status, &waiting.csrf_token, Some(&message)),
        },
        Ok(Step::Locked { until }) => pages::locked(until),
        Err(error) => {
            tracing::error!(request_id = %meta.request_id, error = %error, "second factor unavailable");
            unavailable(meta)
        }
    }
}

enum Step {
    Admitted {
        recovery_codes: Option<Vec<zeroize::Zeroizing<String>>>,
    },
    /// Show the form again with `message`; `secret` when still enrolling.
    Retry {
        message: String,
        status: StatusCode,
        secret: Option<zeroize::Zeroizing<Vec<u8>>>,
    },
    Locked {
        until: OffsetDateTime,
    },
}

/// Whether a submitted code may be checked: malformed input is only explained (it is no guess and does not
/// count); anything else first claims an attempt, which counts it as a failure and finds a lock set by a
/// parallel guess in the same statement (see `db::local_totp::claim_attempt`).
enum Claim {
    Checkable(Counted),
    Refused(Step),
}

/// The failures so far including this attempt, the lock it set when it was the last one allowed, and the last
/// time step used, all as of the claim.
#[derive(Debug, Clone, Copy)]
struct Counted {
    failures: i32,
    locked_until: Option<OffsetDateTime>,
    last_used_step: i64,
}

async fn claim(
    state: &AppState,
    waiting: &PendingSecondFactor,
    code: &str,
    enrolling: bool,
    now: OffsetDateTime,
) -> Result<Claim, ServerError> {
    let recovery = !enrolling && codes::looks_like_recovery_code(code);
    if !recovery && !codes::is_well_formed(code) {
        return Ok(Claim::Refused(malformed(enrolling, None)));
    }
    let lock_until = now + codes::LOCK_FOR;
    let attempt =
        db::local_totp::claim_attempt(&state.pool, waiting.user_id, codes::LOCK_AFTER_FAILURES, lock_until, now)
            .await?;
    Ok(match attempt {
        db::local_totp::Attempt::Allowed { failures, locked_until, last_used_step } => {
            Claim::Checkable(Counted { failures, locked_until, last_used_step })
        }
        db::local_totp::Attempt::Locked { until } => Claim::Refused(Step::Locked { until }),
    })
}

fn malformed(enrolling: bool, secret: Option<zeroize::Zeroizing<Vec<u8>>>) -> Step {
    let message = if enrolling {
        "Enter the 6-digit code your authenticator app shows."
    } else {
        "Enter the 6-digit code from your authenticator app, or one of your recovery codes."
    };
    Step::Retry { message: message.into(), status: StatusCode::BAD_REQUEST, secret }
}

async fn waiting_sign_in(session: &Session, now: OffsetDateTime) -> Result<PendingSecondFactor, Response> {
    match session.get::<PendingSecondFactor>(PENDING_SECOND_FACTOR).await {
        Ok(Some(waiting)) if now.unix_timestamp() - waiting.started_at <= DEADLINE_SECS => Ok(waiting),
        // Nothing waiting (or too old): the second factor only ever follows the provider's sign-in.
        Ok(_) => Err(Redirect::to("/auth/login").into_response()),
        Err(_) => Err(page::problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is unavailable",
            "certdesk could not reach its database. Please try again in a minute.",
            "-",
        )),
    }
}

/// Reads the person's factor, starting (or restarting) an enrolment with a fresh secret when there is none, the
/// unconfirmed one is stale, or its key is no longer configured.
async fn load_factor(
    state: &AppState,
    sealer: &Sealer,
    waiting: &PendingSecondFactor,
    now: OffsetDateTime,
) -> Result<Factor, ServerError> {
    let context = totp_context(waiting.user_id);
    let row = db::local_totp::find(&state.pool, waiting.user_id).await?;
    if let Some(row) = &row {
        if let Some(until) = row.locked_until.filter(|until| *until > now) {
            return Ok(Factor::Locked { until });
        }
        let opened = sealer.open(&row.secret, &context);
        match (row.confirmed_at, opened) {
            (Some(_), Ok(secret)) => {
                return Ok(Factor::Enrolled { secret });
            }
            // An enrolled secret that no configured key opens must not silently become a new enrolment: that
            // would let whoever holds the provider password replace the factor.
            (Some(_), Err(error)) => return Err(error.into()),
            (None, Ok(secret)) if (now - row.created_at).whole_seconds() < ENROLMENT_SECS => {
                return Ok(Factor::Enrolling { secret });
            }
            (None, _) => {}
        }
    }
    let secret = codes::new_secret();
    let sealed = sealer.seal(&secret, &context)?;
    if !db::local_totp::start_enrolment(&state.pool, waiting.user_id, &sealed, now).await? {
        // Confirmed concurrently (another tab): read again.
        return Box::pin(load_factor(state, sealer, waiting, now)).await;
    }
    Ok(Factor::Enrolling { secret })
}

async fn confirm_enrolment(
    state: &AppState,
    meta: &RequestMeta,
    waiting: &PendingSecondFactor,
    secret: &[u8],
    code: &str,
    counted: Counted,
    now: OffsetDateTime,
) -> Result<Step, ServerError> {
    let step = match codes::check_code(secret, code, now.unix_timestamp(), counted.last_used_step) {
        CodeCheck::Accepted { step } => step,
        refused => {
            let secret = Some(zeroize::Zeroizing::new(secret.to_vec()));
            return refuse(state, meta, waiting, refused, counted, now, secret).await;
        }
    };
    let recovery_codes = codes::new_recovery_codes();
    let hashes: Vec<Vec<u8>> = recovery_codes.iter().map(|code| codes::recovery_code_hash(code)).collect();
    let mut tx = state.pool.begin().await?;
    if !db::local_totp::accept_step(&mut tx, waiting.user_id, step, now).await? {
        drop(tx);
        let secret = Some(zeroize::Zeroizing::new(secret.to_vec()));
        return refuse(state, meta, waiting, CodeCheck::Replayed, counted, now, secret).await;
    }
    db::local_totp::replace_recovery_codes(&mut tx, waiting.user_id, &hashes).await?;
    record_success(state, tx, meta, waiting, Action::MfaEnrolled, "enrolment", now).await?;
    Ok(Step::Admitted { recovery_codes: Some(recovery_codes) })
}

async fn verify_code(
    state: &AppState,
    meta: &RequestMeta,
    waiting: &PendingSecondFactor,
    secret: &[u8],
    code: &str,
    counted: Counted,
    now: OffsetDateTime,
) -> Result<Step, ServerError> {
    let mut tx = state.pool.begin().await?;
    let method = if codes::looks_like_recovery_code(code) {
        if !db::local_totp::spend_recovery_code(&mut tx, waiting.user_id, &codes::recovery_code_hash(code), now).await?
        {
            drop(tx);
            return refuse(state, meta, waiting, CodeCheck::Wrong, counted, now, None).await;
        }
        "recovery code"
    } else {
        let check = codes::check_code(secret, code, now.unix_timestamp(), counted.last_used_step);
        let accepted = match check {
            CodeCheck::Accepted { step } => db::local_totp::accept_step(&mut tx, waiting.user_id, step, now).await?,
            _ => false,
        };
        if !accepted {
            drop(tx);
            let refused = if matches!(check, CodeCheck::Accepted { .. }) { CodeCheck::Replayed } else { check };
            return refuse(state, meta, waiting, refused, counted, now, None).await;
        }
        "totp"
    };
    record_success(state, tx, meta, waiting, Action::MfaVerified, method, now).await?;
    Ok(Step::Admitted { recovery_codes: None })
}

/// The second factor's success and the completed sign-in, audited in the transaction that accepted the code.
async fn record_success(
    state: &AppState,
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    meta: &RequestMeta,
    waiting: &PendingSecondFactor,
    action: Action,
    method: &str,
    now: OffsetDateTime,
) -> Result<(), ServerError> {
    let factor = mfa_event(meta, waiting, action).with(json!({ "method": method }));
    audit::append(&mut tx, &state.chain_key, &factor, now).await?;
    audit::append(&mut tx, &state.chain_key, &completed_sign_in(meta, waiting, method), now).await?;
    tx.commit().await?;
    Ok(())
}

/// A refused code, already counted when its attempt was claimed: audited, and the form again or the lock.
async fn refuse(
    state: &AppState,
    meta: &RequestMeta,
    waiting: &PendingSecondFactor,
    check: CodeCheck,
    counted: Counted,
    now: OffsetDateTime,
    secret: Option<zeroize::Zeroizing<Vec<u8>>>,
) -> Result<Step, ServerError> {
    let (reason, message) = match check {
        CodeCheck::Malformed => return Ok(malformed(secret.is_some(), secret)),
        CodeCheck::Replayed => {
            ("code already used", "That code was already used. Wait for the next one and try again.")
        }
        _ => ("wrong code", "That code is not right. Check the time on your phone and try the current code."),
    };
    let Counted { failures, locked_until, .. } = counted;
    let locked = locked_until.filter(|until| *until > now);
    let details = json!({ "reason": reason, "failures": failures, "locked": locked.is_some() });
    audit::record(&state.pool, &state.chain_key, &mfa_event(meta, waiting, Action::MfaFailed).with(details), now)
        .await?;
    if let Some(until) = locked {
        return Ok(Step::Locked { until });
    }
    let left = codes::LOCK_AFTER_FAILURES - failures;
    let message =
        format!("{message} ({left} attempt{} left before a 15-minute lock.)", if left == 1 { "" } else { "s" });
    Ok(Step::Retry { message, status: StatusCode::BAD_REQUEST, secret })
}

/// An event of the person proving their second factor, about their own account.
fn mfa_event(meta: &RequestMeta, waiting: &PendingSecondFactor, action: Action) -> AuditEntry {
    Actor::person(meta, waiting.user_id).did(action).on(Object::User(waiting.user_id))
}

fn completed_sign_in(meta: &RequestMeta, waiting: &PendingSecondFactor, method: &str) -> AuditEntry {
    sign_in_event(
        meta,
        waiting.user_id,
        waiting.step_up,
        json!({
            "role": waiting.role.as_str(), "amr": waiting.amr, "acr": waiting.acr, "issuer": waiting.issuer,
            "second_factor": "certdesk-totp", "method": method,
        }),
    )
}

fn enrolment_view(secret: &[u8], waiting: &PendingSecondFactor) -> EnrolmentView {
    let uri = codes::otpauth_uri(secret, &waiting.account_label);
    EnrolmentView { secret_base32: codes::secret_base32(secret), qr_svg: codes::qr_svg(&uri) }
}
