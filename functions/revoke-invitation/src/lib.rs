//! `POST /api/v1/projects/{pk}/revoke-invitation`: Revoke a pending invitation.

use invitations::api::SUCCESS;
use invitations::http::{caller, invitation_in_body, ok, respond};
use invitations::Invitations;
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "POST /api/v1/projects/{pk}/revoke-invitation";

pub async fn handle(app: &Invitations, request: Request) -> Response<Body> {
    respond(
        async {
            let caller = caller(&request)?;
            let (project_id, id) = invitation_in_body(&request)?;
            app.revoke(&caller, &project_id, id).await?;
            Ok(ok(&SUCCESS))
        }
        .await,
    )
}
