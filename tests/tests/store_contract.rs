//! One contract, two stores: every test here runs against the in-memory store and against
//! DynamoDB Local, through the service the handlers use.

use integration_tests::*;
use invitations::clock::Clock;
use invitations::domain::idempotency::{KeptResponse, RequestRecord, RequestState, KEPT_FOR, RUNNING_LEASE};
use invitations::domain::quota::ADDRESS_HOLD_AFTER_EXPIRY;
use invitations::domain::slack::{SlackIntegration, SlackState, SlackStatus};
use invitations::domain::{
    Actor, Cursor, DeliveryStatus, Event, EventType, Grant, InvitationChanges, InvitationId, InvitationStatus, Inviter,
    MemberChange, Membership, Page, PageRequest, Policy, ProjectId, QuotaClaim, QuotaScope, QuotaUse, UserId,
};
use invitations::store::{
    Acceptance, CreateGuard, EventFilter, InvitationFilter, InvitationKey, MemberUpdate, PendingInvitation, Store,
    StoreError, StoreResult, Transition,
};
use invitations::{AppError, Email, Invitation, Project, Role};
use std::sync::Arc;
use time::Duration;

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $( #[tokio::test] async fn $name() { super::$name(integration_tests::memory_store()).await } )*
        }
        mod dynamodb {
            $( #[tokio::test] async fn $name() { super::$name(std::sync::Arc::new(integration_tests::dynamo_store().await)).await } )*
        }
    };
}

contract!(
    creating_an_invitation_stores_it_pending_with_a_marker,
    a_second_pending_invitation_for_the_same_address_conflicts,
    an_expired_invitation_is_replaced_by_a_new_one,
    only_managers_and_owners_invite_and_never_above_their_role,
    a_project_allow_list_refuses_other_domains,
    a_failed_create_writes_nothing,
    revoke_and_decline_free_the_address,
    accept_writes_membership_and_never_downgrades,
    a_stale_version_is_refused_and_leaves_the_state_alone,
    changing_the_address_moves_the_marker_and_checks_uniqueness,
    lists_paginate_in_time_order_and_filter_by_status,
    lists_filter_by_delivery_status_and_address_alone_and_with_status,
    members_change_within_the_role_ceiling_and_the_last_owner_stays,
    a_keyed_request_holds_its_key_until_done_released_dead_or_a_day_old,
    a_bulk_checks_every_row_and_creates_the_good_ones,
    a_members_slack_invitation_is_claimed_by_one_attempt_at_a_time,
    pending_and_expired_lists_come_by_expiry_and_split_at_now,
    an_invitation_id_never_reaches_another_project,
    sign_up_accepts_every_pending_invitation_once,
    a_batch_of_acceptances_is_all_or_none,
    sign_up_accepts_the_rest_when_one_changes_mid_batch,
    sign_up_leaves_an_invitation_readdressed_mid_batch,
    a_project_and_an_inviter_send_a_bounded_number_of_invitations_a_day,
    an_address_holds_a_bounded_number_of_pending_invitations,
    a_user_creates_a_bounded_number_of_projects,
    a_replacement_takes_over_the_expired_invitation_s_address_slot,
    a_resent_invitation_keeps_its_address_slot_while_pending,
);

/// The service as the functions that invite build it, over an in-memory queue.
type Service = invitations::Invitations;

async fn setup(
    store: Arc<dyn Store>,
) -> (Service, Arc<invitations::clock::ManualClock>, invitations::Caller, ProjectId) {
    let (service, clock) = service(store);
    let owner = user("owner");
    let project = service.create_project(&owner, new_project("Field survey", &[])).await.unwrap();
    (service, clock, owner, project.id)
}

async fn creating_an_invitation_stores_it_pending_with_a_marker(store: Arc<dyn Store>) {
    let (service, _, owner, pid) = setup(store.clone()).await;
    let inv =
        service.create_invitation(&owner, &pid, new_invitation(" Jane.Doe@Example.com ", "editor")).await.unwrap();
    assert_eq!(inv.email, "Jane.Doe@Example.com");
    assert_eq!(inv.email_normalized, "jane.doe@example.com");
    let stored = store.invitations_by_key(&[(pid.clone(), inv.id)]).await.unwrap();
    assert_eq!(stored, vec![inv.clone()]);
    let markers = store.pending_for_email("jane.doe@example.com").await.unwrap();
    assert_eq!(markers.len(), 1);
    assert_eq!((markers[0].invitation_id, markers[0].role), (inv.id, Role::Editor));
}

async fn a_second_pending_invitation_for_the_same_address_conflicts(store: Arc<dyn Store>) {
    let (service, _, owner, pid) = setup(store.clone()).await;
    service.create_invitation(&owner, &pid, new_invitation("jane@example.com", "editor")).await.unwrap();
    let err =
        service.create_invitation(&owner, &pid, new_invitation("JANE@example.com", "readonly")).await.unwrap_err();
    assert_eq!(err.code(), "duplicate_invitation");
    // Another project may invite the same address.
    let other = service.create_project(&owner, new_project("Other", &[])).await.unwrap();
    service.create_invitation(&owner, &other.id, new_invitation("jane@example.com", "editor")).await.unwrap();
    assert_eq!(store.pending_for_email("jane@example.com").await.unwrap().len(), 2);
}

async fn an_expired_invitation_is_replaced_by_a_new_one(store: Arc<dyn Store>) {
    let (service, clock, owner, pid) = setup(store.clone()).await;
    let old = service.create_invitation(&owner, &pid, new_invitation("jane@example.com", "readonly")).await.unwrap();
    clock.advance(Policy::default().ttl + Duration::seconds(1));
    let new = service.create_invitation(&owner, &pid, new_invitation("jane@example.com", "editor")).await.unwrap();
    assert_ne!(new.id, old.id);
    let both = store.invitations_by_key(&[(pid.clone(), old.id), (pid.clone(), new.id)]).await.unwrap();
    assert_eq!(both[0].status, InvitationStatus::Expired);
    assert_eq!(both[1].status, InvitationStatus::Pending);
    let markers = store.pending_for_email("jane@example.com").await.unwrap();
    assert_eq!(markers.iter().map(|m| m.invitation_id).collect::<Vec<_>>(), vec![new.id]);
}

async fn only_managers_and_owners_invite_and_never_above_their_role(store: Arc<dyn Store>) {
    let (service, _, owner, pid) = setup(store.clone()).await;
    let stranger = user("stranger");
    assert_eq!(
        service.create_invitation(&stranger, &pid, new_invitation("a@example.com", "readonly")).await.unwrap_err(),
        AppError::NotFound
    );
    // Make an editor and a manager through accepted invitations.
    for (name, role) in [("ed", "editor"), ("max", "manager")] {
        let member = user(name);
        let inv = service
            .create_invitation(&owner, &pid, new_invitation(member.email.as_deref().unwrap(), role))
            .await
            .unwrap();
        service.accept(&member, &pid, inv.id).await.unwrap();
        let err =
            service.create_invitation(&member, &pid, new_invitation(&unique_email("x"), "owner")).await.unwrap_err();
        let expected = if role == "editor" { "forbidden" } else { "role_above_own" };
        assert_eq!(err.code(), expected, "{role} inviting an owner");
        if role == "manager" {
            service.create_invitation(&member, &pid, new_invitation(&unique_email("y"), "manager")).await.unwrap();
        }
    }
    assert_eq!(
        service
            .create_invitation(&owner, &project_id("no-such-project"), new_invitation("a@example.com", "readonly"))
            .await
            .unwrap_err(),
        AppError::NotFound
    );
}

