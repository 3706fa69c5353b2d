//! `GET /api/v1/projects/{pk}/events`: The project's event log, newest first (`type`, `invitation_id`, `limit`, `cursor`).

use invitations::http::request::event_filter_params;
use invitations::http::views::EventView;
use invitations::http::{caller, list, page_params, project_in_path};
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "GET /api/v1/projects/{pk}/events";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let (caller, project_id) = (caller(&request)?, project_in_path(&request)?);
    let (filter, page) =
        (event_filter_params(&request)?, page_params(&request, |key| key.parse::<uuid::Uuid>().is_ok())?);
    let events = app.events(&caller, &project_id, &filter, &page).await?;
    let views: Vec<EventView> = events.items.iter().map(EventView::from).collect();
    Ok(list(&request, &views, events.next.as_ref()))
}
