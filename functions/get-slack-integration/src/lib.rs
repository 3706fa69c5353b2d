//! `GET /api/v1/projects/{pk}/integrations/slack`: The project's Slack integration, never its token (owners).

use invitations::http::views::SlackIntegrationView;
use invitations::http::{caller, ok, project_in_path};
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "GET /api/v1/projects/{pk}/integrations/slack";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let (caller, project_id) = (caller(&request)?, project_in_path(&request)?);
    Ok(ok(&SlackIntegrationView::from(&app.slack(&caller, &project_id).await?)))
}
