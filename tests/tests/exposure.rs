//! Safe to expose: what an abuser, a fuzzer or a client ported from onadata sends, through real
//! API Gateway events against DynamoDB Local. Answers come in the contract's order (401, 404,
//! 403, 400, then 409/412/429), input is bounded, and nothing reaches a panic.

use integration_tests::*;
use serde_json::json;

/// A request with headers (the harness's `call` sends none).
async fn call_with(
    api: &Api,
    method: &str,
    path: &str,
    body: &str,
    headers: &[(&str, &str)],
    who: &invitations::Caller,
) -> Reply {
    api.call_with_headers(&api.app, method, path, Some(body), headers, Some(who)).await
}

#[tokio::test]
async fn a_list_link_carries_only_its_own_parameters_encoded_and_never_panics() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    for i in 0..2 {
        api.invite(&owner, &pid, &format!("p{i}@example.com"), "editor").await;
    }
    for extra in ["x=%1F", "x=%22%3E%23%26cursor%3Devil", "x=%0D%0ASet-Cookie:%20a"] {
        let reply = api
            .call("GET", &format!("/api/v1/projects/{pid}/invitations?limit=1&{extra}&status=1"), None, Some(&owner))
            .await;
        assert_eq!(reply.status, 200, "{extra}: {reply:?}");
        let link = reply.header("link").unwrap();
        assert!(!link.contains("x=") && !link.contains("evil"), "{link}");
        assert!(link.contains("limit=1") && link.contains("status=1") && link.contains("cursor="), "{link}");
    }
    let members = api.call("GET", &format!("/api/v1/projects/{pid}/members?limit=1&x=%1F"), None, Some(&owner)).await;
    assert_eq!(members.status, 200);
}

#[tokio::test]
async fn answers_come_in_the_contract_s_order() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let editor = api.member(&owner, &pid, "editor").await;
    let stranger = user("stranger");
    let create = format!("/api/v1/projects/{pid}/invitations");
    // 404 before 403 before 400.
    let refused = api.call("POST", &create, Some(json!({})), Some(&stranger)).await;
    assert_eq!((refused.status, refused.code()), (404, "not_found"));
    let refused = api.call("POST", &create, Some(json!({})), Some(&editor)).await;
    assert_eq!((refused.status, refused.code()), (403, "forbidden"));
    let refused =
        api.call("POST", &create, Some(json!({"email": "a@example.com", "role": "admin"})), Some(&editor)).await;
    assert_eq!(refused.status, 403);
    let nowhere = api.call("POST", "/api/v1/projects/no-such-project/invitations", Some(json!({})), Some(&owner)).await;
    assert_eq!(nowhere.status, 404);
    let refused = api.call("POST", &create, Some(json!({})), Some(&owner)).await;
    assert_eq!((refused.status, refused.code(), refused.body["field"].as_str()), (400, "missing_field", Some("email")));
    // A malformed invitation_id is a 400 naming it, for whoever may ask.
    for path in ["resend-invitation", "revoke-invitation"] {
        for id in [json!("89"), json!(89), json!("")] {
            let reply = api
                .call(
                    "POST",
                    &format!("/api/v1/projects/{pid}/{path}"),
                    Some(json!({"invitation_id": id})),
                    Some(&owner),
                )
                .await;
            assert_eq!((reply.status, reply.body["field"].as_str()), (400, Some("invitation_id")), "{path} {id}");
            let reply = api
                .call(
                    "POST",
                    &format!("/api/v1/projects/{pid}/{path}"),
                    Some(json!({"invitation_id": id})),
                    Some(&editor),
                )
                .await;
            assert_eq!(reply.status, 403, "{path} {id} from an editor");
        }
    }
    // List parameters: empty means absent; a bad one is a 400 only for those who may list.
    let empty = api
        .call("GET", &format!("/api/v1/projects/{pid}/invitations?cursor=&status=&limit="), None, Some(&owner))
        .await;
    assert_eq!(empty.status, 200);
    let bad = api.call("GET", &format!("/api/v1/projects/{pid}/invitations?status=9"), None, Some(&editor)).await;
    assert_eq!(bad.status, 403);
    let bad = api.call("GET", &format!("/api/v1/projects/{pid}/invitations?status=9"), None, Some(&stranger)).await;
    assert_eq!(bad.status, 404);
    let unverified = invitations::Caller { email_verified: false, ..user("unverified") };
    let mine = api.call("GET", "/api/v1/me/invitations?limit=0", None, Some(&unverified)).await;
    assert_eq!((mine.status, mine.code()), (403, "email_not_verified"));
    let mine = api.call("GET", "/api/v1/me/invitations?limit=0", None, Some(&owner)).await;
    assert_eq!((mine.status, mine.code()), (400, "invalid_limit"));
}

