//! The floor with TLS: the hello-world binary whose first invocation makes one request over
//! TLS 1.3 with a minimal rustls client (ring, trusting only `AWS_CA_BUNDLE`), as a function's
//! first AWS call does; one to each service in `FLOOR_TLS_URL` (comma-separated), as a function
//! that calls two services does. What a function's init and first request cost beyond the floor
//! with as many connections is its own.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

static CONNECTED: AtomicBool = AtomicBool::new(false);

/// The client's settings, built once as a function's one HTTPS client builds them.
fn client_config() -> Result<Arc<rustls::ClientConfig>, Error> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(std::env::var("AWS_CA_BUNDLE")?)? {
        roots.add(cert?)?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// One TLS handshake and one request to `url` (`https://host:port`), read to the end.
async fn one_request(config: Arc<rustls::ClientConfig>, url: &str) -> Result<(), Error> {
    let authority = url.trim_start_matches("https://").trim_end_matches('/');
    let (host, port) = authority.split_once(':').ok_or("FLOOR_TLS_URL has no port")?;
    let tcp = tokio::net::TcpStream::connect((host, port.parse::<u16>()?)).await?;
    let server_name = ServerName::try_from(host.to_owned())?;
    let mut tls = tokio_rustls::TlsConnector::from(config).connect(server_name, tcp).await?;
    let request = "POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n\
                   Content-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
    tls.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    tls.read_to_end(&mut response).await?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_: LambdaEvent<Value>| async {
        if !CONNECTED.swap(true, Ordering::Relaxed) {
            let config = client_config()?;
            for url in std::env::var("FLOOR_TLS_URL")?.split(',') {
                one_request(config.clone(), url).await?;
            }
        }
        Ok::<_, Error>(json!({"hello": "world"}))
    }))
    .await
}
