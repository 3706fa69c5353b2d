//! Email addresses (not the emails sent to them: see `mail`): parsed with `email_address`, internationalized domains through `idna`,
//! compared in normalized form (trimmed, lower-cased) and kept as typed for display.

use email_address::{EmailAddress, Options};

/// RFC 5321: a path is at most 256 octets including the angle brackets.
const MAX_EMAIL_LEN: usize = 254;
const MAX_LOCAL_PART_LEN: usize = 64;
/// RFC 1035: a domain name is at most 253 characters in text.
const MAX_DOMAIN_LEN: usize = 253;
/// Deeper domains exist in theory only; the bound keeps every allow-list check small.
const MAX_DOMAIN_LABELS: usize = 16;
/// Patterns in one allow-list.
pub const MAX_ALLOW_LIST_PATTERNS: usize = 100;

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
    #[error("the part before the @ must be ASCII: mail to other addresses cannot be delivered")]
    NonAsciiLocalPart,
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
        if !local.is_ascii() {
            return Err(EmailError::NonAsciiLocalPart);
        }
        // The domain's one form for matching and keys: UTS-46, ASCII (punycode), so `münchen.de`
        // and `xn--mnchen-3ya.de` are one domain.
        let ascii_domain = idna::domain_to_ascii(domain).map_err(|_| EmailError::Malformed)?;
        if ascii_domain.len() > MAX_DOMAIN_LEN || ascii_domain.split('.').count() > MAX_DOMAIN_LABELS {
            return Err(EmailError::TooLong);
        }
        let options = Options::default().without_display_text().without_domain_literal().with_required_tld();
        EmailAddress::parse_with_options(&format!("{local}@{ascii_domain}"), options)
            .map_err(|_| EmailError::Malformed)?;
        Ok(Email {
            normalized: format!("{}@{ascii_domain}", local.to_ascii_lowercase()),
            as_typed: as_typed.to_owned(),
        })
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

/// Normalizes an address from a trusted source (a token claim) as [`Email::parse`] does, without
/// re-validating it.
pub fn normalize(email: &str) -> String {
    let email = email.trim();
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let domain = idna::domain_to_ascii(domain).unwrap_or_else(|_| domain.to_lowercase());
            format!("{}@{domain}", local.to_lowercase())
        }
        None => email.to_lowercase(),
    }
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
pub enum InvalidDomainPattern {
    #[error("{0:?} is not a domain or a *.domain wildcard")]
    Malformed(String),
    #[error("an allow-list holds at most {MAX_ALLOW_LIST_PATTERNS} patterns")]
    TooMany,
}

impl DomainAllowList {
    pub fn new<I, S>(patterns: I) -> Result<Self, InvalidDomainPattern>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list = Vec::new();
        for pattern in patterns {
            let raw = pattern.as_ref().trim().to_lowercase();
            if raw.is_empty() {
                continue;
            }
            if list.len() == MAX_ALLOW_LIST_PATTERNS {
                return Err(InvalidDomainPattern::TooMany);
            }
            let (wildcard, domain) = match raw.strip_prefix("*.") {
                Some(domain) => (true, domain),
                None => (false, raw.as_str()),
            };
            let malformed = || InvalidDomainPattern::Malformed(raw.chars().take(64).collect());
            if domain.is_empty() || domain.contains(['*', '@', ' ']) || !domain.contains('.') && domain.len() < 2 {
                return Err(malformed());
            }
            // Patterns are kept in the addresses' own form (UTS-46, ASCII).
            let domain = idna::domain_to_ascii(domain).map_err(|_| malformed())?;
            if domain.len() > MAX_DOMAIN_LEN || domain.split('.').count() >= MAX_DOMAIN_LABELS {
                return Err(malformed());
            }
            let pattern = if wildcard { format!("*.{domain}") } else { domain };
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

/// Every pattern that would permit `domain`: itself and a wildcard for each parent domain (at most
/// [`MAX_DOMAIN_LABELS`] of them, as addresses are). Storage uses this to check a stored
/// allow-list inside a write condition.
pub fn candidates(domain: &str) -> Vec<String> {
    let domain = domain.to_lowercase();
    let mut out = vec![domain.clone()];
    let mut rest = domain.as_str();
    while let Some((_, parent)) = rest.split_once('.') {
        out.push(format!("*.{parent}"));
        rest = parent;
    }
    out.truncate(MAX_DOMAIN_LABELS);
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
            "jurgen@münchen.de",
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
        assert_eq!(to_ascii_address("jurgen@münchen.de").unwrap(), "jurgen@xn--mnchen-3ya.de");
    }

    #[test]
    fn international_domains_have_one_form_and_local_parts_are_ascii() {
        let unicode = Email::parse("Jurgen@München.de").unwrap();
        let ascii = Email::parse("jurgen@xn--mnchen-3ya.de").unwrap();
        assert_eq!(unicode.normalized(), "jurgen@xn--mnchen-3ya.de");
        assert_eq!(unicode.normalized(), ascii.normalized());
        assert_eq!(unicode.as_typed(), "Jurgen@München.de");
        assert_eq!(normalize(" Jurgen@München.de"), "jurgen@xn--mnchen-3ya.de");
        assert_eq!(Email::parse("jürgen@example.com"), Err(EmailError::NonAsciiLocalPart));
        assert!(DomainAllowList::parse("münchen.de").unwrap().permits(unicode.domain()));
        let deep = format!("u@{}example.com", "a.".repeat(125));
        assert_eq!(Email::parse(&deep), Err(EmailError::TooLong));
        assert!(candidates(&format!("{}com", "a.".repeat(40))).len() <= MAX_DOMAIN_LABELS);
        let many: Vec<String> = (0..101).map(|i| format!("d{i}.example.com")).collect();
        assert_eq!(DomainAllowList::new(&many), Err(InvalidDomainPattern::TooMany));
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
