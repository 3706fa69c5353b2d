//! Errors from below, kept whole: an adapter's error carries its cause (cheap to clone, so the
//! service's errors stay plain values), and is logged with its whole chain.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// The error that caused a failure, with its own sources behind it.
#[derive(Clone)]
pub struct Cause(Arc<dyn Error + Send + Sync + 'static>);

impl Cause {
    pub fn new(err: impl Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(err))
    }

    /// A cause that is only a description (a condition this code detected itself).
    pub fn msg(text: impl Into<String>) -> Self {
        Self::new(Message(text.into()))
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl Error for Cause {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}

/// Two causes are alike when they say the same: enough for tests comparing errors.
impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for Cause {}

#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for Message {}

/// An error and every source behind it, `outer: inner: innermost`, for one log field. Email
/// addresses in the texts (a mail service quoting the recipient) are masked: logs hold none.
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = self.0.to_string();
        let mut last = out.clone();
        let mut next = self.0.source();
        while let Some(err) = next {
            let text = err.to_string();
            // Wrappers often repeat their source's text: say it once.
            if text != last && !last.ends_with(&text) {
                out.push_str(": ");
                out.push_str(&text);
            }
            last = text;
            next = err.source();
        }
        f.write_str(&mask_addresses(&out))
    }
}

/// `text` with every `local@domain` replaced by `<address>`.
pub fn mask_addresses(text: &str) -> String {
    let in_local = |c: char| c.is_alphanumeric() || "._%+-'".contains(c);
    let in_domain = |c: char| c.is_alphanumeric() || ".-".contains(c);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '@' {
            let start = out.chars().rev().take_while(|c| in_local(*c)).count();
            let domain: Vec<char> = chars[i + 1..].iter().copied().take_while(|c| in_domain(*c)).collect();
            // A sentence's full stop is not part of the domain.
            let end = domain.len() - domain.iter().rev().take_while(|c| **c == '.').count();
            if start > 0 && end > 0 {
                let keep = out.chars().count() - start;
                out = out.chars().take(keep).collect();
                out.push_str("<address>");
                i += 1 + end;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("storage unavailable")]
    struct Outer(#[source] Cause);

    #[test]
    fn a_chain_names_every_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "read timed out");
        let err = Outer(Cause::new(io));
        assert_eq!(Chain(&err).to_string(), "storage unavailable: read timed out");
        assert_eq!(Cause::msg("a"), Cause::msg("a"));
    }

    #[test]
    fn addresses_never_reach_a_log_line() {
        let err = Outer(Cause::msg(
            "MessageRejected: identities failed the check: noreply@example.com, Jane.Doe+x@münchen.de.",
        ));
        assert_eq!(
            Chain(&err).to_string(),
            "storage unavailable: MessageRejected: identities failed the check: <address>, <address>."
        );
        assert_eq!(mask_addresses("no address @ here, a@, @b"), "no address @ here, a@, @b");
    }
}
