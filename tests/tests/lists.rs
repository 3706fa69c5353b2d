//! Filtered lists read what they return: a page of keys from an index (`limit + 1` of them, no
//! filter expression) and those items, whatever the project's size. Checked on the calls the
//! list function makes, recorded by a proxy in front of DynamoDB Local.

use integration_tests::fault_proxy::{Call, FaultProxy};
use integration_tests::*;
use invitations::store::dynamodb::DynamoStore;
use invitations::store::Store;
use invitations::{Invitations, Settings};
use std::sync::Arc;
use time::Duration;

/// The list function's service, its DynamoDB calls recorded by a proxy.
async fn recorded(api: &Api) -> (FaultProxy, Invitations) {
    let dynamodb = FaultProxy::start(&dynamodb_endpoint()).await;
    let client = aws_sdk_dynamodb::Client::new(&function_config(&dynamodb.url, SHORT_TIMEOUTS));
    let store = Arc::new(DynamoStore::new(client, api.store.table()));
    (dynamodb, Invitations::new(store, api.clock.clone(), Settings::default()))
}

/// The list's calls after the caller's membership was read: the page's Query and its BatchGet.
fn page_reads(calls: &[Call]) -> (&Call, usize) {
    let query = calls.iter().find(|call| call.operation == "Query").expect("a Query");
    let fetched = calls
        .iter()
        .filter(|call| call.operation == "BatchGetItem")
        .map(|call| {
            call.body["RequestItems"].as_object().unwrap().values().next().unwrap()["Keys"].as_array().unwrap().len()
        })
        .next_back()
        .unwrap();
    (query, fetched)
}

#[tokio::test]
async fn a_filtered_page_reads_one_page_of_keys_and_its_items() {
    let api = Api::with_settings(quotas(1000, 1000, 1000, 1000)).await;
    let (owner, pid) = api.project().await;
    // Forty invitations lapse; three are pending.
    for i in 0..40 {
        api.invite(&owner, &pid, &unique_email(&format!("lapsed{i}")), "readonly").await;
    }
    api.clock.advance(Duration::days(15));
    let mut pending = Vec::new();
    for i in 0..3 {
        pending.push(api.invite(&owner, &pid, &unique_email(&format!("pending{i}")), "readonly").await);
    }

    let (dynamodb, app) = recorded(&api).await;
    let list = |query: String| {
        let (api, app, owner, pid) = (&api, &app, &owner, &pid);
        async move { api.call_raw(app, "GET", &format!("/api/v1/projects/{pid}/{query}"), None, Some(owner)).await }
    };

    let first = list("invitations?status=1&limit=2".into()).await;
    assert_eq!(first.status, 200);
    let ids: Vec<&str> = first.body.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [pending[0].as_str(), pending[1].as_str()], "a full page, by expiry");
    let calls = dynamodb.calls();
    let (query, fetched) = page_reads(&calls);
    assert_eq!((query.body["IndexName"].as_str(), query.body["Limit"].as_u64()), (Some("GSI1"), Some(3)));
    assert!(query.body["FilterExpression"].is_null(), "nothing read is thrown away: {}", query.body);
    assert_eq!(fetched, 2, "the page's items, fetched by key");
    assert_eq!(calls.iter().filter(|c| c.operation == "Query").count(), 1);

    let link = first.header("link").expect("a next page");
    let cursor = link.split("cursor=").nth(1).unwrap().split(['&', '>']).next().unwrap();
    let second = list(format!("invitations?status=1&limit=2&cursor={cursor}")).await;
    assert_eq!(second.body.as_array().unwrap().len(), 1);
    assert!(second.header("link").is_none(), "the last page");

    // The expired ones: a page of ten of the forty, and the events of one type likewise.
    let before = dynamodb.calls().len();
    let expired = list("invitations?status=5&limit=10".into()).await;
    assert_eq!(expired.body.as_array().unwrap().len(), 10);
    let calls = dynamodb.calls().split_off(before);
    let (query, fetched) = page_reads(&calls);
    assert_eq!((query.body["Limit"].as_u64(), fetched), (Some(11), 10));

    let before = dynamodb.calls().len();
    let created = list("events?type=invitation.created&limit=5".into()).await;
    assert_eq!(created.status, 200, "{created:?}");
    assert_eq!(created.body.as_array().unwrap().len(), 5);
    let calls = dynamodb.calls().split_off(before);
    let (query, fetched) = page_reads(&calls);
    assert_eq!((query.body["IndexName"].as_str(), query.body["Limit"].as_u64(), fetched), (Some("GSI1"), Some(6), 5));
}

