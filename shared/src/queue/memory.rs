//! A queue in memory: for unit tests, and for the local run, which drains it.

use super::{Queue, QueueError, Redelivery};
use async_trait::async_trait;
use std::sync::Mutex;

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

/// The local run retries a failed message on its next round: nothing to delay.
#[async_trait]
impl Redelivery for MemoryQueue {
    async fn delay(&self, _receipt_handle: &str, _delay: std::time::Duration) -> Result<(), QueueError> {
        Ok(())
    }
}
