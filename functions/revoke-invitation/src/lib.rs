//! `POST /api/v1/projects/{pk}/revoke-invitation`: Revoke a pending invitation.

use invitations::http::views::SUCCESS;
use invitations::http::{caller, in_order, invitation_id_in_body, ok, project_in_path};
use invitations::service::Access;
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "POST /api/v1/projects/{pk}/revoke-invitation";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let caller = caller(&request)?;
    let project_id = project_in_path(&request)?;
    let id = in_order(app, &caller, &project_id, Access::Manager, invitation_id_in_body(&request)).await?;
    app.revoke(&caller, &project_id, id).await.map(|_| ok(&SUCCESS))
}
