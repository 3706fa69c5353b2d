use invitations::aws::{init_tracing, required_env, sdk_config, service_from_env, ses_client, Timeouts};
use invitations::mail::ses::SesMailer;
use invitations::mail::EmailTemplates;
use lambda_runtime::{service_fn, LambdaEvent};
use send_invitation_email::{handle, Sender};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let config = sdk_config(Timeouts::API).await;
    let mailer = SesMailer::new(
        ses_client(&config),
        required_env("SENDER_EMAIL")?,
        std::env::var("SES_CONFIGURATION_SET").ok().filter(|s| !s.is_empty()),
    );
    let sender =
        Sender { app: service_from_env(&config)?, mailer: Box::new(mailer), templates: EmailTemplates::from_env() };
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| handle(&sender, event))).await
}
