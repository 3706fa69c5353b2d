use invitations::queue::sqs::LazySqsQueue;
use invitations::sdk_config::{sdk_config, sqs_client, Timeouts};
use invitations::wiring::{init_tracing, required_env, service_from_env};
use lambda_runtime::{service_fn, LambdaEvent};
use post_confirmation::{handle, Trigger, ACCEPT_DEADLINE};
use std::sync::Arc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    // Short timeouts: Cognito gives the whole trigger 5 s.
    let config = sdk_config(Timeouts::TRIGGER).await;
    let app = service_from_env(&config)?;
    // Only a failed acceptance sends to this queue: its client is built on that first send.
    let reconcile_queue = LazySqsQueue::new(move || sqs_client(&config), required_env("RECONCILE_QUEUE_URL")?);
    let trigger = Trigger { app, reconcile_queue: Arc::new(reconcile_queue), deadline: ACCEPT_DEADLINE };
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| handle(&trigger, event))).await
}
