//! Cursor pagination. A cursor is opaque to clients: base64url of a small JSON naming the last
//! key returned. It only positions a read inside a partition the caller may already read.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is not one this service issued")]
pub struct InvalidCursor;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct CursorBody {
    v: u8,
    after: String,
}

/// Where a page starts: after the item whose sort key ends in `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub after: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        // A `Value` always renders: no failure to handle.
        URL_SAFE_NO_PAD.encode(serde_json::json!({ "v": 1, "after": self.after }).to_string())
    }

    /// Decodes a cursor; `valid_key` checks the key has the shape its list uses.
    pub fn decode(raw: &str, valid_key: impl Fn(&str) -> bool) -> Result<Cursor, InvalidCursor> {
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim_end_matches('=')).map_err(|_| InvalidCursor)?;
        let body: CursorBody = serde_json::from_slice(&bytes).map_err(|_| InvalidCursor)?;
        if body.v != 1 || !valid_key(&body.after) {
            return Err(InvalidCursor);
        }
        Ok(Cursor { after: body.after })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub after: Option<Cursor>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { limit: DEFAULT_LIMIT, after: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Present when more items may follow.
    pub next: Option<Cursor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_tampering_is_refused() {
        let cursor = Cursor { after: "0190d7a0-0000-7000-8000-000000000000".into() };
        let is_uuid = |s: &str| uuid::Uuid::parse_str(s).is_ok();
        assert_eq!(Cursor::decode(&cursor.encode(), is_uuid), Ok(cursor.clone()));
        assert_eq!(Cursor::decode("not base64!", is_uuid), Err(InvalidCursor));
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode(b"{\"v\":1,\"after\":\"x\"}"), is_uuid), Err(InvalidCursor));
        let mut tampered = cursor.encode();
        tampered.replace_range(3..4, if &tampered[3..4] == "A" { "B" } else { "A" });
        assert_eq!(Cursor::decode(&tampered, is_uuid), Err(InvalidCursor));
    }
}
