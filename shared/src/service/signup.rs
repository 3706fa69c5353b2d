//! Acceptance: the one path that accepts an invitation (the API's accept, the sign-up trigger and
//! its reconciler), and the sign-up's acceptance of every pending invitation of a new user.

use super::{retrying, AppError, Failed, Invitations};
use crate::cause::Cause;
use crate::domain::{Actor, Email, Event, Grant, Invitation, Membership, TransitionError, UserId};
use crate::store::{Acceptance, PendingInvitation, StoreError, Transition, ACCEPT_BATCH};
use futures::{StreamExt, TryStreamExt};
use time::OffsetDateTime;

/// Batches of sign-up acceptances written at once.
const ACCEPT_CONCURRENCY: usize = 4;

/// What the sign-up acceptance did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcceptReport {
    pub accepted: usize,
    /// Pending markers whose invitation could not be accepted (expired, changed meanwhile).
    pub skipped: usize,
}

/// An acceptance worked out from what was read, ready to be written with its events.
struct PlannedAcceptance {
    invitation: Invitation,
    accepted: Invitation,
    grant: Grant,
    event: Event,
    /// `member.added`, when the grant makes the user a member.
    member_event: Option<Event>,
}

impl PlannedAcceptance {
    fn of(
        invitation: Invitation,
        membership: Option<&Membership>,
        user_id: &UserId,
        email: &str,
        now: OffsetDateTime,
    ) -> Result<Self, TransitionError> {
        let accepted = invitation.accept(user_id, now)?;
        let grant = Membership::grant(membership, &invitation.project_id, user_id, Some(email), invitation.role, now);
        let actor = Actor::User(user_id.clone());
        let event = Event::transition(&invitation, &accepted, &actor, now);
        let member_event = match &grant {
            Grant::Write { membership, replaces: None } => {
                let mut added = Event::member_added(membership, &actor, now);
                added.invitation_id = Some(invitation.id);
                Some(added)
            }
            _ => None,
        };
        Ok(Self { invitation, accepted, grant, event, member_event })
    }

    fn acceptance(&self) -> Acceptance<'_> {
        Acceptance {
            transition: Transition { from: &self.invitation, to: &self.accepted, event: &self.event, claims: &[] },
            grant: &self.grant,
            member_event: self.member_event.as_ref(),
        }
    }

    fn log_kept_role(&self) {
        if let Grant::Keep { existing } = self.grant {
            tracing::info!(invitation_id = %self.invitation.id, kept = %existing, "accepted; the member keeps a higher role");
        }
    }
}

/// Accepts one invitation as read, with the user's membership as read.
pub(super) async fn accept_one(
    app: &Invitations,
    invitation: Invitation,
    membership: Option<Membership>,
    user_id: &UserId,
    email: &str,
) -> Result<Invitation, Failed> {
    let planned = PlannedAcceptance::of(invitation, membership.as_ref(), user_id, email, app.clock.now())?;
    app.store.accept(planned.acceptance()).await?;
    planned.log_kept_role();
    tracing::info!(project_id = %planned.accepted.project_id, invitation_id = %planned.accepted.id, "invitation accepted");
    Ok(planned.accepted)
}

impl Invitations {
    /// Accepts every pending, unexpired invitation for a new user's verified email. Idempotent:
    /// accepted invitations have no pending marker left. Fails only on a dependency failure.
    ///
    /// Three rounds of calls whatever the count: the markers, then the invitations and the user's
    /// memberships together, then the acceptances in batches of [`ACCEPT_BATCH`], one atomic write
    /// each, run concurrently. A batch holding an invitation that changed meanwhile is accepted one
    /// by one instead, through the API's acceptance code.
    #[tracing::instrument(skip_all)]
    pub async fn accept_all_for(&self, user_id: &UserId, verified_email: &Email) -> Result<AcceptReport, AppError> {
        let email = verified_email.normalized().to_owned();
        let markers = self.store.pending_for_email(&email).await?;
        if markers.is_empty() {
            return Ok(AcceptReport::default());
        }
        let keys: Vec<_> = markers.iter().map(PendingInvitation::key).collect();
        let (invitations, memberships) = self.store.invitations_and_memberships(&keys, user_id).await?;
        let now = self.clock.now();
        let mut report = AcceptReport::default();
        let mut planned = Vec::with_capacity(invitations.len());
        for invitation in invitations.into_iter().filter(|i| i.email_normalized == email) {
            let membership = memberships.iter().find(|m| m.project_id == invitation.project_id);
            match PlannedAcceptance::of(invitation, membership, user_id, &email, now) {
                Ok(acceptance) => planned.push(acceptance),
                // Expired, or no longer pending: nothing to accept.
                Err(_) => report.skipped += 1,
            }
        }
        let email = email.as_str();
        let batches: Vec<_> =
            planned.chunks(ACCEPT_BATCH).map(|batch| self.accept_batch(batch, user_id, email)).collect();
        let counts: Vec<(usize, usize)> =
            futures::stream::iter(batches).buffer_unordered(ACCEPT_CONCURRENCY).try_collect().await?;
        for (accepted, skipped) in counts {
            report.accepted += accepted;
            report.skipped += skipped;
        }
        Ok(report)
    }

    /// One atomic write for the batch; if one of them changed since it was read, each alone.
    /// Returns how many were accepted and skipped.
    async fn accept_batch(
        &self,
        batch: &[PlannedAcceptance],
        user_id: &UserId,
        email: &str,
    ) -> Result<(usize, usize), AppError> {
        let acceptances: Vec<_> = batch.iter().map(PlannedAcceptance::acceptance).collect();
        match self.store.accept_batch(&acceptances).await {
            Ok(()) => {
                batch.iter().for_each(PlannedAcceptance::log_kept_role);
                Ok((batch.len(), 0))
            }
            Err(StoreError::Conflict) => {
                let alone = batch.iter().map(|p| self.accept_alone(&p.invitation, user_id, email));
                let accepted: Vec<bool> = futures::future::try_join_all(alone).await?;
                let count = accepted.iter().filter(|a| **a).count();
                Ok((count, batch.len() - count))
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Accepts one invitation of a sign-up as it is now, re-reading it while it changes under us.
    /// `false` when it can no longer be accepted (expired, revoked, accepted or readdressed
    /// meanwhile). One that still changes under us after the retries is an error, so the whole
    /// sign-up is handed to the reconcile queue and tried again, never silently left out.
    async fn accept_alone(&self, read: &Invitation, user_id: &UserId, email: &str) -> Result<bool, AppError> {
        let outcome = retrying(|| async {
            let (invitation, membership) =
                self.store.invitation_and_membership(&read.project_id, read.id, user_id).await?;
            match invitation {
                Some(invitation) if invitation.email_normalized == email => {
                    accept_one(self, invitation, membership, user_id, email).await?;
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await;
        match outcome {
            Err(AppError::Conflict { code: "concurrent_modification", .. }) => {
                Err(AppError::Unavailable(Cause::msg("an acceptance kept conflicting with other writes")))
            }
            // No longer pending, or expired: nothing to accept.
            Err(AppError::Conflict { .. }) => Ok(false),
            other => other,
        }
    }
}
