//! Exporting the filtered audit log as CSV (RFC 4180) or JSON Lines. Needs a recent second factor, and is itself
//! audited (`audit.exported`, with the filter and the row count) before the first byte leaves. The file is
//! streamed page by page from the database, so an export of millions of events holds one page in memory.
//!
//! The exported set is fixed when the export starts: events up to the chain head at that moment. Events are
//! append-only, so the count written into the audit row is exactly what the file holds, without keeping a
//! transaction open for as long as a slow download takes.

use app::AppError;
use app::model::AuditQuery;
use app::ssr::RequestMeta;
use axum::body::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::{filter, rfc3339, viewer};
use crate::audit::{self, Action, Actor, Object};
use crate::auth::step_up::require_recent_mfa;
use crate::db;
use crate::db::audit::{EventFilter, ListedEvent};
use crate::error::ServerError;
use crate::state::AppState;

/// Events read per database round trip while streaming.
const EXPORT_PAGE: i64 = 500;

/// Column order of the CSV file (and key names of the JSON Lines objects).
pub const COLUMNS: [&str; 13] = [
    "seq",
    "occurred_at",
    "actor",
    "actor_name",
    "actor_email",
    "action",
    "object",
    "outcome",
    "request_id",
    "client_addr",
    "details",
    "prev_hash",
    "hash",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    JsonLines,
}

impl ExportFormat {
    pub fn parse(text: &str) -> Result<Self, AppError> {
        match text {
            "csv" => Ok(Self::Csv),
            "jsonl" => Ok(Self::JsonLines),
            _ => Err(AppError::invalid("format", "the export format is csv or jsonl")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::JsonLines => "jsonl",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::JsonLines => "application/jsonl; charset=utf-8",
        }
    }
}

/// A started export: the audit row is written; `body` yields the file.
pub struct Export {
    pub file_name: String,
    pub content_type: &'static str,
    /// Events in the file.
    pub rows: i64,
    pub body: BoxStream<'static, Result<Bytes, sqlx::Error>>,
}

pub async fn export(
    state: &AppState,
    meta: &RequestMeta,
    query: &AuditQuery,
    format: ExportFormat,
    now: OffsetDateTime,
) -> Result<Export, ServerError> {
    let caller = viewer(meta)?;
    // The whole filtered set: a page position in the query is ignored.
    let mut filter = filter::parse_query(query).map_err(ServerError::Client)?.filter;
    require_recent_mfa(caller, now, state.config.auth.step_up_max_age).map_err(ServerError::Client)?;
    let through_seq = db::audit::count(&state.pool).await?;
    filter.through_seq = Some(through_seq);
    let rows = db::audit::count_events(&state.pool, &filter).await?;
    let filters: serde_json::Map<String, serde_json::Value> =
        query.filter_pairs().into_iter().map(|(name, value)| (name.to_owned(), json!(value))).collect();
    let entry = Actor::caller(meta, caller)
        .did(Action::AuditExported)
        .on(Object::AuditLog)
        .with(json!({ "format": format.as_str(), "filter": filters, "rows": rows, "through_seq": through_seq }));
    // No audit row, no export.
    audit::record(&state.pool, &state.chain_key, &entry, now).await?;
    let stamp = now
        .to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"));
    Ok(Export {
        file_name: format!("certdesk-audit-{}.{}", stamp.unwrap_or_default(), format.as_str()),
        content_type: format.content_type(),
        rows,
        body: pages(state.pool.clone(), filter, format),
    })
}

/// The file, page after page (newest first, as the viewer lists them), the CSV header first.
fn pages(pool: PgPool, filter: EventFilter, format: ExportFormat) -> BoxStream<'static, Result<Bytes, sqlx::Error>> {
    let header = match format {
        ExportFormat::Csv => Some(Bytes::from(csv_line(COLUMNS.iter().map(|column| column.to_string())))),
        ExportFormat::JsonLines => None,
    };
    let header = stream::iter(header.map(Ok));
    let body = stream::try_unfold(Some(None::<i64>), move |position| {
        let (pool, filter) = (pool.clone(), filter.clone());
        async move {
            let Some(before) = position else { return Ok(None) };
            let page = db::audit::list_events(&pool, &filter, before, EXPORT_PAGE).await?;
            let Some(last) = page.last().map(|event| event.seq) else { return Ok(None) };
            let next = (page.len() as i64 == EXPORT_PAGE).then_some(Some(last));
            let mut out = String::new();
            for event in &page {
                out.push_str(&match format {
                    ExportFormat::Csv => csv_line(fields(event)),
                    ExportFormat::JsonLines => json_line(event),
                });
            }
            Ok(Some((Bytes::from(out), next)))
        }
    });
    header.chain(body).boxed()
}

/// One event's values in `COLUMNS` order; details as compact JSON, seals as hex.
fn fields(event: &ListedEvent) -> impl Iterator<Item = String> {
    [
        event.seq.to_string(),
        rfc3339(event.occurred_at),
        event.actor.clone(),
        event.actor_name.clone().unwrap_or_default(),
        event.actor_email.clone().unwrap_or_default(),
        event.action.clone(),
        event.object.clone(),
        event.outcome.clone(),
        event.request_id.clone(),
        event.client_addr.clone(),
        event.details.to_string(),
        hex::encode(&event.prev_hash),
        hex::encode(&event.hash),
    ]
    .into_iter()
}

/// A CSV record ending in CRLF. A field is quoted when it holds a comma, a quote, a line break or edge spaces;
/// quotes inside are doubled (RFC 4180). Anyone can choose their display name at the identity provider, so a
/// field a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) gets a leading `'`
/// (OWASP's CSV-injection advice); JSON Lines keeps every value exactly as stored.
pub fn csv_line(values: impl Iterator<Item = String>) -> String {
    let mut line = String::new();
    for (index, value) in values.enumerate() {
        if index > 0 {
            line.push(',');
        }
        let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value };
        let needs_quotes = value.contains([',', '"', '\n', '\r']) || value.starts_with(' ') || value.ends_with(' ');
        if needs_quotes {
            line.push('"');
            line.push_str(&value.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(&value);
        }
    }
    line.push_str("\r\n");
    line
}

fn json_line(event: &ListedEvent) -> String {
    let object = json!({
        "seq": event.seq,
        "occurred_at": rfc3339(event.occurred_at),
        "actor": event.actor,
        "actor_name": event.actor_name,
        "actor_email": event.actor_email,
        "action": event.action,
        "object": event.object,
        "outcome": event.outcome,
        "request_id": event.request_id,
        "client_addr": event.client_addr,
        "details": event.details,
        "prev_hash": hex::encode(&event.prev_hash),
        "hash": hex::encode(&event.hash),
    });
    format!("{object}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_what_needs_it() {
        let line = csv_line(["plain", "a,b", "say \"hi\"", "two\nlines", " padded", ""].map(String::from).into_iter());
        assert_eq!(line, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" padded\",\r\n");
    }

    #[test]
    fn values_a_spreadsheet_would_run_are_defused() {
        let line = csv_line(["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "ok=1"].map(String::from).into_iter());
        assert_eq!(line, "\"'=HYPERLINK(\"\"http://x\"\")\",'+1,'-2,'@SUM(A1),ok=1\r\n");
    }

    #[test]
    fn formats_parse_and_name_the_field() {
        assert_eq!(ExportFormat::parse("jsonl"), Ok(ExportFormat::JsonLines));
        assert!(
            matches!(ExportFormat::parse("xml"), Err(AppError::Invalid { field: Some(field), .. }) if field == "format")
        );
    }
}
