//! Bulk invitations: up to [`MAX_ROWS`] rows, each checked as a single create checks it and
//! created as one (its event, its email, its quota slots), with one outcome per row in request
//! order. The checks that need the store read once for every row: the caller's membership, the
//! rows' pending invitations, the project's and the inviter's daily quotas; the creates then run
//! together, each on quota slots read free and distinct from the other rows'.

use super::{
    domain_not_allowed, quota_exceeded, require_grant, require_manager, require_verified, AppError, Invitations,
};
use crate::domain::email_address::domain_of;
use crate::domain::{Caller, Invitation, NewInvitation, ProjectId, QuotaScope};
use futures::StreamExt;
use std::collections::HashSet;

/// The most rows a request takes.
pub const MAX_ROWS: usize = 100;
/// Creates in flight at once: a hundred rows take four rounds of transactions.
const CONCURRENCY: usize = 25;

/// A row's outcome: the invitation created (in a dry run, `None`: it would be), or why not.
pub type RowOutcome = Result<Option<Invitation>, AppError>;

impl Invitations {
    /// Invites every row that passes its checks; with `dry_run`, checks every row and writes
    /// nothing. Fails as a whole only when the caller may not invite in the project.
    #[tracing::instrument(skip_all, fields(rows = rows.len(), dry_run))]
    pub async fn bulk_invite(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        rows: Vec<Result<NewInvitation, AppError>>,
        dry_run: bool,
    ) -> Result<Vec<RowOutcome>, AppError> {
        let (project, membership) = self.store.project_and_membership(project_id, &caller.user_id).await?;
        let role = require_manager(membership.as_ref())?.role;
        let project = project.ok_or(AppError::NotFound)?;
        require_verified(caller)?;

        let mut outcomes: Vec<RowOutcome> = Vec::with_capacity(rows.len());
        let mut candidates: Vec<(usize, NewInvitation)> = Vec::new();
        let mut seen = HashSet::new();
        for (index, row) in rows.into_iter().enumerate() {
            let checked = row.and_then(|new| {
                let domain = domain_of(new.email.normalized());
                if !self.settings.allowed_domains.permits(&domain) || !project.allowed_email_domains.permits(&domain) {
                    return Err(domain_not_allowed());
                }
                require_grant(role, new.role)?;
                if !seen.insert(new.email.normalized().to_owned()) {
                    return Err(duplicate_in_request());
                }
                Ok(new)
            });
            match checked {
                Ok(new) => {
                    outcomes.push(Ok(None));
                    candidates.push((index, new));
                }
                Err(err) => outcomes.push(Err(err)),
            }
        }

        let now = self.now();
        let emails: Vec<String> = candidates.iter().map(|(_, new)| new.email.normalized().to_owned()).collect();
        let daily = self.sending(project_id, caller, now);
        let (markers, project_quota, inviter_quota) = futures::try_join!(
            self.store.pending_in_project(project_id, &emails),
            self.store.quota_use(&daily[0].0, now),
            self.store.quota_use(&daily[1].0, now),
        )?;
        // An expired invitation still holding its address gives way to the new one, as a single
        // create's does; a live one is a duplicate.
        candidates.retain(|(index, new)| {
            let pending = markers.iter().any(|m| m.email_normalized == new.email.normalized() && m.expires_at > now);
            if pending {
                outcomes[*index] = Err(super::error::duplicate_invitation());
            }
            !pending
        });
        let limits = daily.iter().map(|(scope, _)| self.settings.quotas.limit(scope)).collect::<Vec<_>>();
        let free = [project_quota.free_slots(limits[0]), inviter_quota.free_slots(limits[1])];
        let mut slotted = Vec::with_capacity(candidates.len());
        for (n, (index, new)) in candidates.into_iter().enumerate() {
            match (free[0].get(n), free[1].get(n)) {
                (Some(project_slot), Some(inviter_slot)) => slotted.push((index, new, [*project_slot, *inviter_slot])),
                (None, _) => outcomes[index] = Err(quota_exceeded(&daily[0].0, limits[0], &project_quota, now)),
                (_, None) => outcomes[index] = Err(quota_exceeded(&daily[1].0, limits[1], &inviter_quota, now)),
            }
        }

        if dry_run {
            let limit = self.settings.quotas.pending_per_address;
            let reads = slotted.iter().map(|(index, new, _)| async move {
                let scope = QuotaScope::AddressPending(new.email.normalized().to_owned());
                let used = self.store.quota_use(&scope, now).await?;
                let full = used.free_slots(limit).is_empty();
                Ok::<_, AppError>(full.then(|| (*index, quota_exceeded(&scope, limit, &used, now))))
            });
            for (index, refusal) in futures::future::try_join_all(reads).await?.into_iter().flatten() {
                outcomes[index] = Err(refusal);
            }
            return Ok(outcomes);
        }

        let creates = futures::stream::iter(slotted).map(|(index, new, slots)| async move {
            (index, self.create_invitation_on(caller, project_id, new, &slots).await)
        });
        let created: Vec<_> = creates.buffer_unordered(CONCURRENCY).collect().await;
        for (index, result) in created {
            outcomes[index] = result.map(Some);
        }
        tracing::info!(created = outcomes.iter().filter(|o| matches!(o, Ok(Some(_)))).count(), "bulk invitations");
        Ok(outcomes)
    }
}

fn duplicate_in_request() -> AppError {
    AppError::invalid("duplicate_in_request", Some("email"), "This address is already invited by an earlier row.")
}
