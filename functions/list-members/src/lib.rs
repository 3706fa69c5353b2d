//! `GET /api/v1/projects/{pk}/members`: A project's members, with their roles (`limit`, `cursor`).

use invitations::api::MemberView;
use invitations::http::{caller, list, path_param, query_param, respond};
use invitations::service::page_request;
use invitations::Invitations;
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "GET /api/v1/projects/{pk}/members";

pub async fn handle(app: &Invitations, request: Request) -> Response<Body> {
    respond(
        async {
            let caller = caller(&request)?;
            let project_id = path_param(&request, "pk")?;
            let page = page_request(
                query_param(&request, "limit").as_deref(),
                query_param(&request, "cursor").as_deref(),
                |k| !k.is_empty(),
            )?;
            let members = app.members(&caller, &project_id, &page).await?;
            let views: Vec<MemberView> = members.items.iter().map(MemberView::from).collect();
            Ok(list(&request, &views, members.next.as_ref()))
        }
        .await,
    )
}
