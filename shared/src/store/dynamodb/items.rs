//! Items: the table's keys, and each domain value to and from its DynamoDB item.

use crate::cause::Cause;
use crate::domain::idempotency::{KeptResponse, RequestRecord, RequestState};
use crate::domain::slack::{SlackIntegration, SlackMode, SlackState, SlackStatus};
use crate::domain::timestamp::{from_millis, to_millis};
use crate::domain::{
    Actor, Changes, Delivery, DeliveryStatus, DomainAllowList, Event, EventType, Invitation, InvitationId,
    InvitationRecord, InvitationStatus, Membership, Project, ProjectId, ProjectName, QuotaClaim, QuotaScope, Role,
    UserId,
};
use crate::store::{status_list_key, PendingInvitation, StoreError, StoreResult};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::str::FromStr;
use time::serde::timestamp::milliseconds_i64 as millis;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub(super) type Item = HashMap<String, AttributeValue>;

/// A secondary index of the table: keys only (a page read from one fetches its items by key),
/// each overloaded by the kinds of item that set its keys (see `store`'s access patterns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// Invitations by status, events by type.
    Gsi1,
    /// Invitations by delivery status, events by invitation.
    Gsi2,
    /// Invitations by address, events by invitation and type.
    Gsi3,
    /// Invitations by status and delivery status.
    Gsi4,
}

impl Index {
    pub const ALL: [Index; 4] = [Index::Gsi1, Index::Gsi2, Index::Gsi3, Index::Gsi4];

    pub fn name(self) -> &'static str {
        match self {
            Index::Gsi1 => "GSI1",
            Index::Gsi2 => "GSI2",
            Index::Gsi3 => "GSI3",
            Index::Gsi4 => "GSI4",
        }
    }

    pub fn pk(self) -> &'static str {
        match self {
            Index::Gsi1 => "GSI1PK",
            Index::Gsi2 => "GSI2PK",
            Index::Gsi3 => "GSI3PK",
            Index::Gsi4 => "GSI4PK",
        }
    }

    pub fn sk(self) -> &'static str {
        match self {
            Index::Gsi1 => "GSI1SK",
            Index::Gsi2 => "GSI2SK",
            Index::Gsi3 => "GSI3SK",
            Index::Gsi4 => "GSI4SK",
        }
    }

    fn set(self, item: &mut Item, pk: String, sk: String) {
        item.insert(self.pk().to_owned(), s(pk));
        item.insert(self.sk().to_owned(), s(sk));
    }
}

/// The table key of an item read from an index.
pub(super) fn table_key(item: &Item) -> StoreResult<Item> {
    let part = |name: &str| {
        let value =
            item.get(name).cloned().ok_or_else(|| StoreError::Corrupt(format!("an index item without {name}")))?;
        Ok((name.to_owned(), value))
    };
    Ok(Item::from([part("PK")?, part("SK")?]))
}

/// The cursor after an item read from `index`: its index sort key without the partition's prefix.
pub(super) fn index_cursor(item: &Item, index: Index, prefix: &str) -> StoreResult<crate::domain::Cursor> {
    let sort_key = Fields(item).s(index.sk())?;
    let after = sort_key.strip_prefix(prefix).ok_or_else(|| StoreError::Corrupt(format!("bad {}", index.sk())))?;
    Ok(crate::domain::Cursor { after: after.to_owned() })
}

/// The index partition of a project's invitations with `status`, and the prefix of its sort
/// keys: stored pending and expired ones together, by expiry; the others each by creation.
pub(super) fn status_partition(project_id: &ProjectId, status: InvitationStatus) -> (String, &'static str) {
    match status {
        InvitationStatus::Pending | InvitationStatus::Expired => (format!("PROJECT#{project_id}#EXPIRING"), "EXPIRES#"),
        other => (format!("PROJECT#{project_id}#STATUS#{}", other.code()), "INVITATION#"),
    }
}

