//! Wiring: the environment → SDK clients → services, once per process, in each function's
//! `main`. A missing or malformed setting fails the function's init, never a request.

use crate::clock::SystemClock;
use crate::domain::Settings;
use crate::mail::templates::EmailTemplates;
use crate::sdk_config::{sdk_config, Timeouts};
use crate::service::Invitations;
use aws_config::SdkConfig;
use std::sync::Arc;

/// Why a function could not start.
pub type InitError = Box<dyn std::error::Error + Send + Sync>;

/// Reads a required setting, naming it when it is missing.
pub fn required_env(name: &str) -> Result<String, InitError> {
    std::env::var(name).map_err(|_| format!("environment variable {name} must be set").into())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The service's settings (see [`Settings::from_lookup`] for the variables).
pub fn settings_from_env() -> Result<Settings, InitError> {
    Ok(Settings::from_lookup(env)?)
}

/// The email templates (see [`EmailTemplates::from_lookup`] for the variables).
pub fn templates_from_env() -> EmailTemplates {
    EmailTemplates::from_lookup(env)
}

/// Structured JSON logs for CloudWatch; `RUST_LOG` sets the level (default `info`). A plain level
/// filter: per-target filters would bring a regex engine into every cold start.
pub fn init_tracing() {
    let level = env("RUST_LOG")
        .and_then(|level| level.parse::<tracing::level_filters::LevelFilter>().ok())
        .unwrap_or(tracing::level_filters::LevelFilter::INFO);
    json_logs(level, std::io::stdout).init();
}

/// The log format: one JSON object per line, with the fields of every span the line is in (the
/// request's route and ids, the SQS message id, the user), no timestamp (CloudWatch stamps every
/// line) and no target.
pub fn json_logs<W>(
    level: tracing::level_filters::LevelFilter,
    writer: W,
) -> tracing_subscriber::fmt::SubscriberBuilder<
    tracing_subscriber::fmt::format::JsonFields,
    tracing_subscriber::fmt::format::Format<tracing_subscriber::fmt::format::Json, ()>,
    tracing::level_filters::LevelFilter,
    W,
>
where
    W: for<'writer> tracing_subscriber::fmt::MakeWriter<'writer> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_current_span(false)
        .with_span_list(true)
        .without_time()
        .with_target(false)
        .with_writer(writer)
}

/// The DynamoDB store on `TABLE_NAME`, keeping events as long as `settings` say.
#[cfg(feature = "dynamodb")]
pub fn store_from_env(config: &SdkConfig, settings: &Settings) -> Result<Arc<dyn crate::store::Store>, InitError> {
    let client = crate::sdk_config::dynamodb_client(config);
    let store = crate::store::dynamodb::DynamoStore::new(client, required_env("TABLE_NAME")?);
    Ok(Arc::new(store.retaining_events_for(settings.event_retention)))
}

/// The service over the DynamoDB store.
#[cfg(feature = "dynamodb")]
pub fn service_from_env(config: &SdkConfig) -> Result<Invitations, InitError> {
    let settings = settings_from_env()?;
    Ok(Invitations::new(store_from_env(config, &settings)?, Arc::new(SystemClock), settings))
}

/// The service over DynamoDB with API timeouts and logging set up: what most `main`s start with.
#[cfg(feature = "dynamodb")]
pub async fn service() -> Result<Invitations, InitError> {
    init_tracing();
    service_from_env(&sdk_config(Timeouts::API).await)
}

/// The sender's service: the store, SES as `SENDER_EMAIL` through `SES_CONFIGURATION_SET`, and
/// the templates.
#[cfg(all(feature = "dynamodb", feature = "ses"))]
pub fn email_delivery_from_env(config: &SdkConfig) -> Result<crate::service::EmailDelivery, InitError> {
    let mailer = crate::mail::ses::SesMailer::new(
        crate::sdk_config::ses_client(config),
        required_env("SENDER_EMAIL")?,
        env("SES_CONFIGURATION_SET").filter(|s| !s.is_empty()),
    );
    let settings = settings_from_env()?;
    Ok(crate::service::EmailDelivery::new(
        store_from_env(config, &settings)?,
        Arc::new(SystemClock),
        settings,
        Arc::new(mailer),
        templates_from_env(),
    ))
}

/// The Slack consumer's service: the store, Slack at `SLACK_API_URL` and `SLACK_SCIM_URL` (Slack's
/// own by default) with a 10 s timeout per call, tokens from Secrets Manager.
#[cfg(all(feature = "dynamodb", feature = "slack", feature = "secrets"))]
pub fn slack_invites_from_env(config: &SdkConfig) -> Result<crate::service::SlackInvites, InitError> {
    use crate::slack::http::{HttpSlack, SLACK_API_URL, SLACK_SCIM_URL};
    let api_url = env("SLACK_API_URL").filter(|url| !url.is_empty()).unwrap_or_else(|| SLACK_API_URL.to_owned());
    let scim_url = env("SLACK_SCIM_URL").filter(|url| !url.is_empty()).unwrap_or_else(|| SLACK_SCIM_URL.to_owned());
    let slack = HttpSlack::new(&api_url, &scim_url, std::time::Duration::from_secs(10));
    let secrets = crate::slack::secrets::SecretsManager::new(crate::sdk_config::secrets_client(config));
    let settings = settings_from_env()?;
    Ok(crate::service::SlackInvites::new(
        store_from_env(config, &settings)?,
        Arc::new(SystemClock),
        Arc::new(slack),
        Arc::new(secrets),
    ))
}
