use invitations::queue::sqs::SqsQueue;
use invitations::sdk_config::{sdk_config, sqs_client, Timeouts};
use invitations::wiring::{init_tracing, required_env, slack_invites_from_env};
use lambda_runtime::{service_fn, LambdaEvent};
use slack_invite::{handle, SlackInviter};
use std::sync::Arc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let config = sdk_config(Timeouts::API).await;
    let queue = SqsQueue::new(sqs_client(&config), required_env("SLACK_QUEUE_URL")?);
    let inviter = SlackInviter { invites: slack_invites_from_env(&config)?, redelivery: Arc::new(queue) };
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| handle(&inviter, event))).await
}
