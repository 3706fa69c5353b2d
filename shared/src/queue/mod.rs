//! The queue port and the messages put on queues. Messages are small: the consumer re-reads
//! the state it acts on.

pub mod memory;
#[cfg(feature = "sqs")]
pub mod sqs;

use crate::cause::Cause;
use crate::domain::{InvitationId, ProjectId, UserId};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use uuid::Uuid;

/// The queue did not do what was asked (nothing enqueued, or the visibility unchanged).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the queue call failed")]
pub struct QueueError(#[source] pub Cause);

#[async_trait]
pub trait Queue: Send + Sync {
    /// Enqueues one message. `QueueError` means it was not enqueued (as far as the caller can
    /// tell: a timeout after the queue took it may still deliver it, so consumers are idempotent).
    async fn send(&self, body: String) -> Result<(), QueueError>;
}

/// Putting a received message back for later: its next delivery waits `delay`.
#[async_trait]
pub trait Redelivery: Send + Sync {
    /// `QueueError` leaves the message to come back after the queue's own visibility timeout.
    async fn delay(&self, receipt_handle: &str, delay: std::time::Duration) -> Result<(), QueueError>;
}

#[async_trait]
impl<Q: Queue + ?Sized> Queue for Arc<Q> {
    async fn send(&self, body: String) -> Result<(), QueueError> {
        (**self).send(body).await
    }
}

/// "Send the email for this send request of this invitation."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendInvitationEmail {
    pub project_id: ProjectId,
    pub invitation_id: InvitationId,
    pub send_id: Uuid,
}

/// "Accept every pending invitation for this new user": the sign-up trigger's durable retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileSignup {
    pub user_id: UserId,
    pub email: String,
}

/// A message as the queue's JSON body.
pub fn to_body<T: Serialize>(message: &T) -> Result<String, QueueError> {
    serde_json::to_string(message).map_err(|err| QueueError(Cause::new(err)))
}
