use invitations::aws::{email_queue_from_env, init_tracing, sdk_config, service_from_env, Timeouts};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing();
    // Clients are built once here and borrowed by every invocation.
    let config = sdk_config(Timeouts::API).await;
    let app = service_from_env(&config)?.with_email_queue(email_queue_from_env(&config)?);
    invitations::http::run(|request| create_invitation::handle(&app, request)).await
}
