//! Page cursors of the inventory list: the sort key and id of the last row shown, opaque to the client
//! (base64url of "{order}.{key}.{uuid}"), checked on the way back in.

use app::model::CertSort;
use base64::Engine;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::certificates::{ListPosition, ListedCertificate};

const ENGINE: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub fn start(sort: CertSort) -> ListPosition {
    match sort {
        CertSort::Newest => ListPosition::Newest(None),
        CertSort::Expiry => ListPosition::SoonestExpiry(None),
        CertSort::Name => ListPosition::Name(None),
    }
}

pub fn encode(sort: CertSort, row: &ListedCertificate) -> String {
    let key = match sort {
        CertSort::Newest => row.created_at.unix_timestamp_nanos().to_string(),
        CertSort::Expiry => row.not_after.map(|time| time.unix_timestamp_nanos()).unwrap_or_default().to_string(),
        CertSort::Name => ENGINE.encode(row.common_name.as_bytes()),
    };
    ENGINE.encode(format!("{}.{key}.{}", sort.as_str(), row.id))
}

/// The position after the cursor's row; `None` for anything not made by `encode` for this order.
pub fn decode(sort: CertSort, cursor: &str) -> Option<ListPosition> {
    let text = String::from_utf8(ENGINE.decode(cursor).ok()?).ok()?;
    let mut parts = text.splitn(3, '.');
    let (order, key, id) = (parts.next()?, parts.next()?, parts.next()?);
    if order != sort.as_str() {
        return None;
    }
    let id = Uuid::parse_str(id).ok()?;
    let time = || OffsetDateTime::from_unix_timestamp_nanos(key.parse().ok()?).ok();
    Some(match sort {
        CertSort::Newest => ListPosition::Newest(Some((time()?, id))),
        CertSort::Expiry => ListPosition::SoonestExpiry(Some((time()?, id))),
        CertSort::Name => ListPosition::Name(Some((String::from_utf8(ENGINE.decode(key).ok()?).ok()?, id))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> ListedCertificate {
        ListedCertificate {
            id: Uuid::new_v4(),
            common_name: "a.b.cluster.local".into(),
            issuer_id: "private".into(),
            status: "issued".into(),
            serial: None,
            not_after: OffsetDateTime::from_unix_timestamp(1_800_000_000).ok(),
            created_at: OffsetDateTime::from_unix_timestamp_nanos(1_790_000_000_123_456_000).unwrap(),
            owner_name: "Pat".into(),
            acme_account: None,
        }
    }

    #[test]
    fn cursors_round_trip_per_order() {
        let row = row();
        match decode(CertSort::Newest, &encode(CertSort::Newest, &row)) {
            Some(ListPosition::Newest(Some((time, id)))) => assert_eq!((time, id), (row.created_at, row.id)),
            _ => panic!("newest"),
        }
        match decode(CertSort::Expiry, &encode(CertSort::Expiry, &row)) {
            Some(ListPosition::SoonestExpiry(Some((time, id)))) => {
                assert_eq!((Some(time), id), (row.not_after, row.id))
            }
            _ => panic!("expiry"),
        }
        match decode(CertSort::Name, &encode(CertSort::Name, &row)) {
            Some(ListPosition::Name(Some((name, id)))) => assert_eq!((name, id), (row.common_name.clone(), row.id)),
            _ => panic!("name"),
        }
    }

    #[test]
    fn garbage_and_cursors_of_another_order_are_refused() {
        let newest = encode(CertSort::Newest, &row());
        assert!(decode(CertSort::Name, &newest).is_none());
        for bad in ["", "!!", "bm90LWEtY3Vyc29y", "bmV3ZXN0LjEyMy5ub3QtYS11dWlk"] {
            assert!(decode(CertSort::Newest, bad).is_none(), "{bad}");
        }
    }
}
