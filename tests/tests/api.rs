//! Every endpoint through real API Gateway v2 events, against DynamoDB Local and moto SQS.

use integration_tests::fault_proxy::{Fault, FaultProxy};
use integration_tests::*;
use invitations::Invitations;
use invitations::Settings;
use serde_json::json;
use time::Duration;

#[tokio::test]
async fn projects_are_created_read_and_list_their_members() {
    let api = Api::new().await;
    let owner = user("owner");
    let created = api.call("POST", "/api/v1/projects", Some(json!({"name": "  Field survey "})), Some(&owner)).await;
    assert_eq!(created.status, 201);
    assert_eq!(created.body["name"], "Field survey");
    assert_eq!(created.body["role"], "owner");
    let pid = created.body["id"].as_str().unwrap();
    let read = api.call("GET", &format!("/api/v1/projects/{pid}"), None, Some(&owner)).await;
    assert_eq!((read.status, read.body["owner"].as_str()), (200, Some(owner.user_id.as_str())));
    let members = api.call("GET", &format!("/api/v1/projects/{pid}/members"), None, Some(&owner)).await;
    assert_eq!(members.status, 200);
    assert_eq!(
        members.body,
        json!([{"user_id": owner.user_id, "email": owner.email, "role": "owner", "joined_at": members.body[0]["joined_at"],
                "slack_status": null, "slack_error": null}])
    );
    let stranger = user("stranger");
    assert_eq!(api.call("GET", &format!("/api/v1/projects/{pid}"), None, Some(&stranger)).await.status, 404);
    assert_eq!(api.call("GET", &format!("/api/v1/projects/{pid}/members"), None, Some(&stranger)).await.status, 404);
    let blank = api.call("POST", "/api/v1/projects", Some(json!({"name": " "})), Some(&owner)).await;
    assert_eq!((blank.status, blank.code(), blank.body["field"].as_str()), (400, "invalid_field", Some("name")));
}

