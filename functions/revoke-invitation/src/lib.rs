//! `POST /api/v1/projects/{pk}/revoke-invitation`: Revoke a pending invitation.

use invitations::http::views::SUCCESS;
use invitations::http::{caller, invitation_in_body, ok};
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "POST /api/v1/projects/{pk}/revoke-invitation";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let (caller, (project_id, id)) = (caller(&request)?, invitation_in_body(&request)?);
    app.revoke(&caller, &project_id, id).await.map(|_| ok(&SUCCESS))
}
