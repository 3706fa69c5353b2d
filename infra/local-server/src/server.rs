//! The local HTTP server: API routes go through the Lambdas' handlers; `/local/signup` and
//! `/local/login` stand in for Cognito; a background loop carries the table's changes through
//! the pipes and delivers the queues in process, in commit order.

use crate::identity::{LocalIdentity, SignUpError};
use crate::relay::Relay;
use crate::{dispatch, App, Claims, HttpRequest, Route};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use invitations::cause::Chain;
use invitations::http::error_response;
use invitations::queue::memory::MemoryQueue;
use invitations::queue::Queue;
use invitations::AppError;
use lambda_runtime::{Context, LambdaEvent};
use post_confirmation::Trigger;
use send_invitation_email::Sender;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// A queue the local run delivers itself: in memory, or a real (emulated) SQS queue.
pub enum Inbox {
    Memory(Arc<MemoryQueue>),
    Sqs { client: aws_sdk_sqs::Client, url: String },
}

impl Inbox {
    async fn receive(&self) -> Vec<(String, Option<String>)> {
        match self {
            Inbox::Memory(queue) => queue.drain().into_iter().map(|body| (body, None)).collect(),
            Inbox::Sqs { client, url } => {
                match client.receive_message().queue_url(url).max_number_of_messages(10).send().await {
                    Ok(out) => out
                        .messages
                        .unwrap_or_default()
                        .into_iter()
                        .map(|m| (m.body.unwrap_or_default(), m.receipt_handle))
                        .collect(),
                    Err(err) => {
                        tracing::warn!(error = %err, "could not read the queue");
                        Vec::new()
                    }
                }
            }
        }
    }

    async fn done(&self, receipt: Option<String>) {
        if let (Inbox::Sqs { client, url }, Some(receipt)) = (self, receipt) {
            let _ = client.delete_message().queue_url(url).receipt_handle(receipt).send().await;
        }
    }

    async fn retry(&self, body: String) {
        if let Inbox::Memory(queue) = self {
            let _ = queue.send(body).await;
        }
    }
}

/// Attempts before a message is dropped, as a DLQ redrive would after `maxReceiveCount`.
const MAX_ATTEMPTS: usize = 5;

pub struct LocalApi {
    pub app: App,
    pub routes: Vec<Route>,
    pub identity: LocalIdentity,
    pub trigger: Trigger,
    pub sender: Sender,
    pub relay: Relay,
    pub emails: Inbox,
    pub reconciles: Inbox,
    /// The Slack consumer, and what the bus's `SlackRule` sends it.
    pub slack: slack_invite::SlackInviter,
    pub slack_events: Inbox,
    pub wake: Notify,
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("valid response")
}

fn from_lambda(response: lambda_http::Response<lambda_http::Body>) -> Response<Full<Bytes>> {
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, Full::new(Bytes::copy_from_slice(body.as_ref())))
}

fn email_of(body: &str) -> Result<String, AppError> {
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    value["email"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| AppError::invalid("missing_field", Some("email"), "The field 'email' is required."))
}

impl LocalApi {
    pub async fn serve(self: Arc<Self>, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let method = request.method().as_str().to_owned();
        let path_and_query = request.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
        let authorization = request.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
        // Every header reaches the handlers, as API Gateway hands them on.
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
            .collect();
        let body = match request.into_body().collect().await {
            Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
            Err(_) => {
                return reply(StatusCode::BAD_REQUEST, json!({"code": "invalid_body", "message": "Unreadable body."}))
            }
        };
        let path = path_and_query.split('?').next().unwrap_or_default();
        let response = match (method.as_str(), path) {
            ("POST", "/local/signup") => self.sign_up(&body).await,
            ("POST", "/local/login") => self.login(&body),
            _ => {
                let body = (!body.is_empty()).then_some(body.as_str());
                let request = HttpRequest { method: &method, path_and_query: &path_and_query, headers, body };
                self.api(&request, authorization.as_deref()).await
            }
        };
        tracing::info!(%method, path = %path, status = response.status().as_u16(), "request");
        // Anything the request queued is delivered right away.
        self.wake.notify_one();
        response
    }

    async fn api(&self, request: &HttpRequest<'_>, authorization: Option<&str>) -> Response<Full<Bytes>> {
        // As API Gateway's JWT authorizer: no valid token, no call to the function.
        let Some(claims) = self.identity.claims(authorization) else {
            return from_lambda(error_response(&AppError::Unauthenticated));
        };
        match dispatch(&self.app, &self.routes, request, Some(&claims)).await {
            Some(response) => from_lambda(response),
            None => from_lambda(error_response(&AppError::NotFound)),
        }
    }

