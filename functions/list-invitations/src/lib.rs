//! `GET /api/v1/projects/{pk}/invitations`: A project's invitations in time order, pending and expired ones by expiry
//! (`status`, `limit`, `cursor`).

use invitations::http::request::status_param;
use invitations::http::views::InvitationView;
use invitations::http::{caller, in_order, list, page_params, project_in_path};
use invitations::service::Access;
use invitations::store::is_invitation_list_key;
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "GET /api/v1/projects/{pk}/invitations";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let (caller, project_id) = (caller(&request)?, project_in_path(&request)?);
    let params = status_param(&request)
        .and_then(|status| Ok((status, page_params(&request, |key| is_invitation_list_key(key, status))?)));
    let (status, page) = in_order(app, &caller, &project_id, Access::Manager, params).await?;
    let invitations = app.list_invitations(&caller, &project_id, status, &page).await?;
    let views: Vec<_> = invitations.items.iter().map(|i| InvitationView::of(app, i)).collect();
    Ok(list(&request, &["status", "limit"], &views, invitations.next.as_ref()))
}
