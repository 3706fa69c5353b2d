//! Faults, through the project's fault-injecting proxy in front of DynamoDB Local and moto, and
//! crashes (a handler dropped mid-way, as a process that dies), at every step of the email path
//! and the sign-up path. For each: the invitation ends `sent` with its email sent once (twice
//! only in the documented window: SES accepted, the outcome not yet recorded), or visibly
//! `failed` with a reason; none stays `queued` or `sending` past its lease; memberships are
//! consistent; what can never be processed reaches the DLQ. Each test prints its line of the
//! README's reliability table.

use integration_tests::fault_proxy::{Fault, FaultProxy};
use integration_tests::*;
use invitations::mail::ses::SesMailer;
use invitations::mail::templates::EmailTemplates;
use invitations::queue::sqs::{LazySqsQueue, SqsQueue};
use invitations::queue::SendInvitationEmail;
use invitations::queue::{QueueError, Redelivery};
use invitations::sdk_config::ses_client as function_ses_client;
use invitations::service::EmailDelivery;
use invitations::store::dynamodb::DynamoStore;
use invitations::{Caller, Invitations, Settings};
use send_invitation_email::{handle, Sender};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// The delays a sender asked for, instead of waiting them out.
#[derive(Default)]
struct Delays(std::sync::Mutex<Vec<Duration>>);

#[async_trait::async_trait]
impl Redelivery for Delays {
    async fn delay(&self, _receipt_handle: &str, delay: Duration) -> Result<(), QueueError> {
        self.0.lock().unwrap().push(delay);
        Ok(())
    }
}

/// The email path with both its dependencies behind fault proxies.
struct EmailPath {
    api: Api,
    dynamodb: FaultProxy,
    ses: FaultProxy,
    sender: Sender,
    owner: Caller,
    to: String,
    message: SendInvitationEmail,
}

impl EmailPath {
    async fn new() -> EmailPath {
        let api = Api::new().await;
        let dynamodb = FaultProxy::start(&dynamodb_endpoint()).await;
        let ses = FaultProxy::start(&moto_endpoint()).await;
        let store = DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&function_config(&dynamodb.url, SHORT_TIMEOUTS)),
            api.store.table(),
        );
        // The sender's own SES client: one attempt per send.
        let mailer = SesMailer::new(
            function_ses_client(&function_config(&ses.url, SHORT_TIMEOUTS)),
            verified_sender().await,
            None,
        );
        let delivery = EmailDelivery::new(
            Arc::new(store),
            api.clock.clone(),
            Settings::default(),
            Arc::new(mailer),
            EmailTemplates::default(),
        );
        let sender = Sender { delivery, redelivery: Arc::new(Delays::default()) };
        let (owner, pid) = api.project().await;
        let to = unique_email("invitee");
        api.invite(&owner, &pid, &to, "editor").await;
        let message = api.queued().await.remove(0);
        EmailPath { api, dynamodb, ses, sender, owner, to, message }
    }

    /// One delivery of the message; true when it was handed back for a retry.
    async fn deliver(&self) -> bool {
        let body = serde_json::to_string(&self.message).unwrap();
        let response = handle(&self.sender, sqs_event(&[("m".into(), body)])).await.unwrap();
        !response.batch_item_failures.is_empty()
    }

    /// A delivery whose process dies as soon as `reached` says so.
    async fn deliver_and_die(&self, reached: impl Fn() -> bool) {
        let watching = async {
            while !reached() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::select! {
            _ = self.deliver() => panic!("the delivery finished before the crash"),
            _ = watching => {}
        }
    }

    async fn invitation(&self) -> Value {
        let path = format!("/api/v1/projects/{}/invitations/{}", self.message.project_id, self.message.invitation_id);
        self.api.call("GET", &path, None, Some(&self.owner)).await.body
    }

    async fn status(&self) -> String {
        self.invitation().await["delivery_status"].as_str().unwrap().to_owned()
    }

    async fn emails(&self) -> usize {
        emails_sent_to(&self.to).await.len()
    }

    /// Past the send's lease, when a claim by a dead sender is free again.
    fn after_the_lease(&self) {
        self.api.clock.advance(Settings::default().policy.send_lease + time::Duration::seconds(1));
    }
}

