//! A small Lambda Runtime API: hands out events one at a time and reports, with the instant it
//! happened, each `GET …/invocation/next` and each posted response.

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, Mutex};

pub struct Invocation {
    pub id: String,
    pub body: String,
}

#[derive(Debug)]
pub enum Report {
    /// The runtime asked for work.
    Next(Instant),
    /// The runtime posted a response (or an error) for an invocation.
    Done { at: Instant, ok: bool, body: String },
}

struct State {
    invocations: Mutex<mpsc::Receiver<Invocation>>,
    reports: mpsc::UnboundedSender<Report>,
}

pub struct RuntimeApi {
    pub address: String,
    pub invocations: mpsc::Sender<Invocation>,
    pub reports: mpsc::UnboundedReceiver<Report>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn reply(status: u16, body: &str) -> Response<Full<Bytes>> {
    Response::builder().status(status).body(Full::new(Bytes::from(body.to_owned()))).unwrap()
}

async fn serve(state: Arc<State>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    if request.method() == hyper::Method::GET && path.ends_with("/runtime/invocation/next") {
        let _ = state.reports.send(Report::Next(Instant::now()));
        let next = state.invocations.lock().await.recv().await;
        let Some(invocation) = next else {
            return reply(410, "done");
        };
        let deadline = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() + 30_000;
        return Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", &invocation.id)
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
            .header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0")
            .body(Full::new(Bytes::from(invocation.body)))
            .unwrap();
    }
    let ok = path.ends_with("/response");
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let at = Instant::now();
    let _ = state.reports.send(Report::Done { at, ok, body: String::from_utf8_lossy(&body).into_owned() });
    reply(202, "{\"status\":\"OK\"}")
}

impl RuntimeApi {
    pub async fn start() -> RuntimeApi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let (invocations_tx, invocations_rx) = mpsc::channel(1);
        let (reports_tx, reports_rx) = mpsc::unbounded_channel();
        let state = Arc::new(State { invocations: Mutex::new(invocations_rx), reports: reports_tx });
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = state.clone();
                        async move { Ok::<_, std::convert::Infallible>(serve(state, request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        RuntimeApi { address, invocations: invocations_tx, reports: reports_rx, server }
    }
}
