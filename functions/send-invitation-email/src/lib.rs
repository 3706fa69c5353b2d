//! The sender: one SQS message per requested send. Each message is claimed before SES is called,
//! so redelivered or concurrent duplicates send nothing (see `EmailDelivery::deliver`). A send
//! that has to wait (SES throttling or failing, another sender holding it) goes back on the
//! queue with a growing, jittered delay, within the receives the queue allows before its DLQ.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use invitations::cause::Chain;
use invitations::metrics::{self, Metric};
use invitations::queue::{Redelivery, SendInvitationEmail};
use invitations::service::{EmailDelivery, SendOutcome};
use invitations::sqs_batch::{process_batch, redelivery_delay, Message};
use invitations::AppError;
use lambda_runtime::LambdaEvent;
use std::sync::Arc;

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

/// How many times the email queue hands a message out before its DLQ (`maxReceiveCount`).
pub const MAX_RECEIVES: u32 = 5;

pub struct Sender {
    pub delivery: EmailDelivery,
    /// The email queue, to put a message back for later.
    pub redelivery: Arc<dyn Redelivery>,
}

impl Sender {
    /// Handles one message body; `Err` asks for redelivery.
    pub async fn send(&self, body: &str) -> Result<SendOutcome, SendError> {
        self.send_attempt(body, 1).await
    }

    /// Handles the `receive_count`-th delivery of a message body.
    async fn send_attempt(&self, body: &str, receive_count: u32) -> Result<SendOutcome, SendError> {
        let message: SendInvitationEmail = serde_json::from_str(body).map_err(SendError::Malformed)?;
        match self.delivery.deliver(&message, receive_count >= MAX_RECEIVES).await {
            Ok(SendOutcome::Retry { reason }) => Err(SendError::Transient(reason)),
            Ok(outcome) => Ok(outcome),
            Err(err) => Err(SendError::Delivery(err)),
        }
    }

    /// Handles one queued message; a failure puts it back with a delay that grows with its
    /// receive count, then reports it for redelivery.
    pub async fn handle_message(&self, message: Message) -> Result<SendOutcome, SendError> {
        let result = self.send_attempt(&message.body, message.receive_count).await;
        match &result {
            Ok(SendOutcome::Sent { .. }) => metrics::count(Metric::EmailsSent, 1),
            Ok(SendOutcome::Failed { .. }) => metrics::count(Metric::EmailsFailed, 1),
            _ => {}
        }
        if let (Err(_), Some(receipt)) = (&result, &message.receipt_handle) {
            let delay = redelivery_delay(message.receive_count);
            if let Err(err) = self.redelivery.delay(receipt, delay).await {
                tracing::warn!(error = %Chain(&err), "could not delay the retry; the queue's timeout applies");
            }
        }
        result
    }
}

pub async fn handle(sender: &Sender, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    Ok(process_batch(event.payload, |message| async move { sender.handle_message(message).await.map(|_| ()) }).await)
}
