//! The AWS SDK's configuration: one `SdkConfig` for a function, built from Lambda's environment
//! without touching the disk or the network (region and credentials come straight from the
//! variables Lambda sets), one HTTPS client, and the SDK clients built over them.

#[cfg(not(feature = "naive"))]
use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
#[cfg(not(feature = "naive"))]
use aws_config::retry::RetryConfig;
#[cfg(not(feature = "naive"))]
use aws_config::timeout::TimeoutConfig;
#[cfg(not(feature = "naive"))]
use aws_config::Region;
use aws_config::{BehaviorVersion, SdkConfig};
#[cfg(not(feature = "naive"))]
use aws_credential_types::provider::SharedCredentialsProvider;
use std::time::Duration;

/// The roots AWS endpoints chain to (see the file). Building the TLS connector parses every root
/// it trusts: with five instead of the system's whole store it costs a fraction.
#[cfg(not(feature = "naive"))]
pub const AWS_ROOTS: &[u8] = include_bytes!("../certs/aws-roots.pem");

/// One HTTPS client for every SDK client of the function, trusting only [`AWS_ROOTS`], with
/// rustls on *ring* (the SDK's default, aws-lc, makes every bootstrap much larger: see the README's
/// Performance section). `AWS_CA_BUNDLE`, when set, replaces the roots (for a proxy or an emulator
/// with its own CA).
#[cfg(not(feature = "naive"))]
pub fn https_client() -> aws_types::sdk_config::SharedHttpClient {
    let roots = std::env::var("AWS_CA_BUNDLE").ok().and_then(|path| std::fs::read(path).ok());
    https_client_trusting(roots.unwrap_or_else(|| AWS_ROOTS.to_vec()))
}

/// [`https_client`] trusting the given PEM roots. Its TLS connector is built on the first request
/// and shared by every SDK client of the function: see [`ConnectorOnFirstRequest`].
#[cfg(not(feature = "naive"))]
pub fn https_client_trusting(pem_roots: Vec<u8>) -> aws_types::sdk_config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider, TlsContext, TrustStore};
    let trust_store = TrustStore::empty().with_native_roots(false).with_pem_certificate(pem_roots);
    let context = TlsContext::builder().with_trust_store(trust_store).build().expect("valid TLS settings");
    let client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(context)
        .build_https();
    aws_types::sdk_config::SharedHttpClient::new(ConnectorOnFirstRequest(client))
}

/// The SDK's HTTPS client without the connector each SDK client builds and throws away when it is
/// constructed (`validate_base_client_config`, meant to load native roots early). Each build
/// parses the trust store and sets up rustls: create-invitation's two SDK clients spent a third
/// of its init instructions on them, and its first request built yet another, the one it kept.
/// Now the first request builds the only connector, cached for every SDK client of the function
/// (they share the timeouts its cache is keyed by). A trust store that does not parse therefore
/// fails the first request, not the init.
#[cfg(not(feature = "naive"))]
#[derive(Debug)]
struct ConnectorOnFirstRequest(aws_types::sdk_config::SharedHttpClient);

#[cfg(not(feature = "naive"))]
impl aws_smithy_runtime_api::client::http::HttpClient for ConnectorOnFirstRequest {
    fn http_connector(
        &self,
        settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// How long one AWS call may take, in all and per attempt.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub attempt: Duration,
    pub operation: Duration,
}

impl Timeouts {
    /// API handlers: fail well inside API Gateway's 30 s, retry a slow attempt.
    pub const API: Timeouts = Timeouts {
        connect: Duration::from_millis(1000),
        attempt: Duration::from_millis(2000),
        operation: Duration::from_millis(5000),
    };
    /// The sign-up trigger: Cognito gives the whole trigger 5 s.
    pub const TRIGGER: Timeouts = Timeouts {
        connect: Duration::from_millis(300),
        attempt: Duration::from_millis(600),
        operation: Duration::from_millis(1200),
    };
}

/// Builds the config. `AWS_ENDPOINT_URL` (and, per client, `AWS_ENDPOINT_URL_<SERVICE>` through
/// [`endpoint_for`]) point the clients at local emulators.
#[cfg(not(feature = "naive"))]
pub async fn sdk_config(timeouts: Timeouts) -> SdkConfig {
    let region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|_| "us-east-1".to_owned());
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new()))
        .http_client(https_client())
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(timeouts.connect)
                .operation_attempt_timeout(timeouts.attempt)
                .operation_timeout(timeouts.operation)
                .build(),
        );
    if let Ok(url) = std::env::var("AWS_ENDPOINT_URL") {
        builder = builder.endpoint_url(url);
    }
    builder.build()
}

/// The benchmark's reference: what most Lambdas do, `load_defaults` with default features.
#[cfg(feature = "naive")]
pub async fn sdk_config(_timeouts: Timeouts) -> SdkConfig {
    aws_config::load_defaults(BehaviorVersion::latest()).await
}

/// The endpoint override for one service (`DYNAMODB`, `SQS`, `SESV2`), if any.
pub fn endpoint_for(service: &str) -> Option<String> {
    std::env::var(format!("AWS_ENDPOINT_URL_{service}")).ok()
}

#[cfg(feature = "dynamodb")]
pub fn dynamodb_client(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    let mut builder = aws_sdk_dynamodb::config::Builder::from(config);
    if let Some(url) = endpoint_for("DYNAMODB") {
        builder = builder.endpoint_url(url);
    }
    aws_sdk_dynamodb::Client::from_conf(builder.build())
}

#[cfg(feature = "secrets")]
pub fn secrets_client(config: &SdkConfig) -> aws_sdk_secretsmanager::Client {
    let mut builder = aws_sdk_secretsmanager::config::Builder::from(config);
    if let Some(url) = endpoint_for("SECRETS_MANAGER") {
        builder = builder.endpoint_url(url);
    }
    aws_sdk_secretsmanager::Client::from_conf(builder.build())
}

#[cfg(feature = "sqs")]
pub fn sqs_client(config: &SdkConfig) -> aws_sdk_sqs::Client {
    let mut builder = aws_sdk_sqs::config::Builder::from(config);
    if let Some(url) = endpoint_for("SQS") {
        builder = builder.endpoint_url(url);
    }
    aws_sdk_sqs::Client::from_conf(builder.build())
}

/// The SES client makes exactly one attempt per send: a retry inside the SDK after SES accepted
/// an email whose answer was slow would send it twice. The queue retries instead, after the
/// sender has recorded the outcome.
#[cfg(feature = "ses")]
pub fn ses_client(config: &SdkConfig) -> aws_sdk_sesv2::Client {
    let mut builder = aws_sdk_sesv2::config::Builder::from(config)
        .retry_config(aws_sdk_sesv2::config::retry::RetryConfig::standard().with_max_attempts(1));
    if let Some(url) = endpoint_for("SESV2") {
        builder = builder.endpoint_url(url);
    }
    aws_sdk_sesv2::Client::from_conf(builder.build())
}
