//! `POST /api/v1/projects/{pk}/revoke-invitation`: Revoke a pending invitation.

use invitations::domain::InvitationRef;
use invitations::http::views::SUCCESS;
use invitations::http::{caller, if_match, in_order, invitation_id_in_body, ok, project_in_path, tagged};
use invitations::service::Access;
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "POST /api/v1/projects/{pk}/revoke-invitation";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let caller = caller(&request)?;
    let project_id = project_in_path(&request)?;
    let id = in_order(app, &caller, &project_id, Access::Manager, invitation_id_in_body(&request)).await?;
    let revoked = app.revoke(&caller, &project_id, InvitationRef { id, if_match: if_match(&request) }).await?;
    Ok(tagged(ok(&SUCCESS), revoked.version))
}
