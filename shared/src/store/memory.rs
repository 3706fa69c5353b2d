//! The in-memory store: the local run's storage and the fast unit tests'. One mutex makes every
//! operation atomic, so each check-then-write below is what DynamoDB does with a condition.

use super::*;
use crate::domain::Cursor;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

#[derive(Debug, Default)]
struct State {
    projects: HashMap<ProjectId, Project>,
    members: BTreeMap<(ProjectId, UserId), Membership>,
    invitations: BTreeMap<InvitationKey, Invitation>,
    /// Pending markers keyed by (normalized email, project).
    markers: BTreeMap<(String, ProjectId), PendingInvitation>,
    events: BTreeMap<(ProjectId, uuid::Uuid), Event>,
    slack: HashMap<ProjectId, crate::domain::slack::SlackIntegration>,
    /// Keyed requests by scope.
    requests: HashMap<String, crate::domain::idempotency::RequestRecord>,
    /// Quota slots by (scope key, slot): held until, by whom.
    quotas: BTreeMap<(String, u32), (OffsetDateTime, String)>,
    /// Every event in commit order: the local run's stand-in for the table's stream.
    feed: Vec<Event>,
}

#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// The events committed after the first `position` ones, in commit order: what the table's
    /// stream would carry.
    pub fn events_since(&self, position: usize) -> Vec<Event> {
        self.lock().feed.get(position..).map(<[Event]>::to_vec).unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied write: every mutation below
        // happens after all checks passed.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn check_current(&self, from: &Invitation) -> StoreResult<()> {
        match self.invitations.get(&(from.project_id.clone(), from.id)) {
            Some(stored) if stored.version == from.version => Ok(()),
            _ => Err(StoreError::Conflict),
        }
    }

    fn marker_points_to(&self, invitation: &Invitation) -> bool {
        self.markers
            .get(&(invitation.email_normalized.clone(), invitation.project_id.clone()))
            .is_some_and(|m| m.invitation_id == invitation.id)
    }

    fn marker_free(&self, invitation: &Invitation) -> StoreResult<()> {
        match self.markers.get(&(invitation.email_normalized.clone(), invitation.project_id.clone())) {
            Some(existing) if existing.invitation_id != invitation.id => {
                Err(StoreError::DuplicatePending(existing.clone()))
            }
            _ => Ok(()),
        }
    }

    /// Checks that writing `to` over `from` keeps one marker per pending invitation.
    fn check_marker_move(&self, Transition { from, to, .. }: Transition<'_>) -> StoreResult<()> {
        // A marker may be gone (its TTL ran out after the invitation expired), never elsewhere.
        let marker = self.markers.get(&(from.email_normalized.clone(), from.project_id.clone()));
        if from.is_pending() && marker.is_some_and(|m| m.invitation_id != from.id) {
            return Err(StoreError::Conflict);
        }
        if to.is_pending() && to.email_normalized != from.email_normalized {
            self.marker_free(to)?;
        }
        Ok(())
    }

    fn check_claims(&self, claims: &[QuotaClaim], now: OffsetDateTime) -> StoreResult<()> {
        self.check_claims_freeing(claims, now, None)
    }

    /// `QuotaSlotTaken` with the index of the first claim whose slot is held at `now` (by anyone
    /// but `freed_by`, whose slot the same write frees).
    fn check_claims_freeing(
        &self,
        claims: &[QuotaClaim],
        now: OffsetDateTime,
        freed_by: Option<&str>,
    ) -> StoreResult<()> {
        let taken = claims.iter().position(|claim| {
            self.quotas
                .get(&(claim.scope.key(), claim.slot))
                .is_some_and(|(until, holder)| *until > now && Some(holder.as_str()) != freed_by)
        });
        match taken {
            Some(index) => Err(StoreError::QuotaSlotTaken(index)),
            None => Ok(()),
        }
    }

    fn hold(&mut self, claims: &[QuotaClaim]) {
        for claim in claims {
            self.quotas.insert((claim.scope.key(), claim.slot), (claim.until, claim.holder.clone()));
        }
    }

    /// Leaving pending, or moving to another address, frees the old address's slot.
    fn release_address_slot(&mut self, from: &Invitation, to: &Invitation) {
        let left = from.is_pending() && (!to.is_pending() || to.email_normalized != from.email_normalized);
        if let (true, Some(slot)) = (left, from.address_slot) {
            let key = (QuotaScope::AddressPending(from.email_normalized.clone()).key(), slot);
            if self.quotas.get(&key).is_some_and(|(_, holder)| *holder == from.id.to_string()) {
                self.quotas.remove(&key);
            }
        }
    }

    fn record(&mut self, event: &Event) {
        self.events.insert((event.project_id.clone(), event.id), event.clone());
        self.feed.push(event.clone());
    }

    fn apply(&mut self, Transition { from, to, event, claims }: Transition<'_>) {
        self.record(event);
        self.release_address_slot(from, to);
        self.hold(to.renewed_address_hold(from).as_slice());
        self.hold(claims);
        if from.is_pending() {
            self.markers.remove(&(from.email_normalized.clone(), from.project_id.clone()));
        }
        if to.is_pending() {
            self.markers.insert((to.email_normalized.clone(), to.project_id.clone()), PendingInvitation::of(to));
        }
        self.invitations.insert((to.project_id.clone(), to.id), to.clone());
    }
}

