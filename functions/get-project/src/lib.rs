//! `GET /api/v1/projects/{pk}`: A project, as its member sees it.

use invitations::api::ProjectView;
use invitations::http::{caller, ok, path_param, respond};
use invitations::Invitations;
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "GET /api/v1/projects/{pk}";

pub async fn handle(app: &Invitations, request: Request) -> Response<Body> {
    respond(
        async {
            let caller = caller(&request)?;
            let project_id = path_param(&request, "pk")?;
            let (project, role) = app.project(&caller, &project_id).await?;
            Ok(ok(&ProjectView::new(&project, role)))
        }
        .await,
    )
}