#[tokio::test]
async fn the_failed_invitations_view_reads_a_page_of_each_delivery_status_asked_for() {
    let api = Api::with_settings(quotas(1000, 1000, 1000, 1000)).await;
    let (owner, pid) = api.project().await;
    let project = invitations::ProjectId::parse(&pid).unwrap();
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(api.invite(&owner, &pid, &unique_email(&format!("fine{i}")), "readonly").await);
    }
    let now = api.app.now();
    let store = api.store.clone();
    let read = |id: &str| {
        let key = (project.clone(), invitations::domain::InvitationId::parse(id).unwrap());
        let store = store.clone();
        async move { store.invitations_by_key(&[key]).await.unwrap().remove(0) }
    };
    use invitations::domain::DeliveryStatus::{Bounced, Delivered, Failed, NotQueued};
    for (i, status) in [(3, Bounced), (11, Failed), (12, Delivered), (17, Bounced), (25, NotQueued)] {
        deliver(api.store.as_ref(), &read(&ids[i]).await, status, now).await;
    }

    let (dynamodb, app) = recorded(&api).await;
    let list = |query: String| {
        let (api, app, owner, pid) = (&api, &app, &owner, &pid);
        async move { api.call_raw(app, "GET", &format!("/api/v1/projects/{pid}/{query}"), None, Some(owner)).await }
    };
    let ids_of = |reply: &Reply| -> Vec<String> {
        reply.body.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
    };

    let first = list("invitations?delivery_status=bounced,failed,not_queued&status=1&limit=2".into()).await;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(ids_of(&first), [ids[3].clone(), ids[11].clone()]);
    let calls = dynamodb.calls();
    let queries: Vec<_> = calls.iter().filter(|c| c.operation == "Query").collect();
    assert_eq!(queries.len(), 3, "one page of keys per delivery status");
    for query in &queries {
        assert_eq!((query.body["IndexName"].as_str(), query.body["Limit"].as_u64()), (Some("GSI4"), Some(3)));
        assert!(query.body["FilterExpression"].is_null());
    }
    assert_eq!(page_reads(&calls).1, 2, "the page's items, fetched by key");
    let link = first.header("link").expect("more follow");
    let carried = "status=1&delivery_status=bounced&delivery_status=failed&delivery_status=not_queued&limit=2&";
    assert!(link.contains(carried), "the filters carried on: {link}");
    let next = link.trim_start_matches('<').split('>').next().unwrap().split_once('?').unwrap().1.to_owned();
    let second = list(format!("invitations?{next}")).await;
    assert_eq!(ids_of(&second), [ids[17].clone(), ids[25].clone()]);
    assert!(second.header("link").is_none());

    // Several values the other way (repeated), an address, and a bad value.
    let delivered = list("invitations?delivery_status=delivered&delivery_status=failed".into()).await;
    assert_eq!(ids_of(&delivered), [ids[11].clone(), ids[12].clone()]);
    let to_one = api.call("GET", &format!("/api/v1/projects/{pid}/invitations/{}", ids[7]), None, Some(&owner)).await;
    let address = to_one.body["email"].as_str().unwrap().to_uppercase();
    let before = dynamodb.calls().len();
    let by_email = list(format!("invitations?email={}", address.replace('+', "%2B"))).await;
    assert_eq!(ids_of(&by_email), [ids[7].clone()], "matched normalized: {by_email:?}");
    let calls = dynamodb.calls().split_off(before);
    assert_eq!(page_reads(&calls).0.body["IndexName"].as_str(), Some("GSI3"));
    let bad = list("invitations?delivery_status=lost".into()).await;
    assert_eq!(
        (bad.status, bad.code(), bad.body["field"].as_str()),
        (400, "invalid_delivery_status", Some("delivery_status"))
    );
    let bad = list("invitations?email=not-an-address".into()).await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_email"));
}
