//! `GET /api/v1/me/invitations`: The caller's pending invitations, by their verified email, across projects (`limit`, `cursor`).

use invitations::http::views::InvitationView;
use invitations::http::{caller, list, page_params};
use invitations::{AppError, Invitations, ProjectId};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "GET /api/v1/me/invitations";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let caller = caller(&request)?;
    // Who may not list (an unverified address: 403) hears that before a bad parameter (400).
    let page = page_params(&request, |key| ProjectId::parse(key).is_ok())
        .map_err(|bad| app.refusal(&caller).unwrap_or(bad))?;
    let invitations = app.my_invitations(&caller, &page).await?;
    let views: Vec<_> = invitations.items.iter().map(|i| InvitationView::of(app, i)).collect();
    Ok(list(&request, &["limit"], &views, invitations.next.as_ref()))
}
