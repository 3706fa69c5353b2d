#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let app = invitations::wiring::service().await?;
    invitations::http::run(&app, create_invitation::ROUTE, |request| create_invitation::handle(&app, request)).await
}
