//! The queue port: API handlers enqueue, never send email themselves.

use async_trait::async_trait;
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("queue unavailable: {0}")]
pub struct QueueError(pub String);

#[async_trait]
pub trait Queue: Send + Sync {
    async fn send(&self, body: String) -> Result<(), QueueError>;
}

/// Collects messages in memory: for unit tests, and for the local run, which drains it.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    messages: Mutex<Vec<String>>,
}

impl MemoryQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes every message sent so far.
    pub fn drain(&self) -> Vec<String> {
        std::mem::take(&mut *self.messages.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[async_trait]
impl Queue for MemoryQueue {
    async fn send(&self, body: String) -> Result<(), QueueError> {
        self.messages.lock().unwrap_or_else(|p| p.into_inner()).push(body);
        Ok(())
    }
}

/// Amazon SQS.
#[cfg(feature = "sqs")]
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

#[cfg(feature = "sqs")]
impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self { client, url: url.into() }
    }
}

#[cfg(feature = "sqs")]
#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, body: String) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| QueueError(format!("{e:?}")))
    }
}

/// Amazon SQS, with the client built on the first send. For a queue only a failure path sends
/// to (the sign-up trigger's hand-off): building an SDK client parses its endpoint partition
/// table (~0.1 ms), which a cold start whose sign-ups all succeed should not pay. The client is
/// still built once per process.
#[cfg(feature = "sqs")]
#[derive(Debug)]
pub struct LazySqsQueue {
    config: aws_types::SdkConfig,
    url: String,
    queue: std::sync::OnceLock<SqsQueue>,
}

#[cfg(feature = "sqs")]
impl LazySqsQueue {
    pub fn new(config: &aws_types::SdkConfig, url: impl Into<String>) -> Self {
        Self { config: config.clone(), url: url.into(), queue: std::sync::OnceLock::new() }
    }
}

#[cfg(feature = "sqs")]
#[async_trait]
impl Queue for LazySqsQueue {
    async fn send(&self, body: String) -> Result<(), QueueError> {
        let queue = self.queue.get_or_init(|| SqsQueue::new(crate::aws::sqs_client(&self.config), self.url.clone()));
        queue.send(body).await
    }
}
