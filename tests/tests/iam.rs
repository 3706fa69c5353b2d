//! IAM least privilege, proven: every function runs its paths, the successful ones and the error
//! paths that read or write something else (a quota used up, a conflict, a hand-off), with its
//! AWS clients behind a recording proxy. The permissions its calls need are exactly what
//! `template.yaml` grants it: nothing missing (an outage on the first such request in AWS),
//! nothing unused, no wildcard without its reason beside it.
//!
//! What the function's code calls is checked here; what Lambda's SQS poller and the pipes call
//! with the roles SAM and the template give them is not the functions' code.

use integration_tests::fault_proxy::{Fault, FaultProxy};
use integration_tests::iam::{self, Grant, Permission, Resources};
use integration_tests::*;
use invitations::clock::{Clock, ManualClock};
use invitations::mail::ses::SesMailer;
use invitations::mail::templates::EmailTemplates;
use invitations::queue::sqs::SqsQueue;
use invitations::sdk_config::ses_client as function_ses_client;
use invitations::service::{EmailDelivery, SendOutcome};
use invitations::store::dynamodb::DynamoStore;
use invitations::{Caller, Invitations, Settings};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use time::Duration;

/// One function's AWS clients, each behind its own recording proxy.
struct Recorded {
    dynamodb: FaultProxy,
    moto: FaultProxy,
}

impl Recorded {
    async fn start() -> Recorded {
        Recorded {
            dynamodb: FaultProxy::start(&dynamodb_endpoint()).await,
            moto: FaultProxy::start(&moto_endpoint()).await,
        }
    }

    fn store(&self, api: &Api) -> Arc<DynamoStore> {
        let client = aws_sdk_dynamodb::Client::new(&function_config(&self.dynamodb.url, SHORT_TIMEOUTS));
        Arc::new(DynamoStore::new(client, api.store.table()))
    }

    /// The service as this function builds it, with these settings.
    fn app(&self, api: &Api, settings: Settings) -> Invitations {
        Invitations::new(self.store(api), api.clock.clone(), settings)
    }

    /// Calls through this function's service, with these settings.
    fn through<'a>(&self, api: &'a Api, settings: Settings) -> Through<'a> {
        Through { api, app: self.app(api, settings) }
    }

    fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&function_config(&self.moto.url, SHORT_TIMEOUTS))
    }

    fn used(&self, resources: &Resources) -> BTreeSet<Permission> {
        let calls: Vec<_> = self.dynamodb.calls().into_iter().chain(self.moto.calls()).collect();
        iam::permissions_used(&calls, resources)
    }
}

/// Calls through the function under test (`app`); the setup goes through `api`.
struct Through<'a> {
    api: &'a Api,
    app: Invitations,
}

impl Through<'_> {
    async fn call(&self, method: &str, path: &str, body: Option<Value>, who: &Caller) -> u16 {
        let body = body.map(|b| b.to_string());
        self.api.call_raw(&self.app, method, path, body.as_deref(), Some(who)).await.status
    }
}

