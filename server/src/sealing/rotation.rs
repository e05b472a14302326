//! Key-encryption-key rotation (`certdesk keys rotate` / `keys status`): re-seals, under the active key, every
//! secret at rest still sealed under another one, batch by batch, each row replaced only if nobody rewrote it
//! meanwhile; and counts sealed secrets per key id, so an operator knows when an old key can be removed.
//! Reports name tables, row ids and key ids, never secrets.

use std::collections::BTreeMap;
use std::fmt;

use sqlx::PgPool;

use super::{SealError, Sealer, acme_account_context, private_key_context, totp_context};
use crate::db::sealed::{self, RowId, SealedTable};

/// Rows re-sealed per transaction: short transactions, few round trips.
pub const BATCH_SIZE: i64 = 500;

/// Unopened rows listed by id in a problem report, per key; the rest are only counted.
const LISTED_IDS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// What a rotation did to one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableCounts {
    pub resealed: u64,
    /// Already under the active key before the run.
    pub already_active: u64,
    /// Rewritten by someone else between read and update; left as they wrote it.
    pub changed_meanwhile: u64,
}

/// A sealed secret that could not be opened, so it was left as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unopened {
    pub table: SealedTable,
    pub id: RowId,
    pub error: SealError,
}

#[derive(Debug, Clone)]
pub struct RotationReport {
    pub active: String,
    pub totp: TableCounts,
    pub private_keys: TableCounts,
    pub webhook_secrets: TableCounts,
    pub acme_accounts: TableCounts,
    pub eab_keys: TableCounts,
    pub unopened: Vec<Unopened>,
}

impl RotationReport {
    pub fn counts(&self, table: SealedTable) -> &TableCounts {
        match table {
            SealedTable::LocalTotp => &self.totp,
            SealedTable::Certificates => &self.private_keys,
            SealedTable::WebhookSecrets => &self.webhook_secrets,
            SealedTable::AcmeAccounts => &self.acme_accounts,
            SealedTable::EabKeys => &self.eab_keys,
        }
    }

    fn counts_mut(&mut self, table: SealedTable) -> &mut TableCounts {
        match table {
            SealedTable::LocalTotp => &mut self.totp,
            SealedTable::Certificates => &mut self.private_keys,
            SealedTable::WebhookSecrets => &mut self.webhook_secrets,
            SealedTable::AcmeAccounts => &mut self.acme_accounts,
            SealedTable::EabKeys => &mut self.eab_keys,
        }
    }

    /// Why the rotation is incomplete, grouped by cause, or `None` when every stale secret was re-sealed.
    pub fn problems(&self) -> Option<String> {
        if self.unopened.is_empty() {
            return None;
        }
        let mut by_cause: BTreeMap<Option<&str>, Vec<&Unopened>> = BTreeMap::new();
        for unopened in &self.unopened {
            let key = match &unopened.error {
                SealError::UnknownKey(key_id) => Some(key_id.as_str()),
                SealError::Corrupt | SealError::TooLarge => None,
            };
            by_cause.entry(key).or_default().push(unopened);
        }
        let parts: Vec<String> = by_cause
            .into_iter()
            .map(|(key_id, rows)| match key_id {
                Some(key_id) => format!(
                    "{} sealed with key `{key_id}`, which is not configured ({}): keep key `{key_id}` in \
                     encryption.keys (put it back if it was removed) until `certdesk keys rotate` has re-sealed them",
                    describe_count(&rows),
                    list_ids(&rows)
                ),
                None => format!(
                    "{} do not open under their key (altered, or copied from another row) ({})",
                    describe_count(&rows),
                    list_ids(&rows)
                ),
            })
            .collect();
        Some(format!("{} sealed secrets could not be re-sealed: {}", self.unopened.len(), parts.join("; ")))
    }
}

impl fmt::Display for RotationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all = SealedTable::ALL.map(|table| *self.counts(table));
        write!(
            f,
            "re-sealed {} TOTP secrets, {} private keys, {} webhook signing secrets, {} ACME account keys, {} EAB \
             HMAC keys; {} already under key '{}'",
            self.totp.resealed,
            self.private_keys.resealed,
            self.webhook_secrets.resealed,
            self.acme_accounts.resealed,
            self.eab_keys.resealed,
            all.iter().map(|counts| counts.already_active).sum::<u64>(),
            self.active
        )?;
        let changed: u64 = all.iter().map(|counts| counts.changed_meanwhile).sum();
        if changed > 0 {
            write!(f, "; {changed} rewritten meanwhile by certdesk and left as written")?;
        }
        if !self.unopened.is_empty() {
            write!(f, "; {} could not be opened", self.unopened.len())?;
        }
        Ok(())
    }
}

fn describe_count(rows: &[&Unopened]) -> String {
    let count_of = |table| rows.iter().filter(|row| row.table == table).count() as u64;
    SealedTable::ALL
        .into_iter()
        .map(|table| (table, count_of(table)))
        .filter(|(_, count)| *count > 0)
        .map(|(table, count)| format!("{count} {}", table.noun(count)))
        .collect::<Vec<_>>()
        .join(" and ")
}