#[tokio::test]
async fn a_send_is_one_read_and_two_writes_on_one_connection_per_service() {
    let path = EmailPath::new().await;
    assert!(!path.deliver().await);
    assert_eq!((path.status().await.as_str(), path.emails().await), ("sent", 1));
    // The invitation with its project in one read, the claim, then the outcome written over the
    // claim without reading it again; a cold sender on Lambda pays one TLS handshake per service.
    assert_eq!(path.dynamodb.seen(), ["BatchGetItem", "TransactWriteItems", "TransactWriteItems"]);
    assert_eq!(path.ses.seen(), ["SendEmail"]);
    assert_eq!((path.dynamodb.connections(), path.ses.connections()), (1, 1));
}

#[tokio::test]
async fn an_invitation_revoked_while_its_email_goes_out_records_the_send() {
    let path = EmailPath::new().await;
    path.ses.inject("SendEmail", Fault::Delay(Duration::from_millis(300)), 1);
    let revoke = async {
        while path.ses.count("SendEmail") == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let route = format!("/api/v1/projects/{}/revoke-invitation", path.message.project_id);
        let body = serde_json::json!({"invitation_id": path.message.invitation_id});
        path.api.call("POST", &route, Some(body), Some(&path.owner)).await.status
    };
    let (retried, revoked) = tokio::join!(path.deliver(), revoke);
    assert_eq!((retried, revoked), (false, 200));
    let invitation = path.invitation().await;
    assert_eq!((invitation["status"].as_u64(), invitation["delivery_status"].as_str()), (Some(3), Some("sent")));
    assert_eq!(path.emails().await, 1);
    // The write over the claim lost to the revocation (tried again first when the two
    // transactions collided); what the invitation became was read and the outcome written on it.
    let seen = path.dynamodb.seen();
    let (lost, read_and_written) = seen[2..].split_at(seen.len() - 4);
    assert!(!lost.is_empty() && lost.iter().all(|call| call == "TransactWriteItems"), "{seen:?}");
    assert_eq!(read_and_written, ["BatchGetItem", "TransactWriteItems"], "{seen:?}");
    reliability(
        "the invitation is revoked while SES takes its email",
        "the outcome is written on the revoked invitation: revoked, `sent`, 1 email",
    );
}

#[tokio::test]
async fn dynamodb_throttling_the_sender_s_reads() {
    let path = EmailPath::new().await;
    path.dynamodb.inject("BatchGetItem", Fault::Throttle, 100);
    assert!(path.deliver().await, "handed back, not dropped");
    path.dynamodb.clear();
    assert_eq!((path.status().await.as_str(), path.emails().await), ("queued", 0));
    assert!(!path.deliver().await);
    assert_eq!((path.status().await.as_str(), path.emails().await), ("sent", 1));
    reliability(
        "DynamoDB throttles every attempt of the sender's read",
        "handed back; next delivery sends: 1 email, `sent`",
    );
}

#[tokio::test]
async fn every_key_left_unprocessed_is_unavailable_not_missing() {
    let path = EmailPath::new().await;
    path.dynamodb.inject("BatchGetItem", Fault::AllUnprocessed, 100);
    assert!(path.deliver().await, "an unread invitation is not a missing one");
    path.dynamodb.clear();
    assert_eq!(path.emails().await, 0);
    assert!(!path.deliver().await);
    assert_eq!((path.status().await.as_str(), path.emails().await), ("sent", 1));
    reliability(
        "BatchGetItem leaves every key unprocessed, round after round",
        "read as unavailable, handed back; then 1 email, `sent`",
    );
}

