//! Messages put on the queues. Small: the consumer re-reads the state it acts on.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// "Send the email for this send request of this invitation."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendInvitationEmail {
    pub project_id: String,
    pub invitation_id: Uuid,
    pub send_id: Uuid,
}

/// "Accept every pending invitation for this new user": the sign-up trigger's durable retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileSignup {
    pub user_id: String,
    pub email: String,
}