    /// A Cognito sign-up and confirmation, through the real post-confirmation handler.
    async fn sign_up(&self, body: &str) -> Response<Full<Bytes>> {
        let email = match email_of(body) {
            Ok(email) => email,
            Err(err) => return from_lambda(error_response(&err)),
        };
        let claims = match self.identity.sign_up(&email) {
            Ok(claims) => claims,
            Err(SignUpError::InvalidEmail) => {
                return from_lambda(error_response(&AppError::invalid(
                    "invalid_email",
                    Some("email"),
                    "The email address is not valid.",
                )))
            }
            Err(SignUpError::AlreadyRegistered) => {
                return from_lambda(error_response(&AppError::conflict(
                    "user_exists",
                    "An account with this email exists; log in.",
                )))
            }
        };
        let event = cognito_event(&claims);
        if let Err(err) = post_confirmation::handle(&self.trigger, LambdaEvent::new(event, Context::default())).await {
            tracing::error!(error = %Chain(err.as_ref()), "post-confirmation trigger failed");
        }
        let token = self.identity.issue_token(&claims);
        reply(StatusCode::CREATED, json!({"id_token": token, "user_id": claims.sub, "email": claims.email}))
    }

    fn login(&self, body: &str) -> Response<Full<Bytes>> {
        let email = match email_of(body) {
            Ok(email) => email,
            Err(err) => return from_lambda(error_response(&err)),
        };
        match self.identity.find(&email) {
            Some(claims) => {
                let token = self.identity.issue_token(&claims);
                reply(StatusCode::OK, json!({"id_token": token, "user_id": claims.sub, "email": claims.email}))
            }
            None => from_lambda(error_response(&AppError::NotFound)),
        }
    }

    /// Carries the changes through the pipes and delivers both queues through the real
    /// handlers, until the process ends.
    pub async fn deliver_forever(self: Arc<Self>) {
        let mut attempts: HashMap<String, usize> = HashMap::new();
        loop {
            let _ = tokio::time::timeout(Duration::from_millis(500), self.wake.notified()).await;
            self.relay.run_once().await;
            for (body, receipt) in self.emails.receive().await {
                match self.sender.send(&body).await {
                    Ok(outcome) => {
                        tracing::debug!(?outcome, "send message handled");
                        self.emails.done(receipt).await;
                    }
                    Err(err) => {
                        let reason = Chain(&err).to_string();
                        self.failed(&self.emails, &mut attempts, body, receipt, &reason).await
                    }
                }
            }
            for (body, receipt) in self.slack_events.receive().await {
                let message =
                    invitations::sqs_batch::Message { body: body.clone(), receipt_handle: None, receive_count: 1 };
                match self.slack.handle_message(message).await {
                    Ok(_) => self.slack_events.done(receipt).await,
                    Err(err) => {
                        let reason = Chain(&err).to_string();
                        self.failed(&self.slack_events, &mut attempts, body, receipt, &reason).await
                    }
                }
            }
            for (body, receipt) in self.reconciles.receive().await {
                match reconcile_signups::reconcile(&self.app, &body).await {
                    Ok(_) => self.reconciles.done(receipt).await,
                    Err(err) => {
                        let reason = Chain(&err).to_string();
                        self.failed(&self.reconciles, &mut attempts, body, receipt, &reason).await
                    }
                }
            }
        }
    }

    async fn failed(
        &self,
        inbox: &Inbox,
        attempts: &mut HashMap<String, usize>,
        body: String,
        receipt: Option<String>,
        reason: &str,
    ) {
        let count = attempts.entry(body.clone()).or_default();
        *count += 1;
        if *count >= MAX_ATTEMPTS {
            tracing::error!(reason = %reason, "message dropped after {MAX_ATTEMPTS} attempts (a DLQ in AWS)");
            inbox.done(receipt).await;
        } else {
            tracing::warn!(reason = %reason, attempt = *count, "message will be retried");
            inbox.retry(body).await;
        }
    }
}

/// The event Cognito sends after a confirmed sign-up.
fn cognito_event(claims: &Claims) -> serde_json::Value {
    json!({
        "version": "1",
        "region": "local",
        "userPoolId": "local_pool",
        "userName": claims.sub,
        "callerContext": { "awsSdkVersion": "local", "clientId": "local" },
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "request": { "userAttributes": {
            "sub": claims.sub, "email": claims.email, "email_verified": "true", "cognito:user_status": "CONFIRMED"
        } },
        "response": {}
    })
}