/// Runs every API function's paths; returns the permissions each used, by binary.
async fn api_functions(api: &Api, resources: &Resources) -> BTreeMap<String, BTreeSet<Permission>> {
    let mut used = BTreeMap::new();
    let (owner, pid) = api.project().await;
    let stranger = user("stranger");
    let editor = api.member(&owner, &pid, "editor").await;
    let project = format!("/api/v1/projects/{pid}");
    let missing = format!("/api/v1/projects/{}", uuid::Uuid::now_v7());
    let tight = quotas(1, 1, 1, 1);

    let f = Recorded::start().await;
    let (run, run_tight) = (f.through(api, Settings::default()), f.through(api, tight.clone()));
    let creator = user("creator");
    assert_eq!(run_tight.call("POST", "/api/v1/projects", Some(json!({"name": "A"})), &creator).await, 201);
    // The only slot is taken: the quota reads which are, and refuses.
    assert_eq!(run_tight.call("POST", "/api/v1/projects", Some(json!({"name": "B"})), &creator).await, 429);
    assert_eq!(run.call("POST", "/api/v1/projects", Some(json!({"name": ""})), &creator).await, 400);
    used.insert("create-project".to_owned(), f.used(resources));

    let f = Recorded::start().await;
    let run = f.through(api, Settings::default());
    assert_eq!(run.call("GET", &project, None, &owner).await, 200);
    assert_eq!(run.call("GET", &project, None, &stranger).await, 404);
    assert_eq!(run.call("GET", &missing, None, &owner).await, 404);
    used.insert("get-project".to_owned(), f.used(resources));

    let f = Recorded::start().await;
    let run = f.through(api, Settings::default());
    assert_eq!(run.call("GET", &format!("{project}/members"), None, &owner).await, 200);
    assert_eq!(run.call("GET", &format!("{project}/members"), None, &stranger).await, 404);
    used.insert("list-members".to_owned(), f.used(resources));

    let invited = api.invite(&owner, &pid, &unique_email("listed"), "readonly").await;
    let f = Recorded::start().await;
    let run = f.through(api, Settings::default());
    let filters = ["", "?status=1", "?limit=1", "?delivery_status=queued", "?status=1&delivery_status=bounced,queued"];
    for query in filters.into_iter().chain([format!("?email={}", unique_email("anyone")).as_str()]) {
        assert_eq!(run.call("GET", &format!("{project}/invitations{query}"), None, &owner).await, 200);
    }
    assert_eq!(run.call("GET", &format!("{project}/invitations"), None, &stranger).await, 404);
    assert_eq!(run.call("GET", &format!("{project}/invitations"), None, &editor).await, 403);
    used.insert("list-invitations".to_owned(), f.used(resources));

    let f = Recorded::start().await;
    let run = f.through(api, Settings::default());
    let both = format!("?type=invitation.created&invitation_id={invited}");
    for query in ["", "?type=invitation.created", &format!("?invitation_id={invited}"), &both] {
        assert_eq!(run.call("GET", &format!("{project}/events{query}"), None, &owner).await, 200);
    }
    assert_eq!(run.call("GET", &format!("{project}/events"), None, &stranger).await, 404);
    used.insert("list-events".to_owned(), f.used(resources));

    let f = Recorded::start().await;
    let (run, run_tight) = (f.through(api, Settings::default()), f.through(api, tight.clone()));
    let invite = |email: &str| Some(json!({"email": email, "role": "readonly"}));
    let (inviter, own) = api.project().await;
    let own_invitations = format!("/api/v1/projects/{own}/invitations");
    let taken = unique_email("taken");
    assert_eq!(run.call("POST", &format!("{project}/invitations"), invite(&taken), &owner).await, 201);
    assert_eq!(run.call("POST", &format!("{project}/invitations"), invite(&taken), &owner).await, 409);
    assert_eq!(run_tight.call("POST", &own_invitations, invite(&unique_email("first")), &inviter).await, 201);
    assert_eq!(run_tight.call("POST", &own_invitations, invite(&unique_email("second")), &inviter).await, 429);
    // An expired invitation's address is invited again, two weeks on: the new invitation retires
    // the old and frees the address slot the old one held (unless it picked that very slot).
    let later = Arc::new(ManualClock::new(api.clock.now() + Duration::days(15)));
    let later_app = Invitations::new(f.store(api), later.clone(), Settings::default());
    let run_later = Through { api, app: later_app };
    for _ in 0..3 {
        let lapsed = unique_email("lapsed");
        api.invite(&inviter, &own, &lapsed, "readonly").await;
        assert_eq!(run_later.call("POST", &own_invitations, invite(&lapsed), &inviter).await, 201);
        if f.dynamodb.calls().iter().any(|call| call.body.to_string().contains("\"Delete\"")) {
            break;
        }
    }
    assert_eq!(run.call("POST", &format!("{project}/invitations"), invite("not an address"), &owner).await, 400);
    assert_eq!(run.call("POST", &format!("{project}/invitations"), invite(&unique_email("x")), &stranger).await, 404);
    used.insert("create-invitation".to_owned(), f.used(resources));

    let f = Recorded::start().await;
    let run = f.through(api, Settings::default());
    let bulk = format!("{project}/invitations/bulk");
    let rows = json!([{"email": unique_email("bulk"), "role": "readonly"}, {"email": taken, "role": "readonly"}]);
    assert_eq!(run.call("POST", &format!("{bulk}?dry_run=true"), Some(rows.clone()), &owner).await, 200);
    assert_eq!(run.call("POST", &bulk, Some(rows), &owner).await, 200);
    // An expired invitation's address, in a bulk two weeks on: retired as a single create retires it.
    let run_later = Through { api, app: Invitations::new(f.store(api), later.clone(), Settings::default()) };
    for _ in 0..3 {
        let lapsed = unique_email("lapsed");
        api.invite(&inviter, &own, &lapsed, "readonly").await;
        let rows = json!([{"email": lapsed, "role": "readonly"}]);
        assert_eq!(run_later.call("POST", &format!("{own_invitations}/bulk"), Some(rows), &inviter).await, 200);
        if f.dynamodb.calls().iter().any(|call| call.body.to_string().contains("\"Delete\"")) {
            break;
        }
    }
    assert_eq!(run.call("POST", &bulk, Some(json!([])), &stranger).await, 404);
    used.insert("bulk-invite".to_owned(), f.used(resources));

    let f = Recorded::start().await;
    let (run, run_tight) = (f.through(api, Settings::default()), f.through(api, tight.clone()));
    let change = |id: &str, email: String| Some(json!({"invitation_id": id, "email": email}));
    assert_eq!(
        run.call("PUT", &format!("{project}/invitations"), change(&invited, unique_email("new")), &owner).await,
        200
    );
    let other = api.invite(&owner, &pid, &unique_email("other"), "readonly").await;
    assert_eq!(run.call("PUT", &format!("{project}/invitations"), change(&other, taken.clone()), &owner).await, 409);
    let role = Some(json!({"invitation_id": other, "role": "manager"}));
    assert_eq!(run.call("PUT", &format!("{project}/invitations"), role, &owner).await, 200);
    // A new address counts as a send: the tight quota's only slot is free or taken by the first
    // send; the second move finds it taken and reads the slots.
    let (tight_owner, tight_project) = api.project().await;
    let first = api.invite(&tight_owner, &tight_project, &unique_email("first"), "readonly").await;
    let path = format!("/api/v1/projects/{tight_project}/invitations");
    let moved = run_tight.call("PUT", &path, change(&first, unique_email("moved")), &tight_owner).await;
    assert!([200, 429].contains(&moved), "{moved}");
    assert_eq!(run_tight.call("PUT", &path, change(&first, unique_email("again")), &tight_owner).await, 429);
    let nobody = uuid::Uuid::now_v7().to_string();
    assert_eq!(
        run.call("PUT", &format!("{project}/invitations"), change(&nobody, unique_email("n")), &owner).await,
        404
    );
    used.insert("update-invitation".to_owned(), f.used(resources));

    let f = Recorded::start().await;
    let run = f.through(api, Settings::default());
    assert_eq!(run.call("GET", &format!("{project}/invitations/{invited}"), None, &owner).await, 200);
    assert_eq!(run.call("GET", &format!("{project}/invitations/{nobody}"), None, &owner).await, 404);
    assert_eq!(run.call("GET", &format!("{project}/invitations/{invited}"), None, &stranger).await, 404);
    used.insert("get-invitation".to_owned(), f.used(resources));

    let f = Recorded::start().await;
    let (run, run_tight) = (f.through(api, Settings::default()), f.through(api, tight.clone()));
    let resend = |id: &str| Some(json!({"invitation_id": id}));
    let third = api.invite(&owner, &pid, &unique_email("third"), "readonly").await;
    api.clock.advance(Duration::minutes(5));
    assert_eq!(run.call("POST", &format!("{project}/resend-invitation"), resend(&invited), &owner).await, 200);
    assert_eq!(run.call("POST", &format!("{project}/resend-invitation"), resend(&invited), &owner).await, 429);
    // The only slot of the tight quota is free or taken by an earlier send; the second is refused.
    let first = run_tight.call("POST", &format!("{project}/resend-invitation"), resend(&other), &owner).await;
    assert!([200, 429].contains(&first), "{first}");
    assert_eq!(run_tight.call("POST", &format!("{project}/resend-invitation"), resend(&third), &owner).await, 429);
    assert_eq!(run.call("POST", &format!("{project}/resend-invitation"), resend(&nobody), &owner).await, 404);
    used.insert("resend-invitation".to_owned(), f.used(resources));

    let f = Recorded::start().await;
    let run = f.through(api, Settings::default());
    let revoke = |id: &str| Some(json!({"invitation_id": id}));
    assert_eq!(run.call("POST", &format!("{project}/revoke-invitation"), revoke(&other), &owner).await, 200);
    assert_eq!(run.call("POST", &format!("{project}/revoke-invitation"), revoke(&other), &owner).await, 409);
    assert_eq!(run.call("POST", &format!("{project}/revoke-invitation"), revoke(&nobody), &owner).await, 404);
    used.insert("revoke-invitation".to_owned(), f.used(resources));

    let invitee = user_with_email(&unique_email("invitee"));
    let (first, second) = (
        api.invite(&owner, &pid, invitee.email.as_deref().unwrap(), "editor").await,
        api.invite(&inviter, &own, invitee.email.as_deref().unwrap(), "readonly").await,
    );
    let f = Recorded::start().await;
    let run = f.through(api, Settings::default());
    assert_eq!(run.call("GET", "/api/v1/me/invitations", None, &invitee).await, 200);
    assert_eq!(run.call("GET", "/api/v1/me/invitations?limit=1", None, &invitee).await, 200);
    used.insert("my-invitations".to_owned(), f.used(resources));

    let f = Recorded::start().await;
    let run = f.through(api, Settings::default());
    assert_eq!(run.call("POST", &format!("{project}/invitations/{first}/accept"), None, &stranger).await, 404);
    assert_eq!(run.call("POST", &format!("{project}/invitations/{first}/accept"), None, &invitee).await, 200);
    assert_eq!(run.call("POST", &format!("{project}/invitations/{first}/accept"), None, &invitee).await, 409);
    assert_eq!(run.call("POST", &format!("{project}/invitations/{nobody}/accept"), None, &invitee).await, 404);
    // Invited again with a lower role: accepting keeps the higher one, checked as it commits.
    let again = api.invite(&owner, &pid, invitee.email.as_deref().unwrap(), "readonly").await;
    assert_eq!(run.call("POST", &format!("{project}/invitations/{again}/accept"), None, &invitee).await, 200);
    used.insert("accept-invitation".to_owned(), f.used(resources));

    let f = Recorded::start().await;
    let run = f.through(api, Settings::default());
    let own_path = format!("/api/v1/projects/{own}/invitations");
    assert_eq!(run.call("POST", &format!("{own_path}/{second}/decline"), None, &stranger).await, 404);
    assert_eq!(run.call("POST", &format!("{own_path}/{second}/decline"), None, &invitee).await, 200);
    assert_eq!(run.call("POST", &format!("{own_path}/{second}/decline"), None, &invitee).await, 409);
    used.insert("decline-invitation".to_owned(), f.used(resources));

    let (owner, pid) = api.project().await;
    let (manager, editor) = (api.member(&owner, &pid, "manager").await, api.member(&owner, &pid, "editor").await);
    let member = |who: &Caller| format!("/api/v1/projects/{pid}/members/{}", who.user_id);
    let role = |role: &str| Some(json!({"role": role}));
    let f = Recorded::start().await;
    let run = f.through(api, Settings::default());
    assert_eq!(run.call("PATCH", &member(&editor), role("readonly"), &manager).await, 200);
    assert_eq!(run.call("PATCH", &member(&editor), role("boss"), &editor).await, 403);
    // The last owner: its demotion reads the owners, and with a second one checks it stays.
    assert_eq!(run.call("PATCH", &member(&owner), role("editor"), &owner).await, 409);
    assert_eq!(run.call("PATCH", &member(&manager), role("owner"), &owner).await, 200);
    assert_eq!(run.call("PATCH", &member(&manager), role("manager"), &owner).await, 200);
    used.insert("update-member".to_owned(), f.used(resources));

    let f = Recorded::start().await;
    let run = f.through(api, Settings::default());
    assert_eq!(run.call("DELETE", &member(&owner), None, &owner).await, 409);
    assert_eq!(run.call("DELETE", &member(&editor), None, &manager).await, 204);
    assert_eq!(run.call("DELETE", &member(&editor), None, &manager).await, 404);
    api.call("PATCH", &member(&manager), role("owner"), Some(&owner)).await;
    assert_eq!(run.call("DELETE", &member(&manager), None, &owner).await, 204);
    used.insert("remove-member".to_owned(), f.used(resources));

    let (manager, second) = (api.member(&owner, &pid, "manager").await, api.member(&owner, &pid, "owner").await);
    let f = Recorded::start().await;
    let run = f.through(api, Settings::default());
    let me = format!("/api/v1/projects/{pid}/members/me");
    assert_eq!(run.call("DELETE", &me, None, &manager).await, 204);
    assert_eq!(run.call("DELETE", &me, None, &second).await, 204);
    assert_eq!(run.call("DELETE", &me, None, &owner).await, 409);
    assert_eq!(run.call("DELETE", &me, None, &stranger).await, 404);
    used.insert("leave-project".to_owned(), f.used(resources));

    let f = Recorded::start().await;
    let run = f.through(api, Settings::default());
    assert_eq!(run.call("GET", "/api/v1/me/projects", None, &owner).await, 200);
    assert_eq!(run.call("GET", "/api/v1/me/projects?limit=1", None, &stranger).await, 200);
    used.insert("my-projects".to_owned(), f.used(resources));

    let slack = format!("/api/v1/projects/{pid}/integrations/slack");
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:slack";
    let settings = Some(json!({"mode": "scim", "token_secret_arn": arn}));
    let f = Recorded::start().await;
    let run = f.through(api, Settings::default());
    assert_eq!(run.call("PUT", &slack, settings.clone(), &owner).await, 200);
    assert_eq!(run.call("PUT", &slack, Some(json!({"mode": "x"})), &stranger).await, 404);
    used.insert("put-slack-integration".to_owned(), f.used(resources));

    let f = Recorded::start().await;
    let run = f.through(api, Settings::default());
    assert_eq!(run.call("GET", &slack, None, &owner).await, 200);
    used.insert("get-slack-integration".to_owned(), f.used(resources));

    let f = Recorded::start().await;
    let run = f.through(api, Settings::default());
    let member = api.member(&owner, &pid, "editor").await;
    let retry = format!("/api/v1/projects/{pid}/members/{}/slack-invite", member.user_id);
    assert_eq!(run.call("POST", &retry, None, &owner).await, 202);
    used.insert("retry-slack-invite".to_owned(), f.used(resources));

    let f = Recorded::start().await;
    let run = f.through(api, Settings::default());
    assert_eq!(run.call("DELETE", &slack, None, &owner).await, 204);
    assert_eq!(run.call("DELETE", &slack, None, &owner).await, 404);
    used.insert("delete-slack-integration".to_owned(), f.used(resources));
    used
}