async fn a_project_allow_list_refuses_other_domains(store: Arc<dyn Store>) {
    let (service, _) = service(store.clone());
    let owner = user("owner");
    let project =
        service.create_project(&owner, new_project("Corp", &["example.com", "*.corp.example.org"])).await.unwrap();
    service.create_invitation(&owner, &project.id, new_invitation("a@example.com", "editor")).await.unwrap();
    service.create_invitation(&owner, &project.id, new_invitation("b@eu.corp.example.org", "editor")).await.unwrap();
    let err = service.create_invitation(&owner, &project.id, new_invitation("c@evil.com", "editor")).await.unwrap_err();
    assert_eq!(err.code(), "email_domain_not_allowed");
    assert!(store.pending_for_email("c@evil.com").await.unwrap().is_empty());
}

async fn a_failed_create_writes_nothing(store: Arc<dyn Store>) {
    let (service, _, owner, pid) = setup(store.clone()).await;
    let now = service.now();
    let stranger = Inviter { user_id: user_id("not-a-member"), email: None };
    let ghost = new_invitation("ghost@example.com", "editor");
    let invitation = Invitation::new(pid.clone(), &ghost, &stranger, now, &Policy::default());
    let guard = CreateGuard {
        inviter: stranger.user_id.clone(),
        min_inviter_role: Role::Manager,
        domain_candidates: vec!["example.com".into()],
    };
    let created = Event::invitation_created(&invitation, &Actor::System);
    assert_eq!(store.create_invitation(&invitation, &guard, None, &created, &[]).await, Err(StoreError::NotMember));
    assert!(store.invitations_by_key(&[(pid.clone(), invitation.id)]).await.unwrap().is_empty());
    assert!(store.pending_for_email("ghost@example.com").await.unwrap().is_empty());
    // A duplicate leaves the first invitation alone and adds nothing.
    let first = service.create_invitation(&owner, &pid, new_invitation("ghost@example.com", "editor")).await.unwrap();
    let second = Invitation::new(
        pid.clone(),
        &new_invitation("ghost@example.com", "readonly"),
        &owner.as_inviter(),
        now,
        &Policy::default(),
    );
    let guard = CreateGuard { inviter: owner.user_id.clone(), ..guard };
    assert!(
        matches!(store.create_invitation(&second, &guard, None, &Event::invitation_created(&second, &Actor::System), &[]).await, Err(StoreError::DuplicatePending(m)) if m.invitation_id == first.id)
    );
    assert!(store.invitations_by_key(&[(pid.clone(), second.id)]).await.unwrap().is_empty());
    let page = store.invitations(&pid, &InvitationFilter::default(), now, &PageRequest::default()).await.unwrap();
    assert_eq!(page.items, vec![first]);
}

async fn revoke_and_decline_free_the_address(store: Arc<dyn Store>) {
    let (service, _, owner, pid) = setup(store.clone()).await;
    let jane = user_with_email("jane@example.com");
    let inv = service.create_invitation(&owner, &pid, new_invitation("jane@example.com", "editor")).await.unwrap();
    let revoked = service.revoke(&owner, &pid, inv.id).await.unwrap();
    assert_eq!(revoked.status, InvitationStatus::Revoked);
    assert!(revoked.revoked_at.is_some());
    assert_eq!(service.revoke(&owner, &pid, inv.id).await.unwrap_err().code(), "invitation_not_pending");
    assert!(store.pending_for_email("jane@example.com").await.unwrap().is_empty());
    let again = service.create_invitation(&owner, &pid, new_invitation("jane@example.com", "editor")).await.unwrap();
    let declined = service.decline(&jane, &pid, again.id).await.unwrap();
    assert_eq!(declined.status, InvitationStatus::Declined);
    assert_eq!(service.accept(&jane, &pid, again.id).await.unwrap_err().code(), "invitation_not_pending");
    assert!(store.pending_for_email("jane@example.com").await.unwrap().is_empty());
}

async fn accept_writes_membership_and_never_downgrades(store: Arc<dyn Store>) {
    let (service, _, owner, pid) = setup(store.clone()).await;
    let jane = user_with_email("Jane@Example.com");
    let inv = service.create_invitation(&owner, &pid, new_invitation("jane@example.com", "manager")).await.unwrap();
    let accepted = service.accept(&jane, &pid, inv.id).await.unwrap();
    assert_eq!(accepted.status, InvitationStatus::Accepted);
    assert_eq!(accepted.accepted_by.as_ref(), Some(&jane.user_id));
    assert_eq!(service.project(&jane, &pid).await.unwrap().1, Role::Manager);
    // A later, lower invitation is accepted but the higher role stays.
    let lower = service.create_invitation(&owner, &pid, new_invitation("jane@example.com", "readonly")).await.unwrap();
    service.accept(&jane, &pid, lower.id).await.unwrap();
    assert_eq!(service.project(&jane, &pid).await.unwrap().1, Role::Manager);
    // A higher one upgrades.
    let higher = service.create_invitation(&owner, &pid, new_invitation("jane@example.com", "owner")).await.unwrap();
    service.accept(&jane, &pid, higher.id).await.unwrap();
    assert_eq!(service.project(&jane, &pid).await.unwrap().1, Role::Owner);
    let members = service.members(&owner, &pid, &PageRequest::default()).await.unwrap();
    assert_eq!(members.items.len(), 2);
    // Someone else's invitation is not found for the caller.
    let other = service.create_invitation(&owner, &pid, new_invitation("john@example.com", "editor")).await.unwrap();
    assert_eq!(service.accept(&jane, &pid, other.id).await.unwrap_err(), AppError::NotFound);
    let unverified = invitations::Caller { email_verified: false, ..user_with_email("john@example.com") };
    assert_eq!(service.accept(&unverified, &pid, other.id).await.unwrap_err().code(), "email_not_verified");
}

async fn a_stale_version_is_refused_and_leaves_the_state_alone(store: Arc<dyn Store>) {
    let (service, _, owner, pid) = setup(store.clone()).await;
    let inv = service.create_invitation(&owner, &pid, new_invitation("jane@example.com", "editor")).await.unwrap();
    let now = service.now();
    let revoked = inv.revoke(now).unwrap();
    store.save(Transition { from: &inv, to: &revoked, event: &logged(&inv, &revoked), claims: &[] }).await.unwrap();
    let declined = inv.decline(now).unwrap();
    let stale = Transition { from: &inv, to: &declined, event: &logged(&inv, &declined), claims: &[] };
    assert_eq!(store.save(stale).await, Err(StoreError::Conflict));
    let stored = store.invitations_by_key(&[(pid.clone(), inv.id)]).await.unwrap();
    assert_eq!(stored[0].status, InvitationStatus::Revoked);
}

