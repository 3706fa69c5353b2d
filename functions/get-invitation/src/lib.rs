//! `GET /api/v1/projects/{pk}/invitations/{id}`: One invitation of the project, with its delivery status.

use invitations::http::views::InvitationView;
use invitations::http::{caller, invitation, invitation_in_path};
use invitations::{AppError, Invitations};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "GET /api/v1/projects/{pk}/invitations/{id}";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let caller = caller(&request)?;
    let (project_id, id) = invitation_in_path(&request)?;
    let (found, member) = app.invitation_and_member(&caller, &project_id, id).await?;
    Ok(invitation(StatusCode::OK, &InvitationView::of(app, &found).with_member(member.as_ref())))
}
