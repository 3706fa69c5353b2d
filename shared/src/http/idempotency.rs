//! `Idempotency-Key` on every POST and PUT: the key is scoped to the caller and the request's
//! path; the first answer (status, body and the headers a client reads) is kept a day, and a
//! retry with the same body gets it back without running again.

use super::{error_response, request, respond};
use crate::domain::idempotency::{valid_key, KeptResponse};
use crate::service::{AppError, Invitations, Keyed};
use base64::Engine;
use lambda_http::http::header::{HeaderName, HeaderValue, CONTENT_TYPE, ETAG, LINK, LOCATION, RETRY_AFTER};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use sha2::{Digest, Sha256};
use std::future::Future;

const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The headers kept with an answer (`Content-Type` is always JSON).
const KEPT_HEADERS: [HeaderName; 4] = [ETAG, LINK, LOCATION, RETRY_AFTER];

/// Runs `handler` on `request` as [`respond`] does; a keyed POST or PUT runs at most once.
pub async fn serve<H, F>(app: &Invitations, route: &'static str, request: Request, handler: H) -> Response<Body>
where
    H: FnOnce(Request) -> F,
    F: Future<Output = Result<Response<Body>, AppError>>,
{
    let keyed = matches!(*request.method(), Method::POST | Method::PUT);
    let key = request.headers().get(IDEMPOTENCY_KEY).filter(|_| keyed).map(|v| v.to_str().unwrap_or_default());
    let (Some(key), Ok(caller)) = (key, request::caller(&request)) else {
        return respond(route, handler(request)).await;
    };
    if !valid_key(key) {
        let invalid = "Idempotency-Key must be 1 to 255 visible ASCII characters.";
        return error_response(&AppError::invalid("invalid_idempotency_key", Some("Idempotency-Key"), invalid));
    }
    let scope = digest(&[caller.user_id.as_str(), request.method().as_str(), request.uri().path(), key]);
    let fingerprint = digest(&[&String::from_utf8_lossy(request.body().as_ref())]);
    let record = match app.begin_request(scope, fingerprint).await {
        Ok(Keyed::Run(record)) => record,
        Ok(Keyed::Replay(kept)) => return replayed(kept),
        Err(err) => return error_response(&err),
    };
    let response = respond(route, handler(request)).await;
    app.finish_request(&record, kept(&response)).await;
    response
}

/// SHA-256 over the parts, each ended by a newline, base64url.
fn digest(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update(b"\n");
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash.finalize())
}

fn kept(response: &Response<Body>) -> KeptResponse {
    let headers = KEPT_HEADERS
        .iter()
        .filter_map(|name| Some((name.as_str().to_owned(), response.headers().get(name)?.to_str().ok()?.to_owned())))
        .collect();
    let body = match response.body() {
        Body::Text(text) => text.clone(),
        Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        _ => String::new(),
    };
    KeptResponse { status: response.status().as_u16(), headers, body }
}

/// The kept answer, as it was, marked as a replay.
fn replayed(kept: KeptResponse) -> Response<Body> {
    let body = if kept.body.is_empty() { Body::Empty } else { Body::Text(kept.body) };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    if kept.status != StatusCode::NO_CONTENT {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    for (name, value) in kept.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.insert(name, value);
        }
    }
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
