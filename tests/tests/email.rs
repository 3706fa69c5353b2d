//! The sender against moto SES v2 and DynamoDB Local: every test counts the emails really sent.

use integration_tests::*;
use invitations::mail::ses::SesMailer;
use invitations::mail::templates::EmailTemplates;
use invitations::mail::Mailer;
use invitations::queue::SendInvitationEmail;
use invitations::service::{EmailDelivery, SendOutcome};
use send_invitation_email::{handle, Sender};
use serde_json::json;
use std::sync::Arc;
use time::Duration;

async fn sender(api: &Api, templates: EmailTemplates) -> Sender {
    let mailer = SesMailer::new(ses_client(), verified_sender().await, Some("invitations".into()));
    sender_with(api, mailer, templates)
}

/// A sender over the API's table and clock, sending through `mailer`.
fn sender_with(api: &Api, mailer: impl Mailer + 'static, templates: EmailTemplates) -> Sender {
    let settings = api.app.settings().clone();
    let delivery = EmailDelivery::new(api.store.clone(), api.clock.clone(), settings, Arc::new(mailer), templates);
    let sqs = api.sqs.clone();
    let email_queue = invitations::queue::sqs::LazySqsQueue::new(move || sqs.clone(), api.queue_url.clone());
    Sender { delivery, redelivery: Arc::new(email_queue) }
}

/// Creates a project and an invitation to a fresh address; returns the queued message.
async fn invited(api: &Api) -> (invitations::Caller, String, String, SendInvitationEmail) {
    let (owner, pid) = api.project().await;
    let email = unique_email("invitee");
    api.invite(&owner, &pid, &email, "editor").await;
    let mut queued = api.queued().await;
    assert_eq!(queued.len(), 1);
    (owner, pid, email, queued.remove(0))
}

fn body(message: &SendInvitationEmail) -> String {
    serde_json::to_string(message).unwrap()
}

async fn invitation(api: &Api, owner: &invitations::Caller, message: &SendInvitationEmail) -> serde_json::Value {
    let path = format!("/api/v1/projects/{}/invitations/{}", message.project_id, message.invitation_id);
    api.call("GET", &path, None, Some(owner)).await.body
}

#[tokio::test]
async fn one_invitation_sends_one_email_with_its_link() {
    let api = Api::new().await;
    let sender = sender(&api, EmailTemplates::default()).await;
    let (owner, _, email, message) = invited(&api).await;
    let response = handle(&sender, sqs_event(&[("m1".into(), body(&message))])).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    let sent = emails_sent_to(&email).await;
    assert_eq!(sent.len(), 1, "exactly one email");
    let html = sent[0]["body"].as_str().unwrap();
    assert!(html.contains(&format!("invitation_id={}", message.invitation_id)), "{html}");
    assert!(html.contains(&Settings::default().invitation_url));
    let subject = sent[0]["subject"].as_str().unwrap();
    assert!(subject.contains("Survey") && subject.contains(owner.email.as_deref().unwrap()), "{subject}");
    let stored = invitation(&api, &owner, &message).await;
    assert_eq!((stored["delivery_status"].as_str(), stored["send_count"].as_u64()), (Some("sent"), Some(1)));
}

use invitations::Settings;

#[tokio::test]
async fn an_invitation_without_its_inviters_address_names_them_from_their_membership() {
    use invitations::domain::{Actor, Event, Invitation, InvitationRecord};
    use invitations::store::{Store, Transition};
    let api = Api::new().await;
    let sender = sender(&api, EmailTemplates::default()).await;
    let (owner, _, email, message) = invited(&api).await;
    // As an invitation written before invitations carried their inviter's address.
    let key = (message.project_id.clone(), message.invitation_id);
    let stored = api.store.invitations_by_key(&[key]).await.unwrap().remove(0);
    let record = InvitationRecord { invited_by_email: None, version: stored.version + 1, ..(*stored).clone() };
    let older = Invitation::restore(record);
    let event = Event::transition(&stored, &older, &Actor::System, api.app.now());
    api.store.save(Transition { from: &stored, to: &older, event: &event, claims: &[] }).await.unwrap();
    let response = handle(&sender, sqs_event(&[("m1".into(), body(&message))])).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    let sent = emails_sent_to(&email).await;
    let subject = sent[0]["subject"].as_str().unwrap();
    assert!(subject.starts_with(owner.email.as_deref().unwrap()), "{subject}");
}

