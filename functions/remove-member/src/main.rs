#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let app = invitations::wiring::service().await?;
    invitations::http::run(&app, remove_member::ROUTE, |request| remove_member::handle(&app, request)).await
}
