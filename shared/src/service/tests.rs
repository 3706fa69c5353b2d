//! The service's own rules, on the in-memory store (the contract suite in `tests/` runs the
//! store-facing ones against DynamoDB Local too).

use super::*;
use crate::cause::Cause;
use crate::clock::ManualClock;
use crate::domain::{
    Caller, DeliveryStatus, DomainAllowList, Email, InvitationChanges, NewInvitation, NewProject, PageRequest,
    ProjectId, ProjectName, UserId,
};
use crate::queue::memory::MemoryQueue;
use crate::queue::{Queue, QueueError, SendInvitationEmail};
use crate::store::memory::MemoryStore;
use time::macros::datetime;

type Service = Invitations<Arc<dyn Queue>>;

fn caller(name: &str) -> Caller {
    Caller {
        user_id: UserId::parse(&format!("sub-{name}")).unwrap(),
        email: Some(format!("{name}@example.com")),
        email_verified: true,
    }
}

fn invite(email: &str, role: Role) -> NewInvitation {
    NewInvitation { email: Email::parse(email).unwrap(), role }
}

fn service(queue: Arc<dyn Queue>) -> (Service, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(datetime!(2026-12-01 12:00 UTC)));
    let app = Invitations::new(Arc::new(MemoryStore::new()), clock.clone(), Settings::default());
    (app.with_email_queue(queue), clock)
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

struct RefusingQueue;

#[async_trait::async_trait]
impl Queue for RefusingQueue {
    async fn send(&self, _body: String) -> Result<(), QueueError> {
        Err(QueueError(Cause::msg("queue down")))
    }
}

fn sent(queue: &MemoryQueue) -> Vec<SendInvitationEmail> {
    queue.drain().iter().map(|body| serde_json::from_str(body).unwrap()).collect()
}

#[tokio::test]
async fn invitations_made_in_the_same_millisecond_list_in_the_order_they_were_made() {
    let (app, _) = service(Arc::new(MemoryQueue::new()));
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
async fn a_send_the_queue_refuses_is_recorded_as_not_queued() {
    let (app, _) = service(Arc::new(RefusingQueue));
    let owner = caller("owner");
    let pid = project(&app, &owner).await;
    let invitation = app.create_invitation(&owner, &pid, invite("jane@example.com", Role::Editor)).await.unwrap();
    assert_eq!(invitation.delivery.status, DeliveryStatus::NotQueued);
    let stored = app.invitation(&owner, &pid, invitation.id).await.unwrap();
    assert_eq!(stored.delivery.status, DeliveryStatus::NotQueued, "the stored invitation says so too");
}

#[tokio::test]
async fn each_send_queues_one_message_naming_its_send() {
    let queue = Arc::new(MemoryQueue::new());
    let (app, clock) = service(queue.clone());
    let owner = caller("owner");
    let pid = project(&app, &owner).await;
    let created = app.create_invitation(&owner, &pid, invite("jane@example.com", Role::Editor)).await.unwrap();
    let first = sent(&queue);
    assert_eq!(
        first,
        vec![SendInvitationEmail { project_id: pid.clone(), invitation_id: created.id, send_id: created.send_id }]
    );
    // A role change sends nothing; a new address sends to it; a resend sends again.
    let changes = InvitationChanges { email: None, role: Some(Role::ReadOnly) };
    app.update_invitation(&owner, &pid, created.id, changes).await.unwrap();
    assert!(sent(&queue).is_empty());
    let changes = InvitationChanges { email: Some(Email::parse("june@example.com").unwrap()), role: None };
    let moved = app.update_invitation(&owner, &pid, created.id, changes).await.unwrap();
    assert_eq!(sent(&queue).iter().map(|m| m.send_id).collect::<Vec<_>>(), vec![moved.send_id]);
    assert_ne!(moved.send_id, created.send_id);
    clock.advance(app.settings().policy.resend_cooldown);
    let resent = app.resend(&owner, &pid, created.id).await.unwrap();
    assert_eq!(sent(&queue).iter().map(|m| m.send_id).collect::<Vec<_>>(), vec![resent.send_id]);
}

#[tokio::test]
async fn a_resend_inside_the_cooldown_says_when_to_retry_and_queues_nothing() {
    let queue = Arc::new(MemoryQueue::new());
    let (app, clock) = service(queue.clone());
    let owner = caller("owner");
    let pid = project(&app, &owner).await;
    let created = app.create_invitation(&owner, &pid, invite("jane@example.com", Role::Editor)).await.unwrap();
    queue.drain();
    clock.advance(time::Duration::seconds(20));
    match app.resend(&owner, &pid, created.id).await {
        Err(AppError::TooManyRequests { code: "resend_cooldown", retry_after_secs: 40, .. }) => {}
        other => panic!("expected a cooldown, got {other:?}"),
    }
    assert!(queue.drain().is_empty());
}

#[tokio::test]
async fn a_manager_changes_no_invitation_above_their_role() {
    let (app, _) = service(Arc::new(MemoryQueue::new()));
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
    let (app, _) = service(Arc::new(MemoryQueue::new()));
    let owner = caller("owner");
    let pid = project(&app, &owner).await;
    let editor = member(&app, &owner, &pid, "ed", Role::Editor).await;
    let page = PageRequest::default();
    assert_eq!(app.list_invitations(&editor, &pid, None, &page).await.unwrap_err().code(), "forbidden");
    assert_eq!(app.list_invitations(&caller("stranger"), &pid, None, &page).await.unwrap_err(), AppError::NotFound);
}
