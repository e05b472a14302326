//! One file per route.

mod admin;
mod audit;
mod certificate;
mod certificates;
mod dashboard;
mod machines;
mod not_found;
mod notifications;
mod request;
mod signin;
mod tokens;

pub use admin::AdminPage;
pub use audit::{AuditEventPage, AuditLogPage};
pub use certificate::CertificatePage;
pub use certificates::CertificatesPage;
pub use dashboard::DashboardPage;
pub use machines::MachinesPage;
pub use not_found::NotFoundPage;
pub use notifications::NotificationsPage;
pub use request::RequestPage;
pub use signin::MfaRequiredPage;
pub use tokens::TokensPage;