#[tokio::test]
async fn creating_an_invitation_answers_201_with_the_contract_fields_and_queues_one_email() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let reply = api
        .call(
            "POST",
            &format!("/api/v1/projects/{pid}/invitations"),
            Some(json!({"email": "Jane.Doe@Example.com", "role": "editor"})),
            Some(&owner),
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let body = &reply.body;
    for field in [
        "id",
        "email",
        "project",
        "role",
        "status",
        "invited_by",
        "accepted_by",
        "created_at",
        "accepted_at",
        "resent_at",
        "revoked_at",
        "expires_at",
        "delivery_status",
        "send_count",
        "invitation_url",
    ] {
        assert!(body.get(field).is_some(), "missing field {field} in {body}");
    }
    assert_eq!(body["email"], "Jane.Doe@Example.com");
    assert_eq!(
        (body["project"].as_str(), body["role"].as_str(), body["status"].as_u64()),
        (Some(pid.as_str()), Some("editor"), Some(1))
    );
    assert_eq!(body["invited_by"], owner.user_id.as_str());
    assert_eq!((body["delivery_status"].as_str(), body["send_count"].as_u64()), (Some("queued"), Some(0)));
    assert!(body["accepted_at"].is_null() && body["revoked_at"].is_null());
    let id = body["id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
    let url = body["invitation_url"].as_str().unwrap();
    assert!(url.starts_with(&Settings::default().invitation_url) && url.contains(id), "{url}");
    let queued = api.queued().await;
    assert_eq!(queued.len(), 1, "exactly one message per send");
    assert_eq!((queued[0].project_id.as_str(), queued[0].invitation_id.to_string()), (pid.as_str(), id.to_owned()));
    let read = api.call("GET", &format!("/api/v1/projects/{pid}/invitations/{id}"), None, Some(&owner)).await;
    assert_eq!((read.status, &read.body["id"]), (200, &body["id"]));
}

#[tokio::test]
async fn bad_input_gets_a_clear_400_with_a_stable_code() {
    let settings = Settings {
        allowed_domains: invitations::domain::DomainAllowList::parse("example.com").unwrap(),
        ..Settings::default()
    };
    let api = Api::with_settings(settings).await;
    let (owner, pid) = api.project().await;
    let path = format!("/api/v1/projects/{pid}/invitations");
    let malformed = api.call_raw(&api.app, "POST", &path, Some("{\"email\": "), Some(&owner)).await;
    assert_eq!((malformed.status, malformed.code()), (400, "invalid_json"));
    let empty = api.call_raw(&api.app, "POST", &path, None, Some(&owner)).await;
    assert_eq!((empty.status, empty.code()), (400, "invalid_json"));
    let cases = [
        (json!({"role": "editor"}), "missing_field", Some("email")),
        (json!({"email": "jane@example.com"}), "missing_field", Some("role")),
        (json!({"email": 42, "role": "editor"}), "invalid_field", Some("email")),
        (json!({"email": "not-an-email", "role": "editor"}), "invalid_email", Some("email")),
        (json!({"email": "jane@example.com\r\nBcc: x@evil.com", "role": "editor"}), "invalid_email", Some("email")),
        (json!({"email": "jane@evil.com", "role": "editor"}), "email_domain_not_allowed", Some("email")),
        (json!({"email": "jane@example.com", "role": "admin"}), "invalid_role", Some("role")),
    ];
    for (body, code, field) in cases {
        let reply = api.call("POST", &path, Some(body.clone()), Some(&owner)).await;
        assert_eq!((reply.status, reply.code(), reply.body["field"].as_str()), (400, code, field), "{body}");
        assert!(reply.body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert!(api.queued().await.is_empty(), "nothing queued for refused input");
    let list = api.call("GET", &path, None, Some(&owner)).await;
    assert_eq!(list.body, json!([]), "nothing written for refused input");
}

#[tokio::test]
async fn identity_and_permissions_are_enforced() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let path = format!("/api/v1/projects/{pid}/invitations");
    let invite = |email: &str, role: &str| json!({"email": email, "role": role});
    let anonymous = api.call("POST", &path, Some(invite("a@example.com", "editor")), None).await;
    assert_eq!((anonymous.status, anonymous.code()), (401, "unauthenticated"));
    let stranger = user("stranger");
    let outside = api.call("POST", &path, Some(invite("a@example.com", "editor")), Some(&stranger)).await;
    assert_eq!((outside.status, outside.code()), (404, "not_found"));
    assert_eq!(api.call("GET", &path, None, Some(&stranger)).await.status, 404);
    let editor = api.member(&owner, &pid, "editor").await;
    let no_rights = api.call("POST", &path, Some(invite("a@example.com", "readonly")), Some(&editor)).await;
    assert_eq!((no_rights.status, no_rights.code()), (403, "forbidden"));
    assert_eq!(api.call("GET", &path, None, Some(&editor)).await.status, 403);
    let manager = api.member(&owner, &pid, "manager").await;
    let above = api.call("POST", &path, Some(invite("a@example.com", "owner")), Some(&manager)).await;
    assert_eq!((above.status, above.code()), (403, "role_above_own"));
    assert_eq!(api.call("POST", &path, Some(invite("b@example.com", "manager")), Some(&manager)).await.status, 201);
    // Managers use all five spec endpoints.
    let id = api.invite(&owner, &pid, "c@example.com", "readonly").await;
    assert_eq!(api.call("GET", &path, None, Some(&manager)).await.status, 200);
    let put = api.call("PUT", &path, Some(json!({"invitation_id": id, "role": "editor"})), Some(&manager)).await;
    assert_eq!(put.status, 200, "{put:?}");
    api.clock.advance(Duration::seconds(61));
    let resend = api.resend(&manager, &pid, &id).await;
    assert_eq!((resend.status, resend.body.clone()), (200, json!({"message": "Success"})));
    let revoke = api
        .call(
            "POST",
            &format!("/api/v1/projects/{pid}/revoke-invitation"),
            Some(json!({"invitation_id": id})),
            Some(&manager),
        )
        .await;
    assert_eq!((revoke.status, revoke.body.clone()), (200, json!({"message": "Success"})));
}

#[tokio::test]
async fn another_projects_invitation_is_not_found_everywhere() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let id = api.invite(&owner, &pid, "jane@example.com", "editor").await;
    let (intruder, theirs) = api.project().await;
    let body = Some(json!({"invitation_id": id}));
    for (method, path, body) in [
        ("GET", format!("/api/v1/projects/{theirs}/invitations/{id}"), None),
        (
            "PUT",
            format!("/api/v1/projects/{theirs}/invitations"),
            Some(json!({"invitation_id": id, "role": "readonly"})),
        ),
        ("POST", format!("/api/v1/projects/{theirs}/resend-invitation"), body.clone()),
        ("POST", format!("/api/v1/projects/{theirs}/revoke-invitation"), body.clone()),
        ("POST", format!("/api/v1/projects/{pid}/revoke-invitation"), body.clone()),
    ] {
        let reply = api.call(method, &path, body, Some(&intruder)).await;
        assert_eq!((reply.status, reply.code()), (404, "not_found"), "{method} {path}");
    }
    let missing = api
        .call(
            "POST",
            &format!("/api/v1/projects/{pid}/revoke-invitation"),
            Some(json!({"invitation_id": "nope"})),
            Some(&owner),
        )
        .await;
    // A malformed id names nothing; the answer says which field is wrong.
    assert_eq!((missing.status, missing.body["field"].as_str()), (400, Some("invitation_id")));
    let numeric = api
        .call(
            "POST",
            &format!("/api/v1/projects/{pid}/revoke-invitation"),
            Some(json!({"invitation_id": 6})),
            Some(&owner),
        )
        .await;
    assert_eq!((numeric.status, numeric.body["field"].as_str()), (400, Some("invitation_id")));
    let still = api.call("GET", &format!("/api/v1/projects/{pid}/invitations/{id}"), None, Some(&owner)).await;
    assert_eq!(still.body["status"], 1);
}

#[tokio::test]
async fn duplicates_not_pending_and_cooldown_have_their_own_answers() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let id = api.invite(&owner, &pid, "jane@example.com", "editor").await;
    let dup = api
        .call(
            "POST",
            &format!("/api/v1/projects/{pid}/invitations"),
            Some(json!({"email": " JANE@example.com", "role": "readonly"})),
            Some(&owner),
        )
        .await;
    assert_eq!((dup.status, dup.code()), (409, "duplicate_invitation"));
    let resend_path = format!("/api/v1/projects/{pid}/resend-invitation");
    let early = api.call("POST", &resend_path, Some(json!({"invitation_id": id})), Some(&owner)).await;
    assert_eq!((early.status, early.code()), (429, "resend_cooldown"));
    let retry_after: u64 = early.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(api.queued().await.len(), 1, "only the create's message");
    api.clock.advance(Duration::seconds(60));
    let resent = api.call("POST", &resend_path, Some(json!({"invitation_id": id})), Some(&owner)).await;
    assert_eq!(resent.status, 200);
    let read = api.call("GET", &format!("/api/v1/projects/{pid}/invitations/{id}"), None, Some(&owner)).await;
    assert!(read.body["resent_at"].is_string());
    assert_eq!(api.queued().await.len(), 1, "one message for the resend");
    let revoke_path = format!("/api/v1/projects/{pid}/revoke-invitation");
    assert_eq!(api.call("POST", &revoke_path, Some(json!({"invitation_id": id})), Some(&owner)).await.status, 200);
    let again = api.call("POST", &revoke_path, Some(json!({"invitation_id": id})), Some(&owner)).await;
    assert_eq!((again.status, again.code()), (409, "invitation_not_pending"));
    api.clock.advance(Duration::seconds(120));
    let resend_revoked = api.call("POST", &resend_path, Some(json!({"invitation_id": id})), Some(&owner)).await;
    assert_eq!((resend_revoked.status, resend_revoked.code()), (409, "invitation_not_pending"));
    let update_revoked = api
        .call(
            "PUT",
            &format!("/api/v1/projects/{pid}/invitations"),
            Some(json!({"invitation_id": id, "role": "readonly"})),
            Some(&owner),
        )
        .await;
    assert_eq!((update_revoked.status, update_revoked.code()), (409, "invitation_not_pending"));
    let read = api.call("GET", &format!("/api/v1/projects/{pid}/invitations/{id}"), None, Some(&owner)).await;
    assert_eq!(read.body["status"], 3);
    assert!(read.body["revoked_at"].is_string());
}

