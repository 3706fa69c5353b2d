//! Amazon SQS.

use super::{Queue, QueueError, Redelivery};
use crate::cause::Cause;
use async_trait::async_trait;
use std::sync::OnceLock;

#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self { client, url: url.into() }
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, body: String) -> Result<(), QueueError> {
        let sent = self.client.send_message().queue_url(&self.url).message_body(body).send().await;
        sent.map(|_| ()).map_err(|err| QueueError(Cause::new(err)))
    }
}

/// `ChangeMessageVisibility`: the message comes back after the delay (at most SQS's 12 hours).
#[async_trait]
impl Redelivery for SqsQueue {
    async fn delay(&self, receipt_handle: &str, delay: std::time::Duration) -> Result<(), QueueError> {
        let seconds = delay.as_secs().min(12 * 3600) as i32;
        let changed = self
            .client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds)
            .send()
            .await;
        changed.map(|_| ()).map_err(|err| QueueError(Cause::new(err)))
    }
}

/// Amazon SQS, with the client built on the first call. For a queue only a failure path uses
/// (the sign-up trigger's hand-off, the sender's delayed retry): building an SDK client parses
/// its endpoint partition table (~0.1 ms), which a cold start that needs no retry should not
/// pay. The client is still built once per process.
pub struct LazySqsQueue {
    client: Box<dyn Fn() -> aws_sdk_sqs::Client + Send + Sync>,
    url: String,
    queue: OnceLock<SqsQueue>,
}

impl LazySqsQueue {
    /// `client` builds the SQS client, once, when it is first needed.
    pub fn new(client: impl Fn() -> aws_sdk_sqs::Client + Send + Sync + 'static, url: impl Into<String>) -> Self {
        Self { client: Box::new(client), url: url.into(), queue: OnceLock::new() }
    }

    fn queue(&self) -> &SqsQueue {
        self.queue.get_or_init(|| SqsQueue::new((self.client)(), self.url.clone()))
    }
}

#[async_trait]
impl Queue for LazySqsQueue {
    async fn send(&self, body: String) -> Result<(), QueueError> {
        self.queue().send(body).await
    }
}

#[async_trait]
impl Redelivery for LazySqsQueue {
    async fn delay(&self, receipt_handle: &str, delay: std::time::Duration) -> Result<(), QueueError> {
        self.queue().delay(receipt_handle, delay).await
    }
}
