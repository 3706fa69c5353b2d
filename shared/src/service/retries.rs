//! Safe retries: a request made with an `Idempotency-Key` runs once; its answer is kept for a
//! day and given back to a retry of the same request.

use super::{AppError, Invitations};
use crate::domain::idempotency::{Held, KeptResponse, RequestRecord};

/// What a keyed request does.
#[derive(Debug)]
pub enum Keyed {
    /// Run, then [`Invitations::finish_request`] the record.
    Run(RequestRecord),
    /// Answer what the first run answered.
    Replay(KeptResponse),
}

impl Invitations {
    /// Starts a keyed request. A key reused for another body is a 422, and one whose request is
    /// still running a 409. Without the key's record, nothing is known of an earlier run: the
    /// store's failure is the answer, rather than running twice.
    pub async fn begin_request(&self, scope: String, fingerprint: String) -> Result<Keyed, AppError> {
        let now = self.clock.now();
        let record = RequestRecord::start(scope, fingerprint, now);
        let Some(held) = self.store.begin_request(&record, now).await? else {
            return Ok(Keyed::Run(record));
        };
        match held.answer(&record.fingerprint) {
            Held::Replay(kept) => Ok(Keyed::Replay(kept)),
            Held::Reused => Err(AppError::Unprocessable {
                code: "idempotency_key_reused",
                message: "This Idempotency-Key was used for a different request; use a new key.".into(),
            }),
            Held::InProgress => Err(AppError::conflict(
                "request_in_progress",
                "A request with this Idempotency-Key is still running; retry in a moment.",
            )),
        }
    }

    /// Keeps the request's answer (a 5xx is not kept: a retry runs again). A failure to keep it
    /// is logged, never the client's: the request itself is done.
    pub async fn finish_request(&self, record: &RequestRecord, response: KeptResponse) {
        if let Err(err) = self.store.finish_request(&record.finished(response)).await {
            tracing::warn!(error = %crate::cause::Chain(&err), "a keyed request's answer was not kept");
        }
    }
}
