//! Reads: consistent batch reads that never pass off an unread key as missing, and pages of a
//! partition in sort-key order.

use super::items::{key, n, s, Item};
use super::transactions::backoff;
use super::{from_sdk, internal, DynamoStore};
use crate::cause::Cause;
use crate::domain::timestamp::to_millis;
use crate::domain::{Cursor, InvitationStatus};
use crate::store::{EventFilter, StoreError, StoreResult};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use std::collections::HashMap;
use time::OffsetDateTime;

/// BatchGetItem rounds for keys DynamoDB left unprocessed (it does so under throttling).
const UNPROCESSED_RETRIES: u32 = 10;

impl DynamoStore {
    /// Every item of `keys` that exists, read consistently. Keys still unprocessed after the
    /// retries make the read `Unavailable`: an unread item is never reported as absent.
    pub(super) async fn batch_get(&self, keys: Vec<Item>) -> StoreResult<Vec<Item>> {
        let mut found = Vec::new();
        for chunk in keys.chunks(100) {
            let mut pending = KeysAndAttributes::builder()
                .set_keys(Some(chunk.to_vec()))
                .consistent_read(true)
                .build()
                .map_err(internal)?;
            let mut attempt = 0;
            loop {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, pending.clone())
                    .send()
                    .await
                    .map_err(from_sdk)?;
                if let Some(items) = out.responses.and_then(|mut r| r.remove(&self.table)) {
                    found.extend(items);
                }
                match out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)) {
                    Some(rest) if !rest.keys.is_empty() => pending = rest,
                    _ => break,
                }
                if attempt == UNPROCESSED_RETRIES {
                    return Err(StoreError::Unavailable(Cause::msg("keys stayed unprocessed (throttled)")));
                }
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
        }
        Ok(found)
    }

    /// Every item of a partition, read consistently (for partitions kept small: an address's
    /// pending markers, a quota's slots).
    pub(super) async fn query_partition(&self, pk: String) -> StoreResult<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", s(pk.clone()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(from_sdk)?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(items),
            }
        }
    }

    /// Reads one page of a partition in sort-key order (or backwards), applying an optional
    /// filter, fetching `limit + 1` matches to know whether more follow. Only the `projection`
    /// attributes are read, all of them when it is empty.
    pub(super) async fn query_page(&self, read: PageRead<'_>) -> StoreResult<(Vec<Item>, bool)> {
        let PageRead { pk, sk_prefix, after, filter, projection, limit, backwards } = read;
        let mut start = after.map(|c| key(pk.clone(), format!("{sk_prefix}{}", c.after)));
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
                .scan_index_forward(!backwards)
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
                .map_err(from_sdk)?;
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
}

/// One page to read from a partition.
pub(super) struct PageRead<'a> {
    pub pk: String,
    pub sk_prefix: &'a str,
    pub after: Option<&'a Cursor>,
    pub filter: Option<Filter>,
    pub projection: &'a [&'a str],
    pub limit: usize,
    /// Newest first, for sort keys that are UUIDv7s.
    pub backwards: bool,
}

impl<'a> PageRead<'a> {
    /// A page of the partition's items under `sk_prefix`, oldest first, unfiltered, all attributes.
    pub fn of(pk: String, sk_prefix: &'a str, page: &'a crate::domain::PageRequest) -> Self {
        PageRead {
            pk,
            sk_prefix,
            after: page.after.as_ref(),
            filter: None,
            projection: &[],
            limit: page.limit,
            backwards: false,
        }
    }
}

pub(super) struct Filter {
    expression: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

/// The status filter, with Pending and Expired judged against `now` as `matches_status` does.
pub(super) fn status_filter(status: InvitationStatus, now: OffsetDateTime) -> Filter {
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

/// The event list's filter: by type, by invitation, or both.
pub(super) fn event_filter(wanted: &EventFilter) -> Option<Filter> {
    let mut clauses = Vec::new();
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    if let Some(kind) = wanted.kind {
        clauses.push("#type = :type");
        names.insert("#type".to_owned(), "type".to_owned());
        values.insert(":type".to_owned(), s(kind.as_str()));
    }
    if let Some(id) = wanted.invitation_id {
        clauses.push("invitation_id = :invitation");
        values.insert(":invitation".to_owned(), s(id.to_string()));
    }
    (!clauses.is_empty()).then(|| Filter { expression: clauses.join(" AND "), names, values })
}
