//! Amazon SES (v2 API), sending through a configuration set so events come back.

use super::{MailError, Mailer, OutgoingEmail};
use crate::cause::Cause;
use async_trait::async_trait;
use aws_sdk_sesv2::error::SdkError;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageTag};

#[derive(Debug, Clone)]
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: String,
    configuration_set: Option<String>,
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client, from: impl Into<String>, configuration_set: Option<String>) -> Self {
        Self { client, from: from.into(), configuration_set }
    }
}

fn content(data: &str) -> Result<Content, MailError> {
    Content::builder().data(data).charset("UTF-8").build().map_err(|e| MailError::Permanent(Cause::new(e)))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        let to = crate::domain::email_address::to_ascii_address(&email.to)
            .ok_or_else(|| MailError::Permanent(Cause::msg("the address cannot be encoded")))?;
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(Body::builder().text(content(&email.text)?).html(content(&email.html)?).build())
            .build();
        let mut request = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(to).build())
            .content(EmailContent::builder().simple(message).build())
            .set_configuration_set_name(self.configuration_set.clone());
        for (name, value) in &email.tags {
            let tag = MessageTag::builder()
                .name(name)
                .value(value)
                .build()
                .map_err(|e| MailError::Permanent(Cause::new(e)))?;
            request = request.email_tags(tag);
        }
        match request.send().await {
            Ok(out) => Ok(out.message_id.unwrap_or_default()),
            Err(err) => {
                let refused = matches!(
                    err.as_service_error(),
                    Some(SendEmailError::MessageRejected(_) | SendEmailError::BadRequestException(_))
                ) || matches!(err, SdkError::ConstructionFailure(_));
                // A service error's own text ("MessageRejected: ...") is the reason the invitation shows.
                let cause = match err {
                    SdkError::ServiceError(service) => Cause::new(service.into_err()),
                    other => Cause::new(other),
                };
                Err(if refused { MailError::Permanent(cause) } else { MailError::Transient(cause) })
            }
        }
    }
}