#[tokio::test]
async fn expired_invitations_are_reported_and_resend_renews_them() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let id = api.invite(&owner, &pid, "jane@example.com", "editor").await;
    api.clock.advance(Duration::days(15));
    let path = format!("/api/v1/projects/{pid}/invitations/{id}");
    assert_eq!(api.call("GET", &path, None, Some(&owner)).await.body["status"], 5);
    let expired = api.call("GET", &format!("/api/v1/projects/{pid}/invitations?status=5"), None, Some(&owner)).await;
    assert_eq!(expired.body.as_array().unwrap().len(), 1);
    let resend = api.resend(&owner, &pid, &id).await;
    assert_eq!(resend.status, 200);
    assert_eq!(api.call("GET", &path, None, Some(&owner)).await.body["status"], 1);
}

#[tokio::test]
async fn lists_are_arrays_with_a_next_link_and_validated_parameters() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        api.clock.advance(Duration::milliseconds(2));
        ids.push(api.invite(&owner, &pid, &format!("u{i}@example.com"), "readonly").await);
    }
    let base = format!("/api/v1/projects/{pid}/invitations");
    let mut seen = Vec::new();
    let mut next = format!("{base}?limit=2");
    loop {
        let page = api.call("GET", &next, None, Some(&owner)).await;
        assert_eq!(page.status, 200);
        let items = page.body.as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        match page.header("link") {
            Some(link) => {
                assert!(link.ends_with("; rel=\"next\""), "{link}");
                next = link.trim_start_matches('<').split('>').next().unwrap().to_owned();
                assert!(next.starts_with(&base) && next.contains("limit=2") && next.contains("cursor="));
            }
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let all = api.call("GET", &base, None, Some(&owner)).await;
    assert_eq!((all.body.as_array().unwrap().len(), all.header("link")), (5, None));
    for (query, code) in [
        ("?cursor=bogus", "invalid_cursor"),
        ("?cursor=eyJ2IjoxLCJhZnRlciI6Im5vdC1hLXV1aWQifQ", "invalid_cursor"),
        ("?status=9", "invalid_status"),
        ("?status=pending", "invalid_status"),
        ("?limit=0", "invalid_limit"),
        ("?limit=101", "invalid_limit"),
    ] {
        let reply = api.call("GET", &format!("{base}{query}"), None, Some(&owner)).await;
        assert_eq!((reply.status, reply.code()), (400, code), "{query}");
    }
    api.call(
        "POST",
        &format!("/api/v1/projects/{pid}/revoke-invitation"),
        Some(json!({"invitation_id": ids[2]})),
        Some(&owner),
    )
    .await;
    let revoked = api.call("GET", &format!("{base}?status=3"), None, Some(&owner)).await;
    assert_eq!(
        revoked.body.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect::<Vec<_>>(),
        vec![ids[2].as_str()]
    );
    assert_eq!(
        api.call("GET", &format!("{base}?status=1"), None, Some(&owner)).await.body.as_array().unwrap().len(),
        4
    );
}

#[tokio::test]
async fn updates_change_role_quietly_and_a_new_address_is_emailed() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let id = api.invite(&owner, &pid, "jane@example.com", "editor").await;
    api.invite(&owner, &pid, "john@example.com", "editor").await;
    api.queued().await;
    let path = format!("/api/v1/projects/{pid}/invitations");
    let role = api.call("PUT", &path, Some(json!({"invitation_id": id, "role": "readonly"})), Some(&owner)).await;
    assert_eq!((role.status, role.body["role"].as_str()), (200, Some("readonly")));
    assert!(api.queued().await.is_empty(), "a role change sends nothing");
    let taken =
        api.call("PUT", &path, Some(json!({"invitation_id": id, "email": "JOHN@example.com"})), Some(&owner)).await;
    assert_eq!((taken.status, taken.code()), (409, "duplicate_invitation"));
    let bad = api.call("PUT", &path, Some(json!({"invitation_id": id, "email": "nope"})), Some(&owner)).await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_email"));
    let missing = api.call("PUT", &path, Some(json!({"role": "readonly"})), Some(&owner)).await;
    assert_eq!((missing.status, missing.code()), (400, "missing_field"));
    let moved =
        api.call("PUT", &path, Some(json!({"invitation_id": id, "email": "june@example.com"})), Some(&owner)).await;
    assert_eq!((moved.status, moved.body["email"].as_str()), (200, Some("june@example.com")));
    let queued = api.queued().await;
    assert_eq!(queued.len(), 1, "one email to the new address");
    assert_eq!(queued[0].invitation_id.to_string(), id);
}

