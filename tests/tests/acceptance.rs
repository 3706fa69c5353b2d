//! The Cognito post-confirmation trigger and its durable retry, with real Cognito event JSON,
//! against DynamoDB Local and moto SQS.

use integration_tests::fault_proxy::FaultProxy;
use integration_tests::*;
use invitations::queue::sqs::{LazySqsQueue, SqsQueue};
use invitations::store::dynamodb::DynamoStore;
use invitations::{Caller, Invitations, Settings};
use lambda_runtime::{Context, LambdaEvent};
use post_confirmation::{handle, Outcome, Trigger, ACCEPT_DEADLINE};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use time::Duration;

struct Setup {
    api: Api,
    trigger: Trigger,
    reconcile_url: String,
}

async fn setup() -> Setup {
    // Room for a hundred pending invitations to one address, from one inviter.
    let api = Api::with_settings(quotas(1000, 1000, 1000, 1000)).await;
    let reconcile_url = sqs_queue(&api.sqs).await;
    let trigger = Trigger {
        app: api.app.clone(),
        reconcile_queue: Arc::new(SqsQueue::new(api.sqs.clone(), reconcile_url.clone())),
        deadline: ACCEPT_DEADLINE,
    };
    Setup { api, trigger, reconcile_url }
}

async fn sign_up(trigger: &Trigger, sub: &str, email: &str) -> serde_json::Value {
    let event = cognito_event("PostConfirmation_ConfirmSignUp", sub, email, true);
    let returned = handle(trigger, LambdaEvent::new(event.clone(), Context::default())).await.unwrap();
    assert_eq!(returned, event, "the event is returned unchanged");
    returned
}

fn signed_up(sub: &str, email: &str) -> Caller {
    Caller { user_id: user_id(sub), email: Some(email.to_owned()), email_verified: true }
}

