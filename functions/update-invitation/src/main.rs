#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let app = invitations::wiring::service().await?;
    invitations::http::run(&app, update_invitation::ROUTE, |request| update_invitation::handle(&app, request)).await
}
