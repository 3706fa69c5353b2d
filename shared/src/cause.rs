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

/// An error and every source behind it, `outer: inner: innermost`, for one log field.
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut last = self.0.to_string();
        let mut next = self.0.source();
        while let Some(err) = next {
            let text = err.to_string();
            // Wrappers often repeat their source's text: say it once.
            if text != last && !last.ends_with(&text) {
                write!(f, ": {text}")?;
            }
            last = text;
            next = err.source();
        }
        Ok(())
    }
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
}