#[tokio::test]
async fn the_invitee_lists_accepts_and_declines_with_a_verified_email() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let (_, other_pid) = {
        let reply = api.call("POST", "/api/v1/projects", Some(json!({"name": "Second"})), Some(&owner)).await;
        (owner.clone(), reply.body["id"].as_str().unwrap().to_owned())
    };
    let jane = user_with_email("Jane.Doe@Example.com");
    let first = api.invite(&owner, &pid, "jane.doe@example.com", "editor").await;
    let second = api.invite(&owner, &other_pid, "JANE.DOE@example.com", "readonly").await;
    api.invite(&owner, &pid, "someone@example.com", "editor").await;
    let mine = api.call("GET", "/api/v1/me/invitations", None, Some(&jane)).await;
    assert_eq!(mine.status, 200);
    let mut ids: Vec<_> = mine.body.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    let mut expected = vec![first.clone(), second.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    let unverified = invitations::Caller { email_verified: false, ..jane.clone() };
    let refused = api.call("GET", "/api/v1/me/invitations", None, Some(&unverified)).await;
    assert_eq!((refused.status, refused.code()), (403, "email_not_verified"));
    let not_mine = user_with_email("john@example.com");
    let steal =
        api.call("POST", &format!("/api/v1/projects/{pid}/invitations/{first}/accept"), None, Some(&not_mine)).await;
    assert_eq!(steal.status, 404);
    let accepted =
        api.call("POST", &format!("/api/v1/projects/{pid}/invitations/{first}/accept"), None, Some(&jane)).await;
    assert_eq!((accepted.status, accepted.body["status"].as_u64()), (200, Some(2)));
    assert_eq!(accepted.body["accepted_by"], jane.user_id.as_str());
    let project = api.call("GET", &format!("/api/v1/projects/{pid}"), None, Some(&jane)).await;
    assert_eq!((project.status, project.body["role"].as_str()), (200, Some("editor")));
    let twice =
        api.call("POST", &format!("/api/v1/projects/{pid}/invitations/{first}/accept"), None, Some(&jane)).await;
    assert_eq!((twice.status, twice.code()), (409, "invitation_not_pending"));
    let declined = api
        .call("POST", &format!("/api/v1/projects/{other_pid}/invitations/{second}/decline"), None, Some(&jane))
        .await;
    assert_eq!((declined.status, declined.body["status"].as_u64()), (200, Some(4)));
    assert_eq!(api.call("GET", &format!("/api/v1/projects/{other_pid}"), None, Some(&jane)).await.status, 404);
    assert_eq!(api.call("GET", "/api/v1/me/invitations", None, Some(&jane)).await.body, json!([]));
}

