//! Bulk invitations through the API against DynamoDB Local and moto: one result per row in request
//! order, the same checks, events and emails as single creates, quotas counting every row, and a
//! dry run that writes nothing.

use integration_tests::fault_proxy::FaultProxy;
use integration_tests::*;
use invitations::store::dynamodb::DynamoStore;
use invitations::{Invitations, Settings};
use serde_json::{json, Value};
use std::sync::Arc;

fn codes(reply: &Reply) -> Vec<(String, Option<String>, Option<String>)> {
    reply.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let error = |key: &str| row["error"][key].as_str().map(str::to_owned);
            (row["status"].as_str().unwrap().to_owned(), error("code"), error("field"))
        })
        .collect()
}

fn row(status: &str, code: Option<&str>, field: Option<&str>) -> (String, Option<String>, Option<String>) {
    (status.to_owned(), code.map(str::to_owned), field.map(str::to_owned))
}

#[tokio::test]
async fn each_row_gets_its_own_result_in_request_order_and_a_dry_run_writes_nothing() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let manager = api.member(&owner, &pid, "manager").await;
    let pending = unique_email("pending");
    api.invite(&owner, &pid, &pending, "readonly").await;
    api.queued().await;
    let (ana, bo) = (unique_email("ana"), unique_email("bo"));
    let rows = json!([
        {"email": ana, "role": "editor", "message": "Welcome, Ana!"},
        {"email": "not an address", "role": "editor"},
        {"email": unique_email("boss"), "role": "owner"},
        {"email": ana.to_uppercase(), "role": "readonly"},
        {"email": pending, "role": "editor"},
        {"email": bo, "role": "dataentry", "send": false},
        {"email": unique_email("norole")},
        {"email": unique_email("role"), "role": "boss"},
    ]);
    let path = format!("/api/v1/projects/{pid}/invitations/bulk");
    let expected = |ok: &str| {
        vec![
            row(ok, None, None),
            row("failed", Some("invalid_email"), Some("email")),
            row("failed", Some("role_above_own"), Some("role")),
            row("failed", Some("duplicate_in_request"), Some("email")),
            row("failed", Some("duplicate_invitation"), Some("email")),
            row(ok, None, None),
            row("failed", Some("missing_field"), Some("role")),
            row("failed", Some("invalid_role"), Some("role")),
        ]
    };

    let list = format!("/api/v1/projects/{pid}/invitations");
    let before = api.call("GET", &list, None, Some(&owner)).await.body;
    let dry = api.call("POST", &format!("{path}?dry_run=true"), Some(rows.clone()), Some(&manager)).await;
    assert_eq!(dry.status, 200, "{dry:?}");
    assert_eq!(codes(&dry), expected("valid"));
    assert_eq!(
        (dry.body["dry_run"].as_bool(), dry.body["valid"].as_u64(), dry.body["failed"].as_u64()),
        (Some(true), Some(2), Some(6))
    );
    assert_eq!(api.call("GET", &list, None, Some(&owner)).await.body, before, "a dry run writes nothing");
    assert!(api.queued().await.is_empty());

    let done = api.call("POST", &path, Some(json!({"invitations": rows})), Some(&manager)).await;
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(codes(&done), expected("created"));
    assert_eq!((done.body["created"].as_u64(), done.body["failed"].as_u64()), (Some(2), Some(6)));
    let results = done.body["results"].as_array().unwrap();
    assert_eq!(results[3]["email"].as_str(), Some(ana.to_uppercase().as_str()), "the row as sent");
    let created = &results[0]["invitation"];
    assert_eq!((created["email"].as_str(), created["role"].as_str()), (Some(ana.as_str()), Some("editor")));
    assert_eq!(created["message"], "Welcome, Ana!");
    assert_eq!(results[5]["invitation"]["delivery_status"], "not_sent");
    let queued = api.queued().await;
    assert_eq!(queued.len(), 1, "Ana's email; Bo's was asked not to be sent");
    assert_eq!(queued[0].invitation_id.to_string(), created["id"].as_str().unwrap());
    let events =
        api.call("GET", &format!("/api/v1/projects/{pid}/events?type=invitation.created"), None, Some(&owner)).await;
    // The manager's and the pending invitation's, and one per row created, as single creates write.
    assert_eq!(events.body.as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn quotas_count_every_row() {
    let api = Api::with_settings(quotas(500, 3, 20, 50)).await;
    let (owner, pid) = api.project().await;
    let rows: Vec<Value> =
        (0..5).map(|i| json!({"email": unique_email(&format!("r{i}")), "role": "readonly"})).collect();
    let path = format!("/api/v1/projects/{pid}/invitations/bulk");
    let reply = api.call("POST", &path, Some(Value::Array(rows)), Some(&owner)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let statuses: Vec<_> = codes(&reply).into_iter().map(|(status, code, _)| (status, code)).collect();
    let quota = ("failed".to_owned(), Some("quota_exceeded".to_owned()));
    assert_eq!(statuses[3..], [quota.clone(), quota], "the inviter's three a day: {statuses:?}");
    assert!(statuses[..3].iter().all(|(status, _)| status == "created"));
    let single = api
        .call(
            "POST",
            &format!("/api/v1/projects/{pid}/invitations"),
            Some(json!({"email": unique_email("one"), "role": "readonly"})),
            Some(&owner),
        )
        .await;
    assert_eq!(single.status, 429, "the bulk's rows counted");
}

#[tokio::test]
async fn a_bad_request_is_refused_whole_in_the_contracts_order() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let editor = api.member(&owner, &pid, "editor").await;
    let path = format!("/api/v1/projects/{pid}/invitations/bulk");
    let many: Vec<Value> =
        (0..101).map(|i| json!({"email": format!("u{i}@example.com"), "role": "readonly"})).collect();
    let cases = [
        (json!([]), &owner, 400, "invalid_rows"),
        (Value::Array(many), &owner, 400, "invalid_rows"),
        (json!({"rows": []}), &owner, 400, "missing_field"),
        (json!([]), &editor, 403, "forbidden"),
        (json!([{"email": "a@example.com", "role": "readonly"}]), &editor, 403, "forbidden"),
    ];
    for (body, who, status, code) in cases {
        let reply = api.call("POST", &path, Some(body), Some(who)).await;
        assert_eq!((reply.status, reply.code()), (status, code), "{reply:?}");
    }
    let stranger = api.call("POST", &path, Some(json!([])), Some(&user("stranger"))).await;
    assert_eq!(stranger.status, 404);
    let bad_flag = api.call("POST", &format!("{path}?dry_run=maybe"), Some(json!([])), Some(&owner)).await;
    assert_eq!((bad_flag.status, bad_flag.body["field"].as_str()), (400, Some("dry_run")));
}

#[tokio::test]
async fn a_hundred_rows_read_once_and_write_one_transaction_each() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let proxy = FaultProxy::start(&dynamodb_endpoint()).await;
    // What is counted here is calls, not time: DynamoDB Local runs transactions one at a time, and
    // under the whole suite's load 25 at once outlast the functions' 2 s attempts.
    let patient = invitations::sdk_config::Timeouts {
        connect: std::time::Duration::from_secs(5),
        attempt: std::time::Duration::from_secs(60),
        operation: std::time::Duration::from_secs(120),
    };
    let client = aws_sdk_dynamodb::Client::new(&function_config(&proxy.url, patient));
    let app =
        Invitations::new(Arc::new(DynamoStore::new(client, api.store.table())), api.clock.clone(), Settings::default());
    let rows: Vec<Value> =
        (0..100).map(|i| json!({"email": unique_email(&format!("h{i}")), "role": "readonly"})).collect();
    let body = Value::Array(rows).to_string();
    let path = format!("/api/v1/projects/{pid}/invitations/bulk");
    let started = std::time::Instant::now();
    let reply = api.call_raw(&app, "POST", &path, Some(&body), Some(&owner)).await;
    let took = started.elapsed();
    assert_eq!((reply.status, reply.body["created"].as_u64()), (200, Some(100)), "{:?}", reply.body["results"][0]);
    let ops: Vec<String> = proxy.calls().into_iter().map(|call| call.operation).collect();
    let count = |op: &str| ops.iter().filter(|o| *o == op).count();
    // The membership and the rows' pending markers (two BatchGets), both daily quotas (two
    // Queries), one transaction per row: slots read free are distinct, so none collides.
    assert_eq!((count("BatchGetItem"), count("Query"), count("TransactWriteItems")), (2, 2, 100), "{ops:?}");
    println!("bulk: 100 rows in {took:?}, {} calls against DynamoDB Local", ops.len());
    assert_eq!(api.queued().await.len(), 100);
}
