//! `POST /api/v1/projects/{pk}/resend-invitation`: Send a pending (or expired) invitation again, renewing its expiry.

use invitations::http::views::SUCCESS;
use invitations::http::{caller, invitation_in_body, ok};
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "POST /api/v1/projects/{pk}/resend-invitation";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let caller = caller(&request)?;
    let (project_id, id) = invitation_in_body(&request)?;
    app.resend(&caller, &project_id, id).await?;
    Ok(ok(&SUCCESS))
}
