//! `GET /api/v1/projects/{pk}/members`: A project's members, with their roles (`limit`, `cursor`).

use invitations::http::views::MemberView;
use invitations::http::{caller, in_order, list, page_params, project_in_path};
use invitations::service::Access;
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "GET /api/v1/projects/{pk}/members";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let (caller, project_id) = (caller(&request)?, project_in_path(&request)?);
    let page =
        in_order(app, &caller, &project_id, Access::Member, page_params(&request, |key| !key.is_empty())).await?;
    let members = app.members(&caller, &project_id, &page).await?;
    let views: Vec<MemberView> = members.items.iter().map(MemberView::from).collect();
    Ok(list(&request, &["limit"], &views, members.next.as_ref()))
}
