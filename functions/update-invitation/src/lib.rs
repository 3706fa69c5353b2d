//! `PUT /api/v1/projects/{pk}/invitations`: Change a pending invitation's email or role; a new address gets a new email.

use invitations::api::UpdateInvitationBody;
use invitations::http::{caller, json_body, ok, path_param, respond};
use invitations::service::parse_invitation_id;
use invitations::Invitations;
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "PUT /api/v1/projects/{pk}/invitations";

pub async fn handle(app: &Invitations, request: Request) -> Response<Body> {
    respond(
        async {
            let caller = caller(&request)?;
            let project_id = path_param(&request, "pk")?;
            let body: UpdateInvitationBody = json_body(&request)?;
            let id = parse_invitation_id(&body.invitation_id)?;
            let invitation =
                app.update_invitation(&caller, &project_id, id, body.email.as_deref(), body.role.as_deref()).await?;
            Ok(ok(&app.view(&invitation)))
        }
        .await,
    )
}
