//! Reads: consistent batch reads that never pass off an unread key as missing, and pages of a
//! partition in sort-key order.

use super::items::{index_cursor, key, s, sort_key, table_key, Index, Item};
use super::transactions::{backoff, Condition};
use super::{from_sdk, internal, DynamoStore};
use crate::cause::Cause;
use crate::domain::Cursor;
use crate::store::{StoreError, StoreResult};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use std::collections::HashMap;

/// BatchGetItem rounds for keys DynamoDB left unprocessed (it does so under throttling).
const UNPROCESSED_RETRIES: u32 = 10;

impl DynamoStore {
    /// Every item of `keys` that exists, read consistently. Keys still unprocessed after the
    /// retries make the read `Unavailable`: an unread item is never reported as absent.
    pub(super) async fn batch_get(&self, keys: Vec<Item>) -> StoreResult<Vec<Item>> {
        self.batch_read(keys, true).await
    }

    /// Two items of one partition by key, read together and consistently, each as its kind.
    pub(super) async fn read_pair<A, B>(
        &self,
        first: Item,
        first_from: fn(&Item) -> StoreResult<A>,
        second: Item,
        second_from: fn(&Item) -> StoreResult<B>,
    ) -> StoreResult<(Option<A>, Option<B>)> {
        let first_sort_key = sort_key(&first).to_owned();
        let (mut a, mut b) = (None, None);
        for item in &self.batch_get(vec![first, second]).await? {
            if sort_key(item) == first_sort_key {
                a = Some(first_from(item)?);
            } else {
                b = Some(second_from(item)?);
            }
        }
        Ok((a, b))
    }

    /// A page of an index's keys and the items they name, fetched by key eventually consistent
    /// (half the read units; the index is a moment behind the table anyway), in no set order;
    /// and the cursor after the last key read (its sort key without `prefix`) when more follow.
    ///
    /// Several reads (partitions of one index whose sort keys share `prefix` and order) make
    /// one page between them: each reads `limit + 1` keys, and the first `limit` of all of them
    /// in sort-key order are the page (whatever a partition holds past its own `limit` comes
    /// after those).
    pub(super) async fn index_page(
        &self,
        reads: Vec<PageRead<'_>>,
        prefix: &str,
    ) -> StoreResult<(Vec<Item>, Option<Cursor>)> {
        let (Some(index), Some(limit)) = (reads.first().and_then(|r| r.index), reads.first().map(|r| r.limit)) else {
            return Err(StoreError::Internal(Cause::msg("an index page of no index")));
        };
        let (backwards, merged) = (reads.iter().any(|read| read.backwards), reads.len() > 1);
        let pages = futures::future::try_join_all(reads.into_iter().map(|read| self.query_page(read))).await?;
        let mut more = pages.iter().any(|(_, more)| *more);
        let mut index_items: Vec<Item> = pages.into_iter().flat_map(|(items, _)| items).collect();
        if merged {
            let sort_key = |item: &Item| item.get(index.sk()).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            index_items.sort_by_cached_key(sort_key);
            if backwards {
                index_items.reverse();
            }
            more |= index_items.len() > limit;
            index_items.truncate(limit);
        }
        let keys = index_items.iter().map(table_key).collect::<StoreResult<Vec<_>>>()?;
        let items = self.batch_read(keys, false).await?;
        let next = match index_items.last() {
            Some(last) if more => Some(index_cursor(last, index, prefix)?),
            _ => None,
        };
        Ok((items, next))
    }

    /// The chunks of 100 keys (BatchGetItem's most) are read at once: the largest read, a
    /// sign-up's, is 1,000 invitations (the most one address may hold) and as many memberships.
    pub(super) async fn batch_read(&self, keys: Vec<Item>, consistent: bool) -> StoreResult<Vec<Item>> {
        let reads: Vec<_> = keys.chunks(100).map(|chunk| self.batch_read_chunk(chunk.to_vec(), consistent)).collect();
        Ok(futures::future::try_join_all(reads).await?.concat())
    }

