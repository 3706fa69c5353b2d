//! The event log: one event for every state change, written in the change's own transaction.
//! A project's events are its audit log; the table's stream carries them on (the email queue,
//! the event bus). An event says what changed and who did it; it never holds the invitation's
//! link, a token or an email's text.

use super::ids::{InvitationId, ProjectId, UserId};
use super::invitation::{DeliveryStatus, Invitation, InvitationStatus};
use super::project::{Membership, Project};
use super::role::Role;
use std::fmt;
use std::str::FromStr;
use time::OffsetDateTime;
use uuid::Uuid;

/// What happened. The wire names (`invitation.created`, ...) are the event catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    ProjectCreated,
    MemberAdded,
    MemberRoleChanged,
    MemberRemoved,
    /// A member's Slack invitation is asked for again (a manual retry).
    MemberSlackRequested,
    MemberSlackInvited,
    MemberSlackFailed,
    /// An owner set or changed the project's Slack integration.
    SlackIntegrationUpdated,
    SlackIntegrationRemoved,
    InvitationCreated,
    InvitationUpdated,
    InvitationResent,
    InvitationRevoked,
    InvitationDeclined,
    InvitationAccepted,
    /// Replaced by a new invitation to the same address after it expired.
    InvitationExpired,
    /// The email's delivery status changed: one type per status.
    Email(DeliveryStatus),
}

impl EventType {
    pub const ALL: [EventType; 25] = [
        EventType::ProjectCreated,
        EventType::MemberAdded,
        EventType::MemberRoleChanged,
        EventType::MemberRemoved,
        EventType::MemberSlackRequested,
        EventType::MemberSlackInvited,
        EventType::MemberSlackFailed,
        EventType::SlackIntegrationUpdated,
        EventType::SlackIntegrationRemoved,
        EventType::InvitationCreated,
        EventType::InvitationUpdated,
        EventType::InvitationResent,
        EventType::InvitationRevoked,
        EventType::InvitationDeclined,
        EventType::InvitationAccepted,
        EventType::InvitationExpired,
        EventType::Email(DeliveryStatus::NotSent),
        EventType::Email(DeliveryStatus::NotQueued),
        EventType::Email(DeliveryStatus::Queued),
        EventType::Email(DeliveryStatus::Sending),
        EventType::Email(DeliveryStatus::Sent),
        EventType::Email(DeliveryStatus::Delivered),
        EventType::Email(DeliveryStatus::Bounced),
        EventType::Email(DeliveryStatus::Complained),
        EventType::Email(DeliveryStatus::Failed),
    ];

    pub fn as_str(self) -> &'static str {
        use DeliveryStatus::*;
        match self {
            EventType::ProjectCreated => "project.created",
            EventType::MemberAdded => "member.added",
            EventType::MemberRoleChanged => "member.role_changed",
            EventType::MemberRemoved => "member.removed",
            EventType::MemberSlackRequested => "member.slack.requested",
            EventType::MemberSlackInvited => "member.slack.invited",
            EventType::MemberSlackFailed => "member.slack.failed",
            EventType::SlackIntegrationUpdated => "integration.slack.updated",
            EventType::SlackIntegrationRemoved => "integration.slack.removed",
            EventType::InvitationCreated => "invitation.created",
            EventType::InvitationUpdated => "invitation.updated",
            EventType::InvitationResent => "invitation.resent",
            EventType::InvitationRevoked => "invitation.revoked",
            EventType::InvitationDeclined => "invitation.declined",
            EventType::InvitationAccepted => "invitation.accepted",
            EventType::InvitationExpired => "invitation.expired",
            EventType::Email(NotSent) => "invitation.email.not_sent",
            EventType::Email(NotQueued) => "invitation.email.not_queued",
            EventType::Email(Queued) => "invitation.email.queued",
            EventType::Email(Sending) => "invitation.email.sending",
            EventType::Email(Sent) => "invitation.email.sent",
            EventType::Email(Delivered) => "invitation.email.delivered",
            EventType::Email(Bounced) => "invitation.email.bounced",
            EventType::Email(Complained) => "invitation.email.complained",
            EventType::Email(Failed) => "invitation.email.failed",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type")]
pub struct UnknownEventType;

impl FromStr for EventType {
    type Err = UnknownEventType;
    fn from_str(s: &str) -> Result<Self, UnknownEventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s).ok_or(UnknownEventType)
    }
}

