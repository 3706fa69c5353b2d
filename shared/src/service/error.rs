//! The service's one error type. Each variant carries a stable machine-readable `code`; the HTTP
//! mapping lives in the `http` edge, and internal details are logged, never returned.

use crate::cause::Cause;
use crate::domain::TransitionError;
use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// 400: the request is malformed or a value is invalid.
    #[error("{message}")]
    Invalid { code: &'static str, field: Option<String>, message: String },
    /// 401: no usable identity.
    #[error("authentication required")]
    Unauthenticated,
    /// 403: known caller, not allowed.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// 404: missing, or outside the caller's reach (the two are never told apart).
    #[error("not found")]
    NotFound,
    /// 409: the state does not allow it.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 412: the invitation changed since the version the client named in `If-Match`.
    #[error("the invitation changed since you read it; read it again")]
    PreconditionFailed,
    /// 422: well-formed, but not something this request can be (a key reused for another body).
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// 429: try again after `retry_after_secs`.
    #[error("{message}")]
    TooManyRequests { code: &'static str, retry_after_secs: u64, message: String },
    /// 503: a dependency is throttling, timing out or failing; retryable. The cause is for the logs.
    #[error("a dependency is unavailable")]
    Unavailable(#[source] Cause),
    /// 500: a bug or misconfiguration. The cause is for the logs.
    #[error("internal error")]
    Internal(#[source] Cause),
}

impl AppError {
    pub fn invalid(code: &'static str, field: Option<&str>, message: impl Into<String>) -> Self {
        AppError::Invalid { code, field: field.map(str::to_owned), message: message.into() }
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Forbidden { code, message: message.into() }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Conflict { code, message: message.into() }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid { code, .. }
            | AppError::Forbidden { code, .. }
            | AppError::Conflict { code, .. }
            | AppError::Unprocessable { code, .. }
            | AppError::TooManyRequests { code, .. } => code,
            AppError::Unauthenticated => "unauthenticated",
            AppError::NotFound => "not_found",
            AppError::PreconditionFailed => "precondition_failed",
            AppError::Unavailable(_) => "service_unavailable",
            AppError::Internal(_) => "internal_error",
        }
    }

    /// The message a client may see.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Unauthenticated => "A valid identity token is required.".into(),
            AppError::NotFound => "Not found.".into(),
            AppError::PreconditionFailed => "The invitation changed since you read it; read it again.".into(),
            AppError::Unavailable(_) => "The service is temporarily unavailable; try again.".into(),
            AppError::Internal(_) => "Internal error.".into(),
            other => other.to_string(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotMember | StoreError::ProjectNotFound => AppError::NotFound,
            StoreError::RoleTooLow { actual } if actual.can_manage_invitations() => {
                AppError::forbidden("role_above_own", "You cannot grant a role above your own.")
            }
            StoreError::RoleTooLow { .. } => forbidden_to_manage(),
            StoreError::DomainNotAllowed => domain_not_allowed(),
            StoreError::DuplicatePending(_) => duplicate_invitation(),
            StoreError::AlreadyExists => AppError::conflict("already_exists", "The item already exists."),
            StoreError::QuotaSlotTaken(_) => {
                AppError::conflict("concurrent_modification", "A quota changed while this request ran; retry.")
            }
            StoreError::Conflict => {
                AppError::conflict("concurrent_modification", "The invitation changed while this request ran; retry.")
            }
            StoreError::Corrupt(detail) => {
                AppError::Internal(Cause::msg(format!("stored item is malformed: {detail}")))
            }
            // The store's own error stays in the chain: "storage unavailable: <the SDK's error>".
            err @ StoreError::Unavailable(_) => AppError::Unavailable(Cause::new(err)),
            err @ StoreError::Internal(_) => AppError::Internal(Cause::new(err)),
        }
    }
}

impl From<TransitionError> for AppError {
    fn from(err: TransitionError) -> Self {
        let message = err.to_string();
        match err {
            TransitionError::NotPending { .. } => AppError::conflict("invitation_not_pending", message),
            TransitionError::Expired => AppError::conflict("invitation_expired", message),
            TransitionError::Cooldown { retry_after_secs } => {
                AppError::TooManyRequests { code: "resend_cooldown", retry_after_secs, message }
            }
            TransitionError::Undeliverable(_) => AppError::conflict("email_undeliverable", message),
            TransitionError::SendNotClaimable | TransitionError::SendInProgress { .. } => {
                AppError::conflict("send_not_claimable", message)
            }
        }
    }
}

pub fn forbidden_to_manage() -> AppError {
    AppError::forbidden("forbidden", "Only the project's managers and owners can do this.")
}

pub fn duplicate_invitation() -> AppError {
    AppError::conflict("duplicate_invitation", "A pending invitation for this email already exists in this project.")
}

pub fn domain_not_allowed() -> AppError {
    AppError::invalid("email_domain_not_allowed", Some("email"), "Invitations to this email domain are not allowed.")
}

pub fn invalid_cursor() -> AppError {
    AppError::invalid("invalid_cursor", Some("cursor"), "The cursor is invalid; start again without it.")
}