async fn changing_the_address_moves_the_marker_and_checks_uniqueness(store: Arc<dyn Store>) {
    let (service, _, owner, pid) = setup(store.clone()).await;
    let inv = service.create_invitation(&owner, &pid, new_invitation("jane@example.com", "editor")).await.unwrap();
    service.create_invitation(&owner, &pid, new_invitation("john@example.com", "editor")).await.unwrap();
    let err = service
        .update_invitation(
            &owner,
            &pid,
            inv.id,
            InvitationChanges { email: Some(Email::parse("john@example.com").unwrap()), role: None },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "duplicate_invitation");
    assert_eq!(store.pending_for_email("jane@example.com").await.unwrap().len(), 1, "unchanged after the refusal");
    let moved = service
        .update_invitation(
            &owner,
            &pid,
            inv.id,
            InvitationChanges {
                email: Some(Email::parse("june@example.com").unwrap()),
                role: Some("readonly".parse().unwrap()),
            },
        )
        .await
        .unwrap();
    assert_eq!((moved.email.as_str(), moved.role), ("june@example.com", Role::ReadOnly));
    assert_ne!(moved.send_id, inv.send_id);
    assert!(store.pending_for_email("jane@example.com").await.unwrap().is_empty());
    let markers = store.pending_for_email("june@example.com").await.unwrap();
    assert_eq!((markers[0].invitation_id, markers[0].role), (inv.id, Role::ReadOnly));
}