#[tokio::test]
async fn the_same_batch_delivered_twice_sends_once() {
    let api = Api::new().await;
    let sender = sender(&api, EmailTemplates::default()).await;
    let (owner, _, email, message) = invited(&api).await;
    for _ in 0..2 {
        let response = handle(&sender, sqs_event(&[("m1".into(), body(&message))])).await.unwrap();
        assert!(response.batch_item_failures.is_empty());
    }
    assert_eq!(emails_sent_to(&email).await.len(), 1);
    assert_eq!(invitation(&api, &owner, &message).await["send_count"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_deliveries_of_one_message_send_once() {
    let api = Api::new().await;
    let sender = Arc::new(sender(&api, EmailTemplates::default()).await);
    let (owner, _, email, message) = invited(&api).await;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (sender, body) = (sender.clone(), body(&message));
            tokio::spawn(async move { handle(&sender, sqs_event(&[(format!("m{i}"), body)])).await.unwrap() })
        })
        .collect();
    // A delivery that finds another one holding the send is handed back, not dropped: the holder
    // might die before it sends.
    let mut deferred = 0;
    for task in tasks {
        deferred += task.await.unwrap().batch_item_failures.len();
    }
    let sent = emails_sent_to(&email).await.len();
    println!("10 concurrent deliveries of one message: {sent} email(s) sent, {deferred} handed back");
    assert_eq!(sent, 1);
    // Redelivered once the send is done, they find nothing left to do and are acknowledged.
    for i in 0..deferred {
        let again = handle(&sender, sqs_event(&[(format!("r{i}"), body(&message))])).await.unwrap();
        assert!(again.batch_item_failures.is_empty());
    }
    assert_eq!(emails_sent_to(&email).await.len(), 1);
    assert_eq!(invitation(&api, &owner, &message).await["send_count"], 1);
}

#[tokio::test]
async fn a_revoked_or_superseded_invitation_is_not_sent() {
    let api = Api::new().await;
    let sender = sender(&api, EmailTemplates::default()).await;
    let (owner, pid, email, message) = invited(&api).await;
    let revoke = api
        .call(
            "POST",
            &format!("/api/v1/projects/{pid}/revoke-invitation"),
            Some(json!({"invitation_id": message.invitation_id})),
            Some(&owner),
        )
        .await;
    assert_eq!(revoke.status, 200);
    assert_eq!(sender.send(&body(&message)).await.unwrap(), SendOutcome::Skipped);
    assert!(emails_sent_to(&email).await.is_empty());
    // A message from before an address change is stale: only the new address is emailed.
    let (owner, pid, old_email, old_message) = invited(&api).await;
    let new_email = unique_email("moved");
    let put = api
        .call(
            "PUT",
            &format!("/api/v1/projects/{pid}/invitations"),
            Some(json!({"invitation_id": old_message.invitation_id, "email": new_email})),
            Some(&owner),
        )
        .await;
    assert_eq!(put.status, 200);
    let new_message = api.queued().await.remove(0);
    let response =
        handle(&sender, sqs_event(&[("old".into(), body(&old_message)), ("new".into(), body(&new_message))]))
            .await
            .unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert!(emails_sent_to(&old_email).await.is_empty());
    assert_eq!(emails_sent_to(&new_email).await.len(), 1);
}

#[tokio::test]
async fn a_malformed_record_is_reported_and_the_good_ones_are_sent() {
    let api = Api::new().await;
    let sender = sender(&api, EmailTemplates::default()).await;
    let (_, _, first_email, first) = invited(&api).await;
    let (_, _, second_email, second) = invited(&api).await;
    let event = sqs_event(&[
        ("good-1".into(), body(&first)),
        ("bad".into(), "{not json".into()),
        ("good-2".into(), body(&second)),
    ]);
    let response = handle(&sender, event).await.unwrap();
    let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, vec!["bad"]);
    assert_eq!(emails_sent_to(&first_email).await.len(), 1);
    assert_eq!(emails_sent_to(&second_email).await.len(), 1);
}

#[tokio::test]
async fn a_transient_ses_failure_is_retried_then_sent_once() {
    let api = Api::new().await;
    let (owner, _, email, message) = invited(&api).await;
    // SES unreachable: a listener that is closed at once.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let unreachable = aws_sdk_sesv2::Client::new(&sdk_config(&closed));
    let down = sender_with(&api, SesMailer::new(unreachable, verified_sender().await, None), EmailTemplates::default());
    let response = handle(&down, sqs_event(&[("m1".into(), body(&message))])).await.unwrap();
    assert_eq!(response.batch_item_failures.len(), 1, "the message is handed back for a retry");
    let stored = invitation(&api, &owner, &message).await;
    assert_eq!((stored["delivery_status"].as_str(), stored["send_count"].as_u64()), (Some("queued"), Some(0)));
    assert!(stored["delivery_reason"].is_string());
    let up = sender(&api, EmailTemplates::default()).await;
    let response = handle(&up, sqs_event(&[("m1".into(), body(&message))])).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(emails_sent_to(&email).await.len(), 1);
    assert_eq!(invitation(&api, &owner, &message).await["delivery_status"], "sent");
}

