use invitations::queue::sqs::LazySqsQueue;
use invitations::sdk_config::{sdk_config, sqs_client, Timeouts};
use invitations::wiring::{email_delivery_from_env, init_tracing, required_env};
use lambda_runtime::{service_fn, LambdaEvent};
use send_invitation_email::{handle, Sender};
use std::sync::Arc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let config = sdk_config(Timeouts::API).await;
    let delivery = email_delivery_from_env(&config)?;
    // Only a send that has to wait puts its message back: the SQS client is built on that first one.
    let email_queue = LazySqsQueue::new(move || sqs_client(&config), required_env("EMAIL_QUEUE_URL")?);
    let sender = Sender { delivery, redelivery: Arc::new(email_queue) };
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| handle(&sender, event))).await
}
