//! How an event is sealed: HMAC-SHA256 over the previous event's seal and a canonical encoding of the event.
//! Keyed, so someone with write access to the database but not the key cannot re-seal an edited event.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::Sha256;
use time::OffsetDateTime;

use super::StoredEvent;

/// The seal before the first event.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

#[derive(Clone)]
pub struct ChainKey(SecretString);

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey([REDACTED])")
    }
}

impl ChainKey {
    pub fn new(secret: SecretString) -> Self {
        Self(secret)
    }

    /// The seal of `event`. The sequence number is deliberately not covered: order is proven by the links.
    pub fn seal(&self, event: &StoredEvent) -> Vec<u8> {
        self.mac(event).map(|mac| mac.finalize().into_bytes().to_vec()).unwrap_or_default()
    }

    pub fn verify_seal(&self, event: &StoredEvent) -> bool {
        self.mac(event).is_some_and(|mac| mac.verify_slice(&event.hash).is_ok())
    }

    /// A key of its own for another `purpose` (e.g. signing ACME nonces), derived from this one (HMAC-SHA256 over a
    /// label no event encoding can equal): every replica derives the same, and nothing sealed with it can be
    /// mistaken for a chain seal or reveal the chain key.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.expose_secret().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(b"certdesk derived key\0");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// HMAC over the predecessor's seal and the canonical event; `None` only if HMAC refused the key, which it
    /// never does (it accepts keys of any length).
    fn mac(&self, event: &StoredEvent) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.expose_secret().as_bytes()).ok()?;
        mac.update(&event.prev_hash);
        mac.update(canonical_fields(event).as_bytes());
        Some(mac)
    }
}

/// PostgreSQL keeps microseconds; sealing the same precision means a read-back event verifies.
pub fn truncate_to_micros(time: OffsetDateTime) -> OffsetDateTime {
    let micros = time.nanosecond() / 1_000 * 1_000;
    time.replace_nanosecond(micros).unwrap_or(time)
}

fn canonical_fields(event: &StoredEvent) -> String {
    let micros = event.occurred_at.unix_timestamp_nanos() / 1_000;
    let fields = [
        Value::String(micros.to_string()),
        Value::String(event.actor.clone()),
        Value::String(event.action.clone()),
        Value::String(event.object.clone()),
        Value::String(event.outcome.clone()),
        Value::String(event.request_id.clone()),
        Value::String(event.client_addr.clone()),
    ];
    let mut out = String::from("[");
    for field in &fields {
        out.push_str(&field.to_string());
        out.push(',');
    }
    write_canonical(&event.details, &mut out);
    out.push(']');
    out
}

/// JSON with object keys sorted at every level: PostgreSQL's jsonb reorders keys, so the seal must not depend on
/// the order they were written in.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (index, key) in keys.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(inner) = map.get(key) {
                    write_canonical(inner, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(details: Value) -> StoredEvent {
        StoredEvent {
            seq: 1,
            occurred_at: OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
            actor: "user:1".into(),
            action: "certificate.issue".into(),
            object: "certificate:1".into(),
            outcome: "success".into(),
            request_id: "r1".into(),
            client_addr: "127.0.0.1".into(),
            details,
            prev_hash: GENESIS_HASH.to_vec(),
            hash: Vec::new(),
        }
    }

    fn key(secret: &str) -> ChainKey {
        ChainKey::new(SecretString::from(secret.to_owned()))
    }

    #[test]
    fn key_order_in_details_does_not_change_the_seal() {
        let a = event(serde_json::from_str(r#"{"b":1,"a":{"y":2,"x":[1,{"q":1,"p":2}]}}"#).unwrap());
        let b = event(serde_json::from_str(r#"{"a":{"x":[1,{"p":2,"q":1}],"y":2},"b":1}"#).unwrap());
        assert_eq!(key("k").seal(&a), key("k").seal(&b));
    }

    #[test]
    fn any_field_change_or_other_key_breaks_the_seal() {
        let mut sealed = event(json!({"n": 1}));
        sealed.hash = key("k").seal(&sealed);
        assert!(key("k").verify_seal(&sealed));
        assert!(!key("other").verify_seal(&sealed));
        let mut edited = sealed.clone();
        edited.actor = "user:2".into();
        assert!(!key("k").verify_seal(&edited));
        let mut relinked = sealed.clone();
        relinked.prev_hash = vec![1; 32];
        assert!(!key("k").verify_seal(&relinked));
    }

    #[test]
    fn micro_truncation_keeps_microseconds_only() {
        let time = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        assert_eq!(truncate_to_micros(time).nanosecond(), 123_456_000);
    }

    #[test]
    fn debug_of_key_is_redacted() {
        assert!(!format!("{:?}", key("super-secret")).contains("super-secret"));
    }
}