    async fn batch_read_chunk(&self, keys: Vec<Item>, consistent: bool) -> StoreResult<Vec<Item>> {
        let mut found = Vec::new();
        let mut pending =
            KeysAndAttributes::builder().set_keys(Some(keys)).consistent_read(consistent).build().map_err(internal)?;
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
                _ => return Ok(found),
            }
            if attempt == UNPROCESSED_RETRIES {
                return Err(StoreError::Unavailable(Cause::msg("keys stayed unprocessed (throttled)")));
            }
            tokio::time::sleep(backoff(attempt)).await;
            attempt += 1;
        }
    }

    /// Every item of a partition, read consistently (for partitions kept small: an address's
    /// pending markers, a quota's slots).
    pub(super) async fn query_partition(&self, pk: String) -> StoreResult<Vec<Item>> {
        self.query_all(pk, "", None).await
    }

    /// Every item of a partition under `sk_prefix` that passes `filter`, read consistently.
    pub(super) async fn query_all(
        &self,
        pk: String,
        sk_prefix: &str,
        filter: Option<Condition>,
    ) -> StoreResult<Vec<Item>> {
        let (filter, mut names, mut values) = match filter {
            Some(c) => (Some(c.expression), c.names.unwrap_or_default(), c.values.unwrap_or_default()),
            None => (None, HashMap::new(), HashMap::new()),
        };
        names.insert("#pk".to_owned(), "PK".to_owned());
        values.insert(":pk".to_owned(), s(pk));
        let mut key_condition = String::from("#pk = :pk");
        // A key's value is never empty: no prefix, no sort key condition.
        if !sk_prefix.is_empty() {
            key_condition.push_str(" AND begins_with(#sk, :prefix)");
            names.insert("#sk".to_owned(), "SK".to_owned());
            values.insert(":prefix".to_owned(), s(sk_prefix));
        }
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression(key_condition.clone())
                .set_filter_expression(filter.clone())
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
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

    /// Reads one page of a partition (of the table or of an index) in sort-key order, or
    /// backwards: `limit + 1` items to know whether more follow, no filter, so the items read are
    /// the items returned (plus one). Only the `projection` attributes are read, all of them when
    /// it is empty (an index has only keys).
    pub(super) async fn query_page(&self, read: PageRead<'_>) -> StoreResult<(Vec<Item>, bool)> {
        let PageRead { index, pk, sort_keys, start, projection, limit, backwards } = read;
        let (pk_name, sk_name) = index.map_or(("PK", "SK"), |index| (index.pk(), index.sk()));
        let (condition, mut values) = match sort_keys {
            SortKeys::Prefix(prefix) => ("begins_with(#sk, :a)", vec![(":a", s(prefix))]),
            SortKeys::Above(bound) => ("#sk > :a", vec![(":a", s(bound))]),
            SortKeys::Between(low, high) => ("#sk BETWEEN :a AND :b", vec![(":a", s(low)), (":b", s(high))]),
        };
        values.push((":pk", s(pk)));
        let values: HashMap<String, AttributeValue> = values.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let mut names = HashMap::from([("#pk".to_owned(), pk_name.to_owned()), ("#sk".to_owned(), sk_name.to_owned())]);
        names.extend(projection.iter().map(|name| (format!("#_{name}"), (*name).to_owned())));
        let projection = projection.iter().map(|name| format!("#_{name}")).collect::<Vec<_>>().join(", ");
        let mut start = start;
        let mut items = Vec::new();
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(|index| index.name().to_owned()))
                .key_condition_expression(format!("#pk = :pk AND {condition}"))
                .limit((limit + 1 - items.len()) as i32)
                .scan_index_forward(!backwards)
                .set_exclusive_start_key(start.take())
                .set_projection_expression((!projection.is_empty()).then(|| projection.clone()))
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .send()
                .await
                .map_err(from_sdk)?;
            items.extend(out.items.unwrap_or_default());
            if items.len() > limit {
                items.truncate(limit);
                return Ok((items, true));
            }
            // Fewer than asked and a key to go on from: DynamoDB stopped at its 1 MB page.
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok((items, false)),
            }
        }
    }
}

/// One page to read from a partition of the table or of an index.
pub(super) struct PageRead<'a> {
    pub index: Option<Index>,
    pub pk: String,
    pub sort_keys: SortKeys<'a>,
    /// Where the page starts (after this key): the table's key, and the index's with it.
    pub start: Option<Item>,
    pub projection: &'a [&'a str],
    pub limit: usize,
    /// Newest first, for sort keys that are UUIDv7s.
    pub backwards: bool,
}

/// Which sort keys of the partition a page reads.
pub(super) enum SortKeys<'a> {
    Prefix(&'a str),
    Above(String),
    Between(String, String),
}

impl<'a> PageRead<'a> {
    /// A page of the table's partition `pk`, items under `sk_prefix` in order, all attributes,
    /// starting after the cursor's key.
    pub fn of(pk: String, sk_prefix: &'a str, page: &'a crate::domain::PageRequest) -> Self {
        let start = page.after.as_ref().map(|cursor| key(pk.clone(), format!("{sk_prefix}{}", cursor.after)));
        PageRead {
            index: None,
            pk,
            sort_keys: SortKeys::Prefix(sk_prefix),
            start,
            projection: &[],
            limit: page.limit,
            backwards: false,
        }
    }

    /// A page of an index's partition `pk`, starting after the item `after` (its table key and
    /// its index sort key).
    pub fn of_index(
        index: Index,
        pk: String,
        sort_keys: SortKeys<'a>,
        after: Option<(Item, String)>,
        limit: usize,
    ) -> Self {
        let start = after.map(|(mut table_key, index_sk)| {
            table_key.insert(index.pk().to_owned(), s(pk.clone()));
            table_key.insert(index.sk().to_owned(), s(index_sk));
            table_key
        });
        PageRead { index: Some(index), pk, sort_keys, start, projection: &[], limit, backwards: false }
    }
}
