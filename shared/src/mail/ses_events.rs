//! SES events as EventBridge delivers them (`detail` is the SES event record), read into the
//! [`DeliveryEvent`]s this service tracks.

use super::DeliveryEvent;
use crate::domain::timestamp::truncate_to_millis;
use crate::domain::{DeliveryStatus, InvitationId, ProjectId};
use serde::Deserialize;
use std::collections::HashMap;
use time::OffsetDateTime;

/// A message that is not an SES event this service can read: it will never be, so it is not
/// retried.
#[derive(Debug, thiserror::Error)]
pub enum UnreadableEvent {
    #[error("not an SES event")]
    NotAnSesEvent(#[source] serde_json::Error),
    #[error("the event's {0} tag is malformed")]
    BadTag(&'static str),
}

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
pub fn parse(body: &str, now: OffsetDateTime) -> Result<Option<DeliveryEvent>, UnreadableEvent> {
    let envelope: Envelope = serde_json::from_str(body).map_err(UnreadableEvent::NotAnSesEvent)?;
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
                record.complaint.and_then(|c| c.complaint_feedback_type).map(|t| format!(" ({t})")).unwrap_or_default()
            )),
        ),
        "Reject" => (DeliveryStatus::Failed, record.reject.and_then(|r| r.reason).or(Some("Rejected".into()))),
        _ => return Ok(None),
    };
    let tag = |name: &str| record.mail.tags.get(name).and_then(|v| v.first()).cloned();
    let (Some(project_id), Some(invitation_id)) = (tag("project_id"), tag("invitation_id")) else {
        return Ok(None);
    };
    let project_id = ProjectId::parse(&project_id).map_err(|_| UnreadableEvent::BadTag("project_id"))?;
    let invitation_id = InvitationId::parse(&invitation_id).map_err(|_| UnreadableEvent::BadTag("invitation_id"))?;
    Ok(Some(DeliveryEvent {
        project_id,
        invitation_id,
        message_id: record.mail.message_id,
        status,
        reason,
        at: envelope.time.map(truncate_to_millis).unwrap_or(now),
    }))
}
