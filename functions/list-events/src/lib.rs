//! `GET /api/v1/projects/{pk}/events`: The project's event log, newest first (`type`, `invitation_id`, `limit`, `cursor`).

use invitations::http::request::event_filter_params;
use invitations::http::views::EventView;
use invitations::http::{caller, in_order, list, page_params, project_in_path};
use invitations::service::Access;
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "GET /api/v1/projects/{pk}/events";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let (caller, project_id) = (caller(&request)?, project_in_path(&request)?);
    let params = event_filter_params(&request)
        .and_then(|filter| Ok((filter, page_params(&request, |key| key.parse::<uuid::Uuid>().is_ok())?)));
    let (filter, page) = in_order(app, &caller, &project_id, Access::Manager, params).await?;
    let events = app.events(&caller, &project_id, &filter, &page).await?;
    let views: Vec<EventView> = events.items.iter().map(EventView::from).collect();
    Ok(list(&request, &["type", "invitation_id", "limit"], &views, events.next.as_ref()))
}
