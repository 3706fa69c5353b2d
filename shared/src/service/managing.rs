//! A project manager's side: invite, list, read, update, resend and revoke invitations.

use super::{domain_not_allowed, require_grant, require_manager, retrying, AppError, Invitations};
use crate::domain::email_address::{candidates, domain_of};
use crate::domain::{
    Caller, Invitation, InvitationChanges, InvitationId, InvitationStatus, Membership, NewInvitation, Page,
    PageRequest, ProjectId, Role,
};
use crate::queue::{to_body, Queue, SendInvitationEmail};
use crate::store::{CreateGuard, StoreError, Transition};

impl<E: Queue> Invitations<E> {
    #[tracing::instrument(skip_all)]
    pub async fn create_invitation(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        new: NewInvitation,
    ) -> Result<Invitation, AppError> {
        if !self.settings.allowed_domains.permits(new.email.domain()) {
            return Err(domain_not_allowed());
        }
        let now = self.clock.now();
        let invitation = Invitation::new(project_id.clone(), &new, &caller.as_inviter(), now, &self.settings.policy);
        let guard = CreateGuard {
            inviter: caller.user_id.clone(),
            min_inviter_role: new.role.max(Role::Manager),
            domain_candidates: candidates(new.email.domain()),
        };
        match self.store.create_invitation(&invitation, &guard, None).await {
            Ok(()) => {}
            Err(StoreError::DuplicatePending(existing)) if existing.expires_at <= now => {
                // The address is held by an expired invitation: retire it and take its place.
                let old = self.store.invitations_by_key(&[existing.key()]).await?;
                let Some(old) = old.into_iter().next() else {
                    return Err(StoreError::Conflict.into());
                };
                let expired = old.supersede(now).map_err(|_| AppError::from(StoreError::DuplicatePending(existing)))?;
                self.store
                    .create_invitation(&invitation, &guard, Some(Transition { from: &old, to: &expired }))
                    .await?;
            }
            Err(err) => return Err(err.into()),
        }
        tracing::info!(invitation_id = %invitation.id, "invitation created");
        Ok(self.enqueue_send(invitation).await)
    }

    #[tracing::instrument(skip_all)]
    pub async fn update_invitation(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        id: InvitationId,
        changes: InvitationChanges,
    ) -> Result<Invitation, AppError> {
        if let Some(email) = &changes.email {
            if !self.settings.allowed_domains.permits(email.domain()) {
                return Err(domain_not_allowed());
            }
        }
        let updated = retrying(|| async {
            let (invitation, membership) = self.managed_invitation(caller, project_id, id).await?;
            require_grant(membership.role, invitation.role)?;
            if let Some(role) = changes.role {
                require_grant(membership.role, role)?;
            }
            let now = self.clock.now();
            let updated = invitation.update(&changes, now, &self.settings.policy)?;
            if updated.resend {
                let (project, _) = self.project(caller, project_id).await?;
                if !project.allowed_email_domains.permits(&domain_of(&updated.invitation.email_normalized)) {
                    return Err(domain_not_allowed().into());
                }
            }
            self.write(&invitation, &updated.invitation).await?;
            Ok(updated)
        })
        .await?;
        Ok(if updated.resend { self.enqueue_send(updated.invitation).await } else { updated.invitation })
    }

    #[tracing::instrument(skip_all)]
    pub async fn resend(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        id: InvitationId,
    ) -> Result<Invitation, AppError> {
        let resent = retrying(|| async {
            let (invitation, _) = self.managed_invitation(caller, project_id, id).await?;
            let resent = invitation.resend(self.clock.now(), &self.settings.policy)?;
            self.write(&invitation, &resent).await?;
            Ok(resent)
        })
        .await?;
        Ok(self.enqueue_send(resent).await)
    }

    /// Puts the send on the queue; if that fails, records it on the invitation so nobody waits
    /// for an email that is not coming (a resend repairs it).
    async fn enqueue_send(&self, invitation: Invitation) -> Invitation {
        let message = SendInvitationEmail {
            project_id: invitation.project_id.clone(),
            invitation_id: invitation.id,
            send_id: invitation.send_id,
        };
        let queued = match to_body(&message) {
            Ok(body) => self.email_queue.send(body).await,
            Err(err) => Err(err),
        };
        let Err(err) = queued else {
            return invitation;
        };
        tracing::error!(error = %crate::cause::Chain(&err), "could not enqueue the invitation email");
        let not_queued =
            invitation.mark_not_queued("The email could not be queued; resend the invitation.", self.clock.now());
        if let Err(err) = self.write(&invitation, &not_queued).await {
            tracing::error!(error = %crate::cause::Chain(&err), "could not record the enqueue failure");
        }
        not_queued
    }
}

impl<E> Invitations<E> {
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

    #[tracing::instrument(skip_all)]
    pub async fn invitation(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        id: InvitationId,
    ) -> Result<Invitation, AppError> {
        Ok(self.managed_invitation(caller, project_id, id).await?.0)
    }

    #[tracing::instrument(skip_all)]
    pub async fn list_invitations(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        status: Option<InvitationStatus>,
        page: &PageRequest,
    ) -> Result<Page<Invitation>, AppError> {
        let (_, membership) = self.store.project_and_membership(project_id, &caller.user_id).await?;
        require_manager(membership.as_ref())?;
        Ok(self.store.invitations(project_id, status, self.clock.now(), page).await?)
    }

    #[tracing::instrument(skip_all)]
    pub async fn revoke(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        id: InvitationId,
    ) -> Result<Invitation, AppError> {
        retrying(|| async {
            let (invitation, _) = self.managed_invitation(caller, project_id, id).await?;
            let revoked = invitation.revoke(self.clock.now())?;
            self.write(&invitation, &revoked).await?;
            Ok(revoked)
        })
        .await
    }
}
