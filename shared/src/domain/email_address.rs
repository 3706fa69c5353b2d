//! Email addresses (not the emails sent to them: see `mail`): parsed with `email_address`, internationalized domains through `idna`,
//! compared in normalized form (trimmed, lower-cased) and kept as typed for display.

use email_address::{EmailAddress, Options};

/// RFC 5321: a path is at most 256 octets including the angle brackets.
const MAX_EMAIL_LEN: usize = 254;
const MAX_LOCAL_PART_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("an email address is required")]
    Empty,
    #[error("the email address is longer than {MAX_EMAIL_LEN} characters")]
    TooLong,
    #[error("the email address contains a control character")]
    ControlCharacter,
    #[error("the email address is not valid")]
    Malformed,
}

/// A valid address: `as_typed` for display, `normalized` for every comparison and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    as_typed: String,
    normalized: String,
}

impl Email {
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        // CR/LF and other controls are refused before anything else: they could reach a header.
        if input.chars().any(char::is_control) {
            return Err(EmailError::ControlCharacter);
        }
        let as_typed = input.trim();
        if as_typed.is_empty() {
            return Err(EmailError::Empty);
        }
        if as_typed.len() > MAX_EMAIL_LEN {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = as_typed.rsplit_once('@').ok_or(EmailError::Malformed)?;
        if local.len() > MAX_LOCAL_PART_LEN {
            return Err(EmailError::TooLong);
        }
        // Validate the ASCII (punycode) form of the domain, so `jürgen@münchen.de` is accepted.
        let ascii_domain = idna::domain_to_ascii(domain).map_err(|_| EmailError::Malformed)?;
        let options = Options::default().without_display_text().without_domain_literal().with_required_tld();
        EmailAddress::parse_with_options(&format!("{local}@{ascii_domain}"), options)
            .map_err(|_| EmailError::Malformed)?;
        Ok(Email { normalized: as_typed.to_lowercase(), as_typed: as_typed.to_owned() })
    }

    pub fn as_typed(&self) -> &str {
        &self.as_typed
    }

    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// The normalized domain, the part the allow-list judges.
    pub fn domain(&self) -> &str {
        self.normalized.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

/// Normalizes an address from a trusted source (a token claim) without re-validating it.
pub fn normalize(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The domain of a normalized address.
pub fn domain_of(email: &str) -> String {
    email.rsplit_once('@').map(|(_, d)| d.to_owned()).unwrap_or_default()
}

/// The address in a form every mail server takes: the domain in punycode.
pub fn to_ascii_address(email: &str) -> Option<String> {
    let (local, domain) = email.rsplit_once('@')?;
    Some(format!("{local}@{}", idna::domain_to_ascii(domain).ok()?))
}

/// Which domains may be invited: exact domains (`example.com`) and wildcards (`*.example.com`,
/// any subdomain). An empty list allows every domain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainAllowList(Vec<String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a domain or a *.domain wildcard")]
pub struct InvalidDomainPattern(pub String);

impl DomainAllowList {
    pub fn new<I, S>(patterns: I) -> Result<Self, InvalidDomainPattern>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list = Vec::new();
        for pattern in patterns {
            let pattern = pattern.as_ref().trim().to_lowercase();
            if pattern.is_empty() {
                continue;
            }
            let domain = pattern.strip_prefix("*.").unwrap_or(&pattern);
            if domain.is_empty() || domain.contains(['*', '@', ' ']) || !domain.contains('.') && domain.len() < 2 {
                return Err(InvalidDomainPattern(pattern));
            }
            if !list.contains(&pattern) {
                list.push(pattern);
            }
        }
        Ok(Self(list))
    }

    /// Parses a comma-separated list, as in `PROJECT_INVITATION_EMAIL_DOMAIN_WHITELIST`.
    pub fn parse(csv: &str) -> Result<Self, InvalidDomainPattern> {
        Self::new(csv.split(','))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn patterns(&self) -> &[String] {
        &self.0
    }

    pub fn permits(&self, domain: &str) -> bool {
        self.is_empty() || candidates(domain).iter().any(|c| self.0.contains(c))
    }
}

/// Every pattern that would permit `domain`: itself and a wildcard for each parent domain.
/// Storage uses this to check a stored allow-list inside a write condition.
pub fn candidates(domain: &str) -> Vec<String> {
    let domain = domain.to_lowercase();
    let mut out = vec![domain.clone()];
    let mut rest = domain.as_str();
    while let Some((_, parent)) = rest.split_once('.') {
        out.push(format!("*.{parent}"));
        rest = parent;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_world_addresses() {
        for ok in [
            "jane+projects@example.com",
            "o'connor@example.ie",
            "jürgen@münchen.de",
            "user@xn--mnchen-3ya.de",
            "first.last@sub.example.co.uk",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok} should be accepted");
        }
    }

    #[test]
    fn refuses_malformed_long_and_injected_addresses() {
        assert_eq!(Email::parse("   "), Err(EmailError::Empty));
        assert_eq!(Email::parse("no-at-sign"), Err(EmailError::Malformed));
        assert_eq!(Email::parse("a@b"), Err(EmailError::Malformed));
        assert_eq!(Email::parse("two@@example.com"), Err(EmailError::Malformed));
        assert_eq!(Email::parse("Jane <jane@example.com>"), Err(EmailError::Malformed));
        assert_eq!(Email::parse("a@[127.0.0.1]"), Err(EmailError::Malformed));
        assert_eq!(Email::parse("jane@example.com\r\nBcc: x@evil.com"), Err(EmailError::ControlCharacter));
        assert_eq!(Email::parse("jane@example.com\n"), Err(EmailError::ControlCharacter));
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(Email::parse(&long_local), Err(EmailError::TooLong));
        let long = format!("a@{}.com", "b".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }

    #[test]
    fn normalizes_by_trimming_and_lower_casing() {
        let email = Email::parse("  Jane.Doe@Example.COM ").unwrap();
        assert_eq!(email.as_typed(), "Jane.Doe@Example.COM");
        assert_eq!(email.normalized(), "jane.doe@example.com");
        assert_eq!(email.domain(), "example.com");
        assert_eq!(normalize(" Jane.Doe@Example.COM"), "jane.doe@example.com");
        assert_eq!(to_ascii_address("jürgen@münchen.de").unwrap(), "jürgen@xn--mnchen-3ya.de");
    }

    #[test]
    fn allow_list_matches_exact_domains_and_wildcards() {
        let list = DomainAllowList::parse("example.com, *.corp.example.org").unwrap();
        assert!(list.permits("example.com"));
        assert!(!list.permits("sub.example.com"));
        assert!(list.permits("eu.corp.example.org"));
        assert!(list.permits("a.b.corp.example.org"));
        assert!(!list.permits("corp.example.org"));
        assert!(!list.permits("evil.com"));
        assert!(DomainAllowList::default().permits("anything.io"));
        assert!(DomainAllowList::parse("*.").is_err());
        assert!(DomainAllowList::parse("a@b.com").is_err());
        assert_eq!(candidates("a.b.com"), vec!["a.b.com", "*.b.com", "*.com"]);
    }
}
