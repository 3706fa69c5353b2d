//! The invitation and its life cycle. Every transition is a pure function that either returns the
//! next state (with `version` bumped) or a typed reason why the move is illegal.

use super::email_address::Email;
use super::ids::{InvitationId, ProjectId, UserId};
use super::quota::{QuotaClaim, QuotaScope, ADDRESS_HOLD_AFTER_EXPIRY};
use super::role::Role;
use serde::{Deserialize, Serialize};
use serde_repr::Serialize_repr;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Status codes on the wire, as the spec: 1 Pending, 2 Accepted, 3 Revoked; beyond it 4 Declined and
/// 5 Expired (a pending invitation past `expires_at`, or one replaced by a new invitation after it
/// expired).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize_repr)]
#[repr(u8)]
pub enum InvitationStatus {
    Pending = 1,
    Accepted = 2,
    Revoked = 3,
    Declined = 4,
    Expired = 5,
}

impl InvitationStatus {
    pub fn code(self) -> u8 {
        self as u8
    }
    pub fn from_code(code: u8) -> Option<Self> {
        use InvitationStatus::*;
        [Pending, Accepted, Revoked, Declined, Expired].into_iter().find(|s| s.code() == code)
    }
    pub fn from_name(name: &str) -> Option<Self> {
        use InvitationStatus::*;
        [Pending, Accepted, Revoked, Declined, Expired].into_iter().find(|s| s.name() == name)
    }
    /// The status's name, as events carry it.
    pub fn name(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Revoked => "revoked",
            InvitationStatus::Declined => "declined",
            InvitationStatus::Expired => "expired",
        }
    }
}

/// What happened to the invitation's email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Created with `send: false`: no email was asked for; a resend sends one.
    NotSent,
    /// The send could not be put on the queue; a resend repairs it.
    NotQueued,
    Queued,
    /// A sender claimed the send and is talking to the mail service.
    Sending,
    Sent,
    Delivered,
    Bounced,
    Complained,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        use DeliveryStatus::*;
        match self {
            NotSent => "not_sent",
            NotQueued => "not_queued",
            Queued => "queued",
            Sending => "sending",
            Sent => "sent",
            Delivered => "delivered",
            Bounced => "bounced",
            Complained => "complained",
            Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
    pub const ALL: [DeliveryStatus; 9] = {
        use DeliveryStatus::*;
        [NotSent, NotQueued, Queued, Sending, Sent, Delivered, Bounced, Complained, Failed]
    };
    /// Mail to this address will not arrive until the address is changed.
    pub fn blocks_resend(self) -> bool {
        matches!(self, DeliveryStatus::Bounced | DeliveryStatus::Complained)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub status: DeliveryStatus,
    pub reason: Option<String>,
    pub updated_at: OffsetDateTime,
    /// The mail service's id for the last accepted email; events are matched against it.
    pub message_id: Option<String>,
    /// While `Sending`, the claim is honoured until then; after it a redelivery may claim again.
    pub lease_until: Option<OffsetDateTime>,
}

/// Every field of an invitation: what storage keeps, and what [`Invitation`] lets everyone read.
/// Only storage adapters build one, to [`Invitation::restore`] what they read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRecord {
    pub id: InvitationId,
    pub project_id: ProjectId,
    /// The address as typed, for display.
    pub email: String,
    /// The address as compared and keyed.
    pub email_normalized: String,
    pub role: Role,
    /// The stored state; see [`Invitation::status_at`] for what is reported.
    pub status: InvitationStatus,
    pub invited_by: UserId,
    pub invited_by_email: Option<String>,
    pub accepted_by: Option<UserId>,
    pub created_at: OffsetDateTime,
    pub accepted_at: Option<OffsetDateTime>,
    pub resent_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    pub declined_at: Option<OffsetDateTime>,
    pub expires_at: OffsetDateTime,
    pub delivery: Delivery,
    /// Emails the mail service accepted for this invitation.
    pub send_count: u32,
    /// Identifies the current send request; a queued message naming another one is stale.
    pub send_id: Uuid,
    /// When the current send was requested: the resend cooldown runs from here.
    pub send_requested_at: OffsetDateTime,
    /// Bumped by every transition; storage writes only over the version it read.
    pub version: u64,
    /// The slot of the address's pending-invitations quota this invitation holds while pending.
    pub address_slot: Option<u32>,
    /// The inviter's own note, shown in the email.
    pub message: Option<String>,
}