#[tokio::test]
async fn dynamodb_failing_the_claim() {
    for (fault, scenario) in [
        (Fault::ServerError, "DynamoDB answers 500 to every attempt of the claim"),
        (Fault::Reset, "DynamoDB resets the connection on every attempt of the claim"),
    ] {
        let path = EmailPath::new().await;
        path.dynamodb.inject("TransactWriteItems", fault, 100);
        assert!(path.deliver().await);
        path.dynamodb.clear();
        assert_eq!((path.status().await.as_str(), path.emails().await), ("queued", 0));
        assert!(!path.deliver().await);
        assert_eq!((path.status().await.as_str(), path.emails().await), ("sent", 1));
        reliability(scenario, "handed back before SES; next delivery sends: 1 email, `sent`");
    }
}

#[tokio::test]
async fn ses_failing_for_now_gets_one_attempt_and_a_retry_later() {
    for (fault, scenario) in [
        (Fault::Throttle, "SES throttles the send (429)"),
        (Fault::ServerError, "SES answers 500"),
        (Fault::Hang, "SES never answers (past the attempt timeout)"),
    ] {
        let path = EmailPath::new().await;
        path.ses.inject("SendEmail", fault, 1);
        assert!(path.deliver().await);
        assert_eq!(path.ses.count("SendEmail"), 1, "{scenario}: one attempt, no retry inside the SDK");
        let invitation = path.invitation().await;
        assert_eq!(invitation["delivery_status"], "queued", "{scenario}: the claim is given back");
        assert!(invitation["delivery_reason"].is_string());
        assert!(!path.deliver().await);
        assert_eq!((path.status().await.as_str(), path.emails().await), ("sent", 1));
        reliability(scenario, "one SES attempt, claim released, handed back; next delivery: 1 email, `sent`");
    }
}

#[tokio::test]
async fn ses_rejecting_for_good_marks_the_invitation_failed() {
    let path = EmailPath::new().await;
    path.ses.inject("SendEmail", Fault::Reject, 1);
    assert!(!path.deliver().await, "not retried");
    let invitation = path.invitation().await;
    assert_eq!(invitation["delivery_status"], "failed");
    assert!(invitation["delivery_reason"].as_str().unwrap().contains("not verified"), "{invitation}");
    assert_eq!(path.emails().await, 0);
    reliability("SES rejects the message (MessageRejected)", "`failed` with SES's reason, acknowledged, no email");
}

#[tokio::test]
async fn the_store_failing_after_ses_accepted_is_the_documented_window() {
    let path = EmailPath::new().await;
    // The claim goes through; every write of the outcome fails (all its rounds and attempts).
    path.dynamodb.inject_after("TransactWriteItems", 1, Fault::ServerError, 100);
    assert!(path.deliver().await, "handed back: the outcome is not recorded");
    path.dynamodb.clear();
    assert_eq!((path.status().await.as_str(), path.emails().await), ("sending", 1));
    assert!(path.deliver().await, "the claim's lease still holds: deferred, not dropped");
    assert_eq!(path.emails().await, 1);
    path.after_the_lease();
    assert!(!path.deliver().await);
    assert_eq!((path.status().await.as_str(), path.emails().await), ("sent", 2));
    reliability(
        "DynamoDB fails every write of the outcome after SES accepted",
        "handed back, deferred while the lease holds, sent again after it: 2 emails (the documented window), `sent`",
    );
}

#[tokio::test]
async fn a_sender_dying_after_its_claim() {
    let path = EmailPath::new().await;
    path.ses.inject("SendEmail", Fault::Hang, 1);
    path.deliver_and_die(|| path.ses.count("SendEmail") == 1).await;
    assert_eq!((path.status().await.as_str(), path.emails().await), ("sending", 0));
    assert!(path.deliver().await, "a live claim defers the redelivery");
    assert_eq!(path.emails().await, 0);
    path.after_the_lease();
    assert!(!path.deliver().await);
    assert_eq!((path.status().await.as_str(), path.emails().await), ("sent", 1));
    reliability(
        "the sender dies after its claim, before SES",
        "redelivery deferred while the lease holds, then 1 email, `sent`",
    );
}

