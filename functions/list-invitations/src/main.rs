#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let app = invitations::wiring::service().await?;
    invitations::http::run(&app, list_invitations::ROUTE, |request| list_invitations::handle(&app, request)).await
}
