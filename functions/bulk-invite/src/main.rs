#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let app = invitations::wiring::service().await?;
    invitations::http::run(&app, bulk_invite::ROUTE, |request| bulk_invite::handle(&app, request)).await
}
