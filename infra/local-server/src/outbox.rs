//! The local mailer: each email becomes an `.eml` file in the outbox folder, and its link is
//! logged, so the whole flow can be followed without sending anything.

use async_trait::async_trait;
use invitations::cause::Cause;
use invitations::mail::{MailError, Mailer, OutgoingEmail};
use mail_builder::MessageBuilder;
use std::path::PathBuf;

pub struct OutboxMailer {
    pub folder: PathBuf,
    pub from: String,
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        let id = uuid::Uuid::new_v4().to_string();
        let mut message = MessageBuilder::new()
            .from(self.from.as_str())
            .to(email.to.as_str())
            .subject(email.subject.as_str())
            .message_id(format!("{id}@local"))
            .text_body(email.text.as_str())
            .html_body(email.html.as_str());
        for (name, value) in &email.tags {
            message = message.header(format!("X-Tag-{name}"), mail_builder::headers::text::Text::new(value.as_str()));
        }
        let raw = message.write_to_vec().map_err(|e| MailError::Transient(Cause::new(e)))?;
        std::fs::create_dir_all(&self.folder).map_err(|e| MailError::Transient(Cause::new(e)))?;
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        let path = self.folder.join(format!("{stamp}-{id}.eml"));
        std::fs::write(&path, raw).map_err(|e| MailError::Transient(Cause::new(e)))?;
        let link = email.text.split_whitespace().find(|w| w.starts_with("http")).unwrap_or_default();
        tracing::info!(file = %path.display(), link = %link, "email written to the outbox");
        Ok(id)
    }
}
