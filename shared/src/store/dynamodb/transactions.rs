//! Writes: every state change is one transaction of conditional items, retried only while it
//! loses a race with another transaction.

use super::items::{
    event_item, invitation_item, marker_item, marker_key, member_item, member_key, n, quota_slot_item, quota_slot_key,
    s, Item,
};
use super::{from_sdk, internal, DynamoStore};
use crate::cause::Cause;
use crate::domain::timestamp::to_millis;
use crate::domain::{Event, Grant, Invitation, Membership, QuotaClaim, QuotaScope, Role};
use crate::store::{PendingInvitation, StoreError, StoreResult, Transition};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use std::collections::HashMap;
use std::time::Duration;
use time::OffsetDateTime;

const TRANSACTION_CONFLICT_RETRIES: u32 = 8;

impl DynamoStore {
    /// Runs a transaction, retrying while it only lost a race with another transaction. On a
    /// failed condition it returns, per item, whether that item's condition failed and the item
    pub(super) async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), Cancelled> {
        for attempt in 0..=TRANSACTION_CONFLICT_RETRIES {
            let result = self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await;
            let err = match result {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = err.as_service_error() else {
                return Err(Cancelled::Other(from_sdk(err)));
            };
            let reasons = cancelled.cancellation_reasons();
            let failed: Vec<(bool, Option<Item>)> =
                reasons.iter().map(|r| (r.code() == Some("ConditionalCheckFailed"), r.item.clone())).collect();
            if failed.iter().any(|(f, _)| *f) {
                return Err(Cancelled::Conditions(failed));
            }
            // Lost a race with another transaction on the same items: worth another go. Any
            // other reason (throttling, capacity) is the store being unavailable.
            if !reasons.iter().any(|r| r.code() == Some("TransactionConflict")) {
                return Err(Cancelled::Other(StoreError::Unavailable(Cause::new(err))));
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
        Err(Cancelled::Other(StoreError::Unavailable(Cause::msg("the transaction kept conflicting with others"))))
    }

    pub(super) fn put(&self, item: Item, condition: Option<Condition>) -> StoreResult<TransactWriteItem> {
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
        Ok(TransactWriteItem::builder().put(put.build().map_err(internal)?).build())
    }

    pub(super) fn delete(&self, key: Item, c: Condition) -> StoreResult<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(c.expression)
            .set_expression_attribute_names(c.names)
            .set_expression_attribute_values(c.values)
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    pub(super) fn check(&self, key: Item, c: Condition) -> StoreResult<TransactWriteItem> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(c.expression)
            .set_expression_attribute_names(c.names)
            .set_expression_attribute_values(c.values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// An event, written once.
    pub(super) fn event_put(&self, event: &Event) -> StoreResult<TransactWriteItem> {
        self.put(event_item(event, self.event_retention), Some(Condition::new("attribute_not_exists(PK)")))
    }

    /// A quota slot claimed: free when absent or held no longer at `now`.
    pub(super) fn claim_put(&self, claim: &QuotaClaim, now: OffsetDateTime) -> StoreResult<TransactWriteItem> {
        self.claim_put_from(claim, now, None)
    }

    /// [`DynamoStore::claim_put`], also taking the slot over from `previous` holder (an expired
    /// invitation the new one replaces).
    pub(super) fn claim_put_from(
        &self,
        claim: &QuotaClaim,
        now: OffsetDateTime,
        previous: Option<&str>,
    ) -> StoreResult<TransactWriteItem> {
        let mut free = Condition::new("attribute_not_exists(PK) OR #until <= :now")
            .name("#until", "until")
            .value(":now", n(to_millis(now)));
        if let Some(holder) = previous {
            free.expression.push_str(" OR holder = :previous");
            free = free.value(":previous", s(holder));
        }
        self.put(quota_slot_item(claim), Some(free))
    }

    /// Leaving pending, or moving to another address, frees the old address's slot (if this
    /// invitation still holds it).
    pub(super) fn address_slot_release(
        &self,
        from: &Invitation,
        to: &Invitation,
    ) -> StoreResult<Vec<TransactWriteItem>> {
        let left = from.is_pending() && (!to.is_pending() || to.email_normalized != from.email_normalized);
        let Some(slot) = from.address_slot.filter(|_| left) else {
            return Ok(Vec::new());
        };
        let scope = QuotaScope::AddressPending(from.email_normalized.clone());
        let held_by_it =
            Condition::new("attribute_not_exists(PK) OR holder = :holder").value(":holder", s(from.id.to_string()));
        Ok(vec![self.delete(quota_slot_key(&scope, slot), held_by_it)?])
    }

    /// The writes that move an invitation from one state to the next: the invitation's own write
    /// first, then the marker's, then the event, then the quota slots released, renewed and
    /// claimed (the claims last: a failed one is named by its index among them).
    pub(super) fn transition_items(
        &self,
        Transition { from, to, event, claims }: Transition<'_>,
    ) -> StoreResult<Vec<TransactWriteItem>> {
        let mut items = vec![self.put(
            invitation_item(to)?,
            Some(Condition::new("#version = :version").name("#version", "version").value(":version", n(from.version))),
        )?];
        // The marker may be gone already (its TTL runs out after the invitation expired).
        let points_to_from =
            || Condition::new("attribute_not_exists(PK) OR invitation_id = :id").value(":id", s(from.id.to_string()));
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
        items.push(self.event_put(event)?);
        items.extend(self.address_slot_release(from, to)?);
        // A resend moves the expiry: the address's slot is held as much longer (taken back if its
        // hold ran out meanwhile and nobody took it).
        if let Some(renewal) = to.renewed_address_hold(from) {
            items.push(self.claim_put_from(&renewal, event.at, Some(&renewal.holder))?);
        }
        for claim in claims {
            items.push(self.claim_put(claim, event.at)?);
        }
        Ok(items)
    }

    /// The membership side of an acceptance: written if absent or unchanged since it was read, or
    /// checked to still hold the higher role that is kept.
    pub(super) fn grant_item(&self, accepted: &Invitation, grant: &Grant) -> StoreResult<TransactWriteItem> {
        let user = accepted
            .accepted_by
            .as_ref()
            .ok_or_else(|| StoreError::Internal(Cause::msg("an acceptance without its user")))?;
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

impl DynamoStore {
    /// A member's change ([`crate::store::MemberUpdate`]): the membership written or deleted over
    /// the role that was read, the actor's and the remaining owner's roles checked, the event.
    pub(super) fn member_change_items(
        &self,
        update: crate::store::MemberUpdate<'_>,
    ) -> StoreResult<Vec<TransactWriteItem>> {
        let holds =
            |m: &Membership| Condition::new("#rank = :rank").name("#rank", "rank").value(":rank", n(m.role.rank()));
        let from = update.from;
        // The member as read: role and Slack state, all of it (two attempts never both claim it).
        let mut as_read = holds(from).name("#slack", "slack_status");
        let millis = |at| n(crate::domain::timestamp::to_millis(at));
        match &from.slack {
            Some(slack) => {
                as_read = as_read.name("#at", "slack_updated_at").name("#lease", "slack_lease_until");
                as_read.expression.push_str(" AND #slack = :slack AND #at = :at");
                as_read = as_read.value(":slack", s(slack.status.as_str())).value(":at", millis(slack.updated_at));
                match slack.lease_until {
                    Some(until) => {
                        as_read.expression.push_str(" AND #lease = :lease");
                        as_read = as_read.value(":lease", millis(until));
                    }
                    None => as_read.expression.push_str(" AND attribute_not_exists(#lease)"),
                }
            }
            None => as_read.expression.push_str(" AND attribute_not_exists(#slack)"),
        }
        let mut items = vec![match update.to {
            Some(to) => self.put(member_item(to), Some(as_read))?,
            None => self.delete(member_key(&from.project_id, &from.user_id), as_read)?,
        }];
        // An item may appear once in a transaction: the write checks the member acting on
        // themselves, and the actor's check the owner who stays when that is the actor.
        let mut checked = vec![&from.user_id];
        for member in [Some(update.actor), update.remaining_owner].into_iter().flatten() {
            if !checked.contains(&&member.user_id) {
                checked.push(&member.user_id);
                items.push(self.check(member_key(&member.project_id, &member.user_id), holds(member))?);
            }
        }
        if let Some(event) = update.event {
            items.push(self.event_put(event)?);
        }
        Ok(items)
    }
}

/// Why a transaction did not commit.
pub(super) enum Cancelled {
    /// Per item: did its condition fail, and the item as stored.
    Conditions(Vec<(bool, Option<Item>)>),
    Other(StoreError),
}

impl Cancelled {
    /// The first item whose condition failed, with its stored state.
    pub(super) fn first_failure(&self) -> Option<(usize, Option<&Item>)> {
        match self {
            Cancelled::Conditions(reasons) => reasons.iter().position(|(f, _)| *f).map(|i| (i, reasons[i].1.as_ref())),
            Cancelled::Other(_) => None,
        }
    }

    pub(super) fn into_other(self) -> StoreError {
        match self {
            Cancelled::Other(err) => err,
            Cancelled::Conditions(_) => StoreError::Conflict,
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Condition {
    pub(super) expression: String,
    pub(super) names: Option<HashMap<String, String>>,
    pub(super) values: Option<HashMap<String, AttributeValue>>,
}

impl Condition {
    pub(super) fn new(expression: impl Into<String>) -> Self {
        Self { expression: expression.into(), names: None, values: None }
    }
    pub(super) fn name(mut self, placeholder: &str, name: &str) -> Self {
        self.names.get_or_insert_with(HashMap::new).insert(placeholder.to_owned(), name.to_owned());
        self
    }
    pub(super) fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.get_or_insert_with(HashMap::new).insert(placeholder.to_owned(), value);
        self
    }
}

/// A short, growing, jittered pause between retries.
pub(super) fn backoff(attempt: u32) -> Duration {
    // Jitter from a random UUID: enough to break up retrying writers without another crate.
    let jitter = (uuid::Uuid::new_v4().as_u128() % 20) as u64;
    Duration::from_millis(10 * u64::from(attempt + 1) + jitter)
}
