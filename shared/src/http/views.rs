//! The wire format: request bodies and response views, as the API contract names them. Bodies
//! become domain values here, once (`TryFrom`), each refusal naming its field.

use super::request::{parse_email, parse_invitation_id, parse_role};
use crate::domain::slack::{SlackIntegration, SlackSettings, StackLocation};
use crate::domain::{
    DeliveryStatus, DomainAllowList, Event, Invitation, InvitationChanges, InvitationId, InvitationStatus,
    MemberChange, Membership, NewInvitation, NewProject, Note, Project, ProjectName, Role, Settings,
};
use crate::service::{AppError, Invitations, RowOutcome};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// RFC 3339 UTC timestamps, second precision, `Z` suffix (`2026-12-01T09:30:00Z`), written digit
/// by digit: `time`'s general formatter spent 1,800 instructions on each, a quarter of what
/// serializing a list page cost.
mod timestamp {
    use serde::{ser::Error, Serializer};
    use time::{OffsetDateTime, UtcOffset};

    pub fn serialize<S: Serializer>(at: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
        let mut text = [0; 20];
        serializer.serialize_str(format(*at, &mut text).ok_or_else(|| S::Error::custom("a year beyond 9999"))?)
    }

    pub(super) fn format(at: OffsetDateTime, text: &mut [u8; 20]) -> Option<&str> {
        let at = at.to_offset(UtcOffset::UTC);
        let year = u16::try_from(at.year()).ok().filter(|year| *year <= 9999)?;
        let fields =
            [(year / 100) as u8, (year % 100) as u8, at.month() as u8, at.day(), at.hour(), at.minute(), at.second()];
        text.copy_from_slice(b"0000-00-00T00:00:00Z");
        for (value, at) in fields.into_iter().zip([0, 2, 5, 8, 11, 14, 17]) {
            text[at] = b'0' + value / 10;
            text[at + 1] = b'0' + value % 10;
        }
        std::str::from_utf8(text).ok()
    }

    pub mod option {
        use serde::Serializer;
        use time::OffsetDateTime;

