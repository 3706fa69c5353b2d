//! The Slack port: inviting a member to a workspace, and reading the token from where it is
//! kept. Slack's answers are classified here, once, from its documented contract: the Web API
//! answers HTTP 200 with `{"ok": false, "error": "<code>"}` when it refuses, HTTP 429 with
//! `Retry-After` when rate limited; SCIM answers with HTTP status codes and a JSON body.

#[cfg(feature = "slack")]
pub mod http;
pub mod outbox;
#[cfg(feature = "secrets")]
pub mod secrets;

use crate::cause::Cause;
use crate::domain::slack::SlackMode;
use async_trait::async_trait;
use serde_json::Value;

/// One invitation to ask Slack for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackCall {
    pub mode: SlackMode,
    pub team_id: Option<String>,
    pub channel_ids: Vec<String>,
    pub email: String,
    /// The inviter's note (`admin.users.invite`'s `custom_message`).
    pub custom_message: Option<String>,
}

/// What Slack said, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlackAnswer {
    Invited,
    AlreadyInTeam,
    /// Refused for good, with Slack's error code: recorded once, never retried by itself.
    Refused(String),
    /// HTTP 429: try again after this many seconds.
    RateLimited {
        retry_after_secs: u64,
    },
    /// 5xx, a timeout, a broken connection, or a transient error code: retry with backoff.
    Unavailable(String),
}

#[async_trait]
pub trait SlackApi: Send + Sync {
    async fn invite(&self, token: &str, call: &SlackCall) -> SlackAnswer;
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The secret is not there (or not readable): nothing to retry until an owner fixes it.
    #[error("the token's secret was not found")]
    NotFound,
    #[error("the secret store is unavailable")]
    Unavailable(#[source] Cause),
}

/// Where tokens are kept (AWS Secrets Manager, in a deployment).
#[async_trait]
pub trait Secrets: Send + Sync {
    async fn secret(&self, arn: &str) -> Result<String, SecretError>;
}

/// Web API error codes that are Slack's own trouble, worth another try.
const TRANSIENT_ERRORS: [&str; 5] =
    ["ratelimited", "internal_error", "fatal_error", "request_timeout", "service_unavailable"];

/// `Retry-After` when Slack gives none.
const DEFAULT_RETRY_AFTER_SECS: u64 = 30;

/// A Web API answer (`admin.users.invite`).
pub fn classify_web_api(status: u16, retry_after: Option<u64>, body: &Value) -> SlackAnswer {
    if status == 429 {
        return SlackAnswer::RateLimited { retry_after_secs: retry_after.unwrap_or(DEFAULT_RETRY_AFTER_SECS) };
    }
    if status >= 500 {
        return SlackAnswer::Unavailable(format!("HTTP {status}"));
    }
    if body["ok"].as_bool() == Some(true) {
        return SlackAnswer::Invited;
    }
    match body["error"].as_str() {
        Some("already_in_team") => SlackAnswer::AlreadyInTeam,
        Some(code) if TRANSIENT_ERRORS.contains(&code) => SlackAnswer::Unavailable(code.to_owned()),
        Some(code) => SlackAnswer::Refused(code.to_owned()),
        None => SlackAnswer::Unavailable(format!("HTTP {status} without an answer Slack documents")),
    }
}

/// A SCIM answer (`POST /Users`): 201 made; 409 the user exists; other 4xx refused (with SCIM's
/// `detail`, or the status); 429 and 5xx retried.
pub fn classify_scim(status: u16, retry_after: Option<u64>, body: &Value) -> SlackAnswer {
    match status {
        200 | 201 => SlackAnswer::Invited,
        409 => SlackAnswer::AlreadyInTeam,
        429 => SlackAnswer::RateLimited { retry_after_secs: retry_after.unwrap_or(DEFAULT_RETRY_AFTER_SECS) },
        500.. => SlackAnswer::Unavailable(format!("HTTP {status}")),
        _ => {
            let detail = body["Errors"]["description"].as_str().or(body["detail"].as_str());
            SlackAnswer::Refused(detail.map_or_else(|| format!("scim_{status}"), |d| format!("scim_{status}: {d}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn web_api_answers_are_invited_refused_for_good_or_retried() {
        assert_eq!(classify_web_api(200, None, &json!({"ok": true})), SlackAnswer::Invited);
        assert_eq!(
            classify_web_api(200, None, &json!({"ok": false, "error": "already_in_team"})),
            SlackAnswer::AlreadyInTeam
        );
        for code in
            ["invalid_email", "already_invited", "user_disabled", "not_allowed", "missing_scope", "invalid_auth"]
        {
            assert_eq!(
                classify_web_api(200, None, &json!({"ok": false, "error": code})),
                SlackAnswer::Refused(code.into())
            );
        }
        assert_eq!(classify_web_api(429, Some(7), &json!({})), SlackAnswer::RateLimited { retry_after_secs: 7 });
        assert!(matches!(classify_web_api(503, None, &json!({})), SlackAnswer::Unavailable(_)));
        assert!(matches!(
            classify_web_api(200, None, &json!({"ok": false, "error": "fatal_error"})),
            SlackAnswer::Unavailable(_)
        ));
        assert!(matches!(classify_web_api(200, None, &json!("not slack")), SlackAnswer::Unavailable(_)));
    }

    #[test]
    fn scim_answers_follow_its_status_codes() {
        assert_eq!(classify_scim(201, None, &json!({"id": "U1"})), SlackAnswer::Invited);
        assert_eq!(classify_scim(409, None, &json!({})), SlackAnswer::AlreadyInTeam);
        assert_eq!(
            classify_scim(400, None, &json!({"Errors": {"code": 400, "description": "invalid_email"}})),
            SlackAnswer::Refused("scim_400: invalid_email".into())
        );
        assert_eq!(classify_scim(403, None, &json!({})), SlackAnswer::Refused("scim_403".into()));
        assert_eq!(classify_scim(429, None, &json!({})), SlackAnswer::RateLimited { retry_after_secs: 30 });
        assert!(matches!(classify_scim(502, None, &json!({})), SlackAnswer::Unavailable(_)));
    }
}
