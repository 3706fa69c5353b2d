//! Email delivery: the sender sends what a queued message asks for, at most once per send
//! request, and the mail service's events update the invitation's delivery status.

use super::{retrying, AppError, Invitations};
use crate::cause::Chain;
use crate::clock::Clock;
use crate::domain::{Actor, DeliveryStatus, Event, Invitation, Settings, TransitionError};
use crate::mail::templates::{EmailTemplates, InvitationEmail};
use crate::mail::{DeliveryEvent, MailError, Mailer};
use crate::queue::SendInvitationEmail;
use crate::store::{Store, Transition};
use std::sync::Arc;

/// Rounds of trying to record a send's outcome while the store is unavailable.
const RECORD_ATTEMPTS: u32 = 3;

/// What the sender did with one queued message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Sent {
        message_id: String,
    },
    /// Nothing to do: not pending any more, superseded, or already sent.
    Skipped,
    /// The mail service refused it for good; the invitation says why.
    Failed {
        reason: String,
    },
    /// Not now: a transient failure, or another sender holds the send. The message is to be
    /// delivered again later, never dropped.
    Retry {
        reason: String,
    },
}

/// The sender's service: everything it needs is given here, once.
pub struct EmailDelivery {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    mailer: Arc<dyn Mailer>,
    templates: EmailTemplates,
}

