//! A fault-injecting HTTP proxy the tests put in front of DynamoDB Local and moto: it forwards
//! every call, except the ones a rule picks, which it answers as the AWS service does when it
//! throttles, fails, rejects, hangs or drops the connection, or forwards and then never answers
//! (the service did the work; the caller never learns it). It records every call it saw, with
//! its body (the least-privilege test reads the IAM actions and resources off them).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does to a call a rule picks.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// The service's throttling error (DynamoDB `ThrottlingException`, SES 429).
    Throttle,
    /// HTTP 500 with the service's internal error.
    ServerError,
    /// SES refuses the message for good (`MessageRejected`).
    Reject,
    /// The connection is closed without an answer.
    Reset,
    /// No answer, ever: the caller's timeout ends the call.
    Hang,
    /// Answered late, after the given delay.
    Delay(Duration),
    /// BatchGetItem answered with every key unprocessed, as under throttling.
    AllUnprocessed,
    /// TransactWriteItems cancelled because a condition failed: another writer got there first.
    ConditionFailed,
    /// Forwarded, so the service does the work, and then never answered.
    ForwardThenHang,
}

#[derive(Debug, Clone)]
struct Rule {
    operation: String,
    fault: Fault,
    /// Calls of the operation let through before the fault applies.
    skip: usize,
    remaining: usize,
}

/// One call as it reached the proxy.
#[derive(Debug, Clone)]
pub struct Call {
    /// `dynamodb`, `sqs` or `ses`: the IAM service prefix.
    pub service: &'static str,
    /// `PutItem`, `SendMessage`, `SendEmail`, ...
    pub operation: String,
    /// The request's JSON body (`Null` when it has none).
    pub body: Value,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    seen: Vec<String>,
    calls: Vec<Call>,
    /// Operations the service finished (answered, or forwarded and then left unanswered).
    done: Vec<String>,
    /// Connections the callers opened.
    connections: usize,
}

/// A running proxy; it stops with the test's runtime.
#[derive(Clone)]
pub struct FaultProxy {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FaultProxy {
    /// Listens on a free port and forwards to `upstream` (an `http://host:port` URL).
    pub async fn start(upstream: &str) -> FaultProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let proxy = FaultProxy { url, state: Arc::default() };
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let upstream = upstream.trim_end_matches('/').to_owned();
        let serving = proxy.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                serving.state.lock().unwrap().connections += 1;
                let (proxy, client, upstream) = (serving.clone(), client.clone(), upstream.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let (proxy, client, upstream) = (proxy.clone(), client.clone(), upstream.clone());
                        async move { proxy.handle(request, &client, &upstream).await }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        proxy
    }

    /// The next `times` calls of `operation` (`BatchGetItem`, `TransactWriteItems`, `Query`,
    /// `SendEmail`, `SendMessage`, ...) get `fault`.
    pub fn inject(&self, operation: &str, fault: Fault, times: usize) {
        self.inject_after(operation, 0, fault, times);
    }

    /// As [`FaultProxy::inject`], once `skip` calls of `operation` have gone through.
    pub fn inject_after(&self, operation: &str, skip: usize, fault: Fault, times: usize) {
        let rule = Rule { operation: operation.to_owned(), fault, skip, remaining: times };
        self.state.lock().unwrap().rules.push(rule);
    }

    /// Drops every rule not used up: from now on every call goes through.
    pub fn clear(&self) {
        self.state.lock().unwrap().rules.clear();
    }

    /// Every operation that reached the proxy, in order.
    pub fn seen(&self) -> Vec<String> {
        self.state.lock().unwrap().seen.clone()
    }

    /// Every call that reached the proxy, in order, with its body.
    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().unwrap().calls.clone()
    }

