//! An HTTP proxy in front of an emulator, speaking TLS 1.3 to the functions (a test CA they are
//! handed through `AWS_CA_BUNDLE`) as AWS endpoints do. It counts the AWS operations passing
//! through it, by `x-amz-target` (DynamoDB, SQS) or the REST path (SES v2), and asks every
//! DynamoDB call for its consumed capacity (`ReturnConsumedCapacity: INDEXES`, added to the
//! request), adding up the capacity units and the items read from the answers.

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::net::TcpListener;

/// What passed through a proxy.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    pub calls: BTreeMap<String, usize>,
    /// DynamoDB read and write capacity units (on demand: request units), the indexes' included.
    pub read_units: f64,
    pub write_units: f64,
    /// Items DynamoDB read: a Query's `ScannedCount` (index entries), the items a BatchGetItem
    /// or GetItem returned.
    pub items_read: u64,
    /// When each call was made and answered, in the order they were answered.
    pub spans: Vec<(Instant, Instant)>,
    /// Connections the functions opened (on Lambda, one TLS handshake each).
    pub connections: usize,
}

impl Usage {
    pub fn add(&mut self, other: &Usage) {
        for (op, n) in &other.calls {
            *self.calls.entry(op.clone()).or_default() += n;
        }
        self.read_units += other.read_units;
        self.write_units += other.write_units;
        self.items_read += other.items_read;
        self.spans.extend_from_slice(&other.spans);
        self.connections += other.connections;
    }

    /// What happened since `before` (a snapshot of the same meter).
    pub fn since(&self, before: &Usage) -> Usage {
        let calls = self
            .calls
            .iter()
            .map(|(op, n)| (op.clone(), n - before.calls.get(op).copied().unwrap_or(0)))
            .filter(|(_, n)| *n > 0)
            .collect();
        Usage {
            calls,
            read_units: self.read_units - before.read_units,
            write_units: self.write_units - before.write_units,
            items_read: self.items_read - before.items_read,
            spans: self.spans[before.spans.len()..].to_vec(),
            connections: self.connections - before.connections,
        }
    }

    /// The longest chain of calls each made after the one before it answered: how many calls
    /// the requests waited for one after another (requests made one after another add up).
    pub fn sequential_calls(&self) -> usize {
        let mut spans = self.spans.clone();
        spans.sort_by_key(|(made, _)| *made);
        let mut chain = vec![0; spans.len()];
        for i in 0..spans.len() {
            let before = (0..i).filter(|&j| spans[j].1 <= spans[i].0).map(|j| chain[j]).max();
            chain[i] = 1 + before.unwrap_or(0);
        }
        chain.into_iter().max().unwrap_or(0)
    }

    /// How long at least one call was in flight: for an emulator that runs one call at a time,
    /// the time it spent on them.
    pub fn in_flight(&self) -> std::time::Duration {
        let mut spans = self.spans.clone();
        spans.sort_by_key(|(made, _)| *made);
        let mut total = std::time::Duration::ZERO;
        let mut current: Option<(Instant, Instant)> = None;
        for (made, answered) in spans {
            current = match current {
                Some((start, end)) if made <= end => Some((start, end.max(answered))),
                Some((start, end)) => {
                    total += end - start;
                    Some((made, answered))
                }
                None => Some((made, answered)),
            };
        }
        total + current.map_or(std::time::Duration::ZERO, |(start, end)| end - start)
    }

    pub fn call_count(&self) -> usize {
        self.calls.values().sum()
    }
}

#[derive(Clone, Default)]
pub struct Meter(Arc<Mutex<Usage>>);

impl Meter {
    pub fn snapshot(&self) -> Usage {
        self.0.lock().unwrap().clone()
    }
}

