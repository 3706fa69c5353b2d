#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let app = invitations::wiring::service().await?;
    invitations::http::run(&app, my_invitations::ROUTE, |request| my_invitations::handle(&app, request)).await
}