/// A page of `items` (keyed, in list order) after the cursor; `follows(key, cursor)` says whether
/// a key comes after the cursor's in that order.
fn page_of<T: Clone>(
    items: impl Iterator<Item = (String, T)>,
    page: &PageRequest,
    follows: fn(&str, &str) -> bool,
) -> Page<T> {
    let mut out: Vec<(String, T)> = items
        .filter(|(key, _)| page.after.as_ref().is_none_or(|c| follows(key, &c.after)))
        .take(page.limit + 1)
        .collect();
    let more = out.len() > page.limit;
    out.truncate(page.limit);
    let next = if more { out.last().map(|(key, _)| Cursor { after: key.clone() }) } else { None };
    Page { items: out.into_iter().map(|(_, item)| item).collect(), next }
}

#[async_trait]
impl Store for MemoryStore {
    async fn create_project(
        &self,
        project: &Project,
        owner: &Membership,
        events: &[Event],
        claims: &[QuotaClaim],
    ) -> StoreResult<()> {
        let mut state = self.lock();
        if state.projects.contains_key(&project.id) {
            return Err(StoreError::AlreadyExists);
        }
        state.check_claims(claims, project.created_at)?;
        state.hold(claims);
        state.projects.insert(project.id.clone(), project.clone());
        state.members.insert((project.id.clone(), owner.user_id.clone()), owner.clone());
        events.iter().for_each(|event| state.record(event));
        Ok(())
    }

    async fn project_and_membership(
        &self,
        project_id: &ProjectId,
        user_id: &UserId,
    ) -> StoreResult<(Option<Project>, Option<Membership>)> {
        let state = self.lock();
        Ok((
            state.projects.get(project_id).cloned(),
            state.members.get(&(project_id.clone(), user_id.clone())).cloned(),
        ))
    }

    async fn members(&self, project_id: &ProjectId, page: &PageRequest) -> StoreResult<Page<Membership>> {
        let state = self.lock();
        let members = state
            .members
            .iter()
            .filter(|((pid, _), _)| pid == project_id)
            .map(|((_, user), m)| (user.to_string(), m.clone()));
        Ok(page_of(members, page, |key, after| key > after))
    }

    async fn members_by_id(&self, project_id: &ProjectId, user_ids: &[UserId]) -> StoreResult<Vec<Membership>> {
        let state = self.lock();
        Ok(user_ids.iter().filter_map(|user| state.members.get(&(project_id.clone(), user.clone())).cloned()).collect())
    }

    async fn another_owner(&self, project_id: &ProjectId, except: &UserId) -> StoreResult<Option<Membership>> {
        let state = self.lock();
        let mut owners = state.members.values().filter(|m| m.project_id == *project_id && m.role == Role::Owner);
        Ok(owners.find(|m| m.user_id != *except).cloned())
    }

    async fn change_member(&self, update: MemberUpdate<'_>) -> StoreResult<()> {
        let mut state = self.lock();
        let stored = |m: &Membership| state.members.get(&(m.project_id.clone(), m.user_id.clone()));
        let unchanged = |m: &Membership| stored(m).is_some_and(|s| s.role == m.role);
        let slack_unchanged = stored(update.from).is_some_and(|s| s.slack == update.from.slack);
        let acting_on_self = update.actor.user_id == update.from.user_id;
        if !unchanged(update.from)
            || !slack_unchanged
            || (!acting_on_self && !unchanged(update.actor))
            || update.remaining_owner.is_some_and(|owner| !unchanged(owner))
        {
            return Err(StoreError::Conflict);
        }
        let key = (update.from.project_id.clone(), update.from.user_id.clone());
        match update.to {
            Some(to) => state.members.insert(key, to.clone()),
            None => state.members.remove(&key),
        };
        if let Some(event) = update.event {
            state.record(event);
        }
        Ok(())
    }

    async fn slack_integration(&self, project_id: &ProjectId) -> StoreResult<Option<SlackIntegration>> {
        Ok(self.lock().slack.get(project_id).cloned())
    }

