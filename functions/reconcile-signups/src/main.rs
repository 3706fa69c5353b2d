use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = invitations::wiring::service().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| reconcile_signups::handle(&app, event))).await
}
