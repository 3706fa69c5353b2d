use invitations::sdk_config::{sdk_config, Timeouts};
use invitations::wiring::{email_delivery_from_env, init_tracing};
use lambda_runtime::{service_fn, LambdaEvent};
use send_invitation_email::{handle, Sender};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let sender = Sender { delivery: email_delivery_from_env(&sdk_config(Timeouts::API).await)? };
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| handle(&sender, event))).await
}
