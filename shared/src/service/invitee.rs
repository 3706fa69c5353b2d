//! The invitee's side: the invitations addressed to my verified email, accepting and declining.

use super::signup::accept_one;
use super::{retrying, AppError, Invitations};
use crate::domain::{
    Actor, Caller, Invitation, InvitationId, InvitationStatus, Membership, Page, PageRequest, ProjectId,
};
use crate::store::PendingInvitation;

impl Invitations {
    fn verified_email(caller: &Caller) -> Result<String, AppError> {
        caller
            .verified_email()
            .ok_or_else(|| AppError::forbidden("email_not_verified", "Your email address must be verified first."))
    }

    /// Why the caller may not act as an invitee at all (no verified address), if so.
    pub fn refusal(&self, caller: &Caller) -> Option<AppError> {
        Self::verified_email(caller).err()
    }

    /// A page of the pending, unexpired invitations for the caller's verified email, across
    /// projects, in project order. A page is full unless it is the last: the markers of lapsed
    /// invitations (kept a while after, at most the address's pending quota of them) are skipped
    /// by reading on.
    #[tracing::instrument(skip_all)]
    pub async fn my_invitations(&self, caller: &Caller, page: &PageRequest) -> Result<Page<Invitation>, AppError> {
        let email = Self::verified_email(caller)?;
        let now = self.clock.now();
        let mut items: Vec<Invitation> = Vec::new();
        let mut next = PageRequest { limit: page.limit, after: page.after.clone() };
        loop {
            let markers = self.store.pending_page(&email, &next).await?;
            let unexpired = markers.items.iter().filter(|m| m.expires_at > now);
            let keys: Vec<_> = unexpired.map(PendingInvitation::key).collect();
            let invitations = self.store.invitations_by_key(&keys).await?;
            items.extend(invitations.into_iter().filter(|i| i.status_at(now) == InvitationStatus::Pending));
            let Some(cursor) = markers.next else { return Ok(Page { items, next: None }) };
            if items.len() == page.limit {
                return Ok(Page { items, next: Some(cursor) });
            }
            next = PageRequest { limit: page.limit - items.len(), after: Some(cursor) };
        }
    }

    /// The invitation, if it is addressed to the caller's verified email.
    async fn my_invitation(
        &self,
        caller: &Caller,
        email: &str,
        project_id: &ProjectId,
        id: InvitationId,
    ) -> Result<(Invitation, Option<Membership>), AppError> {
        let (invitation, membership) = self.store.invitation_and_membership(project_id, id, &caller.user_id).await?;
        match invitation {
            Some(invitation) if invitation.email_normalized == email => Ok((invitation, membership)),
            _ => Err(AppError::NotFound),
        }
    }

    #[tracing::instrument(skip_all)]
    pub async fn accept(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        id: InvitationId,
    ) -> Result<Invitation, AppError> {
        let email = Self::verified_email(caller)?;
        retrying(|| async {
            let (invitation, membership) = self.my_invitation(caller, &email, project_id, id).await?;
            accept_one(self, invitation, membership, &caller.user_id, &email).await
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    pub async fn decline(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        id: InvitationId,
    ) -> Result<Invitation, AppError> {
        let email = Self::verified_email(caller)?;
        retrying(|| async {
            let (invitation, _) = self.my_invitation(caller, &email, project_id, id).await?;
            let declined = invitation.decline(self.clock.now())?;
            self.write(&invitation, &declined, &Actor::User(caller.user_id.clone())).await?;
            Ok(declined)
        })
        .await
    }
}