/// The index partition (`GSI2`) of a project's invitations whose email is in `delivery`.
pub(super) fn delivery_partition(project_id: &ProjectId, delivery: DeliveryStatus) -> String {
    format!("PROJECT#{project_id}#DELIVERY#{}", delivery.as_str())
}

/// The index partition (`GSI4`) of a project's invitations of a status whose email is in
/// `delivery`: the status's partition ([`status_partition`]), split by delivery status.
pub(super) fn status_delivery_partition(
    project_id: &ProjectId,
    status: InvitationStatus,
    delivery: DeliveryStatus,
) -> (String, &'static str) {
    let (partition, prefix) = status_partition(project_id, status);
    (format!("{partition}#DELIVERY#{}", delivery.as_str()), prefix)
}

/// The index partition (`GSI3`) of a project's invitations to an address.
pub(super) fn email_partition(project_id: &ProjectId, email_normalized: &str) -> String {
    format!("PROJECT#{project_id}#EMAIL#{email_normalized}")
}

/// The index partition of a project's events of a type, of an invitation, or both.
pub(super) fn event_partition(
    project_id: &ProjectId,
    kind: Option<EventType>,
    invitation_id: Option<InvitationId>,
) -> Option<(Index, String)> {
    match (kind, invitation_id) {
        (None, None) => None,
        (Some(kind), None) => Some((Index::Gsi1, format!("PROJECT#{project_id}#TYPE#{}", kind.as_str()))),
        (None, Some(id)) => Some((Index::Gsi2, format!("PROJECT#{project_id}#INVITATION#{id}"))),
        (Some(kind), Some(id)) => {
            Some((Index::Gsi3, format!("PROJECT#{project_id}#INVITATION#{id}#TYPE#{}", kind.as_str())))
        }
    }
}

/// Finished invitations (revoked, declined, expired) are cleaned up this long after they expire.
const FINISHED_RETENTION: Duration = Duration::days(365);
/// A pending marker is cleaned up this long after its invitation expired (a resend renews it): an
/// address targeted by many forgotten invitations does not keep them forever.
const MARKER_RETENTION: Duration = crate::domain::quota::ADDRESS_HOLD_AFTER_EXPIRY;

pub(super) fn key(pk: String, sk: String) -> Item {
    HashMap::from([("PK".to_owned(), s(pk)), ("SK".to_owned(), s(sk))])
}

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(super) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(super) fn ts(t: OffsetDateTime) -> AttributeValue {
    n(to_millis(t))
}

pub(super) fn project_pk(project_id: &ProjectId) -> String {
    format!("PROJECT#{project_id}")
}

pub(super) fn member_key(project_id: &ProjectId, user_id: &UserId) -> Item {
    key(project_pk(project_id), format!("MEMBER#{user_id}"))
}

pub(super) fn project_key(project_id: &ProjectId) -> Item {
    key(project_pk(project_id), "PROJECT".to_owned())
}

pub(super) fn invitation_key(project_id: &ProjectId, id: InvitationId) -> Item {
    key(project_pk(project_id), format!("INVITATION#{id}"))
}

pub(super) fn marker_key(invitation: &Invitation) -> Item {
    key(format!("INVITEE#{}", invitation.email_normalized), project_pk(&invitation.project_id))
}

pub(super) fn invitee_pk(email_normalized: &str) -> String {
    format!("INVITEE#{email_normalized}")
}

/// Sets `key` when `value` is present: absent attributes stay absent.
fn set_opt(item: &mut Item, key: &str, value: Option<AttributeValue>) {
    if let Some(v) = value {
        item.insert(key.to_owned(), v);
    }
}

pub(super) fn project_item(p: &Project) -> Item {
    let mut item = project_key(&p.id);
    item.extend([
        ("kind".to_owned(), s("project")),
        ("id".to_owned(), s(p.id.as_str())),
        ("name".to_owned(), s(p.name.as_str())),
        ("owner".to_owned(), s(p.owner.as_str())),
        ("created_at".to_owned(), ts(p.created_at)),
    ]);
    let domains = p.allowed_email_domains.patterns();
    set_opt(&mut item, "allowed_domains", (!domains.is_empty()).then(|| AttributeValue::Ss(domains.to_vec())));
    item
}

