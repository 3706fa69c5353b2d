//! HTTP glue for every API function: the caller from the JWT authorizer's claims, JSON bodies,
//! parameters, and the one mapping from [`AppError`] to a response.

use crate::error::AppError;
use crate::page::Cursor;
use crate::project::Caller;
use lambda_http::http::header::{CONTENT_TYPE, LINK, RETRY_AFTER};
use lambda_http::http::StatusCode;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The caller, from the claims API Gateway's JWT authorizer verified.
pub fn caller(request: &Request) -> Result<Caller, AppError> {
    let claims = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => {
            context.authorizer.as_ref().and_then(|a| a.jwt.as_ref()).map(|jwt| &jwt.claims)
        }
        _ => None,
    };
    let claims = claims.ok_or(AppError::Unauthenticated)?;
    let user_id = claims.get("sub").filter(|sub| !sub.is_empty()).ok_or(AppError::Unauthenticated)?;
    Ok(Caller {
        user_id: user_id.clone(),
        email: claims.get("email").cloned(),
        email_verified: claims.get("email_verified").is_some_and(|v| v == "true"),
    })
}

/// The JSON body as `T`; a malformed body or a missing or mistyped field is a 400 naming it.
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, AppError> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::invalid("invalid_json", None, "A JSON body is required."));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = inner.to_string();
        if let Some(field) = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()) {
            return AppError::invalid("missing_field", Some(field), format!("The field '{field}' is required."));
        }
        match inner.classify() {
            serde_json::error::Category::Data if path != "." => {
                AppError::invalid("invalid_field", Some(&path), format!("The field '{path}' has the wrong type."))
            }
            serde_json::error::Category::Data => {
                AppError::invalid("invalid_json", None, "The body must be a JSON object.")
            }
            _ => AppError::invalid("invalid_json", None, "The body is not valid JSON."),
        }
    })
}

/// A path parameter; a route without it cannot name anything, so it is not found.
pub fn path_param(request: &Request, name: &str) -> Result<String, AppError> {
    request.path_parameters().first(name).map(str::to_owned).ok_or(AppError::NotFound)
}

/// The invitation a route's path names: the project `{pk}` and the invitation `{id}`.
pub fn invitation_in_path(request: &Request) -> Result<(String, uuid::Uuid), AppError> {
    let project_id = path_param(request, "pk")?;
    Ok((project_id, crate::service::parse_invitation_id(&path_param(request, "id")?)?))
}

/// The invitation a spec endpoint names: the project `{pk}` and `{"invitation_id": …}` in the body.
pub fn invitation_in_body(request: &Request) -> Result<(String, uuid::Uuid), AppError> {
    let project_id = path_param(request, "pk")?;
    let body: crate::api::InvitationIdBody = json_body(request)?;
    Ok((project_id, crate::service::parse_invitation_id(&body.invitation_id)?))
}

pub fn query_param(request: &Request, name: &str) -> Option<String> {
    request.query_string_parameters().first(name).map(str::to_owned)
}

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(Body::Text(serde_json::to_string(value).expect("response serializes")))
        .expect("valid response")
}

pub fn ok<T: Serialize>(value: &T) -> Response<Body> {
    json(StatusCode::OK, value)
}

pub fn created<T: Serialize>(value: &T) -> Response<Body> {
    json(StatusCode::CREATED, value)
}

/// A list, with `Link: <…&cursor=…>; rel="next"` when more items follow. The link is relative to
/// the request's own path: nothing is taken from the Host header.
pub fn list<T: Serialize>(request: &Request, items: &[T], next: Option<&Cursor>) -> Response<Body> {
    let mut response = ok(&items);
    if let Some(cursor) = next {
        let mut query: Vec<(String, String)> = request
            .query_string_parameters()
            .iter()
            .filter(|(k, _)| *k != "cursor")
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        query.push(("cursor".into(), cursor.encode()));
        let query = query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
        let link = format!("<{}?{query}>; rel=\"next\"", request.uri().path());
        response.headers_mut().insert(LINK, link.parse().expect("valid header"));
    }
    response
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

/// The one mapping from errors to HTTP. Internal details go to the log, never to the client.
pub fn error_response(err: &AppError) -> Response<Body> {
    let status = match err {
        AppError::Invalid { .. } => StatusCode::BAD_REQUEST,
        AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
        AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Conflict { .. } => StatusCode::CONFLICT,
        AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status.is_server_error() {
        tracing::error!(error = %err, "request failed");
    }
    let field = match err {
        AppError::Invalid { field, .. } => field.as_deref(),
        _ => None,
    };
    let mut response = json(status, &ErrorBody { code: err.code(), message: err.public_message(), field });
    if let AppError::TooManyRequests { retry_after_secs, .. } = err {
        response.headers_mut().insert(RETRY_AFTER, retry_after_secs.to_string().parse().expect("valid header"));
    }
    response
}

/// Turns a handler's result into its response.
pub fn respond(result: Result<Response<Body>, AppError>) -> Response<Body> {
    result.unwrap_or_else(|err| error_response(&err))
}

/// Runs an API handler on the Lambda runtime. Handlers never fail at the runtime level: every
/// error is already a response.
pub async fn run<H, F>(handler: H) -> Result<(), lambda_http::Error>
where
    H: Fn(Request) -> F,
    F: std::future::Future<Output = Response<Body>> + Send,
{
    lambda_http::run(lambda_http::service_fn(|request| {
        let response = handler(request);
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