#[tokio::test]
async fn a_permanent_failure_marks_the_invitation_failed_without_retrying() {
    let api = Api::new().await;
    let (owner, _, email, message) = invited(&api).await;
    // SES refuses mail from an unverified identity: a permanent rejection.
    let rejecting =
        sender_with(&api, SesMailer::new(ses_client(), unique_email("unverified"), None), EmailTemplates::default());
    let response = handle(&rejecting, sqs_event(&[("m1".into(), body(&message))])).await.unwrap();
    assert!(response.batch_item_failures.is_empty(), "not retried");
    let stored = invitation(&api, &owner, &message).await;
    assert_eq!(stored["delivery_status"], "failed");
    assert!(stored["delivery_reason"].as_str().unwrap().contains("not verified"), "{stored}");
    assert!(emails_sent_to(&email).await.is_empty());
    // The redelivered message does not try again.
    assert_eq!(rejecting.send(&body(&message)).await.unwrap(), SendOutcome::Skipped);
}

#[tokio::test]
async fn delivery_bounce_and_complaint_events_update_the_status() {
    let api = Api::new().await;
    let sender = sender(&api, EmailTemplates::default()).await;
    let mut sent = Vec::new();
    for _ in 0..2 {
        let (owner, pid, _, message) = invited(&api).await;
        let SendOutcome::Sent { message_id } = sender.send(&body(&message)).await.unwrap() else { panic!("not sent") };
        sent.push((owner, pid, message, message_id));
    }
    let (owner, pid, message, message_id) = &sent[0];
    let id = message.invitation_id.to_string();
    let events = |kind| sqs_event(&[("e".into(), ses_event(kind, message_id, pid, &id))]);
    assert!(ses_events::handle(&api.app.clone(), events("Delivery")).await.unwrap().batch_item_failures.is_empty());
    assert_eq!(invitation(&api, owner, message).await["delivery_status"], "delivered");
    ses_events::handle(&api.app.clone(), events("Bounce")).await.unwrap();
    let bounced = invitation(&api, owner, message).await;
    assert_eq!(bounced["delivery_status"], "bounced");
    assert!(bounced["delivery_reason"].as_str().unwrap().contains("Permanent"));
    // A resend to a bounced address is refused until the address changes.
    api.clock.advance(Duration::minutes(5));
    let resend_path = format!("/api/v1/projects/{pid}/resend-invitation");
    let refused = api.call("POST", &resend_path, Some(json!({"invitation_id": id})), Some(owner)).await;
    assert_eq!((refused.status, refused.code()), (409, "email_undeliverable"));
    let put = api
        .call(
            "PUT",
            &format!("/api/v1/projects/{pid}/invitations"),
            Some(json!({"invitation_id": id, "email": unique_email("fixed")})),
            Some(owner),
        )
        .await;
    assert_eq!((put.status, put.body["delivery_status"].as_str()), (200, Some("queued")));

    let (owner, pid, message, message_id) = &sent[1];
    let id = message.invitation_id.to_string();
    let stale = sqs_event(&[("e".into(), ses_event("Complaint", "some-older-message", pid, &id))]);
    ses_events::handle(&api.app.clone(), stale).await.unwrap();
    assert_eq!(
        invitation(&api, owner, message).await["delivery_status"],
        "sent",
        "events for other emails change nothing"
    );
    let complaint = sqs_event(&[("e".into(), ses_event("Complaint", message_id, pid, &id))]);
    ses_events::handle(&api.app.clone(), complaint).await.unwrap();
    assert_eq!(invitation(&api, owner, message).await["delivery_status"], "complained");
    let garbage = ses_events::handle(&api.app.clone(), sqs_event(&[("bad".into(), "nope".into())])).await.unwrap();
    assert_eq!(garbage.batch_item_failures.len(), 1);
}