impl EmailDelivery {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: Settings,
        mailer: Arc<dyn Mailer>,
        templates: EmailTemplates,
    ) -> Self {
        Self { store, clock, settings, mailer, templates }
    }

    /// The sender's changes, written with their events; the service is their actor.
    async fn save(&self, from: &Invitation, to: &Invitation) -> Result<(), crate::store::StoreError> {
        let event = Event::transition(from, to, &Actor::System, self.clock.now());
        self.store.save(Transition { from, to, event: &event, claims: &[] }).await
    }

    async fn current(&self, message: &SendInvitationEmail) -> Result<Option<Invitation>, AppError> {
        let key = (message.project_id.clone(), message.invitation_id);
        Ok(self.store.invitations_by_key(&[key]).await?.into_iter().next())
    }

    /// Sends the email a queued message asks for, at most once per send request. On the
    /// `last_attempt` the queue allows, a transient failure is recorded as `failed` (with its
    /// reason, so a manager sees it and can resend) instead of being retried.
    #[tracing::instrument(skip_all, fields(project_id = %message.project_id, invitation_id = %message.invitation_id))]
    pub async fn deliver(&self, message: &SendInvitationEmail, last_attempt: bool) -> Result<SendOutcome, AppError> {
        let policy = &self.settings.policy;
        // Claim the send: only one delivery of a message gets past this.
        // The project (its name is in the email) is read with the invitation: one call.
        let claimed = retrying(|| async {
            let (invitation, project) =
                self.store.invitation_and_project(&message.project_id, message.invitation_id).await?;
            let Some(invitation) = invitation else {
                return Ok(Err(SendOutcome::Skipped));
            };
            let claimed = match invitation.claim_send(message.send_id, self.clock.now(), policy) {
                Ok(claimed) => claimed,
                Err(TransitionError::SendInProgress { .. }) => {
                    let reason = "another sender holds the send".to_owned();
                    return Ok(Err(SendOutcome::Retry { reason }));
                }
                Err(_) => return Ok(Err(SendOutcome::Skipped)),
            };
            self.save(&invitation, &claimed).await?;
            Ok(Ok((claimed, project)))
        })
        .await;
        let (claimed, project) = match claimed {
            Ok(Ok(claimed)) => claimed,
            Ok(Err(nothing_to_send)) => return Ok(nothing_to_send),
            // Lost every race for the claim: whoever won may yet fail, so try again later.
            Err(AppError::Conflict { .. }) => {
                return Ok(SendOutcome::Retry { reason: "the send kept changing".into() })
            }
            Err(err) => return Err(err),
        };
        // The inviter's address is on the invitation; only one made without it reads the member.
        let inviter = match &claimed.invited_by_email {
            Some(email) => Some(email.clone()),
            None => {
                let inviter =
                    self.store.members_by_id(&claimed.project_id, std::slice::from_ref(&claimed.invited_by)).await?;
                inviter.into_iter().next().and_then(|member| member.email)
            }
        };
        let link = self.settings.link_to(&claimed);
        let content = InvitationEmail {
            project_name: project.as_ref().map_or("a project", |p| p.name.as_str()),
            inviter: inviter.as_deref().unwrap_or("A teammate"),
            role: claimed.role,
            link: &link,
            note: claimed.message.as_deref(),
            expires_at: claimed.expires_at,
        };
        let outgoing = self.templates.compose(&content, &claimed);
        let outcome = match self.mailer.send(&outgoing).await {
            Ok(message_id) => {
                tracing::info!(message_id = %message_id, "invitation email sent");
                SendOutcome::Sent { message_id }
            }
            Err(err @ MailError::Permanent(_)) => {
                tracing::warn!(error = %Chain(&err), "invitation email refused for good");
                SendOutcome::Failed { reason: err.reason() }
            }
            Err(err @ MailError::Transient(_)) if last_attempt => {
                tracing::error!(error = %Chain(&err), "invitation email failed on its last attempt");
                SendOutcome::Failed { reason: format!("Gave up after the last attempt: {}", err.reason()) }
            }
            Err(err @ MailError::Transient(_)) => {
                tracing::warn!(error = %Chain(&err), "invitation email will be retried");
                SendOutcome::Retry { reason: err.reason() }
            }
        };
        let now = self.clock.now();
        let record = |current: &Invitation| match &outcome {
            SendOutcome::Sent { message_id } => current.record_sent(message_id, now),
            SendOutcome::Failed { reason } => current.record_failed(reason, now),
            SendOutcome::Retry { reason } => current.release_send(reason, now),
            SendOutcome::Skipped => current.clone(),
        };
        // Record the outcome over our own claim, written without reading it again: most often
        // nothing changed since. If the invitation moved on meanwhile, the write conflicts and what
        // it became is read: still this send's (revoked while sending, say), the outcome is
        // recorded on it; a newer send or address wins and the outcome is only logged. The store
        // may be failing just now: a few tries, then the message goes back to the queue.
        let send_id = claimed.send_id;
        let mut unread_claim = Some(claimed);
        let mut recorded = Ok(());
        for attempt in 0..RECORD_ATTEMPTS {
            recorded = retrying(|| {
                let unread = unread_claim.take();
                async move {
                    let current = match unread {
                        Some(claim) => claim,
                        None => match self.current(message).await? {
                            Some(current) => current,
                            None => return Ok(()),
                        },
                    };
                    if current.send_id != send_id || current.delivery.status != DeliveryStatus::Sending {
                        return Ok(());
                    }
                    self.save(&current, &record(&current)).await?;
                    Ok(())
                }
            })
            .await;
            match &recorded {
                Err(AppError::Unavailable(_)) if attempt + 1 < RECORD_ATTEMPTS => {
                    tokio::time::sleep(std::time::Duration::from_millis(200 << attempt)).await
                }
                _ => break,
            }
        }
        if let Err(err) = recorded {
            // The claim stays until its lease runs out; the redelivered message then sends
            // again. This is the documented narrow window: SES accepted, the outcome unrecorded.
            tracing::error!(error = %Chain(&err), "could not record the send outcome; the message will be retried");
            return Err(err);
        }
        Ok(outcome)
    }
}

impl Invitations {
    /// Applies a mail-service event (delivered, bounced, complained) to its invitation.
    #[tracing::instrument(skip_all, fields(project_id = %event.project_id, invitation_id = %event.invitation_id))]
    pub async fn record_delivery_event(&self, event: &DeliveryEvent) -> Result<bool, AppError> {
        retrying(|| async {
            let key = (event.project_id.clone(), event.invitation_id);
            let Some(invitation) = self.store.invitations_by_key(&[key]).await?.into_iter().next() else {
                return Ok(false);
            };
            let Some(next) = invitation.record_event(&event.message_id, event.status, event.reason.clone(), event.at)
            else {
                return Ok(false);
            };
            self.write(&invitation, &next, &Actor::System).await?;
            Ok(true)
        })
        .await
    }
}