#[tokio::test]
async fn null_is_not_absent_and_a_manager_touches_no_invitation_above_their_role() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let id = api.invite(&owner, &pid, &unique_email("x"), "editor").await;
    let put = format!("/api/v1/projects/{pid}/invitations");
    let null_role = api.call("PUT", &put, Some(json!({"invitation_id": id, "role": null})), Some(&owner)).await;
    assert_eq!((null_role.status, null_role.body["field"].as_str()), (400, Some("role")));
    let manager = api.member(&owner, &pid, "manager").await;
    let for_owner = api.invite(&owner, &pid, &unique_email("co-owner"), "owner").await;
    api.clock.advance(time::Duration::days(30));
    for path in ["resend-invitation", "revoke-invitation"] {
        let reply = api
            .call(
                "POST",
                &format!("/api/v1/projects/{pid}/{path}"),
                Some(json!({"invitation_id": for_owner})),
                Some(&manager),
            )
            .await;
        assert_eq!((reply.status, reply.code()), (403, "role_above_own"), "{path}");
    }
}

#[tokio::test]
async fn only_verified_addresses_invite_or_show() {
    let api = Api::new().await;
    let unverified = invitations::Caller { email_verified: false, ..user("unverified") };
    let created = api.call("POST", "/api/v1/projects", Some(json!({"name": "Mine"})), Some(&unverified)).await;
    let pid = created.body["id"].as_str().unwrap();
    let invite = api
        .call(
            "POST",
            &format!("/api/v1/projects/{pid}/invitations"),
            Some(json!({"email": "a@example.com", "role": "editor"})),
            Some(&unverified),
        )
        .await;
    assert_eq!((invite.status, invite.code()), (403, "email_not_verified"));
    let members = api.call("GET", &format!("/api/v1/projects/{pid}/members"), None, Some(&unverified)).await;
    assert!(members.body[0]["email"].is_null(), "an unverified address is not shown: {}", members.body);
}

#[tokio::test]
async fn input_is_bounded_and_refused_with_a_400_never_a_5xx() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let create = format!("/api/v1/projects/{pid}/invitations");
    let huge = json!({"email": "a@example.com", "role": "editor", "pad": "x".repeat(70_000)});
    assert_eq!(api.call("POST", &create, Some(huge), Some(&owner)).await.code(), "body_too_large");
    let long_id = "a".repeat(3000);
    assert_eq!(
        api.call("GET", &format!("/api/v1/projects/{long_id}/invitations"), None, Some(&owner)).await.status,
        404
    );
    let long_cursor = api.call("GET", &format!("{create}?cursor={}", "A".repeat(3000)), None, Some(&owner)).await;
    assert_eq!((long_cursor.status, long_cursor.code()), (400, "invalid_cursor"));
    let deep = format!("u@{}example.com", "a.".repeat(125));
    let reply = api.call("POST", &create, Some(json!({"email": deep, "role": "editor"})), Some(&owner)).await;
    assert_eq!((reply.status, reply.code()), (400, "invalid_email"));
    let patterns: Vec<String> = (0..101).map(|i| format!("d{i}.example.com")).collect();
    let reply = api
        .call("POST", "/api/v1/projects", Some(json!({"name": "P", "allowed_email_domains": patterns})), Some(&owner))
        .await;
    assert_eq!((reply.status, reply.body["field"].as_str()), (400, Some("allowed_email_domains")));
    let reply = api.call("POST", "/api/v1/projects", Some(json!({"name": "n".repeat(201)})), Some(&owner)).await;
    assert_eq!((reply.status, reply.body["field"].as_str()), (400, Some("name")));
    let reply =
        api.call("POST", &create, Some(json!({"email": "jürgen@example.com", "role": "editor"})), Some(&owner)).await;
    assert_eq!((reply.status, reply.code()), (400, "invalid_email"));
}

