//! The storage port: the small interface the service needs, with a DynamoDB and an in-memory
//! implementation that keep the same rules (one contract test suite runs against both).
//!
//! # Access patterns (single table, `PK`/`SK` strings)
//!
//! | # | access pattern | item / key | operation |
//! |---|---|---|---|
//! | 1 | create a project with its owner | `PROJECT#<pid>`/`PROJECT` + `PROJECT#<pid>`/`MEMBER#<sub>` | TransactWrite, both `attribute_not_exists` |
//! | 2 | a project and the caller's membership | same keys | BatchGet, consistent |
//! | 3 | list a project's members | `PK = PROJECT#<pid>`, `begins_with(SK, MEMBER#)` | Query |
//! | 4 | create an invitation, one pending per (project, email) | invitation `PROJECT#<pid>`/`INVITATION#<uuidv7>` + marker `INVITEE#<email>`/`PROJECT#<pid>`, with ConditionChecks on the inviter's rank and the project's allow-list | TransactWrite |
//! | 5 | an invitation (and the caller's membership) | `PROJECT#<pid>`/`INVITATION#<id>`: the project is part of the key, so an id from another project reaches nothing | BatchGet / Get, consistent |
//! | 6 | list a project's invitations in time order | `PK = PROJECT#<pid>`, `begins_with(SK, INVITATION#)` | Query |
//! | 6b | by status: pending and expired by expiry, split at now; the others by creation | index `GSI1`: `PROJECT#<pid>#EXPIRING`/`EXPIRES#<expiry key>` (stored pending or expired), `PROJECT#<pid>#STATUS#<code>`/`INVITATION#<id>` | Query on the index (keys only) for a page, then BatchGet (eventually consistent, as the index is) |
//! | 7 | pending invitations for an email (sign-up; a page of them for `/me/invitations`) | markers under `PK = INVITEE#<email>`, `ttl` 30 days after expiry | Query, consistent (no GSI) |
//! | 7b | those invitations and the user's memberships of their projects | invitation and member keys | BatchGet, consistent |
//! | 8 | any transition | invitation Put conditioned on `version` (and `status = Pending`), marker kept in step | TransactWrite |
//! | 9 | accept | invitation → Accepted, marker deleted, membership put unless a higher rank is there | TransactWrite |
//! | 9b | accept on sign-up | up to 16 acceptances of pattern 9 together, all or none | TransactWrite |
//! | 10 | the event of every state change, in the change's transaction | `PROJECT#<pid>`/`EVENT#<uuidv7>`, `ttl` after the retention | Put in the same TransactWrite |
//! | 11 | a project's events, newest first | `PK = PROJECT#<pid>`, `begins_with(SK, EVENT#)`, backwards | Query |
//! | 11b | by type, by invitation, by both | indexes `GSI1` `PROJECT#<pid>#TYPE#<type>`, `GSI2` `PROJECT#<pid>#INVITATION#<id>`, `GSI3` `PROJECT#<pid>#INVITATION#<id>#TYPE#<type>`, each with `EVENT#<id>` | Query on the index (keys only), backwards, then BatchGet |
//! | 12 | a quota slot claimed with the write that counts (free when absent or past `until`) | `QUOTA#<scope>`/`SLOT#<n>`, `ttl` at `until` | Put in the same TransactWrite, condition |
//! | 13 | a quota's slots, when the one tried was taken | `PK = QUOTA#<scope>` | Query, consistent |

pub mod memory;

#[cfg(feature = "dynamodb")]
pub mod dynamodb;

use crate::cause::Cause;
use crate::domain::idempotency::RequestRecord;
use crate::domain::slack::SlackIntegration;
use crate::domain::timestamp::to_millis;
use crate::domain::{
    DeliveryStatus, Event, EventType, Grant, Invitation, InvitationId, InvitationStatus, Membership, Page, PageRequest,
    Project, ProjectId, QuotaClaim, QuotaScope, QuotaUse, Role, UserId,
};
use async_trait::async_trait;
use time::OffsetDateTime;

