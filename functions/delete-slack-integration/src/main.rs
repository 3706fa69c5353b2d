#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let app = invitations::wiring::service().await?;
    invitations::http::run(&app, delete_slack_integration::ROUTE, |request| {
        delete_slack_integration::handle(&app, request)
    })
    .await
}
