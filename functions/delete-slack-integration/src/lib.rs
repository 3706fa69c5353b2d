//! `DELETE /api/v1/projects/{pk}/integrations/slack`: Remove the project's Slack integration (owners).

use invitations::http::{caller, no_content, project_in_path};
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "DELETE /api/v1/projects/{pk}/integrations/slack";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let (caller, project_id) = (caller(&request)?, project_in_path(&request)?);
    app.remove_slack(&caller, &project_id).await?;
    Ok(no_content())
}
