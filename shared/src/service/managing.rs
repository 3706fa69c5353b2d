//! A project manager's side: invite, list, read, update, resend and revoke invitations, and read
//! the project's event log. A change that needs an email says so in its event (`send_id`); the
//! email pipe takes it from there.

use super::{domain_not_allowed, require_grant, require_manager, require_verified, retrying, AppError, Invitations};
use crate::domain::email_address::{candidates, domain_of};
use crate::domain::quota::{ADDRESS_HOLD_AFTER_EXPIRY, DAY};
use crate::domain::{
    Actor, Caller, Event, Invitation, InvitationChanges, InvitationId, InvitationRef, Membership, NewInvitation, Page,
    PageRequest, ProjectId, QuotaScope, Role,
};
use crate::store::{CreateGuard, EventFilter, InvitationFilter, StoreError, Transition};
use time::OffsetDateTime;

impl Invitations {
    #[tracing::instrument(skip_all)]
    pub async fn create_invitation(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        new: NewInvitation,
    ) -> Result<Invitation, AppError> {
        self.create_invitation_on(caller, project_id, new, &[]).await
    }

    /// [`Invitations::create_invitation`], trying these slots of the project's and the inviter's
    /// daily quotas first.
    pub(super) async fn create_invitation_on(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        new: NewInvitation,
        slots: &[u32],
    ) -> Result<Invitation, AppError> {
        require_verified(caller)?;
        if !self.settings.allowed_domains.permits(new.email.domain()) {
            return Err(domain_not_allowed());
        }
        let now = self.clock.now();
        let actor = Actor::User(caller.user_id.clone());
        let base = Invitation::new(project_id.clone(), &new, &caller.as_inviter(), now, &self.settings.policy);
        let guard = CreateGuard {
            inviter: caller.user_id.clone(),
            min_inviter_role: new.role.max(Role::Manager),
            domain_candidates: candidates(new.email.domain()),
        };
        let mut wanted = self.sending(project_id, caller, now);
        wanted.push((QuotaScope::AddressPending(base.email_normalized.clone()), base.address_hold_until()));
        let invitation = self
            .counting_from(&wanted, slots, &base.id.to_string(), |claims| {
                let invitation = base.clone().holding_address_slot(claims[2].slot);
                let (guard, actor) = (&guard, &actor);
                async move {
                    let created = Event::invitation_created(&invitation, actor);
                    match self.store.create_invitation(&invitation, guard, None, &created, &claims).await {
                        Ok(()) => Ok(invitation),
                        Err(StoreError::DuplicatePending(existing)) if existing.expires_at <= now => {
                            // The address is held by an expired invitation: retire it and take its place.
                            let old = self.store.invitations_by_key(&[existing.key()]).await?;
                            let Some(old) = old.into_iter().next() else {
                                return Err(StoreError::Conflict.into());
                            };
                            let expired = old
                                .supersede(now)
                                .map_err(|_| AppError::from(StoreError::DuplicatePending(existing)))?;
                            let event = Event::transition(&old, &expired, actor, now);
                            let supersedes = Transition { from: &old, to: &expired, event: &event, claims: &[] };
                            self.store
                                .create_invitation(&invitation, guard, Some(supersedes), &created, &claims)
                                .await?;
                            Ok(invitation)
                        }
                        Err(err) => Err(err.into()),
                    }
                }
            })
            .await?;
        tracing::info!(invitation_id = %invitation.id, "invitation created");
        Ok(invitation)
    }

    /// The quotas every email sent in a project counts against: the project's and the
    /// sender's, per rolling day.
    pub(super) fn sending(
        &self,
        project_id: &ProjectId,
        caller: &Caller,
        now: OffsetDateTime,
    ) -> Vec<(QuotaScope, OffsetDateTime)> {
        vec![
            (QuotaScope::ProjectInvitations(project_id.clone()), now + DAY),
            (QuotaScope::InviterInvitations(caller.user_id.clone()), now + DAY),
        ]
    }

