//! The sign-up trigger's durable retry: accepts every pending invitation for a user whose
//! trigger could not finish, through the same acceptance code.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use invitations::events::process_batch;
use invitations::messages::ReconcileSignup;
use invitations::Invitations;
use lambda_runtime::LambdaEvent;

pub async fn reconcile(app: &Invitations, body: &str) -> Result<usize, String> {
    let message: ReconcileSignup =
        serde_json::from_str(body).map_err(|e| format!("malformed reconcile message: {e}"))?;
    let report = app.accept_all_for(&message.user_id, &message.email).await.map_err(|e| e.to_string())?;
    tracing::info!(user = %message.user_id, accepted = report.accepted, skipped = report.skipped, "sign-up reconciled");
    Ok(report.accepted)
}

pub async fn handle(
    app: &Invitations,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    Ok(process_batch(event.payload, |body| async move { reconcile(app, &body).await.map(|_| ()) }).await)
}
