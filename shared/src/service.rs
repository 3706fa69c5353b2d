//! The application service: each API operation, the sign-up acceptance and the email delivery
//! as one function over the store and the queue. Handlers parse, call one of these, and map.

use crate::api::{invitation_link, InvitationView};
use crate::clock::Clock;
use crate::config::Settings;
use crate::email::{self, DomainAllowList, Email};
use crate::error::{domain_not_allowed, forbidden_to_manage, invalid_cursor, AppError};
use crate::invitation::{new_id, DeliveryStatus, Invitation, InvitationChanges, InvitationStatus};
use crate::mail::{DeliveryEvent, EmailTemplates, InvitationEmail, MailError, Mailer};
use crate::messages::SendInvitationEmail;
use crate::page::{Cursor, Page, PageRequest, DEFAULT_LIMIT, MAX_LIMIT};
use crate::project::{Caller, Grant, Membership, Project};
use crate::queue::Queue;
use crate::role::Role;
use crate::store::{Acceptance, CreateGuard, Store, StoreError, Transition, ACCEPT_BATCH};
use futures::{StreamExt, TryStreamExt};
use std::future::Future;
use std::sync::Arc;
use uuid::Uuid;

/// How many times a read-transition-write is retried when another writer got there first.
const ATTEMPTS: usize = 4;
/// Batches of sign-up acceptances written at once.
const ACCEPT_CONCURRENCY: usize = 4;
const MAX_PROJECT_NAME: usize = 200;

#[derive(Clone)]
pub struct Invitations {
    store: Arc<dyn Store>,
    email_queue: Option<Arc<dyn Queue>>,
    clock: Arc<dyn Clock>,
    settings: Settings,
}

/// A failed attempt: retry it, or give up with an answer.
enum Failed {
    Retry,
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
            other => Failed::App(other.into()),
        }
    }
}

impl From<crate::invitation::TransitionError> for Failed {
    fn from(err: crate::invitation::TransitionError) -> Self {
        Failed::App(err.into())
    }
}

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
        }
    }
    Err(StoreError::Conflict.into())
}

/// An acceptance worked out from what was read, ready to be written.
struct PlannedAcceptance {
    invitation: Invitation,
    accepted: Invitation,
    grant: Grant,
}

impl PlannedAcceptance {
    fn of(
        invitation: Invitation,
        membership: Option<&Membership>,
        user_id: &str,
        email: &str,
        now: time::OffsetDateTime,
    ) -> Result<Self, crate::invitation::TransitionError> {
        let accepted = invitation.accept(user_id, now)?;
        let grant = Membership::grant(membership, &invitation.project_id, user_id, Some(email), invitation.role, now);
        Ok(Self { invitation, accepted, grant })
    }

    fn transition(&self) -> Transition<'_> {
        Transition { from: &self.invitation, to: &self.accepted }
    }

    fn log_kept_role(&self) {
        if let Grant::Keep { existing } = self.grant {
            tracing::info!(invitation_id = %self.invitation.id, kept = %existing, "accepted; the member keeps a higher role");
        }
    }
}

/// What the sign-up acceptance did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcceptReport {
    pub accepted: usize,
    /// Pending markers whose invitation could not be accepted (expired, changed meanwhile).
    pub skipped: usize,
}

/// What the sender did with one queued message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Sent {
        message_id: String,
    },
    /// Nothing to do: not pending any more, superseded, or already sent or being sent.
    Skipped,
    /// The mail service refused it for good; the invitation says why.
    Failed {
        reason: String,
    },
    /// A transient failure: the message should be delivered again later.
    Retry {
        reason: String,
    },
}

/// Parsed list parameters.
pub fn page_request(
    limit: Option<&str>,
    cursor: Option<&str>,
    valid_key: impl Fn(&str) -> bool,
) -> Result<PageRequest, AppError> {
    let limit = match limit {
        None => DEFAULT_LIMIT,
        Some(raw) => raw.parse::<usize>().ok().filter(|l| (1..=MAX_LIMIT).contains(l)).ok_or_else(|| {
            AppError::invalid("invalid_limit", Some("limit"), format!("limit must be between 1 and {MAX_LIMIT}"))
        })?,
    };
    let after = cursor.map(|raw| Cursor::decode(raw, valid_key)).transpose().map_err(|_| invalid_cursor())?;
    Ok(PageRequest { limit, after })
}

