//! SES events (EventBridge → SQS): delivery, bounce and complaint update the invitation's
//! delivery status. Events for other mail, or for an earlier email, change nothing.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use invitations::mail::ses_events::{self, UnreadableEvent};
use invitations::metrics::{self, Metric};
use invitations::sqs_batch::process_batch;
use invitations::{AppError, DeliveryStatus, Invitations};
use lambda_runtime::LambdaEvent;
use std::convert::Infallible;

/// Why an event asks for redelivery.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error(transparent)]
    Unreadable(#[from] UnreadableEvent),
    #[error("recording the event failed")]
    Recording(#[source] AppError),
}

/// Handles one batch; every record's outcome is in the response (failures are retried).
pub async fn handle(app: &Invitations, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Infallible> {
    Ok(process_batch(event.payload, |message| async move { apply(app, &message.body).await.map(|_| ()) }).await)
}

/// Applies one event body; returns whether an invitation changed. `Err` asks for redelivery.
pub async fn apply(app: &Invitations, body: &str) -> Result<bool, EventError> {
    let Some(event) = ses_events::parse(body, app.now())? else {
        return Ok(false);
    };
    let recorded = app.record_delivery_event(&event).await.map_err(EventError::Recording)?;
    let metric = match event.status {
        DeliveryStatus::Bounced => Some(Metric::EmailsBounced),
        DeliveryStatus::Complained => Some(Metric::EmailsComplained),
        DeliveryStatus::Failed => Some(Metric::EmailsFailed),
        _ => None,
    };
    if let Some(metric) = metric.filter(|_| recorded) {
        metrics::count(metric, 1);
    }
    Ok(recorded)
}
