//! `POST /api/v1/projects/{pk}/invitations`: Invite an email address to the project with a role; the email is queued.

use invitations::domain::NewInvitation;
use invitations::http::views::{CreateInvitationBody, InvitationView};
use invitations::http::{caller, in_order, invitation, parsed_body, project_in_path};
use invitations::service::Access;
use invitations::{AppError, Invitations};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "POST /api/v1/projects/{pk}/invitations";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let (caller, project_id) = (caller(&request)?, project_in_path(&request)?);
    let new: Result<NewInvitation, _> = parsed_body::<CreateInvitationBody, _>(&request);
    let new = in_order(app, &caller, &project_id, Access::Inviter, new).await?;
    let created = app.create_invitation(&caller, &project_id, new).await?;
    Ok(invitation(StatusCode::CREATED, &InvitationView::of(app, &created)))
}
