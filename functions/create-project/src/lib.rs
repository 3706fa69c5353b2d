//! `POST /api/v1/projects`: Create a project; the caller becomes its owner.

use invitations::domain::NewProject;
use invitations::http::views::{CreateProjectBody, ProjectView};
use invitations::http::{caller, created, parsed_body};
use invitations::Role;
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "POST /api/v1/projects";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let caller = caller(&request)?;
    let new: NewProject = parsed_body::<CreateProjectBody, _>(&request)?;
    Ok(created(&ProjectView::new(&app.create_project(&caller, new).await?, Role::Owner)))
}
