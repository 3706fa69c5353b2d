//! `POST /api/v1/projects/{pk}/members/{user_id}/slack-invite`: Queue a new attempt at a member's pending or failed Slack invitation (managers, owners).

use invitations::http::views::MemberView;
use invitations::http::{caller, json, member_in_path};
use invitations::{AppError, Invitations};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "POST /api/v1/projects/{pk}/members/{user_id}/slack-invite";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let (caller, (project_id, user_id)) = (caller(&request)?, member_in_path(&request)?);
    let member = app.retry_slack_invite(&caller, &project_id, &user_id).await?;
    Ok(json(StatusCode::ACCEPTED, &MemberView::from(&member)))
}
