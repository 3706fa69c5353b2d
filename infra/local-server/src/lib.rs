//! The API's route table and the API Gateway (HTTP API, payload 2.0) event each route receives.
//! The local server and the tests both go through here, so they call the Lambdas' handlers
//! exactly as API Gateway would.

pub mod identity;
pub mod outbox;
pub mod relay;
pub mod server;

use futures::future::BoxFuture;
use invitations::Invitations;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Map, Value};

/// The service every route is served by.
pub type App = Invitations;

pub type Handler = for<'a> fn(&'a App, Request) -> BoxFuture<'a, Response<Body>>;

pub struct Route {
    /// API Gateway's route key, e.g. `POST /api/v1/projects/{pk}/invitations`.
    pub key: &'static str,
    pub handler: Handler,
}

macro_rules! route {
    ($function:ident) => {
        Route {
            key: $function::ROUTE,
            handler: |app, request| {
                Box::pin(invitations::http::idempotency::serve(app, $function::ROUTE, request, move |request| {
                    $function::handle(app, request)
                }))
            },
        }
    };
}

/// Every API function, one route each.
pub fn routes() -> Vec<Route> {
    vec![
        route!(create_project),
        route!(get_project),
        route!(list_members),
        // Before `remove_member`: the first route that matches serves, and `me` is no user id.
        route!(leave_project),
        route!(update_member),
        route!(remove_member),
        route!(my_projects),
        route!(put_slack_integration),
        route!(get_slack_integration),
        route!(delete_slack_integration),
        route!(retry_slack_invite),
        route!(list_invitations),
        route!(list_events),
        route!(create_invitation),
        route!(bulk_invite),
        route!(update_invitation),
        route!(get_invitation),
        route!(resend_invitation),
        route!(revoke_invitation),
        route!(my_invitations),
        route!(accept_invitation),
        route!(decline_invitation),
    ]
}

/// The route for a method and path, with the path parameters it binds.
pub fn find<'r>(routes: &'r [Route], method: &str, path: &str) -> Option<(&'r Route, Map<String, Value>)> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    routes.iter().find_map(|route| {
        let (route_method, template) = route.key.split_once(' ')?;
        if route_method != method {
            return None;
        }
        let pattern: Vec<&str> = template.split('/').collect();
        if pattern.len() != segments.len() {
            return None;
        }
        let mut params = Map::new();
        for (want, got) in pattern.iter().zip(&segments) {
            match want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                Some(name) if !got.is_empty() => {
                    params.insert(name.to_owned(), Value::String(decode_segment(got)));
                }
                Some(_) => return None,
                None if want != got => return None,
                None => {}
            }
        }
        Some((route, params))
    })
}

/// Path and query parameters arrive percent-decoded from API Gateway.
fn decode_segment(segment: &str) -> String {
    percent_encoding::percent_decode_str(&segment.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// Identity claims as the HTTP API JWT authorizer passes them: every value a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
}

/// One HTTP request as API Gateway receives it.
#[derive(Debug, Clone, Default)]
pub struct HttpRequest<'a> {
    pub method: &'a str,
    /// The path with its query string.
    pub path_and_query: &'a str,
    /// Header names and values as the client sent them; API Gateway hands them all on.
    pub headers: Vec<(String, String)>,
    pub body: Option<&'a str>,
}