fn list_ids(rows: &[&Unopened]) -> String {
    let mut listed: Vec<String> = rows
        .iter()
        .take(LISTED_IDS)
        .map(|row| match row.table {
            SealedTable::LocalTotp => format!("user {}", row.id),
            SealedTable::Certificates => format!("certificate {}", row.id),
            SealedTable::WebhookSecrets => format!("webhook of user {}", row.id),
            SealedTable::AcmeAccounts => format!("ACME account of issuer `{}`", row.id),
            SealedTable::EabKeys => format!("ACME account key {}", row.id),
        })
        .collect();
    if rows.len() > LISTED_IDS {
        listed.push(format!("{} more", rows.len() - LISTED_IDS));
    }
    listed.join(", ")
}

/// The associated data each table's secrets are sealed with.
fn context_of(table: SealedTable, id: &RowId) -> String {
    match (table, id) {
        (SealedTable::LocalTotp, RowId::Uuid(id)) => totp_context(*id),
        (SealedTable::Certificates, RowId::Uuid(id)) => private_key_context(*id),
        (SealedTable::WebhookSecrets, RowId::Uuid(id)) => crate::notifications::webhook::secret_context(*id),
        (SealedTable::AcmeAccounts, RowId::Issuer(id)) => acme_account_context(id),
        (SealedTable::EabKeys, RowId::Uuid(id)) => super::acme_account_key_context(*id),
        // Each table reads its own kind of id (`sealed::stale_batch`); a mismatch opens nothing.
        (_, id) => format!("mismatched:{id}"),
    }
}

/// Re-seals every secret not under the active key, `BATCH_SIZE` rows per transaction.
pub async fn rotate(pool: &PgPool, sealer: &Sealer) -> Result<RotationReport, RotationError> {
    rotate_in_batches(pool, sealer, BATCH_SIZE).await
}

/// `rotate` with another batch size (at least 1). Rows that cannot be opened are reported and left as they are;
/// everything else is still re-sealed.
pub async fn rotate_in_batches(
    pool: &PgPool,
    sealer: &Sealer,
    batch_size: i64,
) -> Result<RotationReport, RotationError> {
    let batch_size = batch_size.max(1);
    let active = sealer.active_key_id();
    let mut report = RotationReport {
        active: active.to_owned(),
        totp: TableCounts::default(),
        private_keys: TableCounts::default(),
        webhook_secrets: TableCounts::default(),
        acme_accounts: TableCounts::default(),
        eab_keys: TableCounts::default(),
        unopened: Vec::new(),
    };
    for table in SealedTable::ALL {
        let already = sealed::count_by_key(pool, table).await?;
        report.counts_mut(table).already_active =
            already.iter().filter(|(key_id, _)| key_id == active).map(|(_, count)| to_u64(*count)).sum();
        let mut after = None;
        loop {
            let mut tx = pool.begin().await?;
            let batch = sealed::stale_batch(&mut tx, table, active, after.as_ref(), batch_size).await?;
            let Some((last, _)) = batch.last() else { break };
            after = Some(last.clone());
            for (id, old) in &batch {
                match sealer.reseal(old, &context_of(table, id)) {
                    Ok(new) if sealed::replace(&mut tx, table, id, old, &new).await? => {
                        report.counts_mut(table).resealed += 1;
                    }
                    Ok(_) => report.counts_mut(table).changed_meanwhile += 1,
                    Err(error) => report.unopened.push(Unopened { table, id: id.clone(), error }),
                }
            }
            tx.commit().await?;
            tracing::debug!(table = ?table, rows = batch.len(), "re-sealed a batch of secrets");
            if (batch.len() as i64) < batch_size {
                break;
            }
        }
    }
    Ok(report)
}

/// How many secrets one key id seals in one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCount {
    pub key_id: String,
    pub count: u64,
    /// Whether the key is in the configuration (secrets under a missing key cannot be opened).
    pub configured: bool,
}

#[derive(Debug, Clone)]
pub struct KeyStatus {
    pub active: String,
    pub tables: Vec<(SealedTable, Vec<KeyCount>)>,
}

impl KeyStatus {
    /// Sealed secrets under any key other than the active one.
    pub fn stale(&self) -> u64 {
        self.tables.iter().flat_map(|(_, keys)| keys).filter(|key| key.key_id != self.active).map(|key| key.count).sum()
    }