    async fn set_slack_integration(
        &self,
        project_id: &ProjectId,
        integration: Option<&SlackIntegration>,
        owner: &Membership,
        event: &Event,
    ) -> StoreResult<()> {
        let mut state = self.lock();
        let key = (owner.project_id.clone(), owner.user_id.clone());
        if state.members.get(&key).is_none_or(|m| m.role != Role::Owner) {
            return Err(StoreError::Conflict);
        }
        match integration {
            Some(integration) => state.slack.insert(project_id.clone(), integration.clone()),
            None => state.slack.remove(project_id),
        };
        state.record(event);
        Ok(())
    }

    async fn projects_of(&self, user_id: &UserId, page: &PageRequest) -> StoreResult<Page<(Project, Membership)>> {
        let state = self.lock();
        let mut rows: Vec<(String, (Project, Membership))> = state
            .members
            .values()
            .filter(|m| m.user_id == *user_id)
            .filter_map(|m| Some((m.project_id.to_string(), (state.projects.get(&m.project_id)?.clone(), m.clone()))))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(page_of(rows.into_iter(), page, |key, after| key > after))
    }

    async fn pending_in_project(
        &self,
        project_id: &ProjectId,
        emails: &[String],
    ) -> StoreResult<Vec<PendingInvitation>> {
        let state = self.lock();
        Ok(emails.iter().filter_map(|email| state.markers.get(&(email.clone(), project_id.clone())).cloned()).collect())
    }

    async fn begin_request(&self, record: &RequestRecord, now: OffsetDateTime) -> StoreResult<Option<RequestRecord>> {
        let mut state = self.lock();
        match state.requests.get(&record.scope) {
            Some(held) if !held.is_free(now) => Ok(Some(held.clone())),
            _ => {
                state.requests.insert(record.scope.clone(), record.clone());
                Ok(None)
            }
        }
    }

    async fn finish_request(&self, record: &RequestRecord) -> StoreResult<()> {
        let mut state = self.lock();
        if state.requests.get(&record.scope).is_some_and(|held| held.token == record.token) {
            state.requests.insert(record.scope.clone(), record.clone());
        }
        Ok(())
    }

    async fn create_invitation(
        &self,
        invitation: &Invitation,
        guard: &CreateGuard,
        supersedes: Option<Transition<'_>>,
        event: &Event,
        claims: &[QuotaClaim],
    ) -> StoreResult<()> {
        let mut state = self.lock();
        let inviter = state.members.get(&(invitation.project_id.clone(), guard.inviter.clone()));
        match inviter {
            None => return Err(StoreError::NotMember),
            Some(m) if m.role < guard.min_inviter_role => return Err(StoreError::RoleTooLow { actual: m.role }),
            Some(_) => {}
        }
        let project = state.projects.get(&invitation.project_id).ok_or(StoreError::ProjectNotFound)?;
        let allowed = project.allowed_email_domains.patterns();
        if !allowed.is_empty() && !guard.domain_candidates.iter().any(|c| allowed.contains(c)) {
            return Err(StoreError::DomainNotAllowed);
        }
        if state.invitations.contains_key(&(invitation.project_id.clone(), invitation.id)) {
            return Err(StoreError::AlreadyExists);
        }
        // The slot the replaced invitation frees is free for the new one.
        let freed = supersedes.map(|old| old.from.id.to_string());
        // Checked in the order the DynamoDB transaction reports them: the address, then quotas.
        if let Some(old) = supersedes {
            state.check_current(old.from)?;
            if !state.marker_points_to(old.from) || old.from.email_normalized != invitation.email_normalized {
                return Err(StoreError::Conflict);
            }
        } else {
            state.marker_free(invitation)?;
        }
        state.check_claims_freeing(claims, invitation.created_at, freed.as_deref())?;
        if let Some(old) = supersedes {
            state.apply(old);
        }
        state.invitations.insert((invitation.project_id.clone(), invitation.id), invitation.clone());
        state.markers.insert(
            (invitation.email_normalized.clone(), invitation.project_id.clone()),
            PendingInvitation::of(invitation),
        );
        state.record(event);
        state.hold(claims);
        Ok(())
    }

    async fn quota_use(&self, scope: &QuotaScope, now: OffsetDateTime) -> StoreResult<QuotaUse> {
        let state = self.lock();
        let key = scope.key();
        let held: Vec<(u32, OffsetDateTime)> = state
            .quotas
            .iter()
            .filter(|((scope, _), (until, _))| *scope == key && *until > now)
            .map(|((_, slot), (until, _))| (*slot, *until))
            .collect();
        Ok(QuotaUse {
            held: held.iter().map(|(slot, _)| *slot).collect(),
            next_free_at: held.iter().map(|(_, u)| *u).min(),
        })
    }