#[tokio::test]
async fn a_sender_dying_after_ses_accepted() {
    for (scenario, dies) in [
        ("the sender dies after SES accepted the email", true),
        ("the sender dies before it records the outcome", false),
    ] {
        let path = EmailPath::new().await;
        if dies {
            path.ses.inject("SendEmail", Fault::ForwardThenHang, 1);
            path.deliver_and_die(|| path.ses.done("SendEmail") == 1).await;
        } else {
            path.dynamodb.inject_after("TransactWriteItems", 1, Fault::Hang, 1);
            path.deliver_and_die(|| path.dynamodb.count("TransactWriteItems") == 2).await;
        }
        assert_eq!((path.status().await.as_str(), path.emails().await), ("sending", 1), "{scenario}");
        path.after_the_lease();
        assert!(!path.deliver().await);
        assert_eq!((path.status().await.as_str(), path.emails().await), ("sent", 2), "{scenario}");
        reliability(scenario, "sent again after the lease: 2 emails (the documented window), `sent`");
    }
}

#[tokio::test]
async fn ses_failing_on_every_attempt_ends_failed_not_queued() {
    let api = Api::new().await;
    let ses = FaultProxy::start(&moto_endpoint()).await;
    ses.inject("SendEmail", Fault::Throttle, 100);
    let (queue, dlq) = queue_with_dlq(&api.sqs, send_invitation_email::MAX_RECEIVES).await;
    let mailer =
        SesMailer::new(function_ses_client(&function_config(&ses.url, SHORT_TIMEOUTS)), verified_sender().await, None);
    let delivery = EmailDelivery::new(
        api.store.clone(),
        api.clock.clone(),
        Settings::default(),
        Arc::new(mailer),
        EmailTemplates::default(),
    );
    let delays = Arc::new(Delays::default());
    let sender = Sender { delivery, redelivery: delays.clone() };
    let (owner, pid) = api.project().await;
    let id = api.invite(&owner, &pid, &unique_email("throttled"), "editor").await;
    let message = api.queued().await.remove(0);
    api.sqs
        .send_message()
        .queue_url(&queue)
        .message_body(serde_json::to_string(&message).unwrap())
        .send()
        .await
        .unwrap();
    let mut receives = 0;
    for _ in 0..20 {
        receives += poll_once(&api.sqs, &queue, |event| async { handle(&sender, event).await.unwrap() }).await;
        if receives as u32 >= send_invitation_email::MAX_RECEIVES {
            break;
        }
    }
    assert_eq!(receives as u32, send_invitation_email::MAX_RECEIVES);
    // Each failed receive asked for a longer wait before the next (the last one, recorded as
    // failed, asks for none).
    let waits = delays.0.lock().unwrap().clone();
    assert_eq!(waits.len() as u32, send_invitation_email::MAX_RECEIVES - 1, "{waits:?}");
    assert!(waits.windows(2).all(|w| w[1] > w[0]), "growing: {waits:?}");
    assert_eq!(ses.count("SendEmail") as u32, send_invitation_email::MAX_RECEIVES, "one attempt per receive");
    let invitation =
        api.call("GET", &format!("/api/v1/projects/{pid}/invitations/{id}"), None, Some(&owner)).await.body;
    assert_eq!(invitation["delivery_status"], "failed", "{invitation}");
    assert!(invitation["delivery_reason"].as_str().unwrap().starts_with("Gave up after the last attempt"));
    assert!(drain_queue(&api.sqs, &queue).await.is_empty() && drain_queue(&api.sqs, &dlq).await.is_empty());
    reliability(
        "SES throttles every attempt",
        "5 receives, each delayed longer (ChangeMessageVisibility), one SES attempt each; then `failed` with the reason, resendable",
    );
}

#[tokio::test]
async fn a_delayed_message_stays_hidden_on_sqs_for_the_delay() {
    let api = Api::new().await;
    let (queue, _) = queue_with_dlq(&api.sqs, 5).await;
    api.sqs.send_message().queue_url(&queue).message_body("later").send().await.unwrap();
    let received = api.sqs.receive_message().queue_url(&queue).send().await.unwrap().messages.unwrap_or_default();
    let receipt = received[0].receipt_handle.clone().unwrap();
    // The sender's queue, whose client is built by this first call.
    let sqs = api.sqs.clone();
    LazySqsQueue::new(move || sqs.clone(), queue.clone()).delay(&receipt, Duration::from_secs(60)).await.unwrap();
    // The queue's own visibility timeout is 0: without the delay the message would be back now.
    let again = api.sqs.receive_message().queue_url(&queue).send().await.unwrap().messages.unwrap_or_default();
    assert!(again.is_empty());
}