/// The API Gateway v2 event for one request.
pub fn event(
    route_key: &str,
    request: &HttpRequest<'_>,
    path_params: Map<String, Value>,
    claims: Option<&Claims>,
) -> Value {
    let (method, body) = (request.method, request.body);
    let (path, query) = request.path_and_query.split_once('?').unwrap_or((request.path_and_query, ""));
    let mut query_params = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        query_params.insert(decode_segment(k), Value::String(decode_segment(v)));
    }
    let authorizer = claims.map(|c| {
        json!({ "jwt": { "claims": {
            "sub": c.sub, "email": c.email, "email_verified": c.email_verified.to_string(),
            "token_use": "id", "cognito:username": c.sub,
        }, "scopes": null } })
    });
    let mut request_context = json!({
        "accountId": "123456789012",
        "apiId": "local",
        "domainName": "localhost",
        "domainPrefix": "localhost",
        "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "local" },
        "requestId": uuid::Uuid::new_v4().to_string(),
        "routeKey": route_key,
        "stage": "$default",
        "time": "23/Nov/2026:12:00:00 +0000",
        "timeEpoch": 0,
    });
    if let Some(authorizer) = authorizer {
        request_context["authorizer"] = authorizer;
    }
    // API Gateway's payload 2.0 lower-cases header names and joins repeated ones with commas.
    let mut headers = Map::new();
    headers.insert("host".to_owned(), Value::String("localhost".to_owned()));
    for (name, value) in &request.headers {
        let name = name.to_ascii_lowercase();
        let joined = match headers.get(&name) {
            Some(Value::String(earlier)) if name != "host" => format!("{earlier},{value}"),
            _ => value.clone(),
        };
        headers.insert(name, Value::String(joined));
    }
    if body.is_some() && !headers.contains_key("content-type") {
        headers.insert("content-type".to_owned(), Value::String("application/json".to_owned()));
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": request_context,
        "pathParameters": path_params,
        "isBase64Encoded": false,
    });
    if !query_params.is_empty() {
        event["queryStringParameters"] = Value::Object(query_params);
    }
    if let Some(body) = body {
        event["body"] = Value::String(body.to_owned());
    }
    event
}

/// Routes one request to its function's handler, as API Gateway would. `None` when no route
/// matches (API Gateway answers 404 itself).
pub async fn dispatch(
    app: &App,
    routes: &[Route],
    request: &HttpRequest<'_>,
    claims: Option<&Claims>,
) -> Option<Response<Body>> {
    let path = request.path_and_query.split('?').next().unwrap_or_default();
    let (route, params) = find(routes, request.method, path)?;
    let event = event(route.key, request, params, claims);
    let request = lambda_http::request::from_str(&event.to_string()).ok()?;
    Some((route.handler)(app, request).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::RequestExt;

    #[test]
    fn every_header_reaches_the_handler_as_api_gateway_hands_it_on() {
        let request = HttpRequest {
            method: "PUT",
            path_and_query: "/api/v1/projects/p1/invitations?x=1",
            headers: vec![
                ("Idempotency-Key".into(), "key-1".into()),
                ("If-Match".into(), "\"3\"".into()),
                ("Content-Type".into(), "application/x-www-form-urlencoded".into()),
                ("Origin".into(), "https://app.example.com".into()),
                ("X-Twice".into(), "a".into()),
                ("x-twice".into(), "b".into()),
            ],
            body: Some("invitation_id=1"),
        };
        let params = Map::from_iter([("pk".to_owned(), Value::String("p1".into()))]);
        let event = event("PUT /api/v1/projects/{pk}/invitations", &request, params, None);
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(header("idempotency-key").as_deref(), Some("key-1"));
        assert_eq!(header("if-match").as_deref(), Some("\"3\""));
        assert_eq!(header("content-type").as_deref(), Some("application/x-www-form-urlencoded"));
        assert_eq!(header("origin").as_deref(), Some("https://app.example.com"));
        assert_eq!(header("x-twice").as_deref(), Some("a,b"));
        assert_eq!(request.query_string_parameters().first("x"), Some("1"));
        assert_eq!(request.path_parameters().first("pk"), Some("p1"));
    }

    #[test]
    fn a_json_body_without_a_content_type_is_sent_as_json() {
        let request = HttpRequest { method: "POST", path_and_query: "/x", headers: Vec::new(), body: Some("{}") };
        let event = event("POST /x", &request, Map::new(), None);
        assert_eq!(event["headers"]["content-type"], "application/json");
    }
}
