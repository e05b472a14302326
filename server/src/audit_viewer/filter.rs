//! The viewer's filters as typed (URL or form) into a database filter, each bad field named in the refusal, and
//! the page cursor (opaque to the client: base64url of `audit.{seq}`).

use app::AppError;
use app::model::{AuditOutcome, AuditQuery};
use base64::Engine;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime};

use crate::audit::Action;
use crate::db::audit::{EventFilter, contains_pattern, prefix_pattern};

const MAX_FIELD: usize = 200;
const ENGINE: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
const CURSOR_PREFIX: &str = "audit.";

/// A validated query: what to match, and where the page starts (strictly before this event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedQuery {
    pub filter: EventFilter,
    pub before: Option<i64>,
}

pub fn parse_query(query: &AuditQuery) -> Result<ParsedQuery, AppError> {
    for (field, value) in [
        ("actor", &query.actor),
        ("action", &query.action),
        ("object", &query.object),
        ("outcome", &query.outcome),
        ("from", &query.from),
        ("to", &query.to),
    ] {
        if value.chars().count() > MAX_FIELD {
            return Err(AppError::invalid(field, format!("{field}: at most {MAX_FIELD} characters")));
        }
    }
    let (actor, actor_like) = actor_filter(query.actor.trim());
    let (actions, action_like) = action_filter(query.action.trim());
    let outcome = match query.outcome.trim() {
        "" => None,
        text => Some(
            AuditOutcome::parse(text)
                .ok_or_else(|| AppError::invalid("outcome", "outcome must be success, failure or denied"))?
                .as_str()
                .to_owned(),
        ),
    };
    let from = parse_time("from", &query.from)?.map(|(start, _)| start);
    let until = parse_time("to", &query.to)?.map(|(start, precision)| start + precision);
    if let (Some(from), Some(until)) = (from, until)
        && until <= from
    {
        return Err(AppError::invalid("to", "the time range ends (to) before it starts (from)"));
    }
    let before = match query.before.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(cursor) => Some(
            decode_cursor(cursor)
                .ok_or_else(|| AppError::invalid("before", "this page link is not valid; start from the first page"))?,
        ),
    };
    let object = Some(query.object.trim()).filter(|object| !object.is_empty()).map(str::to_owned);
    Ok(ParsedQuery {
        filter: EventFilter {
            actor,
            actor_like,
            actions,
            action_like,
            object,
            outcome,
            from,
            until,
            through_seq: None,
        },
        before,
    })
}

/// A stored actor (`user:…`, `token:…`, `system`, `anonymous`) or a user id matches exactly; anything else is
/// part of a person's name or e-mail address.
fn actor_filter(actor: &str) -> (Option<String>, Option<String>) {
    if actor.is_empty() {
        (None, None)
    } else if let Ok(id) = uuid::Uuid::parse_str(actor) {
        (Some(format!("user:{id}")), None)
    } else if actor.contains(':') || matches!(actor, "system" | "anonymous") {
        (Some(actor.to_owned()), None)
    } else {
        (None, Some(contains_pattern(&actor.to_lowercase())))
    }
}

/// `certificate.` and `certificate.*` are prefixes; anything else is one exact action, found under today's name and
/// the names earlier versions stored it under.
fn action_filter(action: &str) -> (Option<Vec<String>>, Option<String>) {
    if action.is_empty() {
        (None, None)
    } else if let Some(prefix) = action.strip_suffix('*') {
        (None, Some(prefix_pattern(prefix)))
    } else if action.ends_with('.') {
        (None, Some(prefix_pattern(action)))
    } else {
        (Some(Action::stored_forms(action).unwrap_or_else(|| vec![action.to_owned()])), None)
    }
}

