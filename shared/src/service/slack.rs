//! A project's Slack integration (owners configure it) and the one-call manual retry of a
//! member's Slack invitation (managers and owners). The invitations themselves are sent by the
//! `slack-invite` consumer of `invitation.accepted` and `member.slack.requested` events.

use super::{forbidden_to_manage, retrying, AppError, Invitations};
use crate::domain::slack::{SlackClaimRefused, SlackIntegration, SlackSettings, SlackState};
use crate::domain::{Actor, Caller, Event, EventType, Membership, ProjectId, Role, UserId};
use crate::store::MemberUpdate;

impl Invitations {
    /// The caller's membership, which must be an owner's.
    async fn owner_of(&self, caller: &Caller, project_id: &ProjectId) -> Result<Membership, AppError> {
        let (_, membership) = self.store.project_and_membership(project_id, &caller.user_id).await?;
        let membership = membership.ok_or(AppError::NotFound)?;
        if membership.role != Role::Owner {
            return Err(AppError::forbidden("forbidden", "Only the project's owners can do this."));
        }
        Ok(membership)
    }

    /// Whether the caller owns the project: `NotFound` outside it, `Forbidden` below owner.
    pub async fn check_owner(&self, caller: &Caller, project_id: &ProjectId) -> Result<(), AppError> {
        self.owner_of(caller, project_id).await.map(|_| ())
    }

    /// Sets (or replaces) the project's Slack integration.
    #[tracing::instrument(skip_all)]
    pub async fn set_slack(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        settings: SlackSettings,
    ) -> Result<SlackIntegration, AppError> {
        let owner = self.owner_of(caller, project_id).await?;
        let now = self.now();
        let integration = SlackIntegration {
            project_id: project_id.clone(),
            mode: settings.mode,
            team_id: settings.team_id,
            channel_ids: settings.channel_ids,
            token_secret_arn: settings.token_secret_arn,
            updated_by: caller.user_id.clone(),
            updated_at: now,
        };
        let actor = Actor::User(caller.user_id.clone());
        let event = Event::slack_integration(EventType::SlackIntegrationUpdated, project_id, &actor, now);
        self.store.set_slack_integration(project_id, Some(&integration), &owner, &event).await?;
        Ok(integration)
    }

    /// The project's Slack integration (never its token: only the secret's ARN is kept).
    #[tracing::instrument(skip_all)]
    pub async fn slack(&self, caller: &Caller, project_id: &ProjectId) -> Result<SlackIntegration, AppError> {
        self.owner_of(caller, project_id).await?;
        self.store.slack_integration(project_id).await?.ok_or(AppError::NotFound)
    }

    #[tracing::instrument(skip_all)]
    pub async fn remove_slack(&self, caller: &Caller, project_id: &ProjectId) -> Result<(), AppError> {
        let owner = self.owner_of(caller, project_id).await?;
        let actor = Actor::User(caller.user_id.clone());
        let event = Event::slack_integration(EventType::SlackIntegrationRemoved, project_id, &actor, self.now());
        match self.store.set_slack_integration(project_id, None, &owner, &event).await {
            // Nothing to remove (or the caller stopped being an owner meanwhile).
            Err(crate::store::StoreError::Conflict) => Err(AppError::NotFound),
            other => Ok(other?),
        }
    }

    /// Asks for a new attempt at a member's Slack invitation (pending or failed): the
    /// `member.slack.requested` event it writes reaches the Slack consumer.
    #[tracing::instrument(skip_all)]
    pub async fn retry_slack_invite(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        user_id: &UserId,
    ) -> Result<Membership, AppError> {
        retrying(|| async {
            let (actor, member) = self.actor_and_member(caller, project_id, user_id).await?;
            if !actor.role.can_manage_invitations() {
                return Err(forbidden_to_manage().into());
            }
            let (actor, member) = (&actor, &member.ok_or(AppError::NotFound)?);
            if self.store.slack_integration(project_id).await?.is_none() {
                return Err(AppError::conflict("slack_not_configured", "The project has no Slack integration.").into());
            }
            let now = self.now();
            match SlackState::claim(member.slack.as_ref(), true, now) {
                Err(SlackClaimRefused::Settled) => {
                    return Err(
                        AppError::conflict("slack_already_invited", "The member was invited to Slack already.").into()
                    )
                }
                Err(SlackClaimRefused::Held { .. }) => {
                    return Err(AppError::conflict(
                        "slack_invite_in_progress",
                        "An attempt to invite the member to Slack is running; retry in a minute.",
                    )
                    .into())
                }
                Err(SlackClaimRefused::Failed) | Ok(_) => {}
            }
            let requested = Membership { slack: Some(SlackState::requested(now)), ..member.clone() };
            let event = Event::member_slack(
                EventType::MemberSlackRequested,
                member,
                None,
                &Actor::User(caller.user_id.clone()),
                now,
            );
            let update =
                MemberUpdate { from: member, to: Some(&requested), actor, remaining_owner: None, event: Some(&event) };
            self.store.change_member(update).await?;
            Ok(requested)
        })
        .await
    }
}