pub(super) fn member_item(m: &Membership) -> Item {
    let mut item = member_key(&m.project_id, &m.user_id);
    item.extend([
        ("kind".to_owned(), s("member")),
        ("project_id".to_owned(), s(m.project_id.as_str())),
        ("user_id".to_owned(), s(m.user_id.as_str())),
        ("role".to_owned(), s(m.role.as_str())),
        ("rank".to_owned(), n(m.role.rank())),
        ("joined_at".to_owned(), ts(m.joined_at)),
    ]);
    set_opt(&mut item, "email", m.email.clone().map(s));
    if let Some(slack) = &m.slack {
        item.insert("slack_status".to_owned(), s(slack.status.as_str()));
        item.insert("slack_updated_at".to_owned(), ts(slack.updated_at));
        set_opt(&mut item, "slack_error", slack.error.clone().map(s));
        set_opt(&mut item, "slack_lease_until", slack.lease_until.map(ts));
    }
    Index::Gsi1.set(&mut item, user_projects_partition(&m.user_id), format!("PROJECT#{}", m.project_id));
    item
}

/// The index partition (`GSI1`) of a user's memberships, by project id.
pub(super) fn user_projects_partition(user_id: &UserId) -> String {
    format!("USER#{user_id}#PROJECTS")
}

