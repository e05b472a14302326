//! The list of every background job certdesk runs (`builtin` holds those without a module of their own), kept
//! apart from the runner (`jobs`) so that the jobs' own modules use the runner and the runner imports none of them.

pub mod builtin;

use crate::jobs::JobRegistry;

/// Every background job certdesk runs. One line per job.
pub fn registry() -> JobRegistry {
    let mut jobs = JobRegistry::default();
    jobs.register(builtin::Reconcile);
    jobs.register(builtin::CrlRefresh);
    jobs.register(builtin::Housekeeping);
    jobs.register(crate::notifications::Notifications);
    jobs.register(crate::renewal::Renewal);
    jobs.register(crate::orders::ResumeOrders);
    jobs.register(crate::revocation::worker::Revocations);
    jobs.register(crate::acme_server::nonces::SweepNonces);
    jobs.register(crate::acme_server::backstop::AcmeServerBackstop);
    jobs
}
