//! The HTTP edge: every API function's request parsing, response building and the one mapping
//! from [`AppError`] to a response. A handler is `async fn(&Invitations, Request) ->
//! Result<Response, AppError>`; [`run`] serves it on Lambda and [`respond`] answers its errors.

pub mod idempotency;
pub mod request;
pub mod views;

use crate::cause::Chain;
use crate::domain::Cursor;
use crate::domain::{Caller, ProjectId};
use crate::metrics::{self, Metric};
use crate::service::{Access, AppError, Invitations};
use lambda_http::http::header::{CONTENT_TYPE, ETAG, LINK, RETRY_AFTER};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use std::future::Future;
use tracing::Instrument;

pub use request::{
    caller, if_match, invitation_id_in_body, invitation_in_path, member_in_path, page_params, parsed_body,
    project_in_path,
};

/// A JSON response. (The views always serialize; should one ever not, the client gets a 500, never
/// a panic.)
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    let (status, text) = match serde_json::to_string(value) {
        Ok(text) => (status, text),
        Err(err) => {
            tracing::error!(error = %err, "a response did not serialize");
            let text = r#"{"code":"internal_error","message":"Internal error."}"#;
            (StatusCode::INTERNAL_SERVER_ERROR, text.to_owned())
        }
    };
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, lambda_http::http::HeaderValue::from_static("application/json"));
    response
}

pub fn ok<T: Serialize>(value: &T) -> Response<Body> {
    json(StatusCode::OK, value)
}

pub fn created<T: Serialize>(value: &T) -> Response<Body> {
    json(StatusCode::CREATED, value)
}

/// Done, nothing to say: 204.
pub fn no_content() -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// An invitation's response, with its version as the `ETag` (`If-Match` takes it back).
pub fn invitation(status: StatusCode, view: &views::InvitationView) -> Response<Body> {
    tagged(json(status, view), view.version)
}

/// `response` with an invitation's version as its `ETag`.
pub fn tagged(mut response: Response<Body>, version: u64) -> Response<Body> {
    if let Ok(value) = etag(version).parse() {
        response.headers_mut().insert(ETAG, value);
    }
    response
}

/// The entity tag of an invitation's version.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// A list, with `Link: <…&cursor=…>; rel="next"` when more items follow. The link is relative to
/// the request's own path (nothing is taken from the Host header) and carries only the list's own
/// parameters, `carried` (its filters and `limit`), percent-encoded, and the new cursor.
pub fn list<T: Serialize>(request: &Request, carried: &[&str], items: &[T], next: Option<&Cursor>) -> Response<Body> {
    let mut response = ok(&items);
    if let Some(cursor) = next {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for name in carried {
            for value in request::query_values(request, name) {
                query.append_pair(name, value);
            }
        }
        query.append_pair("cursor", &cursor.encode());
        let link = format!("<{}?{}>; rel=\"next\"", request.uri().path(), query.finish());
        // Built from encoded parts only, so always a valid header; never a panic either way.
        if let Ok(value) = link.parse() {
            response.headers_mut().insert(LINK, value);
        }
    }
    response
}

/// The one mapping from errors to HTTP. Internal details go to the log, never to the client.
pub fn error_response(err: &AppError) -> Response<Body> {
    let status = match err {
        AppError::Invalid { .. } => StatusCode::BAD_REQUEST,
        AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
        AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Conflict { .. } => StatusCode::CONFLICT,
        AppError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
        AppError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status.is_server_error() {
        tracing::error!(error = %Chain(err), "request failed");
    }
    let mut response = json(status, &views::ErrorView::of(err));
    if let AppError::TooManyRequests { retry_after_secs, .. } = err {
        response.headers_mut().insert(RETRY_AFTER, lambda_http::http::HeaderValue::from(*retry_after_secs));
    }
    response
}

/// `parsed`, or, when it is a refusal, the answer the contract gives first: a caller who may not
/// act on the project hears that (404, then 403) before anything about their input (400). Only
/// this error path pays the extra read.
pub async fn in_order<T>(
    app: &Invitations,
    caller: &Caller,
    project_id: &ProjectId,
    access: Access,
    parsed: Result<T, AppError>,
) -> Result<T, AppError> {
    match parsed {
        Ok(value) => Ok(value),
        Err(invalid) => {
            app.check_access(caller, project_id, access).await?;
            Err(invalid)
        }
    }
}

/// Runs a handler in the request's span (route, project and invitation ids), answering its error.
pub async fn respond<F>(route: &'static str, handling: F) -> Response<Body>
where
    F: Future<Output = Result<Response<Body>, AppError>>,
{
    let span = tracing::info_span!(
        "request",
        route,
        project_id = tracing::field::Empty,
        invitation_id = tracing::field::Empty
    );
    async {
        match handling.await {
            Ok(response) => {
                if let Some(metric) = Metric::for_route(route).filter(|_| response.status().is_success()) {
                    metrics::count(metric, 1);
                }
                response
            }
            Err(err) => {
                if matches!(err, AppError::TooManyRequests { code: "quota_exceeded", .. }) {
                    metrics::count(Metric::QuotaRefusals, 1);
                }
                error_response(&err)
            }
        }
    }
    .instrument(span)
    .await
}

/// Serves an API handler on the Lambda runtime, keyed requests at most once
/// ([`idempotency::serve`]). Handlers never fail at the runtime level: every error is already a
/// response.
pub async fn run<H, F>(app: &Invitations, route: &'static str, handler: H) -> Result<(), lambda_http::Error>
where
    H: Fn(Request) -> F + Sync,
    F: Future<Output = Result<Response<Body>, AppError>> + Send,
{
    lambda_http::run(lambda_http::service_fn(|request| {
        let response = idempotency::serve(app, route, request, &handler);
        async move { Ok::<_, std::convert::Infallible>(Finished(response.await)) }
    }))
    .await
}

/// A response whose body is already final JSON text. lambda_http's own conversion would collect
/// the body again and re-decode it by its charset, linking a table of every legacy encoding.
struct Finished(Response<Body>);

impl lambda_http::IntoResponse for Finished {
    fn into_response(self) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response<Body>> + Send>> {
        Box::pin(std::future::ready(self.0))
    }
}
