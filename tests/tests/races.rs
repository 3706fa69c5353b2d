//! Real concurrency against DynamoDB Local: the rules hold because they are conditions.

use integration_tests::*;
use invitations::domain::QuotaScope;
use invitations::store::Store;
use invitations::InvitationStatus;
use invitations::{AppError, Role};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_creates_of_one_address_make_one_invitation() {
    let store = Arc::new(dynamo_store().await);
    let (service, _) = service(store.clone());
    let service = Arc::new(service);
    let owner = user("owner");
    let project = service.create_project(&owner, new_project("Race", &[])).await.unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let (service, owner, pid) = (service.clone(), owner.clone(), project.id.clone());
            let email = if i % 2 == 0 { "Racer@Example.com" } else { "racer@example.com" };
            tokio::spawn(async move { service.create_invitation(&owner, &pid, new_invitation(email, "editor")).await })
        })
        .collect();
    let (mut created, mut conflicts) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(err) if err.code() == "duplicate_invitation" => conflicts += 1,
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    println!("50 concurrent creates: {created} created, {conflicts} conflicts");
    assert_eq!((created, conflicts), (1, 49));
    assert_eq!(store_pending(&*store, "racer@example.com").await, 1);
    let all = service.list_invitations(&owner, &project.id, None, &Default::default()).await.unwrap();
    assert_eq!(all.items.len(), 1);
}

async fn store_pending(store: &dyn invitations::store::Store, email: &str) -> usize {
    store.pending_for_email(email).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn accept_racing_revoke_has_exactly_one_winner_every_round() {
    let store = Arc::new(dynamo_store().await);
    let (service, _) = service_with(store.clone(), quotas(1000, 1000, 20, 1000));
    let service = Arc::new(service);
    let owner = user("owner");
    let (mut accepts, mut revokes) = (0, 0);
    for round in 0..100 {
        let project = service.create_project(&owner, new_project(&format!("Round {round}"), &[])).await.unwrap();
        let invitee = user_with_email(&format!("r{round}@example.com"));
        let invitation = service
            .create_invitation(&owner, &project.id, new_invitation(invitee.email.as_deref().unwrap(), "editor"))
            .await
            .unwrap();
        let id = invitation.id;
        let accept = {
            let (service, invitee, pid) = (service.clone(), invitee.clone(), project.id.clone());
            tokio::spawn(async move { service.accept(&invitee, &pid, id).await })
        };
        let revoke = {
            let (service, owner, pid) = (service.clone(), owner.clone(), project.id.clone());
            tokio::spawn(async move { service.revoke(&owner, &pid, id).await })
        };
        let (accepted, revoked) = (accept.await.unwrap(), revoke.await.unwrap());
        assert!(accepted.is_ok() != revoked.is_ok(), "round {round}: exactly one winner: {accepted:?} / {revoked:?}");
        let loser = accepted.as_ref().err().or(revoked.as_ref().err()).unwrap();
        assert_eq!(loser.code(), "invitation_not_pending", "round {round}");
        let stored = service.invitation(&owner, &project.id, id).await.unwrap();
        let membership = service.project(&invitee, &project.id).await;
        match stored.status {
            InvitationStatus::Accepted => {
                accepts += 1;
                assert!(stored.revoked_at.is_none());
                assert_eq!(membership.unwrap().1, Role::Editor);
            }
            InvitationStatus::Revoked => {
                revokes += 1;
                assert!(stored.accepted_at.is_none() && stored.accepted_by.is_none());
                assert_eq!(
                    membership.unwrap_err(),
                    AppError::NotFound,
                    "round {round}: no membership without acceptance"
                );
            }
            other => panic!("round {round}: unexpected status {other:?}"),
        }
    }
    println!("100 accept-vs-revoke rounds: {accepts} accepted, {revokes} revoked, 0 both");
    assert_eq!(accepts + revokes, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_creates_against_a_quota_of_ten_make_exactly_ten() {
    let store = Arc::new(dynamo_store().await);
    let (service, _) = service_with(store.clone(), quotas(10, 100, 20, 50));
    let service = Arc::new(service);
    let owner = user("owner");
    let project = service.create_project(&owner, new_project("Quota", &[])).await.unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (service, owner, pid) = (service.clone(), owner.clone(), project.id.clone());
            tokio::spawn(async move {
                service.create_invitation(&owner, &pid, new_invitation(&format!("q{i}@example.com"), "editor")).await
            })
        })
        .collect();
    let (mut created, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(AppError::TooManyRequests { code: "quota_exceeded", .. }) => refused += 1,
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    let held = store.quota_use(&QuotaScope::ProjectInvitations(project.id.clone()), service.now()).await.unwrap();
    println!(
        "20 concurrent creates against a quota of 10: {created} created, {refused} refused, {} slots held",
        held.held.len()
    );
    assert_eq!((created, refused, held.held.len()), (10, 10, 10));
    let listed = service.list_invitations(&owner, &project.id, None, &Default::default()).await.unwrap();
    assert_eq!(listed.items.len(), 10);
}
