//! How long a failed delivery waits before its next attempt: growing with each attempt, jittered
//! so a burst of failures does not come back as one burst, and bounded so every attempt the queue
//! allows before its dead-letter queue happens within minutes.

use std::time::Duration;

/// The first retry's wait.
const BASE: Duration = Duration::from_secs(10);
/// No wait is longer than this.
const CAP: Duration = Duration::from_secs(300);

/// The wait before the attempt after the `receive_count`-th (1 for the first delivery), scaled
/// by `jitter` in `0.0..=1.0` (random): between half and all of `BASE · 2^(receives − 1)`,
/// capped at `CAP`.
pub fn retry_delay(receive_count: u32, jitter: f64) -> Duration {
    let exponent = receive_count.saturating_sub(1).min(16);
    let full = BASE.saturating_mul(1 << exponent).min(CAP);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_are_jittered_and_capped() {
        assert_eq!(retry_delay(1, 1.0), Duration::from_secs(10));
        assert_eq!(retry_delay(1, 0.0), Duration::from_secs(5));
        assert_eq!(retry_delay(2, 1.0), Duration::from_secs(20));
        assert_eq!(retry_delay(4, 1.0), Duration::from_secs(80));
        assert_eq!(retry_delay(40, 1.0), CAP);
        assert!(retry_delay(3, 0.3) > retry_delay(2, 1.0));
        let before_the_dlq: Duration = (1..=5).map(|n| retry_delay(n, 1.0)).sum();
        assert!(before_the_dlq <= Duration::from_secs(310), "five receives within minutes: {before_the_dlq:?}");
    }
}
