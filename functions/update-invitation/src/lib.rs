//! `PUT /api/v1/projects/{pk}/invitations`: Change a pending invitation's email or role; a new address gets a new email.

use invitations::domain::InvitationRef;
use invitations::http::views::{InvitationView, UpdateInvitationBody};
use invitations::http::{caller, if_match, in_order, invitation, parsed_body, project_in_path};
use invitations::service::Access;
use invitations::{AppError, Invitations};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "PUT /api/v1/projects/{pk}/invitations";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let (caller, project_id) = (caller(&request)?, project_in_path(&request)?);
    let parsed = parsed_body::<UpdateInvitationBody, _>(&request);
    let (id, changes) = in_order(app, &caller, &project_id, Access::Manager, parsed).await?;
    let target = InvitationRef { id, if_match: if_match(&request) };
    let updated = app.update_invitation(&caller, &project_id, target, changes).await?;
    Ok(invitation(StatusCode::OK, &InvitationView::of(app, &updated)))
}