#[tokio::test]
async fn international_domains_are_one_address() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    api.invite(&owner, &pid, "u@münchen.de", "editor").await;
    let again = api
        .call(
            "POST",
            &format!("/api/v1/projects/{pid}/invitations"),
            Some(json!({"email": "U@xn--mnchen-3ya.de", "role": "editor"})),
            Some(&owner),
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "duplicate_invitation"));
}

#[tokio::test]
async fn my_invitations_come_a_page_at_a_time() {
    let api = Api::new().await;
    let jane = user_with_email(&unique_email("jane"));
    for _ in 0..3 {
        let (owner, pid) = api.project().await;
        api.invite(&owner, &pid, jane.email.as_deref().unwrap(), "editor").await;
    }
    let first = api.call("GET", "/api/v1/me/invitations?limit=2", None, Some(&jane)).await;
    assert_eq!(first.body.as_array().map(Vec::len), Some(2));
    let next = first.header("link").unwrap().split(['<', '>']).nth(1).unwrap().to_owned();
    let second = api.call("GET", &next, None, Some(&jane)).await;
    assert_eq!(second.body.as_array().map(Vec::len), Some(1));
    assert!(second.header("link").is_none());
}

#[tokio::test]
async fn a_page_of_my_invitations_is_full_while_more_follow() {
    let api = Api::new().await;
    let jane = user_with_email(&unique_email("jane"));
    let invite_jane = || async {
        let (owner, pid) = api.project().await;
        api.invite(&owner, &pid, jane.email.as_deref().unwrap(), "editor").await
    };
    for _ in 0..3 {
        invite_jane().await;
    }
    // Those three lapse; their markers stay a while, first in project order.
    api.clock.advance(time::Duration::days(15));
    let mut live = Vec::new();
    for _ in 0..3 {
        live.push(invite_jane().await);
    }
    let ids = |reply: &Reply| -> Vec<String> {
        reply.body.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
    };
    let first = api.call("GET", "/api/v1/me/invitations?limit=2", None, Some(&jane)).await;
    assert_eq!(ids(&first), live[..2]);
    let next = first.header("link").unwrap().split(['<', '>']).nth(1).unwrap().to_owned();
    let second = api.call("GET", &next, None, Some(&jane)).await;
    assert_eq!(ids(&second), live[2..]);
    assert!(second.header("link").is_none());
}

#[tokio::test]
async fn django_rest_framework_clients_may_send_forms() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let created = call_with(
        &api,
        "POST",
        &format!("/api/v1/projects/{pid}/invitations"),
        "email=jane%40example.com&role=editor",
        &form,
        &owner,
    )
    .await;
    assert_eq!((created.status, created.body["email"].as_str()), (201, Some("jane@example.com")));
    let id = created.body["id"].as_str().unwrap();
    api.clock.advance(time::Duration::minutes(2));
    let resent = call_with(
        &api,
        "POST",
        &format!("/api/v1/projects/{pid}/resend-invitation"),
        &format!("invitation_id={id}"),
        &form,
        &owner,
    )
    .await;
    assert_eq!((resent.status, resent.body["message"].as_str()), (200, Some("Success")));
    let updated = call_with(
        &api,
        "PUT",
        &format!("/api/v1/projects/{pid}/invitations"),
        &format!("invitation_id={id}&role=readonly"),
        &form,
        &owner,
    )
    .await;
    assert_eq!((updated.status, updated.body["role"].as_str()), (200, Some("readonly")));
}