/// What of an invitation no key, condition or filter reads, packed into one `doc` attribute (JSON):
/// a list page deserializes five attributes per item instead of twenty-odd. `status`, `version`
/// and `expires_at` stay attributes because conditions and the status filter read them. The JSON
/// is stored as binary: DynamoDB's wire format would escape every quote of a string attribute,
/// and unescaping a page of them cost a tenth of the list's CPU; base64 decodes in a fraction.
/// Absent values are left out rather than written `null` (a fifth of a pending invitation's
/// document): less to store, send and decode; documents written with them still read.
#[derive(Serialize, Deserialize)]
struct InvitationDoc {
    id: Uuid,
    project_id: String,
    email: String,
    email_normalized: String,
    role: Role,
    invited_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    invited_by_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    accepted_by: Option<String>,
    #[serde(with = "millis")]
    created_at: OffsetDateTime,
    #[serde(default, with = "millis::option", skip_serializing_if = "Option::is_none")]
    accepted_at: Option<OffsetDateTime>,
    #[serde(default, with = "millis::option", skip_serializing_if = "Option::is_none")]
    resent_at: Option<OffsetDateTime>,
    #[serde(default, with = "millis::option", skip_serializing_if = "Option::is_none")]
    revoked_at: Option<OffsetDateTime>,
    #[serde(default, with = "millis::option", skip_serializing_if = "Option::is_none")]
    declined_at: Option<OffsetDateTime>,
    delivery_status: DeliveryStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delivery_reason: Option<String>,
    #[serde(with = "millis")]
    delivery_updated_at: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message_id: Option<String>,
    #[serde(default, with = "millis::option", skip_serializing_if = "Option::is_none")]
    lease_until: Option<OffsetDateTime>,
    send_count: u32,
    send_id: Uuid,
    #[serde(with = "millis")]
    send_requested_at: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address_slot: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

pub(super) fn invitation_item(i: &Invitation) -> StoreResult<Item> {
    let doc = InvitationDoc {
        id: i.id.as_uuid(),
        project_id: i.project_id.to_string(),
        email: i.email.clone(),
        email_normalized: i.email_normalized.clone(),
        role: i.role,
        invited_by: i.invited_by.to_string(),
        invited_by_email: i.invited_by_email.clone(),
        accepted_by: i.accepted_by.as_ref().map(ToString::to_string),
        created_at: i.created_at,
        accepted_at: i.accepted_at,
        resent_at: i.resent_at,
        revoked_at: i.revoked_at,
        declined_at: i.declined_at,
        delivery_status: i.delivery.status,
        delivery_reason: i.delivery.reason.clone(),
        delivery_updated_at: i.delivery.updated_at,
        message_id: i.delivery.message_id.clone(),
        lease_until: i.delivery.lease_until,
        send_count: i.send_count,
        send_id: i.send_id,
        send_requested_at: i.send_requested_at,
        address_slot: i.address_slot,
        message: i.message.clone(),
    };
    let doc = serde_json::to_vec(&doc).map_err(|err| StoreError::Internal(crate::cause::Cause::new(err)))?;
    let mut item = invitation_key(&i.project_id, i.id);
    item.extend([
        ("kind".to_owned(), s("invitation")),
        ("status".to_owned(), n(i.status.code())),
        ("version".to_owned(), n(i.version)),
        ("expires_at".to_owned(), ts(i.expires_at)),
        ("doc".to_owned(), AttributeValue::B(Blob::new(doc))),
    ]);
    let (partition, prefix) = status_partition(&i.project_id, i.status);
    let by_status = format!("{prefix}{}", status_list_key(i, i.status));
    let by_creation = format!("INVITATION#{}", i.id);
    Index::Gsi1.set(&mut item, partition, by_status.clone());
    Index::Gsi2.set(&mut item, delivery_partition(&i.project_id, i.delivery.status), by_creation.clone());
    Index::Gsi3.set(&mut item, email_partition(&i.project_id, &i.email_normalized), by_creation);
    let (partition, _) = status_delivery_partition(&i.project_id, i.status, i.delivery.status);
    Index::Gsi4.set(&mut item, partition, by_status);
    let finished =
        matches!(i.status, InvitationStatus::Revoked | InvitationStatus::Declined | InvitationStatus::Expired);
    // DynamoDB's TTL wants epoch seconds.
    set_opt(&mut item, "ttl", finished.then(|| n((i.expires_at + FINISHED_RETENTION).unix_timestamp())));
    Ok(item)
}

pub(super) fn marker_item(i: &Invitation) -> Item {
    let mut item = marker_key(i);
    item.extend([
        ("kind".to_owned(), s("pending")),
        ("email_normalized".to_owned(), s(i.email_normalized.clone())),
        ("project_id".to_owned(), s(i.project_id.as_str())),
        ("invitation_id".to_owned(), s(i.id.to_string())),
        ("role".to_owned(), s(i.role.as_str())),
        ("expires_at".to_owned(), ts(i.expires_at)),
        // DynamoDB's TTL wants epoch seconds.
        ("ttl".to_owned(), n((i.expires_at + MARKER_RETENTION).unix_timestamp())),
    ]);
    item
}

/// Typed reads from an item, naming the attribute when it is missing or malformed.
struct Fields<'a>(&'a Item);

impl Fields<'_> {
    fn opt_s(&self, key: &str) -> Option<String> {
        self.0.get(key).and_then(|v| v.as_s().ok()).cloned()
    }
    fn s(&self, key: &str) -> StoreResult<String> {
        self.opt_s(key).ok_or_else(|| StoreError::Corrupt(format!("missing {key}")))
    }
    fn parse<T: FromStr>(&self, key: &str) -> StoreResult<T> {
        self.s(key)?.parse().map_err(|_| StoreError::Corrupt(format!("bad {key}")))
    }
    fn opt_n<T: FromStr>(&self, key: &str) -> StoreResult<Option<T>> {
        match self.0.get(key).map(|v| v.as_n()) {
            None => Ok(None),
            Some(Ok(raw)) => raw.parse().map(Some).map_err(|_| StoreError::Corrupt(format!("bad {key}"))),
            Some(Err(_)) => Err(StoreError::Corrupt(format!("bad {key}"))),
        }
    }
    fn n<T: FromStr>(&self, key: &str) -> StoreResult<T> {
        self.opt_n(key)?.ok_or_else(|| StoreError::Corrupt(format!("missing {key}")))
    }
    fn opt_time(&self, key: &str) -> StoreResult<Option<OffsetDateTime>> {
        match self.opt_n::<i64>(key)? {
            None => Ok(None),
            Some(ms) => from_millis(ms).map(Some).ok_or_else(|| StoreError::Corrupt(format!("bad {key}"))),
        }
    }
    fn time(&self, key: &str) -> StoreResult<OffsetDateTime> {
        self.opt_time(key)?.ok_or_else(|| StoreError::Corrupt(format!("missing {key}")))
    }
    fn id<T, E>(&self, key: &str, parse: fn(&str) -> Result<T, E>) -> StoreResult<T> {
        parse(&self.s(key)?).map_err(|_| StoreError::Corrupt(format!("bad {key}")))
    }
}