/// The test CA the proxies' certificate chains to, and their TLS settings.
pub struct TestCa {
    /// PEM of the CA certificate: the functions' `AWS_CA_BUNDLE`.
    pub pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

impl TestCa {
    /// A fresh CA and a certificate for `localhost` signed by it.
    pub fn new() -> TestCa {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name.push(rcgen::DnType::CommonName, "lambda-bench test CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
        let server = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![leaf_cert.der().clone(), ca_cert.der().clone()], key)
            .unwrap();
        TestCa { pem: ca_cert.pem(), server: Arc::new(server) }
    }
}

/// Listens on a free port, over TLS when `tls` is given, and forwards to `upstream` (an
/// `http://host:port` URL); returns the URL to call (`https://localhost:<port>` with TLS).
pub async fn start(upstream: &str, meter: Meter, tls: Option<Arc<rustls::ServerConfig>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = if tls.is_some() { format!("https://localhost:{port}") } else { format!("http://127.0.0.1:{port}") };
    let upstream = upstream.trim_end_matches('/').to_owned();
    let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            meter.0.lock().unwrap().connections += 1;
            let (meter, client, upstream, acceptor) =
                (meter.clone(), client.clone(), upstream.clone(), acceptor.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let (meter, client, upstream) = (meter.clone(), client.clone(), upstream.clone());
                    async move { forward(request, &client, &upstream, &meter).await }
                });
                let http = hyper::server::conn::http1::Builder::new();
                match acceptor {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(stream).await {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                    None => {
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                }
            });
        }
    });
    url
}

async fn forward(
    request: Request<Incoming>,
    client: &Client<HttpConnector, Full<Bytes>>,
    upstream: &str,
    meter: &Meter,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let made = Instant::now();
    let (parts, body) = request.into_parts();
    let mut body = body.collect().await.map_err(std::io::Error::other)?.to_bytes();
    let target = parts.headers.get("x-amz-target").and_then(|t| t.to_str().ok()).unwrap_or_default().to_owned();
    let dynamodb = target.starts_with("DynamoDB");
    let operation = match target.rsplit_once('.') {
        Some((_, operation)) => operation.to_owned(),
        None if parts.uri.path() == "/v2/email/outbound-emails" => "SendEmail".to_owned(),
        None => format!("{} {}", parts.method, parts.uri.path()),
    };
    if dynamodb {
        // DynamoDB Local does not check the signature this invalidates.
        if let Ok(Value::Object(mut fields)) = serde_json::from_slice::<Value>(&body) {
            fields.entry("ReturnConsumedCapacity").or_insert_with(|| Value::from("INDEXES"));
            body = Bytes::from(Value::Object(fields).to_string());
        }
    }
    let uri = format!("{upstream}{}", parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let mut outgoing = Request::builder().method(parts.method.clone()).uri(uri);
    for (name, value) in &parts.headers {
        if name != hyper::header::CONTENT_LENGTH {
            outgoing = outgoing.header(name, value);
        }
    }
    let outgoing = outgoing.header(hyper::header::CONTENT_LENGTH, body.len()).body(Full::new(body)).unwrap();
    let response = client.request(outgoing).await.map_err(std::io::Error::other)?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(std::io::Error::other)?.to_bytes();
    let mut usage = Usage { spans: vec![(made, Instant::now())], ..Usage::default() };
    usage.calls.insert(operation.clone(), 1);
    if dynamodb {
        if let Ok(answer) = serde_json::from_slice::<Value>(&body) {
            meter_dynamodb(&operation, &answer, &mut usage);
        }
    }
    meter.0.lock().unwrap().add(&usage);
    Ok(Response::from_parts(parts, Full::new(body)))
}

/// The capacity and items read of one DynamoDB answer.
fn meter_dynamodb(operation: &str, answer: &Value, usage: &mut Usage) {
    let consumed: Vec<&Value> = match &answer["ConsumedCapacity"] {
        Value::Array(all) => all.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    };
    let units: f64 = consumed.iter().filter_map(|c| c["CapacityUnits"].as_f64()).sum();
    match operation {
        "Query" | "Scan" | "GetItem" | "BatchGetItem" | "TransactGetItems" => usage.read_units += units,
        _ => usage.write_units += units,
    }
    usage.items_read += match operation {
        "Query" | "Scan" => answer["ScannedCount"].as_u64().unwrap_or(0),
        "GetItem" => u64::from(answer["Item"].is_object()),
        "BatchGetItem" => answer["Responses"]
            .as_object()
            .map_or(0, |tables| tables.values().filter_map(Value::as_array).map(|items| items.len() as u64).sum()),
        _ => 0,
    };
}
