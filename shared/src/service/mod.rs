//! The application service: each API operation, the sign-up acceptance and the email delivery,
//! as one method over the ports. Edges parse a request into domain values, call one of these,
//! and map the result. One file per side of the product:
//!
//! - `projects`: creating and reading projects, their members;
//! - `bulk`: inviting up to a hundred addresses at once, row by row;
//! - `managing`: a project manager's invitations (create, list, update, resend, revoke) and the
//!   project's event log;
//! - `invitee`: the invitee's side (my invitations, accept, decline);
//! - `signup`: accepting every pending invitation of a new user;
//! - `retries`: keyed requests (`Idempotency-Key`) run once, their answers kept;
//! - `delivery`: sending the email a queued message asks for, and the mail service's events.

mod bulk;
mod delivery;
mod error;
mod invitee;
mod managing;
mod projects;
mod retries;
mod signup;
mod slack;
mod slack_invites;
#[cfg(test)]
mod tests;

pub use bulk::{RowOutcome, MAX_ROWS};
pub use delivery::{EmailDelivery, SendOutcome};
pub use error::AppError;

pub use retries::Keyed;
pub use signup::AcceptReport;
pub use slack_invites::{SlackInvites, SlackOutcome, SlackRequest};

use crate::cause::Cause;
use crate::clock::Clock;
use crate::domain::quota::random_slot;
use crate::domain::{
    Actor, Caller, Event, Invitation, Membership, ProjectId, QuotaClaim, QuotaScope, QuotaUse, Role, Settings,
};
use crate::store::{Store, StoreError, Transition};
use std::future::Future;
use std::sync::Arc;
use time::OffsetDateTime;

/// How many times a read-transition-write is retried when another writer got there first.
const ATTEMPTS: usize = 4;

/// The service: every operation but the sender's, over the store. Every change it makes is
/// written with its event, in one transaction; the events that ask for an email reach the email
/// queue through the table's stream, so no operation here talks to a queue.
#[derive(Clone)]
pub struct Invitations {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: Settings,
}

impl Invitations {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: Settings) -> Self {
        Self { store, clock, settings }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Writes `to` over exactly the `from` that was read, with the event that says what `actor`
    /// changed.
    async fn write(&self, from: &Invitation, to: &Invitation, actor: &Actor) -> Result<(), StoreError> {
        self.write_claiming(from, to, actor, &[]).await
    }

    /// [`Invitations::write`], claiming quota slots in the same transaction.
    async fn write_claiming(
        &self,
        from: &Invitation,
        to: &Invitation,
        actor: &Actor,
        claims: &[QuotaClaim],
    ) -> Result<(), StoreError> {
        let event = Event::transition(from, to, actor, self.clock.now());
        self.store.save(Transition { from, to, event: &event, claims }).await
    }
}

/// A failed attempt: retry it, try another quota slot (the claim's index), or give up with an
/// answer.
enum Failed {
    Retry,
    Slot(usize),
    App(AppError),
}

impl From<AppError> for Failed {
    fn from(err: AppError) -> Self {
        Failed::App(err)
    }
}

impl From<StoreError> for Failed {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict => Failed::Retry,
            StoreError::QuotaSlotTaken(index) => Failed::Slot(index),
            other => Failed::App(other.into()),
        }
    }
}

impl From<crate::domain::TransitionError> for Failed {
    fn from(err: crate::domain::TransitionError) -> Self {
        Failed::App(err.into())
    }
}

/// Runs a read-transition-write until it is not beaten by another writer, [`ATTEMPTS`] times.
async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T, AppError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failed>>,
{
    for _ in 0..ATTEMPTS {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(Failed::App(err)) => return Err(err),
            Err(Failed::Retry) => continue,
            Err(Failed::Slot(_)) => return Err(AppError::Internal(Cause::msg("a quota slot outside a quota"))),
        }
    }
    Err(StoreError::Conflict.into())
}

/// Writes that claim quota slots try this many times, slots taken and races lost included.
const QUOTA_ATTEMPTS: usize = 10;

impl Invitations {
    /// Runs a write that counts against quotas: `write` gets one claim per wanted `(scope,
    /// until)`, on a random slot at first. When a slot is taken, that quota is read: another free
    /// slot is tried, and a quota with none left is a 429 that says which quota and when a slot
    /// frees. A lost race re-runs the write, which reads again.
    async fn counting<T, F, Fut>(
        &self,
        wanted: &[(QuotaScope, OffsetDateTime)],
        holder: &str,
        write: F,
    ) -> Result<T, AppError>
    where
        F: FnMut(Vec<QuotaClaim>) -> Fut,
        Fut: Future<Output = Result<T, Failed>>,
    {
        self.counting_from(wanted, &[], holder, write).await
    }

