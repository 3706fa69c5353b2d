//! The sender: one SQS message per requested send. Each message is claimed before SES is called,
//! so redelivered or concurrent duplicates send nothing (see `Invitations::deliver`).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use invitations::events::process_batch;
use invitations::mail::{EmailTemplates, Mailer};
use invitations::messages::SendInvitationEmail;
use invitations::service::SendOutcome;
use invitations::Invitations;
use lambda_runtime::LambdaEvent;

pub struct Sender {
    pub app: Invitations,
    pub mailer: Box<dyn Mailer>,
    pub templates: EmailTemplates,
}

impl Sender {
    /// Handles one message body; `Err` asks for redelivery.
    pub async fn send(&self, body: &str) -> Result<SendOutcome, String> {
        let message: SendInvitationEmail =
            serde_json::from_str(body).map_err(|e| format!("malformed send message: {e}"))?;
        match self.app.deliver(&message, self.mailer.as_ref(), &self.templates).await {
            Ok(SendOutcome::Retry { reason }) => Err(reason),
            Ok(outcome) => Ok(outcome),
            Err(err) => Err(err.to_string()),
        }
    }
}

pub async fn handle(sender: &Sender, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    Ok(process_batch(event.payload, |body| async move { sender.send(&body).await.map(|_| ()) }).await)
}
