//! Test support: clients pointed at the run's own emulators (started by
//! `infra/with-emulators.sh`), with a unique table or queue for every test; the table's stream
//! carried through the pipes of `template.yaml` by the project's pipe emulator; and a
//! fault-injecting proxy.

pub mod fault_proxy;
pub mod iam;
pub mod slack_standin;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use invitations::clock::ManualClock;
use invitations::domain::{
    Actor, DeliveryStatus, DomainAllowList, Email, Event, NewInvitation, NewProject, Policy, ProjectName,
};
use invitations::store::dynamodb::DynamoStore;
use invitations::store::memory::MemoryStore;
use invitations::store::{Store, Transition};
use invitations::{Caller, Invitation, Invitations, ProjectId, Settings, UserId};
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

fn endpoint(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the tests with `make test` (or infra/with-emulators.sh cargo test)")
    })
}

pub fn dynamodb_endpoint() -> String {
    endpoint("TEST_DYNAMODB_ENDPOINT")
}

pub fn moto_endpoint() -> String {
    endpoint("TEST_MOTO_ENDPOINT")
}

/// A config for an emulator: fixed region, dummy credentials, short timeouts.
pub fn sdk_config(endpoint_url: &str) -> SdkConfig {
    sdk_config_over(endpoint_url, invitations::sdk_config::https_client())
}

/// [`sdk_config`] over the given HTTP client.
pub fn sdk_config_over(endpoint_url: &str, http_client: aws_types::sdk_config::SharedHttpClient) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new("test", "test", None, None, "tests")))
        .http_client(http_client)
        .endpoint_url(endpoint_url)
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder().operation_timeout(std::time::Duration::from_secs(20)).build(),
        )
        .build()
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", Uuid::new_v4().simple())
}

pub fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config(&dynamodb_endpoint()))
}

/// A DynamoDB store on a fresh table of its own.
pub async fn dynamo_store() -> DynamoStore {
    dynamo_store_with_stream().await.0
}

/// A DynamoDB store on a fresh table of its own, and the ARN of the table's stream.
pub async fn dynamo_store_with_stream() -> (DynamoStore, String) {
    let store = DynamoStore::new(dynamodb_client(), unique("invitations"));
    let stream = store.create_table().await.expect("create table");
    (store, stream)
}

pub fn streams_client() -> aws_sdk_dynamodbstreams::Client {
    aws_sdk_dynamodbstreams::Client::new(&sdk_config(&dynamodb_endpoint()))
}

/// The pipes `template.yaml` declares.
pub fn template_pipes() -> Vec<pipes_emulator::Pipe> {
    pipes_emulator::Pipe::all_in(&iam::template_text()).expect("the template's pipes")
}

pub fn sqs_client() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&sdk_config(&moto_endpoint()))
}

/// A fresh SQS queue; returns its URL.
pub async fn sqs_queue(client: &aws_sdk_sqs::Client) -> String {
    let out = client.create_queue().queue_name(unique("emails")).send().await.expect("create queue");
    out.queue_url.expect("queue url")
}

/// Every message on the queue right now (received and deleted).
pub async fn drain_queue(client: &aws_sdk_sqs::Client, url: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    loop {
        let out = client.receive_message().queue_url(url).max_number_of_messages(10).send().await.expect("receive");
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return bodies;
        }
        for m in messages {
            bodies.push(m.body.clone().unwrap_or_default());
            client
                .delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle.unwrap_or_default())
                .send()
                .await
                .expect("delete");
        }
    }
}

pub fn ses_client() -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::new(&sdk_config(&moto_endpoint()))
}

/// Emails moto's SES actually accepted for `recipient`.
pub async fn emails_sent_to(recipient: &str) -> Vec<serde_json::Value> {
    let url = format!("{}/moto-api/data.json", moto_endpoint());
    let body = http_get(&url).await;
    let data: serde_json::Value = serde_json::from_str(&body).expect("moto data json");
    let mut found = Vec::new();
    if let Some(messages) = data.pointer("/ses/Message").and_then(|m| m.as_array()) {
        for message in messages {
            if message.to_string().contains(recipient) {
                found.push(message.clone());
            }
        }
    }
    found
}

