//! Slack over HTTPS. slack.com does not chain to the AWS roots the other functions trust (they
//! trust nothing else), so this client trusts the public web's roots (`webpki-roots`, Mozilla's
//! list, maintained). A bearer token on every call; a call that does not answer in time is
//! `Unavailable`, and retried.

use super::{classify_scim, classify_web_api, SlackAnswer, SlackApi, SlackCall};
use crate::domain::slack::SlackMode;
use async_trait::async_trait;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use std::time::Duration;

/// Slack's Web API and its SCIM API.
pub const SLACK_API_URL: &str = "https://slack.com/api";
pub const SLACK_SCIM_URL: &str = "https://api.slack.com/scim/v2";

pub struct HttpSlack {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    api_url: String,
    scim_url: String,
    timeout: Duration,
}

impl HttpSlack {
    /// A client of `api_url` (`admin.users.invite` is under it) and `scim_url` (`/Users`);
    /// plain `http://` is taken too, for a stand-in.
    pub fn new(api_url: &str, scim_url: &str, timeout: Duration) -> Self {
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let https =
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().build();
        Self {
            client: Client::builder(TokioExecutor::new()).build(https),
            api_url: api_url.trim_end_matches('/').to_owned(),
            scim_url: scim_url.trim_end_matches('/').to_owned(),
            timeout,
        }
    }

    async fn post(
        &self,
        url: String,
        token: &str,
        content_type: &str,
        body: String,
    ) -> Result<(u16, Option<u64>, serde_json::Value), String> {
        let request = hyper::Request::post(url)
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header(CONTENT_TYPE, content_type)
            .body(Full::new(Bytes::from(body)))
            .map_err(|err| err.to_string())?;
        let call = async {
            let response = self.client.request(request).await.map_err(|err| format!("connection: {err}"))?;
            let status = response.status().as_u16();
            let retry_after = response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()?.trim().parse().ok());
            let body = response.into_body().collect().await.map_err(|err| format!("body: {err}"))?.to_bytes();
            Ok((status, retry_after, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null)))
        };
        tokio::time::timeout(self.timeout, call).await.map_err(|_| "timeout".to_owned())?
    }
}

#[async_trait]
impl SlackApi for HttpSlack {
    async fn invite(&self, token: &str, call: &SlackCall) -> SlackAnswer {
        let (answer, classify): (_, fn(u16, Option<u64>, &serde_json::Value) -> SlackAnswer) = match call.mode {
            SlackMode::AdminInvite => {
                let form = admin_invite_form(call);
                let url = format!("{}/admin.users.invite", self.api_url);
                (self.post(url, token, "application/x-www-form-urlencoded", form).await, classify_web_api)
            }
            SlackMode::Scim => {
                let user = serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": call.email,
                    "emails": [{"value": call.email, "primary": true}],
                });
                let url = format!("{}/Users", self.scim_url);
                (self.post(url, token, "application/json", user.to_string()).await, classify_scim)
            }
        };
        match answer {
            Ok((status, retry_after, body)) => classify(status, retry_after, &body),
            Err(reason) => SlackAnswer::Unavailable(reason),
        }
    }
}

/// `admin.users.invite`'s arguments, form-encoded as Slack's Web API takes them.
fn admin_invite_form(call: &SlackCall) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("team_id", call.team_id.as_deref().unwrap_or_default());
    form.append_pair("email", &call.email);
    form.append_pair("channel_ids", &call.channel_ids.join(","));
    if let Some(message) = &call.custom_message {
        form.append_pair("custom_message", message);
    }
    form.finish()
}

#[cfg(test)]
mod tests {
    /// The public web's roots, not the AWS-only set the other functions trust: slack.com's chain
    /// ends at a DigiCert root, which the AWS set leaves out.
    #[test]
    fn slack_is_trusted_through_the_public_web_roots() {
        let names: Vec<String> = webpki_roots::TLS_SERVER_ROOTS
            .iter()
            .map(|anchor| String::from_utf8_lossy(anchor.subject.as_ref()).into_owned())
            .collect();
        assert!(names.len() > 100, "a full public root store: {}", names.len());
        assert!(names.iter().any(|name| name.contains("DigiCert Global Root G2")));
        assert!(names.iter().any(|name| name.contains("ISRG Root X1")));
    }
}
