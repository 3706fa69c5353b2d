//! `GET /api/v1/projects/{pk}/invitations/{id}`: One invitation of the project, with its delivery status.

use invitations::http::{caller, invitation_in_path, ok, respond};
use invitations::Invitations;
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "GET /api/v1/projects/{pk}/invitations/{id}";

pub async fn handle(app: &Invitations, request: Request) -> Response<Body> {
    respond(
        async {
            let caller = caller(&request)?;
            let (project_id, id) = invitation_in_path(&request)?;
            let invitation = app.invitation(&caller, &project_id, id).await?;
            Ok(ok(&app.view(&invitation)))
        }
        .await,
    )
}
