//! A stand-in for Slack (no emulator exists), kept in the project and faithful to Slack's
//! documented contract for the two calls this service makes:
//!
//! - Web API `POST /api/admin.users.invite`: a bearer token; form-encoded or JSON arguments
//!   `team_id`, `email`, `channel_ids` (comma-separated), optional `custom_message`; always HTTP
//!   200 with `{"ok": true}` or `{"ok": false, "error": "<code>"}` (`invalid_auth`,
//!   `invalid_arguments`, `already_in_team`, ...), except rate limiting: HTTP 429 with
//!   `Retry-After` (seconds).
//! - SCIM `POST /scim/v2/Users`: a bearer token; a SCIM User (`userName`, `emails`); 201 with the
//!   user, 409 when the user exists, 401 without a valid token, SCIM errors as
//!   `{"schemas": [...Error], "status": "<code>", "detail": "..."}`.
//!
//! Tests script an address's answers (an error code, rate limiting, a 5xx, no answer at all) and
//! read every call it received.

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

/// What the stand-in answers an address, once (then it answers normally).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Script {
    /// `ok: false` with this error code.
    Error(String),
    /// HTTP 429 with `Retry-After`.
    RateLimited { retry_after_secs: u64 },
    /// HTTP 500.
    ServerError,
    /// Never answers.
    Hang,
}

/// One call as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackCall {
    pub path: String,
    pub token: Option<String>,
    /// The arguments: form fields or JSON fields, as strings.
    pub args: BTreeMap<String, String>,
}

#[derive(Default)]
struct State {
    calls: Vec<SlackCall>,
    scripts: BTreeMap<String, Vec<Script>>,
    team: BTreeSet<String>,
}

#[derive(Clone)]
pub struct SlackStandIn {
    pub url: String,
    pub token: String,
    state: Arc<Mutex<State>>,
}

impl SlackStandIn {
    pub async fn start(token: &str) -> SlackStandIn {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let standin = SlackStandIn { url, token: token.to_owned(), state: Arc::default() };
        let serving = standin.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let standin = serving.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let standin = standin.clone();
                        async move { Ok::<_, std::convert::Infallible>(standin.answer(request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        standin
    }

    /// The Web API's base URL (`…/api`) and SCIM's (`…/scim/v2`).
    pub fn api_url(&self) -> String {
        format!("{}/api", self.url)
    }
    pub fn scim_url(&self) -> String {
        format!("{}/scim/v2", self.url)
    }

    /// The next answers for `email`, in order.
    pub fn script(&self, email: &str, answers: Vec<Script>) {
        self.state.lock().unwrap().scripts.insert(email.to_owned(), answers);
    }

    /// `email` is in the workspace already.
    pub fn in_team(&self, email: &str) {
        self.state.lock().unwrap().team.insert(email.to_owned());
    }

    pub fn calls(&self) -> Vec<SlackCall> {
        self.state.lock().unwrap().calls.clone()
    }

    async fn answer(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = request.uri().path().to_owned();
        let token = request
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        let json_body = request
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let args: BTreeMap<String, String> = if json_body {
            let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            value
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                .collect()
        } else {
            form_urlencoded::parse(&body).into_owned().collect()
        };
        let call = SlackCall { path: path.clone(), token: token.clone(), args: args.clone() };
        self.state.lock().unwrap().calls.push(call);
        let scim = path == "/scim/v2/Users";
        if path != "/api/admin.users.invite" && !scim {
            return reply(StatusCode::NOT_FOUND, json!({"ok": false, "error": "unknown_method"}), None);
        }
        let email = if scim {
            args.get("emails")
                .and_then(|raw| serde_json::from_str::<Value>(raw).ok())
                .and_then(|e| e[0]["value"].as_str().map(str::to_owned))
        } else {
            args.get("email").cloned()
        };
        if token.as_deref() != Some(self.token.as_str()) {
            return match scim {
                true => scim_error(StatusCode::UNAUTHORIZED, "invalid_authentication"),
                false => reply(StatusCode::OK, json!({"ok": false, "error": "invalid_auth"}), None),
            };
        }
        let Some(email) = email else {
            return match scim {
                true => scim_error(StatusCode::BAD_REQUEST, "invalid_email"),
                false => reply(StatusCode::OK, json!({"ok": false, "error": "invalid_arguments"}), None),
            };
        };
        if !scim
            && (args.get("team_id").is_none_or(String::is_empty)
                || args.get("channel_ids").is_none_or(String::is_empty))
        {
            return reply(StatusCode::OK, json!({"ok": false, "error": "invalid_arguments"}), None);
        }
        let scripted = {
            let mut state = self.state.lock().unwrap();
            state.scripts.get_mut(&email).and_then(|answers| (!answers.is_empty()).then(|| answers.remove(0)))
        };
        match scripted {
            Some(Script::Hang) => std::future::pending().await,
            Some(Script::ServerError) => return reply(StatusCode::INTERNAL_SERVER_ERROR, json!({}), None),
            Some(Script::RateLimited { retry_after_secs }) => {
                return reply(
                    StatusCode::TOO_MANY_REQUESTS,
                    json!({"ok": false, "error": "ratelimited"}),
                    Some(retry_after_secs),
                )
            }
            Some(Script::Error(code)) => {
                return match scim {
                    true => scim_error(StatusCode::BAD_REQUEST, &code),
                    false => reply(StatusCode::OK, json!({"ok": false, "error": code}), None),
                }
            }
            None => {}
        }
        let joined = self.state.lock().unwrap().team.insert(email.clone());
        match (scim, joined) {
            (false, true) => reply(StatusCode::OK, json!({"ok": true}), None),
            (false, false) => reply(StatusCode::OK, json!({"ok": false, "error": "already_in_team"}), None),
            (true, true) => reply(
                StatusCode::CREATED,
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "U0STANDIN", "userName": email}),
                None,
            ),
            (true, false) => scim_error(StatusCode::CONFLICT, "user already exists"),
        }
    }
}

fn reply(status: StatusCode, body: Value, retry_after: Option<u64>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(hyper::header::CONTENT_TYPE, "application/json".parse().unwrap());
    if let Some(secs) = retry_after {
        response.headers_mut().insert(hyper::header::RETRY_AFTER, secs.into());
    }
    response
}

fn scim_error(status: StatusCode, detail: &str) -> Response<Full<Bytes>> {
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": status.as_u16().to_string(), "detail": detail});
    reply(status, body, None)
}
