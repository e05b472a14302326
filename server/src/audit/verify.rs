//! Walks the chain in order and reports the first break: an altered event (its seal fails), an inserted event
//! (its seal fails and the next event links past it), or deleted events (a gap in the sequence, a link to a
//! seal that is not its predecessor's, or a chain that ends before the recorded head).

use sqlx::PgPool;

use super::chain::GENESIS_HASH;
use super::{AuditError, ChainKey, StoredEvent};
use crate::db;
use crate::db::audit::ChainHead;

/// Events are read in pages so verifying a long log needs little memory.
const PAGE_SIZE: i64 = 1_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Number of events checked; every one of them verified.
    pub events: i64,
    /// Sequence number of the last event (0 for an empty log).
    pub verified_through: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("event {seq} was altered: its seal does not match its contents")]
    Altered { seq: i64 },
    #[error("event {seq} was inserted: it is not sealed by the audit key and the next event links past it")]
    Inserted { seq: i64 },
    #[error("events were deleted before event {seq}: the chain does not link to it")]
    Deleted { seq: i64 },
    #[error("the chain head records event {head_seq} but the log ends at event {last_seq}: events were deleted")]
    TruncatedTail { head_seq: i64, last_seq: i64 },
    #[error("the chain head does not match the last event {seq}: the head was altered")]
    HeadMismatch { seq: i64 },
}

/// A point up to which the chain is known to verify: the last verified event's number and seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: Vec<u8>,
    /// Events verified up to here.
    pub events: i64,
}

impl Checkpoint {
    /// Before the first event.
    pub fn genesis() -> Self {
        Self { seq: 0, hash: GENESIS_HASH.to_vec(), events: 0 }
    }
}

/// Verifies the whole log against a consistent snapshot (events appended meanwhile are not mistaken for inserts).
pub async fn verify_chain(pool: &PgPool, key: &ChainKey) -> Result<Result<VerifyReport, ChainBreak>, AuditError> {
    Ok(verify_from(pool, key, &Checkpoint::genesis()).await?.map(|(report, _)| report))
}

/// Verifies the events after `checkpoint` (trusting everything up to it) and the chain head, and returns the new
/// checkpoint with the report. Cost is proportional to the events appended since the checkpoint.
pub async fn verify_from(
    pool: &PgPool,
    key: &ChainKey,
    checkpoint: &Checkpoint,
) -> Result<Result<(VerifyReport, Checkpoint), ChainBreak>, AuditError> {
    let mut snapshot = db::audit::begin_snapshot(pool).await?;
    let head = db::audit::head(&mut snapshot).await?.ok_or(AuditError::MissingHead)?;
    let mut walker = ChainWalker::resume(key, head, checkpoint);
    let mut after = checkpoint.seq;
    loop {
        let page = db::audit::events_after(&mut snapshot, after, PAGE_SIZE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for event in page {
            if let Err(chain_break) = walker.push(event) {
                return Ok(Err(chain_break));
            }
        }
    }
    snapshot.commit().await?;
    let last_good_hash = walker.last_good_hash.clone();
    Ok(walker.finish().map(|report| {
        let next = Checkpoint { seq: report.verified_through, hash: last_good_hash, events: report.events };
        (report, next)
    }))
}

/// The verification state machine, fed one event at a time in sequence order.
pub struct ChainWalker<'k> {
    key: &'k ChainKey,
    head: ChainHead,
    expected_seq: i64,
    last_good_hash: Vec<u8>,
    /// An event whose seal failed; whether it was altered or inserted is decided by the event after it.
    suspect: Option<StoredEvent>,
    events: i64,
}

impl<'k> ChainWalker<'k> {
    /// A walker that continues after `checkpoint`, whose events are taken as verified.
    pub fn resume(key: &'k ChainKey, head: ChainHead, checkpoint: &Checkpoint) -> Self {
        Self {
            key,
            head,
            expected_seq: checkpoint.seq + 1,
            last_good_hash: checkpoint.hash.clone(),
            suspect: None,
            events: checkpoint.events,
        }
    }

    pub fn push(&mut self, event: StoredEvent) -> Result<(), ChainBreak> {
        if let Some(suspect) = self.suspect.take() {
            return Err(if event.prev_hash == self.last_good_hash {
                ChainBreak::Inserted { seq: suspect.seq }
            } else {
                ChainBreak::Altered { seq: suspect.seq }
            });
        }
        if event.seq != self.expected_seq {
            return Err(ChainBreak::Deleted { seq: event.seq });
        }
        if event.seq > self.head.seq {
            return Err(ChainBreak::Inserted { seq: event.seq });
        }
        self.expected_seq += 1;
        if !self.key.verify_seal(&event) {
            self.suspect = Some(event);
            return Ok(());
        }
        if event.prev_hash != self.last_good_hash {
            return Err(ChainBreak::Deleted { seq: event.seq });
        }
        self.last_good_hash = event.hash;
        self.events += 1;
        Ok(())
    }

    pub fn finish(self) -> Result<VerifyReport, ChainBreak> {
        if let Some(suspect) = self.suspect {
            return Err(ChainBreak::Altered { seq: suspect.seq });
        }
        let last_seq = self.expected_seq - 1;
        if self.head.seq > last_seq {
            return Err(ChainBreak::TruncatedTail { head_seq: self.head.seq, last_seq });
        }
        if self.head.hash != self.last_good_hash {
            return Err(ChainBreak::HeadMismatch { seq: last_seq });
        }
        Ok(VerifyReport { events: self.events, verified_through: last_seq })
    }
}