/// The pending marker: one per (normalized email, project), present only while pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingInvitation {
    pub email_normalized: String,
    pub project_id: ProjectId,
    pub invitation_id: InvitationId,
    pub role: Role,
    pub expires_at: OffsetDateTime,
}

impl PendingInvitation {
    pub fn of(invitation: &Invitation) -> Self {
        Self {
            email_normalized: invitation.email_normalized.clone(),
            project_id: invitation.project_id.clone(),
            invitation_id: invitation.id,
            role: invitation.role,
            expires_at: invitation.expires_at,
        }
    }

    /// The key of the invitation this marker stands for.
    pub fn key(&self) -> InvitationKey {
        (self.project_id.clone(), self.invitation_id)
    }
}

/// An invitation's key: the project is part of it, so an id alone reaches nothing.
pub type InvitationKey = (ProjectId, InvitationId);

/// What must hold, at write time, for an invitation to be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateGuard {
    pub inviter: UserId,
    /// The inviter's role must be at least this.
    pub min_inviter_role: Role,
    /// The project's own allow-list (if it has one) must hold one of these patterns.
    pub domain_candidates: Vec<String>,
}

/// A transition of an invitation: the state that was read, the state to write over it, the event
/// that says so and the quota slots it counts against, written together. Leaving pending releases
/// the invitation's slot of its address's quota.
#[derive(Debug, Clone, Copy)]
pub struct Transition<'a> {
    pub from: &'a Invitation,
    pub to: &'a Invitation,
    pub event: &'a Event,
    pub claims: &'a [QuotaClaim],
}

/// One acceptance: the invitation's transition to Accepted, the role it grants and, when the
/// grant makes a new member, the `member.added` event.
#[derive(Debug, Clone, Copy)]
pub struct Acceptance<'a> {
    pub transition: Transition<'a>,
    pub grant: &'a Grant,
    pub member_event: Option<&'a Event>,
}

/// A member's change, written over exactly the membership that was read.
#[derive(Debug, Clone, Copy)]
pub struct MemberUpdate<'a> {
    pub from: &'a Membership,
    /// The membership after the change; `None` when it ends.
    pub to: Option<&'a Membership>,
    /// Who acts, at the role they were read with (unless they act on themselves).
    pub actor: &'a Membership,
    /// When the change leaves the project one owner fewer: the owner who stays.
    pub remaining_owner: Option<&'a Membership>,
    /// What the change says; none for a Slack attempt's claim, which changes nothing anyone reads.
    pub event: Option<&'a Event>,
}

/// Acceptances written in one [`Store::accept_batch`]: each is at most six items of a DynamoDB
/// transaction (invitation, marker, address quota slot, membership, two events), which holds at
/// most 100.
pub const ACCEPT_BATCH: usize = 16;

/// Which of a project's events to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub kind: Option<EventType>,
    pub invitation_id: Option<InvitationId>,
}

impl EventFilter {
    pub fn matches(&self, event: &Event) -> bool {
        self.kind.is_none_or(|kind| event.kind == kind)
            && self.invitation_id.is_none_or(|id| event.invitation_id == Some(id))
    }
}

