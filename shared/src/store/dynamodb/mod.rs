//! The DynamoDB store: the access patterns in `store/mod.rs`, each rule a key or a condition.
//! `items` maps domain values to items, `reads` and `transactions` talk to the table.

mod items;

/// The item an event is written as (what the local run feeds the pipes with).
pub use items::event_item;
mod reads;
mod transactions;

use super::*;
use crate::aws_errors::{classify, Fault};
use crate::cause::Cause;
use crate::domain::Cursor;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, StreamSpecification, StreamViewType,
};
use aws_sdk_dynamodb::Client;
use items::*;
use reads::{PageRead, SortKeys};
use transactions::{Cancelled, Condition};

/// How long events are kept unless the deployment says otherwise (`EVENT_RETENTION`).
pub const DEFAULT_EVENT_RETENTION: time::Duration = time::Duration::days(400);

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    event_retention: time::Duration,
}

impl DynamoStore {
    /// The project's owners, read consistently: its members filtered by rank (a project has few
    /// members beside its owners that this reads past, and only an owner's demotion asks).
    async fn owners(&self, project_id: &ProjectId) -> StoreResult<Vec<Membership>> {
        let owner = Condition::new("#rank = :owner").name("#rank", "rank").value(":owner", n(Role::Owner.rank()));
        let items = self.query_all(project_pk(project_id), "MEMBER#", Some(owner)).await?;
        items.iter().map(member_from).collect()
    }

    /// Projects by id, eventually consistent (a project's name and settings), absent ones left out.
    async fn project_items(&self, ids: impl Iterator<Item = &ProjectId>) -> StoreResult<Vec<Project>> {
        let keys: Vec<Item> = ids.map(project_key).collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let items = self.batch_read(keys, false).await?;
        items.iter().map(project_from).collect()
    }

    /// A page of invitations read through an index ([`DynamoStore::index_page`]), in the
    /// filter's order; one whose state moved on since the index saw it is left out.
    async fn invitation_page(
        &self,
        reads: Vec<PageRead<'_>>,
        prefix: &str,
        filter: &InvitationFilter,
        now: OffsetDateTime,
    ) -> StoreResult<Page<Invitation>> {
        let (items, next) = self.index_page(reads, prefix).await?;
        let mut invitations = items.iter().map(invitation_from).collect::<StoreResult<Vec<_>>>()?;
        invitations.retain(|i| filter.matches(i, now));
        invitations.sort_by_cached_key(|i| filter.list_key(i));
        Ok(Page { items: invitations, next })
    }