async fn lists_paginate_in_time_order_and_filter_by_status(store: Arc<dyn Store>) {
    let (service, clock, owner, pid) = setup(store.clone()).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        clock.advance(Duration::milliseconds(5));
        ids.push(
            service
                .create_invitation(&owner, &pid, new_invitation(&format!("u{i}@example.com"), "readonly"))
                .await
                .unwrap()
                .id,
        );
    }
    service.revoke(&owner, &pid, ids[1]).await.unwrap();
    service.revoke(&owner, &pid, ids[4]).await.unwrap();
    let mut seen = Vec::new();
    let mut page = PageRequest { limit: 3, after: None };
    loop {
        let result = service.list_invitations(&owner, &pid, None, &page).await.unwrap();
        assert!(result.items.len() <= 3);
        seen.extend(result.items.iter().map(|i| i.id));
        match result.next {
            Some(cursor) => {
                let is_id = |key: &str| InvitationId::parse(key).is_ok();
                page = PageRequest { limit: 3, after: Some(Cursor::decode(&cursor.encode(), is_id).unwrap()) }
            }
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let revoked =
        service.list_invitations(&owner, &pid, Some(InvitationStatus::Revoked), &PageRequest::default()).await.unwrap();
    assert_eq!(revoked.items.iter().map(|i| i.id).collect::<Vec<_>>(), vec![ids[1], ids[4]]);
    let pending_page = PageRequest { limit: 2, after: None };
    let pending = service.list_invitations(&owner, &pid, Some(InvitationStatus::Pending), &pending_page).await.unwrap();
    assert_eq!(pending.items.iter().map(|i| i.id).collect::<Vec<_>>(), vec![ids[0], ids[2]]);
    assert!(pending.next.is_some());
    clock.advance(Policy::default().ttl);
    let expired =
        service.list_invitations(&owner, &pid, Some(InvitationStatus::Expired), &PageRequest::default()).await.unwrap();
    assert_eq!(expired.items.len(), 5);
    assert!(service
        .list_invitations(&owner, &pid, Some(InvitationStatus::Pending), &PageRequest::default())
        .await
        .unwrap()
        .items
        .is_empty());
}

/// Every page of the list filtered by `filter`, following the cursors as a client would.
async fn all_pages(
    service: &Service,
    owner: &invitations::Caller,
    pid: &ProjectId,
    filter: impl Into<InvitationFilter>,
    mut page: PageRequest,
) -> Vec<Vec<InvitationId>> {
    let filter = filter.into();
    let mut pages = Vec::new();
    loop {
        let result = service.list_invitations(owner, pid, filter.clone(), &page).await.unwrap();
        pages.push(result.items.iter().map(|i| i.id).collect());
        let Some(cursor) = result.next else { return pages };
        let valid = |key: &str| filter.is_list_key(key);
        page = PageRequest { after: Some(Cursor::decode(&cursor.encode(), valid).unwrap()), ..page };
    }
}

async fn lists_filter_by_delivery_status_and_address_alone_and_with_status(store: Arc<dyn Store>) {
    let (service, clock, owner, pid) = setup(store.clone()).await;
    let mut made = Vec::new();
    for name in ["a", "b", "c", "d", "e", "f"] {
        clock.advance(Duration::milliseconds(5));
        let mut new = new_invitation(&format!("{name}@example.com"), "readonly");
        new.send = name != "d";
        made.push(service.create_invitation(&owner, &pid, new).await.unwrap());
    }
    let now = clock.now();
    for (i, delivery) in [(0, DeliveryStatus::Failed), (1, DeliveryStatus::Bounced), (4, DeliveryStatus::Bounced)] {
        deliver(store.as_ref(), &made[i], delivery, now).await;
    }
    deliver(store.as_ref(), &made[5], DeliveryStatus::NotQueued, now).await;
    let [a, b, c, d, e, f] = made.iter().map(|i| i.id).collect::<Vec<_>>()[..] else { unreachable!() };
    service.revoke(&owner, &pid, e).await.unwrap();
    let failed = || vec![DeliveryStatus::Bounced, DeliveryStatus::Failed, DeliveryStatus::NotQueued];
    let two = PageRequest { limit: 2, after: None };

    let by_delivery = InvitationFilter { delivery: failed(), ..Default::default() };
    assert_eq!(all_pages(&service, &owner, &pid, by_delivery.clone(), two.clone()).await, [[a, b], [e, f]]);
    let pending = InvitationFilter { status: Some(InvitationStatus::Pending), ..by_delivery.clone() };
    assert_eq!(all_pages(&service, &owner, &pid, pending.clone(), two.clone()).await, [vec![a, b], vec![f]]);
    let revoked = InvitationFilter { status: Some(InvitationStatus::Revoked), ..by_delivery.clone() };
    assert_eq!(all_pages(&service, &owner, &pid, revoked, two.clone()).await, [[e]]);
    let quiet = InvitationFilter { delivery: vec![DeliveryStatus::NotSent], ..Default::default() };
    assert_eq!(all_pages(&service, &owner, &pid, quiet, two.clone()).await, [[d]]);
    let queued = InvitationFilter { delivery: vec![DeliveryStatus::Queued], ..pending.clone() };
    assert_eq!(all_pages(&service, &owner, &pid, queued, two.clone()).await, [[c]]);

    // Invited again after the revoke, `e` has two invitations: by creation, either status.
    clock.advance(Duration::milliseconds(5));
    let again = service.create_invitation(&owner, &pid, new_invitation("E@Example.com", "editor")).await.unwrap();
    let to_e = InvitationFilter { email: Some("e@example.com".into()), ..Default::default() };
    let one = PageRequest { limit: 1, after: None };
    assert_eq!(all_pages(&service, &owner, &pid, to_e.clone(), one.clone()).await, [[e], [again.id]]);
    let pending_to_e = InvitationFilter { status: Some(InvitationStatus::Pending), ..to_e.clone() };
    assert_eq!(all_pages(&service, &owner, &pid, pending_to_e, one.clone()).await, [[again.id]]);
    let bounced_to_e = InvitationFilter { delivery: vec![DeliveryStatus::Bounced], ..to_e };
    assert_eq!(all_pages(&service, &owner, &pid, bounced_to_e, one).await, [[e]]);
    // Lapsed, the failed ones are expired: the pending view is empty, the expired one holds them.
    clock.advance(Policy::default().ttl);
    assert_eq!(all_pages(&service, &owner, &pid, pending, two.clone()).await, [Vec::<InvitationId>::new()]);
    let expired = InvitationFilter { status: Some(InvitationStatus::Expired), ..by_delivery };
    assert_eq!(all_pages(&service, &owner, &pid, expired, two).await, [vec![a, b], vec![f]]);
}

async fn pending_and_expired_lists_come_by_expiry_and_split_at_now(store: Arc<dyn Store>) {
    let (service, clock, owner, pid) = setup(store.clone()).await;
    let start = clock.now();
    let mut ids = Vec::new();
    for name in ["a", "b", "c", "d"] {
        clock.advance(Duration::milliseconds(5));
        let new = new_invitation(&format!("{name}@example.com"), "readonly");
        ids.push(service.create_invitation(&owner, &pid, new).await.unwrap().id);
    }
    let [a, b, c, d] = ids[..] else { unreachable!() };
    // Resent a minute later, `a` now lapses last.
    clock.advance(Duration::minutes(1));
    service.resend(&owner, &pid, a).await.unwrap();
    let one = PageRequest { limit: 1, after: None };
    assert_eq!(all_pages(&service, &owner, &pid, InvitationStatus::Pending, one.clone()).await, [[b], [c], [d], [a]]);
    let first = service.list_invitations(&owner, &pid, Some(InvitationStatus::Pending), &one).await.unwrap();
    assert_eq!(first.items[0].id, b);

    // `b` and `c` lapse: the pending list starts at `d`, even for a cursor from before.
    clock.advance(start + Policy::default().ttl + Duration::milliseconds(16) - clock.now());
    let later = PageRequest { limit: 1, after: first.next };
    assert_eq!(all_pages(&service, &owner, &pid, InvitationStatus::Pending, later).await, [[d], [a]]);
    let expired = all_pages(&service, &owner, &pid, InvitationStatus::Expired, one.clone()).await;
    assert_eq!(expired, [[b], [c]]);
    // Invited again, `b` is retired (stored expired) and stays in the expired list, by expiry.
    let again = service.create_invitation(&owner, &pid, new_invitation("b@example.com", "editor")).await.unwrap();
    let two = PageRequest { limit: 2, after: None };
    assert_eq!(all_pages(&service, &owner, &pid, InvitationStatus::Expired, two.clone()).await, [[b, c]]);
    assert_eq!(all_pages(&service, &owner, &pid, InvitationStatus::Pending, two).await, [vec![d, a], vec![again.id]]);
}

async fn an_invitation_id_never_reaches_another_project(store: Arc<dyn Store>) {
    let (service, _, owner, pid) = setup(store.clone()).await;
    let intruder = user("intruder");
    let their = service.create_project(&intruder, new_project("Theirs", &[])).await.unwrap();
    let inv = service.create_invitation(&owner, &pid, new_invitation("jane@example.com", "editor")).await.unwrap();
    assert_eq!(service.revoke(&intruder, &their.id, inv.id).await.unwrap_err(), AppError::NotFound);
    assert_eq!(service.invitation(&intruder, &their.id, inv.id).await.unwrap_err(), AppError::NotFound);
    assert_eq!(service.revoke(&intruder, &pid, inv.id).await.unwrap_err(), AppError::NotFound);
    assert_eq!(service.invitation(&owner, &pid, inv.id).await.unwrap().status, InvitationStatus::Pending);
    // Read with its project (as the sender reads it), an invitation is only found in its own.
    let (found, project) = store.invitation_and_project(&their.id, inv.id).await.unwrap();
    assert_eq!((found, project.map(|p| p.id)), (None, Some(their.id.clone())));
    let (found, project) = store.invitation_and_project(&pid, inv.id).await.unwrap();
    assert_eq!((found.map(|i| i.id), project.map(|p| p.id)), (Some(inv.id), Some(pid.clone())));
}

async fn sign_up_accepts_every_pending_invitation_once(store: Arc<dyn Store>) {
    let (service, clock, owner, pid) = setup(store.clone()).await;
    let second = service.create_project(&owner, new_project("Second", &[])).await.unwrap();
    let third = service.create_project(&owner, new_project("Third", &[])).await.unwrap();
    service.create_invitation(&owner, &pid, new_invitation("Jane.Doe@Example.com", "editor")).await.unwrap();
    service.create_invitation(&owner, &second.id, new_invitation("jane.doe@example.com", "readonly")).await.unwrap();
    let revoked =
        service.create_invitation(&owner, &third.id, new_invitation("jane.doe@example.com", "editor")).await.unwrap();
    service.revoke(&owner, &third.id, revoked.id).await.unwrap();
    clock.advance(Duration::seconds(1));
    let jane = user_with_email("jane.doe@example.com");
    let report = service.accept_all_for(&jane.user_id, &Email::parse("jane.doe@example.com").unwrap()).await.unwrap();
    assert_eq!(report.accepted, 2);
    for _ in 0..2 {
        let again =
            service.accept_all_for(&jane.user_id, &Email::parse("jane.doe@example.com").unwrap()).await.unwrap();
        assert_eq!(again.accepted, 0);
    }
    assert_eq!(service.project(&jane, &pid).await.unwrap().1, Role::Editor);
    assert_eq!(service.project(&jane, &second.id).await.unwrap().1, Role::ReadOnly);
    assert_eq!(service.project(&jane, &third.id).await.unwrap_err(), AppError::NotFound);
}

/// The event a transition writes, as the service would log it.
fn logged(from: &Invitation, to: &Invitation) -> Event {
    Event::transition(from, to, &Actor::System, to.accepted_at.unwrap_or(to.created_at))
}

fn acceptances(planned: &[(Invitation, Invitation, Grant, Event)]) -> Vec<Acceptance<'_>> {
    planned
        .iter()
        .map(|(from, to, grant, event)| Acceptance {
            transition: Transition { from, to, event, claims: &[] },
            grant,
            member_event: None,
        })
        .collect()
}