#[tokio::test]
async fn a_reject_fails_the_invitation_and_a_late_event_for_an_earlier_send_changes_nothing() {
    let api = Api::new().await;
    let sender = sender(&api, EmailTemplates::default()).await;
    let (owner, pid, _, message) = invited(&api).await;
    let SendOutcome::Sent { message_id: first } = sender.send(&body(&message)).await.unwrap() else { panic!() };
    let id = message.invitation_id.to_string();
    // Resent: a new send is on its way when the first email's delivery event arrives.
    api.clock.advance(Duration::minutes(5));
    let resend = api.resend(&owner, &pid, &id).await;
    assert_eq!(resend.status, 200);
    let late = sqs_event(&[("e".into(), ses_event("Delivery", &first, &pid, &id))]);
    ses_events::handle(&api.app, late).await.unwrap();
    assert_eq!(invitation(&api, &owner, &message).await["delivery_status"], "queued", "the new send is untouched");
    let second = api.queued().await.remove(0);
    let SendOutcome::Sent { message_id } = sender.send(&body(&second)).await.unwrap() else { panic!() };
    let reject = sqs_event(&[("e".into(), ses_event("Reject", &message_id, &pid, &id))]);
    assert!(ses_events::handle(&api.app, reject).await.unwrap().batch_item_failures.is_empty());
    let rejected = invitation(&api, &owner, &message).await;
    assert_eq!(
        (rejected["delivery_status"].as_str(), rejected["delivery_reason"].as_str()),
        (Some("failed"), Some("Bad content"))
    );
}

#[tokio::test]
async fn crlf_in_a_subject_never_becomes_a_header() {
    let api = Api::new().await;
    let templates =
        EmailTemplates { subject: "Join {project}\r\nBcc: attacker@evil.com".into(), ..EmailTemplates::default() };
    let sender = sender(&api, templates).await;
    let (_, _, email, message) = invited(&api).await;
    sender.send(&body(&message)).await.unwrap();
    let sent = emails_sent_to(&email).await;
    assert_eq!(sent.len(), 1);
    let subject = sent[0]["subject"].as_str().unwrap();
    assert!(!subject.contains('\r') && !subject.contains('\n'), "{subject:?}");
    assert_eq!(subject, "Join Survey Bcc: attacker@evil.com");
    assert_eq!(sent[0]["destinations"], json!({"ToAddresses": [email]}), "no extra recipient");
}

#[tokio::test]
async fn a_quiet_invitation_queues_nothing_and_its_first_resend_sends_the_inviters_note() {
    let api = Api::new().await;
    let sender = sender(&api, EmailTemplates::default()).await;
    let (owner, pid) = api.project().await;
    let email = unique_email("quiet");
    let note = "Welcome! <script>alert(1)</script>\nSee you Monday & Tuesday.";
    let body = json!({"email": email, "role": "editor", "message": note, "send": false});
    let created = api.call("POST", &format!("/api/v1/projects/{pid}/invitations"), Some(body), Some(&owner)).await;
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.body["delivery_status"], "not_sent");
    assert_eq!(created.body["message"], note);
    assert!(created.body["invitation_url"].as_str().unwrap().starts_with("http"), "the link to share by hand");
    assert!(api.queued().await.is_empty(), "send: false asks for no email");

    let id = created.body["id"].as_str().unwrap();
    let resend = api.resend(&owner, &pid, id).await;
    assert_eq!(resend.status, 200, "the first email is no resend: no cooldown {resend:?}");
    let queued = api.queued().await;
    assert_eq!(queued.len(), 1);
    let response = handle(&sender, sqs_event(&[("m1".into(), serde_json::to_string(&queued[0]).unwrap())])).await;
    assert!(response.unwrap().batch_item_failures.is_empty());
    let sent = emails_sent_to(&email).await;
    assert_eq!(sent.len(), 1);
    let html = sent[0]["body"].as_str().unwrap();
    assert!(html.contains("Welcome! &lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    assert!(html.contains("See you Monday &amp; Tuesday.") && !html.contains("<script>"), "{html}");
}

#[tokio::test]
async fn a_note_over_500_characters_or_a_send_that_is_no_boolean_is_refused() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let path = format!("/api/v1/projects/{pid}/invitations");
    for (body, field) in [
        (json!({"email": unique_email("long"), "role": "editor", "message": "x".repeat(501)}), "message"),
        (json!({"email": unique_email("send"), "role": "editor", "send": "maybe"}), "send"),
    ] {
        let reply = api.call("POST", &path, Some(body), Some(&owner)).await;
        assert_eq!((reply.status, reply.body["field"].as_str()), (400, Some(field)), "{reply:?}");
    }
    assert!(api.queued().await.is_empty());
}
