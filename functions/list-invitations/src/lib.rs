//! `GET /api/v1/projects/{pk}/invitations`: A project's invitations in time order (`status`, `limit`, `cursor`).

use invitations::http::{caller, list, path_param, query_param, respond};
use invitations::service::{is_uuid, page_request, parse_status};
use invitations::Invitations;
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "GET /api/v1/projects/{pk}/invitations";

pub async fn handle(app: &Invitations, request: Request) -> Response<Body> {
    respond(
        async {
            let caller = caller(&request)?;
            let project_id = path_param(&request, "pk")?;
            let status = query_param(&request, "status").map(|s| parse_status(&s)).transpose()?;
            let page = page_request(
                query_param(&request, "limit").as_deref(),
                query_param(&request, "cursor").as_deref(),
                is_uuid,
            )?;
            let invitations = app.list_invitations(&caller, &project_id, status, &page).await?;
            let views: Vec<_> = invitations.items.iter().map(|i| app.view(i)).collect();
            Ok(list(&request, &views, invitations.next.as_ref()))
        }
        .await,
    )
}
