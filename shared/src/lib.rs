//! The project invitation domain crate: every rule once, the ports the rules need, their
//! adapters, the service each Lambda calls, and the edges and wiring the Lambdas share.
//!
//! Layers, each importing only the ones above it in this list:
//!
//! 1. `domain`: the model and every rule; no I/O, no AWS types.
//! 2. Ports, one folder each with the trait in `mod.rs` and one file per adapter: `store/`,
//!    `queue/`, `mail/`, and `clock`. `cause` and `aws_errors` keep and classify their errors.
//! 3. `service`: the operations, over the ports.
//! 4. Edges: `http` (API requests and responses), `sqs_batch` (SQS batches), `metrics` (counts
//!    in CloudWatch's Embedded Metric Format).
//! 5. Wiring: `sdk_config` (AWS SDK and HTTPS configuration), `wiring` (environment → clients →
//!    services).
//!
//! AWS adapters sit behind the `dynamodb`, `sqs` and `ses` features so a Lambda links only the
//! clients it calls.

pub mod cause;
pub mod domain;

pub mod clock;
pub mod mail;
pub mod queue;
pub mod slack;
pub mod store;

#[cfg(feature = "aws")]
pub mod aws_errors;

pub mod service;

#[cfg(feature = "http")]
pub mod http;
pub mod metrics;
#[cfg(feature = "sqs-batch")]
pub mod sqs_batch;

#[cfg(feature = "aws")]
pub mod sdk_config;
#[cfg(feature = "aws")]
pub mod wiring;

pub use domain::{
    Caller, DeliveryStatus, Email, Invitation, InvitationId, InvitationStatus, Membership, Project, ProjectId, Role,
    Settings, UserId,
};
pub use service::{AppError, Invitations};