/// An invitation. Its fields read through [`InvitationRecord`]; they change only through the
/// transitions below, each of which returns the next state with `version` bumped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation(InvitationRecord);

impl std::ops::Deref for Invitation {
    type Target = InvitationRecord;
    fn deref(&self) -> &InvitationRecord {
        &self.0
    }
}

/// What a manager asks for when inviting: parsed from the request, checked by the domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvitation {
    pub email: Email,
    pub role: Role,
    /// The inviter's note for the email.
    pub message: Option<Note>,
    /// Whether to email the invitation now; without, the link is shared by hand.
    pub send: bool,
}

impl NewInvitation {
    /// An invitation emailed now, without a note.
    pub fn new(email: Email, role: Role) -> Self {
        Self { email, role, message: None, send: true }
    }
}

/// An inviter's note: plain text, at most [`Note::MAX_CHARS`] characters, shown in the email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidNote {
    #[error("message must be at most 500 characters")]
    TooLong,
    #[error("message must be plain text: no control characters but line breaks and tabs")]
    ControlCharacter,
}

impl Note {
    pub const MAX_CHARS: usize = 500;

    /// A note; blank is none.
    pub fn parse(raw: &str) -> Result<Option<Note>, InvalidNote> {
        let text = raw.trim();
        if text.chars().count() > Self::MAX_CHARS {
            return Err(InvalidNote::TooLong);
        }
        if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(InvalidNote::ControlCharacter);
        }
        Ok((!text.is_empty()).then(|| Note(text.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who sends an invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inviter {
    pub user_id: UserId,
    /// Shown in the email as who invited.
    pub email: Option<String>,
}

/// Why a transition is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the invitation is no longer pending")]
    NotPending { status: InvitationStatus },
    #[error("the invitation has expired")]
    Expired,
    #[error("an invitation was resent recently; retry in {retry_after_secs} s")]
    Cooldown { retry_after_secs: u64 },
    #[error("the last email to this address {0}; change the address before resending")]
    Undeliverable(&'static str),
    #[error("there is nothing to send: not pending, superseded or already sent")]
    SendNotClaimable,
    #[error("another sender holds the send")]
    SendInProgress { until: OffsetDateTime },
}

/// The rules' tunables, from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub ttl: Duration,
    pub resend_cooldown: Duration,
    /// How long a sender's claim on a send holds before a redelivery may claim it again.
    pub send_lease: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self { ttl: Duration::days(14), resend_cooldown: Duration::seconds(60), send_lease: Duration::seconds(60) }
    }
}

/// `If-Match`: the versions of an invitation a change may be made over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum IfMatch {
    /// No precondition (or `*`).
    #[default]
    Any,
    /// Only over one of these versions (none: an entity tag that names no version of ours).
    Versions(Vec<u64>),
}

impl IfMatch {
    pub fn holds(&self, version: u64) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Versions(versions) => versions.contains(&version),
        }
    }
}

/// The invitation a change is asked of, and the versions it may be made over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRef {
    pub id: InvitationId,
    pub if_match: IfMatch,
}

impl From<InvitationId> for InvitationRef {
    fn from(id: InvitationId) -> Self {
        Self { id, if_match: IfMatch::Any }
    }
}

/// What a manager asked to change with PUT.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvitationChanges {
    pub email: Option<Email>,
    pub role: Option<Role>,
}

/// The outcome of an update: whether a new email must be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Updated {
    pub invitation: Invitation,
    pub resend: bool,
}

