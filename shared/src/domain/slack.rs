//! A project's Slack integration: accepted members are invited to the project's Slack workspace,
//! and each membership shows how that went. The token never enters the service's data: the
//! integration names the AWS Secrets Manager secret that holds it.

use super::ids::{ProjectId, UserId};
use std::fmt;
use std::str::FromStr;
use time::OffsetDateTime;

/// How members are invited: Slack's `admin.users.invite` (Enterprise plans), or SCIM `POST
/// /Users` (Business+ and Enterprise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlackMode {
    AdminInvite,
    Scim,
}

impl SlackMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SlackMode::AdminInvite => "admin_invite",
            SlackMode::Scim => "scim",
        }
    }
}

impl FromStr for SlackMode {
    type Err = SlackConfigError;
    fn from_str(raw: &str) -> Result<Self, SlackConfigError> {
        match raw {
            "admin_invite" => Ok(SlackMode::AdminInvite),
            "scim" => Ok(SlackMode::Scim),
            _ => Err(SlackConfigError::Mode),
        }
    }
}

/// A project's integration, as configured by an owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackIntegration {
    pub project_id: ProjectId,
    pub mode: SlackMode,
    /// The workspace (`T…`) members join; `admin.users.invite` needs it.
    pub team_id: Option<String>,
    /// The channels `admin.users.invite` adds them to.
    pub channel_ids: Vec<String>,
    /// The Secrets Manager secret holding the token (its ARN: never the token).
    pub token_secret_arn: String,
    pub updated_by: UserId,
    pub updated_at: OffsetDateTime,
}

/// Why an integration's settings are refused, each naming its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SlackConfigError {
    #[error("mode must be admin_invite or scim")]
    Mode,
    #[error("team_id must be a Slack workspace id (T or E and 2 to 20 capitals and digits); admin_invite needs it")]
    TeamId,
    #[error("channel_ids must be 1 to 100 Slack channel ids (C or G and 2 to 20 capitals and digits); admin_invite needs them")]
    ChannelIds,
    #[error("token_secret_arn must be the ARN of a Secrets Manager secret in this stack's account and region")]
    SecretArn,
}

impl SlackConfigError {
    pub fn field(self) -> &'static str {
        match self {
            SlackConfigError::Mode => "mode",
            SlackConfigError::TeamId => "team_id",
            SlackConfigError::ChannelIds => "channel_ids",
            SlackConfigError::SecretArn => "token_secret_arn",
        }
    }
}

/// The AWS account and region the stack runs in: a token's secret must be there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackLocation {
    pub account: String,
    pub region: String,
}

/// The settings an owner sends, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackSettings {
    pub mode: SlackMode,
    pub team_id: Option<String>,
    pub channel_ids: Vec<String>,
    pub token_secret_arn: String,
}

fn slack_id(raw: &str, kinds: &[char]) -> bool {
    let mut chars = raw.chars();
    chars.next().is_some_and(|first| kinds.contains(&first))
        && (3..=21).contains(&raw.len())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

impl SlackSettings {
    pub fn parse(
        mode: &str,
        team_id: Option<&str>,
        channel_ids: &[String],
        token_secret_arn: &str,
        stack: &StackLocation,
    ) -> Result<Self, SlackConfigError> {
        let mode: SlackMode = mode.parse()?;
        let team_id = team_id.filter(|id| !id.is_empty());
        if team_id.is_some_and(|id| !slack_id(id, &['T', 'E'])) || (mode == SlackMode::AdminInvite && team_id.is_none())
        {
            return Err(SlackConfigError::TeamId);
        }
        let channels_valid = channel_ids.len() <= 100 && channel_ids.iter().all(|id| slack_id(id, &['C', 'G']));
        if !channels_valid || (mode == SlackMode::AdminInvite && channel_ids.is_empty()) {
            return Err(SlackConfigError::ChannelIds);
        }
        if !secret_in(token_secret_arn, stack) {
            return Err(SlackConfigError::SecretArn);
        }
        Ok(Self {
            mode,
            team_id: team_id.map(str::to_owned),
            channel_ids: channel_ids.to_vec(),
            token_secret_arn: token_secret_arn.to_owned(),
        })
    }
}

/// `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>`, in the stack's account and
/// region: an owner can point the service only at secrets its deployer holds.
fn secret_in(arn: &str, stack: &StackLocation) -> bool {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    matches!(
        parts[..],
        ["arn", partition, "secretsmanager", region, account, "secret", name]
            if partition.starts_with("aws") && region == stack.region && account == stack.account
                && !name.is_empty() && arn.len() <= 2048 && !arn.chars().any(char::is_whitespace)
    )
}

/// How a member's Slack invitation went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlackStatus {
    /// Asked for, not answered for good yet (or to be retried).
    Pending,
    Invited,
    AlreadyInTeam,
    Failed,
}