        pub fn serialize<S: Serializer>(at: &Option<OffsetDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
            match at {
                Some(at) => super::serialize(at, serializer),
                None => serializer.serialize_none(),
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvitationView {
    pub id: Uuid,
    pub email: String,
    pub project: String,
    pub role: Role,
    pub status: InvitationStatus,
    pub invited_by: String,
    pub accepted_by: Option<String>,
    #[serde(with = "timestamp")]
    pub created_at: OffsetDateTime,
    #[serde(with = "timestamp::option")]
    pub accepted_at: Option<OffsetDateTime>,
    #[serde(with = "timestamp::option")]
    pub resent_at: Option<OffsetDateTime>,
    #[serde(with = "timestamp::option")]
    pub revoked_at: Option<OffsetDateTime>,
    #[serde(with = "timestamp::option")]
    pub declined_at: Option<OffsetDateTime>,
    #[serde(with = "timestamp")]
    pub expires_at: OffsetDateTime,
    pub delivery_status: DeliveryStatus,
    pub delivery_reason: Option<String>,
    #[serde(with = "timestamp")]
    pub delivery_updated_at: OffsetDateTime,
    pub send_count: u32,
    pub invitation_url: String,
    /// The inviter's note for the email.
    pub message: Option<String>,
    /// Changes with every change of the invitation; the `ETag` of its GET, for `If-Match`.
    pub version: u64,
    /// On an accepted invitation's GET, how the member's Slack invitation went (see `MemberView`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slack_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slack_error: Option<String>,
}

impl InvitationView {
    pub fn new(invitation: &Invitation, now: OffsetDateTime, settings: &Settings) -> Self {
        let i = invitation;
        Self {
            id: i.id.as_uuid(),
            email: i.email.clone(),
            project: i.project_id.to_string(),
            role: i.role,
            status: i.status_at(now),
            invited_by: i.invited_by.to_string(),
            accepted_by: i.accepted_by.as_ref().map(ToString::to_string),
            created_at: i.created_at,
            accepted_at: i.accepted_at,
            resent_at: i.resent_at,
            revoked_at: i.revoked_at,
            declined_at: i.declined_at,
            expires_at: i.expires_at,
            delivery_status: i.delivery.status,
            delivery_reason: i.delivery.reason.clone(),
            delivery_updated_at: i.delivery.updated_at,
            send_count: i.send_count,
            invitation_url: settings.link_to(i),
            message: i.message.clone(),
            version: i.version,
            slack_status: None,
            slack_error: None,
        }
    }

    /// The invitation as `app`'s clients see it now.
    pub fn of(app: &Invitations, invitation: &Invitation) -> Self {
        Self::new(invitation, app.now(), app.settings())
    }

    /// With the Slack state of the member the invitation made.
    pub fn with_member(mut self, member: Option<&Membership>) -> Self {
        let slack = member.and_then(|m| m.slack.as_ref());
        self.slack_status = slack.map(|s| s.status.as_str());
        self.slack_error = slack.and_then(|s| s.error.clone());
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectView {
    pub id: String,
    pub name: String,
    pub owner: String,
    #[serde(with = "timestamp")]
    pub created_at: OffsetDateTime,
    pub allowed_email_domains: Vec<String>,
    /// The caller's role in the project.
    pub role: Role,
}

impl ProjectView {
    pub fn new(project: &Project, role: Role) -> Self {
        Self {
            id: project.id.to_string(),
            name: project.name.as_str().to_owned(),
            owner: project.owner.to_string(),
            created_at: project.created_at,
            allowed_email_domains: project.allowed_email_domains.patterns().to_vec(),
            role,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberView {
    pub user_id: String,
    pub email: Option<String>,
    pub role: Role,
    #[serde(with = "timestamp")]
    pub joined_at: OffsetDateTime,
    /// How the member's Slack invitation went (`null` until the project's Slack integration
    /// has tried): `pending`, `invited`, `already_in_team` or `failed`.
    pub slack_status: Option<&'static str>,
    /// Slack's own error code.
    pub slack_error: Option<String>,
}

impl From<&Membership> for MemberView {
    fn from(m: &Membership) -> Self {
        Self {
            user_id: m.user_id.to_string(),
            email: m.email.clone(),
            role: m.role,
            joined_at: m.joined_at,
            slack_status: m.slack.as_ref().map(|slack| slack.status.as_str()),
            slack_error: m.slack.as_ref().and_then(|slack| slack.error.clone()),
        }
    }
}

/// A project's Slack integration: never a token, only where it is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlackIntegrationView {
    pub mode: &'static str,
    pub team_id: Option<String>,
    pub channel_ids: Vec<String>,
    pub token_secret_arn: String,
    pub updated_by: String,
    #[serde(with = "timestamp")]
    pub updated_at: OffsetDateTime,
}

impl From<&SlackIntegration> for SlackIntegrationView {
    fn from(i: &SlackIntegration) -> Self {
        Self {
            mode: i.mode.as_str(),
            team_id: i.team_id.clone(),
            channel_ids: i.channel_ids.clone(),
            token_secret_arn: i.token_secret_arn.clone(),
            updated_by: i.updated_by.to_string(),
            updated_at: i.updated_at,
        }
    }
}

/// `PUT /projects/{pk}/integrations/slack`
#[derive(Debug, Clone, Deserialize)]
pub struct SlackIntegrationBody {
    pub mode: String,
    #[serde(default)]
    pub team_id: Option<String>,
    #[serde(default)]
    pub channel_ids: Vec<String>,
    pub token_secret_arn: String,
}

impl SlackIntegrationBody {
    /// The settings, checked against where the stack runs.
    pub fn settings(&self, stack: &StackLocation) -> Result<SlackSettings, AppError> {
        SlackSettings::parse(&self.mode, self.team_id.as_deref(), &self.channel_ids, &self.token_secret_arn, stack)
            .map_err(|e| AppError::invalid("invalid_field", Some(e.field()), e.to_string()))
    }
}

/// An error as clients see it: a stable code, a message for people, the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorView {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ErrorView {
    pub fn of(err: &AppError) -> Self {
        let field = match err {
            AppError::Invalid { field, .. } => field.clone(),
            _ => None,
        };
        Self { code: err.code(), message: err.public_message(), field }
    }
}

/// The answer to a bulk request: one result per row, in request order, and the counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkView {
    pub dry_run: bool,
    /// Rows created (0 in a dry run).
    pub created: usize,
    /// Rows a dry run found would be created (0 otherwise).
    pub valid: usize,
    pub failed: usize,
    pub results: Vec<BulkRowView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkRowView {
    pub index: usize,
    /// The row's email as sent.
    pub email: Option<String>,
    /// `created`, `valid` (a dry run's row that would be created) or `failed`.
    pub status: &'static str,
    pub invitation: Option<InvitationView>,
    pub error: Option<ErrorView>,
}

impl BulkView {
    pub fn new(app: &Invitations, dry_run: bool, rows: Vec<(Option<String>, RowOutcome)>) -> Self {
        let results: Vec<BulkRowView> = rows
            .into_iter()
            .enumerate()
            .map(|(index, (email, outcome))| {
                let (status, invitation, error) = match outcome {
                    Ok(Some(created)) => ("created", Some(InvitationView::of(app, &created)), None),
                    Ok(None) => ("valid", None, None),
                    Err(err) => ("failed", None, Some(ErrorView::of_row(&err))),
                };
                BulkRowView { index, email, status, invitation, error }
            })
            .collect();
        let count = |status: &str| results.iter().filter(|row| row.status == status).count();
        Self { dry_run, created: count("created"), valid: count("valid"), failed: count("failed"), results }
    }
}

impl ErrorView {
    /// A row's error names its field even where the whole request's would not.
    fn of_row(err: &AppError) -> Self {
        let mut view = Self::of(err);
        view.field = view.field.or_else(|| match view.code {
            "duplicate_invitation" | "duplicate_in_request" | "email_domain_not_allowed" => Some("email".into()),
            "role_above_own" => Some("role".into()),
            _ => None,
        });
        view
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub message: &'static str,
}

pub const SUCCESS: MessageView = MessageView { message: "Success" };

/// `POST /projects`
#[derive(Debug, Clone, Deserialize)]
pub struct CreateProjectBody {
    pub name: String,
    #[serde(default)]
    pub allowed_email_domains: Vec<String>,
}

/// `PATCH /projects/{pk}/members/{user_id}`
#[derive(Debug, Clone, Deserialize)]
pub struct MemberRoleBody {
    pub role: String,
}

impl TryFrom<MemberRoleBody> for MemberChange {
    type Error = AppError;
    fn try_from(body: MemberRoleBody) -> Result<Self, AppError> {
        Ok(MemberChange::Role(parse_role(&body.role)?))
    }
}

/// `POST /projects/{pk}/invitations`, and each row of `…/invitations/bulk`
#[derive(Debug, Clone, Deserialize)]
pub struct CreateInvitationBody {
    pub email: String,
    pub role: String,
    #[serde(default, deserialize_with = "present")]
    pub message: Option<String>,
    #[serde(default = "yes", deserialize_with = "flag")]
    pub send: bool,
}

fn yes() -> bool {
    true
}

/// A boolean, also as a form sends it (`"true"`, `"false"`).
fn flag<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    match Flag::deserialize(deserializer)? {
        Flag::Bool(value) => Ok(value),
        Flag::Text(text) => match text.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(serde::de::Error::custom("expected a boolean")),
        },
    }
}

/// An invitation id as clients send it: the spec's examples quote it (`"6"`); a bare number is
/// taken too (and refused as malformed: ids here are UUIDs).
fn id_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(u64),
    }
    Ok(match Id::deserialize(deserializer)? {
        Id::Text(text) => text,
        Id::Number(number) => number.to_string(),
    })
}

/// An optional field that, when present, must hold a value: `null` is refused, not "absent".
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    String::deserialize(deserializer).map(Some)
}

/// `PUT /projects/{pk}/invitations`
#[derive(Debug, Clone, Deserialize)]
pub struct UpdateInvitationBody {
    #[serde(deserialize_with = "id_string")]
    pub invitation_id: String,
    #[serde(default, deserialize_with = "present")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub role: Option<String>,
}

/// `POST /projects/{pk}/resend-invitation` and `…/revoke-invitation`
#[derive(Debug, Clone, Deserialize)]
pub struct InvitationIdBody {
    #[serde(deserialize_with = "id_string")]
    pub invitation_id: String,
}

impl TryFrom<CreateProjectBody> for NewProject {
    type Error = AppError;
    fn try_from(body: CreateProjectBody) -> Result<Self, AppError> {
        let name = ProjectName::parse(&body.name)
            .map_err(|e| AppError::invalid("invalid_field", Some("name"), e.to_string()))?;
        let allowed_email_domains = DomainAllowList::new(&body.allowed_email_domains)
            .map_err(|e| AppError::invalid("invalid_field", Some("allowed_email_domains"), e.to_string()))?;
        Ok(NewProject { name, allowed_email_domains })
    }
}

impl TryFrom<CreateInvitationBody> for NewInvitation {
    type Error = AppError;
    fn try_from(body: CreateInvitationBody) -> Result<Self, AppError> {
        let message = body
            .message
            .as_deref()
            .map(Note::parse)
            .transpose()
            .map_err(|e| AppError::invalid("invalid_field", Some("message"), e.to_string()))?
            .flatten();
        Ok(NewInvitation { email: parse_email(&body.email)?, role: parse_role(&body.role)?, message, send: body.send })
    }
}

impl TryFrom<UpdateInvitationBody> for (InvitationId, InvitationChanges) {
    type Error = AppError;
    fn try_from(body: UpdateInvitationBody) -> Result<Self, AppError> {
        let changes = InvitationChanges {
            email: body.email.as_deref().map(parse_email).transpose()?,
            role: body.role.as_deref().map(parse_role).transpose()?,
        };
        Ok((parse_invitation_id(&body.invitation_id)?, changes))
    }
}

/// An event as the API and the event bus show it: the same flat fields (here `null` where a
/// field does not apply; on the bus, an empty string).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventView {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub project_id: String,
    pub invitation_id: Option<Uuid>,
    /// A user id, or `system`.
    pub actor: String,
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    pub email: Option<String>,
    pub role: Option<Role>,
    pub status: Option<&'static str>,
    pub delivery_status: Option<DeliveryStatus>,
    pub reason: Option<String>,
    pub member_id: Option<String>,
}

impl From<&Event> for EventView {
    fn from(event: &Event) -> Self {
        let changes = &event.changes;
        Self {
            id: event.id,
            kind: event.kind.as_str(),
            project_id: event.project_id.to_string(),
            invitation_id: event.invitation_id.map(|id| id.as_uuid()),
            actor: event.actor.to_string(),
            time: event.at,
            email: changes.email.clone(),
            role: changes.role,
            status: changes.status.map(InvitationStatus::name),
            delivery_status: changes.delivery_status,
            reason: changes.reason.clone(),
            member_id: changes.member_id.as_ref().map(ToString::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::format_description;
    use time::{Duration, OffsetDateTime, UtcOffset};

    #[test]
    fn timestamps_are_rfc_3339_in_utc_to_the_second() {
        let rfc3339 = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
        let mut at = OffsetDateTime::UNIX_EPOCH;
        for _ in 0..1_000 {
            at += Duration::seconds(249_912_347);
            let mut text = [0; 20];
            let expected = at.format(rfc3339).unwrap();
            assert_eq!(super::timestamp::format(at, &mut text), Some(expected.as_str()));
            let elsewhere = at.to_offset(UtcOffset::from_hms(-5, -30, 0).unwrap());
            assert_eq!(super::timestamp::format(elsewhere, &mut text), Some(expected.as_str()));
        }
        let before_year_zero = OffsetDateTime::UNIX_EPOCH - Duration::days(366 * 2000);
        assert_eq!(super::timestamp::format(before_year_zero, &mut [0; 20]), None);
    }
}