impl Invitation {
    /// A new pending invitation, its email queued (or, asked not to send, not sent).
    pub fn new(
        project_id: ProjectId,
        new: &NewInvitation,
        inviter: &Inviter,
        now: OffsetDateTime,
        policy: &Policy,
    ) -> Invitation {
        Invitation(InvitationRecord {
            id: InvitationId::new(now),
            project_id,
            email: new.email.as_typed().to_owned(),
            email_normalized: new.email.normalized().to_owned(),
            role: new.role,
            status: InvitationStatus::Pending,
            invited_by: inviter.user_id.clone(),
            invited_by_email: inviter.email.clone(),
            accepted_by: None,
            created_at: now,
            accepted_at: None,
            resent_at: None,
            revoked_at: None,
            declined_at: None,
            expires_at: now + policy.ttl,
            delivery: Delivery {
                status: if new.send { DeliveryStatus::Queued } else { DeliveryStatus::NotSent },
                reason: None,
                updated_at: now,
                message_id: None,
                lease_until: None,
            },
            send_count: 0,
            send_id: Uuid::new_v4(),
            send_requested_at: now,
            version: 1,
            address_slot: None,
            message: new.message.as_ref().map(|note| note.as_str().to_owned()),
        })
    }

    /// The invitation, holding `slot` of its address's pending quota (set before it is first
    /// written).
    pub fn holding_address_slot(mut self, slot: u32) -> Invitation {
        self.0.address_slot = Some(slot);
        self
    }

    /// The address slot this invitation holds, held again until its new expiry when it expires
    /// later than `before` (a resend): the hold must not end while the invitation is pending, or
    /// its address could take more pending invitations than its quota.
    pub fn renewed_address_hold(&self, before: &Invitation) -> Option<QuotaClaim> {
        let slot = self.address_slot.filter(|slot| {
            self.is_pending()
                && before.is_pending()
                && before.address_slot == Some(*slot)
                && before.email_normalized == self.email_normalized
                && self.expires_at > before.expires_at
        })?;
        Some(QuotaClaim {
            scope: QuotaScope::AddressPending(self.email_normalized.clone()),
            slot,
            until: self.address_hold_until(),
            holder: self.id.to_string(),
        })
    }

    /// Until when this invitation holds its address's pending slot: a while after it expires.
    pub fn address_hold_until(&self) -> OffsetDateTime {
        self.expires_at + ADDRESS_HOLD_AFTER_EXPIRY
    }

    /// An invitation as storage kept it.
    pub fn restore(record: InvitationRecord) -> Invitation {
        Invitation(record)
    }

    /// The status as reported: a pending invitation past its expiry is Expired.
    pub fn status_at(&self, now: OffsetDateTime) -> InvitationStatus {
        match self.status {
            InvitationStatus::Pending if self.is_expired(now) => InvitationStatus::Expired,
            status => status,
        }
    }