    async fn invitation_and_membership(
        &self,
        project_id: &ProjectId,
        invitation_id: InvitationId,
        user_id: &UserId,
    ) -> StoreResult<(Option<Invitation>, Option<Membership>)> {
        let state = self.lock();
        Ok((
            state.invitations.get(&(project_id.clone(), invitation_id)).cloned(),
            state.members.get(&(project_id.clone(), user_id.clone())).cloned(),
        ))
    }

    async fn invitation_and_project(
        &self,
        project_id: &ProjectId,
        invitation_id: InvitationId,
    ) -> StoreResult<(Option<Invitation>, Option<Project>)> {
        let state = self.lock();
        Ok((
            state.invitations.get(&(project_id.clone(), invitation_id)).cloned(),
            state.projects.get(project_id).cloned(),
        ))
    }

    async fn invitations(
        &self,
        project_id: &ProjectId,
        filter: &InvitationFilter,
        now: OffsetDateTime,
        page: &PageRequest,
    ) -> StoreResult<Page<Invitation>> {
        let state = self.lock();
        let mut items: Vec<(String, Invitation)> = state
            .invitations
            .iter()
            .filter(|((pid, _), inv)| pid == project_id && filter.matches(inv, now))
            .map(|(_, inv)| (filter.list_key(inv), inv.clone()))
            .collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(page_of(items.into_iter(), page, |key, after| key > after))
    }

    async fn events(
        &self,
        project_id: &ProjectId,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Event>> {
        let state = self.lock();
        let newest_first = state
            .events
            .iter()
            .rev()
            .filter(|((pid, _), event)| pid == project_id && filter.matches(event))
            .map(|((_, id), event)| (id.to_string(), event.clone()));
        Ok(page_of(newest_first, page, |key, after| key < after))
    }

    async fn pending_for_email(&self, email_normalized: &str) -> StoreResult<Vec<PendingInvitation>> {
        let state = self.lock();
        Ok(state
            .markers
            .iter()
            .filter(|((email, _), _)| email == email_normalized)
            .map(|(_, marker)| marker.clone())
            .collect())
    }

    async fn pending_page(&self, email_normalized: &str, page: &PageRequest) -> StoreResult<Page<PendingInvitation>> {
        let state = self.lock();
        let markers = state
            .markers
            .iter()
            .filter(|((email, _), _)| email == email_normalized)
            .map(|((_, project), marker)| (project.to_string(), marker.clone()));
        Ok(page_of(markers, page, |key, after| key > after))
    }

    async fn invitations_by_key(&self, keys: &[InvitationKey]) -> StoreResult<Vec<Invitation>> {
        let state = self.lock();
        Ok(keys.iter().filter_map(|key| state.invitations.get(key).cloned()).collect())
    }

    async fn memberships(&self, user_id: &UserId, project_ids: &[ProjectId]) -> StoreResult<Vec<Membership>> {
        let state = self.lock();
        Ok(project_ids.iter().filter_map(|pid| state.members.get(&(pid.clone(), user_id.clone())).cloned()).collect())
    }

    async fn save(&self, transition: Transition<'_>) -> StoreResult<()> {
        let mut state = self.lock();
        state.check_current(transition.from)?;
        state.check_marker_move(transition)?;
        state.check_claims(transition.claims, transition.event.at)?;
        if let Some(renewal) = transition.to.renewed_address_hold(transition.from) {
            // Another invitation took the slot: a conflict, as DynamoDB's condition reports it.
            let (at, holder) = (transition.event.at, Some(renewal.holder.as_str()));
            state.check_claims_freeing(std::slice::from_ref(&renewal), at, holder).map_err(|_| StoreError::Conflict)?;
        }
        state.apply(transition);
        Ok(())
    }

    async fn accept_batch(&self, acceptances: &[Acceptance<'_>]) -> StoreResult<()> {
        let mut state = self.lock();
        // Every condition first, as a transaction does: a stale one writes nothing.
        let member_key = |to: &Invitation| Some((to.project_id.clone(), to.accepted_by.clone()?));
        for Acceptance { transition, grant, .. } in acceptances {
            state.check_current(transition.from)?;
            state.check_marker_move(*transition)?;
            let key = member_key(transition.to).ok_or(StoreError::Conflict)?;
            let current = state.members.get(&key).map(|m| m.role);
            match grant {
                Grant::Keep { existing } if current.is_some_and(|role| role >= *existing) => {}
                Grant::Write { replaces, .. } if current == *replaces => {}
                _ => return Err(StoreError::Conflict),
            }
        }
        for Acceptance { transition, grant, member_event } in acceptances {
            state.apply(*transition);
            if let Some(event) = member_event {
                state.record(event);
            }
            if let (Grant::Write { membership, .. }, Some(key)) = (grant, member_key(transition.to)) {
                state.members.insert(key, membership.clone());
            }
        }
        Ok(())
    }
}