/// A minimal HTTP GET over a raw TCP stream (loopback only), to read moto's state.
pub async fn http_get(url: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let request = format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    text.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default()
}

pub fn start_time() -> OffsetDateTime {
    invitations::domain::timestamp::truncate_to_millis(OffsetDateTime::now_utc())
}

/// A service over `store` with a clock the test moves, and the default settings.
pub fn service(store: Arc<dyn Store>) -> (Invitations, Arc<ManualClock>) {
    service_with(store, Settings::default())
}

/// [`service`] with the given settings (tighter quotas, say).
pub fn service_with(store: Arc<dyn Store>, settings: Settings) -> (Invitations, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(start_time()));
    (Invitations::new(store, clock.clone(), settings), clock)
}

/// Settings whose quotas are these (invitations per project and per inviter per day, pending
/// per address, projects per user).
pub fn quotas(per_project: u32, per_inviter: u32, per_address: u32, projects: u32) -> Settings {
    let quotas = invitations::domain::Quotas {
        invitations_per_project_per_day: per_project,
        invitations_per_inviter_per_day: per_inviter,
        pending_per_address: per_address,
        projects_per_user: projects,
    };
    Settings { quotas, ..Settings::default() }
}

pub fn memory_store() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

pub fn user_id(raw: &str) -> UserId {
    UserId::parse(raw).expect("a user id")
}

pub fn project_id(raw: &str) -> ProjectId {
    ProjectId::parse(raw).expect("a project id")
}

/// What a manager asks for when inviting `email` as `role`.
pub fn new_invitation(email: &str, role: &str) -> NewInvitation {
    NewInvitation::new(Email::parse(email).expect("an email"), role.parse().expect("a role"))
}

/// A project named `name` with the given allow-list.
pub fn new_project(name: &str, allowed: &[&str]) -> NewProject {
    NewProject {
        name: ProjectName::parse(name).expect("a project name"),
        allowed_email_domains: DomainAllowList::new(allowed).expect("an allow-list"),
    }
}

/// A caller with a verified email.
pub fn user(name: &str) -> Caller {
    Caller {
        user_id: user_id(&format!("sub-{name}-{}", Uuid::new_v4().simple())),
        email: Some(format!("{name}@example.com")),
        email_verified: true,
    }
}

/// A caller whose verified email is `email`.
pub fn user_with_email(email: &str) -> Caller {
    Caller {
        user_id: user_id(&format!("sub-{}", Uuid::new_v4().simple())),
        email: Some(email.to_owned()),
        email_verified: true,
    }
}

/// A unique address, so tests sharing one moto can tell their emails apart.
pub fn unique_email(name: &str) -> String {
    format!("{name}.{}@example.com", &Uuid::new_v4().simple().to_string()[..12])
}

