//! `GET /api/v1/me/invitations`: The caller's pending invitations, by their verified email, across projects.

use invitations::http::views::InvitationView;
use invitations::http::{caller, ok};
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "GET /api/v1/me/invitations";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let invitations = app.my_invitations(&caller(&request)?).await?;
    Ok(ok(&invitations.iter().map(|i| InvitationView::of(app, i)).collect::<Vec<_>>()))
}
