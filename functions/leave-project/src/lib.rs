//! `DELETE /api/v1/projects/{pk}/members/me`: Leave the project (its last owner cannot).

use invitations::domain::MemberChange;
use invitations::http::{caller, no_content, project_in_path};
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "DELETE /api/v1/projects/{pk}/members/me";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let (caller, project_id) = (caller(&request)?, project_in_path(&request)?);
    app.change_member(&caller, &project_id, &caller.user_id, MemberChange::Remove).await?;
    Ok(no_content())
}
