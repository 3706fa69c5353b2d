//! The mailer port: an outgoing email, what can go wrong sending it, and what the mail service
//! reports afterwards. `templates` composes the invitation email; `ses` sends through Amazon SES;
//! `ses_events` reads SES's delivery events.

#[cfg(feature = "ses")]
pub mod ses;
pub mod ses_events;
pub mod templates;

use crate::cause::Cause;
use crate::domain::{DeliveryStatus, InvitationId, ProjectId};
use async_trait::async_trait;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Name/value tags the mail service echoes back in its events.
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Throttling, timeouts, outages: try again later.
    #[error("the mail service failed for now")]
    Transient(#[source] Cause),
    /// The mail service refused this email for good (rejected, invalid or suppressed address).
    #[error("the mail service refused the email")]
    Permanent(#[source] Cause),
}

impl MailError {
    /// What the invitation shows as its delivery reason: the mail service's own words.
    pub fn reason(&self) -> String {
        match self {
            MailError::Transient(cause) | MailError::Permanent(cause) => cause.to_string(),
        }
    }
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends and returns the mail service's message id. `Transient`: nothing was sent, try
    /// again later. `Permanent`: this email will never be accepted.
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError>;
}

/// A delivery, bounce or complaint reported by the mail service for one email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryEvent {
    pub project_id: ProjectId,
    pub invitation_id: InvitationId,
    pub message_id: String,
    pub status: DeliveryStatus,
    pub reason: Option<String>,
    pub at: OffsetDateTime,
}
