//! This replica's job status (its name, whether it leads now, whether it is shutting down): a plain value that
//! `AppState` holds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

/// This replica's name and whether it currently leads; cheap to clone.
#[derive(Clone)]
pub struct JobStatus {
    pub replica: Arc<str>,
    leader: Arc<AtomicBool>,
    /// Set once, on SIGTERM: the election loop stops its jobs and releases the leader lock at once, so another
    /// replica takes over while this one is still draining its requests.
    stopping: Arc<watch::Sender<bool>>,
}

impl JobStatus {
    pub fn new(replica: &str) -> Self {
        Self { replica: replica.into(), leader: Arc::default(), stopping: Arc::new(watch::Sender::new(false)) }
    }

    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::Acquire)
    }

    pub(super) fn set_leader(&self, leader: bool) {
        self.leader.store(leader, Ordering::Release);
        crate::metrics::job_leader(leader);
    }

    /// Asks the election loop to stop running jobs, give up the lock and stop competing for it.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Resolves once `stop` has been called (at once if it already was).
    pub async fn stopped(&self) {
        let mut receiver = self.stopping.subscribe();
        // The sender lives as long as `self`, so this only ends when the flag is set.
        let _ = receiver.wait_for(|stopping| *stopping).await;
    }

    pub(super) fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }
}
