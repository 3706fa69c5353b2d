//! Safe retries: the first answer to a request made with an `Idempotency-Key` is kept, and a retry
//! of the same request gets it back with no side effect. A key is scoped to its caller and route
//! (the scope is a digest of both and the key); the request's body is known by its digest.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// How long an answer is kept.
pub const KEPT_FOR: Duration = Duration::hours(24);
/// How long a running request holds its key: past the functions' timeout, a request that has not
/// finished by then never will (its Lambda was stopped), and a retry may run it again.
pub const RUNNING_LEASE: Duration = Duration::seconds(30);

/// A key as clients send it: 1 to 255 visible ASCII characters.
pub fn valid_key(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The answer kept for a request: status, the headers that matter to a client, and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestState {
    /// The first request is running, until `lease_until` at most.
    Running {
        lease_until: OffsetDateTime,
    },
    Done(KeptResponse),
    /// The request failed on the service's side (a 5xx): nothing to replay, a retry runs again.
    Released,
}

/// A keyed request and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// Digest of the caller, the route and the key.
    pub scope: String,
    /// Digest of the body.
    pub fingerprint: String,
    /// Which run holds the record: only it may write its outcome.
    pub token: Uuid,
    pub state: RequestState,
    pub expires_at: OffsetDateTime,
}

/// What a request finds when its key is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// The same request already answered: answer the same.
    Replay(KeptResponse),
    /// The key was used for another body.
    Reused,
    /// The same request is still running.
    InProgress,
}

impl RequestRecord {
    /// A request starting to run now.
    pub fn start(scope: String, fingerprint: String, now: OffsetDateTime) -> Self {
        Self {
            scope,
            fingerprint,
            token: Uuid::new_v4(),
            state: RequestState::Running { lease_until: now + RUNNING_LEASE },
            expires_at: now + KEPT_FOR,
        }
    }

    /// Whether a new request may take the key over at `now`: the record is past keeping, its
    /// run died, or it failed. (The store makes this same test, atomically, as a condition.)
    pub fn is_free(&self, now: OffsetDateTime) -> bool {
        self.expires_at <= now
            || match self.state {
                RequestState::Running { lease_until } => lease_until <= now,
                RequestState::Done(_) => false,
                RequestState::Released => true,
            }
    }

    /// What a request with `fingerprint` gets from this record, which holds its key.
    pub fn answer(&self, fingerprint: &str) -> Held {
        if self.fingerprint != fingerprint {
            return Held::Reused;
        }
        match &self.state {
            RequestState::Done(kept) => Held::Replay(kept.clone()),
            RequestState::Running { .. } | RequestState::Released => Held::InProgress,
        }
    }

    /// The record once the run answered: kept, unless the service failed (5xx), which a retry
    /// should not get back.
    pub fn finished(&self, response: KeptResponse) -> Self {
        let state = if response.status >= 500 { RequestState::Released } else { RequestState::Done(response) };
        Self { state, ..self.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-02 12:00 UTC);

    fn kept(status: u16) -> KeptResponse {
        KeptResponse { status, headers: vec![("etag".into(), "\"1\"".into())], body: "{}".into() }
    }

    #[test]
    fn a_kept_answer_is_replayed_to_the_same_body_only_and_a_running_one_is_in_progress() {
        let running = RequestRecord::start("scope".into(), "body-a".into(), NOW);
        assert_eq!(running.answer("body-a"), Held::InProgress);
        assert_eq!(running.answer("body-b"), Held::Reused);
        assert!(!running.is_free(NOW) && running.is_free(NOW + RUNNING_LEASE), "a dead run frees its key");
        let done = running.finished(kept(201));
        assert_eq!(done.answer("body-a"), Held::Replay(kept(201)));
        assert!(!done.is_free(NOW + Duration::hours(23)) && done.is_free(NOW + KEPT_FOR));
        let failed = running.finished(kept(503));
        assert_eq!(failed.state, RequestState::Released);
        assert!(failed.is_free(NOW));
    }

    #[test]
    fn keys_are_short_visible_ascii() {
        assert!(valid_key("4f1c-retry_1"));
        assert!(!valid_key("") && !valid_key("with space") && !valid_key("é") && !valid_key(&"k".repeat(256)));
    }
}
