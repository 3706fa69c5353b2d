//! `POST /api/v1/projects/{pk}/invitations/bulk`: Invite up to 100 addresses at once, one result per row
//! (`dry_run`).

use invitations::domain::NewInvitation;
use invitations::http::request::{bulk_rows, dry_run_param};
use invitations::http::views::{BulkView, CreateInvitationBody};
use invitations::http::{caller, in_order, ok, project_in_path};
use invitations::metrics::{self, Metric};
use invitations::service::Access;
use invitations::{AppError, Invitations};
use lambda_http::{Body, Request, Response};

pub const ROUTE: &str = "POST /api/v1/projects/{pk}/invitations/bulk";

pub async fn handle(app: &Invitations, request: Request) -> Result<Response<Body>, AppError> {
    let (caller, project_id) = (caller(&request)?, project_in_path(&request)?);
    let parsed = dry_run_param(&request)
        .and_then(|dry_run| Ok((dry_run, bulk_rows::<CreateInvitationBody, NewInvitation>(&request)?)));
    let (dry_run, rows) = in_order(app, &caller, &project_id, Access::Inviter, parsed).await?;
    let (emails, rows): (Vec<_>, Vec<_>) = rows.into_iter().unzip();
    let outcomes = app.bulk_invite(&caller, &project_id, rows, dry_run).await?;
    let view = BulkView::new(app, dry_run, emails.into_iter().zip(outcomes).collect());
    metrics::count(Metric::InvitationsCreated, view.created as u64);
    Ok(ok(&view))
}