/// Who made the change: a user, or the service itself (the sender, the mail service's events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User(UserId),
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::User(id) => fmt::Display::fmt(id, f),
            Actor::System => f.write_str("system"),
        }
    }
}

/// What changed, as far as the event type needs to say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// The invitee's address (as typed), when it was set or changed.
    pub email: Option<String>,
    pub role: Option<Role>,
    pub status: Option<InvitationStatus>,
    pub delivery_status: Option<DeliveryStatus>,
    /// Why the delivery status changed (a bounce, a rejection), in the mail service's words.
    pub reason: Option<String>,
    /// The member added.
    pub member_id: Option<UserId>,
    /// A new send request: the email pipe turns exactly these events into queued emails.
    pub send_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// A UUIDv7: a project's events sort by it.
    pub id: Uuid,
    pub kind: EventType,
    pub project_id: ProjectId,
    pub invitation_id: Option<InvitationId>,
    pub actor: Actor,
    pub at: OffsetDateTime,
    pub changes: Changes,
}

impl Event {
    fn new(kind: EventType, project_id: ProjectId, actor: &Actor, at: OffsetDateTime) -> Event {
        Event {
            id: super::ids::time_ordered_uuid(at),
            kind,
            project_id,
            invitation_id: None,
            actor: actor.clone(),
            at,
            changes: Changes::default(),
        }
    }

    pub fn project_created(project: &Project, actor: &Actor) -> Event {
        Event::new(EventType::ProjectCreated, project.id.clone(), actor, project.created_at)
    }

    pub fn member_added(member: &Membership, actor: &Actor, at: OffsetDateTime) -> Event {
        let mut event = Event::new(EventType::MemberAdded, member.project_id.clone(), actor, at);
        event.changes.member_id = Some(member.user_id.clone());
        event.changes.role = Some(member.role);
        event
    }

    /// `member.role_changed` (with the new role) or `member.removed` (with the role held).
    pub fn member_changed(from: &Membership, to: Option<&Membership>, actor: &Actor, at: OffsetDateTime) -> Event {
        let kind = if to.is_some() { EventType::MemberRoleChanged } else { EventType::MemberRemoved };
        let mut event = Event::new(kind, from.project_id.clone(), actor, at);
        event.changes.member_id = Some(from.user_id.clone());
        event.changes.role = Some(to.unwrap_or(from).role);
        event
    }

    /// An event about a member's Slack invitation; `reason` is Slack's error code.
    pub fn member_slack(
        kind: EventType,
        member: &Membership,
        reason: Option<String>,
        actor: &Actor,
        at: OffsetDateTime,
    ) -> Event {
        let mut event = Event::new(kind, member.project_id.clone(), actor, at);
        event.changes.member_id = Some(member.user_id.clone());
        event.changes.reason = reason;
        event
    }

    /// `integration.slack.updated` or `.removed`.
    pub fn slack_integration(kind: EventType, project_id: &ProjectId, actor: &Actor, at: OffsetDateTime) -> Event {
        Event::new(kind, project_id.clone(), actor, at)
    }

    /// `invitation.created`, asking for its first email unless it was created not to send.
    pub fn invitation_created(invitation: &Invitation, actor: &Actor) -> Event {
        let mut event =
            Event::new(EventType::InvitationCreated, invitation.project_id.clone(), actor, invitation.created_at);
        event.invitation_id = Some(invitation.id);
        event.changes = Changes {
            email: Some(invitation.email.clone()),
            role: Some(invitation.role),
            status: Some(invitation.status),
            delivery_status: Some(invitation.delivery.status),
            send_id: invitation.wants_send(invitation.send_id).then_some(invitation.send_id),
            ..Changes::default()
        };
        event
    }