/// Makes user `sub` an editor of the project through an invitation to another address of theirs.
async fn member_under_another_address(api: &Api, owner: &Caller, pid: &str, sub: &str) {
    let earlier = Caller { user_id: user_id(sub), email: Some(unique_email("earlier")), email_verified: true };
    let id = api.invite(owner, pid, earlier.email.as_deref().unwrap(), "editor").await;
    let accept = format!("/api/v1/projects/{pid}/invitations/{id}/accept");
    assert_eq!(api.call("POST", &accept, None, Some(&earlier)).await.status, 200);
}

#[tokio::test]
async fn every_function_is_granted_exactly_what_it_calls() {
    let api = Api::with_settings(quotas(1000, 1000, 1000, 1000)).await;
    let reconcile_queue = sqs_queue(&api.sqs).await;
    let slack_queue = sqs_queue(&api.sqs).await;
    let sender_address = verified_sender().await;
    let configuration_set = unique("invitations");
    let resources = Resources::default()
        .name(api.store.table(), "Table")
        .name(&api.queue_url, "EmailQueue")
        .name(&reconcile_queue, "ReconcileQueue")
        .name(&slack_queue, "SlackQueue")
        .name(&configuration_set, "ConfigurationSet");
    let mut used = api_functions(&api, &resources).await;

    // The sender: a send, a duplicate of it (already claimed), one SES throttles (the message is
    // put back with a delay), and the last receive (recorded as failed).
    let f = Recorded::start().await;
    let mailer = SesMailer::new(
        function_ses_client(&function_config(&f.moto.url, SHORT_TIMEOUTS)),
        &sender_address,
        Some(configuration_set.clone()),
    );
    let delivery = EmailDelivery::new(
        f.store(&api),
        api.clock.clone(),
        Settings::default(),
        Arc::new(mailer),
        EmailTemplates::default(),
    );
    let redelivery = Arc::new(SqsQueue::new(f.sqs(), api.queue_url.clone()));
    let sender = send_invitation_email::Sender { delivery, redelivery };
    let (owner, pid) = api.project().await;
    let sent_id = api.invite(&owner, &pid, &unique_email("sent"), "editor").await;
    let throttled_id = api.invite(&owner, &pid, &unique_email("throttled"), "editor").await;
    let messages = api.queued().await;
    let (sent, throttled) = (
        messages.iter().find(|m| m.invitation_id.to_string() == sent_id).unwrap(),
        messages.iter().find(|m| m.invitation_id.to_string() == throttled_id).unwrap(),
    );
    let body = serde_json::to_string(sent).unwrap();
    let Ok(SendOutcome::Sent { message_id }) = sender.send(&body).await else { panic!("not sent") };
    assert!(!matches!(sender.send(&body).await, Ok(SendOutcome::Sent { .. })), "a duplicate is not sent again");
    f.moto.inject("SendEmail", Fault::Throttle, 1);
    let body = serde_json::to_string(throttled).unwrap();
    api.sqs.send_message().queue_url(&api.queue_url).message_body(body.clone()).send().await.unwrap();
    let handled = poll_once(&api.sqs, &api.queue_url, |event| async {
        send_invitation_email::handle(&sender, event).await.unwrap()
    });
    assert_eq!(handled.await, 1);
    assert!(f.moto.calls().iter().any(|call| call.operation == "ChangeMessageVisibility"), "the throttled send waits");
    drain_queue(&api.sqs, &api.queue_url).await;
    used.insert("send-invitation-email".to_owned(), f.used(&resources));
    let from_addresses: BTreeSet<String> = f
        .moto
        .calls()
        .iter()
        .filter(|call| call.operation == "SendEmail")
        .map(|call| call.body["FromEmailAddress"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(from_addresses, BTreeSet::from([sender_address.clone()]), "every email from the stack's sender");

    // SES events: a delivery, a bounce, an event for an older send.
    let f = Recorded::start().await;
    let app = f.app(&api, Settings::default());
    for (kind, id) in [("Delivery", message_id.as_str()), ("Bounce", message_id.as_str()), ("Complaint", "older")] {
        let event = sqs_event(&[("e".into(), ses_event(kind, id, &pid, &sent_id))]);
        assert!(ses_events::handle(&app, event).await.unwrap().batch_item_failures.is_empty());
    }
    used.insert("ses-events".to_owned(), f.used(&resources));

    // Sign-up: accepted in time, in a project where the user is new and in one where they hold
    // a higher role already (under an earlier address); then one that must be handed off.
    let f = Recorded::start().await;
    let queue = Arc::new(SqsQueue::new(f.sqs(), reconcile_queue.clone()));
    let trigger = post_confirmation::Trigger {
        app: f.app(&api, Settings::default()),
        reconcile_queue: queue.clone(),
        deadline: post_confirmation::ACCEPT_DEADLINE,
    };
    let (other_owner, other_pid) = api.project().await;
    let (signed_up, late) = (unique_email("signed-up"), unique_email("late"));
    for (sub, email) in [("sub-iam-1", &signed_up), ("sub-iam-2", &late)] {
        member_under_another_address(&api, &owner, &pid, sub).await;
        api.invite(&owner, &pid, email, "readonly").await;
        api.invite(&other_owner, &other_pid, email, "readonly").await;
    }
    let event = cognito_event("PostConfirmation_ConfirmSignUp", "sub-iam-1", &signed_up, true);
    let outcome = trigger.on_confirmation(&event).await;
    assert!(matches!(&outcome, post_confirmation::Outcome::Accepted(report) if report.accepted == 2), "{outcome:?}");
    let hurried = post_confirmation::Trigger { deadline: std::time::Duration::ZERO, ..trigger };
    let event = cognito_event("PostConfirmation_ConfirmSignUp", "sub-iam-2", &late, true);
    assert_eq!(hurried.on_confirmation(&event).await, post_confirmation::Outcome::Deferred);
    used.insert("post-confirmation".to_owned(), f.used(&resources));

    // The hand-off, finished.
    let f = Recorded::start().await;
    let handed_off = drain_queue(&api.sqs, &reconcile_queue).await;
    assert_eq!(handed_off.len(), 1);
    let app = f.app(&api, Settings::default());
    let batch = reconcile_signups::handle(&app, sqs_event(&[("r".into(), handed_off[0].clone())])).await.unwrap();
    assert!(batch.batch_item_failures.is_empty());
    used.insert("reconcile-signups".to_owned(), f.used(&resources));

    // Slack: an accepted member invited, and one Slack rate-limits (its message waits on the queue).
    let f = Recorded::start().await;
    let slack = integration_tests::slack_standin::SlackStandIn::start("xoxp-iam").await;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk_config(&moto_endpoint()));
    let created = secrets.create_secret().name(unique("slack")).secret_string("xoxp-iam").send().await.unwrap();
    let settings = json!({"mode": "scim", "token_secret_arn": created.arn().unwrap()});
    api.call("PUT", &format!("/api/v1/projects/{pid}/integrations/slack"), Some(settings), Some(&owner)).await;
    let http = invitations::slack::http::HttpSlack::new(
        &slack.api_url(),
        &slack.scim_url(),
        std::time::Duration::from_secs(2),
    );
    let function_secrets = aws_sdk_secretsmanager::Client::new(&function_config(&f.moto.url, SHORT_TIMEOUTS));
    let invites = invitations::service::SlackInvites::new(
        f.store(&api),
        api.clock.clone(),
        Arc::new(http),
        Arc::new(invitations::slack::secrets::SecretsManager::new(function_secrets)),
    );
    let inviter =
        slack_invite::SlackInviter { invites, redelivery: Arc::new(SqsQueue::new(f.sqs(), slack_queue.clone())) };
    api.published.lock().unwrap().clear();
    let (joined, limited) = (user_with_email(&unique_email("joined")), user_with_email(&unique_email("limited")));
    slack.script(
        limited.email.as_deref().unwrap(),
        vec![integration_tests::slack_standin::Script::RateLimited { retry_after_secs: 1 }],
    );
    for member in [&joined, &limited] {
        let id = api.invite(&owner, &pid, member.email.as_deref().unwrap(), "readonly").await;
        let accept = format!("/api/v1/projects/{pid}/invitations/{id}/accept");
        assert_eq!(api.call("POST", &accept, None, Some(member)).await.status, 200);
    }
    api.pump().await;
    let accepted: Vec<String> = std::mem::take(&mut *api.published.lock().unwrap())
        .into_iter()
        .filter(|d| d.detail_type.as_deref() == Some("invitation.accepted"))
        .filter(|d| [&joined, &limited].iter().any(|m| d.body.contains(m.user_id.as_str())))
        .map(|d| json!({"detail-type": "invitation.accepted", "source": "project-invitations", "detail": serde_json::from_str::<Value>(&d.body).unwrap()}).to_string())
        .collect();
    for body in &accepted {
        api.sqs.send_message().queue_url(&slack_queue).message_body(body).send().await.unwrap();
    }
    let handled =
        poll_once(&api.sqs, &slack_queue, |event| async { slack_invite::handle(&inviter, event).await.unwrap() });
    assert_eq!(handled.await, 2);
    assert!(
        f.moto.calls().iter().any(|call| call.operation == "ChangeMessageVisibility"),
        "the rate-limited one waits"
    );
    assert_eq!(slack.calls().len(), 2);
    used.insert("slack-invite".to_owned(), f.used(&resources));

    // The welcome page calls nothing.
    let f = Recorded::start().await;
    let request = lambda_http::http::Request::builder().uri("/?code=c").body(lambda_http::Body::Empty).unwrap();
    assert_eq!(welcome::handle(request).await.unwrap().status(), 200);
    used.insert("welcome".to_owned(), f.used(&resources));

    let template = iam::template();
    let functions = iam::functions(&template);
    assert_eq!(used.keys().collect::<Vec<_>>(), functions.keys().collect::<Vec<_>>(), "every function is exercised");
    let mut problems = Vec::new();
    for (binary, logical_id) in &functions {
        let grants = iam::grants(&template, logical_id);
        let calls = &used[binary];
        for permission in calls {
            if !grants.iter().any(|grant| grant.allows(permission)) {
                problems.push(format!("{logical_id}: missing {permission:?}"));
            }
        }
        for grant in &grants {
            if !calls.iter().any(|permission| grant.allows(permission)) {
                problems.push(format!("{logical_id}: unused {} on {}", grant.action, grant.resource));
            }
        }
        println!("{logical_id}: {:?}", calls);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every wildcard in a resource carries its reason in a comment just above it, and sending
/// email is held to the stack's sender.
#[test]
fn wildcards_have_their_reason_and_email_is_sent_only_as_the_sender() {
    let text = iam::template_text();
    let lines: Vec<&str> = text.lines().collect();
    for (at, line) in lines.iter().enumerate() {
        let value = line.trim_start().trim_start_matches("- ").trim_start_matches("Resource:").trim();
        let in_policy = line.contains("arn:") || line.trim_start().starts_with("Resource:");
        if in_policy && value.contains('*') && !value.starts_with('#') {
            let reason = lines[at.saturating_sub(4)..at].iter().any(|above| above.trim_start().starts_with('#'));
            assert!(reason, "line {}: a wildcard resource without its reason above it: {line}", at + 1);
        }
        assert!(
            !line.contains("Action: \"*\"") && !line.contains(":*]") && !line.contains(":*\""),
            "line {}: {line}",
            at + 1
        );
    }
    let template = iam::template();
    for (_, logical_id) in iam::functions(&template) {
        for Grant { action, condition, .. } in iam::grants(&template, &logical_id) {
            if action.starts_with("ses:Send") {
                let from = &condition["StringEquals"]["ses:FromAddress"];
                let serde_norway::Value::Tagged(tagged) = from else {
                    panic!("{logical_id}: {action} without ses:FromAddress")
                };
                assert_eq!((tagged.tag.to_string(), tagged.value.as_str()), ("!Ref".to_owned(), Some("SenderEmail")));
            }
        }
    }
}