impl SlackStatus {
    pub const ALL: [SlackStatus; 4] =
        [SlackStatus::Pending, SlackStatus::Invited, SlackStatus::AlreadyInTeam, SlackStatus::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            SlackStatus::Pending => "pending",
            SlackStatus::Invited => "invited",
            SlackStatus::AlreadyInTeam => "already_in_team",
            SlackStatus::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// Done for good: a duplicate event never invites again.
    pub fn is_settled(self) -> bool {
        matches!(self, SlackStatus::Invited | SlackStatus::AlreadyInTeam)
    }
}

impl fmt::Display for SlackStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A membership's Slack state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackState {
    pub status: SlackStatus,
    /// Slack's own error code, when it refused.
    pub error: Option<String>,
    pub updated_at: OffsetDateTime,
    /// While an inviter talks to Slack, its claim holds until then; after, another may claim.
    pub lease_until: Option<OffsetDateTime>,
}

/// How long a claim on a member's Slack invitation holds: past the consumer's timeout.
pub const SLACK_LEASE: time::Duration = time::Duration::seconds(60);

/// Why a member's Slack invitation cannot be claimed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlackClaimRefused {
    /// Invited, or already in the team: never again.
    Settled,
    /// Another attempt holds it until then.
    Held { until: OffsetDateTime },
    /// Failed for good; only a manual retry asks again.
    Failed,
}

impl SlackState {
    /// A new attempt, asked for (by an acceptance or a manual retry).
    pub fn requested(now: OffsetDateTime) -> SlackState {
        SlackState { status: SlackStatus::Pending, error: None, updated_at: now, lease_until: None }
    }

    /// The result of an attempt.
    pub fn answered(status: SlackStatus, error: Option<String>, now: OffsetDateTime) -> SlackState {
        SlackState { status, error, updated_at: now, lease_until: None }
    }

    /// An attempt claims the invitation: `current` is the membership's state (`None` before any).
    /// `retry` is a manual retry's attempt, which may claim a failed one.
    pub fn claim(
        current: Option<&SlackState>,
        retry: bool,
        now: OffsetDateTime,
    ) -> Result<SlackState, SlackClaimRefused> {
        if let Some(state) = current {
            if state.status.is_settled() {
                return Err(SlackClaimRefused::Settled);
            }
            if state.status == SlackStatus::Failed && !retry {
                return Err(SlackClaimRefused::Failed);
            }
            if let Some(until) = state.lease_until.filter(|until| *until > now) {
                return Err(SlackClaimRefused::Held { until });
            }
        }
        let error = current.and_then(|state| state.error.clone());
        Ok(SlackState { status: SlackStatus::Pending, error, updated_at: now, lease_until: Some(now + SLACK_LEASE) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-02 12:00 UTC);

    #[test]
    fn an_invitation_is_claimed_once_until_settled_and_a_failed_one_only_by_a_retry() {
        let first = SlackState::claim(None, false, NOW).unwrap();
        assert_eq!(
            SlackState::claim(Some(&first), false, NOW),
            Err(SlackClaimRefused::Held { until: NOW + SLACK_LEASE })
        );
        assert!(SlackState::claim(Some(&first), false, NOW + SLACK_LEASE).is_ok(), "a dead attempt's claim lapses");
        let invited = SlackState::answered(SlackStatus::Invited, None, NOW);
        assert_eq!(SlackState::claim(Some(&invited), true, NOW), Err(SlackClaimRefused::Settled));
        let failed = SlackState::answered(SlackStatus::Failed, Some("invalid_auth".into()), NOW);
        assert_eq!(SlackState::claim(Some(&failed), false, NOW), Err(SlackClaimRefused::Failed));
        assert!(SlackState::claim(Some(&failed), true, NOW).is_ok());
        assert!(SlackState::claim(Some(&SlackState::requested(NOW)), false, NOW).is_ok());
    }

    fn stack() -> StackLocation {
        StackLocation { account: "123456789012".into(), region: "eu-west-1".into() }
    }

    const ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack-token-AbCdEf";

    #[test]
    fn admin_invite_needs_a_team_and_channels_and_every_mode_a_secret_of_this_stack() {
        let channels = vec!["C0123ABCD".to_owned()];
        assert!(SlackSettings::parse("admin_invite", Some("T0123ABCD"), &channels, ARN, &stack()).is_ok());
        assert_eq!(SlackSettings::parse("admin_invite", None, &channels, ARN, &stack()), Err(SlackConfigError::TeamId));
        assert_eq!(
            SlackSettings::parse("admin_invite", Some("T0123ABCD"), &[], ARN, &stack()),
            Err(SlackConfigError::ChannelIds)
        );
        assert_eq!(
            SlackSettings::parse("admin_invite", Some("team one"), &channels, ARN, &stack()),
            Err(SlackConfigError::TeamId)
        );
        assert!(SlackSettings::parse("scim", None, &[], ARN, &stack()).is_ok());
        assert_eq!(SlackSettings::parse("legacy", None, &[], ARN, &stack()), Err(SlackConfigError::Mode));
        for arn in [
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:slack",
            "arn:aws:secretsmanager:eu-west-1:999999999999:secret:slack",
            "arn:aws:ssm:eu-west-1:123456789012:parameter/slack",
            "xoxb-a-token-by-mistake",
        ] {
            assert_eq!(
                SlackSettings::parse("scim", None, &[], arn, &stack()),
                Err(SlackConfigError::SecretArn),
                "{arn}"
            );
        }
    }
}
