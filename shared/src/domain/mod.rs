//! The domain: the model and every rule, with no I/O and no AWS types. Everything else in the
//! crate depends on this; this depends on nothing else in the crate.

pub mod email_address;
pub mod event;
pub mod idempotency;
pub mod ids;
pub mod invitation;
pub mod page;
pub mod project;
pub mod quota;
pub mod retry;
pub mod role;
pub mod settings;
pub mod slack;
pub mod timestamp;

pub use email_address::{DomainAllowList, Email, EmailError};
pub use event::{Actor, Changes, Event, EventType};
pub use ids::{InvalidId, InvitationId, ProjectId, UserId};
pub use invitation::{
    Delivery, DeliveryStatus, IfMatch, Invitation, InvitationChanges, InvitationRecord, InvitationRef,
    InvitationStatus, Inviter, NewInvitation, Note, Policy, TransitionError,
};
pub use page::{Cursor, Page, PageRequest};
pub use project::{Caller, Grant, MemberChange, MemberChangeError, Membership, NewProject, Project, ProjectName};
pub use quota::{QuotaClaim, QuotaScope, QuotaUse, Quotas};
pub use role::Role;
pub use settings::Settings;
