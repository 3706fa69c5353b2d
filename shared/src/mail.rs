//! Invitation emails: composing them (every user-provided string escaped, nothing user-provided
//! able to reach a header unsanitized), the mailer port, and the mail service's events.

use crate::invitation::{DeliveryStatus, Invitation};
use crate::role::Role;
use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

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
    #[error("transient: {0}")]
    Transient(String),
    /// The mail service refused this email for good (rejected, invalid or suppressed address).
    #[error("permanent: {0}")]
    Permanent(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends and returns the mail service's message id.
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError>;
}

/// What an invitation email says.
#[derive(Debug, Clone)]
pub struct InvitationEmail<'a> {
    pub project_name: &'a str,
    pub inviter: &'a str,
    pub role: Role,
    pub link: &'a str,
    pub expires_at: OffsetDateTime,
}

/// Subject and bodies, with `{project}`, `{inviter}`, `{role}`, `{link}` and `{expires}`
/// placeholders. Configurable through `PROJECT_INVITATION_SUBJECT`, `PROJECT_INVITATION_TEXT`
/// and `PROJECT_INVITATION_HTML`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailTemplates {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Default for EmailTemplates {
    fn default() -> Self {
        Self {
            subject: "{inviter} invited you to {project}".into(),
            text: "Hello,\n\n{inviter} invited you to join the project \"{project}\" as {role}.\n\n\
                   Accept the invitation: {link}\n\n\
                   If you have no account yet, sign up with this email address and the invitation is \
                   accepted for you. The invitation expires on {expires}.\n\n\
                   If you did not expect this email, you can ignore it.\n"
                .into(),
            html: "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">\
                   <p>Hello,</p>\
                   <p>{inviter} invited you to join the project <strong>{project}</strong> as {role}.</p>\
                   <p><a href=\"{link}\">Accept the invitation</a></p>\
                   <p>If you have no account yet, sign up with this email address and the invitation is \
                   accepted for you. The invitation expires on {expires}.</p>\
                   <p style=\"color:#666\">If you did not expect this email, you can ignore it.</p>\
                   </body></html>"
                .into(),
        }
    }
}

impl EmailTemplates {
    pub fn from_env() -> Self {
        let defaults = Self::default();
        let get = |name: &str, default: String| std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or(default);
        Self {
            subject: get("PROJECT_INVITATION_SUBJECT", defaults.subject),
            text: get("PROJECT_INVITATION_TEXT", defaults.text),
            html: get("PROJECT_INVITATION_HTML", defaults.html),
        }
    }

    pub fn compose(&self, content: &InvitationEmail<'_>, invitation: &Invitation) -> OutgoingEmail {
        let expires = content
            .expires_at
            .format(&time::macros::format_description!("[day] [month repr:long] [year], [hour]:[minute] UTC"))
            .unwrap_or_default();
        let values = [
            ("{project}", content.project_name.to_owned()),
            ("{inviter}", content.inviter.to_owned()),
            ("{role}", content.role.to_string()),
            ("{link}", content.link.to_owned()),
            ("{expires}", expires),
        ];
        let fill = |template: &str, escape: fn(&str) -> String| {
            values
                .iter()
                .fold(template.to_owned(), |out, (placeholder, value)| out.replace(placeholder, &escape(value)))
        };
        OutgoingEmail {
            to: invitation.email.clone(),
            subject: single_line(&fill(&self.subject, |v| v.to_owned())),
            text: fill(&self.text, |v| v.to_owned()),
            html: fill(&self.html, |v| html_escape::encode_double_quoted_attribute(v).into_owned()),
            tags: vec![
                ("project_id".into(), invitation.project_id.clone()),
                ("invitation_id".into(), invitation.id.to_string()),
            ],
        }
    }
}

