//! The service's own rules, on the in-memory store (the contract suite in `tests/` runs the
//! store-facing ones against DynamoDB Local too).

use super::*;
use crate::clock::ManualClock;
use crate::domain::{
    Caller, DomainAllowList, Email, InvitationChanges, NewInvitation, NewProject, PageRequest, ProjectId, ProjectName,
    UserId,
};
use crate::domain::{Event, EventType};
use crate::store::memory::MemoryStore;
use crate::store::EventFilter;
use time::macros::datetime;

type Service = Invitations;

fn caller(name: &str) -> Caller {
    Caller {
        user_id: UserId::parse(&format!("sub-{name}")).unwrap(),
        email: Some(format!("{name}@example.com")),
        email_verified: true,
    }
}

fn invite(email: &str, role: Role) -> NewInvitation {
    NewInvitation::new(Email::parse(email).unwrap(), role)
}

fn service() -> (Service, Arc<ManualClock>, Arc<MemoryStore>) {
    let clock = Arc::new(ManualClock::new(datetime!(2026-12-01 12:00 UTC)));
    let store = Arc::new(MemoryStore::new());
    (Invitations::new(store.clone(), clock.clone(), Settings::default()), clock, store)
}

/// The send requests among the events committed after the first `seen`.
fn email_requests(store: &MemoryStore, seen: &mut usize) -> Vec<(EventType, uuid::Uuid)> {
    let events = store.events_since(*seen);
    *seen += events.len();
    events.iter().filter(|e| e.requests_email()).filter_map(|e| Some((e.kind, e.changes.send_id?))).collect()
}

async fn project(app: &Service, owner: &Caller) -> ProjectId {
    let new = NewProject { name: ProjectName::parse("P").unwrap(), allowed_email_domains: DomainAllowList::default() };
    app.create_project(owner, new).await.unwrap().id
}

/// A member with `role`, through an accepted invitation.
async fn member(app: &Service, owner: &Caller, pid: &ProjectId, name: &str, role: Role) -> Caller {
    let member = caller(name);
    let invitation = app.create_invitation(owner, pid, invite(member.email.as_deref().unwrap(), role)).await.unwrap();
    app.accept(&member, pid, invitation.id).await.unwrap();
    member
}

#[tokio::test]
async fn invitations_made_in_the_same_millisecond_list_in_the_order_they_were_made() {
    let (app, _, _) = service();
    let owner = caller("owner");
    let pid = project(&app, &owner).await;
    let mut made = Vec::new();
    for i in 0..20 {
        made.push(
            app.create_invitation(&owner, &pid, invite(&format!("u{i}@example.com"), Role::Editor)).await.unwrap().id,
        );
    }
    let listed = app.list_invitations(&owner, &pid, None, &PageRequest::default()).await.unwrap();
    assert_eq!(listed.items.iter().map(|i| i.id).collect::<Vec<_>>(), made, "oldest first, the clock never moved");
}

#[tokio::test]
async fn every_change_is_logged_and_each_send_is_requested_by_exactly_one_event() {
    let (app, clock, store) = service();
    let owner = caller("owner");
    let pid = project(&app, &owner).await;
    let mut seen = 0;
    email_requests(&store, &mut seen);
    let created = app.create_invitation(&owner, &pid, invite("jane@example.com", Role::Editor)).await.unwrap();
    assert_eq!(email_requests(&store, &mut seen), vec![(EventType::InvitationCreated, created.send_id)]);
    // A role change sends nothing; a new address sends to it; a resend sends again.
    let changes = InvitationChanges { email: None, role: Some(Role::ReadOnly) };
    app.update_invitation(&owner, &pid, created.id, changes).await.unwrap();
    assert!(email_requests(&store, &mut seen).is_empty());
    let changes = InvitationChanges { email: Some(Email::parse("june@example.com").unwrap()), role: None };
    let moved = app.update_invitation(&owner, &pid, created.id, changes).await.unwrap();
    assert_eq!(email_requests(&store, &mut seen), vec![(EventType::InvitationUpdated, moved.send_id)]);
    assert_ne!(moved.send_id, created.send_id);
    clock.advance(app.settings().policy.resend_cooldown);
    let resent = app.resend(&owner, &pid, created.id).await.unwrap();
    assert_eq!(email_requests(&store, &mut seen), vec![(EventType::InvitationResent, resent.send_id)]);
    app.revoke(&owner, &pid, created.id).await.unwrap();
    let log = app.events(&owner, &pid, &EventFilter::default(), &PageRequest::default()).await.unwrap();
    let kinds: Vec<&str> = log.items.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "invitation.revoked",
            "invitation.resent",
            "invitation.updated",
            "invitation.updated",
            "invitation.created",
            "member.added",
            "project.created"
        ],
        "newest first"
    );
    let actor = crate::domain::Actor::User(owner.user_id.clone());
    assert!(log.items.iter().all(|e: &Event| e.actor == actor));
    let by_type = EventFilter { kind: Some(EventType::InvitationUpdated), invitation_id: Some(created.id) };
    assert_eq!(app.events(&owner, &pid, &by_type, &PageRequest::default()).await.unwrap().items.len(), 2);
}

#[tokio::test]
async fn a_resend_inside_the_cooldown_says_when_to_retry_and_queues_nothing() {
    let (app, clock, store) = service();
    let owner = caller("owner");
    let pid = project(&app, &owner).await;
    let created = app.create_invitation(&owner, &pid, invite("jane@example.com", Role::Editor)).await.unwrap();
    let mut seen = 0;
    email_requests(&store, &mut seen);
    clock.advance(time::Duration::seconds(20));
    match app.resend(&owner, &pid, created.id).await {
        Err(AppError::TooManyRequests { code: "resend_cooldown", retry_after_secs: 40, .. }) => {}
        other => panic!("expected a cooldown, got {other:?}"),
    }
    assert!(email_requests(&store, &mut seen).is_empty());
}

#[tokio::test]
async fn a_manager_changes_no_invitation_above_their_role() {
    let (app, _, _) = service();
    let owner = caller("owner");
    let pid = project(&app, &owner).await;
    let manager = member(&app, &owner, &pid, "max", Role::Manager).await;
    let for_owner = app.create_invitation(&owner, &pid, invite("co-owner@example.com", Role::Owner)).await.unwrap();
    let demote = InvitationChanges { email: None, role: Some(Role::Editor) };
    let refused = app.update_invitation(&manager, &pid, for_owner.id, demote.clone()).await.unwrap_err();
    assert_eq!(refused.code(), "role_above_own");
    let for_editor = app.create_invitation(&manager, &pid, invite("ed@example.com", Role::Editor)).await.unwrap();
    let promote = InvitationChanges { email: None, role: Some(Role::Owner) };
    let refused = app.update_invitation(&manager, &pid, for_editor.id, promote).await.unwrap_err();
    assert_eq!(refused.code(), "role_above_own");
    assert_eq!(app.update_invitation(&owner, &pid, for_owner.id, demote).await.unwrap().role, Role::Editor);
}

#[tokio::test]
async fn only_managers_see_a_project_s_invitations_and_strangers_learn_nothing() {
    let (app, _, _) = service();
    let owner = caller("owner");
    let pid = project(&app, &owner).await;
    let editor = member(&app, &owner, &pid, "ed", Role::Editor).await;
    let page = PageRequest::default();
    assert_eq!(app.list_invitations(&editor, &pid, None, &page).await.unwrap_err().code(), "forbidden");
    assert_eq!(app.list_invitations(&caller("stranger"), &pid, None, &page).await.unwrap_err(), AppError::NotFound);
}