    /// The event for the move from `from` to `to`, worked out from what differs between them.
    pub fn transition(from: &Invitation, to: &Invitation, actor: &Actor, at: OffsetDateTime) -> Event {
        let kind = match (from.status, to.status) {
            (InvitationStatus::Pending, InvitationStatus::Accepted) => EventType::InvitationAccepted,
            (InvitationStatus::Pending, InvitationStatus::Revoked) => EventType::InvitationRevoked,
            (InvitationStatus::Pending, InvitationStatus::Declined) => EventType::InvitationDeclined,
            (InvitationStatus::Pending, InvitationStatus::Expired) => EventType::InvitationExpired,
            _ if to.send_id != from.send_id && to.resent_at != from.resent_at => EventType::InvitationResent,
            _ if to.send_id != from.send_id || to.role != from.role || to.email != from.email => {
                EventType::InvitationUpdated
            }
            _ => EventType::Email(to.delivery.status),
        };
        let mut event = Event::new(kind, to.project_id.clone(), actor, at);
        event.invitation_id = Some(to.id);
        let differs = |a: bool| a.then_some(());
        event.changes = Changes {
            email: differs(to.email != from.email).map(|_| to.email.clone()),
            role: differs(to.role != from.role || kind == EventType::InvitationAccepted).map(|_| to.role),
            status: differs(to.status != from.status).map(|_| to.status),
            delivery_status: differs(to.delivery.status != from.delivery.status).map(|_| to.delivery.status),
            reason: differs(to.delivery.reason != from.delivery.reason).and(to.delivery.reason.clone()),
            member_id: to.accepted_by.clone().filter(|_| kind == EventType::InvitationAccepted),
            send_id: differs(to.send_id != from.send_id).map(|_| to.send_id),
        };
        event
    }

    /// Does this event ask for an email? (What the email pipe's filter selects.)
    pub fn requests_email(&self) -> bool {
        self.changes.send_id.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Email, Inviter, NewInvitation, Policy};
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);

    fn invitation() -> Invitation {
        let new = NewInvitation::new(Email::parse("Jane@Example.com").unwrap(), Role::Editor);
        let inviter = Inviter { user_id: UserId::parse("owner").unwrap(), email: None };
        Invitation::new(ProjectId::parse("p1").unwrap(), &new, &inviter, NOW, &Policy::default())
    }

    fn owner() -> Actor {
        Actor::User(UserId::parse("owner").unwrap())
    }

    #[test]
    fn each_transition_is_named_by_what_changed() {
        let policy = Policy::default();
        let inv = invitation();
        let created = Event::invitation_created(&inv, &owner());
        assert_eq!((created.kind, created.changes.send_id), (EventType::InvitationCreated, Some(inv.send_id)));
        assert!(created.requests_email());
        let later = NOW + time::Duration::hours(1);
        let resent = inv.resend(later, &policy).unwrap();
        let event = Event::transition(&inv, &resent, &owner(), later);
        assert_eq!((event.kind, event.changes.send_id), (EventType::InvitationResent, Some(resent.send_id)));
        let revoked = inv.revoke(later).unwrap();
        let event = Event::transition(&inv, &revoked, &owner(), later);
        assert_eq!((event.kind, event.changes.status), (EventType::InvitationRevoked, Some(InvitationStatus::Revoked)));
        assert!(!event.requests_email());
        let claimed = inv.claim_send(inv.send_id, later, &policy).unwrap();
        let sent = claimed.record_sent("m-1", later);
        let event = Event::transition(&claimed, &sent, &Actor::System, later);
        assert_eq!(event.kind, EventType::Email(DeliveryStatus::Sent));
        assert_eq!(event.actor.to_string(), "system");
        let jane = UserId::parse("jane").unwrap();
        let accepted = inv.accept(&jane, later).unwrap();
        let event = Event::transition(&inv, &accepted, &Actor::User(jane.clone()), later);
        assert_eq!((event.kind, event.changes.member_id), (EventType::InvitationAccepted, Some(jane)));
        assert_eq!(event.changes.role, Some(Role::Editor));
    }

    #[test]
    fn event_types_round_trip_their_wire_names() {
        for kind in EventType::ALL {
            assert_eq!(kind.as_str().parse::<EventType>(), Ok(kind));
        }
        assert_eq!(EventType::Email(DeliveryStatus::Bounced).to_string(), "invitation.email.bounced");
        assert!("invitation.exploded".parse::<EventType>().is_err());
    }
}