#[tokio::test]
async fn a_message_that_can_never_be_processed_reaches_the_dlq() {
    let api = Api::new().await;
    let (queue, dlq) = queue_with_dlq(&api.sqs, 2).await;
    let mailer = SesMailer::new(ses_client(), verified_sender().await, None);
    let delivery = EmailDelivery::new(
        api.store.clone(),
        api.clock.clone(),
        Settings::default(),
        Arc::new(mailer),
        EmailTemplates::default(),
    );
    let sender = Sender { delivery, redelivery: Arc::new(Delays::default()) };
    api.sqs.send_message().queue_url(&queue).message_body("{\"not\": \"a send request\"}").send().await.unwrap();
    for _ in 0..4 {
        poll_once(&api.sqs, &queue, |event| async { handle(&sender, event).await.unwrap() }).await;
    }
    assert_eq!(drain_queue(&api.sqs, &dlq).await.len(), 1);
    reliability("a malformed send request", "never acknowledged; in the DLQ after maxReceiveCount");
}

/// Sign-up: `count` pending invitations for one new user, in as many projects.
async fn invited_to(api: &Api, count: usize, email: &str) -> Vec<String> {
    let owner = user("owner");
    let mut projects = Vec::new();
    for i in 0..count {
        let reply = api
            .call("POST", "/api/v1/projects", Some(serde_json::json!({"name": format!("P{i}")})), Some(&owner))
            .await;
        let pid = reply.body["id"].as_str().unwrap().to_owned();
        api.invite(&owner, &pid, email, "editor").await;
        projects.push(pid);
    }
    projects
}

async fn member_of(api: &Api, who: &Caller, projects: &[String]) -> usize {
    let mut count = 0;
    for pid in projects {
        if api.call("GET", &format!("/api/v1/projects/{pid}"), None, Some(who)).await.status == 200 {
            count += 1;
        }
    }
    count
}

#[tokio::test]
async fn a_sign_up_whose_writes_hang_after_the_first_batch_is_finished_by_the_reconciler() {
    let api = Api::with_settings(quotas(1000, 1000, 1000, 1000)).await;
    let email = unique_email("many");
    let projects = invited_to(&api, 25, &email).await;
    let dynamodb = FaultProxy::start(&dynamodb_endpoint()).await;
    // The first batch's write goes through; every write after it hangs, retries included (with a
    // fixed number of hangs, a slow first write that timed out let a later retry through).
    dynamodb.inject_after("TransactWriteItems", 1, Fault::Hang, usize::MAX);
    let hung = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&function_config(&dynamodb.url, SHORT_TIMEOUTS)),
        api.store.table(),
    );
    let reconcile_url = sqs_queue(&api.sqs).await;
    let trigger = post_confirmation::Trigger {
        app: Invitations::new(Arc::new(hung), api.clock.clone(), Settings::default()),
        reconcile_queue: Arc::new(SqsQueue::new(api.sqs.clone(), reconcile_url.clone())),
        deadline: post_confirmation::ACCEPT_DEADLINE,
    };
    let sub = format!("sub-{}", uuid::Uuid::new_v4().simple());
    let outcome = trigger.on_confirmation(&cognito_event("PostConfirmation_ConfirmSignUp", &sub, &email, true)).await;
    assert_eq!(outcome, post_confirmation::Outcome::Deferred);
    let who = Caller { user_id: user_id(&sub), email: Some(email.clone()), email_verified: true };
    // The two batches (16 and 9) run at once: whichever wrote first committed, all or nothing.
    // On a slow host the first write can time out before it reaches DynamoDB: then none did.
    let before = member_of(&api, &who, &projects).await;
    assert!([0, 9, 16].contains(&before), "one whole batch or none: {before}");
    let handed_off = drain_queue(&api.sqs, &reconcile_url).await;
    assert_eq!(handed_off.len(), 1);
    let batch = reconcile_signups::handle(&api.app, sqs_event(&[("r1".into(), handed_off[0].clone())])).await.unwrap();
    assert!(batch.batch_item_failures.is_empty());
    assert_eq!(member_of(&api, &who, &projects).await, 25);
    assert!(api.call("GET", "/api/v1/me/invitations", None, Some(&who)).await.body.as_array().unwrap().is_empty());
    reliability(
        "DynamoDB hangs on the second of the sign-up's batches (16 + 9)",
        "one batch commits whole, the trigger hands off; the reconciler accepts the rest: 25 memberships, none twice",
    );
}