#[tokio::test]
async fn a_send_request_reaches_the_queue_from_the_table_even_when_the_api_dies_after_its_commit() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    // The create's transaction commits, and then the function dies before it answers: the
    // database did the work, the caller never heard back.
    let proxy = FaultProxy::start(&dynamodb_endpoint()).await;
    proxy.inject("TransactWriteItems", Fault::ForwardThenHang, 1);
    let dying = Invitations::new(
        std::sync::Arc::new(invitations::store::dynamodb::DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&sdk_config(&proxy.url)),
            api.store.table(),
        )),
        api.clock.clone(),
        Settings::default(),
    );
    let body = json!({"email": "jane@example.com", "role": "editor"}).to_string();
    let path = format!("/api/v1/projects/{pid}/invitations");
    let call = api.call_raw(&dying, "POST", &path, Some(&body), Some(&owner));
    assert!(tokio::time::timeout(std::time::Duration::from_millis(500), call).await.is_err(), "the call never ends");
    // The invitation is there, and its send request comes from the table's stream.
    let listed = api.call("GET", &path, None, Some(&owner)).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1));
    let id = listed.body[0]["id"].as_str().unwrap();
    let queued = api.queued().await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].invitation_id.to_string(), id);
    assert!(api.queued().await.is_empty(), "once");
    reliability(
        "the API function dies after its commit, before it answers",
        "the invitation and its event are committed; the email pipe queues its send request once",
    );
}

