#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let app = invitations::wiring::service().await?;
    invitations::http::run(&app, my_projects::ROUTE, |request| my_projects::handle(&app, request)).await
}