/// The API through API Gateway v2 events, over DynamoDB Local, with the table's stream carried
/// by the template's pipes to a moto SQS queue (the email pipe) and to `published` (the events
/// pipe's bus).
pub struct Api {
    pub app: Invitations,
    pub clock: Arc<ManualClock>,
    pub store: Arc<DynamoStore>,
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    stream: tokio::sync::Mutex<pipes_emulator::stream::StreamReader>,
    pipes: Vec<pipes_emulator::Pipe>,
    /// What the events pipe published on the bus so far.
    pub published: std::sync::Mutex<Vec<pipes_emulator::Delivery>>,
    routes: Vec<local_server::Route>,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: lambda_http::http::HeaderMap,
    pub body: serde_json::Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Api {
    pub async fn new() -> Api {
        Self::with_settings(Settings::default()).await
    }

    pub async fn with_settings(settings: Settings) -> Api {
        let (store, stream_arn) = dynamo_store_with_stream().await;
        let store = Arc::new(store);
        let sqs = sqs_client();
        let queue_url = sqs_queue(&sqs).await;
        let clock = Arc::new(ManualClock::new(start_time()));
        let app = Invitations::new(store.clone(), clock.clone(), settings);
        let stream = pipes_emulator::stream::StreamReader::new(streams_client(), stream_arn);
        Api {
            app,
            clock,
            store,
            sqs,
            queue_url,
            stream: tokio::sync::Mutex::new(stream),
            pipes: template_pipes(),
            published: Default::default(),
            routes: local_server::routes(),
        }
    }

    /// Carries every change committed so far through the pipes, as EventBridge Pipes would:
    /// send requests onto the email queue, events onto the bus (`published`).
    pub async fn pump(&self) {
        let records = self.stream.lock().await.read().await.expect("read the table's stream");
        for record in records {
            for pipe in &self.pipes {
                let Some(delivery) = pipe.deliver(&record).expect("the pipe delivers the record") else {
                    continue;
                };
                if delivery.target == "EmailQueue" {
                    let sent = self.sqs.send_message().queue_url(&self.queue_url).message_body(&delivery.body).send();
                    sent.await.expect("send to the email queue");
                } else {
                    self.published.lock().unwrap().push(delivery);
                }
            }
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<serde_json::Value>, who: Option<&Caller>) -> Reply {
        self.call_raw(&self.app, method, path, body.map(|b| b.to_string()).as_deref(), who).await
    }

    pub async fn call_raw(
        &self,
        app: &Invitations,
        method: &str,
        path: &str,
        body: Option<&str>,
        who: Option<&Caller>,
    ) -> Reply {
        self.call_with_headers(app, method, path, body, &[], who).await
    }

    /// A request with the given headers, as API Gateway hands them on.
    pub async fn call_with_headers(
        &self,
        app: &Invitations,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
        who: Option<&Caller>,
    ) -> Reply {
        let claims = who.map(|c| local_server::Claims {
            sub: c.user_id.to_string(),
            email: c.email.clone().unwrap_or_default(),
            email_verified: c.email_verified,
        });
        let headers = headers.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect();
        let request = local_server::HttpRequest { method, path_and_query: path, headers, body };
        let response = local_server::dispatch(app, &self.routes, &request, claims.as_ref())
            .await
            .unwrap_or_else(|| panic!("no route for {method} {path}"));
        let (parts, body) = response.into_parts();
        let text = String::from_utf8_lossy(body.as_ref()).into_owned();
        let body =
            if text.is_empty() { serde_json::Value::Null } else { serde_json::from_str(&text).expect("JSON body") };
        Reply { status: parts.status.as_u16(), headers: parts.headers, body }
    }

    /// Messages on the email queue since the last call, once the pipes have carried every change.
    pub async fn queued(&self) -> Vec<invitations::queue::SendInvitationEmail> {
        self.pump().await;
        drain_queue(&self.sqs, &self.queue_url)
            .await
            .iter()
            .map(|body| serde_json::from_str(body).expect("a send message"))
            .collect()
    }

    /// A project owned by a new user.
    pub async fn project(&self) -> (Caller, String) {
        let owner = user("owner");
        let reply =
            self.call("POST", "/api/v1/projects", Some(serde_json::json!({"name": "Survey"})), Some(&owner)).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        (owner, reply.body["id"].as_str().unwrap().to_owned())
    }

    /// `POST .../resend-invitation` for `id`, as `who`.
    pub async fn resend(&self, who: &Caller, pid: &str, id: &str) -> Reply {
        let path = format!("/api/v1/projects/{pid}/resend-invitation");
        self.call("POST", &path, Some(serde_json::json!({"invitation_id": id})), Some(who)).await
    }

    /// Invites `email` and returns the invitation's id.
    pub async fn invite(&self, owner: &Caller, pid: &str, email: &str, role: &str) -> String {
        let reply = self
            .call(
                "POST",
                &format!("/api/v1/projects/{pid}/invitations"),
                Some(serde_json::json!({"email": email, "role": role})),
                Some(owner),
            )
            .await;
        assert_eq!(reply.status, 201, "{reply:?}");
        reply.body["id"].as_str().unwrap().to_owned()
    }

    /// A member with `role`, made through an accepted invitation.
    pub async fn member(&self, owner: &Caller, pid: &str, role: &str) -> Caller {
        let member = user_with_email(&unique_email(role));
        let id = self.invite(owner, pid, member.email.as_deref().unwrap(), role).await;
        let reply =
            self.call("POST", &format!("/api/v1/projects/{pid}/invitations/{id}/accept"), None, Some(&member)).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        member
    }
}

/// An SQS event as Lambda delivers it, one record per body.
pub fn sqs_event(bodies: &[(String, String)]) -> lambda_runtime::LambdaEvent<aws_lambda_events::event::sqs::SqsEvent> {
    let records: Vec<serde_json::Value> = bodies
        .iter()
        .map(|(id, body)| {
            serde_json::json!({
                "messageId": id,
                "receiptHandle": format!("handle-{id}"),
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:emails",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    let event = serde_json::from_value(serde_json::json!({ "Records": records })).expect("an SQS event");
    lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default())
}

/// A verified sender identity in moto's SES.
pub async fn verified_sender() -> String {
    let sender = unique_email("noreply");
    ses_client().create_email_identity().email_identity(&sender).send().await.expect("create identity");
    sender
}

/// A config for an emulator with the given timeouts (as the Lambdas configure them).
pub fn sdk_config_with(endpoint_url: &str, timeouts: invitations::sdk_config::Timeouts) -> SdkConfig {
    sdk_config(endpoint_url)
        .into_builder()
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(timeouts.connect)
                .operation_attempt_timeout(timeouts.attempt)
                .operation_timeout(timeouts.operation)
                .build(),
        )
        .build()
}

/// A Cognito post-confirmation event, as Cognito sends it.
pub fn cognito_event(trigger_source: &str, sub: &str, email: &str, verified: bool) -> serde_json::Value {
    serde_json::json!({
        "version": "1",
        "region": "us-east-1",
        "userPoolId": "us-east-1_TestPool1",
        "userName": sub,
        "callerContext": { "awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "3n4b5urk1ft4fl3mg5e62d9ado" },
        "triggerSource": trigger_source,
        "request": {
            "userAttributes": {
                "sub": sub,
                "email": email,
                "email_verified": verified.to_string(),
                "cognito:user_status": "CONFIRMED",
                "cognito:email_alias": email
            }
        },
        "response": {}
    })
}

/// A config for an endpoint as the functions build theirs: three attempts per call and the given
/// timeouts (tests shorten them to stay fast).
pub fn function_config(endpoint_url: &str, timeouts: invitations::sdk_config::Timeouts) -> SdkConfig {
    sdk_config_with(endpoint_url, timeouts)
        .into_builder()
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3))
        .build()
}

/// The functions' timeouts, shortened so a hung dependency costs a test a second or two, not five;
/// an attempt still gets a second, as DynamoDB Local on a busy CI host can take half of one.
pub const SHORT_TIMEOUTS: invitations::sdk_config::Timeouts = invitations::sdk_config::Timeouts {
    connect: std::time::Duration::from_millis(500),
    attempt: std::time::Duration::from_millis(1000),
    operation: std::time::Duration::from_millis(3000),
};

/// One line of the README's reliability table, printed by the fault tests.
pub fn reliability(scenario: &str, outcome: &str) {
    println!("reliability | {scenario} | {outcome}");
}

/// As Lambda's SQS poller: receives up to ten messages from `queue_url`, hands them to `handle`
/// as one event (with their real receipt handles and receive counts), and deletes the ones it
/// did not report as failed. Returns how many were received.
pub async fn poll_once<F, Fut>(sqs: &aws_sdk_sqs::Client, queue_url: &str, handle: F) -> usize
where
    F: FnOnce(lambda_runtime::LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>) -> Fut,
    Fut: std::future::Future<Output = aws_lambda_events::event::sqs::SqsBatchResponse>,
{
    use aws_sdk_sqs::types::MessageSystemAttributeName;
    let received = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .send()
        .await
        .expect("receive");
    let messages = received.messages.unwrap_or_default();
    if messages.is_empty() {
        return 0;
    }
    let records: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| {
            let count = m
                .attributes
                .as_ref()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .cloned()
                .unwrap_or_else(|| "1".into());
            serde_json::json!({
                "messageId": m.message_id, "receiptHandle": m.receipt_handle, "body": m.body,
                "attributes": {"ApproximateReceiveCount": count}, "messageAttributes": {},
                "eventSource": "aws:sqs", "awsRegion": "us-east-1",
            })
        })
        .collect();
    let event = serde_json::from_value(serde_json::json!({ "Records": records })).expect("an SQS event");
    let response = handle(lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default())).await;
    let failed: Vec<String> = response.batch_item_failures.into_iter().map(|f| f.item_identifier).collect();
    for message in &messages {
        if !failed.iter().any(|id| Some(id) == message.message_id.as_ref()) {
            let receipt = message.receipt_handle.clone().unwrap_or_default();
            sqs.delete_message().queue_url(queue_url).receipt_handle(receipt).send().await.expect("delete");
        }
    }
    messages.len()
}

/// A queue whose messages go to a new dead-letter queue after `max_receives`, visible again at
/// once when not deleted; returns (queue, dead-letter queue).
pub async fn queue_with_dlq(sqs: &aws_sdk_sqs::Client, max_receives: u32) -> (String, String) {
    use aws_sdk_sqs::types::QueueAttributeName;
    let dlq = sqs_queue(sqs).await;
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("dlq arn")
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .expect("dlq arn");
    let redrive = serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives}).to_string();
    let queue = sqs
        .create_queue()
        .queue_name(unique("emails"))
        .attributes(QueueAttributeName::RedrivePolicy, redrive)
        .attributes(QueueAttributeName::VisibilityTimeout, "0")
        .send()
        .await
        .expect("create queue")
        .queue_url
        .expect("queue url");
    (queue, dlq)
}