pub(super) fn sort_key(item: &Item) -> &str {
    item.get("SK").and_then(|v| v.as_s().ok()).map_or("", String::as_str)
}

pub(super) fn project_from(item: &Item) -> StoreResult<Project> {
    let f = Fields(item);
    let domains = item.get("allowed_domains").and_then(|v| v.as_ss().ok()).cloned().unwrap_or_default();
    Ok(Project {
        id: f.id("id", ProjectId::parse)?,
        name: ProjectName::parse(&f.s("name")?).map_err(|_| StoreError::Corrupt("bad name".into()))?,
        owner: f.id("owner", UserId::parse)?,
        created_at: f.time("created_at")?,
        allowed_email_domains: DomainAllowList::new(domains).map_err(|e| StoreError::Corrupt(e.to_string()))?,
    })
}

pub(super) fn member_from(item: &Item) -> StoreResult<Membership> {
    let f = Fields(item);
    Ok(Membership {
        project_id: f.id("project_id", ProjectId::parse)?,
        user_id: f.id("user_id", UserId::parse)?,
        email: f.opt_s("email"),
        role: f.parse("role")?,
        joined_at: f.time("joined_at")?,
        slack: match f.opt_s("slack_status") {
            Some(status) => Some(SlackState {
                status: SlackStatus::parse(&status).ok_or_else(|| StoreError::Corrupt("bad slack_status".into()))?,
                error: f.opt_s("slack_error"),
                updated_at: f.time("slack_updated_at")?,
                lease_until: f.opt_time("slack_lease_until")?,
            }),
            None => None,
        },
    })
}

/// The attributes [`invitation_from`] reads: a list leaves the keys and the rest behind.
pub(super) const INVITATION_FIELDS: &[&str] = &["status", "version", "expires_at", "doc"];

pub(super) fn invitation_from(item: &Item) -> StoreResult<Invitation> {
    let f = Fields(item);
    let status = InvitationStatus::from_code(f.n("status")?).ok_or_else(|| StoreError::Corrupt("bad status".into()))?;
    let doc = item.get("doc").and_then(|v| v.as_b().ok()).ok_or_else(|| StoreError::Corrupt("missing doc".into()))?;
    // UTF-8 checked once for the whole document: `from_slice` would check each string in it.
    let doc = std::str::from_utf8(doc.as_ref()).map_err(|_| StoreError::Corrupt("bad doc: not UTF-8".into()))?;
    let doc: InvitationDoc = serde_json::from_str(doc).map_err(|err| StoreError::Corrupt(format!("bad doc: {err}")))?;
    Ok(Invitation::restore(InvitationRecord {
        id: InvitationId::from(doc.id),
        project_id: ProjectId::parse(&doc.project_id).map_err(|_| StoreError::Corrupt("bad project_id".into()))?,
        email: doc.email,
        email_normalized: doc.email_normalized,
        role: doc.role,
        status,
        invited_by: UserId::parse(&doc.invited_by).map_err(|_| StoreError::Corrupt("bad invited_by".into()))?,
        invited_by_email: doc.invited_by_email,
        accepted_by: doc
            .accepted_by
            .map(|raw| UserId::parse(&raw))
            .transpose()
            .map_err(|_| StoreError::Corrupt("bad accepted_by".into()))?,
        created_at: doc.created_at,
        accepted_at: doc.accepted_at,
        resent_at: doc.resent_at,
        revoked_at: doc.revoked_at,
        declined_at: doc.declined_at,
        expires_at: f.time("expires_at")?,
        delivery: Delivery {
            status: doc.delivery_status,
            reason: doc.delivery_reason,
            updated_at: doc.delivery_updated_at,
            message_id: doc.message_id,
            lease_until: doc.lease_until,
        },
        send_count: doc.send_count,
        send_id: doc.send_id,
        send_requested_at: doc.send_requested_at,
        address_slot: doc.address_slot,
        message: doc.message,
        version: f.n("version")?,
    }))
}

