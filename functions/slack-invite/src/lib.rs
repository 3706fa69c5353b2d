//! The Slack consumer: one SQS message per `invitation.accepted` or `member.slack.requested`
//! event (an EventBridge rule on the stack's bus feeds the queue). Each member's invitation is
//! claimed before Slack is called, so duplicate events never invite twice; Slack's rate limits
//! put the message back for its `Retry-After`, its failures with a growing delay, within the
//! receives the queue allows before its DLQ.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use invitations::cause::Chain;
use invitations::domain::{InvitationId, ProjectId, UserId};
use invitations::metrics::{self, Metric};
use invitations::queue::Redelivery;
use invitations::service::{SlackInvites, SlackOutcome, SlackRequest};
use invitations::sqs_batch::{process_batch, redelivery_delay, Message};
use invitations::AppError;
use lambda_runtime::LambdaEvent;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    #[error("not an event this consumer takes: {0}")]
    Malformed(String),
    #[error("Slack is to be asked again later: {0}")]
    Later(String),
    #[error("the attempt failed")]
    Failed(#[source] AppError),
}

/// An event as the bus delivers it to the queue: the API's event fields, strings, empty where
/// they do not apply.
#[derive(Deserialize)]
struct BusEvent {
    #[serde(rename = "detail-type")]
    detail_type: String,
    detail: Detail,
}

#[derive(Deserialize)]
struct Detail {
    project_id: String,
    member_id: String,
    #[serde(default)]
    invitation_id: String,
}

/// The request an event body makes.
pub fn request_of(body: &str) -> Result<SlackRequest, SlackError> {
    let event: BusEvent = serde_json::from_str(body).map_err(|err| SlackError::Malformed(err.to_string()))?;
    let retry = match event.detail_type.as_str() {
        "invitation.accepted" => false,
        "member.slack.requested" => true,
        other => return Err(SlackError::Malformed(format!("detail-type {other}"))),
    };
    let bad = |field: &str| SlackError::Malformed(format!("bad {field}"));
    Ok(SlackRequest {
        project_id: ProjectId::parse(&event.detail.project_id).map_err(|_| bad("project_id"))?,
        member_id: UserId::parse(&event.detail.member_id).map_err(|_| bad("member_id"))?,
        invitation_id: Some(event.detail.invitation_id.as_str())
            .filter(|id| !id.is_empty())
            .map(InvitationId::parse)
            .transpose()
            .map_err(|_| bad("invitation_id"))?,
        retry,
    })
}

pub struct SlackInviter {
    pub invites: SlackInvites,
    /// The Slack queue, to put a message back for later.
    pub redelivery: Arc<dyn Redelivery>,
}

impl SlackInviter {
    /// Handles one message; `Err` reports it for redelivery, after putting it back for as long as
    /// Slack asked (`Retry-After`) or a delay growing with its receives.
    pub async fn handle_message(&self, message: Message) -> Result<SlackOutcome, SlackError> {
        let request = match request_of(&message.body) {
            Ok(request) => request,
            // Never takeable: dropped (and logged), not retried into the DLQ.
            Err(err) => {
                tracing::error!(error = %Chain(&err), "a message this consumer cannot take");
                return Ok(SlackOutcome::Skipped("malformed"));
            }
        };
        let (result, delay) = match self.invites.invite(&request).await {
            Ok(SlackOutcome::RetryAfter(secs)) => {
                (Err(SlackError::Later(format!("retry after {secs} s"))), Duration::from_secs(secs))
            }
            Ok(SlackOutcome::Retry(reason)) => {
                (Err(SlackError::Later(reason)), redelivery_delay(message.receive_count))
            }
            Ok(outcome) => (Ok(outcome), Duration::ZERO),
            Err(err) => (Err(SlackError::Failed(err)), redelivery_delay(message.receive_count)),
        };
        match &result {
            Ok(SlackOutcome::Invited | SlackOutcome::AlreadyInTeam) => metrics::count(Metric::SlackInvitesSent, 1),
            Ok(SlackOutcome::Failed { error }) => {
                tracing::warn!(slack_error = %error, "Slack refused the invitation");
                metrics::count(Metric::SlackInvitesFailed, 1);
            }
            _ => {}
        }
        if let (Err(_), Some(receipt)) = (&result, &message.receipt_handle) {
            if let Err(err) = self.redelivery.delay(receipt, delay).await {
                tracing::warn!(error = %Chain(&err), "could not delay the retry; the queue's timeout applies");
            }
        }
        result
    }
}

pub async fn handle(
    inviter: &SlackInviter,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    Ok(process_batch(event.payload, |message| async move { inviter.handle_message(message).await.map(|_| ()) }).await)
}
