//! `GET /api/v1/projects/{pk}`: A project, as its member sees it.

use invitations::http::views::ProjectView;
use invitations::http::{caller, ok, project_in_path};
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "GET /api/v1/projects/{pk}";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let caller = caller(&request)?;
    let (project, role) = app.project(&caller, &project_in_path(&request)?).await?;
    Ok(ok(&ProjectView::new(&project, role)))
}