/// A time and the precision it was given in (a day, a minute, a second, a microsecond), so that `to` can include
/// the whole day or minute it names. Times without an offset are UTC, as the viewer shows them.
fn parse_time(field: &str, text: &str) -> Result<Option<(OffsetDateTime, Duration)>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let minute = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let second = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let day = format_description!("[year]-[month]-[day]");
    let parsed = if let Ok(time) = OffsetDateTime::parse(text, &Rfc3339) {
        Some((time, Duration::microseconds(1)))
    } else if let Ok(time) = PrimitiveDateTime::parse(text, &second) {
        Some((time.assume_utc(), Duration::seconds(1)))
    } else if let Ok(time) = PrimitiveDateTime::parse(text, &minute) {
        Some((time.assume_utc(), Duration::minutes(1)))
    } else if let Ok(date) = Date::parse(text, &day) {
        Some((date.midnight().assume_utc(), Duration::days(1)))
    } else {
        None
    };
    parsed.map(Some).ok_or_else(|| {
        AppError::invalid(field, format!("{field}: use a date and time such as 2026-11-28T14:30 (UTC) or 2026-11-28"))
    })
}

pub fn encode_cursor(seq: i64) -> String {
    ENGINE.encode(format!("{CURSOR_PREFIX}{seq}"))
}

fn decode_cursor(cursor: &str) -> Option<i64> {
    let text = String::from_utf8(ENGINE.decode(cursor).ok()?).ok()?;
    let seq: i64 = text.strip_prefix(CURSOR_PREFIX)?.parse().ok()?;
    (seq > 0).then_some(seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(query: AuditQuery) -> Option<String> {
        match parse_query(&query) {
            Err(AppError::Invalid { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn actors_are_exact_ids_or_name_searches() {
        let id = uuid::Uuid::new_v4();
        assert_eq!(actor_filter(&id.to_string()), (Some(format!("user:{id}")), None));
        assert_eq!(actor_filter("system"), (Some("system".into()), None));
        assert_eq!(actor_filter("token:abc"), (Some("token:abc".into()), None));
        assert_eq!(actor_filter("Ada_L"), (None, Some("%ada\\_l%".into())));
    }

    #[test]
    fn actions_are_exact_or_prefixes() {
        let forms = |names: &[&str]| Some(names.iter().map(|name| (*name).to_owned()).collect::<Vec<_>>());
        assert_eq!(action_filter("auth.signed_in"), (forms(&["auth.login/success", "auth.signed_in"]), None));
        assert_eq!(action_filter("made.up"), (forms(&["made.up"]), None));
        assert_eq!(action_filter("certificate."), (None, Some("certificate.%".into())));
        assert_eq!(action_filter("certificate.*"), (None, Some("certificate.%".into())));
    }

    #[test]
    fn times_include_the_whole_unit_they_name() {
        let query = AuditQuery { from: "2026-11-28".into(), to: "2026-11-28T14:30".into(), ..Default::default() };
        let filter = parse_query(&query).unwrap().filter;
        assert_eq!(filter.from.unwrap().to_string(), "2026-11-28 0:00:00.0 +00:00:00");
        assert_eq!(filter.until.unwrap().to_string(), "2026-11-28 14:31:00.0 +00:00:00");
        let offset = AuditQuery { from: "2026-11-28T10:00:00+01:00".into(), ..Default::default() };
        assert_eq!(parse_query(&offset).unwrap().filter.from.unwrap().unix_timestamp(), 1_795_856_400);
    }

    #[test]
    fn bad_fields_are_named() {
        assert_eq!(field_of(AuditQuery { outcome: "ok".into(), ..Default::default() }).as_deref(), Some("outcome"));
        assert_eq!(field_of(AuditQuery { from: "yesterday".into(), ..Default::default() }).as_deref(), Some("from"));
        assert_eq!(field_of(AuditQuery { to: "2026-13-01".into(), ..Default::default() }).as_deref(), Some("to"));
        let reversed = AuditQuery { from: "2026-11-28".into(), to: "2026-11-27".into(), ..Default::default() };
        assert_eq!(field_of(reversed).as_deref(), Some("to"));
        for garbage in ["x", "bm90LWEtY3Vyc29y", &ENGINE.encode("audit.-4")] {
            let query = AuditQuery { before: Some(garbage.into()), ..Default::default() };
            assert_eq!(field_of(query).as_deref(), Some("before"), "{garbage}");
        }
        assert_eq!(field_of(AuditQuery { object: "x".repeat(201), ..Default::default() }).as_deref(), Some("object"));
    }

    #[test]
    fn cursors_round_trip() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
    }
}
