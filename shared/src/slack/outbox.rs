//! Stand-ins for `make run`: a Slack that writes each call to the outbox as JSON and says yes,
//! and a secret store that hands out a made-up token. Never used in a deployment.

use super::{SecretError, Secrets, SlackAnswer, SlackApi, SlackCall};
use async_trait::async_trait;
use std::path::PathBuf;

/// Writes each call to `<dir>/slack-<n>.json`, as it would be sent (the token left out), and
/// answers that the member was invited.
pub struct OutboxSlack {
    pub dir: PathBuf,
}

#[async_trait]
impl SlackApi for OutboxSlack {
    async fn invite(&self, _token: &str, call: &SlackCall) -> SlackAnswer {
        let record = serde_json::json!({
            "method": match call.mode {
                crate::domain::slack::SlackMode::AdminInvite => "admin.users.invite",
                crate::domain::slack::SlackMode::Scim => "scim POST /Users",
            },
            "team_id": call.team_id,
            "channel_ids": call.channel_ids,
            "email": call.email,
            "custom_message": call.custom_message,
        });
        let path = self.dir.join(format!("slack-{}.json", uuid::Uuid::now_v7()));
        match std::fs::create_dir_all(&self.dir).and_then(|_| std::fs::write(&path, record.to_string())) {
            Ok(()) => SlackAnswer::Invited,
            Err(err) => SlackAnswer::Unavailable(format!("outbox: {err}")),
        }
    }
}

/// Every secret is the same made-up token.
pub struct LocalSecrets;

#[async_trait]
impl Secrets for LocalSecrets {
    async fn secret(&self, _arn: &str) -> Result<String, SecretError> {
        Ok("xoxp-local-stand-in".into())
    }
}