pub(super) fn marker_from(item: &Item) -> StoreResult<PendingInvitation> {
    let f = Fields(item);
    Ok(PendingInvitation {
        email_normalized: f.s("email_normalized")?,
        project_id: f.id("project_id", ProjectId::parse)?,
        invitation_id: f.id("invitation_id", InvitationId::parse)?,
        role: f.parse("role")?,
        expires_at: f.time("expires_at")?,
    })
}

pub(super) fn event_key(project_id: &ProjectId, id: Uuid) -> Item {
    key(project_pk(project_id), format!("EVENT#{id}"))
}

/// An event as an item. Every attribute the events pipe's input template names is always
/// written (empty when it does not apply): the template is filled from these. `send_id` is
/// written only when the event asks for an email: the email pipe's filter selects on it.
pub fn event_item(event: &Event, retention: Duration) -> Item {
    let text = |value: Option<String>| s(value.unwrap_or_default());
    let changes = &event.changes;
    let mut item = event_key(&event.project_id, event.id);
    item.extend([
        ("kind".to_owned(), s("event")),
        ("event_id".to_owned(), s(event.id.to_string())),
        ("type".to_owned(), s(event.kind.as_str())),
        ("project_id".to_owned(), s(event.project_id.as_str())),
        ("invitation_id".to_owned(), text(event.invitation_id.map(|id| id.to_string()))),
        ("actor".to_owned(), s(event.actor.to_string())),
        ("at".to_owned(), ts(event.at)),
        ("time".to_owned(), text(event.at.format(&time::format_description::well_known::Rfc3339).ok())),
        ("email".to_owned(), text(changes.email.clone())),
        ("role".to_owned(), text(changes.role.map(|r| r.as_str().to_owned()))),
        ("status".to_owned(), text(changes.status.map(|s| s.name().to_owned()))),
        ("delivery_status".to_owned(), text(changes.delivery_status.map(|d| d.as_str().to_owned()))),
        ("reason".to_owned(), text(changes.reason.clone())),
        ("member_id".to_owned(), text(changes.member_id.as_ref().map(ToString::to_string))),
        // DynamoDB's TTL wants epoch seconds.
        ("ttl".to_owned(), n((event.at + retention).unix_timestamp())),
    ]);
    set_opt(&mut item, "send_id", changes.send_id.map(|id| s(id.to_string())));
    let sort_key = format!("EVENT#{}", event.id);
    let mut partitions = vec![(Some(event.kind), None)];
    if let Some(id) = event.invitation_id {
        partitions.extend([(None, Some(id)), (Some(event.kind), Some(id))]);
    }
    for (kind, invitation) in partitions {
        if let Some((index, partition)) = event_partition(&event.project_id, kind, invitation) {
            index.set(&mut item, partition, sort_key.clone());
        }
    }
    item
}