#[tokio::test]
async fn every_change_is_in_the_project_s_event_log_and_on_the_bus() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let jane = user_with_email(&unique_email("jane"));
    let id = api.invite(&owner, &pid, jane.email.as_deref().unwrap(), "editor").await;
    api.clock.advance(Duration::seconds(60));
    let resend = api.resend(&owner, &pid, &id).await;
    assert_eq!(resend.status, 200);
    let accepted =
        api.call("POST", &format!("/api/v1/projects/{pid}/invitations/{id}/accept"), None, Some(&jane)).await;
    assert_eq!(accepted.status, 200);

    let log = api.call("GET", &format!("/api/v1/projects/{pid}/events"), None, Some(&owner)).await;
    assert_eq!(log.status, 200, "{log:?}");
    let types: Vec<&str> = log.body.as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "member.added",
            "invitation.accepted",
            "invitation.resent",
            "invitation.created",
            "member.added",
            "project.created"
        ]
    );
    let created = &log.body[3];
    assert_eq!(created["invitation_id"], id.as_str());
    assert_eq!(created["actor"], owner.user_id.as_str());
    assert_eq!(
        (created["email"].as_str(), created["role"].as_str(), created["status"].as_str()),
        (jane.email.as_deref(), Some("editor"), Some("pending"))
    );
    assert_eq!(log.body[1]["member_id"], jane.user_id.as_str());
    let text = log.body.to_string();
    assert!(!text.contains("invitation_url") && !text.contains("http"), "no link in an event: {text}");

    // Filters, pagination (newest first) and who may read it.
    let by_type =
        api.call("GET", &format!("/api/v1/projects/{pid}/events?type=invitation.resent"), None, Some(&owner)).await;
    assert_eq!(by_type.body.as_array().map(Vec::len), Some(1));
    let by_invitation =
        api.call("GET", &format!("/api/v1/projects/{pid}/events?invitation_id={id}"), None, Some(&owner)).await;
    // created, resent, accepted, and the membership it made.
    assert_eq!(by_invitation.body.as_array().map(Vec::len), Some(4));
    let first = api.call("GET", &format!("/api/v1/projects/{pid}/events?limit=2"), None, Some(&owner)).await;
    assert_eq!(first.body.as_array().map(Vec::len), Some(2));
    let next = first.header("link").unwrap().split(['<', '>']).nth(1).unwrap().to_owned();
    let second = api.call("GET", &next, None, Some(&owner)).await;
    assert_eq!(second.body[0]["type"], "invitation.resent");
    let bad = api.call("GET", &format!("/api/v1/projects/{pid}/events?type=nope"), None, Some(&owner)).await;
    assert_eq!((bad.status, bad.code(), bad.body["field"].as_str()), (400, "invalid_type", Some("type")));
    assert_eq!(api.call("GET", &format!("/api/v1/projects/{pid}/events"), None, Some(&jane)).await.status, 403);
    assert_eq!(api.call("GET", &format!("/api/v1/projects/{pid}/events"), None, Some(&user("x"))).await.status, 404);

    // The events pipe publishes each one, as the template's input template shapes it.
    api.pump().await;
    let published = api.published.lock().unwrap().clone();
    let on_bus: Vec<serde_json::Value> = published.iter().map(|d| serde_json::from_str(&d.body).unwrap()).collect();
    assert_eq!(on_bus.len(), 6);
    let accepted_event = on_bus.iter().find(|e| e["type"] == "invitation.accepted").unwrap();
    assert_eq!(accepted_event["member_id"], jane.user_id.as_str());
    assert_eq!(accepted_event["project_id"], pid.as_str());
    let delivery = published.iter().find(|d| d.detail_type.as_deref() == Some("invitation.accepted")).unwrap();
    assert_eq!(delivery.source.as_deref(), Some("project-invitations"));
}

