//! `GET /api/v1/me/projects`: The caller's projects, with their role in each (`limit`, `cursor`).

use invitations::http::views::ProjectView;
use invitations::http::{caller, list, page_params};
use invitations::{AppError, Invitations, ProjectId};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "GET /api/v1/me/projects";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let caller = caller(&request)?;
    let page = page_params(&request, |key| ProjectId::parse(key).is_ok())?;
    let projects = app.my_projects(&caller, &page).await?;
    let views: Vec<_> = projects.items.iter().map(|(project, role)| ProjectView::new(project, *role)).collect();
    Ok(list(&request, &["limit"], &views, projects.next.as_ref()))
}
