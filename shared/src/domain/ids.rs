//! Identifiers, one newtype per kind, so a project id cannot be passed where a user id belongs.
//! Each is parsed once, at the edge; a value that cannot name anything is refused there.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Mutex;
use time::OffsetDateTime;
use uuid::{ContextV7, Timestamp, Uuid};

/// Longest user id taken from a token (Cognito `sub`s are 36 characters).
const MAX_USER_ID_LEN: usize = 128;
/// Project ids are issued here (UUIDs, 36 characters); anything longer names nothing.
const MAX_PROJECT_ID_LEN: usize = 64;

/// Why a string is not an id of the kind asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id")]
pub struct InvalidId;

/// A project's id. (Serialized in queue messages, checked again when read back.)
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProjectId(String);

impl ProjectId {
    /// A new id, sorting after every id this process issued before.
    pub fn new(now: OffsetDateTime) -> Self {
        Self(time_ordered_uuid(now).to_string())
    }

    /// Ids are short runs of letters, digits, `-` and `_`.
    pub fn parse(raw: &str) -> Result<Self, InvalidId> {
        let valid = !raw.is_empty()
            && raw.len() <= MAX_PROJECT_ID_LEN
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        valid.then(|| Self(raw.to_owned())).ok_or(InvalidId)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user's id: the identity provider's `sub`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(String);

impl UserId {
    pub fn parse(raw: &str) -> Result<Self, InvalidId> {
        let valid = !raw.is_empty() && raw.len() <= MAX_USER_ID_LEN && !raw.chars().any(char::is_control);
        valid.then(|| Self(raw.to_owned())).ok_or(InvalidId)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An invitation's id: a UUIDv7, so ids sort by creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InvitationId(Uuid);

impl InvitationId {
    /// A new id, sorting after every id this process issued before.
    pub fn new(now: OffsetDateTime) -> Self {
        Self(time_ordered_uuid(now))
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidId> {
        Uuid::parse_str(raw.trim()).map(Self).map_err(|_| InvalidId)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl From<Uuid> for InvitationId {
    fn from(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

macro_rules! string_id_conversions {
    ($($id:ty),*) => {$(
        impl TryFrom<String> for $id {
            type Error = InvalidId;
            fn try_from(raw: String) -> Result<Self, InvalidId> {
                Self::parse(&raw)
            }
        }

        impl From<$id> for String {
            fn from(id: $id) -> String {
                id.0
            }
        }
    )*};
}
string_id_conversions!(ProjectId, UserId);

macro_rules! display_as_inner {
    ($($id:ty),*) => {$(
        impl fmt::Display for $id {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    )*};
}
display_as_inner!(ProjectId, UserId, InvitationId);

/// One counter for the process: ids made within the same millisecond still sort in the order
/// they were made (lists are documented oldest first, and their sort key is the id).
static V7_CONTEXT: Mutex<ContextV7> = Mutex::new(ContextV7::new());

/// A UUIDv7 for `now`, monotonic within the process.
pub(crate) fn time_ordered_uuid(now: OffsetDateTime) -> Uuid {
    let nanos = now.unix_timestamp_nanos().max(0);
    let seconds = (nanos / 1_000_000_000) as u64;
    let subsec = (nanos % 1_000_000_000) as u32;
    Uuid::new_v7(Timestamp::from_unix(&V7_CONTEXT, seconds, subsec))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn ids_made_in_the_same_millisecond_sort_in_the_order_they_were_made() {
        let now = datetime!(2026-12-01 12:00 UTC);
        let ids: Vec<InvitationId> = (0..1000).map(|_| InvitationId::new(now)).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        let texts: Vec<String> = ids.iter().map(ToString::to_string).collect();
        assert!(texts.windows(2).all(|w| w[0] < w[1]), "the text form sorts the same way");
        assert_eq!(ids[0].as_uuid().get_version_num(), 7);
    }

    #[test]
    fn ids_are_parsed_and_bounded() {
        assert!(ProjectId::parse("0190d7a0-0000-7000-8000-000000000000").is_ok());
        assert_eq!(ProjectId::parse(""), Err(InvalidId));
        assert_eq!(ProjectId::parse("a/b"), Err(InvalidId));
        assert_eq!(ProjectId::parse(&"a".repeat(3000)), Err(InvalidId));
        assert_eq!(UserId::parse("sub\n"), Err(InvalidId));
        assert_eq!(InvitationId::parse("89"), Err(InvalidId));
        assert!(InvitationId::parse(" 0190d7a0-0000-7000-8000-000000000000 ").is_ok());
    }
}
