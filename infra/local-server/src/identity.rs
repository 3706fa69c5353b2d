//! Local stand-in for Cognito: sign-up and login by email hand out opaque ID tokens whose claims
//! are exactly what the HTTP API's JWT authorizer would pass on. Any other token is refused.

use crate::Claims;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct LocalIdentity {
    users: Mutex<HashMap<String, Claims>>,
    tokens: Mutex<HashMap<String, Claims>>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum SignUpError {
    InvalidEmail,
    AlreadyRegistered,
}

impl LocalIdentity {
    /// Registers a confirmed user with a verified email and returns their claims.
    pub fn sign_up(&self, email: &str) -> Result<Claims, SignUpError> {
        let parsed = invitations::Email::parse(email).map_err(|_| SignUpError::InvalidEmail)?;
        let mut users = self.users.lock().unwrap();
        if users.contains_key(parsed.normalized()) {
            return Err(SignUpError::AlreadyRegistered);
        }
        let claims = Claims {
            sub: uuid::Uuid::new_v4().to_string(),
            email: parsed.normalized().to_owned(),
            email_verified: true,
        };
        users.insert(parsed.normalized().to_owned(), claims.clone());
        Ok(claims)
    }

    pub fn find(&self, email: &str) -> Option<Claims> {
        self.users.lock().unwrap().get(&invitations::domain::email_address::normalize(email)).cloned()
    }

    pub fn issue_token(&self, claims: &Claims) -> String {
        let token = format!("local.{}", uuid::Uuid::new_v4().simple());
        self.tokens.lock().unwrap().insert(token.clone(), claims.clone());
        token
    }

    /// The claims for an `Authorization` header value, if it carries a token issued here.
    pub fn claims(&self, authorization: Option<&str>) -> Option<Claims> {
        let token = authorization?.strip_prefix("Bearer ")?.trim();
        self.tokens.lock().unwrap().get(token).cloned()
    }
}
