//! Member management through the API: re-roling and removing within the role ceiling, leaving,
//! the last owner kept under real concurrency, and a caller's projects.

use integration_tests::*;
use serde_json::json;

#[tokio::test]
async fn members_are_re_roled_removed_and_leave_through_their_routes() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let manager = api.member(&owner, &pid, "manager").await;
    let editor = api.member(&owner, &pid, "editor").await;
    let member = |who: &invitations::Caller| format!("/api/v1/projects/{pid}/members/{}", who.user_id);

    let patched = api.call("PATCH", &member(&editor), Some(json!({"role": "dataentry"})), Some(&manager)).await;
    assert_eq!((patched.status, patched.body["role"].as_str()), (200, Some("dataentry")), "{patched:?}");
    assert_eq!(patched.body["user_id"], editor.user_id.to_string());
    let refused = api.call("PATCH", &member(&owner), Some(json!({"role": "editor"})), Some(&manager)).await;
    assert_eq!((refused.status, refused.code()), (403, "role_above_own"));
    let bad = api.call("PATCH", &member(&editor), Some(json!({"role": "boss"})), Some(&manager)).await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_role"));
    let not_yours = api.call("PATCH", &member(&editor), Some(json!({"role": "boss"})), Some(&editor)).await;
    assert_eq!((not_yours.status, not_yours.code()), (403, "forbidden"), "403 before 400");
    let outsider = api.call("DELETE", &member(&editor), None, Some(&user("outsider"))).await;
    assert_eq!(outsider.status, 404);

    let last = api.call("DELETE", &format!("/api/v1/projects/{pid}/members/me"), None, Some(&owner)).await;
    assert_eq!((last.status, last.code()), (409, "last_owner"));
    let left = api.call("DELETE", &format!("/api/v1/projects/{pid}/members/me"), None, Some(&editor)).await;
    assert_eq!((left.status, &left.body), (204, &serde_json::Value::Null));
    assert_eq!(api.call("GET", &format!("/api/v1/projects/{pid}"), None, Some(&editor)).await.status, 404);
    let removed = api.call("DELETE", &member(&manager), None, Some(&owner)).await;
    assert_eq!(removed.status, 204);
    let again = api.call("DELETE", &member(&manager), None, Some(&owner)).await;
    assert_eq!(again.status, 404, "gone");

    let members = api.call("GET", &format!("/api/v1/projects/{pid}/members"), None, Some(&owner)).await;
    assert_eq!(members.body.as_array().unwrap().len(), 1);
    let events =
        api.call("GET", &format!("/api/v1/projects/{pid}/events?type=member.removed"), None, Some(&owner)).await;
    let removed: Vec<_> = events.body.as_array().unwrap().iter().map(|e| e["member_id"].as_str().unwrap()).collect();
    assert_eq!(removed, [manager.user_id.as_str(), editor.user_id.as_str()], "newest first");
}

#[tokio::test]
async fn my_projects_lists_each_project_with_the_callers_role_in_pages() {
    let api = Api::new().await;
    let (owner, first) = api.project().await;
    let mut projects = vec![first];
    for name in ["Second", "Third"] {
        let reply = api.call("POST", "/api/v1/projects", Some(json!({"name": name})), Some(&owner)).await;
        projects.push(reply.body["id"].as_str().unwrap().to_owned());
    }
    let editor = api.member(&owner, &projects[1], "editor").await;
    let page = api.call("GET", "/api/v1/me/projects?limit=2", None, Some(&owner)).await;
    assert_eq!(page.status, 200, "{page:?}");
    let link = page.header("link").expect("a third project follows").to_owned();
    let next = link.trim_start_matches('<').split('>').next().unwrap().to_owned();
    let rest = api.call("GET", &next, None, Some(&owner)).await;
    let listed: Vec<_> = page.body.as_array().unwrap().iter().chain(rest.body.as_array().unwrap()).cloned().collect();
    let mut sorted = projects.clone();
    sorted.sort();
    assert_eq!(listed.iter().map(|p| p["id"].as_str().unwrap()).collect::<Vec<_>>(), sorted);
    assert!(listed.iter().all(|p| p["role"] == "owner"));

    let theirs = api.call("GET", "/api/v1/me/projects", None, Some(&editor)).await;
    let view = &theirs.body.as_array().unwrap()[..];
    assert_eq!(
        (view.len(), view[0]["id"].as_str(), view[0]["role"].as_str()),
        (1, Some(&*projects[1]), Some("editor"))
    );
    let path = format!("/api/v1/projects/{}/members/{}", projects[1], editor.user_id);
    api.call("PATCH", &path, Some(json!({"role": "manager"})), Some(&owner)).await;
    let theirs = api.call("GET", "/api/v1/me/projects", None, Some(&editor)).await;
    assert_eq!(theirs.body[0]["role"], "manager", "kept in step with the membership");
    api.call("DELETE", &path, None, Some(&owner)).await;
    let theirs = api.call("GET", "/api/v1/me/projects", None, Some(&editor)).await;
    assert_eq!(theirs.body, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_owners_demoting_each_other_at_once_leave_one_owner() {
    let api = Api::new().await;
    let (owner, pid) = api.project().await;
    let second = api.member(&owner, &pid, "owner").await;
    for _ in 0..3 {
        let demote = |who: &invitations::Caller, whom: &invitations::Caller| {
            let path = format!("/api/v1/projects/{pid}/members/{}", whom.user_id);
            let (api, who) = (&api, who.clone());
            async move { api.call("PATCH", &path, Some(json!({"role": "editor"})), Some(&who)).await }
        };
        let (a, b) = tokio::join!(demote(&owner, &second), demote(&second, &owner));
        // The one beaten hears it (403 once demoted, 409 as the last owner); never are both done.
        let done = [&a, &b].iter().filter(|reply| reply.status == 200).count();
        assert!(done <= 1 && [&a, &b].iter().all(|r| [200, 403, 409].contains(&r.status)), "{a:?} {b:?}");
        let members = api.call("GET", &format!("/api/v1/projects/{pid}/members"), None, Some(&owner)).await;
        let owners = members.body.as_array().unwrap().iter().filter(|m| m["role"] == "owner").count();
        assert_eq!(owners, 1, "exactly one owner stays: {a:?} {b:?}");
        // Back to two owners for the next round.
        let (demoted, kept) = if a.status == 200 { (&second, &owner) } else { (&owner, &second) };
        let path = format!("/api/v1/projects/{pid}/members/{}", demoted.user_id);
        assert_eq!(api.call("PATCH", &path, Some(json!({"role": "owner"})), Some(kept)).await.status, 200);
    }
}
