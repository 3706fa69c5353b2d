//! `PUT /api/v1/projects/{pk}/invitations`: Change a pending invitation's email or role; a new address gets a new email.

use invitations::http::views::{InvitationView, UpdateInvitationBody};
use invitations::http::{caller, ok, parsed_body, project_in_path};
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "PUT /api/v1/projects/{pk}/invitations";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let caller = caller(&request)?;
    let project_id = project_in_path(&request)?;
    let (id, changes) = parsed_body::<UpdateInvitationBody, _>(&request)?;
    Ok(ok(&InvitationView::of(app, &app.update_invitation(&caller, &project_id, id, changes).await?)))
}
