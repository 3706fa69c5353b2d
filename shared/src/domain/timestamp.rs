//! Timestamps as storage keeps them: whole milliseconds since the Unix epoch.

use time::OffsetDateTime;

/// `t` without its sub-millisecond part, so a value round-trips through storage unchanged.
pub fn truncate_to_millis(t: OffsetDateTime) -> OffsetDateTime {
    t - time::Duration::nanoseconds(i64::from(t.nanosecond() % 1_000_000))
}

/// Milliseconds since the Unix epoch: the stored form of every timestamp.
pub fn to_millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn from_millis(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).ok()
}