    #[tracing::instrument(skip_all)]
    pub async fn update_invitation(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        target: impl Into<InvitationRef>,
        changes: InvitationChanges,
    ) -> Result<Invitation, AppError> {
        let target = target.into();
        let id = target.id;
        if let Some(email) = &changes.email {
            if !self.settings.allowed_domains.permits(email.domain()) {
                return Err(domain_not_allowed());
            }
        }
        // A new address is a new email (counted like a send) and a new pending invitation to it.
        let now = self.clock.now();
        let mut wanted = Vec::new();
        if let Some(email) = &changes.email {
            let until = now + self.settings.policy.ttl + ADDRESS_HOLD_AFTER_EXPIRY;
            wanted.push((QuotaScope::AddressPending(email.normalized().to_owned()), until));
            wanted.extend(self.sending(project_id, caller, now));
        }
        self.counting(&wanted, &id.to_string(), |claims| {
            let (changes, target) = (&changes, &target);
            async move {
                let (invitation, membership) = self.changed_invitation(caller, project_id, target).await?;
                require_grant(membership.role, invitation.role)?;
                if let Some(role) = changes.role {
                    require_grant(membership.role, role)?;
                }
                let updated = invitation.update(changes, self.clock.now(), &self.settings.policy)?;
                let actor = Actor::User(caller.user_id.clone());
                if !updated.resend {
                    self.write(&invitation, &updated.invitation, &actor).await?;
                    return Ok(updated.invitation);
                }
                let (project, _) = self.project(caller, project_id).await?;
                if !project.allowed_email_domains.permits(&domain_of(&updated.invitation.email_normalized)) {
                    return Err(domain_not_allowed().into());
                }
                let moved = updated.invitation.holding_address_slot(claims[0].slot);
                self.write_claiming(&invitation, &moved, &actor, &claims).await?;
                Ok(moved)
            }
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    pub async fn resend(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        target: impl Into<InvitationRef>,
    ) -> Result<Invitation, AppError> {
        let target = &target.into();
        let wanted = self.sending(project_id, caller, self.clock.now());
        self.counting(&wanted, &target.id.to_string(), |claims| async move {
            let (invitation, membership) = self.changed_invitation(caller, project_id, target).await?;
            require_grant(membership.role, invitation.role)?;
            let resent = invitation.resend(self.clock.now(), &self.settings.policy)?;
            self.write_claiming(&invitation, &resent, &Actor::User(caller.user_id.clone()), &claims).await?;
            Ok(resent)
        })
        .await
    }

    async fn managed_invitation(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        id: InvitationId,
    ) -> Result<(Invitation, Membership), AppError> {
        let (invitation, membership) = self.store.invitation_and_membership(project_id, id, &caller.user_id).await?;
        let membership = require_manager(membership.as_ref())?.clone();
        let invitation = invitation.ok_or(AppError::NotFound)?;
        Ok((invitation, membership))
    }

    /// [`Invitations::managed_invitation`], for a change: `PreconditionFailed` when it is not at
    /// a version the client named.
    async fn changed_invitation(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        target: &InvitationRef,
    ) -> Result<(Invitation, Membership), AppError> {
        let (invitation, membership) = self.managed_invitation(caller, project_id, target.id).await?;
        if !target.if_match.holds(invitation.version) {
            return Err(AppError::PreconditionFailed);
        }
        Ok((invitation, membership))
    }

    #[tracing::instrument(skip_all)]
    pub async fn invitation(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        id: InvitationId,
    ) -> Result<Invitation, AppError> {
        Ok(self.managed_invitation(caller, project_id, id).await?.0)
    }

    /// [`Invitations::invitation`], and once it is accepted, the membership it made (how the
    /// member's Slack invitation went shows there).
    #[tracing::instrument(skip_all)]
    pub async fn invitation_and_member(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        id: InvitationId,
    ) -> Result<(Invitation, Option<Membership>), AppError> {
        let invitation = self.invitation(caller, project_id, id).await?;
        let member = match &invitation.accepted_by {
            Some(user) => self.store.members_by_id(project_id, std::slice::from_ref(user)).await?.into_iter().next(),
            None => None,
        };
        Ok((invitation, member))
    }

    #[tracing::instrument(skip_all)]
    pub async fn list_invitations(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        filter: impl Into<InvitationFilter>,
        page: &PageRequest,
    ) -> Result<Page<Invitation>, AppError> {
        let (_, membership) = self.store.project_and_membership(project_id, &caller.user_id).await?;
        require_manager(membership.as_ref())?;
        Ok(self.store.invitations(project_id, &filter.into(), self.clock.now(), page).await?)
    }

    #[tracing::instrument(skip_all)]
    pub async fn revoke(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        target: impl Into<InvitationRef>,
    ) -> Result<Invitation, AppError> {
        let target = &target.into();
        retrying(|| async {
            let (invitation, membership) = self.changed_invitation(caller, project_id, target).await?;
            require_grant(membership.role, invitation.role)?;
            let revoked = invitation.revoke(self.clock.now())?;
            self.write(&invitation, &revoked, &Actor::User(caller.user_id.clone())).await?;
            Ok(revoked)
        })
        .await
    }

    /// The project's event log, newest first: its audit log.
    #[tracing::instrument(skip_all)]
    pub async fn events(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> Result<Page<Event>, AppError> {
        let (_, membership) = self.store.project_and_membership(project_id, &caller.user_id).await?;
        require_manager(membership.as_ref())?;
        Ok(self.store.events(project_id, filter, page).await?)
    }
}
