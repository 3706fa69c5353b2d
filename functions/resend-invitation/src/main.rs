#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let app = invitations::wiring::service().await?;
    invitations::http::run(&app, resend_invitation::ROUTE, |request| resend_invitation::handle(&app, request)).await
}
