//! `GET /api/v1/projects/{pk}/invitations`: A project's invitations in time order, pending and expired ones by expiry
//! (`status`, `delivery_status`, `email`, `limit`, `cursor`).

use invitations::http::request::invitation_filter_params;
use invitations::http::views::InvitationView;
use invitations::http::{caller, in_order, list, page_params, project_in_path};
use invitations::service::Access;
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "GET /api/v1/projects/{pk}/invitations";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let (caller, project_id) = (caller(&request)?, project_in_path(&request)?);
    let params = invitation_filter_params(&request)
        .and_then(|filter| Ok((page_params(&request, |key| filter.is_list_key(key))?, filter)));
    let (page, filter) = in_order(app, &caller, &project_id, Access::Manager, params).await?;
    let invitations = app.list_invitations(&caller, &project_id, filter, &page).await?;
    let views: Vec<_> = invitations.items.iter().map(|i| InvitationView::of(app, i)).collect();
    Ok(list(&request, &["status", "delivery_status", "email", "limit"], &views, invitations.next.as_ref()))
}