/// An SES event (`kind`: Delivery, Bounce, Reject, Complaint) for one sent email, as the
/// configuration set's EventBridge destination publishes it.
pub fn ses_event(kind: &str, message_id: &str, project_id: &str, invitation_id: &str) -> String {
    let (detail_type, extra) = match kind {
        "Delivery" => (
            "Email Delivered",
            serde_json::json!({"delivery": {"timestamp": "2026-11-23T12:00:00Z", "recipients": ["x@example.com"]}}),
        ),
        "Bounce" => (
            "Email Bounced",
            serde_json::json!({"bounce": {"bounceType": "Permanent", "bounceSubType": "General", "bouncedRecipients": [], "timestamp": "2026-11-23T12:00:00Z"}}),
        ),
        "Reject" => ("Email Rejected", serde_json::json!({"reject": {"reason": "Bad content"}})),
        _ => (
            "Email Complaint Received",
            serde_json::json!({"complaint": {"complaintFeedbackType": "abuse", "complainedRecipients": [], "timestamp": "2026-11-23T12:00:00Z"}}),
        ),
    };
    let mut detail = serde_json::json!({
        "eventType": kind,
        "mail": {
            "timestamp": "2026-11-23T12:00:00Z",
            "source": "noreply@example.com",
            "messageId": message_id,
            "destination": ["x@example.com"],
            "tags": {"project_id": [project_id], "invitation_id": [invitation_id], "ses:configuration-set": ["invitations"]}
        }
    });
    detail.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    serde_json::json!({
        "version": "0", "id": "e1", "detail-type": detail_type, "source": "aws.ses", "account": "123456789012",
        "time": "2026-11-23T12:00:05Z", "region": "us-east-1", "resources": [], "detail": detail
    })
    .to_string()
}

/// Moves an invitation's email to `delivery` as the sender and the mail service's events would.
pub async fn deliver(store: &dyn Store, invitation: &Invitation, delivery: DeliveryStatus, now: OffsetDateTime) {
    let policy = Policy::default();
    let mut steps = vec![invitation.clone()];
    let claimed = |i: &Invitation| i.claim_send(i.send_id, now, &policy).unwrap();
    match delivery {
        DeliveryStatus::NotQueued => steps.push(invitation.mark_not_queued("queue refused", now)),
        DeliveryStatus::Failed => steps.push(claimed(invitation).record_failed("rejected", now)),
        DeliveryStatus::Bounced | DeliveryStatus::Delivered => {
            let sent = claimed(invitation).record_sent("m-1", now);
            let outcome = sent.record_event("m-1", delivery, None, now).unwrap();
            steps.extend([claimed(invitation), sent, outcome]);
        }
        other => panic!("no path to {other:?} here"),
    }
    for pair in steps.windows(2) {
        let event = Event::transition(&pair[0], &pair[1], &Actor::System, now);
        store.save(Transition { from: &pair[0], to: &pair[1], event: &event, claims: &[] }).await.unwrap();
    }
}
