//! Inviting accepted members to their project's Slack workspace: one attempt per event, claimed
//! on the membership first so duplicates and concurrent attempts never invite twice, and its
//! outcome written on the membership with an event (`member.slack.invited`, `member.slack.failed`).

use super::AppError;
use crate::clock::Clock;
use crate::domain::slack::{SlackClaimRefused, SlackState, SlackStatus};
use crate::domain::{Actor, Event, EventType, InvitationId, Membership, ProjectId, UserId};
use crate::slack::{SecretError, Secrets, SlackAnswer, SlackApi, SlackCall};
use crate::store::{MemberUpdate, Store, StoreError};
use std::sync::Arc;

/// What asks for a member's Slack invitation: an `invitation.accepted` event, or a manager's
/// `member.slack.requested` (a retry, which may take up a failed one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackRequest {
    pub project_id: ProjectId,
    pub member_id: UserId,
    /// The invitation accepted: its note goes along as Slack's `custom_message`.
    pub invitation_id: Option<InvitationId>,
    pub retry: bool,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlackOutcome {
    Invited,
    AlreadyInTeam,
    Failed {
        error: String,
    },
    /// Nothing to do: no integration, no such member, settled or failed already, or another
    /// attempt took over.
    Skipped(&'static str),
    /// Slack rate limits, or another attempt holds the member: try again in this many seconds.
    RetryAfter(u64),
    /// Slack (or the secret store) failed for now: try again with backoff.
    Retry(String),
}

pub struct SlackInvites {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    slack: Arc<dyn SlackApi>,
    secrets: Arc<dyn Secrets>,
}

impl SlackInvites {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        slack: Arc<dyn SlackApi>,
        secrets: Arc<dyn Secrets>,
    ) -> Self {
        Self { store, clock, slack, secrets }
    }

    #[tracing::instrument(skip_all, fields(project_id = %request.project_id, member = %request.member_id))]
    pub async fn invite(&self, request: &SlackRequest) -> Result<SlackOutcome, AppError> {
        let Some(integration) = self.store.slack_integration(&request.project_id).await? else {
            return Ok(SlackOutcome::Skipped("the project has no Slack integration"));
        };
        let members = self.store.members_by_id(&request.project_id, std::slice::from_ref(&request.member_id)).await?;
        let Some(member) = members.into_iter().next() else {
            return Ok(SlackOutcome::Skipped("not a member (any more)"));
        };
        let now = self.clock.now();
        let claim = match SlackState::claim(member.slack.as_ref(), request.retry, now) {
            Ok(claim) => claim,
            Err(SlackClaimRefused::Settled) => return Ok(SlackOutcome::Skipped("invited already")),
            Err(SlackClaimRefused::Failed) => return Ok(SlackOutcome::Skipped("failed for good; a retry asks again")),
            Err(SlackClaimRefused::Held { until }) => {
                return Ok(SlackOutcome::RetryAfter((until - now).whole_seconds().max(1) as u64))
            }
        };
        let claimed = Membership { slack: Some(claim), ..member.clone() };
        match self.write(&member, &claimed, None).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => return Ok(SlackOutcome::RetryAfter(1)),
            Err(err) => return Err(err.into()),
        }

        let note = match request.invitation_id {
            Some(id) => {
                let found = self.store.invitations_by_key(&[(request.project_id.clone(), id)]).await?;
                found.into_iter().next().and_then(|invitation| invitation.message.clone())
            }
            None => None,
        };
        let answer = match (&member.email, self.secrets.secret(&integration.token_secret_arn).await) {
            (None, _) => SlackAnswer::Refused("no_verified_email".into()),
            (_, Err(SecretError::NotFound)) => SlackAnswer::Refused("token_secret_not_found".into()),
            (_, Err(SecretError::Unavailable(cause))) => SlackAnswer::Unavailable(format!("secrets: {cause}")),
            (Some(email), Ok(token)) => {
                let call = SlackCall {
                    mode: integration.mode,
                    team_id: integration.team_id.clone(),
                    channel_ids: integration.channel_ids.clone(),
                    email: email.clone(),
                    custom_message: note,
                };
                self.slack.invite(&token, &call).await
            }
        };

        let now = self.clock.now();
        let (state, kind, outcome) = match answer {
            SlackAnswer::Invited => (
                SlackState::answered(SlackStatus::Invited, None, now),
                Some(EventType::MemberSlackInvited),
                SlackOutcome::Invited,
            ),
            SlackAnswer::AlreadyInTeam => (
                SlackState::answered(SlackStatus::AlreadyInTeam, Some("already_in_team".into()), now),
                Some(EventType::MemberSlackInvited),
                SlackOutcome::AlreadyInTeam,
            ),
            // Invited before, by someone else: nothing left to do.
            SlackAnswer::Refused(code) if code == "already_invited" => (
                SlackState::answered(SlackStatus::Invited, Some(code), now),
                Some(EventType::MemberSlackInvited),
                SlackOutcome::Invited,
            ),
            SlackAnswer::Refused(code) => (
                SlackState::answered(SlackStatus::Failed, Some(code.clone()), now),
                Some(EventType::MemberSlackFailed),
                SlackOutcome::Failed { error: code },
            ),
            SlackAnswer::RateLimited { retry_after_secs } => (
                SlackState::answered(SlackStatus::Pending, Some("ratelimited".into()), now),
                None,
                SlackOutcome::RetryAfter(retry_after_secs),
            ),
            SlackAnswer::Unavailable(reason) => (
                SlackState::answered(SlackStatus::Pending, Some(reason.clone()), now),
                None,
                SlackOutcome::Retry(reason),
            ),
        };
        let done = Membership { slack: Some(state.clone()), ..claimed.clone() };
        let event = kind.map(|kind| Event::member_slack(kind, &member, state.error.clone(), &Actor::System, now));
        match self.write(&claimed, &done, event.as_ref()).await {
            Ok(()) => Ok(outcome),
            // Another attempt took over once this one's claim ran out: its outcome stands.
            Err(StoreError::Conflict) => Ok(SlackOutcome::Skipped("another attempt took over")),
            Err(err) => Err(err.into()),
        }
    }

    async fn write(&self, from: &Membership, to: &Membership, event: Option<&Event>) -> Result<(), StoreError> {
        self.store.change_member(MemberUpdate { from, to: Some(to), actor: from, remaining_owner: None, event }).await
    }
}
