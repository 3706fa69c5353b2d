//! The project invitation domain: rules, model, storage and delivery ports.
//!
//! Every business rule lives here once. The model has no AWS types; AWS adapters sit behind the
//! `dynamodb`, `sqs` and `ses` features so a Lambda links only the clients it calls.

pub mod api;
pub mod clock;
pub mod config;
pub mod email;
pub mod error;
pub mod invitation;
pub mod mail;
pub mod messages;
pub mod page;
pub mod project;
pub mod queue;
pub mod role;
pub mod service;
pub mod store;

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "events")]
pub mod events;
#[cfg(feature = "http")]
pub mod http;

pub use clock::{Clock, SystemClock};
pub use config::Settings;
pub use email::{DomainAllowList, Email, EmailError};
pub use error::AppError;
pub use invitation::{Delivery, DeliveryStatus, Invitation, InvitationStatus, TransitionError};
pub use project::{Caller, Membership, Project};
pub use role::Role;
pub use service::Invitations;
