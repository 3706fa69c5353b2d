//! A TCP proxy in front of an emulator that counts the AWS operations passing through it, by the
//! `x-amz-target` header (DynamoDB, SQS) or the REST path (SES v2).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Default)]
pub struct Calls(Arc<Mutex<BTreeMap<String, usize>>>);

impl Calls {
    pub fn snapshot(&self) -> BTreeMap<String, usize> {
        self.0.lock().unwrap().clone()
    }

    fn record(&self, chunk: &[u8]) {
        let text = String::from_utf8_lossy(chunk);
        let mut calls = self.0.lock().unwrap();
        for line in text.split("\r\n") {
            let lower = line.to_ascii_lowercase();
            if let Some(target) = lower.strip_prefix("x-amz-target:") {
                let name = target.trim().rsplit('.').next().unwrap_or_default();
                let original = line[line.len() - name.len()..].to_owned();
                *calls.entry(original).or_default() += 1;
            } else if lower.starts_with("post /v2/email/outbound-emails") {
                *calls.entry("SendEmail".into()).or_default() += 1;
            }
        }
    }
}

/// Listens on a free port and forwards to `upstream` (host:port); returns the listening URL.
pub async fn start(upstream: String, calls: Calls) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (upstream, calls) = (upstream.clone(), calls.clone());
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                // Without it Nagle's algorithm and delayed ACKs add ~40 ms to a large response.
                let _ = (client.set_nodelay(true), server.set_nodelay(true));
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let to_server = async {
                    let mut buffer = vec![0u8; 64 * 1024];
                    while let Ok(n) = client_read.read(&mut buffer).await {
                        if n == 0 || server_write.write_all(&buffer[..n]).await.is_err() {
                            break;
                        }
                        calls.record(&buffer[..n]);
                    }
                    let _ = server_write.shutdown().await;
                };
                let to_client = async {
                    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                    let _ = client_write.shutdown().await;
                };
                tokio::join!(to_server, to_client);
            });
        }
    });
    url
}