pub fn is_uuid(key: &str) -> bool {
    Uuid::parse_str(key).is_ok()
}

pub fn parse_status(raw: &str) -> Result<InvitationStatus, AppError> {
    raw.parse::<u8>()
        .ok()
        .and_then(InvitationStatus::from_code)
        .ok_or_else(|| AppError::invalid("invalid_status", Some("status"), "status must be one of 1, 2, 3, 4, 5"))
}

pub fn parse_role(raw: &str) -> Result<Role, AppError> {
    raw.parse().map_err(|e: crate::role::UnknownRole| AppError::invalid("invalid_role", Some("role"), e.to_string()))
}

pub fn parse_email(raw: &str) -> Result<Email, AppError> {
    Email::parse(raw).map_err(|e| AppError::invalid("invalid_email", Some("email"), e.to_string()))
}

/// An id that cannot name anything the caller can reach is simply not found.
pub fn parse_invitation_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw.trim()).map_err(|_| AppError::NotFound)
}

fn require_manager(membership: Option<&Membership>) -> Result<&Membership, AppError> {
    match membership {
        None => Err(AppError::NotFound),
        Some(m) if !m.role.can_manage_invitations() => Err(forbidden_to_manage()),
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

impl Invitations {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: Settings) -> Self {
        Self { store, email_queue: None, clock, settings }
    }

    /// Operations that send email (create, resend, change of address) need the queue.
    pub fn with_email_queue(mut self, queue: Arc<dyn Queue>) -> Self {
        self.email_queue = Some(queue);
        self
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    pub fn view(&self, invitation: &Invitation) -> InvitationView {
        InvitationView::new(invitation, self.clock.now(), &self.settings.invitation_url)
    }

    /// Writes `to` over exactly the `from` that was read.
    async fn write(&self, from: &Invitation, to: &Invitation) -> Result<(), StoreError> {
        self.store.save(Transition { from, to }).await
    }

    fn verified_email(caller: &Caller) -> Result<String, AppError> {
        caller
            .verified_email()
            .ok_or_else(|| AppError::forbidden("email_not_verified", "Your email address must be verified first."))
    }

    // ---- projects ----

    pub async fn create_project(
        &self,
        caller: &Caller,
        name: &str,
        allowed_domains: &[String],
    ) -> Result<Project, AppError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_PROJECT_NAME || name.chars().any(char::is_control) {
            return Err(AppError::invalid(
                "invalid_field",
                Some("name"),
                format!("name must be 1 to {MAX_PROJECT_NAME} printable characters"),
            ));
        }
        let allowed_email_domains = DomainAllowList::new(allowed_domains)
            .map_err(|e| AppError::invalid("invalid_field", Some("allowed_email_domains"), e.to_string()))?;
        let now = self.clock.now();
        let project = Project {
            id: new_id(now).to_string(),
            name: name.to_owned(),
            owner: caller.user_id.clone(),
            created_at: now,
            allowed_email_domains,
        };
        let owner = Membership {
            project_id: project.id.clone(),
            user_id: caller.user_id.clone(),
            email: caller.email.clone(),
            role: Role::Owner,
            joined_at: now,
        };
        self.store.create_project(&project, &owner).await?;
        Ok(project)
    }

    /// The project as its member sees it, with the member's role.
    pub async fn project(&self, caller: &Caller, project_id: &str) -> Result<(Project, Role), AppError> {
        match self.store.project_and_membership(project_id, &caller.user_id).await? {
            (Some(project), Some(member)) => Ok((project, member.role)),
            _ => Err(AppError::NotFound),
        }
    }

    pub async fn members(
        &self,
        caller: &Caller,
        project_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Membership>, AppError> {
        self.project(caller, project_id).await?;
        Ok(self.store.members(project_id, page).await?)
    }

    // ---- invitations, the manager's side ----

    pub async fn create_invitation(
        &self,
        caller: &Caller,
        project_id: &str,
        email: &str,
        role: &str,
    ) -> Result<Invitation, AppError> {
        let email = parse_email(email)?;
        let role = parse_role(role)?;
        if !self.settings.allowed_domains.permits(email.domain()) {
            return Err(domain_not_allowed());
        }
        let now = self.clock.now();
        let invitation = Invitation::new(
            project_id,
            &email,
            role,
            &caller.user_id,
            caller.email.clone(),
            now,
            &self.settings.policy,
        );
        let guard = CreateGuard {
            inviter: caller.user_id.clone(),
            min_inviter_role: role.max(Role::Manager),
            domain_candidates: email::candidates(email.domain()),
        };
        match self.store.create_invitation(&invitation, &guard, None).await {
            Ok(()) => {}
            Err(StoreError::DuplicatePending(existing)) if existing.expires_at <= now => {
                // The address is held by an expired invitation: retire it and take its place.
                let old = self.store.invitations_by_key(&[(project_id.to_owned(), existing.invitation_id)]).await?;
                let Some(old) = old.into_iter().next() else {
                    return Err(StoreError::Conflict.into());
                };
                let expired = old.supersede(now).map_err(|_| AppError::from(StoreError::DuplicatePending(existing)))?;
                self.store
                    .create_invitation(&invitation, &guard, Some(Transition { from: &old, to: &expired }))
                    .await?;
            }
            Err(err) => return Err(err.into()),
        }
        Ok(self.enqueue_send(invitation).await)
    }

    /// Puts the send on the queue; if that fails, records it on the invitation so nobody waits
    /// for an email that is not coming (a resend repairs it).
    async fn enqueue_send(&self, invitation: Invitation) -> Invitation {
        let message = SendInvitationEmail {
            project_id: invitation.project_id.clone(),
            invitation_id: invitation.id,
            send_id: invitation.send_id,
        };
        let result = match &self.email_queue {
            Some(queue) => {
                queue.send(serde_json::to_string(&message).expect("message serializes")).await.map_err(|e| e.0)
            }
            None => Err("no email queue configured".to_owned()),
        };
        let Err(reason) = result else {
            return invitation;
        };
        tracing::error!(invitation_id = %invitation.id, error = %reason, "could not enqueue the invitation email");
        let not_queued =
            invitation.mark_not_queued("The email could not be queued; resend the invitation.", self.clock.now());
        match self.write(&invitation, &not_queued).await {
            Ok(()) => not_queued,
            Err(err) => {
                tracing::error!(invitation_id = %invitation.id, error = %err, "could not record the enqueue failure");
                not_queued
            }
        }
    }

    async fn managed_invitation(
        &self,
        caller: &Caller,
        project_id: &str,
        id: Uuid,
    ) -> Result<(Invitation, Membership), AppError> {
        let (invitation, membership) = self.store.invitation_and_membership(project_id, id, &caller.user_id).await?;
        let membership = require_manager(membership.as_ref())?.clone();
        let invitation = invitation.ok_or(AppError::NotFound)?;
        Ok((invitation, membership))
    }

    pub async fn invitation(&self, caller: &Caller, project_id: &str, id: Uuid) -> Result<Invitation, AppError> {
        Ok(self.managed_invitation(caller, project_id, id).await?.0)
    }

    pub async fn list_invitations(
        &self,
        caller: &Caller,
        project_id: &str,
        status: Option<InvitationStatus>,
        page: &PageRequest,
    ) -> Result<Page<Invitation>, AppError> {
        let (_, membership) = self.store.project_and_membership(project_id, &caller.user_id).await?;
        require_manager(membership.as_ref())?;
        Ok(self.store.invitations(project_id, status, self.clock.now(), page).await?)
    }

    pub async fn update_invitation(
        &self,
        caller: &Caller,
        project_id: &str,
        id: Uuid,
        email: Option<&str>,
        role: Option<&str>,
    ) -> Result<Invitation, AppError> {
        let changes =
            InvitationChanges { email: email.map(parse_email).transpose()?, role: role.map(parse_role).transpose()? };
        if let Some(email) = &changes.email {
            if !self.settings.allowed_domains.permits(email.domain()) {
                return Err(domain_not_allowed());
            }
        }
        let updated = retrying(|| async {
            let (invitation, membership) = self.managed_invitation(caller, project_id, id).await?;
            require_grant(membership.role, invitation.role)?;
            if let Some(role) = changes.role {
                require_grant(membership.role, role)?;
            }
            let now = self.clock.now();
            let updated = invitation.update(&changes, now, &self.settings.policy)?;
            if updated.resend {
                let (project, _) = self.project(caller, project_id).await?;
                if !project.allowed_email_domains.permits(&email::domain_of(&updated.invitation.email_normalized)) {
                    return Err(domain_not_allowed().into());
                }
            }
            self.write(&invitation, &updated.invitation).await?;
            Ok(updated)
        })
        .await?;
        Ok(if updated.resend { self.enqueue_send(updated.invitation).await } else { updated.invitation })
    }

    pub async fn resend(&self, caller: &Caller, project_id: &str, id: Uuid) -> Result<Invitation, AppError> {
        let resent = retrying(|| async {
            let (invitation, _) = self.managed_invitation(caller, project_id, id).await?;
            let resent = invitation.resend(self.clock.now(), &self.settings.policy)?;
            self.write(&invitation, &resent).await?;
            Ok(resent)
        })
        .await?;
        Ok(self.enqueue_send(resent).await)
    }

    pub async fn revoke(&self, caller: &Caller, project_id: &str, id: Uuid) -> Result<Invitation, AppError> {
        retrying(|| async {
            let (invitation, _) = self.managed_invitation(caller, project_id, id).await?;
            let revoked = invitation.revoke(self.clock.now())?;
            self.write(&invitation, &revoked).await?;
            Ok(revoked)
        })
        .await
    }

    // ---- invitations, the invitee's side ----

    /// Pending, unexpired invitations for the caller's verified email, across projects.
    pub async fn my_invitations(&self, caller: &Caller) -> Result<Vec<Invitation>, AppError> {
        let email = Self::verified_email(caller)?;
        let markers = self.store.pending_for_email(&email).await?;
        let keys: Vec<_> = markers.iter().map(|m| (m.project_id.clone(), m.invitation_id)).collect();
        let now = self.clock.now();
        let invitations = self.store.invitations_by_key(&keys).await?;
        Ok(invitations.into_iter().filter(|i| i.status_at(now) == InvitationStatus::Pending).collect())
    }

    /// The invitation, if it is addressed to the caller's verified email.
    async fn my_invitation(
        &self,
        caller: &Caller,
        email: &str,
        project_id: &str,
        id: Uuid,
    ) -> Result<(Invitation, Option<Membership>), AppError> {
        let (invitation, membership) = self.store.invitation_and_membership(project_id, id, &caller.user_id).await?;
        match invitation {
            Some(invitation) if invitation.email_normalized == email => Ok((invitation, membership)),
            _ => Err(AppError::NotFound),
        }
    }

    pub async fn accept(&self, caller: &Caller, project_id: &str, id: Uuid) -> Result<Invitation, AppError> {
        let email = Self::verified_email(caller)?;
        retrying(|| async {
            let (invitation, membership) = self.my_invitation(caller, &email, project_id, id).await?;
            self.accept_one(invitation, membership, &caller.user_id, &email).await
        })
        .await
    }

    pub async fn decline(&self, caller: &Caller, project_id: &str, id: Uuid) -> Result<Invitation, AppError> {
        let email = Self::verified_email(caller)?;
        retrying(|| async {
            let (invitation, _) = self.my_invitation(caller, &email, project_id, id).await?;
            let declined = invitation.decline(self.clock.now())?;
            self.write(&invitation, &declined).await?;
            Ok(declined)
        })
        .await
    }

    /// The one acceptance path: the API's accept, the sign-up trigger's fallback and the reconciler.
    async fn accept_one(
        &self,
        invitation: Invitation,
        membership: Option<Membership>,
        user_id: &str,
        email: &str,
    ) -> Result<Invitation, Failed> {
        let planned = PlannedAcceptance::of(invitation, membership.as_ref(), user_id, email, self.clock.now())?;
        self.store.accept(planned.transition(), &planned.grant).await?;
        planned.log_kept_role();
        Ok(planned.accepted)
    }

    /// Accepts every pending, unexpired invitation for a new user's verified email. Idempotent:
    /// accepted invitations have no pending marker left. Fails only on a dependency failure.
    ///
    /// Three rounds of calls whatever the count: the markers, then the invitations and the user's
    /// memberships together, then the acceptances in batches of [`ACCEPT_BATCH`], one atomic write
    /// each, run concurrently. A batch holding an invitation that changed meanwhile is accepted one
    /// by one instead, through the API's acceptance code.
    pub async fn accept_all_for(&self, user_id: &str, verified_email: &str) -> Result<AcceptReport, AppError> {
        let email = email::normalize(verified_email);
        let markers = self.store.pending_for_email(&email).await?;
        if markers.is_empty() {
            return Ok(AcceptReport::default());
        }
        let keys: Vec<_> = markers.iter().map(|m| (m.project_id.clone(), m.invitation_id)).collect();
        let project_ids: Vec<_> = markers.iter().map(|m| m.project_id.clone()).collect();
        let (invitations, memberships) =
            futures::try_join!(self.store.invitations_by_key(&keys), self.store.memberships(user_id, &project_ids))?;
        let now = self.clock.now();
        let mut report = AcceptReport::default();
        let mut planned = Vec::with_capacity(invitations.len());
        for invitation in invitations.into_iter().filter(|i| i.email_normalized == email) {
            let membership = memberships.iter().find(|m| m.project_id == invitation.project_id);
            match PlannedAcceptance::of(invitation, membership, user_id, &email, now) {
                Ok(acceptance) => planned.push(acceptance),
                // Expired, or no longer pending: nothing to accept.
                Err(_) => report.skipped += 1,
            }
        }
        let email = email.as_str();
        let batches: Vec<_> =
            planned.chunks(ACCEPT_BATCH).map(|batch| self.accept_batch(batch, user_id, email)).collect();
        let counts: Vec<(usize, usize)> =
            futures::stream::iter(batches).buffer_unordered(ACCEPT_CONCURRENCY).try_collect().await?;
        for (accepted, skipped) in counts {
            report.accepted += accepted;
            report.skipped += skipped;
        }
        Ok(report)
    }

    /// One atomic write for the batch; if one of them changed since it was read, each alone.
    /// Returns how many were accepted and skipped.
    async fn accept_batch(
        &self,
        batch: &[PlannedAcceptance],
        user_id: &str,
        email: &str,
    ) -> Result<(usize, usize), AppError> {
        let acceptances: Vec<_> =
            batch.iter().map(|p| Acceptance { transition: p.transition(), grant: &p.grant }).collect();
        match self.store.accept_batch(&acceptances).await {
            Ok(()) => {
                batch.iter().for_each(PlannedAcceptance::log_kept_role);
                Ok((batch.len(), 0))
            }
            Err(StoreError::Conflict) => {
                let alone = batch.iter().map(|p| self.accept_alone(&p.invitation, user_id, email));
                let accepted: Vec<bool> = futures::future::try_join_all(alone).await?;
                let count = accepted.iter().filter(|a| **a).count();
                Ok((count, batch.len() - count))
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Accepts one invitation of a sign-up as it is now, re-reading it while it changes under us.
    /// `false` when it can no longer be accepted (expired, revoked, accepted or readdressed meanwhile).
    async fn accept_alone(&self, read: &Invitation, user_id: &str, email: &str) -> Result<bool, AppError> {
        let outcome = retrying(|| async {
            let (invitation, membership) =
                self.store.invitation_and_membership(&read.project_id, read.id, user_id).await?;
            match invitation {
                Some(invitation) if invitation.email_normalized == email => {
                    self.accept_one(invitation, membership, user_id, email).await?;
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await;
        match outcome {
            Err(AppError::Conflict { .. }) => Ok(false),
            other => other,
        }
    }

    // ---- email delivery ----

    /// Sends the email a queued message asks for, at most once per send request.
    pub async fn deliver(
        &self,
        message: &SendInvitationEmail,
        mailer: &dyn Mailer,
        templates: &EmailTemplates,
    ) -> Result<SendOutcome, AppError> {
        let policy = &self.settings.policy;
        // Claim the send: only one delivery of a message gets past this.
        let claimed = retrying(|| async {
            let found = self.store.invitations_by_key(&[(message.project_id.clone(), message.invitation_id)]).await?;
            let Some(invitation) = found.into_iter().next() else {
                return Ok(None);
            };
            let now = self.clock.now();
            let Ok(claimed) = invitation.claim_send(message.send_id, now, policy) else {
                return Ok(None);
            };
            self.write(&invitation, &claimed).await?;
            Ok(Some(claimed))
        })
        .await;
        let claimed = match claimed {
            Ok(Some(claimed)) => claimed,
            Ok(None) => return Ok(SendOutcome::Skipped),
            // Lost every race for the claim: someone else is sending it.
            Err(AppError::Conflict { .. }) => return Ok(SendOutcome::Skipped),
            Err(err) => return Err(err),
        };
        let (project, inviter) = self.store.project_and_membership(&claimed.project_id, &claimed.invited_by).await?;
        let content = InvitationEmail {
            project_name: project.as_ref().map_or("a project", |p| p.name.as_str()),
            inviter: claimed
                .invited_by_email
                .as_deref()
                .or(inviter.as_ref().and_then(|m| m.email.as_deref()))
                .unwrap_or("A teammate"),
            role: claimed.role,
            link: &invitation_link(&self.settings.invitation_url, &claimed),
            expires_at: claimed.expires_at,
        };
        let outgoing = templates.compose(&content, &claimed);
        let result = mailer.send(&outgoing).await;
        let now = self.clock.now();
        let outcome = match result {
            Ok(message_id) => {
                tracing::info!(invitation_id = %claimed.id, message_id = %message_id, "invitation email sent");
                SendOutcome::Sent { message_id }
            }
            Err(MailError::Permanent(reason)) => {
                tracing::warn!(invitation_id = %claimed.id, reason = %reason, "invitation email refused for good");
                SendOutcome::Failed { reason }
            }
            Err(MailError::Transient(reason)) => {
                tracing::warn!(invitation_id = %claimed.id, reason = %reason, "invitation email will be retried");
                SendOutcome::Retry { reason }
            }
        };
        let record = |current: &Invitation| match &outcome {
            SendOutcome::Sent { message_id } => current.record_sent(message_id, now),
            SendOutcome::Failed { reason } => current.record_failed(reason, now),
            SendOutcome::Retry { reason } => current.release_send(reason, now),
            SendOutcome::Skipped => current.clone(),
        };
        // Record the outcome over our own claim; if the invitation moved on meanwhile (revoked,
        // address changed), the newer state wins and the outcome is only logged.
        let recorded = retrying(|| async {
            let found = self.store.invitations_by_key(&[(claimed.project_id.clone(), claimed.id)]).await?;
            let Some(current) = found.into_iter().next() else {
                return Ok(());
            };
            if current.send_id != claimed.send_id || current.delivery.status != DeliveryStatus::Sending {
                return Ok(());
            }
            self.write(&current, &record(&current)).await?;
            Ok(())
        })
        .await;
        if let Err(err) = recorded {
            // The email went out (or not) either way; this is the documented narrow window.
            tracing::error!(invitation_id = %claimed.id, error = %err, "could not record the send outcome");
            if matches!(outcome, SendOutcome::Sent { .. }) {
                return Ok(outcome);
            }
            return Err(err);
        }
        Ok(outcome)
    }

    /// Applies a mail-service event (delivered, bounced, complained) to its invitation.
    pub async fn record_delivery_event(&self, event: &DeliveryEvent) -> Result<bool, AppError> {
        retrying(|| async {
            let found = self.store.invitations_by_key(&[(event.project_id.clone(), event.invitation_id)]).await?;
            let Some(invitation) = found.into_iter().next() else {
                return Ok(false);
            };
            let Some(next) = invitation.record_event(&event.message_id, event.status, event.reason.clone(), event.at)
            else {
                return Ok(false);
            };
            self.write(&invitation, &next).await?;
            Ok(true)
        })
        .await
    }
}
