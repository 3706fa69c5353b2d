//! `POST /api/v1/projects/{pk}/invitations/{id}/decline`: Decline an invitation addressed to the caller's verified email.

use invitations::http::views::InvitationView;
use invitations::http::{caller, invitation_in_path, ok};
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "POST /api/v1/projects/{pk}/invitations/{id}/decline";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let caller = caller(&request)?;
    let (project_id, id) = invitation_in_path(&request)?;
    Ok(ok(&InvitationView::of(app, &app.decline(&caller, &project_id, id).await?)))
}
