//! `GET /api/v1/projects/{pk}/invitations`: A project's invitations in time order (`status`, `limit`, `cursor`).

use invitations::http::request::status_param;
use invitations::http::views::InvitationView;
use invitations::http::{caller, list, page_params, project_in_path};
use invitations::InvitationId;
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "GET /api/v1/projects/{pk}/invitations";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let caller = caller(&request)?;
    let project_id = project_in_path(&request)?;
    let (status, page) = (status_param(&request)?, page_params(&request, |key| InvitationId::parse(key).is_ok())?);
    let invitations = app.list_invitations(&caller, &project_id, status, &page).await?;
    let views: Vec<_> = invitations.items.iter().map(|i| InvitationView::of(app, i)).collect();
    Ok(list(&request, &views, invitations.next.as_ref()))
}