/// Jane invited to three projects: the projects and the invitations as stored.
async fn three_invitations(
    service: &Service,
    owner: &invitations::Caller,
    store: &Arc<dyn Store>,
) -> (Vec<ProjectId>, Vec<Invitation>) {
    let mut projects = Vec::new();
    let mut keys = Vec::new();
    for name in ["One", "Two", "Three"] {
        let project = service.create_project(owner, new_project(name, &[])).await.unwrap();
        let inv =
            service.create_invitation(owner, &project.id, new_invitation("jane@example.com", "editor")).await.unwrap();
        keys.push((project.id.clone(), inv.id));
        projects.push(project.id);
    }
    (projects, store.invitations_by_key(&keys).await.unwrap())
}

async fn a_batch_of_acceptances_is_all_or_none(store: Arc<dyn Store>) {
    let (service, _, owner, _) = setup(store.clone()).await;
    let jane = user_with_email("jane@example.com");
    let (projects, read) = three_invitations(&service, &owner, &store).await;
    let now = service.now();
    let plan = |invitations: &[Invitation]| -> Vec<(Invitation, Invitation, Grant, Event)> {
        invitations
            .iter()
            .map(|inv| {
                let grant =
                    Membership::grant(None, &inv.project_id, &jane.user_id, jane.email.as_deref(), inv.role, now);
                let accepted = inv.accept(&jane.user_id, now).unwrap();
                let event = logged(inv, &accepted);
                (inv.clone(), accepted, grant, event)
            })
            .collect()
    };
    // The last invitation changes after it was read: the whole batch is refused.
    service
        .update_invitation(
            &owner,
            &projects[2],
            read[2].id,
            InvitationChanges { email: None, role: Some("readonly".parse().unwrap()) },
        )
        .await
        .unwrap();
    let stale = plan(&read);
    assert_eq!(store.accept_batch(&acceptances(&stale)).await, Err(StoreError::Conflict));
    let keys: Vec<_> = read.iter().map(|i| (i.project_id.clone(), i.id)).collect();
    let after = store.invitations_by_key(&keys).await.unwrap();
    assert!(after.iter().all(|i| i.status == InvitationStatus::Pending), "nothing accepted");
    assert_eq!(store.pending_for_email("jane@example.com").await.unwrap().len(), 3, "no marker removed");
    assert!(store.memberships(&jane.user_id, &projects).await.unwrap().is_empty(), "no membership written");
    // Read again, the same batch commits as a whole.
    let fresh = plan(&after);
    store.accept_batch(&acceptances(&fresh)).await.unwrap();
    let accepted = store.invitations_by_key(&keys).await.unwrap();
    assert!(accepted.iter().all(|i| i.status == InvitationStatus::Accepted));
    assert!(store.pending_for_email("jane@example.com").await.unwrap().is_empty());
    assert_eq!(store.memberships(&jane.user_id, &projects).await.unwrap().len(), 3);
}

async fn sign_up_accepts_the_rest_when_one_changes_mid_batch(store: Arc<dyn Store>) {
    let (service, _, owner, _) = setup(store.clone()).await;
    let (projects, read) = three_invitations(&service, &owner, &store).await;
    // The owner revokes the second invitation between the sign-up's read and its write.
    let revoked = read[1].revoke(service.now()).unwrap();
    let (report, statuses, members) = sign_up_racing(&store, &read, &projects, revoked).await;
    assert_eq!((report.accepted, report.skipped), (2, 1));
    assert_eq!(statuses, [InvitationStatus::Accepted, InvitationStatus::Revoked, InvitationStatus::Accepted]);
    assert_eq!(members.len(), 2);
    assert!(!members.contains(&projects[1]));
}

async fn sign_up_leaves_an_invitation_readdressed_mid_batch(store: Arc<dyn Store>) {
    let (service, _, owner, _) = setup(store.clone()).await;
    let (projects, read) = three_invitations(&service, &owner, &store).await;
    // The owner sends the second invitation to another address between the read and the write.
    let june = Email::parse("june@example.com").unwrap();
    let changes = InvitationChanges { email: Some(june), role: None };
    let readdressed = read[1].update(&changes, service.now(), &Policy::default()).unwrap().invitation;
    let (report, statuses, members) = sign_up_racing(&store, &read, &projects, readdressed).await;
    assert_eq!((report.accepted, report.skipped), (2, 1));
    assert_eq!(statuses, [InvitationStatus::Accepted, InvitationStatus::Pending, InvitationStatus::Accepted]);
    assert!(!members.contains(&projects[1]), "jane is not let into june's project");
    assert_eq!(store.pending_for_email("june@example.com").await.unwrap().len(), 1);
}

/// Jane signs up while `change` is written over one of `read` just before her first batch; the
/// report, the invitations' statuses and the projects Jane is now a member of.
async fn sign_up_racing(
    store: &Arc<dyn Store>,
    read: &[Invitation],
    projects: &[ProjectId],
    change: Invitation,
) -> (invitations::service::AcceptReport, Vec<InvitationStatus>, Vec<ProjectId>) {
    let from = read.iter().find(|i| i.id == change.id).unwrap().clone();
    let racing = ChangesBeforeFirstBatch { inner: store.clone(), from, to: change, done: Default::default() };
    let (signing_up, _) = integration_tests::service(Arc::new(racing));
    let jane = user_with_email("jane@example.com");
    let report = signing_up.accept_all_for(&jane.user_id, &Email::parse("jane@example.com").unwrap()).await.unwrap();
    let keys: Vec<_> = read.iter().map(|i| (i.project_id.clone(), i.id)).collect();
    let statuses = store.invitations_by_key(&keys).await.unwrap().iter().map(|i| i.status).collect();
    let members = store.memberships(&jane.user_id, projects).await.unwrap().into_iter().map(|m| m.project_id).collect();
    (report, statuses, members)
}

