//! `PUT /api/v1/projects/{pk}/integrations/slack`: Set the project's Slack integration (owners; the token stays in Secrets Manager).

use invitations::http::request::json_body;
use invitations::http::views::{SlackIntegrationBody, SlackIntegrationView};
use invitations::http::{caller, ok, project_in_path};
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "PUT /api/v1/projects/{pk}/integrations/slack";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let (caller, project_id) = (caller(&request)?, project_in_path(&request)?);
    let settings = json_body::<SlackIntegrationBody>(&request).and_then(|body| body.settings(&app.settings().stack));
    // Who may not configure it hears that (404, 403) before anything about the body (400).
    let settings = match settings {
        Ok(settings) => settings,
        Err(invalid) => {
            app.check_owner(&caller, &project_id).await?;
            return Err(invalid);
        }
    };
    let integration = app.set_slack(&caller, &project_id, settings).await?;
    Ok(ok(&SlackIntegrationView::from(&integration)))
}
