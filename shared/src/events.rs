//! SQS batches with partial failures (`ReportBatchItemFailures`): one bad record never fails the
//! batch, and only the records that should be retried are reported.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use std::future::Future;

/// Records of one batch handled at once.
const CONCURRENCY: usize = 10;

/// Runs `handle` on every record's body; a record whose handling fails (or that has no body) is
/// reported for redelivery, and after the queue's `maxReceiveCount` it lands in the DLQ.
pub async fn process_batch<F, Fut>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    use futures::StreamExt;
    let handle = &handle;
    let failures: Vec<String> = futures::stream::iter(event.records)
        .map(|record| async move {
            let id = record.message_id.unwrap_or_default();
            let result = match record.body {
                Some(body) => handle(body).await,
                None => Err("the record has no body".to_owned()),
            };
            result.err().map(|reason| {
                tracing::warn!(message_id = %id, reason = %reason, "record failed; reported for retry");
                id
            })
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
