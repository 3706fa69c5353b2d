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

mod consumer {
    //! The consumer against the Slack stand-in (`tests/src/slack_standin.rs`), tokens in moto's
    //! Secrets Manager, members in DynamoDB Local; its events come off the table's stream through
    //! the template's events pipe, and reach it when the template's `SlackRule` matches them.

    use super::*;
    use async_trait::async_trait;
    use integration_tests::slack_standin::{Script, SlackStandIn};
    use invitations::queue::{QueueError, Redelivery};
    use invitations::service::{SlackInvites, SlackOutcome};
    use invitations::slack::http::HttpSlack;
    use invitations::slack::secrets::SecretsManager;
    use invitations::sqs_batch::Message;
    use invitations::Caller;
    use slack_invite::SlackInviter;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    const TOKEN: &str = "xoxp-stand-in-token";

    /// What the consumer asked of the queue: each delay it put a message back for.
    #[derive(Default)]
    struct Delays(Mutex<Vec<Duration>>);

    #[async_trait]
    impl Redelivery for Delays {
        async fn delay(&self, _receipt: &str, delay: Duration) -> Result<(), QueueError> {
            self.0.lock().unwrap().push(delay);
            Ok(())
        }
    }

    struct Setup {
        api: Api,
        slack: SlackStandIn,
        owner: Caller,
        pid: String,
        inviter: SlackInviter,
        delays: Arc<Delays>,
    }

    async fn secret(value: &str) -> String {
        let client = aws_sdk_secretsmanager::Client::new(&sdk_config(&moto_endpoint()));
        let created = client.create_secret().name(unique("slack-token")).secret_string(value).send().await.unwrap();
        created.arn().unwrap().to_owned()
    }

    async fn setup(settings: serde_json::Value, token: &str) -> Setup {
        let api = Api::new().await;
        let (owner, pid) = api.project().await;
        let slack = SlackStandIn::start(TOKEN).await;
        let mut settings = settings;
        settings["token_secret_arn"] = json!(secret(token).await);
        let path = format!("/api/v1/projects/{pid}/integrations/slack");
        assert_eq!(api.call("PUT", &path, Some(settings), Some(&owner)).await.status, 200);
        let http = HttpSlack::new(&slack.api_url(), &slack.scim_url(), Duration::from_millis(500));
        let secrets = SecretsManager::new(aws_sdk_secretsmanager::Client::new(&sdk_config(&moto_endpoint())));
        let invites = SlackInvites::new(api.store.clone(), api.clock.clone(), Arc::new(http), Arc::new(secrets));
        let delays = Arc::new(Delays::default());
        let inviter = SlackInviter { invites, redelivery: delays.clone() };
        Setup { api, slack, owner, pid, inviter, delays }
    }

    /// The bus's events since the last call that the template's `SlackRule` sends to its queue,
    /// as EventBridge puts them there.
    async fn routed(api: &Api) -> Vec<String> {
        api.pump().await;
        let rule = integration_tests::iam::template()["Resources"]["SlackRule"]["Properties"]["EventPattern"].clone();
        let wanted = |key: &str| -> Vec<String> {
            rule[key].as_sequence().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
        };
        let (sources, types) = (wanted("source"), wanted("detail-type"));
        let published: Vec<_> = std::mem::take(&mut *api.published.lock().unwrap());
        published
            .into_iter()
            .filter(|d| {
                d.source.as_ref().is_some_and(|s| sources.contains(s))
                    && d.detail_type.as_ref().is_some_and(|t| types.contains(t))
            })
            .map(|d| {
                let detail: serde_json::Value = serde_json::from_str(&d.body).unwrap();
                json!({"version": "0", "id": uuid::Uuid::new_v4().to_string(), "detail-type": d.detail_type,
                       "source": d.source, "account": "123456789012", "time": "2026-12-02T12:00:00Z",
                       "region": "us-east-1", "resources": [], "detail": detail})
                .to_string()
            })
            .collect()
    }

    fn message(body: &str) -> Message {
        Message { body: body.to_owned(), receipt_handle: Some("receipt".into()), receive_count: 1 }
    }

    /// A member who accepted an invitation with `note`; the events it made, routed.
    async fn accepted(s: &Setup, email: &str, note: Option<&str>) -> (Caller, Vec<String>) {
        let member = user_with_email(email);
        let mut body = json!({"email": email, "role": "editor"});
        if let Some(note) = note {
            body["message"] = json!(note);
        }
        let created =
            s.api.call("POST", &format!("/api/v1/projects/{}/invitations", s.pid), Some(body), Some(&s.owner)).await;
        let id = created.body["id"].as_str().unwrap();
        let accept = format!("/api/v1/projects/{}/invitations/{id}/accept", s.pid);
        assert_eq!(s.api.call("POST", &accept, None, Some(&member)).await.status, 200);
        let events = routed(&s.api).await;
        assert_eq!(events.len(), 1, "the acceptance, routed to the Slack queue");
        (member, events)
    }

