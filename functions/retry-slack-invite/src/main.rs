#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let app = invitations::wiring::service().await?;
    invitations::http::run(&app, retry_slack_invite::ROUTE, |request| retry_slack_invite::handle(&app, request)).await
}
