//! `POST /api/v1/projects`: Create a project; the caller becomes its owner.

use invitations::api::{CreateProjectBody, ProjectView};
use invitations::http::{caller, created, json_body, respond};
use invitations::{Invitations, Role};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "POST /api/v1/projects";

pub async fn handle(app: &Invitations, request: Request) -> Response<Body> {
    respond(
        async {
            let caller = caller(&request)?;
            let body: CreateProjectBody = json_body(&request)?;
            let project = app.create_project(&caller, &body.name, &body.allowed_email_domains).await?;
            Ok(created(&ProjectView::new(&project, Role::Owner)))
        }
        .await,
    )
}
