use invitations::aws::{init_tracing, sdk_config, service_from_env, Timeouts};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let app = service_from_env(&sdk_config(Timeouts::API).await)?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| ses_events::handle(&app, event))).await
}
