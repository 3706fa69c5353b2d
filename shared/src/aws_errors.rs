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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn service_error(status: u16, code: &str) -> SdkError<ErrorMetadata, HttpResponse> {
        let raw = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::service_error(ErrorMetadata::builder().code(code).message("details").build(), raw)
    }

    #[test]
    fn what_a_retry_may_fix_is_transient_and_the_rest_is_not() {
        assert!(is_transient(&service_error(400, "ThrottlingException")));
        assert!(is_transient(&service_error(400, "ProvisionedThroughputExceededException")));
        assert!(is_transient(&service_error(500, "InternalServerError")));
        assert!(is_transient(&service_error(503, "Anything")));
        assert!(is_transient(&service_error(429, "Anything")));
        assert!(!is_transient(&service_error(400, "ValidationException")));
        assert!(!is_transient(&service_error(400, "ResourceNotFoundException")));
        let timeout: SdkError<ErrorMetadata, HttpResponse> = SdkError::timeout_error("attempt timed out");
        assert!(is_transient(&timeout));
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let reset: SdkError<ErrorMetadata, HttpResponse> = SdkError::dispatch_failure(ConnectorError::io(io.into()));
        assert!(is_transient(&reset));
        let unbuildable: SdkError<ErrorMetadata, HttpResponse> = SdkError::construction_failure("no table name");
        assert!(matches!(classify(unbuildable), Fault::Permanent(_)));
    }

    #[test]
    fn the_sdk_error_is_kept_as_the_cause() {
        let Fault::Transient(cause) = classify(service_error(400, "ThrottlingException")) else {
            panic!("throttling is transient");
        };
        let chain = crate::cause::Chain(&cause).to_string();
        assert!(chain.contains("ThrottlingException"), "{chain}");
    }
}
