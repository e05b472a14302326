//! The list of every background job certdesk runs, kept apart from the runner so that the jobs' own modules can
//! use the runner without importing each other.

use super::{JobRegistry, builtin};

/// Every background job certdesk runs. One line per job.
pub fn registry() -> JobRegistry {
    let mut jobs = JobRegistry::default();
    jobs.register(builtin::Reconcile);
    jobs.register(builtin::CrlRefresh);
    jobs.register(builtin::Housekeeping);
    jobs.register(crate::notifications::Notifications);
    jobs.register(crate::renewal::Renewal);
    jobs.register(crate::acme::ResumeOrders);
    jobs.register(crate::revocation::worker::Revocations);
    jobs
}
