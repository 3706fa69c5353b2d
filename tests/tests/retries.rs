//! Safe retries: `Idempotency-Key` on POST and PUT, through the API against DynamoDB Local, with
//! real concurrency and a failing store behind a proxy.

use integration_tests::fault_proxy::{Fault, FaultProxy};
use integration_tests::*;
use invitations::store::dynamodb::DynamoStore;
use invitations::{Caller, Invitations, Settings};
use serde_json::json;
use std::sync::Arc;

/// `POST …/invitations` with an `Idempotency-Key`, through `app`.
async fn invite_keyed(api: &Api, app: &Invitations, who: &Caller, pid: &str, key: &str, email: &str) -> Reply {
    let body = json!({"email": email, "role": "editor"}).to_string();
    let path = format!("/api/v1/projects/{pid}/invitations");
    api.call_with_headers(app, "POST", &path, Some(&body), &[("idempotency-key", key)], Some(who)).await
}

async fn listed(api: &Api, owner: &Caller, pid: &str) -> usize {
    let reply = api.call("GET", &format!("/api/v1/projects/{pid}/invitations"), None, Some(owner)).await;
    reply.body.as_array().unwrap().len()
}

#[tokio::test]
async fn a_retry_gets_the_first_answer_back_and_does_nothing_again() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let email = unique_email("retried");
    let first = invite_keyed(&api, &api.app, &owner, &pid, "key-1", &email).await;
    assert_eq!(first.status, 201, "{first:?}");
    assert!(first.header("idempotent-replayed").is_none());
    api.clock.advance(time::Duration::hours(23));
    let retry = invite_keyed(&api, &api.app, &owner, &pid, "key-1", &email).await;
    assert_eq!((retry.status, &retry.body), (201, &first.body), "the same answer");
    assert_eq!(retry.header("etag"), first.header("etag"));
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(listed(&api, &owner, &pid).await, 1);
    assert_eq!(api.queued().await.len(), 1, "one email");

    let other = invite_keyed(&api, &api.app, &owner, &pid, "key-1", &unique_email("other")).await;
    assert_eq!((other.status, other.code()), (422, "idempotency_key_reused"));
    // Another caller's key is their own; past a day the key is free again.
    let (stranger, theirs) = api.project().await;
    assert_eq!(invite_keyed(&api, &api.app, &stranger, &theirs, "key-1", &email).await.status, 201);
    api.clock.advance(time::Duration::hours(2));
    let later = invite_keyed(&api, &api.app, &owner, &pid, "key-1", &email).await;
    assert_eq!((later.status, later.code()), (409, "duplicate_invitation"), "runs again: {later:?}");
    let kept = invite_keyed(&api, &api.app, &owner, &pid, "key-1", &email).await;
    assert_eq!((kept.status, kept.header("idempotent-replayed")), (409, Some("true")), "a refusal is kept too");

    let bad = invite_keyed(&api, &api.app, &owner, &pid, "not a key", &email).await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_idempotency_key"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_retries_run_once() {
    let api = Arc::new(Api::new().await);
    let (owner, pid) = api.project().await;
    let email = unique_email("raced");
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let (api, owner, pid, email) = (api.clone(), owner.clone(), pid.clone(), email.clone());
            tokio::spawn(async move { invite_keyed(&api, &api.app, &owner, &pid, "raced", &email).await })
        })
        .collect();
    let replies: Vec<Reply> = futures::future::join_all(calls).await.into_iter().map(Result::unwrap).collect();
    let ran = replies.iter().filter(|r| r.status == 201 && r.header("idempotent-replayed").is_none()).count();
    assert_eq!(ran, 1, "{replies:?}");
    let id = replies.iter().find(|r| r.status == 201).unwrap().body["id"].clone();
    for reply in &replies {
        match reply.status {
            201 => assert_eq!(reply.body["id"], id, "a replay names the same invitation"),
            409 => assert_eq!(reply.code(), "request_in_progress"),
            other => panic!("{other}: {reply:?}"),
        }
    }
    assert_eq!(listed(&api, &owner, &pid).await, 1);
}

#[tokio::test]
async fn a_request_the_service_failed_is_run_again_by_its_retry() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let proxy = FaultProxy::start(&dynamodb_endpoint()).await;
    let client = aws_sdk_dynamodb::Client::new(&function_config(&proxy.url, SHORT_TIMEOUTS));
    let store = Arc::new(DynamoStore::new(client, api.store.table()));
    let app = Invitations::new(store, api.clock.clone(), Settings::default());
    proxy.inject("TransactWriteItems", Fault::ServerError, 100);
    let email = unique_email("unlucky");
    let failed = invite_keyed(&api, &app, &owner, &pid, "key-2", &email).await;
    assert_eq!(failed.status, 503, "{failed:?}");
    proxy.clear();
    let retried = invite_keyed(&api, &app, &owner, &pid, "key-2", &email).await;
    assert_eq!(retried.status, 201, "a 5xx is not kept: the retry runs {retried:?}");
    assert!(retried.header("idempotent-replayed").is_none());
    // And without its record, a keyed request is not run blind.
    proxy.inject("PutItem", Fault::ServerError, 100);
    let blind = invite_keyed(&api, &app, &owner, &pid, "key-3", &unique_email("blind")).await;
    assert_eq!(blind.status, 503);
    proxy.clear();
    assert_eq!(listed(&api, &owner, &pid).await, 1);
}

#[tokio::test]
async fn every_post_and_put_takes_a_key() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let id = api.invite(&owner, &pid, &unique_email("keyed"), "editor").await;
    api.clock.advance(time::Duration::minutes(5));
    let body = json!({"invitation_id": id}).to_string();
    let put = json!({"invitation_id": id, "role": "manager"}).to_string();
    let project = json!({"name": "Keyed"}).to_string();
    for (method, path, body) in [
        ("POST", "/api/v1/projects".to_owned(), project.as_str()),
        ("PUT", format!("/api/v1/projects/{pid}/invitations"), put.as_str()),
        ("POST", format!("/api/v1/projects/{pid}/resend-invitation"), body.as_str()),
    ] {
        let call =
            || api.call_with_headers(&api.app, method, &path, Some(body), &[("idempotency-key", "k")], Some(&owner));
        let (first, second) = (call().await, call().await);
        assert!(first.status < 300, "{method} {path}: {first:?}");
        assert_eq!((second.status, &second.body), (first.status, &first.body), "{method} {path}");
        assert_eq!(second.header("idempotent-replayed"), Some("true"), "{method} {path}");
    }
    let projects = api.call("GET", "/api/v1/me/projects", None, Some(&owner)).await;
    assert_eq!(projects.body.as_array().unwrap().len(), 2, "one project made by the keyed POST");
    let resent = api.call("GET", &format!("/api/v1/projects/{pid}/invitations/{id}"), None, Some(&owner)).await;
    assert_eq!(resent.body["send_count"], 0);
    assert_eq!(api.queued().await.len(), 2, "the invitation's first email and one resend");
}