/// A header value: control characters (CR and LF above all) become spaces, runs collapse.
pub fn single_line(value: &str) -> String {
    let cleaned: String = value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A delivery, bounce or complaint reported by the mail service for one email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryEvent {
    pub project_id: String,
    pub invitation_id: Uuid,
    pub message_id: String,
    pub status: DeliveryStatus,
    pub reason: Option<String>,
    pub at: OffsetDateTime,
}

/// SES events as EventBridge delivers them (`detail` is the SES event record).
pub mod ses_events {
    use super::*;
    use serde::Deserialize;
    use std::collections::HashMap;

    #[derive(Deserialize)]
    struct Envelope {
        detail: Record,
        #[serde(default, with = "time::serde::rfc3339::option")]
        time: Option<OffsetDateTime>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Record {
        event_type: String,
        mail: Mail,
        bounce: Option<Bounce>,
        complaint: Option<Complaint>,
        reject: Option<Reject>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Mail {
        message_id: String,
        #[serde(default)]
        tags: HashMap<String, Vec<String>>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Bounce {
        bounce_type: String,
        bounce_sub_type: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Complaint {
        complaint_feedback_type: Option<String>,
    }

    #[derive(Deserialize)]
    struct Reject {
        reason: Option<String>,
    }

    /// Parses one event. `Ok(None)`: a well-formed event this service does not track (sends,
    /// opens, soft bounces, mail not sent by it).
    pub fn parse(body: &str, now: OffsetDateTime) -> Result<Option<DeliveryEvent>, String> {
        let envelope: Envelope = serde_json::from_str(body).map_err(|e| format!("not an SES event: {e}"))?;
        let record = envelope.detail;
        let (status, reason) = match record.event_type.as_str() {
            "Delivery" => (DeliveryStatus::Delivered, None),
            "Bounce" => match record.bounce {
                Some(b) if b.bounce_type == "Permanent" => (
                    DeliveryStatus::Bounced,
                    Some(format!(
                        "{} bounce{}",
                        b.bounce_type,
                        b.bounce_sub_type.map(|s| format!(" ({s})")).unwrap_or_default()
                    )),
                ),
                _ => return Ok(None),
            },
            "Complaint" => (
                DeliveryStatus::Complained,
                Some(format!(
                    "Complaint{}",
                    record
                        .complaint
                        .and_then(|c| c.complaint_feedback_type)
                        .map(|t| format!(" ({t})"))
                        .unwrap_or_default()
                )),
            ),
            "Reject" => (DeliveryStatus::Failed, record.reject.and_then(|r| r.reason).or(Some("Rejected".into()))),
            _ => return Ok(None),
        };
        let tag = |name: &str| record.mail.tags.get(name).and_then(|v| v.first()).cloned();
        let (Some(project_id), Some(invitation_id)) = (tag("project_id"), tag("invitation_id")) else {
            return Ok(None);
        };
        let invitation_id = Uuid::parse_str(&invitation_id).map_err(|_| "bad invitation_id tag".to_owned())?;
        Ok(Some(DeliveryEvent {
            project_id,
            invitation_id,
            message_id: record.mail.message_id,
            status,
            reason,
            at: envelope.time.map(crate::clock::truncate_to_millis).unwrap_or(now),
        }))
    }
}

/// Amazon SES (v2 API), sending through a configuration set so events come back.
#[cfg(feature = "ses")]
pub mod ses {
    use super::*;
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
        Content::builder().data(data).charset("UTF-8").build().map_err(|e| MailError::Permanent(e.to_string()))
    }

    #[async_trait]
    impl Mailer for SesMailer {
        async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
            let to = crate::email::to_ascii_address(&email.to)
                .ok_or_else(|| MailError::Permanent("the address cannot be encoded".into()))?;
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
                    .map_err(|e| MailError::Permanent(e.to_string()))?;
                request = request.email_tags(tag);
            }
            match request.send().await {
                Ok(out) => Ok(out.message_id.unwrap_or_default()),
                Err(SdkError::ServiceError(err)) => Err(match err.into_err() {
                    e @ (SendEmailError::MessageRejected(_) | SendEmailError::BadRequestException(_)) => {
                        MailError::Permanent(e.to_string())
                    }
                    e => MailError::Transient(e.to_string()),
                }),
                Err(other) => Err(MailError::Transient(format!("{other}"))),
            }
        }
    }
}
