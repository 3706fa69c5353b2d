//! `GET /api/v1/projects/{pk}/members`: A project's members, with their roles (`limit`, `cursor`).

use invitations::http::views::MemberView;
use invitations::http::{caller, list, page_params, project_in_path};
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "GET /api/v1/projects/{pk}/members";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let (caller, project_id) = (caller(&request)?, project_in_path(&request)?);
    let members = app.members(&caller, &project_id, &page_params(&request, |key| !key.is_empty())?).await?;
    let views: Vec<MemberView> = members.items.iter().map(MemberView::from).collect();
    Ok(list(&request, &views, members.next.as_ref()))
}
