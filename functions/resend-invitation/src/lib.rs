//! `POST /api/v1/projects/{pk}/resend-invitation`: Send a pending (or expired) invitation again, renewing its expiry.

use invitations::domain::InvitationRef;
use invitations::http::views::SUCCESS;
use invitations::http::{caller, if_match, in_order, invitation_id_in_body, ok, project_in_path, tagged};
use invitations::service::Access;
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "POST /api/v1/projects/{pk}/resend-invitation";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let (caller, project_id) = (caller(&request)?, project_in_path(&request)?);
    let id = in_order(app, &caller, &project_id, Access::Manager, invitation_id_in_body(&request)).await?;
    let resent = app.resend(&caller, &project_id, InvitationRef { id, if_match: if_match(&request) }).await?;
    Ok(tagged(ok(&SUCCESS), resent.version))
}