    async fn member_view(s: &Setup, member: &Caller) -> serde_json::Value {
        let members = s.api.call("GET", &format!("/api/v1/projects/{}/members", s.pid), None, Some(&s.owner)).await;
        members.body.as_array().unwrap().iter().find(|m| m["user_id"] == member.user_id.as_str()).unwrap().clone()
    }

    fn admin_invite() -> serde_json::Value {
        json!({"mode": "admin_invite", "team_id": "T0123ABCD", "channel_ids": ["C0123ABCD", "C0456EFGH"]})
    }

    #[tokio::test]
    async fn an_accepted_member_is_invited_once_with_the_invitations_note() {
        let s = setup(admin_invite(), TOKEN).await;
        let email = unique_email("joiner");
        let (member, events) = accepted(&s, &email, Some("Welcome to the field team!")).await;
        let outcome = s.inviter.handle_message(message(&events[0])).await.unwrap();
        assert_eq!(outcome, SlackOutcome::Invited);
        let calls = s.slack.calls();
        assert_eq!(calls.len(), 1);
        assert_eq!((calls[0].path.as_str(), calls[0].token.as_deref()), ("/api/admin.users.invite", Some(TOKEN)));
        let args = &calls[0].args;
        assert_eq!(args["email"], email);
        assert_eq!((args["team_id"].as_str(), args["channel_ids"].as_str()), ("T0123ABCD", "C0123ABCD,C0456EFGH"));
        assert_eq!(args["custom_message"], "Welcome to the field team!");
        let view = member_view(&s, &member).await;
        assert_eq!((view["slack_status"].as_str(), &view["slack_error"]), (Some("invited"), &json!(null)));
        let id = serde_json::from_str::<serde_json::Value>(&events[0]).unwrap()["detail"]["invitation_id"].clone();
        let invitation_path = format!("/api/v1/projects/{}/invitations/{}", s.pid, id.as_str().unwrap());
        let on_invitation = s.api.call("GET", &invitation_path, None, Some(&s.owner)).await;
        assert_eq!(on_invitation.body["slack_status"], "invited", "shown on the accepted invitation too");
        // The same event again, and several at once: no second invitation.
        let again = s.inviter.handle_message(message(&events[0])).await.unwrap();
        assert!(matches!(again, SlackOutcome::Skipped(_)), "{again:?}");
        assert_eq!(s.slack.calls().len(), 1);
        let invited = routed(&s.api).await;
        assert!(invited.is_empty(), "member.slack.invited is not routed back to the consumer");
        let log = s
            .api
            .call("GET", &format!("/api/v1/projects/{}/events?type=member.slack.invited", s.pid), None, Some(&s.owner))
            .await;
        assert_eq!(log.body[0]["member_id"], member.user_id.as_str());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_deliveries_of_one_event_invite_once() {
        let s = Arc::new(setup(admin_invite(), TOKEN).await);
        let (_, events) = accepted(&s, &unique_email("raced"), None).await;
        let attempts: Vec<_> = (0..6)
            .map(|_| {
                let (s, body) = (s.clone(), events[0].clone());
                tokio::spawn(async move { s.inviter.handle_message(message(&body)).await })
            })
            .collect();
        let outcomes: Vec<_> = futures::future::join_all(attempts).await.into_iter().map(Result::unwrap).collect();
        assert_eq!(s.slack.calls().len(), 1, "{outcomes:?}");
        assert_eq!(outcomes.iter().filter(|o| matches!(o, Ok(SlackOutcome::Invited))).count(), 1, "{outcomes:?}");
    }

    #[tokio::test]
    async fn a_permanent_refusal_is_recorded_once_and_a_managers_retry_asks_again() {
        let s = setup(admin_invite(), TOKEN).await;
        for code in ["invalid_email", "user_disabled", "not_allowed", "missing_scope"] {
            let email = unique_email(code);
            s.slack.script(&email, vec![Script::Error(code.into())]);
            let (member, events) = accepted(&s, &email, None).await;
            let outcome = s.inviter.handle_message(message(&events[0])).await.unwrap();
            assert_eq!(outcome, SlackOutcome::Failed { error: code.into() });
            let view = member_view(&s, &member).await;
            assert_eq!((view["slack_status"].as_str(), view["slack_error"].as_str()), (Some("failed"), Some(code)));
            let before = s.slack.calls().len();
            assert!(matches!(s.inviter.handle_message(message(&events[0])).await.unwrap(), SlackOutcome::Skipped(_)));
            assert_eq!(s.slack.calls().len(), before, "recorded once, not retried by itself");
            if code == "invalid_email" {
                let retry = format!("/api/v1/projects/{}/members/{}/slack-invite", s.pid, member.user_id);
                assert_eq!(s.api.call("POST", &retry, None, Some(&s.owner)).await.status, 202);
                let requested = routed(&s.api).await;
                assert_eq!(requested.len(), 1, "member.slack.requested reaches the queue");
                assert_eq!(s.inviter.handle_message(message(&requested[0])).await.unwrap(), SlackOutcome::Invited);
                assert_eq!(member_view(&s, &member).await["slack_status"], "invited");
            }
        }
        let failed = s
            .api
            .call("GET", &format!("/api/v1/projects/{}/events?type=member.slack.failed", s.pid), None, Some(&s.owner))
            .await;
        assert_eq!(failed.body.as_array().unwrap().len(), 4);
        assert_eq!(failed.body[0]["reason"], "missing_scope");
    }

    #[tokio::test]
    async fn already_in_team_is_settled_and_a_wrong_token_fails_with_slacks_code() {
        let s = setup(admin_invite(), "xoxp-not-the-token").await;
        let (member, events) = accepted(&s, &unique_email("badauth"), None).await;
        assert_eq!(
            s.inviter.handle_message(message(&events[0])).await.unwrap(),
            SlackOutcome::Failed { error: "invalid_auth".into() }
        );
        assert_eq!(member_view(&s, &member).await["slack_error"], "invalid_auth");

        let s = setup(admin_invite(), TOKEN).await;
        let email = unique_email("member");
        s.slack.in_team(&email);
        let (member, events) = accepted(&s, &email, None).await;
        assert_eq!(s.inviter.handle_message(message(&events[0])).await.unwrap(), SlackOutcome::AlreadyInTeam);
        assert_eq!(member_view(&s, &member).await["slack_status"], "already_in_team");
        // Invited before by someone else: done, and said so.
        let email = unique_email("invited-before");
        s.slack.script(&email, vec![Script::Error("already_invited".into())]);
        let (member, events) = accepted(&s, &email, None).await;
        assert_eq!(s.inviter.handle_message(message(&events[0])).await.unwrap(), SlackOutcome::Invited);
        let view = member_view(&s, &member).await;
        assert_eq!(
            (view["slack_status"].as_str(), view["slack_error"].as_str()),
            (Some("invited"), Some("already_invited"))
        );
    }

    #[tokio::test]
    async fn rate_limits_wait_for_retry_after_and_failures_and_hangs_retry_with_backoff() {
        let s = setup(admin_invite(), TOKEN).await;
        let email = unique_email("busy");
        s.slack.script(&email, vec![Script::RateLimited { retry_after_secs: 7 }, Script::ServerError, Script::Hang]);
        let (member, events) = accepted(&s, &email, None).await;
        for round in 0..3 {
            let mut attempt = message(&events[0]);
            attempt.receive_count = round + 1;
            assert!(s.inviter.handle_message(attempt).await.is_err(), "round {round}: reported for redelivery");
            let view = member_view(&s, &member).await;
            assert_eq!(view["slack_status"], "pending", "round {round}");
        }
        let delays = s.delays.0.lock().unwrap().clone();
        assert_eq!(delays[0], Duration::from_secs(7), "Slack's Retry-After");
        assert!(delays[1] > Duration::ZERO && delays[2] > delays[1] / 4, "backoff: {delays:?}");
        assert_eq!(member_view(&s, &member).await["slack_error"], "timeout", "the hung call");
        assert_eq!(
            s.inviter.handle_message(message(&events[0])).await.unwrap(),
            SlackOutcome::Invited,
            "then it answers"
        );
        assert_eq!(s.slack.calls().len(), 4);
    }

    #[tokio::test]
    async fn scim_creates_the_user_and_a_conflict_means_already_in_team() {
        let s = setup(json!({"mode": "scim"}), TOKEN).await;
        let email = unique_email("scim");
        let (member, events) = accepted(&s, &email, None).await;
        assert_eq!(s.inviter.handle_message(message(&events[0])).await.unwrap(), SlackOutcome::Invited);
        let call = &s.slack.calls()[0];
        assert_eq!((call.path.as_str(), call.args["userName"].as_str()), ("/scim/v2/Users", email.as_str()));
        assert_eq!(member_view(&s, &member).await["slack_status"], "invited");
        let taken = unique_email("taken");
        s.slack.in_team(&taken);
        let (_, events) = accepted(&s, &taken, None).await;
        assert_eq!(s.inviter.handle_message(message(&events[0])).await.unwrap(), SlackOutcome::AlreadyInTeam);
    }

    #[tokio::test]
    async fn a_missing_secret_fails_the_invitation_and_no_integration_skips_it() {
        let s = setup(admin_invite(), TOKEN).await;
        let path = format!("/api/v1/projects/{}/integrations/slack", s.pid);
        let mut settings = admin_invite();
        settings["token_secret_arn"] = json!("arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf");
        assert_eq!(s.api.call("PUT", &path, Some(settings), Some(&s.owner)).await.status, 200);
        let (member, events) = accepted(&s, &unique_email("nosecret"), None).await;
        let outcome = s.inviter.handle_message(message(&events[0])).await.unwrap();
        assert_eq!(outcome, SlackOutcome::Failed { error: "token_secret_not_found".into() });
        assert_eq!(member_view(&s, &member).await["slack_status"], "failed");
        assert_eq!(s.api.call("DELETE", &path, None, Some(&s.owner)).await.status, 204);
        let (_, events) = accepted(&s, &unique_email("unconfigured"), None).await;
        assert!(matches!(s.inviter.handle_message(message(&events[0])).await.unwrap(), SlackOutcome::Skipped(_)));
        assert!(s.slack.calls().is_empty());
    }
}