#[tokio::test]
async fn a_reconciler_dying_mid_way_is_redelivered_and_finishes() {
    let api = Api::new().await;
    let email = unique_email("reconciled");
    let projects = invited_to(&api, 3, &email).await;
    let sub = format!("sub-{}", uuid::Uuid::new_v4().simple());
    let body = serde_json::json!({"user_id": sub, "email": email}).to_string();
    let dynamodb = FaultProxy::start(&dynamodb_endpoint()).await;
    dynamodb.inject("TransactWriteItems", Fault::Hang, 10);
    let hung = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&function_config(&dynamodb.url, SHORT_TIMEOUTS)),
        api.store.table(),
    );
    let dying = Invitations::new(Arc::new(hung), api.clock.clone(), Settings::default());
    let died = tokio::time::timeout(
        Duration::from_millis(300),
        reconcile_signups::handle(&dying, sqs_event(&[("r".into(), body.clone())])),
    );
    assert!(died.await.is_err());
    let batch = reconcile_signups::handle(&api.app, sqs_event(&[("r".into(), body)])).await.unwrap();
    assert!(batch.batch_item_failures.is_empty());
    let who = Caller { user_id: user_id(&sub), email: Some(email), email_verified: true };
    assert_eq!(member_of(&api, &who, &projects).await, 3);
    reliability("the reconciler dies mid-way", "the message comes back; the rerun accepts all 3, idempotently");
}

#[tokio::test]
async fn acceptances_that_keep_losing_their_race_are_handed_off_not_skipped() {
    let api = Api::new().await;
    let email = unique_email("contended");
    let projects = invited_to(&api, 2, &email).await;
    let dynamodb = FaultProxy::start(&dynamodb_endpoint()).await;
    dynamodb.inject("TransactWriteItems", Fault::ConditionFailed, 100);
    let contended = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&function_config(&dynamodb.url, SHORT_TIMEOUTS)),
        api.store.table(),
    );
    let reconcile_url = sqs_queue(&api.sqs).await;
    let trigger = post_confirmation::Trigger {
        app: Invitations::new(Arc::new(contended), api.clock.clone(), Settings::default()),
        reconcile_queue: Arc::new(SqsQueue::new(api.sqs.clone(), reconcile_url.clone())),
        deadline: post_confirmation::ACCEPT_DEADLINE,
    };
    let sub = format!("sub-{}", uuid::Uuid::new_v4().simple());
    let outcome = trigger.on_confirmation(&cognito_event("PostConfirmation_ConfirmSignUp", &sub, &email, true)).await;
    assert_eq!(outcome, post_confirmation::Outcome::Deferred, "not counted as skipped");
    let handed_off = drain_queue(&api.sqs, &reconcile_url).await;
    reconcile_signups::handle(&api.app, sqs_event(&[("r".into(), handed_off[0].clone())])).await.unwrap();
    let who = Caller { user_id: user_id(&sub), email: Some(email), email_verified: true };
    assert_eq!(member_of(&api, &who, &projects).await, 2);
    reliability(
        "every acceptance write loses its condition (another writer each time)",
        "after the retries the sign-up is handed to the reconcile queue, never counted as skipped; the reconciler accepts both",
    );
}
