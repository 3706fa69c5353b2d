//! `GET /api/v1/me/invitations`: The caller's pending invitations, by their verified email, across projects.

use invitations::http::{caller, ok, respond};
use invitations::Invitations;
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "GET /api/v1/me/invitations";

pub async fn handle(app: &Invitations, request: Request) -> Response<Body> {
    respond(
        async {
            let caller = caller(&request)?;
            let invitations = app.my_invitations(&caller).await?;
            let views: Vec<_> = invitations.iter().map(|i| app.view(i)).collect();
            Ok(ok(&views))
        }
        .await,
    )
}
