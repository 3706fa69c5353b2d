#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let app = invitations::wiring::service().await?;
    invitations::http::run(&app, put_slack_integration::ROUTE, |request| put_slack_integration::handle(&app, request))
        .await
}
