//! Cognito post-confirmation trigger: when a sign-up is confirmed with a verified email, every
//! pending invitation for that email is accepted. The event is always returned unchanged and the
//! sign-up never fails because of us: if a dependency is slow or down, the work is put on the
//! reconcile queue and finished there.

use invitations::cause::Chain;
use invitations::metrics::{self, Metric};
use invitations::queue::{to_body, Queue, ReconcileSignup};
use invitations::service::AcceptReport;
use invitations::{Email, Invitations, UserId};
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// Cognito waits 5 s for the whole trigger; acceptance gets this much of it, the hand-off the rest.
pub const ACCEPT_DEADLINE: Duration = Duration::from_millis(2500);
const HANDOFF_DEADLINE: Duration = Duration::from_millis(1500);

pub struct Trigger {
    pub app: Invitations,
    pub reconcile_queue: Arc<dyn Queue>,
    pub deadline: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accepted(AcceptReport),
    /// Not a sign-up confirmation, or no verified email: nothing to do.
    Ignored(&'static str),
    /// Acceptance could not finish in time; the reconcile queue has it.
    Deferred,
    /// Neither acceptance nor the hand-off worked; logged for an operator.
    Lost,
}

impl Trigger {
    pub async fn on_confirmation(&self, event: &Value) -> Outcome {
        if event["triggerSource"] != "PostConfirmation_ConfirmSignUp" {
            return Outcome::Ignored("not a sign-up confirmation");
        }
        let attributes = &event["request"]["userAttributes"];
        let (Some(sub), Some(email)) = (attributes["sub"].as_str(), attributes["email"].as_str()) else {
            return Outcome::Ignored("no sub or email");
        };
        let Ok(user_id) = UserId::parse(sub) else {
            return Outcome::Ignored("not a user id");
        };
        // An address this service cannot parse was never invited.
        let Ok(address) = Email::parse(email) else {
            return Outcome::Ignored("not an address invitations are sent to");
        };
        if attributes["email_verified"] != "true" {
            return Outcome::Ignored("email not verified");
        }
        match tokio::time::timeout(self.deadline, self.app.accept_all_for(&user_id, &address)).await {
            Ok(Ok(report)) => {
                tracing::info!(accepted = report.accepted, skipped = report.skipped, "invitations accepted on sign-up");
                return Outcome::Accepted(report);
            }
            Ok(Err(err)) => tracing::warn!(error = %Chain(&err), "acceptance failed; handing off"),
            Err(_) => tracing::warn!("acceptance timed out; handing off"),
        }
        let message = ReconcileSignup { user_id, email: email.to_owned() };
        let handed_off = match to_body(&message) {
            Ok(body) => tokio::time::timeout(HANDOFF_DEADLINE, self.reconcile_queue.send(body)).await,
            Err(err) => Ok(Err(err)),
        };
        match handed_off {
            Ok(Ok(())) => Outcome::Deferred,
            Ok(Err(err)) => {
                tracing::error!(error = %Chain(&err), "could not hand off the acceptance");
                Outcome::Lost
            }
            Err(_) => {
                tracing::error!("timed out handing off the acceptance");
                Outcome::Lost
            }
        }
    }
}

/// Handles one Cognito event in a span naming its user, and returns it unchanged, as Cognito
/// expects of a post-confirmation trigger.
pub async fn handle(trigger: &Trigger, event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
    let sub = event.payload["request"]["userAttributes"]["sub"].as_str().unwrap_or_default();
    let span = tracing::info_span!("signup", user_id = %sub);
    match trigger.on_confirmation(&event.payload).instrument(span).await {
        Outcome::Accepted(report) => metrics::count(Metric::SignupAcceptances, report.accepted as u64),
        Outcome::Deferred => metrics::count(Metric::SignupHandoffs, 1),
        Outcome::Lost => metrics::count(Metric::LostHandoffs, 1),
        Outcome::Ignored(_) => {}
    }
    Ok(event.payload)
}
