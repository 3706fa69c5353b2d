//! `POST /api/v1/projects/{pk}/invitations`: Invite an email address to the project with a role; the email is queued.

use invitations::domain::NewInvitation;
use invitations::http::views::{CreateInvitationBody, InvitationView};
use invitations::http::{caller, created, parsed_body, project_in_path};
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "POST /api/v1/projects/{pk}/invitations";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let caller = caller(&request)?;
    let project_id = project_in_path(&request)?;
    let new: NewInvitation = parsed_body::<CreateInvitationBody, _>(&request)?;
    Ok(created(&InvitationView::of(app, &app.create_invitation(&caller, &project_id, new).await?)))
}
