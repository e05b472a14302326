//! E-mail over SMTP (`lettre`): one plain-text message per notice, with a Message-ID derived from the notice id
//! so a repeat after a crash can be recognised.

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use time::OffsetDateTime;

use super::delivery_error::DeliveryError;
use crate::config::{SmtpConfig, SmtpTls};
use crate::db;
use crate::db::notifications::Due;
use crate::state::AppState;

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

#[derive(Debug, thiserror::Error)]
#[error("SMTP: {0}")]
pub struct MailerError(String);

impl Mailer {
    pub fn new(config: &SmtpConfig) -> Result<Self, MailerError> {
        let builder = match config.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host),
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                .map_err(|error| MailerError(error.to_string()))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)
                .map_err(|error| MailerError(error.to_string()))?,
        };
        let mut builder = builder.port(config.port).timeout(Some(std::time::Duration::from_secs(20)));
        if let Some((username, password)) = &config.credentials {
            builder = builder.credentials(Credentials::new(username.clone(), password.expose_secret().to_owned()));
        }
        let from = config.from.parse().map_err(|_| MailerError("smtp.from is not a mailbox".into()))?;
        Ok(Self { transport: builder.build(), from })
    }

    pub async fn send(&self, state: &AppState, notice: &Due, _now: OffsetDateTime) -> Result<(), DeliveryError> {
        let settings = db::notifications::settings_of(&state.pool, notice.user_id).await.map_err(retry)?;
        // The digest goes to admins whatever their own channel choice; every other notice honours it.
        if notice.kind != "digest" && !settings.email_enabled {
            return Err(DeliveryError::Skip("e-mail switched off by its recipient".into()));
        }
        let Some(address) = db::notifications::email_of(&state.pool, notice.user_id).await.map_err(retry)? else {
            return Err(DeliveryError::Skip("the recipient has no e-mail address".into()));
        };
        let to: Mailbox =
            address.parse().map_err(|_| DeliveryError::Skip("the recipient's e-mail address is not valid".into()))?;
        let (subject, body) = super::email_text::render(&notice.kind, &notice.payload, &state.config.server.public_url);
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{}@certdesk>", notice.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|error| DeliveryError::Skip(format!("cannot build the message: {error}")))?;
        self.transport.send(message).await.map(|_| ()).map_err(|error| DeliveryError::Retry(format!("SMTP: {error}")))
    }
}

fn retry(error: sqlx::Error) -> DeliveryError {
    DeliveryError::Retry(format!("database: {error}"))
}