#[tokio::test]
async fn if_match_guards_update_resend_and_revoke_with_the_etag_of_the_get() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let id = api.invite(&owner, &pid, &unique_email("etag"), "editor").await;
    let path = format!("/api/v1/projects/{pid}/invitations");
    let read = api.call("GET", &format!("{path}/{id}"), None, Some(&owner)).await;
    let etag = read.header("etag").expect("an ETag").to_owned();
    assert_eq!(etag, format!("\"{}\"", read.body["version"]));

    let put = |tag: &str, role: &str| {
        let body = json!({"invitation_id": id, "role": role}).to_string();
        let tag = tag.to_owned();
        let path = path.clone();
        let api = &api;
        let owner = &owner;
        async move { api.call_with_headers(&api.app, "PUT", &path, Some(&body), &[("if-match", &tag)], Some(owner)).await }
    };
    let changed = put(&etag, "manager").await;
    assert_eq!(changed.status, 200, "{changed:?}");
    let new_etag = changed.header("etag").unwrap().to_owned();
    assert_ne!(new_etag, etag);
    assert_eq!(new_etag, format!("\"{}\"", changed.body["version"]));

    let stale = put(&etag, "readonly").await;
    assert_eq!((stale.status, stale.code()), (412, "precondition_failed"), "{stale:?}");
    let unknown = put("\"not-a-version\"", "readonly").await;
    assert_eq!(unknown.status, 412);
    let read = api.call("GET", &format!("{path}/{id}"), None, Some(&owner)).await;
    assert_eq!(read.body["role"], "manager", "a refused change changed nothing");
    assert_eq!(put(&format!("W/{new_etag}, \"999\""), "editor").await.status, 200, "a weak tag in a list matches");
    assert_eq!(put("*", "manager").await.status, 200);

    let body = json!({"invitation_id": id}).to_string();
    for action in ["resend-invitation", "revoke-invitation"] {
        let path = format!("/api/v1/projects/{pid}/{action}");
        let stale =
            api.call_with_headers(&api.app, "POST", &path, Some(&body), &[("if-match", &etag)], Some(&owner)).await;
        assert_eq!((stale.status, stale.code()), (412, "precondition_failed"), "{action}: {stale:?}");
    }
    let current = api.call("GET", &format!("{path}/{id}"), None, Some(&owner)).await;
    let tag = current.header("etag").unwrap();
    let path = format!("/api/v1/projects/{pid}/revoke-invitation");
    let revoked = api.call_with_headers(&api.app, "POST", &path, Some(&body), &[("if-match", tag)], Some(&owner)).await;
    assert_eq!(revoked.status, 200, "{revoked:?}");
    assert_ne!(revoked.header("etag"), Some(tag));
}
