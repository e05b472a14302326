//! The chain state behind the audit viewer's banner, kept current without re-walking the whole log per page view.
//!
//! Why incremental and not a time-bounded cache of `verify_chain`: a cache would either re-walk millions of events
//! every few minutes on some viewer's request or show a stale "verified through N" while new events pile up. The
//! monitor keeps the last verified (seq, seal) in memory and, on each view, verifies only the events appended
//! since (plus the head and the checkpoint event's stored seal, so a truncation or an edit of that event shows at
//! once). Events before the checkpoint are not re-read on every view; an edit there is caught by a full walk from
//! genesis, which runs at the first view after start and again in the background once the last one is older than
//! `FULL_WALK_EVERY` (the banner keeps the previous state meanwhile). A break, once found, stays reported until a
//! full walk finds the chain whole again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::sync::Mutex;

use super::verify::{Checkpoint, verify_from};
use super::{AuditError, ChainBreak, ChainKey};
use crate::db;

/// How old the last walk from genesis may get before another one starts in the background.
const FULL_WALK_EVERY: Duration = Duration::from_secs(15 * 60);

/// What the banner shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainStatus {
    pub verdict: Result<i64, ChainBreak>,
    pub checked_at: OffsetDateTime,
}

#[derive(Default)]
struct Known {
    checkpoint: Option<Checkpoint>,
    broken: Option<ChainBreak>,
    last_full_walk: Option<Instant>,
    full_walk_running: bool,
}

/// Shared by every request (cheap to clone). One lock: concurrent viewers wait for one walk instead of each
/// starting their own.
#[derive(Clone, Default)]
pub struct ChainMonitor {
    known: Arc<Mutex<Known>>,
}

impl ChainMonitor {
    pub fn new() -> Self {
        Self::default()
    }

    /// The chain's state now: verifies what was appended since the last call.
    pub async fn status(&self, pool: &PgPool, key: &ChainKey) -> Result<ChainStatus, AuditError> {
        let mut known = self.known.lock().await;
        let due = known.last_full_walk.is_none_or(|at| at.elapsed() >= FULL_WALK_EVERY);
        if known.checkpoint.is_none() && known.broken.is_none() {
            // First view since start: walk from genesis, inline (nothing is known to show meanwhile).
            known.last_full_walk = Some(Instant::now());
            record(&mut known, verify_from(pool, key, &Checkpoint::genesis()).await?);
        } else if due && !known.full_walk_running {
            known.full_walk_running = true;
            self.spawn_full_walk(pool.clone(), key.clone());
        }
        if known.broken.is_none()
            && let Some(checkpoint) = known.checkpoint.clone()
        {
            let stored = db::audit::hash_of(pool, checkpoint.seq).await?;
            let outcome = if checkpoint.seq == 0 || stored.as_deref() == Some(checkpoint.hash.as_slice()) {
                verify_from(pool, key, &checkpoint).await?
            } else {
                // The checkpoint itself changed: only a walk from genesis can say what happened where.
                known.last_full_walk = Some(Instant::now());
                verify_from(pool, key, &Checkpoint::genesis()).await?
            };
            record(&mut known, outcome);
        }
        let verdict = match (&known.broken, &known.checkpoint) {
            (Some(chain_break), _) => Err(chain_break.clone()),
            (None, checkpoint) => Ok(checkpoint.as_ref().map_or(0, |checkpoint| checkpoint.seq)),
        };
        Ok(ChainStatus { verdict, checked_at: OffsetDateTime::now_utc() })
    }

    /// Re-walks from genesis without holding the lock, then replaces what is known.
    fn spawn_full_walk(&self, pool: PgPool, key: ChainKey) {
        let known = self.known.clone();
        tokio::spawn(async move {
            let outcome = verify_from(&pool, &key, &Checkpoint::genesis()).await;
            let mut known = known.lock().await;
            known.full_walk_running = false;
            match outcome {
                Ok(outcome) => {
                    known.last_full_walk = Some(Instant::now());
                    known.broken = None;
                    record(&mut known, outcome);
                }
                // Retried at the next view; the banner keeps the last state.
                Err(error) => tracing::warn!(error = %error, "background audit chain walk failed"),
            }
        });
    }
}

fn record(known: &mut Known, outcome: Result<(super::VerifyReport, Checkpoint), ChainBreak>) {
    match outcome {
        Ok((_, checkpoint)) => known.checkpoint = Some(checkpoint),
        Err(chain_break) => known.broken = Some(chain_break),
    }
}