pub(super) fn event_from(item: &Item) -> StoreResult<Event> {
    let f = Fields(item);
    let bad = |what: &str| StoreError::Corrupt(format!("bad event {what}"));
    let some = |key: &str| f.opt_s(key).filter(|value| !value.is_empty());
    let actor = match f.s("actor")?.as_str() {
        "system" => Actor::System,
        user => Actor::User(UserId::parse(user).map_err(|_| bad("actor"))?),
    };
    Ok(Event {
        id: f.parse("event_id")?,
        kind: f.s("type")?.parse::<EventType>().map_err(|_| bad("type"))?,
        project_id: f.id("project_id", ProjectId::parse)?,
        invitation_id: some("invitation_id")
            .map(|id| InvitationId::parse(&id))
            .transpose()
            .map_err(|_| bad("invitation_id"))?,
        actor,
        at: f.time("at")?,
        changes: Changes {
            email: some("email"),
            role: some("role").map(|r| r.parse::<Role>()).transpose().map_err(|_| bad("role"))?,
            status: some("status").map(|s| InvitationStatus::from_name(&s).ok_or_else(|| bad("status"))).transpose()?,
            delivery_status: some("delivery_status")
                .map(|d| DeliveryStatus::parse(&d).ok_or_else(|| bad("delivery_status")))
                .transpose()?,
            reason: some("reason"),
            member_id: some("member_id").map(|m| UserId::parse(&m)).transpose().map_err(|_| bad("member_id"))?,
            send_id: some("send_id").map(|id| id.parse::<Uuid>()).transpose().map_err(|_| bad("send_id"))?,
        },
    })
}

pub(super) fn quota_pk(scope: &QuotaScope) -> String {
    format!("QUOTA#{}", scope.key())
}

pub(super) fn quota_slot_key(scope: &QuotaScope, slot: u32) -> Item {
    key(quota_pk(scope), format!("SLOT#{slot:05}"))
}

/// A quota slot, held until `until` (and cleaned up by the TTL after it).
pub(super) fn quota_slot_item(claim: &QuotaClaim) -> Item {
    let mut item = quota_slot_key(&claim.scope, claim.slot);
    item.extend([
        ("kind".to_owned(), s("quota")),
        ("slot".to_owned(), n(claim.slot)),
        ("until".to_owned(), ts(claim.until)),
        ("holder".to_owned(), s(claim.holder.clone())),
        ("ttl".to_owned(), n(claim.until.unix_timestamp())),
    ]);
    item
}

/// The slot number and the end of its hold.
pub(super) fn quota_slot_from(item: &Item) -> StoreResult<(u32, OffsetDateTime)> {
    let f = Fields(item);
    Ok((f.n("slot")?, f.time("until")?))
}

pub(super) fn request_key(scope: &str) -> Item {
    key(format!("REQUEST#{scope}"), "REQUEST".to_owned())
}

/// A keyed request's record; the kept answer's headers as JSON pairs.
pub(super) fn request_item(record: &RequestRecord) -> StoreResult<Item> {
    let mut item = request_key(&record.scope);
    item.extend([
        ("kind".to_owned(), s("request")),
        ("fingerprint".to_owned(), s(record.fingerprint.clone())),
        ("token".to_owned(), s(record.token.to_string())),
        ("expires_at".to_owned(), ts(record.expires_at)),
        // DynamoDB's TTL wants epoch seconds.
        ("ttl".to_owned(), n(record.expires_at.unix_timestamp())),
    ]);
    let state = match &record.state {
        RequestState::Running { lease_until } => {
            item.insert("lease_until".to_owned(), ts(*lease_until));
            "running"
        }
        RequestState::Done(kept) => {
            let headers = serde_json::to_string(&kept.headers).map_err(|err| StoreError::Internal(Cause::new(err)))?;
            item.extend([
                ("status".to_owned(), n(kept.status)),
                ("headers".to_owned(), s(headers)),
                ("body".to_owned(), s(kept.body.clone())),
            ]);
            "done"
        }
        RequestState::Released => "released",
    };
    item.insert("state".to_owned(), s(state));
    Ok(item)
}

