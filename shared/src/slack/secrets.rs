//! Tokens from AWS Secrets Manager, kept for a few minutes by a warm function: a rotated token
//! is picked up within that.

use super::{SecretError, Secrets};
use crate::cause::Cause;
use async_trait::async_trait;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const KEPT_FOR: Duration = Duration::from_secs(300);

pub struct SecretsManager {
    client: aws_sdk_secretsmanager::Client,
    cache: Mutex<HashMap<String, (String, Instant)>>,
}

impl SecretsManager {
    pub fn new(client: aws_sdk_secretsmanager::Client) -> Self {
        Self { client, cache: Mutex::new(HashMap::new()) }
    }
}

#[async_trait]
impl Secrets for SecretsManager {
    async fn secret(&self, arn: &str) -> Result<String, SecretError> {
        if let Some((value, at)) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(arn) {
            if at.elapsed() < KEPT_FOR {
                return Ok(value.clone());
            }
        }
        let out =
            self.client.get_secret_value().secret_id(arn).send().await.map_err(|err| match err.as_service_error() {
                Some(GetSecretValueError::ResourceNotFoundException(_)) => SecretError::NotFound,
                _ => SecretError::Unavailable(Cause::new(err)),
            })?;
        let value = out.secret_string().ok_or(SecretError::NotFound)?.trim().to_owned();
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).insert(arn.to_owned(), (value.clone(), Instant::now()));
        Ok(value)
    }
}