async fn role_in(api: &Api, who: &Caller, pid: &str) -> Option<String> {
    let reply = api.call("GET", &format!("/api/v1/projects/{pid}"), None, Some(who)).await;
    (reply.status == 200).then(|| reply.body["role"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn zero_one_and_a_hundred_pending_invitations() {
    let Setup { api, trigger, reconcile_url } = setup().await;
    let nobody = unique_email("nobody");
    let outcome =
        trigger.on_confirmation(&cognito_event("PostConfirmation_ConfirmSignUp", "sub-0", &nobody, true)).await;
    assert_eq!(outcome, Outcome::Accepted(Default::default()));

    let (owner, pid) = api.project().await;
    let one = unique_email("one");
    api.invite(&owner, &pid, &one, "editor").await;
    sign_up(&trigger, "sub-1", &one).await;
    assert_eq!(role_in(&api, &signed_up("sub-1", &one), &pid).await.as_deref(), Some("editor"));

    let many = unique_email("many");
    let mut projects = Vec::new();
    for _ in 0..100 {
        let (owner, pid) = api.project().await;
        api.invite(&owner, &pid, &many, "dataentry").await;
        projects.push(pid);
    }
    let started = Instant::now();
    let outcome =
        trigger.on_confirmation(&cognito_event("PostConfirmation_ConfirmSignUp", "sub-100", &many, true)).await;
    let elapsed = started.elapsed();
    // What fits in the trigger's deadline is accepted; the rest is handed off and finished.
    match outcome {
        Outcome::Accepted(report) => {
            println!("sign-up accepted 100 pending invitations across 100 projects in {} ms", elapsed.as_millis());
            assert_eq!(report.accepted, 100);
        }
        Outcome::Deferred => {
            println!("sign-up of 100 pending invitations handed off after {} ms", elapsed.as_millis());
            let handed_off = drain_queue(&api.sqs, &reconcile_url).await;
            assert_eq!(handed_off.len(), 1);
            let batch = reconcile_signups::handle(&api.app, sqs_event(&[("r".into(), handed_off[0].clone())])).await;
            assert!(batch.unwrap().batch_item_failures.is_empty());
        }
        other => panic!("expected acceptance or a hand-off, got {other:?}"),
    }
    let user = signed_up("sub-100", &many);
    for pid in &projects {
        assert_eq!(role_in(&api, &user, pid).await.as_deref(), Some("dataentry"));
    }
}

#[tokio::test]
async fn a_cold_sign_up_reads_in_one_call_on_one_connection() {
    let Setup { api, reconcile_url, .. } = setup().await;
    let email = unique_email("two");
    for _ in 0..2 {
        let (owner, pid) = api.project().await;
        api.invite(&owner, &pid, &email, "editor").await;
    }
    let dynamodb = FaultProxy::start(&dynamodb_endpoint()).await;
    let client = aws_sdk_dynamodb::Client::new(&function_config(&dynamodb.url, SHORT_TIMEOUTS));
    let cold = Trigger {
        app: Invitations::new(
            Arc::new(DynamoStore::new(client, api.store.table())),
            api.clock.clone(),
            Settings::default(),
        ),
        reconcile_queue: Arc::new(SqsQueue::new(api.sqs.clone(), reconcile_url)),
        deadline: ACCEPT_DEADLINE,
    };
    let outcome = cold.on_confirmation(&cognito_event("PostConfirmation_ConfirmSignUp", "sub-two", &email, true)).await;
    assert!(matches!(&outcome, Outcome::Accepted(report) if report.accepted == 2), "{outcome:?}");
    // The invitations and the memberships in one BatchGetItem: two reads at once would open a
    // second connection, and on Lambda pay a second TLS handshake.
    assert_eq!(dynamodb.seen(), ["Query", "BatchGetItem", "TransactWriteItems"]);
    assert_eq!(dynamodb.connections(), 1);
}

#[tokio::test]
async fn only_pending_unexpired_invitations_for_that_email_are_accepted() {
    let Setup { api, trigger, .. } = setup().await;
    let (owner, pid) = api.project().await;
    let email = unique_email("jane");
    let id_of = |pid: &str, id: &str| format!("/api/v1/projects/{pid}/invitations/{id}");
    // Revoked.
    let (o1, revoked_pid) = api.project().await;
    let revoked = api.invite(&o1, &revoked_pid, &email, "editor").await;
    api.call(
        "POST",
        &format!("/api/v1/projects/{revoked_pid}/revoke-invitation"),
        Some(json!({"invitation_id": revoked})),
        Some(&o1),
    )
    .await;
    // Expired.
    let (o2, expired_pid) = api.project().await;
    let expired = api.invite(&o2, &expired_pid, &email, "editor").await;
    api.clock.advance(Duration::days(15));
    // Pending, and another address's pending invitation in the same project.
    let pending = api.invite(&owner, &pid, &email, "editor").await;
    let other = api.invite(&owner, &pid, &unique_email("john"), "editor").await;
    // Already accepted by someone else with the same address earlier: untouched.
    let (o3, accepted_pid) = api.project().await;
    let accepted = api.invite(&o3, &accepted_pid, &email, "readonly").await;
    let earlier = signed_up("sub-earlier", &email);
    api.call("POST", &format!("{}/accept", id_of(&accepted_pid, &accepted)), None, Some(&earlier)).await;
    let before = api.call("GET", &id_of(&accepted_pid, &accepted), None, Some(&o3)).await.body;

    sign_up(&trigger, "sub-jane", &email).await;
    let status = |body: &serde_json::Value| body["status"].as_u64().unwrap();
    assert_eq!(status(&api.call("GET", &id_of(&pid, &pending), None, Some(&owner)).await.body), 2);
    assert_eq!(status(&api.call("GET", &id_of(&revoked_pid, &revoked), None, Some(&o1)).await.body), 3);
    assert_eq!(status(&api.call("GET", &id_of(&expired_pid, &expired), None, Some(&o2)).await.body), 5);
    assert_eq!(status(&api.call("GET", &id_of(&pid, &other), None, Some(&owner)).await.body), 1);
    assert_eq!(api.call("GET", &id_of(&accepted_pid, &accepted), None, Some(&o3)).await.body, before);
    let jane = signed_up("sub-jane", &email);
    assert_eq!(role_in(&api, &jane, &revoked_pid).await, None);
    assert_eq!(role_in(&api, &jane, &expired_pid).await, None);
    let accepted_body = api.call("GET", &id_of(&pid, &pending), None, Some(&owner)).await.body;
    assert_eq!(accepted_body["accepted_by"], "sub-jane");
    assert!(accepted_body["accepted_at"].is_string());
}

#[tokio::test]
async fn addresses_match_case_insensitively() {
    let Setup { api, trigger, .. } = setup().await;
    let (owner, pid) = api.project().await;
    let local = uuid::Uuid::new_v4().simple().to_string();
    api.invite(&owner, &pid, &format!("Jane.Doe.{local}@Example.com"), "editor").await;
    let email = format!("jane.doe.{local}@example.com");
    sign_up(&trigger, "sub-jd", &email).await;
    assert_eq!(role_in(&api, &signed_up("sub-jd", &email), &pid).await.as_deref(), Some("editor"));
}

#[tokio::test]
async fn unverified_emails_and_password_resets_change_nothing() {
    let Setup { api, trigger, .. } = setup().await;
    let (owner, pid) = api.project().await;
    let email = unique_email("quiet");
    let id = api.invite(&owner, &pid, &email, "editor").await;
    for event in [
        cognito_event("PostConfirmation_ConfirmSignUp", "sub-q", &email, false),
        cognito_event("PostConfirmation_ConfirmForgotPassword", "sub-q", &email, true),
    ] {
        let returned = handle(&trigger, LambdaEvent::new(event.clone(), Context::default())).await.unwrap();
        assert_eq!(returned, event);
        assert!(matches!(trigger.on_confirmation(&event).await, Outcome::Ignored(_)));
    }
    let body = api.call("GET", &format!("/api/v1/projects/{pid}/invitations/{id}"), None, Some(&owner)).await.body;
    assert_eq!(body["status"], 1);
    assert_eq!(role_in(&api, &signed_up("sub-q", &email), &pid).await, None);
}

#[tokio::test]
async fn an_existing_higher_role_is_kept() {
    let Setup { api, trigger, .. } = setup().await;
    let (owner, pid) = api.project().await;
    let manager = api.member(&owner, &pid, "manager").await;
    let email = manager.email.clone().unwrap();
    let id = api.invite(&owner, &pid, &email, "readonly").await;
    sign_up(&trigger, manager.user_id.as_str(), &email).await;
    assert_eq!(role_in(&api, &manager, &pid).await.as_deref(), Some("manager"));
    let body = api.call("GET", &format!("/api/v1/projects/{pid}/invitations/{id}"), None, Some(&owner)).await.body;
    assert_eq!(body["status"], 2, "accepted, without a downgrade");
}

#[tokio::test]
async fn the_same_event_three_times_leaves_the_state_of_once() {
    let Setup { api, trigger, .. } = setup().await;
    let email = unique_email("thrice");
    let mut invited = Vec::new();
    for role in ["editor", "readonly"] {
        let (owner, pid) = api.project().await;
        let id = api.invite(&owner, &pid, &email, role).await;
        invited.push((owner, pid, id));
    }
    sign_up(&trigger, "sub-3", &email).await;
    let once = snapshot(&api, &invited).await;
    assert!(once.iter().step_by(2).all(|inv| inv["status"] == 2));
    sign_up(&trigger, "sub-3", &email).await;
    sign_up(&trigger, "sub-3", &email).await;
    assert_eq!(snapshot(&api, &invited).await, once);
}

async fn snapshot(api: &Api, invited: &[(Caller, String, String)]) -> Vec<serde_json::Value> {
    let mut state = Vec::new();
    for (owner, pid, id) in invited {
        state.push(api.call("GET", &format!("/api/v1/projects/{pid}/invitations/{id}"), None, Some(owner)).await.body);
        state.push(api.call("GET", &format!("/api/v1/projects/{pid}/members"), None, Some(owner)).await.body);
    }
    state
}

/// A listener that accepts connections and never answers: a hung dependency.
async fn black_hole() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn a_hung_database_hands_off_to_the_reconciler_which_finishes_the_job() {
    let Setup { api, reconcile_url, .. } = setup().await;
    let (owner, pid) = api.project().await;
    let email = unique_email("patient");
    let id = api.invite(&owner, &pid, &email, "editor").await;

    let hung_config = sdk_config_with(&black_hole().await, invitations::sdk_config::Timeouts::TRIGGER);
    let hung_store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&hung_config), "whatever");
    let hung_trigger = Trigger {
        app: Invitations::new(Arc::new(hung_store), api.clock.clone(), api.app.settings().clone()),
        // As the deployed trigger has it: the queue's client is built by this hand-off.
        reconcile_queue: Arc::new(LazySqsQueue::new(
            || aws_sdk_sqs::Client::new(&sdk_config(&moto_endpoint())),
            reconcile_url.clone(),
        )),
        deadline: ACCEPT_DEADLINE,
    };
    let event = cognito_event("PostConfirmation_ConfirmSignUp", "sub-p", &email, true);
    let started = Instant::now();
    let returned = handle(&hung_trigger, LambdaEvent::new(event.clone(), Context::default())).await.unwrap();
    let elapsed = started.elapsed();
    println!("trigger with a hung DynamoDB returned in {} ms", elapsed.as_millis());
    assert!(elapsed < std::time::Duration::from_secs(2), "returned in {elapsed:?}");
    assert_eq!(returned, event);
    assert_eq!(role_in(&api, &signed_up("sub-p", &email), &pid).await, None, "nothing accepted yet");

    let handed_off = drain_queue(&api.sqs, &reconcile_url).await;
    assert_eq!(handed_off.len(), 1);
    let message: serde_json::Value = serde_json::from_str(&handed_off[0]).unwrap();
    assert_eq!(message["user_id"], "sub-p");
    let batch =
        reconcile_signups::handle(&api.app.clone(), sqs_event(&[("r1".into(), handed_off[0].clone())])).await.unwrap();
    assert!(batch.batch_item_failures.is_empty());
    assert_eq!(role_in(&api, &signed_up("sub-p", &email), &pid).await.as_deref(), Some("editor"));
    reliability(
        "DynamoDB hangs during the sign-up trigger",
        &format!("the trigger returns the event in {} ms, hands off; the reconciler accepts", elapsed.as_millis()),
    );
    let body = api.call("GET", &format!("/api/v1/projects/{pid}/invitations/{id}"), None, Some(&owner)).await.body;
    assert_eq!((body["status"].as_u64(), body["accepted_by"].as_str()), (Some(2), Some("sub-p")));
    // A broken message is reported, not lost silently.
    let broken = reconcile_signups::handle(&api.app.clone(), sqs_event(&[("bad".into(), "{}".into())])).await.unwrap();
    assert_eq!(broken.batch_item_failures.len(), 1);
}