    /// The invitations to one address in a project, by creation, the filter's other conditions
    /// applied to what is read: an address holds few invitations in a project (one pending at
    /// most), so index pages are read until the page is full and one more is found.
    async fn invitations_to(
        &self,
        project_id: &ProjectId,
        email: &str,
        filter: &InvitationFilter,
        now: OffsetDateTime,
        page: &PageRequest,
    ) -> StoreResult<Page<Invitation>> {
        let mut found = Vec::new();
        let mut after = page.after.clone();
        loop {
            let start = after.as_ref().map(|cursor| invitation_start(project_id, cursor, "INVITATION#")).transpose()?;
            let partition = email_partition(project_id, email);
            let read = PageRead::of_index(Index::Gsi3, partition, SortKeys::Prefix("INVITATION#"), start, page.limit);
            let Page { items, next } = self.invitation_page(vec![read], "INVITATION#", filter, now).await?;
            found.extend(items);
            // One past the page tells whether more follow: no empty last page.
            if found.len() > page.limit || next.is_none() {
                let more = found.len() > page.limit;
                found.truncate(page.limit);
                let next = more.then(|| found.last().map(|i| Cursor { after: i.id.to_string() })).flatten();
                return Ok(Page { items: found, next });
            }
            after = next;
        }
    }

    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into(), event_retention: DEFAULT_EVENT_RETENTION }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Events expire (DynamoDB's TTL) this long after they happened.
    pub fn retaining_events_for(mut self, retention: time::Duration) -> Self {
        self.event_retention = retention;
        self
    }

    /// Creates the table with its stream, as `template.yaml` declares it (for tests and the local
    /// run), and returns the stream's ARN.
    pub async fn create_table(&self) -> StoreResult<String> {
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(internal)
        };
        let key = |name: &str, kind| {
            KeySchemaElement::builder().attribute_name(name).key_type(kind).build().map_err(internal)
        };
        let mut attributes = vec![attribute("PK")?, attribute("SK")?];
        let mut indexes = Vec::new();
        for index in Index::ALL {
            attributes.extend([attribute(index.pk())?, attribute(index.sk())?]);
            let keys_only = Projection::builder().projection_type(ProjectionType::KeysOnly).build();
            let index = GlobalSecondaryIndex::builder()
                .index_name(index.name())
                .key_schema(key(index.pk(), KeyType::Hash)?)
                .key_schema(key(index.sk(), KeyType::Range)?)
                .projection(keys_only)
                .build()
                .map_err(internal)?;
            indexes.push(index);
        }
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(attributes))
            .key_schema(key("PK", KeyType::Hash)?)
            .key_schema(key("SK", KeyType::Range)?)
            .set_global_secondary_indexes(Some(indexes))
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewImage)
                    .build()
                    .map_err(internal)?,
            )
            .send()
            .await
            .map_err(from_sdk)?;
        let description = created.table_description.ok_or_else(|| internal_msg("no table description"))?;
        description.latest_stream_arn.ok_or_else(|| internal_msg("the table has no stream"))
    }
}

/// An SDK call's failure, classified once: transient ones are `Unavailable`, the rest `Internal`.
fn from_sdk<E>(err: SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>) -> StoreError
where
    E: std::error::Error + aws_smithy_types::error::metadata::ProvideErrorMetadata + Send + Sync + 'static,
{
    match classify(err) {
        Fault::Transient(cause) => StoreError::Unavailable(cause),
        Fault::Permanent(cause) => StoreError::Internal(cause),
    }
}

fn internal_msg(text: &str) -> StoreError {
    StoreError::Internal(Cause::msg(text))
}

/// Does `claim` take the address slot `old` holds?
fn takes_over(claim: &QuotaClaim, old: &Invitation) -> bool {
    old.address_slot == Some(claim.slot) && claim.scope == QuotaScope::AddressPending(old.email_normalized.clone())
}

/// A request this code could not build: a bug.
fn internal(err: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Internal(Cause::new(err))
}

