//! AWS SDK errors, classified once for every adapter: what a later retry may fix (throttling,
//! timeouts, connection failures, AWS's own 5xx) and what it never will (a request the SDK or
//! AWS refused as built: a bug or a misconfiguration). Either way the SDK error is kept whole as
//! the cause, so the logs show its chain.

use crate::cause::Cause;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Error codes that mean "slow down" or "not now" whatever the HTTP status.
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "LimitExceededException",
    "TransactionInProgressException",
    "ServiceUnavailable",
    "InternalServerError",
    "InternalFailure",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Throttled, timed out, unreachable, or failing on AWS's side: retry later.
    Transient(Cause),
    /// Refused as built: retrying the same request cannot succeed.
    Permanent(Cause),
}

/// Is this SDK error worth retrying later?
pub fn is_transient<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(failure) => !failure.is_user(),
        SdkError::ServiceError(service) => {
            service.raw().status().is_server_error()
                || service.raw().status().as_u16() == 429
                || service.err().code().is_some_and(|code| TRANSIENT_CODES.contains(&code))
        }
        SdkError::ConstructionFailure(_) => false,
        _ => true,
    }
}

pub fn classify<E>(err: SdkError<E, HttpResponse>) -> Fault
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
{
    if is_transient(&err) {
        Fault::Transient(Cause::new(err))
    } else {
        Fault::Permanent(Cause::new(err))
    }
}