/// What went wrong in a store call. The first group are answers about the data, each named by
/// the operation that returns it; the last three are failures of the store itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("the caller is not a member of the project")]
    NotMember,
    #[error("the caller's role is too low")]
    RoleTooLow { actual: Role },
    #[error("the project does not exist")]
    ProjectNotFound,
    #[error("the project's allow-list refuses the domain")]
    DomainNotAllowed,
    #[error("a pending invitation exists for this email")]
    DuplicatePending(PendingInvitation),
    #[error("the item already exists")]
    AlreadyExists,
    /// The quota slot the write claimed (its index among the claims) is held: try another.
    #[error("a quota slot is taken")]
    QuotaSlotTaken(usize),
    /// Another writer changed what was read: read again and retry.
    #[error("the item changed since it was read")]
    Conflict,
    /// A stored item this code cannot read: a bug or a foreign write, never retried.
    #[error("stored item is malformed: {0}")]
    Corrupt(String),
    /// The store is throttling, timing out or failing: retryable, and nothing was written.
    #[error("storage unavailable")]
    Unavailable(#[source] Cause),
    /// A request the store refused as malformed: a bug or a misconfiguration, never retried.
    #[error("storage request failed")]
    Internal(#[source] Cause),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which of a project's invitations to list: every filter given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvitationFilter {
    pub status: Option<InvitationStatus>,
    /// Any of these delivery statuses; empty, any.
    pub delivery: Vec<DeliveryStatus>,
    /// The address, normalized.
    pub email: Option<String>,
}

impl From<Option<InvitationStatus>> for InvitationFilter {
    fn from(status: Option<InvitationStatus>) -> Self {
        Self { status, ..Self::default() }
    }
}

impl From<InvitationStatus> for InvitationFilter {
    fn from(status: InvitationStatus) -> Self {
        Some(status).into()
    }
}

impl InvitationFilter {
    /// Keeps the filter's meaning in one place: Pending and Expired depend on the clock.
    pub fn matches(&self, invitation: &Invitation, now: OffsetDateTime) -> bool {
        self.status.is_none_or(|status| invitation.status_at(now) == status)
            && (self.delivery.is_empty() || self.delivery.contains(&invitation.delivery.status))
            && self.email.as_ref().is_none_or(|email| *email == invitation.email_normalized)
    }

    /// The status whose order the list takes ([`status_list_key`]): an address's few
    /// invitations come by creation whatever their status.
    fn ordering_status(&self) -> Option<InvitationStatus> {
        self.status.filter(|_| self.email.is_none())
    }

    /// Where an invitation sits in the list: its key.
    pub fn list_key(&self, invitation: &Invitation) -> String {
        match self.ordering_status() {
            Some(status) => status_list_key(invitation, status),
            None => invitation.id.to_string(),
        }
    }

    /// Whether a cursor's key has the shape of this list's keys ([`InvitationFilter::list_key`]).
    pub fn is_list_key(&self, key: &str) -> bool {
        is_invitation_list_key(key, self.ordering_status())
    }
}

/// Where an invitation sits in a list filtered by `status`. Pending and expired invitations come
/// by expiry, the soonest to lapse first: keyed so, the ones still pending and the ones expired
/// split at now, and a store reads exactly one or the other. The rest come by creation, as in
/// the unfiltered list.
pub fn status_list_key(invitation: &Invitation, status: InvitationStatus) -> String {
    match status {
        InvitationStatus::Pending | InvitationStatus::Expired => expiry_key(invitation.expires_at, invitation.id),
        _ => invitation.id.to_string(),
    }
}

/// `<expiry in epoch milliseconds, 13 digits>#<id>`: sorts as the expiries do.
pub fn expiry_key(expires_at: OffsetDateTime, id: InvitationId) -> String {
    format!("{:013}#{id}", to_millis(expires_at).max(0))
}

/// The highest key of an invitation expired at `now` ([`expiry_key`]'s order).
pub fn expired_by(now: OffsetDateTime) -> String {
    format!("{:013}#~", to_millis(now).max(0))
}

/// Whether a cursor's key has the shape of the keys of an invitation list filtered by `status`
/// ([`status_list_key`]).
fn is_invitation_list_key(key: &str, status: Option<InvitationStatus>) -> bool {
    let by_expiry = matches!(status, Some(InvitationStatus::Pending | InvitationStatus::Expired));
    let id = match key.split_once('#') {
        Some((millis, id)) if by_expiry && millis.len() == 13 && millis.bytes().all(|b| b.is_ascii_digit()) => id,
        Some(_) => return false,
        None if by_expiry => return false,
        None => key,
    };
    InvitationId::parse(id).is_ok()
}

/// The invitation id at the end of an invitation list's key.
pub fn id_of_list_key(key: &str) -> Option<InvitationId> {
    InvitationId::parse(key.rsplit('#').next()?).ok()
}

/// Every method may also fail with `Unavailable`, `Internal` or `Corrupt` (see [`StoreError`]);
/// the errors each method's documentation names are the answers it MUST give about the data.
#[async_trait]
pub trait Store: Send + Sync {
    /// Writes the project, its owner's membership, their events and the quota slots they claim
    /// together. `AlreadyExists` if the project or the membership exists, `QuotaSlotTaken` when
    /// a claimed slot is held.
    async fn create_project(
        &self,
        project: &Project,
        owner: &Membership,
        events: &[Event],
        claims: &[QuotaClaim],
    ) -> StoreResult<()>;

    /// Which slots of a quota are held at `now`, read consistently.
    async fn quota_use(&self, scope: &QuotaScope, now: OffsetDateTime) -> StoreResult<QuotaUse>;

    /// The project and `user_id`'s membership of it, read together and consistently.
    async fn project_and_membership(
        &self,
        project_id: &ProjectId,
        user_id: &UserId,
    ) -> StoreResult<(Option<Project>, Option<Membership>)>;

    /// A page of the project's members in user id order.
    async fn members(&self, project_id: &ProjectId, page: &PageRequest) -> StoreResult<Page<Membership>>;

    /// The project's members among `user_ids`, read together and consistently; absent ones left out.
    async fn members_by_id(&self, project_id: &ProjectId, user_ids: &[UserId]) -> StoreResult<Vec<Membership>>;

    /// An owner of the project other than `except`, read consistently, if there is one.
    async fn another_owner(&self, project_id: &ProjectId, except: &UserId) -> StoreResult<Option<Membership>>;

    /// Writes a member's new role (or Slack state) or removes them, with the event, only while the
    /// membership (role and Slack state), the actor's role and the remaining owner's are as read:
    /// `Conflict` otherwise.
    async fn change_member(&self, update: MemberUpdate<'_>) -> StoreResult<()>;

    /// The project's Slack integration, read consistently.
    async fn slack_integration(&self, project_id: &ProjectId) -> StoreResult<Option<SlackIntegration>>;

    /// Sets the project's Slack integration (`None`: removes it) with its event, while `owner`
    /// is still the project's owner: `Conflict` otherwise.
    async fn set_slack_integration(
        &self,
        project_id: &ProjectId,
        integration: Option<&SlackIntegration>,
        owner: &Membership,
        event: &Event,
    ) -> StoreResult<()>;

    /// A page of the user's projects with their membership of each, in project id order.
    async fn projects_of(&self, user_id: &UserId, page: &PageRequest) -> StoreResult<Page<(Project, Membership)>>;

    /// Creates `invitation` if `guard` holds and no other invitation is pending for the address;
    /// `supersedes` first retires an expired one that still holds the address. Returns
    /// `NotMember` / `RoleTooLow` when the inviter may not invite, `ProjectNotFound`,
    /// `DomainNotAllowed` for the project's own allow-list, `DuplicatePending` with the marker that
    /// holds the address, `Conflict` when `supersedes` is stale, and `QuotaSlotTaken` when a slot
    /// of `claims` is held. `event` is written with it. Nothing is written on error.
    async fn create_invitation(
        &self,
        invitation: &Invitation,
        guard: &CreateGuard,
        supersedes: Option<Transition<'_>>,
        event: &Event,
        claims: &[QuotaClaim],
    ) -> StoreResult<()>;

    /// An invitation of the project and `user_id`'s membership, read together and consistently.
    async fn invitation_and_membership(
        &self,
        project_id: &ProjectId,
        invitation_id: InvitationId,
        user_id: &UserId,
    ) -> StoreResult<(Option<Invitation>, Option<Membership>)>;

    /// An invitation and its project, read together and consistently.
    async fn invitation_and_project(
        &self,
        project_id: &ProjectId,
        invitation_id: InvitationId,
    ) -> StoreResult<(Option<Invitation>, Option<Project>)>;

    /// A page of the project's invitations that `filter` selects at `now`, in the order of
    /// [`InvitationFilter::list_key`].
    async fn invitations(
        &self,
        project_id: &ProjectId,
        filter: &InvitationFilter,
        now: OffsetDateTime,
        page: &PageRequest,
    ) -> StoreResult<Page<Invitation>>;

    /// Every pending marker for the address, read consistently.
    async fn pending_for_email(&self, email_normalized: &str) -> StoreResult<Vec<PendingInvitation>>;

    /// The pending markers of these addresses in one project, read together and consistently.
    async fn pending_in_project(
        &self,
        project_id: &ProjectId,
        emails: &[String],
    ) -> StoreResult<Vec<PendingInvitation>>;

    /// A page of the address's pending markers, in project id order.
    async fn pending_page(&self, email_normalized: &str, page: &PageRequest) -> StoreResult<Page<PendingInvitation>>;

    /// Invitations by key, read consistently, in the order of `keys`; missing ones are left out.
    /// A key the store could not read (throttled) is `Unavailable`, never left out.
    async fn invitations_by_key(&self, keys: &[InvitationKey]) -> StoreResult<Vec<Invitation>>;

    /// `user_id`'s memberships of the given projects, read consistently; absent ones left out.
    async fn memberships(&self, user_id: &UserId, project_ids: &[ProjectId]) -> StoreResult<Vec<Membership>>;

    /// [`Store::invitations_by_key`] and `user_id`'s memberships of those invitations' projects,
    /// read together. A store that can reads both in the same calls: a cold sign-up then opens one
    /// connection, and pays one TLS handshake, instead of one per read made at once.
    async fn invitations_and_memberships(
        &self,
        keys: &[InvitationKey],
        user_id: &UserId,
    ) -> StoreResult<(Vec<Invitation>, Vec<Membership>)> {
        let project_ids: Vec<_> = keys.iter().map(|(project_id, _)| project_id.clone()).collect();
        futures::try_join!(self.invitations_by_key(keys), self.memberships(user_id, &project_ids))
    }

    /// A page of the project's events, newest first.
    async fn events(
        &self,
        project_id: &ProjectId,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Event>>;

    /// Writes a transition over exactly the version that was read, keeping the marker in step,
    /// with its event and claims. `QuotaSlotTaken` when a claimed slot is held.
    /// `Conflict` when the invitation changed since; `DuplicatePending` when a new address is
    /// already held by another pending invitation of the project.
    async fn save(&self, transition: Transition<'_>) -> StoreResult<()>;

    /// Accepts: the transition to Accepted, the marker removed and the grant applied, atomically.
    async fn accept(&self, acceptance: Acceptance<'_>) -> StoreResult<()> {
        self.accept_batch(&[acceptance]).await
    }

    /// Takes `record`'s key for a new run when the record holding it is free at `now`
    /// ([`RequestRecord::is_free`]), or nothing holds it: `None`. Otherwise the record that
    /// holds it, read consistently.
    async fn begin_request(&self, record: &RequestRecord, now: OffsetDateTime) -> StoreResult<Option<RequestRecord>>;

    /// Writes a run's outcome, if this run (its token) still holds the key.
    async fn finish_request(&self, record: &RequestRecord) -> StoreResult<()>;

    /// Up to [`ACCEPT_BATCH`] acceptances of different projects' invitations, all or none:
    /// `Conflict` when any of them was stale, and then nothing was written.
    async fn accept_batch(&self, acceptances: &[Acceptance<'_>]) -> StoreResult<()>;
}