/// A store whose first batch of acceptances loses a race: `from` becomes `to` just before it.
struct ChangesBeforeFirstBatch {
    inner: Arc<dyn Store>,
    from: Invitation,
    to: Invitation,
    done: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl Store for ChangesBeforeFirstBatch {
    async fn create_project(
        &self,
        project: &Project,
        owner: &Membership,
        events: &[Event],
        claims: &[QuotaClaim],
    ) -> StoreResult<()> {
        self.inner.create_project(project, owner, events, claims).await
    }
    async fn quota_use(&self, scope: &QuotaScope, now: time::OffsetDateTime) -> StoreResult<QuotaUse> {
        self.inner.quota_use(scope, now).await
    }
    async fn project_and_membership(
        &self,
        project_id: &ProjectId,
        user_id: &UserId,
    ) -> StoreResult<(Option<Project>, Option<Membership>)> {
        self.inner.project_and_membership(project_id, user_id).await
    }
    async fn members(&self, project_id: &ProjectId, page: &PageRequest) -> StoreResult<Page<Membership>> {
        self.inner.members(project_id, page).await
    }
    async fn members_by_id(&self, project_id: &ProjectId, user_ids: &[UserId]) -> StoreResult<Vec<Membership>> {
        self.inner.members_by_id(project_id, user_ids).await
    }
    async fn another_owner(&self, project_id: &ProjectId, except: &UserId) -> StoreResult<Option<Membership>> {
        self.inner.another_owner(project_id, except).await
    }
    async fn change_member(&self, update: MemberUpdate<'_>) -> StoreResult<()> {
        self.inner.change_member(update).await
    }
    async fn slack_integration(&self, project_id: &ProjectId) -> StoreResult<Option<SlackIntegration>> {
        self.inner.slack_integration(project_id).await
    }
    async fn set_slack_integration(
        &self,
        project_id: &ProjectId,
        integration: Option<&SlackIntegration>,
        owner: &Membership,
        event: &Event,
    ) -> StoreResult<()> {
        self.inner.set_slack_integration(project_id, integration, owner, event).await
    }
    async fn projects_of(&self, user_id: &UserId, page: &PageRequest) -> StoreResult<Page<(Project, Membership)>> {
        self.inner.projects_of(user_id, page).await
    }
    async fn pending_in_project(
        &self,
        project_id: &ProjectId,
        emails: &[String],
    ) -> StoreResult<Vec<PendingInvitation>> {
        self.inner.pending_in_project(project_id, emails).await
    }
    async fn begin_request(
        &self,
        record: &RequestRecord,
        now: time::OffsetDateTime,
    ) -> StoreResult<Option<RequestRecord>> {
        self.inner.begin_request(record, now).await
    }
    async fn finish_request(&self, record: &RequestRecord) -> StoreResult<()> {
        self.inner.finish_request(record).await
    }
    async fn create_invitation(
        &self,
        invitation: &Invitation,
        guard: &CreateGuard,
        supersedes: Option<Transition<'_>>,
        event: &Event,
        claims: &[QuotaClaim],
    ) -> StoreResult<()> {
        self.inner.create_invitation(invitation, guard, supersedes, event, claims).await
    }
    async fn invitation_and_membership(
        &self,
        project_id: &ProjectId,
        invitation_id: InvitationId,
        user_id: &UserId,
    ) -> StoreResult<(Option<Invitation>, Option<Membership>)> {
        self.inner.invitation_and_membership(project_id, invitation_id, user_id).await
    }
    async fn invitation_and_project(
        &self,
        project_id: &ProjectId,
        invitation_id: InvitationId,
    ) -> StoreResult<(Option<Invitation>, Option<Project>)> {
        self.inner.invitation_and_project(project_id, invitation_id).await
    }
    async fn invitations(
        &self,
        project_id: &ProjectId,
        filter: &InvitationFilter,
        now: time::OffsetDateTime,
        page: &PageRequest,
    ) -> StoreResult<Page<Invitation>> {
        self.inner.invitations(project_id, filter, now, page).await
    }
    async fn events(
        &self,
        project_id: &ProjectId,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Event>> {
        self.inner.events(project_id, filter, page).await
    }
    async fn pending_for_email(&self, email_normalized: &str) -> StoreResult<Vec<PendingInvitation>> {
        self.inner.pending_for_email(email_normalized).await
    }
    async fn pending_page(&self, email: &str, page: &PageRequest) -> StoreResult<Page<PendingInvitation>> {
        self.inner.pending_page(email, page).await
    }
    async fn invitations_by_key(&self, keys: &[InvitationKey]) -> StoreResult<Vec<Invitation>> {
        self.inner.invitations_by_key(keys).await
    }
    async fn memberships(&self, user_id: &UserId, project_ids: &[ProjectId]) -> StoreResult<Vec<Membership>> {
        self.inner.memberships(user_id, project_ids).await
    }
    async fn save(&self, transition: Transition<'_>) -> StoreResult<()> {
        self.inner.save(transition).await
    }
    async fn accept_batch(&self, acceptances: &[Acceptance<'_>]) -> StoreResult<()> {
        if !self.done.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let event = logged(&self.from, &self.to);
            self.inner.save(Transition { from: &self.from, to: &self.to, event: &event, claims: &[] }).await.unwrap();
        }
        self.inner.accept_batch(acceptances).await
    }
}

fn quota_refusal(err: AppError) -> (u64, String) {
    match err {
        AppError::TooManyRequests { code: "quota_exceeded", retry_after_secs, message } => (retry_after_secs, message),
        other => panic!("expected quota_exceeded, got {other:?}"),
    }
}

async fn a_project_and_an_inviter_send_a_bounded_number_of_invitations_a_day(store: Arc<dyn Store>) {
    let (service, clock) = service_with(store.clone(), quotas(3, 100, 20, 50));
    let owner = user("owner");
    let project = service.create_project(&owner, new_project("Busy", &[])).await.unwrap();
    let first =
        service.create_invitation(&owner, &project.id, new_invitation("a@example.com", "editor")).await.unwrap();
    service.create_invitation(&owner, &project.id, new_invitation("b@example.com", "editor")).await.unwrap();
    clock.advance(Duration::hours(1));
    // A resend counts as a send.
    service.resend(&owner, &project.id, first.id).await.unwrap();
    let err =
        service.create_invitation(&owner, &project.id, new_invitation("c@example.com", "editor")).await.unwrap_err();
    let (retry_after, message) = quota_refusal(err);
    assert_eq!(retry_after, 23 * 3600, "the first send's slot frees 24 h after it");
    assert!(message.contains("This project"), "{message}");
    assert!(store.pending_for_email("c@example.com").await.unwrap().is_empty(), "nothing written");
    clock.advance(Duration::hours(23));
    service.create_invitation(&owner, &project.id, new_invitation("c@example.com", "editor")).await.unwrap();
    // The inviter's own quota spans projects.
    let (service, _) = service_with(store.clone(), quotas(100, 2, 20, 50));
    let inviter = user("inviter");
    let other = service.create_project(&inviter, new_project("Other", &[])).await.unwrap();
    let third = service.create_project(&inviter, new_project("Third", &[])).await.unwrap();
    service.create_invitation(&inviter, &other.id, new_invitation("d@example.com", "editor")).await.unwrap();
    service.create_invitation(&inviter, &third.id, new_invitation("e@example.com", "editor")).await.unwrap();
    let err =
        service.create_invitation(&inviter, &third.id, new_invitation("f@example.com", "editor")).await.unwrap_err();
    assert!(quota_refusal(err).1.contains("You have sent"));
}

async fn an_address_holds_a_bounded_number_of_pending_invitations(store: Arc<dyn Store>) {
    let (service, _) = service_with(store.clone(), quotas(100, 100, 2, 50));
    let owner = user("owner");
    let mut projects = Vec::new();
    for name in ["One", "Two", "Three"] {
        projects.push(service.create_project(&owner, new_project(name, &[])).await.unwrap().id);
    }
    let first =
        service.create_invitation(&owner, &projects[0], new_invitation("target@example.com", "editor")).await.unwrap();
    service.create_invitation(&owner, &projects[1], new_invitation("Target@example.com", "editor")).await.unwrap();
    let err = service
        .create_invitation(&owner, &projects[2], new_invitation("target@example.com", "editor"))
        .await
        .unwrap_err();
    assert!(quota_refusal(err).1.contains("pending invitations"));
    // A revoked invitation frees its address's slot.
    service.revoke(&owner, &projects[0], first.id).await.unwrap();
    service.create_invitation(&owner, &projects[2], new_invitation("target@example.com", "editor")).await.unwrap();
}

async fn a_user_creates_a_bounded_number_of_projects(store: Arc<dyn Store>) {
    let (service, _) = service_with(store, quotas(100, 100, 20, 2));
    let owner = user("owner");
    service.create_project(&owner, new_project("One", &[])).await.unwrap();
    service.create_project(&owner, new_project("Two", &[])).await.unwrap();
    let err = service.create_project(&owner, new_project("Three", &[])).await.unwrap_err();
    assert!(quota_refusal(err).1.contains("projects"));
    service.create_project(&user("someone-else"), new_project("Theirs", &[])).await.unwrap();
}

async fn a_replacement_takes_over_the_expired_invitation_s_address_slot(store: Arc<dyn Store>) {
    // One slot per address: the replacement can only take the one its expired predecessor holds.
    let (service, clock) = service_with(store.clone(), quotas(100, 100, 1, 50));
    let owner = user("owner");
    let project = service.create_project(&owner, new_project("Solo", &[])).await.unwrap();
    let old =
        service.create_invitation(&owner, &project.id, new_invitation("solo@example.com", "editor")).await.unwrap();
    clock.advance(Policy::default().ttl + Duration::seconds(1));
    let new =
        service.create_invitation(&owner, &project.id, new_invitation("solo@example.com", "editor")).await.unwrap();
    assert_eq!((old.address_slot, new.address_slot), (Some(0), Some(0)));
    let held = store.quota_use(&QuotaScope::AddressPending("solo@example.com".into()), service.now()).await.unwrap();
    assert_eq!(held.held, vec![0]);
}

async fn a_resent_invitation_keeps_its_address_slot_while_pending(store: Arc<dyn Store>) {
    // One slot per address, held until 30 days after the invitation expires; a resend moves the
    // expiry, and the hold with it.
    let (service, clock) = service_with(store.clone(), quotas(100, 100, 1, 50));
    let owner = user("owner");
    let first = service.create_project(&owner, new_project("First", &[])).await.unwrap().id;
    let second = service.create_project(&owner, new_project("Second", &[])).await.unwrap().id;
    let invitation =
        service.create_invitation(&owner, &first, new_invitation("kept@example.com", "editor")).await.unwrap();
    // Expired, and resent a day before its address's hold runs out: pending again.
    clock.advance(Policy::default().ttl + ADDRESS_HOLD_AFTER_EXPIRY - Duration::days(1));
    let resent = service.resend(&owner, &first, invitation.id).await.unwrap();
    // Past the first hold, the invitation still pending: its slot is still its own.
    clock.advance(Duration::days(2));
    assert!(resent.expires_at > service.now());
    let err =
        service.create_invitation(&owner, &second, new_invitation("kept@example.com", "editor")).await.unwrap_err();
    assert!(quota_refusal(err).1.contains("pending invitations"));
    let held = store.quota_use(&QuotaScope::AddressPending("kept@example.com".into()), service.now()).await.unwrap();
    assert_eq!(held.held, vec![0]);
    // Once it is revoked, the address takes another.
    service.revoke(&owner, &first, invitation.id).await.unwrap();
    service.create_invitation(&owner, &second, new_invitation("kept@example.com", "editor")).await.unwrap();
}

async fn members_change_within_the_role_ceiling_and_the_last_owner_stays(store: Arc<dyn Store>) {
    let (service, _, owner, pid) = setup(store.clone()).await;
    let mut joined = Vec::new();
    for role in ["manager", "manager", "editor"] {
        let member = user_with_email(&unique_email(role));
        let new = new_invitation(member.email.as_deref().unwrap(), role);
        let invitation = service.create_invitation(&owner, &pid, new).await.unwrap();
        service.accept(&member, &pid, invitation.id).await.unwrap();
        joined.push(member);
    }
    let [manager, other_manager, editor] = &joined[..] else { unreachable!() };
    let change = |who: &invitations::Caller, whom: &invitations::Caller, change: MemberChange| {
        let (service, pid, who, whom) = (&service, &pid, who.clone(), whom.user_id.clone());
        async move { service.change_member(&who, pid, &whom, change).await }
    };
    let code = |result: Result<Option<Membership>, AppError>| result.unwrap_err().code().to_owned();

    let demoted = change(manager, editor, MemberChange::Role(Role::ReadOnly)).await.unwrap().unwrap();
    assert_eq!(demoted.role, Role::ReadOnly);
    assert_eq!(code(change(manager, other_manager, MemberChange::Remove).await), "role_above_own");
    assert_eq!(code(change(manager, editor, MemberChange::Role(Role::Owner)).await), "role_above_own");
    assert_eq!(code(change(editor, manager, MemberChange::Remove).await), "forbidden");
    assert_eq!(change(&user("stranger"), editor, MemberChange::Remove).await.unwrap_err(), AppError::NotFound);
    assert_eq!(change(manager, &user("nobody"), MemberChange::Remove).await.unwrap_err(), AppError::NotFound);
    assert_eq!(code(change(&owner, &owner, MemberChange::Role(Role::Manager)).await), "last_owner");
    assert_eq!(code(change(&owner, &owner, MemberChange::Remove).await), "last_owner");

    // With a second owner, the first may step down, and then be removed by the second.
    change(&owner, manager, MemberChange::Role(Role::Owner)).await.unwrap();
    change(&owner, &owner, MemberChange::Role(Role::Editor)).await.unwrap();
    assert_eq!(change(manager, &owner, MemberChange::Remove).await.unwrap(), None);
    assert_eq!(code(change(manager, manager, MemberChange::Remove).await), "last_owner", "the one owner left");
    assert_eq!(change(editor, editor, MemberChange::Remove).await.unwrap(), None, "anyone may leave");

    let first = PageRequest::default();
    let mine = service.my_projects(manager, &first).await.unwrap().items;
    assert_eq!(mine.iter().map(|(p, role)| (p.id.clone(), *role)).collect::<Vec<_>>(), [(pid.clone(), Role::Owner)]);
    assert!(service.my_projects(&owner, &first).await.unwrap().items.is_empty());
    let members = service.members(manager, &pid, &first).await.unwrap().items;
    let mut left: Vec<_> = members.iter().map(|m| m.user_id.clone()).collect();
    left.sort();
    let mut expected = vec![manager.user_id.clone(), other_manager.user_id.clone()];
    expected.sort();
    assert_eq!(left, expected);

    let events = service.events(manager, &pid, &EventFilter::default(), &first).await.unwrap().items;
    let member_events: Vec<_> = events
        .iter()
        .rev()
        .filter(|e| matches!(e.kind, EventType::MemberRoleChanged | EventType::MemberRemoved))
        .map(|e| (e.kind, e.changes.member_id.clone().unwrap(), e.changes.role.unwrap()))
        .collect();
    assert_eq!(
        member_events,
        [
            (EventType::MemberRoleChanged, editor.user_id.clone(), Role::ReadOnly),
            (EventType::MemberRoleChanged, manager.user_id.clone(), Role::Owner),
            (EventType::MemberRoleChanged, owner.user_id.clone(), Role::Editor),
            (EventType::MemberRemoved, owner.user_id.clone(), Role::Editor),
            (EventType::MemberRemoved, editor.user_id.clone(), Role::ReadOnly),
        ]
    );
}

async fn a_keyed_request_holds_its_key_until_done_released_dead_or_a_day_old(store: Arc<dyn Store>) {
    let now = start_time();
    let scope = unique("scope");
    let first = RequestRecord::start(scope.clone(), "body".into(), now);
    assert_eq!(store.begin_request(&first, now).await.unwrap(), None, "the key was free");
    let second = RequestRecord::start(scope.clone(), "body".into(), now);
    let held = store.begin_request(&second, now).await.unwrap().expect("held by the first");
    assert_eq!((held.token, &held.state), (first.token, &first.state));
    // A late finish by a run that no longer holds the key changes nothing.
    let kept = KeptResponse { status: 201, headers: vec![("etag".into(), "\"1\"".into())], body: "{\"a\":1}".into() };
    store.finish_request(&second.finished(kept.clone())).await.unwrap();
    assert_eq!(store.begin_request(&second, now).await.unwrap().unwrap().state, first.state);
    store.finish_request(&first.finished(kept.clone())).await.unwrap();
    let done = store.begin_request(&second, now + RUNNING_LEASE).await.unwrap().expect("kept");
    assert_eq!(done.state, RequestState::Done(kept));
    // Past the day, a new run takes the key.
    assert_eq!(store.begin_request(&second, now + KEPT_FOR).await.unwrap(), None);

    // A run that died frees its key when its lease ends; a released one at once.
    let other = unique("scope");
    let dead = RequestRecord::start(other.clone(), "body".into(), now);
    store.begin_request(&dead, now).await.unwrap();
    let retry = RequestRecord::start(other.clone(), "body".into(), now);
    assert!(store.begin_request(&retry, now + RUNNING_LEASE - Duration::seconds(1)).await.unwrap().is_some());
    assert_eq!(store.begin_request(&retry, now + RUNNING_LEASE).await.unwrap(), None);
    let failed = KeptResponse { status: 503, headers: Vec::new(), body: String::new() };
    store.finish_request(&retry.finished(failed)).await.unwrap();
    let again = RequestRecord::start(other, "body".into(), now);
    assert_eq!(store.begin_request(&again, now + RUNNING_LEASE).await.unwrap(), None, "released");
}

async fn a_bulk_checks_every_row_and_creates_the_good_ones(store: Arc<dyn Store>) {
    let (service, clock, owner, pid) = setup(store.clone()).await;
    let held = service.create_invitation(&owner, &pid, new_invitation("held@example.com", "editor")).await.unwrap();
    // Lapsed, it gives way to the bulk's row for the same address, as to a single create.
    let lapsed = service.create_invitation(&owner, &pid, new_invitation("lapsed@example.com", "editor")).await.unwrap();
    clock.advance(lapsed.expires_at - clock.now());
    let held = service.resend(&owner, &pid, held.id).await.unwrap();
    let rows = || {
        ["new@example.com", "held@example.com", "NEW@example.com", "lapsed@example.com"]
            .into_iter()
            .map(|email| Ok(new_invitation(email, "readonly")))
            .collect::<Vec<_>>()
    };
    let codes = |outcomes: &[invitations::service::RowOutcome]| {
        outcomes.iter().map(|o| o.as_ref().map(|i| i.is_some()).map_err(|e| e.code().to_owned())).collect::<Vec<_>>()
    };
    let dry = service.bulk_invite(&owner, &pid, rows(), true).await.unwrap();
    let refused = |code: &str| Err(code.to_owned());
    assert_eq!(codes(&dry), [Ok(false), refused("duplicate_invitation"), refused("duplicate_in_request"), Ok(false)]);
    let page = PageRequest::default();
    let pending = || service.list_invitations(&owner, &pid, InvitationStatus::Pending, &page);
    assert_eq!(pending().await.unwrap().items.len(), 1, "only the held one: a dry run writes nothing");
    let done = service.bulk_invite(&owner, &pid, rows(), false).await.unwrap();
    assert_eq!(codes(&done), [Ok(true), refused("duplicate_invitation"), refused("duplicate_in_request"), Ok(true)]);
    let mut emails: Vec<_> = pending().await.unwrap().items.into_iter().map(|i| i.email_normalized.clone()).collect();
    emails.sort();
    assert_eq!(emails, ["held@example.com", "lapsed@example.com", "new@example.com"]);
    assert_eq!(service.invitation(&owner, &pid, held.id).await.unwrap().version, held.version, "left alone");
}

async fn a_members_slack_invitation_is_claimed_by_one_attempt_at_a_time(store: Arc<dyn Store>) {
    let (service, clock, owner, pid) = setup(store.clone()).await;
    let member = store.members_by_id(&pid, std::slice::from_ref(&owner.user_id)).await.unwrap().remove(0);
    let now = clock.now();
    let claim = |from: &Membership| Membership {
        slack: Some(SlackState::claim(from.slack.as_ref(), false, now).unwrap()),
        ..from.clone()
    };
    let update = |from: &Membership, to: &Membership| {
        let (store, from, to) = (store.clone(), from.clone(), to.clone());
        async move {
            store
                .change_member(MemberUpdate {
                    from: &from,
                    to: Some(&to),
                    actor: &from,
                    remaining_owner: None,
                    event: None,
                })
                .await
        }
    };
    let (first, second) = (claim(&member), claim(&member));
    update(&member, &first).await.unwrap();
    assert_eq!(update(&member, &second).await, Err(StoreError::Conflict), "the second attempt read it unclaimed");
    let invited = Membership { slack: Some(SlackState::answered(SlackStatus::Invited, None, now)), ..first.clone() };
    update(&first, &invited).await.unwrap();
    let stored = store.members_by_id(&pid, std::slice::from_ref(&owner.user_id)).await.unwrap().remove(0);
    assert_eq!(stored.slack.map(|s| s.status), Some(SlackStatus::Invited));
    // A role change over a stale Slack state is refused too, and retried by the service.
    assert_eq!(update(&first, &Membership { role: Role::Owner, ..first.clone() }).await, Err(StoreError::Conflict));
    assert!(service.members(&owner, &pid, &PageRequest::default()).await.unwrap().items[0].slack.is_some());
}
