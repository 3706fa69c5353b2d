//! The sender: one SQS message per requested send. Each message is claimed before SES is called,
//! so redelivered or concurrent duplicates send nothing (see `EmailDelivery::deliver`).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use invitations::queue::SendInvitationEmail;
use invitations::service::{EmailDelivery, SendOutcome};
use invitations::sqs_batch::process_batch;
use invitations::AppError;
use lambda_runtime::LambdaEvent;

/// Why a message asks for redelivery.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("malformed send message")]
    Malformed(#[source] serde_json::Error),
    #[error("the mail service failed for now: {0}")]
    Transient(String),
    #[error("delivery failed")]
    Delivery(#[source] AppError),
}

pub struct Sender {
    pub delivery: EmailDelivery,
}

impl Sender {
    /// Handles one message body; `Err` asks for redelivery.
    pub async fn send(&self, body: &str) -> Result<SendOutcome, SendError> {
        let message: SendInvitationEmail = serde_json::from_str(body).map_err(SendError::Malformed)?;
        match self.delivery.deliver(&message).await {
            Ok(SendOutcome::Retry { reason }) => Err(SendError::Transient(reason)),
            Ok(outcome) => Ok(outcome),
            Err(err) => Err(SendError::Delivery(err)),
        }
    }
}

pub async fn handle(sender: &Sender, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    Ok(process_batch(event.payload, |body| async move { sender.send(&body).await.map(|_| ()) }).await)
}
