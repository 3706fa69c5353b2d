#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let app = invitations::wiring::service().await?;
    invitations::http::run(&app, leave_project::ROUTE, |request| leave_project::handle(&app, request)).await
}