pub(super) fn request_from(item: &Item) -> StoreResult<RequestRecord> {
    let f = Fields(item);
    let pk = f.s("PK")?;
    let scope = pk.strip_prefix("REQUEST#").ok_or_else(|| StoreError::Corrupt("bad request key".into()))?;
    let state = match f.s("state")?.as_str() {
        "running" => RequestState::Running { lease_until: f.time("lease_until")? },
        "done" => RequestState::Done(KeptResponse {
            status: f.n("status")?,
            headers: serde_json::from_str(&f.s("headers")?).map_err(|_| StoreError::Corrupt("bad headers".into()))?,
            body: f.s("body")?,
        }),
        "released" => RequestState::Released,
        _ => return Err(StoreError::Corrupt("bad state".into())),
    };
    Ok(RequestRecord {
        scope: scope.to_owned(),
        fingerprint: f.s("fingerprint")?,
        token: f.parse("token")?,
        state,
        expires_at: f.time("expires_at")?,
    })
}

pub(super) fn slack_key(project_id: &ProjectId) -> Item {
    key(project_pk(project_id), "INTEGRATION#SLACK".to_owned())
}

pub(super) fn slack_item(integration: &SlackIntegration) -> Item {
    let mut item = slack_key(&integration.project_id);
    item.extend([
        ("kind".to_owned(), s("slack_integration")),
        ("project_id".to_owned(), s(integration.project_id.as_str())),
        ("mode".to_owned(), s(integration.mode.as_str())),
        ("token_secret_arn".to_owned(), s(integration.token_secret_arn.clone())),
        ("updated_by".to_owned(), s(integration.updated_by.as_str())),
        ("updated_at".to_owned(), ts(integration.updated_at)),
        ("channel_ids".to_owned(), AttributeValue::L(integration.channel_ids.iter().cloned().map(s).collect())),
    ]);
    set_opt(&mut item, "team_id", integration.team_id.clone().map(s));
    item
}

pub(super) fn slack_from(item: &Item) -> StoreResult<SlackIntegration> {
    let f = Fields(item);
    let channel_ids = item
        .get("channel_ids")
        .and_then(|v| v.as_l().ok())
        .map(|list| list.iter().filter_map(|v| v.as_s().ok().cloned()).collect())
        .unwrap_or_default();
    Ok(SlackIntegration {
        project_id: f.id("project_id", ProjectId::parse)?,
        mode: f.parse::<SlackMode>("mode")?,
        team_id: f.opt_s("team_id"),
        channel_ids,
        token_secret_arn: f.s("token_secret_arn")?,
        updated_by: f.id("updated_by", UserId::parse)?,
        updated_at: f.time("updated_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Email, Inviter, NewInvitation, Policy, Role};

    #[test]
    fn a_document_leaves_absent_values_out_and_one_written_with_nulls_still_reads() {
        let new = NewInvitation::new(Email::parse("jane@example.com").unwrap(), Role::Editor);
        let inviter = Inviter { user_id: UserId::parse("owner").unwrap(), email: None };
        let now = time::macros::datetime!(2026-12-02 12:00 UTC);
        let invitation = Invitation::new(ProjectId::parse("p1").unwrap(), &new, &inviter, now, &Policy::default());
        let mut item = invitation_item(&invitation).unwrap();
        let doc = item["doc"].as_b().unwrap().as_ref().to_vec();
        let mut doc: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&doc).unwrap();
        assert!(doc.values().all(|value| !value.is_null()), "{doc:?}");
        assert!(!doc.contains_key("accepted_at"));
        assert_eq!(invitation_from(&item).unwrap(), invitation);
        // As documents were written before: every absent value a `null`.
        let absent = [
            "invited_by_email",
            "accepted_by",
            "accepted_at",
            "resent_at",
            "revoked_at",
            "declined_at",
            "delivery_reason",
            "message_id",
            "lease_until",
        ];
        doc.extend(absent.map(|name| (name.to_owned(), serde_json::Value::Null)));
        item.insert("doc".to_owned(), AttributeValue::B(Blob::new(serde_json::to_vec(&doc).unwrap())));
        assert_eq!(invitation_from(&item).unwrap(), invitation);
    }
}
