#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let app = invitations::wiring::service().await?;
    invitations::http::run(&app, revoke_invitation::ROUTE, |request| revoke_invitation::handle(&app, request)).await
}