    pub fn is_pending(&self) -> bool {
        self.status == InvitationStatus::Pending
    }

    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at <= now
    }

    fn next(&self) -> Invitation {
        Invitation(InvitationRecord { version: self.version + 1, ..self.0.clone() })
    }

    fn require_pending(&self) -> Result<(), TransitionError> {
        if self.is_pending() {
            Ok(())
        } else {
            Err(TransitionError::NotPending { status: self.status })
        }
    }

    fn require_live(&self, now: OffsetDateTime) -> Result<(), TransitionError> {
        self.require_pending()?;
        if self.is_expired(now) {
            return Err(TransitionError::Expired);
        }
        Ok(())
    }

    pub fn accept(&self, user_id: &UserId, now: OffsetDateTime) -> Result<Invitation, TransitionError> {
        self.require_live(now)?;
        let mut next = self.next();
        next.0.status = InvitationStatus::Accepted;
        next.0.accepted_by = Some(user_id.clone());
        next.0.accepted_at = Some(now);
        Ok(next)
    }

    /// Revoking also clears an expired invitation away.
    pub fn revoke(&self, now: OffsetDateTime) -> Result<Invitation, TransitionError> {
        self.require_pending()?;
        let mut next = self.next();
        next.0.status = InvitationStatus::Revoked;
        next.0.revoked_at = Some(now);
        Ok(next)
    }

    pub fn decline(&self, now: OffsetDateTime) -> Result<Invitation, TransitionError> {
        self.require_pending()?;
        let mut next = self.next();
        next.0.status = InvitationStatus::Declined;
        next.0.declined_at = Some(now);
        Ok(next)
    }

    /// An expired invitation gives way to a new one for the same address.
    pub fn supersede(&self, now: OffsetDateTime) -> Result<Invitation, TransitionError> {
        self.require_pending()?;
        if !self.is_expired(now) {
            return Err(TransitionError::NotPending { status: self.status });
        }
        let mut next = self.next();
        next.0.status = InvitationStatus::Expired;
        Ok(next)
    }

    /// Resend: pending (expired or not), outside the cooldown, to an address that takes mail.
    /// Renews the expiry and starts a new send.
    pub fn resend(&self, now: OffsetDateTime, policy: &Policy) -> Result<Invitation, TransitionError> {
        self.require_pending()?;
        if self.delivery.status.blocks_resend() {
            return Err(TransitionError::Undeliverable(match self.delivery.status {
                DeliveryStatus::Bounced => "bounced",
                _ => "was marked as spam",
            }));
        }
        let ready_at = self.send_requested_at + policy.resend_cooldown;
        // Nothing was sent yet to a quiet invitation: its first email is no resend.
        if now < ready_at && self.delivery.status != DeliveryStatus::NotSent {
            let wait = (ready_at - now).whole_milliseconds();
            return Err(TransitionError::Cooldown { retry_after_secs: ((wait + 999) / 1000).max(1) as u64 });
        }
        let mut next = self.next();
        next.restart_send(now, policy);
        next.0.resent_at = Some(now);
        Ok(next)
    }

    /// Update a live invitation; a changed address starts a new send to it.
    pub fn update(
        &self,
        changes: &InvitationChanges,
        now: OffsetDateTime,
        policy: &Policy,
    ) -> Result<Updated, TransitionError> {
        self.require_live(now)?;
        let mut next = self.next();
        if let Some(role) = changes.role {
            next.0.role = role;
        }
        let email_changed = changes
            .email
            .as_ref()
            .is_some_and(|email| email.normalized() != self.email_normalized || email.as_typed() != self.email);
        let address_changed = changes.email.as_ref().is_some_and(|e| e.normalized() != self.email_normalized);
        if let Some(email) = changes.email.as_ref().filter(|_| email_changed) {
            next.0.email = email.as_typed().to_owned();
            next.0.email_normalized = email.normalized().to_owned();
        }
        if address_changed {
            next.restart_send(now, policy);
        }
        Ok(Updated { invitation: next, resend: address_changed })
    }

    /// A new send: renewed expiry, a fresh send id (older queued messages become stale).
    fn restart_send(&mut self, now: OffsetDateTime, policy: &Policy) {
        self.0.expires_at = now + policy.ttl;
        self.0.send_id = Uuid::new_v4();
        self.0.send_requested_at = now;
        self.0.delivery.status = DeliveryStatus::Queued;
        self.0.delivery.reason = None;
        self.0.delivery.updated_at = now;
        self.0.delivery.lease_until = None;
        // The previous email's events must not land on this send.
        self.0.delivery.message_id = None;
    }

    /// The queue refused the message: say so, so nobody waits for an email that is not coming.
    pub fn mark_not_queued(&self, reason: &str, now: OffsetDateTime) -> Invitation {
        let mut next = self.next();
        next.0.delivery.status = DeliveryStatus::NotQueued;
        next.0.delivery.reason = Some(reason.to_owned());
        next.0.delivery.updated_at = now;
        next
    }

    /// Is a queued message for `send_id` still worth acting on? (A send another sender holds
    /// is: it may yet be given back; see [`Invitation::claim_send`].)
    pub fn wants_send(&self, send_id: Uuid) -> bool {
        self.is_pending()
            && self.send_id == send_id
            && matches!(
                self.delivery.status,
                DeliveryStatus::Queued | DeliveryStatus::NotQueued | DeliveryStatus::Sending
            )
    }

    /// A sender claims the send before talking to the mail service, for the lease's length.
    /// `SendInProgress` while another sender's claim lives: the message is to be retried, not
    /// dropped, since that sender may die before it sends. `SendNotClaimable` when there is
    /// nothing to send (not pending, superseded, already sent).
    pub fn claim_send(
        &self,
        send_id: Uuid,
        now: OffsetDateTime,
        policy: &Policy,
    ) -> Result<Invitation, TransitionError> {
        if !self.wants_send(send_id) {
            return Err(TransitionError::SendNotClaimable);
        }
        if let Some(until) = self.delivery.lease_until.filter(|until| *until > now) {
            if self.delivery.status == DeliveryStatus::Sending {
                return Err(TransitionError::SendInProgress { until });
            }
        }
        let mut next = self.next();
        next.0.delivery.status = DeliveryStatus::Sending;
        next.0.delivery.updated_at = now;
        next.0.delivery.lease_until = Some(now + policy.send_lease);
        Ok(next)
    }

    pub fn record_sent(&self, message_id: &str, now: OffsetDateTime) -> Invitation {
        let mut next = self.next();
        next.0.send_count += 1;
        next.0.delivery = Delivery {
            status: DeliveryStatus::Sent,
            reason: None,
            updated_at: now,
            message_id: Some(message_id.to_owned()),
            lease_until: None,
        };
        next
    }

    /// A transient failure: give the claim back so the retried message can send.
    pub fn release_send(&self, reason: &str, now: OffsetDateTime) -> Invitation {
        let mut next = self.next();
        next.0.delivery.status = DeliveryStatus::Queued;
        next.0.delivery.reason = Some(reason.to_owned());
        next.0.delivery.updated_at = now;
        next.0.delivery.lease_until = None;
        next
    }

    pub fn record_failed(&self, reason: &str, now: OffsetDateTime) -> Invitation {
        let mut next = self.next();
        next.0.delivery.status = DeliveryStatus::Failed;
        next.0.delivery.reason = Some(reason.to_owned());
        next.0.delivery.updated_at = now;
        next.0.delivery.lease_until = None;
        next
    }

    /// A mail-service event (delivery, bounce, complaint, rejection) for the email with
    /// `message_id`. Events for any other email than the current send's, or arriving after a
    /// worse one, change nothing.
    pub fn record_event(
        &self,
        message_id: &str,
        status: DeliveryStatus,
        reason: Option<String>,
        at: OffsetDateTime,
    ) -> Option<Invitation> {
        if self.delivery.message_id.as_deref() != Some(message_id) {
            return None;
        }
        let current = self.delivery.status;
        let supersedes = match status {
            DeliveryStatus::Delivered => {
                matches!(current, DeliveryStatus::Sent | DeliveryStatus::Sending)
            }
            DeliveryStatus::Bounced | DeliveryStatus::Complained | DeliveryStatus::Failed => current != status,
            _ => false,
        };
        if !supersedes {
            return None;
        }
        let mut next = self.next();
        next.0.delivery.status = status;
        next.0.delivery.reason = reason;
        next.0.delivery.updated_at = at;
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);

    fn invitation() -> Invitation {
        let new = NewInvitation::new(Email::parse("Jane@Example.com").unwrap(), Role::Editor);
        let inviter = Inviter { user_id: UserId::parse("owner-sub").unwrap(), email: None };
        Invitation::new(ProjectId::parse("p1").unwrap(), &new, &inviter, NOW, &Policy::default())
    }

    fn user(id: &str) -> UserId {
        UserId::parse(id).unwrap()
    }

    #[test]
    fn a_new_invitation_is_pending_queued_and_expires_after_the_ttl() {
        let inv = invitation();
        assert_eq!(inv.id.as_uuid().get_version_num(), 7);
        assert_eq!(inv.status_at(NOW), InvitationStatus::Pending);
        assert_eq!(inv.expires_at, NOW + Duration::days(14));
        assert_eq!(inv.status_at(inv.expires_at), InvitationStatus::Expired);
        assert_eq!(inv.delivery.status, DeliveryStatus::Queued);
        assert_eq!((inv.email.as_str(), inv.email_normalized.as_str()), ("Jane@Example.com", "jane@example.com"));
    }

    #[test]
    fn accept_sets_who_and_when_and_only_once() {
        let accepted = invitation().accept(&user("u1"), NOW).unwrap();
        assert_eq!(accepted.status, InvitationStatus::Accepted);
        assert_eq!(accepted.accepted_by, Some(user("u1")));
        assert_eq!(accepted.accepted_at, Some(NOW));
        assert_eq!(accepted.version, 2);
        assert_eq!(
            accepted.accept(&user("u1"), NOW),
            Err(TransitionError::NotPending { status: InvitationStatus::Accepted })
        );
        assert_eq!(
            accepted.revoke(NOW).unwrap_err(),
            TransitionError::NotPending { status: InvitationStatus::Accepted }
        );
    }

    #[test]
    fn an_expired_invitation_cannot_be_accepted_or_updated_but_can_be_resent_or_revoked() {
        let inv = invitation();
        let later = inv.expires_at + Duration::seconds(1);
        assert_eq!(inv.accept(&user("u1"), later), Err(TransitionError::Expired));
        assert_eq!(inv.update(&InvitationChanges::default(), later, &Policy::default()), Err(TransitionError::Expired));
        let renewed = inv.resend(later, &Policy::default()).unwrap();
        assert_eq!(renewed.status_at(later), InvitationStatus::Pending);
        assert_eq!(renewed.expires_at, later + Duration::days(14));
        assert_eq!(renewed.resent_at, Some(later));
        assert_ne!(renewed.send_id, inv.send_id);
        assert!(inv.revoke(later).is_ok());
        assert_eq!(inv.supersede(later).unwrap().status, InvitationStatus::Expired);
        assert!(inv.supersede(NOW).is_err());
    }

    #[test]
    fn resend_has_a_cooldown_and_refuses_bounced_addresses() {
        let inv = invitation();
        let policy = Policy::default();
        assert_eq!(
            inv.resend(NOW + Duration::seconds(15), &policy),
            Err(TransitionError::Cooldown { retry_after_secs: 45 })
        );
        let resent = inv.resend(NOW + Duration::seconds(60), &policy).unwrap();
        assert_eq!(resent.delivery.status, DeliveryStatus::Queued);
        let mut bounced = resent.clone();
        bounced.0.delivery.status = DeliveryStatus::Bounced;
        assert!(matches!(bounced.resend(NOW + Duration::hours(1), &policy), Err(TransitionError::Undeliverable(_))));
    }

    #[test]
    fn updating_the_address_restarts_the_send_and_a_role_change_does_not() {
        let inv = invitation();
        let policy = Policy::default();
        let role_only =
            inv.update(&InvitationChanges { role: Some(Role::ReadOnly), email: None }, NOW, &policy).unwrap();
        assert!(!role_only.resend);
        assert_eq!(role_only.invitation.role, Role::ReadOnly);
        assert_eq!(role_only.invitation.send_id, inv.send_id);
        let recased = inv
            .update(
                &InvitationChanges { email: Some(Email::parse("JANE@example.com").unwrap()), role: None },
                NOW,
                &policy,
            )
            .unwrap();
        assert!(!recased.resend, "same normalized address: no new email");
        let moved = inv
            .update(
                &InvitationChanges { email: Some(Email::parse("john@example.com").unwrap()), role: None },
                NOW,
                &policy,
            )
            .unwrap();
        assert!(moved.resend);
        assert_eq!(moved.invitation.email_normalized, "john@example.com");
        assert_ne!(moved.invitation.send_id, inv.send_id);
        assert_eq!(moved.invitation.version, inv.version + 1);
    }

    #[test]
    fn a_send_is_claimed_once_until_its_lease_runs_out() {
        let inv = invitation();
        let policy = Policy::default();
        let claimed = inv.claim_send(inv.send_id, NOW, &policy).unwrap();
        let until = NOW + policy.send_lease;
        assert_eq!(claimed.claim_send(inv.send_id, NOW, &policy), Err(TransitionError::SendInProgress { until }));
        assert!(claimed.claim_send(inv.send_id, until + Duration::seconds(1), &policy).is_ok());
        assert_eq!(inv.claim_send(Uuid::new_v4(), NOW, &policy), Err(TransitionError::SendNotClaimable));
        let sent = claimed.record_sent("m-1", NOW);
        assert_eq!((sent.send_count, sent.delivery.status), (1, DeliveryStatus::Sent));
        assert_eq!(sent.claim_send(inv.send_id, NOW, &policy), Err(TransitionError::SendNotClaimable));
        let revoked = inv.revoke(NOW).unwrap();
        assert!(!revoked.wants_send(inv.send_id));
    }

    #[test]
    fn delivery_events_apply_to_the_current_email_only() {
        let sent = invitation().record_sent("m-1", NOW);
        assert!(sent.record_event("m-0", DeliveryStatus::Bounced, None, NOW).is_none());
        let delivered = sent.record_event("m-1", DeliveryStatus::Delivered, None, NOW).unwrap();
        assert_eq!(delivered.delivery.status, DeliveryStatus::Delivered);
        let complained = delivered.record_event("m-1", DeliveryStatus::Complained, Some("abuse".into()), NOW).unwrap();
        assert_eq!(complained.delivery.reason.as_deref(), Some("abuse"));
        assert!(complained.record_event("m-1", DeliveryStatus::Delivered, None, NOW).is_none());
        let rejected = sent.record_event("m-1", DeliveryStatus::Failed, Some("Bad content".into()), NOW).unwrap();
        assert_eq!(rejected.delivery.status, DeliveryStatus::Failed);
    }

    #[test]
    fn a_late_event_for_the_previous_email_leaves_a_new_send_alone() {
        let policy = Policy::default();
        let inv = invitation();
        let sent = inv.claim_send(inv.send_id, NOW, &policy).unwrap().record_sent("m-1", NOW);
        let resent = sent.resend(NOW + Duration::hours(1), &policy).unwrap();
        let sending = resent.claim_send(resent.send_id, NOW + Duration::hours(1), &policy).unwrap();
        assert!(sending.record_event("m-1", DeliveryStatus::Delivered, None, NOW).is_none());
        assert!(sending.record_event("m-1", DeliveryStatus::Bounced, None, NOW).is_none());
    }

    #[test]
    fn a_quiet_invitation_asks_for_no_email_until_it_is_resent_at_once() {
        let mut new = NewInvitation::new(Email::parse("jane@example.com").unwrap(), Role::Editor);
        new.send = false;
        new.message = Note::parse("  Welcome aboard!\n— Ana  ").unwrap();
        let inviter = Inviter { user_id: UserId::parse("owner-sub").unwrap(), email: None };
        let policy = Policy::default();
        let quiet = Invitation::new(ProjectId::parse("p1").unwrap(), &new, &inviter, NOW, &policy);
        assert_eq!(quiet.delivery.status, DeliveryStatus::NotSent);
        assert!(!quiet.wants_send(quiet.send_id));
        assert_eq!(quiet.message.as_deref(), Some("Welcome aboard!\n— Ana"));
        let resent = quiet.resend(NOW + Duration::seconds(1), &policy).expect("no cooldown before the first email");
        assert_eq!(resent.delivery.status, DeliveryStatus::Queued);
        assert!(resent.wants_send(resent.send_id));
    }

    #[test]
    fn a_note_is_plain_text_of_at_most_500_characters() {
        assert_eq!(Note::parse("   "), Ok(None));
        assert!(Note::parse(&"é".repeat(500)).unwrap().is_some());
        assert_eq!(Note::parse(&"é".repeat(501)), Err(InvalidNote::TooLong));
        assert_eq!(Note::parse("a\u{7}b"), Err(InvalidNote::ControlCharacter));
    }

    #[test]
    fn status_codes_round_trip_on_the_wire() {
        assert_eq!(serde_json::to_string(&InvitationStatus::Revoked).unwrap(), "3");
        assert_eq!(InvitationStatus::from_code(5), Some(InvitationStatus::Expired));
        assert_eq!(InvitationStatus::from_code(9), None);
        assert_eq!(DeliveryStatus::parse("not_queued"), Some(DeliveryStatus::NotQueued));
    }
}
