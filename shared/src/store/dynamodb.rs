//! The DynamoDB store: the access patterns in `store/mod.rs`, each rule a key or a condition.

use super::*;
use crate::clock::{from_millis, to_millis};
use crate::email::DomainAllowList;
use crate::invitation::{Delivery, DeliveryStatus};
use crate::page::Cursor;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, KeySchemaElement, KeyType,
    KeysAndAttributes, Put, ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;
use time::serde::timestamp::milliseconds_i64 as millis;
use time::Duration as Span;

type Item = HashMap<String, AttributeValue>;

/// Finished invitations (revoked, declined, expired) are cleaned up this long after they expire.
const FINISHED_RETENTION: Span = Span::days(365);
const TRANSACTION_CONFLICT_RETRIES: u32 = 8;

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// Creates the table (for tests and the local run; deployments use `template.yaml`).
    pub async fn create_table(&self) -> StoreResult<()> {
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(unavailable)
        };
        let key = |name: &str, kind| {
            KeySchemaElement::builder().attribute_name(name).key_type(kind).build().map_err(unavailable)
        };
        self.client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute("PK")?)
            .attribute_definitions(attribute("SK")?)
            .key_schema(key("PK", KeyType::Hash)?)
            .key_schema(key("SK", KeyType::Range)?)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    fn key(pk: String, sk: String) -> Item {
        HashMap::from([("PK".to_owned(), s(pk)), ("SK".to_owned(), s(sk))])
    }

    async fn batch_get(&self, keys: Vec<Item>) -> StoreResult<Vec<Item>> {
        let mut found = Vec::new();
        for chunk in keys.chunks(100) {
            let mut pending = KeysAndAttributes::builder()
                .set_keys(Some(chunk.to_vec()))
                .consistent_read(true)
                .build()
                .map_err(unavailable)?;
            for attempt in 0..10u32 {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, pending.clone())
                    .send()
                    .await
                    .map_err(unavailable)?;
                if let Some(items) = out.responses.and_then(|mut r| r.remove(&self.table)) {
                    found.extend(items);
                }
                match out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)) {
                    Some(rest) if !rest.keys.is_empty() => pending = rest,
                    _ => break,
                }
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
        Ok(found)
    }

    /// Reads one page of a partition in sort-key order, applying an optional filter, fetching
    /// `limit + 1` matches to know whether more follow. Only the `projection` attributes are
    /// read, all of them when it is empty.
    async fn query_page(
        &self,
        pk: String,
        sk_prefix: &str,
        after: Option<&Cursor>,
        filter: Option<Filter>,
        projection: &[&str],
        limit: usize,
    ) -> StoreResult<(Vec<Item>, bool)> {
        let mut start = after.map(|c| Self::key(pk.clone(), format!("{sk_prefix}{}", c.after)));
        let mut items = Vec::new();
        loop {
            let mut names = HashMap::from([("#pk".to_owned(), "PK".to_owned()), ("#sk".to_owned(), "SK".to_owned())]);
            let mut values = HashMap::from([(":pk".to_owned(), s(pk.clone())), (":prefix".to_owned(), s(sk_prefix))]);
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .limit((limit + 1 - items.len()).max(1) as i32 * if filter.is_some() { 4 } else { 1 })
                .set_exclusive_start_key(start.take());
            if let Some(filter) = &filter {
                names.extend(filter.names.clone());
                values.extend(filter.values.clone());
                query = query.filter_expression(&filter.expression);
            }
            if !projection.is_empty() {
                names.extend(projection.iter().map(|name| (format!("#_{name}"), (*name).to_owned())));
                let expression = projection.iter().map(|name| format!("#_{name}")).collect::<Vec<_>>().join(", ");
                query = query.projection_expression(expression);
            }
            let out = query
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .send()
                .await
                .map_err(unavailable)?;
            items.extend(out.items.unwrap_or_default());
            if items.len() > limit {
                items.truncate(limit);
                return Ok((items, true));
            }
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok((items, false)),
            }
        }
    }

    /// Runs a transaction, retrying while it only lost a race with another transaction. On a
    /// failed condition it returns, per item, whether that item's condition failed and the item
    /// as stored (for items asking for it).
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), Cancelled> {
        for attempt in 0..=TRANSACTION_CONFLICT_RETRIES {
            let result = self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await;
            let err = match result {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            match err {
                SdkError::ServiceError(service) => match service.into_err() {
                    TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                        let reasons = cancelled.cancellation_reasons.unwrap_or_default();
                        let failed: Vec<(bool, Option<Item>)> = reasons
                            .iter()
                            .map(|r| (r.code() == Some("ConditionalCheckFailed"), r.item.clone()))
                            .collect();
                        if failed.iter().any(|(f, _)| *f) {
                            return Err(Cancelled::Conditions(failed));
                        }
                        let conflict = reasons.iter().any(|r| r.code() == Some("TransactionConflict"));
                        if !conflict {
                            return Err(Cancelled::Other(StoreError::Unavailable(format!(
                                "transaction cancelled: {:?}",
                                reasons.iter().map(|r| r.code().unwrap_or("")).collect::<Vec<_>>()
                            ))));
                        }
                    }
                    other => return Err(Cancelled::Other(unavailable(other))),
                },
                other => return Err(Cancelled::Other(unavailable(other))),
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
        Err(Cancelled::Other(StoreError::Unavailable("transaction kept conflicting".into())))
    }

    fn put(&self, item: Item, condition: Option<Condition>) -> StoreResult<TransactWriteItem> {
        let mut put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if let Some(c) = condition {
            put = put
                .condition_expression(c.expression)
                .set_expression_attribute_names(c.names)
                .set_expression_attribute_values(c.values);
        }
        Ok(TransactWriteItem::builder().put(put.build().map_err(unavailable)?).build())
    }

    fn delete(&self, key: Item, c: Condition) -> StoreResult<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(c.expression)
            .set_expression_attribute_names(c.names)
            .set_expression_attribute_values(c.values)
            .build()
            .map_err(unavailable)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    fn check(&self, key: Item, c: Condition) -> StoreResult<TransactWriteItem> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(c.expression)
            .set_expression_attribute_names(c.names)
            .set_expression_attribute_values(c.values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(unavailable)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// The writes that move an invitation from one state to the next, marker included.
    /// The invitation's own write is always first.
    fn transition_items(&self, Transition { from, to }: Transition<'_>) -> StoreResult<Vec<TransactWriteItem>> {
        let mut items = vec![self.put(
            invitation_item(to),
            Some(Condition::new("#version = :version").name("#version", "version").value(":version", n(from.version))),
        )?];
        let points_to_from = || Condition::new("invitation_id = :id").value(":id", s(from.id.to_string()));
        let moved = to.email_normalized != from.email_normalized;
        match (from.is_pending(), to.is_pending()) {
            (true, false) => items.push(self.delete(marker_key(from), points_to_from())?),
            (true, true) if moved => {
                items.push(self.delete(marker_key(from), points_to_from())?);
                items.push(self.put(marker_item(to), Some(Condition::new("attribute_not_exists(PK)")))?);
            }
            (true, true) if PendingInvitation::of(from) != PendingInvitation::of(to) => {
                items.push(self.put(marker_item(to), Some(points_to_from()))?);
            }
            _ => {}
        }
        Ok(items)
    }

    /// The membership side of an acceptance: written if absent or unchanged since it was read, or
    /// checked to still hold the higher role that is kept.
    fn grant_item(&self, accepted: &Invitation, grant: &Grant) -> StoreResult<TransactWriteItem> {
        let user = accepted.accepted_by.as_deref().unwrap_or_default();
        let rank = |placeholder: &str, role: Role| {
            Condition::new(format!("#rank {placeholder} :rank")).name("#rank", "rank").value(":rank", n(role.rank()))
        };
        match grant {
            Grant::Keep { existing } => self.check(member_key(&accepted.project_id, user), rank(">=", *existing)),
            Grant::Write { membership, replaces: None } => {
                self.put(member_item(membership), Some(Condition::new("attribute_not_exists(PK)")))
            }
            Grant::Write { membership, replaces: Some(previous) } => {
                self.put(member_item(membership), Some(rank("=", *previous)))
            }
        }
    }
}

/// Why a transaction did not commit.
enum Cancelled {
    /// Per item: did its condition fail, and the item as stored.
    Conditions(Vec<(bool, Option<Item>)>),
    Other(StoreError),
}

impl Cancelled {
    /// The first item whose condition failed, with its stored state.
    fn first_failure(&self) -> Option<(usize, Option<&Item>)> {
        match self {
            Cancelled::Conditions(reasons) => reasons.iter().position(|(f, _)| *f).map(|i| (i, reasons[i].1.as_ref())),
            Cancelled::Other(_) => None,
        }
    }

    fn into_other(self) -> StoreError {
        match self {
            Cancelled::Other(err) => err,
            Cancelled::Conditions(_) => StoreError::Conflict,
        }
    }
}

#[derive(Debug, Clone)]
struct Condition {
    expression: String,
    names: Option<HashMap<String, String>>,
    values: Option<HashMap<String, AttributeValue>>,
}

impl Condition {
    fn new(expression: impl Into<String>) -> Self {
        Self { expression: expression.into(), names: None, values: None }
    }
    fn name(mut self, placeholder: &str, name: &str) -> Self {
        self.names.get_or_insert_with(HashMap::new).insert(placeholder.to_owned(), name.to_owned());
        self
    }
    fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.get_or_insert_with(HashMap::new).insert(placeholder.to_owned(), value);
        self
    }
}

struct Filter {
    expression: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

/// The status filter, with Pending and Expired judged against `now` as `matches_status` does.
fn status_filter(status: InvitationStatus, now: OffsetDateTime) -> Filter {
    let names = HashMap::from([("#status".to_owned(), "status".to_owned())]);
    let pending = || (":pending".to_owned(), n(InvitationStatus::Pending.code()));
    let now_value = || (":now".to_owned(), n(to_millis(now)));
    let (expression, values) = match status {
        InvitationStatus::Pending => ("#status = :pending AND expires_at > :now", vec![pending(), now_value()]),
        InvitationStatus::Expired => (
            "#status = :expired OR (#status = :pending AND expires_at <= :now)",
            vec![pending(), now_value(), (":expired".to_owned(), n(InvitationStatus::Expired.code()))],
        ),
        other => ("#status = :status", vec![(":status".to_owned(), n(other.code()))]),
    };
    Filter { expression: expression.to_owned(), names, values: values.into_iter().collect() }
}

fn backoff(attempt: u32) -> Duration {
    // Jitter from a random UUID: enough to break up retrying writers without another crate.
    let jitter = (Uuid::new_v4().as_u128() % 20) as u64;
    Duration::from_millis(10 * u64::from(attempt + 1) + jitter)
}

fn unavailable(err: impl std::fmt::Debug) -> StoreError {
    let text = format!("{err:?}");
    tracing::warn!(error = %text, "dynamodb call failed");
    StoreError::Unavailable(text)
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn ts(t: OffsetDateTime) -> AttributeValue {
    n(to_millis(t))
}

fn project_pk(project_id: &str) -> String {
    format!("PROJECT#{project_id}")
}

fn member_key(project_id: &str, user_id: &str) -> Item {
    DynamoStore::key(project_pk(project_id), format!("MEMBER#{user_id}"))
}

fn project_key(project_id: &str) -> Item {
    DynamoStore::key(project_pk(project_id), "PROJECT".to_owned())
}

fn invitation_key(project_id: &str, id: Uuid) -> Item {
    DynamoStore::key(project_pk(project_id), format!("INVITATION#{id}"))
}

fn marker_key(invitation: &Invitation) -> Item {
    DynamoStore::key(format!("INVITEE#{}", invitation.email_normalized), project_pk(&invitation.project_id))
}

/// Sets `key` when `value` is present: absent attributes stay absent.
fn set_opt(item: &mut Item, key: &str, value: Option<AttributeValue>) {
    if let Some(v) = value {
        item.insert(key.to_owned(), v);
    }
}

fn project_item(p: &Project) -> Item {
    let mut item = project_key(&p.id);
    item.extend([
        ("kind".to_owned(), s("project")),
        ("id".to_owned(), s(p.id.clone())),
        ("name".to_owned(), s(p.name.clone())),
        ("owner".to_owned(), s(p.owner.clone())),
        ("created_at".to_owned(), ts(p.created_at)),
    ]);
    let domains = p.allowed_email_domains.patterns();
    set_opt(&mut item, "allowed_domains", (!domains.is_empty()).then(|| AttributeValue::Ss(domains.to_vec())));
    item
}

fn member_item(m: &Membership) -> Item {
    let mut item = member_key(&m.project_id, &m.user_id);
    item.extend([
        ("kind".to_owned(), s("member")),
        ("project_id".to_owned(), s(m.project_id.clone())),
        ("user_id".to_owned(), s(m.user_id.clone())),
        ("role".to_owned(), s(m.role.as_str())),
        ("rank".to_owned(), n(m.role.rank())),
        ("joined_at".to_owned(), ts(m.joined_at)),
    ]);
    set_opt(&mut item, "email", m.email.clone().map(s));
    item
}

/// What of an invitation no key, condition or filter reads, packed into one `doc` attribute (JSON):
/// a list page deserializes five attributes per item instead of twenty-odd. `status`, `version`
/// and `expires_at` stay attributes because conditions and the status filter read them. The JSON
/// is stored as binary: DynamoDB's wire format would escape every quote of a string attribute,
/// and unescaping a page of them cost a tenth of the list's CPU; base64 decodes in a fraction.
#[derive(Serialize, Deserialize)]
struct InvitationDoc {
    id: Uuid,
    project_id: String,
    email: String,
    email_normalized: String,
    role: Role,
    invited_by: String,
    invited_by_email: Option<String>,
    accepted_by: Option<String>,
    #[serde(with = "millis")]
    created_at: OffsetDateTime,
    #[serde(with = "millis::option")]
    accepted_at: Option<OffsetDateTime>,
    #[serde(with = "millis::option")]
    resent_at: Option<OffsetDateTime>,
    #[serde(with = "millis::option")]
    revoked_at: Option<OffsetDateTime>,
    #[serde(with = "millis::option")]
    declined_at: Option<OffsetDateTime>,
    delivery_status: DeliveryStatus,
    delivery_reason: Option<String>,
    #[serde(with = "millis")]
    delivery_updated_at: OffsetDateTime,
    message_id: Option<String>,
    #[serde(with = "millis::option")]
    lease_until: Option<OffsetDateTime>,
    send_count: u32,
    send_id: Uuid,
    #[serde(with = "millis")]
    send_requested_at: OffsetDateTime,
}

fn invitation_item(i: &Invitation) -> Item {
    let doc = InvitationDoc {
        id: i.id,
        project_id: i.project_id.clone(),
        email: i.email.clone(),
        email_normalized: i.email_normalized.clone(),
        role: i.role,
        invited_by: i.invited_by.clone(),
        invited_by_email: i.invited_by_email.clone(),
        accepted_by: i.accepted_by.clone(),
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
    };
    let mut item = invitation_key(&i.project_id, i.id);
    item.extend([
        ("kind".to_owned(), s("invitation")),
        ("status".to_owned(), n(i.status.code())),
        ("version".to_owned(), n(i.version)),
        ("expires_at".to_owned(), ts(i.expires_at)),
        ("doc".to_owned(), AttributeValue::B(Blob::new(serde_json::to_vec(&doc).expect("an invitation serializes")))),
    ]);
    let finished =
        matches!(i.status, InvitationStatus::Revoked | InvitationStatus::Declined | InvitationStatus::Expired);
    // DynamoDB's TTL wants epoch seconds.
    set_opt(&mut item, "ttl", finished.then(|| n((i.expires_at + FINISHED_RETENTION).unix_timestamp())));
    item
}

fn marker_item(i: &Invitation) -> Item {
    let mut item = marker_key(i);
    item.extend([
        ("kind".to_owned(), s("pending")),
        ("email_normalized".to_owned(), s(i.email_normalized.clone())),
        ("project_id".to_owned(), s(i.project_id.clone())),
        ("invitation_id".to_owned(), s(i.id.to_string())),
        ("role".to_owned(), s(i.role.as_str())),
        ("expires_at".to_owned(), ts(i.expires_at)),
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
}

fn sort_key(item: &Item) -> &str {
    item.get("SK").and_then(|v| v.as_s().ok()).map_or("", String::as_str)
}

fn project_from(item: &Item) -> StoreResult<Project> {
    let f = Fields(item);
    let domains = item.get("allowed_domains").and_then(|v| v.as_ss().ok()).cloned().unwrap_or_default();
    Ok(Project {
        id: f.s("id")?,
        name: f.s("name")?,
        owner: f.s("owner")?,
        created_at: f.time("created_at")?,
        allowed_email_domains: DomainAllowList::new(domains).map_err(|e| StoreError::Corrupt(e.to_string()))?,
    })
}

fn member_from(item: &Item) -> StoreResult<Membership> {
    let f = Fields(item);
    Ok(Membership {
        project_id: f.s("project_id")?,
        user_id: f.s("user_id")?,
        email: f.opt_s("email"),
        role: f.parse("role")?,
        joined_at: f.time("joined_at")?,
    })
}

/// The attributes [`invitation_from`] reads: a list leaves the keys and the rest behind.
const INVITATION_FIELDS: &[&str] = &["status", "version", "expires_at", "doc"];

fn invitation_from(item: &Item) -> StoreResult<Invitation> {
    let f = Fields(item);
    let status = InvitationStatus::from_code(f.n("status")?).ok_or_else(|| StoreError::Corrupt("bad status".into()))?;
    let doc = item.get("doc").and_then(|v| v.as_b().ok()).ok_or_else(|| StoreError::Corrupt("missing doc".into()))?;
    // UTF-8 checked once for the whole document: `from_slice` would check each string in it.
    let doc = std::str::from_utf8(doc.as_ref()).map_err(|_| StoreError::Corrupt("bad doc: not UTF-8".into()))?;
    let doc: InvitationDoc = serde_json::from_str(doc).map_err(|err| StoreError::Corrupt(format!("bad doc: {err}")))?;
    Ok(Invitation {
        id: doc.id,
        project_id: doc.project_id,
        email: doc.email,
        email_normalized: doc.email_normalized,
        role: doc.role,
        status,
        invited_by: doc.invited_by,
        invited_by_email: doc.invited_by_email,
        accepted_by: doc.accepted_by,
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
        version: f.n("version")?,
    })
}

fn marker_from(item: &Item) -> StoreResult<PendingInvitation> {
    let f = Fields(item);
    Ok(PendingInvitation {
        email_normalized: f.s("email_normalized")?,
        project_id: f.s("project_id")?,
        invitation_id: f.parse("invitation_id")?,
        role: f.parse("role")?,
        expires_at: f.time("expires_at")?,
    })
}

#[async_trait]
impl Store for DynamoStore {
    async fn create_project(&self, project: &Project, owner: &Membership) -> StoreResult<()> {
        let absent = || Some(Condition::new("attribute_not_exists(PK)"));
        let items = vec![self.put(project_item(project), absent())?, self.put(member_item(owner), absent())?];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(c) if c.first_failure().is_some() => Err(StoreError::AlreadyExists),
            Err(c) => Err(c.into_other()),
        }
    }

    async fn project_and_membership(
        &self,
        project_id: &str,
        user_id: &str,
    ) -> StoreResult<(Option<Project>, Option<Membership>)> {
        let items = self.batch_get(vec![project_key(project_id), member_key(project_id, user_id)]).await?;
        let mut project = None;
        let mut membership = None;
        for item in &items {
            if sort_key(item) == "PROJECT" {
                project = Some(project_from(item)?);
            } else {
                membership = Some(member_from(item)?);
            }
        }
        Ok((project, membership))
    }

    async fn members(&self, project_id: &str, page: &PageRequest) -> StoreResult<Page<Membership>> {
        let (items, more) =
            self.query_page(project_pk(project_id), "MEMBER#", page.after.as_ref(), None, &[], page.limit).await?;
        let members = items.iter().map(member_from).collect::<StoreResult<Vec<_>>>()?;
        let next = more.then(|| members.last().map(|m| Cursor { after: m.user_id.clone() })).flatten();
        Ok(Page { items: members, next })
    }

    async fn create_invitation(
        &self,
        invitation: &Invitation,
        guard: &CreateGuard,
        supersedes: Option<Transition<'_>>,
    ) -> StoreResult<()> {
        let pid = &invitation.project_id;
        let inviter_rank =
            Condition::new("#rank >= :min").name("#rank", "rank").value(":min", n(guard.min_inviter_role.rank()));
        let mut allowed = String::from("attribute_exists(PK) AND (attribute_not_exists(allowed_domains)");
        let mut project_check = Condition::new("");
        for (i, candidate) in guard.domain_candidates.iter().enumerate() {
            allowed.push_str(&format!(" OR contains(allowed_domains, :d{i})"));
            project_check = project_check.value(&format!(":d{i}"), s(candidate.clone()));
        }
        allowed.push(')');
        project_check.expression = allowed;
        let mut items = vec![
            self.check(member_key(pid, &guard.inviter), inviter_rank)?,
            self.check(project_key(pid), project_check)?,
            self.put(invitation_item(invitation), Some(Condition::new("attribute_not_exists(PK)")))?,
        ];
        match supersedes {
            None => items.push(self.put(marker_item(invitation), Some(Condition::new("attribute_not_exists(PK)")))?),
            Some(old) => {
                let still_old = Condition::new("invitation_id = :old").value(":old", s(old.from.id.to_string()));
                items.push(self.put(marker_item(invitation), Some(still_old))?);
                let version = Condition::new("#version = :version")
                    .name("#version", "version")
                    .value(":version", n(old.from.version));
                items.push(self.put(invitation_item(old.to), Some(version))?);
            }
        }
        let cancelled = match self.transact(items).await {
            Ok(()) => return Ok(()),
            Err(cancelled) => cancelled,
        };
        Err(match cancelled.first_failure() {
            Some((0, None)) => StoreError::NotMember,
            Some((0, Some(member))) => StoreError::RoleTooLow { actual: member_from(member)?.role },
            Some((1, None)) => StoreError::ProjectNotFound,
            Some((1, Some(_))) => StoreError::DomainNotAllowed,
            Some((2, _)) => StoreError::AlreadyExists,
            Some((3, Some(marker))) if supersedes.is_none() => StoreError::DuplicatePending(marker_from(marker)?),
            Some(_) => StoreError::Conflict,
            None => cancelled.into_other(),
        })
    }

    async fn invitation_and_membership(
        &self,
        project_id: &str,
        invitation_id: Uuid,
        user_id: &str,
    ) -> StoreResult<(Option<Invitation>, Option<Membership>)> {
        let items =
            self.batch_get(vec![invitation_key(project_id, invitation_id), member_key(project_id, user_id)]).await?;
        let mut invitation = None;
        let mut membership = None;
        for item in &items {
            if sort_key(item).starts_with("INVITATION#") {
                invitation = Some(invitation_from(item)?);
            } else {
                membership = Some(member_from(item)?);
            }
        }
        Ok((invitation, membership))
    }

    async fn invitations(
        &self,
        project_id: &str,
        status: Option<InvitationStatus>,
        now: OffsetDateTime,
        page: &PageRequest,
    ) -> StoreResult<Page<Invitation>> {
        let filter = status.map(|s| status_filter(s, now));
        let (items, more) = self
            .query_page(
                project_pk(project_id),
                "INVITATION#",
                page.after.as_ref(),
                filter,
                INVITATION_FIELDS,
                page.limit,
            )
            .await?;
        let invitations = items.iter().map(invitation_from).collect::<StoreResult<Vec<_>>>()?;
        let next = more.then(|| invitations.last().map(|i| Cursor { after: i.id.to_string() })).flatten();
        Ok(Page { items: invitations, next })
    }

    async fn pending_for_email(&self, email_normalized: &str) -> StoreResult<Vec<PendingInvitation>> {
        let mut markers = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", s(format!("INVITEE#{email_normalized}")))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            for item in out.items() {
                markers.push(marker_from(item)?);
            }
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(markers),
            }
        }
    }

    async fn invitations_by_key(&self, keys: &[(String, Uuid)]) -> StoreResult<Vec<Invitation>> {
        let items = self.batch_get(keys.iter().map(|(pid, id)| invitation_key(pid, *id)).collect()).await?;
        let mut found = items.iter().map(invitation_from).collect::<StoreResult<Vec<_>>>()?;
        found.sort_by_key(|i| keys.iter().position(|(pid, id)| *pid == i.project_id && *id == i.id));
        Ok(found)
    }

    async fn memberships(&self, user_id: &str, project_ids: &[String]) -> StoreResult<Vec<Membership>> {
        let items = self.batch_get(project_ids.iter().map(|pid| member_key(pid, user_id)).collect()).await?;
        items.iter().map(member_from).collect()
    }

    async fn save(&self, transition: Transition<'_>) -> StoreResult<()> {
        let items = self.transition_items(transition)?;
        let marker_put =
            transition.to.email_normalized != transition.from.email_normalized && transition.to.is_pending();
        let last = items.len() - 1;
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(cancelled) => Err(match cancelled.first_failure() {
                Some((i, Some(marker))) if marker_put && i == last => {
                    StoreError::DuplicatePending(marker_from(marker)?)
                }
                Some(_) => StoreError::Conflict,
                None => cancelled.into_other(),
            }),
        }
    }

    async fn accept_batch(&self, acceptances: &[Acceptance<'_>]) -> StoreResult<()> {
        let mut items = Vec::with_capacity(acceptances.len() * 3);
        for Acceptance { transition, grant } in acceptances {
            items.extend(self.transition_items(*transition)?);
            items.push(self.grant_item(transition.to, grant)?);
        }
        self.transact(items).await.map_err(Cancelled::into_other)
    }
}