    /// The report, one line each: the active key, counts per table, and what to do next.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!("active key '{}'", self.active)];
        for (table, keys) in &self.tables {
            let counts: Vec<String> = keys
                .iter()
                .map(|key| {
                    let missing = if key.configured { "" } else { " (not configured)" };
                    format!("'{}' {}{missing}", key.key_id, key.count)
                })
                .collect();
            let counts = if counts.is_empty() { "none".to_owned() } else { counts.join(", ") };
            lines.push(format!("{}: {counts}", table.noun(2)));
        }
        let mut missing: Vec<&str> = self
            .tables
            .iter()
            .flat_map(|(_, keys)| keys)
            .filter(|key| !key.configured)
            .map(|key| key.key_id.as_str())
            .collect();
        missing.sort_unstable();
        missing.dedup();
        for key_id in missing {
            lines.push(format!(
                "key '{key_id}' is not configured: its secrets cannot be opened until it is back in encryption.keys"
            ));
        }
        lines.push(match self.stale() {
            0 => format!(
                "every sealed secret is under the active key '{}'; other keys can be removed from encryption.keys",
                self.active
            ),
            stale => format!(
                "{stale} sealed secrets are under other keys than '{}': run `certdesk keys rotate`",
                self.active
            ),
        });
        lines
    }
}

pub async fn status(pool: &PgPool, sealer: &Sealer) -> Result<KeyStatus, RotationError> {
    let mut tables = Vec::new();
    for table in SealedTable::ALL {
        let keys = sealed::count_by_key(pool, table)
            .await?
            .into_iter()
            .map(|(key_id, count)| KeyCount { configured: sealer.knows(&key_id), key_id, count: to_u64(count) })
            .collect();
        tables.push((table, keys));
    }
    Ok(KeyStatus { active: sealer.active_key_id().to_owned(), tables })
}

/// SQL counts are never negative.
fn to_u64(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn unopened(table: SealedTable, error: SealError) -> Unopened {
        Unopened { table, id: Uuid::nil().into(), error }
    }

    #[test]
    fn the_report_counts_per_table_and_names_missing_keys() {
        let mut report = RotationReport {
            active: "new".into(),
            totp: TableCounts { resealed: 2, already_active: 1, changed_meanwhile: 0 },
            private_keys: TableCounts { resealed: 3, already_active: 4, changed_meanwhile: 0 },
            webhook_secrets: TableCounts { resealed: 1, already_active: 2, changed_meanwhile: 0 },
            acme_accounts: TableCounts { resealed: 1, already_active: 0, changed_meanwhile: 0 },
            eab_keys: TableCounts { resealed: 2, already_active: 0, changed_meanwhile: 0 },
            unopened: Vec::new(),
        };
        assert_eq!(
            report.to_string(),
            "re-sealed 2 TOTP secrets, 3 private keys, 1 webhook signing secrets, 1 ACME account keys, 2 EAB HMAC \
             keys; 7 already under key 'new'"
        );
        assert_eq!(report.problems(), None);
        report.unopened = vec![
            unopened(SealedTable::Certificates, SealError::UnknownKey("gone".into())),
            unopened(SealedTable::LocalTotp, SealError::UnknownKey("gone".into())),
            unopened(SealedTable::Certificates, SealError::Corrupt),
            unopened(SealedTable::WebhookSecrets, SealError::UnknownKey("gone".into())),
            Unopened {
                table: SealedTable::AcmeAccounts,
                id: RowId::Issuer("public".into()),
                error: SealError::UnknownKey("gone".into()),
            },
        ];
        let problems = report.problems().unwrap();
        assert!(problems.starts_with("5 sealed secrets could not be re-sealed"), "{problems}");
        assert!(
            problems.contains(
                "1 TOTP secret and 1 private key and 1 webhook signing secret and 1 ACME account key sealed with key \
                 `gone`"
            ),
            "{problems}"
        );
        assert!(problems.contains("ACME account of issuer `public`"), "{problems}");
        assert!(problems.contains("webhook of user 00000000-0000-0000-0000-000000000000"), "{problems}");
        assert!(problems.contains("keep key `gone` in encryption.keys"), "{problems}");
        assert!(problems.contains("1 private key do not open"), "{problems}");
        assert!(report.to_string().ends_with("; 5 could not be opened"));
    }

    #[test]
    fn status_says_when_old_keys_can_go() {
        let key = |key_id: &str, count| KeyCount { key_id: key_id.into(), count, configured: key_id != "gone" };
        let mut status = KeyStatus {
            active: "new".into(),
            tables: vec![
                (SealedTable::LocalTotp, vec![key("new", 2)]),
                (SealedTable::Certificates, vec![key("gone", 1), key("new", 3), key("old", 2)]),
            ],
        };
        let lines = status.lines();
        assert_eq!(lines[0], "active key 'new'");
        assert_eq!(lines[1], "TOTP secrets: 'new' 2");
        assert_eq!(lines[2], "private keys: 'gone' 1 (not configured), 'new' 3, 'old' 2");
        assert!(lines[3].starts_with("key 'gone' is not configured"), "{}", lines[3]);
        assert!(lines[4].starts_with("3 sealed secrets are under other keys"), "{}", lines[4]);
        status.tables = vec![(SealedTable::LocalTotp, Vec::new()), (SealedTable::Certificates, vec![key("new", 3)])];
        let lines = status.lines();
        assert_eq!(lines[1], "TOTP secrets: none");
        assert!(lines[3].starts_with("every sealed secret is under the active key 'new'"), "{}", lines[3]);
    }
}
