//! The sign-up trigger's durable retry: accepts every pending invitation for a user whose
//! trigger could not finish, through the same acceptance code.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use invitations::domain::EmailError;
use invitations::queue::ReconcileSignup;
use invitations::service::AcceptReport;
use invitations::sqs_batch::process_batch;
use invitations::{AppError, Email, Invitations};
use lambda_runtime::LambdaEvent;
use std::convert::Infallible;

/// Why a reconcile message failed; either way it is retried, then dead-lettered.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("malformed reconcile message")]
    Malformed(#[source] serde_json::Error),
    #[error("the message's address cannot be parsed")]
    BadAddress(#[source] EmailError),
    #[error("acceptance failed")]
    Acceptance(#[source] AppError),
}

pub async fn reconcile(app: &Invitations, body: &str) -> Result<AcceptReport, ReconcileError> {
    let message: ReconcileSignup = serde_json::from_str(body).map_err(ReconcileError::Malformed)?;
    let email = Email::parse(&message.email).map_err(ReconcileError::BadAddress)?;
    let report = app.accept_all_for(&message.user_id, &email).await.map_err(ReconcileError::Acceptance)?;
    tracing::info!(user_id = %message.user_id, accepted = report.accepted, skipped = report.skipped, "sign-up reconciled");
    Ok(report)
}

/// Handles one batch; every record's outcome is in the response (failures are retried).
pub async fn handle(app: &Invitations, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Infallible> {
    Ok(process_batch(event.payload, |message| async move { reconcile(app, &message.body).await.map(|_| ()) }).await)
}
