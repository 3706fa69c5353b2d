//! The SQS edge: batches with partial failures (`ReportBatchItemFailures`). One bad record never
//! fails the batch, each record is handled in its own span, and only the records that should be
//! retried are reported.

use crate::cause::Chain;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use std::error::Error;
use std::future::Future;
use tracing::Instrument;

/// Records of one batch handled at once.
const CONCURRENCY: usize = 10;

/// The record had no body: it can never be handled.
#[derive(Debug, thiserror::Error)]
#[error("the record has no body")]
pub struct NoBody;

/// One record of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub body: String,
    /// What `ChangeMessageVisibility` needs to put the message back for later.
    pub receipt_handle: Option<String>,
    /// How many times the queue has handed this message out, this time included.
    pub receive_count: u32,
}

/// How long a message that failed its `receive_count`-th delivery waits before the next:
/// [`retry_delay`](crate::domain::retry::retry_delay), jittered by a random UUID (enough to spread
/// retries).
pub fn redelivery_delay(receive_count: u32) -> std::time::Duration {
    let jitter = (uuid::Uuid::new_v4().as_u128() % 1_000_000) as f64 / 1_000_000.0;
    crate::domain::retry::retry_delay(receive_count, jitter)
}

/// Runs `handle` on every record; a record whose handling fails (or that has no body) is
/// reported for redelivery, and after the queue's `maxReceiveCount` it lands in the DLQ.
pub async fn process_batch<F, Fut, E>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(Message) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Error + 'static,
{
    use futures::StreamExt;
    let handle = &handle;
    let failures: Vec<String> = futures::stream::iter(event.records)
        .map(|record| {
            let id = record.message_id.unwrap_or_default();
            let span = tracing::info_span!("message", message_id = %id);
            async move {
                let receive_count =
                    record.attributes.get("ApproximateReceiveCount").and_then(|n| n.parse().ok()).unwrap_or(1);
                let failed = match record.body {
                    Some(body) => {
                        let message = Message { body, receipt_handle: record.receipt_handle, receive_count };
                        handle(message).await.err().map(|err| Chain(&err).to_string())
                    }
                    None => Some(NoBody.to_string()),
                };
                failed.map(|error| {
                    tracing::warn!(%error, "record failed; reported for retry");
                    id
                })
            }
            .instrument(span)
        })
        .buffer_unordered(CONCURRENCY)
        .filter_map(|failed| async move { failed })
        .collect()
        .await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}
