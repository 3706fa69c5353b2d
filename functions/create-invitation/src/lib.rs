//! `POST /api/v1/projects/{pk}/invitations`: Invite an email address to the project with a role; the email is queued.

use invitations::api::CreateInvitationBody;
use invitations::http::{caller, created, json_body, path_param, respond};
use invitations::Invitations;
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "POST /api/v1/projects/{pk}/invitations";

pub async fn handle(app: &Invitations, request: Request) -> Response<Body> {
    respond(
        async {
            let caller = caller(&request)?;
            let project_id = path_param(&request, "pk")?;
            let body: CreateInvitationBody = json_body(&request)?;
            let invitation = app.create_invitation(&caller, &project_id, &body.email, &body.role).await?;
            Ok(created(&app.view(&invitation)))
        }
        .await,
    )
}
