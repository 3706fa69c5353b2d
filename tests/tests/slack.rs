//! The Slack integration's API: owners configure it (the token's secret named by its ARN, in the
//! stack's account and region, never a token), managers ask for a new attempt at a member's
//! invitation; every refusal in the contract's order.

use integration_tests::*;
use serde_json::json;

const ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:slack-token-AbCdEf";

fn admin_invite() -> serde_json::Value {
    json!({"mode": "admin_invite", "team_id": "T0123ABCD", "channel_ids": ["C0123ABCD"], "token_secret_arn": ARN})
}

#[tokio::test]
async fn owners_configure_read_and_remove_the_integration_and_nobody_sees_a_token() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let manager = api.member(&owner, &pid, "manager").await;
    let path = format!("/api/v1/projects/{pid}/integrations/slack");

    assert_eq!(api.call("GET", &path, None, Some(&owner)).await.status, 404, "none yet");
    let set = api.call("PUT", &path, Some(admin_invite()), Some(&owner)).await;
    assert_eq!(set.status, 200, "{set:?}");
    assert_eq!(set.body["mode"], "admin_invite");
    assert_eq!(set.body["channel_ids"], json!(["C0123ABCD"]));
    assert_eq!(set.body["token_secret_arn"], ARN);
    let read = api.call("GET", &path, None, Some(&owner)).await;
    assert_eq!((read.status, &read.body), (200, &set.body));
    assert!(!read.body.to_string().contains("xox"), "no token, ever");
    let scim = json!({"mode": "scim", "token_secret_arn": ARN});
    assert_eq!(api.call("PUT", &path, Some(scim), Some(&owner)).await.body["mode"], "scim");

    for (who, status) in [(&manager, 403), (&user("stranger"), 404)] {
        assert_eq!(api.call("GET", &path, None, Some(who)).await.status, status);
        assert_eq!(api.call("PUT", &path, Some(admin_invite()), Some(who)).await.status, status);
        assert_eq!(api.call("PUT", &path, Some(json!({"mode": "x"})), Some(who)).await.status, status, "before 400");
        assert_eq!(api.call("DELETE", &path, None, Some(who)).await.status, status);
    }
    let events = api
        .call("GET", &format!("/api/v1/projects/{pid}/events?type=integration.slack.updated"), None, Some(&owner))
        .await;
    assert_eq!(events.body.as_array().unwrap().len(), 2);

    assert_eq!(api.call("DELETE", &path, None, Some(&owner)).await.status, 204);
    assert_eq!(api.call("GET", &path, None, Some(&owner)).await.status, 404);
    assert_eq!(api.call("DELETE", &path, None, Some(&owner)).await.status, 404);
}

#[tokio::test]
async fn settings_are_checked_field_by_field_and_the_secret_must_be_this_stacks() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let path = format!("/api/v1/projects/{pid}/integrations/slack");
    let with = |field: &str, value: serde_json::Value| {
        let mut body = admin_invite();
        body[field] = value;
        body
    };
    let cases = [
        (with("mode", json!("legacy")), "mode"),
        (with("team_id", json!(null)), "team_id"),
        (with("team_id", json!("my team")), "team_id"),
        (with("channel_ids", json!([])), "channel_ids"),
        (with("channel_ids", json!(["general"])), "channel_ids"),
        (with("token_secret_arn", json!("arn:aws:secretsmanager:eu-west-1:123456789012:secret:t")), "token_secret_arn"),
        (with("token_secret_arn", json!("arn:aws:secretsmanager:us-east-1:999999999999:secret:t")), "token_secret_arn"),
        (with("token_secret_arn", json!("xoxb-1234")), "token_secret_arn"),
    ];
    for (body, field) in cases {
        let reply = api.call("PUT", &path, Some(body.clone()), Some(&owner)).await;
        assert_eq!((reply.status, reply.body["field"].as_str()), (400, Some(field)), "{body}: {reply:?}");
    }
    let missing = api.call("PUT", &path, Some(json!({"mode": "scim"})), Some(&owner)).await;
    assert_eq!((missing.status, missing.code()), (400, "missing_field"));
    assert_eq!(api.call("GET", &path, None, Some(&owner)).await.status, 404, "nothing half-written");
}

#[tokio::test]
async fn a_manager_asks_for_a_new_attempt_at_a_members_slack_invitation() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let (manager, editor) = (api.member(&owner, &pid, "manager").await, api.member(&owner, &pid, "editor").await);
    let retry = |who: &invitations::Caller, whom: &invitations::Caller| {
        let path = format!("/api/v1/projects/{pid}/members/{}/slack-invite", whom.user_id);
        let (api, who) = (&api, who.clone());
        async move { api.call("POST", &path, None, Some(&who)).await }
    };
    let unconfigured = retry(&manager, &editor).await;
    assert_eq!((unconfigured.status, unconfigured.code()), (409, "slack_not_configured"));
    let path = format!("/api/v1/projects/{pid}/integrations/slack");
    api.call("PUT", &path, Some(admin_invite()), Some(&owner)).await;

    let queued = retry(&manager, &editor).await;
    assert_eq!((queued.status, queued.body["slack_status"].as_str()), (202, Some("pending")), "{queued:?}");
    assert_eq!(retry(&editor, &manager).await.status, 403);
    assert_eq!(retry(&user("stranger"), &editor).await.status, 404);
    assert_eq!(retry(&manager, &user("nobody")).await.status, 404);
    let members = api.call("GET", &format!("/api/v1/projects/{pid}/members"), None, Some(&editor)).await;
    let shown: Vec<_> = members.body.as_array().unwrap().iter().map(|m| m["slack_status"].clone()).collect();
    assert!(shown.contains(&json!("pending")) && shown.contains(&json!(null)), "{shown:?}");
    let requested = api
        .call("GET", &format!("/api/v1/projects/{pid}/events?type=member.slack.requested"), None, Some(&owner))
        .await;
    let event = &requested.body[0];
    assert_eq!(
        (event["member_id"].as_str(), event["actor"].as_str()),
        (Some(editor.user_id.as_str()), Some(manager.user_id.as_str()))
    );
    api.pump().await;
    let published = api.published.lock().unwrap();
    assert!(published.iter().any(|d| d.body.contains("member.slack.requested")), "on the bus, for the consumer");
}