    /// [`Invitations::counting`], trying `first` slots (of the first quotas wanted) before random
    /// ones: writes made together claim slots known to be free and distinct.
    async fn counting_from<T, F, Fut>(
        &self,
        wanted: &[(QuotaScope, OffsetDateTime)],
        first: &[u32],
        holder: &str,
        mut write: F,
    ) -> Result<T, AppError>
    where
        F: FnMut(Vec<QuotaClaim>) -> Fut,
        Fut: Future<Output = Result<T, Failed>>,
    {
        let quotas = &self.settings.quotas;
        let mut slots: Vec<u32> = wanted
            .iter()
            .enumerate()
            .map(|(i, (scope, _))| first.get(i).copied().unwrap_or_else(|| random_slot(quotas.limit(scope))))
            .collect();
        for _ in 0..QUOTA_ATTEMPTS {
            let claims = wanted
                .iter()
                .zip(&slots)
                .map(|((scope, until), slot)| QuotaClaim {
                    scope: scope.clone(),
                    slot: *slot,
                    until: *until,
                    holder: holder.to_owned(),
                })
                .collect();
            match write(claims).await {
                Ok(value) => return Ok(value),
                Err(Failed::App(err)) => return Err(err),
                Err(Failed::Retry) => continue,
                Err(Failed::Slot(index)) => {
                    let scope = &wanted[index].0;
                    let limit = quotas.limit(scope);
                    let now = self.clock.now();
                    let used = self.store.quota_use(scope, now).await?;
                    let free = used.free_slots(limit);
                    if free.is_empty() {
                        return Err(quota_exceeded(scope, limit, &used, now));
                    }
                    slots[index] = free[random_slot(free.len() as u32) as usize];
                }
            }
        }
        Err(StoreError::Conflict.into())
    }
}

/// The 429 of a quota with no slot free: which quota, and when its first slot frees (a quota
/// that never frees, projects, says a day).
fn quota_exceeded(scope: &QuotaScope, limit: u32, used: &QuotaUse, now: OffsetDateTime) -> AppError {
    let wait = used.next_free_at.map_or(60, |at| (at - now).whole_seconds().clamp(1, 86_400) as u64);
    tracing::info!(quota = %scope, limit, "quota exceeded");
    AppError::TooManyRequests { code: "quota_exceeded", retry_after_secs: wait, message: scope.describe(limit) }
}

/// What an operation needs of its caller, checked in the contract's order: not a member (404),
/// then the role or identity (403).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Member,
    Manager,
    /// A manager with a verified email: invitations go out in the inviter's name.
    Inviter,
}

impl Invitations {
    /// Whether `caller` may do what `access` names on the project: `NotFound` when the project is
    /// not within their reach, `Forbidden` when their role or identity falls short.
    pub async fn check_access(&self, caller: &Caller, project_id: &ProjectId, access: Access) -> Result<(), AppError> {
        let (_, membership) = self.store.project_and_membership(project_id, &caller.user_id).await?;
        let membership = membership.ok_or(AppError::NotFound)?;
        if access != Access::Member {
            require_manager(Some(&membership))?;
        }
        if access == Access::Inviter {
            require_verified(caller)?;
        }
        Ok(())
    }
}

fn require_verified(caller: &Caller) -> Result<(), AppError> {
    if caller.email_verified && caller.email.is_some() {
        Ok(())
    } else {
        Err(AppError::forbidden("email_not_verified", "Your email address must be verified first."))
    }
}

fn require_manager(membership: Option<&Membership>) -> Result<&Membership, AppError> {
    match membership {
        None => Err(AppError::NotFound),
        Some(m) if !m.role.can_manage_invitations() => Err(error::forbidden_to_manage()),
        Some(m) => Ok(m),
    }
}

fn require_grant(granter: Role, role: Role) -> Result<(), AppError> {
    if granter.can_grant(role) {
        Ok(())
    } else {
        Err(AppError::forbidden("role_above_own", "You cannot grant a role above your own."))
    }
}

pub use error::{domain_not_allowed, forbidden_to_manage, invalid_cursor};
