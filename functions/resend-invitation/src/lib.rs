//! `POST /api/v1/projects/{pk}/resend-invitation`: Send a pending (or expired) invitation again, renewing its expiry.

use invitations::api::{InvitationIdBody, SUCCESS};
use invitations::http::{caller, json_body, ok, path_param, respond};
use invitations::service::parse_invitation_id;
use invitations::Invitations;
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "POST /api/v1/projects/{pk}/resend-invitation";

pub async fn handle(app: &Invitations, request: Request) -> Response<Body> {
    respond(
        async {
            let caller = caller(&request)?;
            let project_id = path_param(&request, "pk")?;
            let body: InvitationIdBody = json_body(&request)?;
            app.resend(&caller, &project_id, parse_invitation_id(&body.invitation_id)?).await?;
            Ok(ok(&SUCCESS))
        }
        .await,
    )
}
