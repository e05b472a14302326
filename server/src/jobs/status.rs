//! This replica's job status (its name, whether it leads now): a plain value that `AppState` holds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// This replica's name and whether it currently leads; cheap to clone.
#[derive(Clone)]
pub struct JobStatus {
    pub replica: Arc<str>,
    leader: Arc<AtomicBool>,
}

impl JobStatus {
    pub fn new(replica: &str) -> Self {
        Self { replica: replica.into(), leader: Arc::default() }
    }

    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::Acquire)
    }

    pub(super) fn set_leader(&self, leader: bool) {
        self.leader.store(leader, Ordering::Release);
        crate::metrics::job_leader(leader);
    }
}