#[async_trait]
impl Store for DynamoStore {
    async fn create_project(
        &self,
        project: &Project,
        owner: &Membership,
        events: &[Event],
        claims: &[QuotaClaim],
    ) -> StoreResult<()> {
        let absent = || Some(Condition::new("attribute_not_exists(PK)"));
        let mut items = vec![self.put(project_item(project), absent())?, self.put(member_item(owner), absent())?];
        for event in events {
            items.push(self.event_put(event)?);
        }
        let first_claim = items.len();
        for claim in claims {
            items.push(self.claim_put(claim, project.created_at)?);
        }
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(c) => Err(match c.first_failure() {
                Some((i, _)) if i >= first_claim => StoreError::QuotaSlotTaken(i - first_claim),
                Some(_) => StoreError::AlreadyExists,
                None => c.into_other(),
            }),
        }
    }

    async fn quota_use(&self, scope: &QuotaScope, now: OffsetDateTime) -> StoreResult<QuotaUse> {
        let items = self.query_partition(quota_pk(scope)).await?;
        let slots = items.iter().map(quota_slot_from).collect::<StoreResult<Vec<_>>>()?;
        let held: Vec<_> = slots.into_iter().filter(|(_, until)| *until > now).collect();
        let next_free_at = held.iter().map(|(_, until)| *until).min();
        Ok(QuotaUse { held: held.into_iter().map(|(slot, _)| slot).collect(), next_free_at })
    }

    async fn project_and_membership(
        &self,
        project_id: &ProjectId,
        user_id: &UserId,
    ) -> StoreResult<(Option<Project>, Option<Membership>)> {
        self.read_pair(project_key(project_id), project_from, member_key(project_id, user_id), member_from).await
    }

    async fn members(&self, project_id: &ProjectId, page: &PageRequest) -> StoreResult<Page<Membership>> {
        let (items, more) = self
            .query_page(PageRead { projection: &[], ..PageRead::of(project_pk(project_id), "MEMBER#", page) })
            .await?;
        let members = items.iter().map(member_from).collect::<StoreResult<Vec<_>>>()?;
        let next = more.then(|| members.last().map(|m| Cursor { after: m.user_id.to_string() })).flatten();
        Ok(Page { items: members, next })
    }

    async fn members_by_id(&self, project_id: &ProjectId, user_ids: &[UserId]) -> StoreResult<Vec<Membership>> {
        let items = self.batch_get(user_ids.iter().map(|user| member_key(project_id, user)).collect()).await?;
        items.iter().map(member_from).collect()
    }

    async fn another_owner(&self, project_id: &ProjectId, except: &UserId) -> StoreResult<Option<Membership>> {
        let owners = self.owners(project_id).await?;
        Ok(owners.into_iter().find(|owner| owner.user_id != *except))
    }

    async fn change_member(&self, update: MemberUpdate<'_>) -> StoreResult<()> {
        match self.transact(self.member_change_items(update)?).await {
            Ok(()) => Ok(()),
            Err(cancelled) => Err(match cancelled.first_failure() {
                Some(_) => StoreError::Conflict,
                None => cancelled.into_other(),
            }),
        }
    }

    async fn slack_integration(&self, project_id: &ProjectId) -> StoreResult<Option<SlackIntegration>> {
        let items = self.batch_get(vec![slack_key(project_id)]).await?;
        items.first().map(slack_from).transpose()
    }

    async fn set_slack_integration(
        &self,
        project_id: &ProjectId,
        integration: Option<&SlackIntegration>,
        owner: &Membership,
        event: &Event,
    ) -> StoreResult<()> {
        let owner_check = Condition::new("#rank = :owner").name("#rank", "rank").value(":owner", n(Role::Owner.rank()));
        let items = vec![
            match integration {
                Some(integration) => self.put(slack_item(integration), None)?,
                None => self.delete(slack_key(project_id), Condition::new("attribute_exists(PK)"))?,
            },
            self.check(member_key(&owner.project_id, &owner.user_id), owner_check)?,
            self.event_put(event)?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(cancelled) => Err(match cancelled.first_failure() {
                Some(_) => StoreError::Conflict,
                None => cancelled.into_other(),
            }),
        }
    }

    async fn projects_of(&self, user_id: &UserId, page: &PageRequest) -> StoreResult<Page<(Project, Membership)>> {
        let after = page.after.as_ref().and_then(|cursor| {
            let project_id = ProjectId::parse(&cursor.after).ok()?;
            Some((member_key(&project_id, user_id), format!("PROJECT#{project_id}")))
        });
        let partition = user_projects_partition(user_id);
        let read = PageRead::of_index(Index::Gsi1, partition, SortKeys::Prefix("PROJECT#"), after, page.limit);
        let (items, next) = self.index_page(vec![read], "PROJECT#").await?;
        let mut memberships = items.iter().map(member_from).collect::<StoreResult<Vec<_>>>()?;
        memberships.sort_by(|a, b| a.project_id.as_str().cmp(b.project_id.as_str()));
        let projects = self.project_items(memberships.iter().map(|m| &m.project_id)).await?;
        let rows = memberships
            .into_iter()
            .filter_map(|m| Some((projects.iter().find(|p| p.id == m.project_id)?.clone(), m)))
            .collect();
        Ok(Page { items: rows, next })
    }

    async fn pending_in_project(
        &self,
        project_id: &ProjectId,
        emails: &[String],
    ) -> StoreResult<Vec<PendingInvitation>> {
        let keys = emails.iter().map(|email| key(invitee_pk(email), project_pk(project_id))).collect();
        let items = self.batch_get(keys).await?;
        items.iter().map(marker_from).collect()
    }

    async fn begin_request(&self, record: &RequestRecord, now: OffsetDateTime) -> StoreResult<Option<RequestRecord>> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(request_item(record)?))
            .condition_expression(
                "attribute_not_exists(PK) OR expires_at <= :now OR #state = :released \
                 OR (#state = :running AND lease_until <= :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":released", s("released"))
            .expression_attribute_values(":running", s("running"))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => match failed.item() {
                    Some(held) => Ok(Some(request_from(held)?)),
                    None => Err(internal_msg("a failed condition without the item that failed it")),
                },
                _ => Err(from_sdk(err)),
            },
        }
    }

    async fn finish_request(&self, record: &RequestRecord) -> StoreResult<()> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(request_item(record)?))
            .condition_expression("#token = :token")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":token", s(record.token.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Another run took the key over (this one outlived its lease): its outcome stands.
            Err(err) if matches!(err.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) => {
                Ok(())
            }
            Err(err) => Err(from_sdk(err)),
        }
    }

    async fn create_invitation(
        &self,
        invitation: &Invitation,
        guard: &CreateGuard,
        supersedes: Option<Transition<'_>>,
        event: &Event,
        claims: &[QuotaClaim],
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
            self.put(invitation_item(invitation)?, Some(Condition::new("attribute_not_exists(PK)")))?,
        ];
        match supersedes {
            None => items.push(self.put(marker_item(invitation), Some(Condition::new("attribute_not_exists(PK)")))?),
            Some(old) => {
                let still_old = Condition::new("invitation_id = :old").value(":old", s(old.from.id.to_string()));
                items.push(self.put(marker_item(invitation), Some(still_old))?);
                let version = Condition::new("#version = :version")
                    .name("#version", "version")
                    .value(":version", n(old.from.version));
                items.push(self.put(invitation_item(old.to)?, Some(version))?);
                items.push(self.event_put(old.event)?);
                // The new invitation may claim the very slot the old one frees: then it takes
                // it over (one write of that item), else the old one's is released.
                if !claims.iter().any(|claim| takes_over(claim, old.from)) {
                    items.extend(self.address_slot_release(old.from, old.to)?);
                }
            }
        }
        items.push(self.event_put(event)?);
        let first_claim = items.len();
        for claim in claims {
            let previous = supersedes.filter(|old| takes_over(claim, old.from)).map(|old| old.from.id.to_string());
            items.push(self.claim_put_from(claim, event.at, previous.as_deref())?);
        }
        let cancelled = match self.transact(items).await {
            Ok(()) => return Ok(()),
            Err(cancelled) => cancelled,
        };
        Err(match cancelled.first_failure() {
            Some((i, _)) if i >= first_claim => StoreError::QuotaSlotTaken(i - first_claim),
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
        project_id: &ProjectId,
        invitation_id: InvitationId,
        user_id: &UserId,
    ) -> StoreResult<(Option<Invitation>, Option<Membership>)> {
        let invitation = invitation_key(project_id, invitation_id);
        self.read_pair(invitation, invitation_from, member_key(project_id, user_id), member_from).await
    }

    async fn invitation_and_project(
        &self,
        project_id: &ProjectId,
        invitation_id: InvitationId,
    ) -> StoreResult<(Option<Invitation>, Option<Project>)> {
        self.read_pair(
            invitation_key(project_id, invitation_id),
            invitation_from,
            project_key(project_id),
            project_from,
        )
        .await
    }

    async fn invitations(
        &self,
        project_id: &ProjectId,
        filter: &InvitationFilter,
        now: OffsetDateTime,
        page: &PageRequest,
    ) -> StoreResult<Page<Invitation>> {
        if let Some(email) = &filter.email {
            return self.invitations_to(project_id, email, filter, now, page).await;
        }
        let Some(status) = filter.status else {
            if !filter.delivery.is_empty() {
                let after = page
                    .after
                    .as_ref()
                    .map(|cursor| invitation_start(project_id, cursor, "INVITATION#"))
                    .transpose()?;
                let reads = (filter.delivery.iter())
                    .map(|delivery| {
                        let partition = delivery_partition(project_id, *delivery);
                        let sort_keys = SortKeys::Prefix("INVITATION#");
                        PageRead::of_index(Index::Gsi2, partition, sort_keys, after.clone(), page.limit)
                    })
                    .collect();
                return self.invitation_page(reads, "INVITATION#", filter, now).await;
            }
            let read =
                PageRead { projection: INVITATION_FIELDS, ..PageRead::of(project_pk(project_id), "INVITATION#", page) };
            let (items, more) = self.query_page(read).await?;
            let invitations = items.iter().map(invitation_from).collect::<StoreResult<Vec<_>>>()?;
            let next = more.then(|| invitations.last().map(|i| Cursor { after: i.id.to_string() })).flatten();
            return Ok(Page { items: invitations, next });
        };
        let (_, prefix) = status_partition(project_id, status);
        let sort_keys = || match status {
            InvitationStatus::Pending => SortKeys::Above(format!("{prefix}{}", expired_by(now))),
            InvitationStatus::Expired => SortKeys::Between(prefix.to_owned(), format!("{prefix}{}", expired_by(now))),
            _ => SortKeys::Prefix(prefix),
        };
        let after = match &page.after {
            // What lapsed since the previous page is behind the pending list's start now.
            Some(cursor) if status == InvitationStatus::Pending && cursor.after <= expired_by(now) => None,
            Some(cursor) => Some(invitation_start(project_id, cursor, prefix)?),
            None => None,
        };
        let reads = if filter.delivery.is_empty() {
            let (partition, _) = status_partition(project_id, status);
            vec![PageRead::of_index(Index::Gsi1, partition, sort_keys(), after, page.limit)]
        } else {
            (filter.delivery.iter())
                .map(|delivery| {
                    let (partition, _) = status_delivery_partition(project_id, status, *delivery);
                    PageRead::of_index(Index::Gsi4, partition, sort_keys(), after.clone(), page.limit)
                })
                .collect()
        };
        self.invitation_page(reads, prefix, filter, now).await
    }

    async fn events(
        &self,
        project_id: &ProjectId,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Event>> {
        let Some((index, partition)) = event_partition(project_id, filter.kind, filter.invitation_id) else {
            let read = PageRead { backwards: true, ..PageRead::of(project_pk(project_id), "EVENT#", page) };
            let (items, more) = self.query_page(read).await?;
            let events = items.iter().map(event_from).collect::<StoreResult<Vec<_>>>()?;
            let next = more.then(|| events.last().map(|e| Cursor { after: e.id.to_string() })).flatten();
            return Ok(Page { items: events, next });
        };
        let after = page.after.as_ref().map(|cursor| {
            let sort_key = format!("EVENT#{}", cursor.after);
            (key(project_pk(project_id), sort_key.clone()), sort_key)
        });
        let read = PageRead {
            backwards: true,
            ..PageRead::of_index(index, partition, SortKeys::Prefix("EVENT#"), after, page.limit)
        };
        let (items, next) = self.index_page(vec![read], "EVENT#").await?;
        let mut events = items.iter().map(event_from).collect::<StoreResult<Vec<_>>>()?;
        events.sort_by_key(|event| std::cmp::Reverse(event.id));
        Ok(Page { items: events, next })
    }

    async fn pending_for_email(&self, email_normalized: &str) -> StoreResult<Vec<PendingInvitation>> {
        let items = self.query_partition(invitee_pk(email_normalized)).await?;
        items.iter().map(marker_from).collect()
    }

    async fn pending_page(&self, email_normalized: &str, page: &PageRequest) -> StoreResult<Page<PendingInvitation>> {
        let (items, more) = self.query_page(PageRead::of(invitee_pk(email_normalized), "PROJECT#", page)).await?;
        let markers = items.iter().map(marker_from).collect::<StoreResult<Vec<_>>>()?;
        let next = more.then(|| markers.last().map(|m| Cursor { after: m.project_id.to_string() })).flatten();
        Ok(Page { items: markers, next })
    }

    async fn invitations_by_key(&self, keys: &[InvitationKey]) -> StoreResult<Vec<Invitation>> {
        let items = self.batch_get(keys.iter().map(|(pid, id)| invitation_key(pid, *id)).collect()).await?;
        Ok(in_key_order(items.iter().map(invitation_from).collect::<StoreResult<Vec<_>>>()?, keys))
    }

    async fn memberships(&self, user_id: &UserId, project_ids: &[ProjectId]) -> StoreResult<Vec<Membership>> {
        let items = self.batch_get(project_ids.iter().map(|pid| member_key(pid, user_id)).collect()).await?;
        items.iter().map(member_from).collect()
    }

    async fn invitations_and_memberships(
        &self,
        keys: &[InvitationKey],
        user_id: &UserId,
    ) -> StoreResult<(Vec<Invitation>, Vec<Membership>)> {
        let mut projects: Vec<&ProjectId> = keys.iter().map(|(pid, _)| pid).collect();
        projects.sort();
        projects.dedup();
        let wanted = keys.iter().map(|(pid, id)| invitation_key(pid, *id));
        let items =
            self.batch_get(wanted.chain(projects.into_iter().map(|pid| member_key(pid, user_id))).collect()).await?;
        let (members, invitations): (Vec<_>, Vec<_>) =
            items.iter().partition(|item| sort_key(item).starts_with("MEMBER#"));
        let invitations = invitations.into_iter().map(invitation_from).collect::<StoreResult<Vec<_>>>()?;
        let members = members.into_iter().map(member_from).collect::<StoreResult<Vec<_>>>()?;
        Ok((in_key_order(invitations, keys), members))
    }

    async fn save(&self, transition: Transition<'_>) -> StoreResult<()> {
        let items = self.transition_items(transition)?;
        let marker_put =
            transition.to.email_normalized != transition.from.email_normalized && transition.to.is_pending();
        // Moving to a new address writes: the invitation, the old marker's delete, the new marker.
        let marker = 2;
        let first_claim = items.len() - transition.claims.len();
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(cancelled) => Err(match cancelled.first_failure() {
                Some((i, _)) if i >= first_claim => StoreError::QuotaSlotTaken(i - first_claim),
                Some((i, Some(found))) if marker_put && i == marker => {
                    StoreError::DuplicatePending(marker_from(found)?)
                }
                Some(_) => StoreError::Conflict,
                None => cancelled.into_other(),
            }),
        }
    }

    async fn accept_batch(&self, acceptances: &[Acceptance<'_>]) -> StoreResult<()> {
        let mut items = Vec::with_capacity(acceptances.len() * 5);
        for Acceptance { transition, grant, member_event } in acceptances {
            items.extend(self.transition_items(*transition)?);
            items.push(self.grant_item(transition.to, grant)?);
            if let Some(event) = member_event {
                items.push(self.event_put(event)?);
            }
        }
        self.transact(items).await.map_err(Cancelled::into_other)
    }
}

/// Invitations read by key, in the order of `keys`.
fn in_key_order(mut found: Vec<Invitation>, keys: &[InvitationKey]) -> Vec<Invitation> {
    found.sort_by_key(|i| keys.iter().position(|(pid, id)| *pid == i.project_id && *id == i.id));
    found
}

/// Where an index page of invitations starts: after the invitation the cursor names (its table
/// key, and its index sort key: `prefix` and the cursor's list key).
fn invitation_start(project_id: &ProjectId, cursor: &Cursor, prefix: &str) -> StoreResult<(Item, String)> {
    let id = id_of_list_key(&cursor.after).ok_or_else(|| internal_msg("a cursor that is no list key"))?;
    Ok((invitation_key(project_id, id), format!("{prefix}{}", cursor.after)))
}