    /// How many connections the callers opened: over TLS, each is a handshake.
    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }

    /// How many calls of `operation` reached the proxy.
    pub fn count(&self, operation: &str) -> usize {
        self.seen().iter().filter(|seen| *seen == operation).count()
    }

    /// How many calls of `operation` the service behind the proxy has done.
    pub fn done(&self, operation: &str) -> usize {
        self.state.lock().unwrap().done.iter().filter(|done| *done == operation).count()
    }

    fn finished(&self, operation: &str) {
        self.state.lock().unwrap().done.push(operation.to_owned());
    }

    fn fault_for(&self, operation: &str) -> Option<Fault> {
        let mut state = self.state.lock().unwrap();
        state.seen.push(operation.to_owned());
        let rule = state.rules.iter_mut().find(|rule| rule.operation == operation && rule.remaining > 0)?;
        if rule.skip > 0 {
            rule.skip -= 1;
            return None;
        }
        rule.remaining -= 1;
        Some(rule.fault.clone())
    }

    async fn handle(
        &self,
        request: Request<Incoming>,
        client: &Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
        upstream: &str,
    ) -> Result<Response<Full<Bytes>>, std::io::Error> {
        let (parts, body) = request.into_parts();
        let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let operation = operation(&parts);
        let call = Call {
            service: service(&parts),
            operation: operation.clone(),
            body: serde_json::from_slice(&body).unwrap_or_default(),
        };
        self.state.lock().unwrap().calls.push(call);
        let forward = || async {
            let uri = format!("{upstream}{}", parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
            let mut outgoing = Request::builder().method(parts.method.clone()).uri(uri);
            for (name, value) in &parts.headers {
                outgoing = outgoing.header(name, value);
            }
            let response = client.request(outgoing.body(Full::new(body.clone())).expect("request")).await;
            let response = response.map_err(std::io::Error::other)?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(std::io::Error::other)?.to_bytes();
            Ok::<_, std::io::Error>(Response::from_parts(parts, Full::new(body)))
        };
        let Some(fault) = self.fault_for(&operation) else {
            let answer = forward().await;
            self.finished(&operation);
            return answer;
        };
        let dynamodb = parts.headers.get("x-amz-target").is_some_and(|t| t.as_bytes().starts_with(b"DynamoDB"));
        match fault {
            Fault::Throttle if dynamodb => {
                Ok(dynamodb_error(400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."))
            }
            Fault::Throttle => Ok(rest_error(429, "TooManyRequestsException", "Maximum sending rate exceeded.")),
            Fault::ServerError if dynamodb => Ok(dynamodb_error(500, "InternalServerError", "Internal server error")),
            Fault::ServerError => Ok(rest_error(500, "InternalServiceErrorException", "Internal failure")),
            Fault::Reject => Ok(rest_error(400, "MessageRejected", "Email address is not verified.")),
            Fault::Reset => Err(std::io::Error::from(std::io::ErrorKind::ConnectionReset)),
            Fault::Hang => std::future::pending().await,
            Fault::Delay(delay) => {
                tokio::time::sleep(delay).await;
                forward().await
            }
            Fault::AllUnprocessed => {
                let request: Value = serde_json::from_slice(&body).unwrap_or_default();
                let answer = json!({"Responses": {}, "UnprocessedKeys": request["RequestItems"]});
                Ok(json_response(200, "application/x-amz-json-1.0", &answer, None))
            }
            Fault::ConditionFailed => {
                let request: Value = serde_json::from_slice(&body).unwrap_or_default();
                let items = request["TransactItems"].as_array().map_or(1, Vec::len);
                let mut reasons = vec![json!({"Code": "None"}); items];
                reasons[0] = json!({"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"});
                let answer = json!({
                    "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                    "message": "Transaction cancelled, please refer cancellation reasons for specific reasons",
                    "CancellationReasons": reasons,
                });
                Ok(json_response(400, "application/x-amz-json-1.0", &answer, None))
            }
            Fault::ForwardThenHang => {
                forward().await?;
                self.finished(&operation);
                std::future::pending().await
            }
        }
    }
}

/// The AWS operation a request calls: `x-amz-target`'s last part (DynamoDB, SQS), or SES v2's
/// REST path.
fn operation(parts: &hyper::http::request::Parts) -> String {
    if let Some(target) = parts.headers.get("x-amz-target").and_then(|t| t.to_str().ok()) {
        return target.rsplit('.').next().unwrap_or_default().to_owned();
    }
    match (parts.method.as_str(), parts.uri.path()) {
        ("POST", "/v2/email/outbound-emails") => "SendEmail".to_owned(),
        (method, path) => format!("{method} {path}"),
    }
}

/// The IAM service prefix of a request's service.
fn service(parts: &hyper::http::request::Parts) -> &'static str {
    match parts.headers.get("x-amz-target").map(|t| t.as_bytes()) {
        Some(target) if target.starts_with(b"DynamoDB") => "dynamodb",
        Some(target) if target.starts_with(b"AmazonSQS") => "sqs",
        Some(target) if target.starts_with(b"secretsmanager") => "secretsmanager",
        Some(_) => "unknown",
        None if parts.uri.path().starts_with("/v2/email") => "ses",
        None => "unknown",
    }
}

fn json_response(status: u16, content_type: &str, body: &Value, error_type: Option<&str>) -> Response<Full<Bytes>> {
    let mut response = Response::builder()
        .status(StatusCode::from_u16(status).expect("status"))
        .header("content-type", content_type)
        .header("x-amzn-requestid", uuid::Uuid::new_v4().to_string());
    if let Some(error_type) = error_type {
        response = response.header("x-amzn-errortype", error_type);
    }
    response.body(Full::new(Bytes::from(body.to_string()))).expect("response")
}

fn dynamodb_error(status: u16, code: &str, message: &str) -> Response<Full<Bytes>> {
    let body = json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{code}"), "message": message});
    json_response(status, "application/x-amz-json-1.0", &body, None)
}

fn rest_error(status: u16, code: &str, message: &str) -> Response<Full<Bytes>> {
    json_response(status, "application/json", &json!({"message": message}), Some(code))
}
