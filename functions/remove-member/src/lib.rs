//! `DELETE /api/v1/projects/{pk}/members/{user_id}`: Remove a member from the project (managers: lower roles only; the last owner stays).

use invitations::domain::MemberChange;
use invitations::http::{caller, member_in_path, no_content};
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "DELETE /api/v1/projects/{pk}/members/{user_id}";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let (caller, (project_id, user_id)) = (caller(&request)?, member_in_path(&request)?);
    app.change_member(&caller, &project_id, &user_id, MemberChange::Remove).await?;
    Ok(no_content())
}
