//! `PATCH /api/v1/projects/{pk}/members/{user_id}`: Give a member another role (managers: lower roles only; the last owner stays).

use invitations::domain::MemberChange;
use invitations::http::views::{MemberRoleBody, MemberView};
use invitations::http::{caller, in_order, member_in_path, no_content, ok, parsed_body};
use invitations::service::Access;
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "PATCH /api/v1/projects/{pk}/members/{user_id}";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let (caller, (project_id, user_id)) = (caller(&request)?, member_in_path(&request)?);
    let change = parsed_body::<MemberRoleBody, MemberChange>(&request);
    let change = in_order(app, &caller, &project_id, Access::Manager, change).await?;
    let member = app.change_member(&caller, &project_id, &user_id, change).await?;
    Ok(match member {
        Some(member) => ok(&MemberView::from(&member)),
        None => no_content(),
    })
}
