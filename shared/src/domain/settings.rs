//! The service's settings, with defaults a deployment can live with; read from the environment
//! by the wiring.

use super::email_address::DomainAllowList;
use super::invitation::{Invitation, Policy};
use super::quota::Quotas;
use super::slack::StackLocation;
use time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub policy: Policy,
    /// The link put in emails and in `invitation_url`. Never taken from a request.
    pub invitation_url: String,
    /// `INVITATION_URL_LOGIN_HINT`: the link opens a Cognito managed login page, which fills in
    /// the address given as `login_hint`.
    pub invitation_url_login_hint: bool,
    /// `PROJECT_INVITATION_EMAIL_DOMAIN_WHITELIST`: service-wide; empty allows every domain.
    pub allowed_domains: DomainAllowList,
    /// `EVENT_RETENTION`: how long a project's event log keeps an event.
    pub event_retention: Duration,
    /// `QUOTA_*`: the limits against abuse.
    pub quotas: Quotas,
    /// `STACK_ACCOUNT_ID` and `AWS_REGION`: where a Slack token's secret must be.
    pub stack: StackLocation,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            policy: Policy::default(),
            invitation_url: "http://127.0.0.1:3000/api/v1/profiles".into(),
            invitation_url_login_hint: false,
            allowed_domains: DomainAllowList::default(),
            event_retention: Duration::days(400),
            quotas: Quotas::default(),
            // moto's account and region, for local runs; a deployment sets both.
            stack: StackLocation { account: "123456789012".into(), region: "us-east-1".into() },
        }
    }
}

impl Settings {
    /// The link the invitee follows: the configured URL naming the invitation (and the invited
    /// address, for a sign-up page that fills it in). Never built from a request's Host header.
    pub fn link_to(&self, invitation: &Invitation) -> String {
        let base = &self.invitation_url;
        let separator = if base.contains('?') { '&' } else { '?' };
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("invitation_id", &invitation.id.to_string());
        query.append_pair("project_id", invitation.project_id.as_str());
        if self.invitation_url_login_hint {
            query.append_pair("login_hint", &invitation.email);
        }
        format!("{base}{separator}{}", query.finish())
    }

    /// Reads `INVITATION_TTL`, `INVITATION_RESEND_COOLDOWN`, `INVITATION_SEND_LEASE`, `EVENT_RETENTION`,
    /// the `QUOTA_*` limits,
    /// `PROJECT_INVITATION_URL` (else `API_BASE_URL` + `/api/v1/profiles`) and the domain
    /// allow-list from `get` (the environment, in a deployment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let defaults = Settings::default();
        let duration = |name: &str, default: Duration| match get(name) {
            Some(raw) => {
                parse_duration(&raw).ok_or_else(|| format!("{name}: {raw:?} is not a duration like 14d, 36h, 60s"))
            }
            None => Ok(default),
        };
        let count = |name: &str, default: u32| match get(name).filter(|raw| !raw.is_empty()) {
            Some(raw) => raw
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=10_000).contains(n))
                .ok_or_else(|| format!("{name}: {raw:?} is not a number from 1 to 10000")),
            None => Ok(default),
        };
        let invitation_url = get("PROJECT_INVITATION_URL")
            .filter(|url| !url.is_empty())
            .or_else(|| get("API_BASE_URL").map(|base| format!("{}/api/v1/profiles", base.trim_end_matches('/'))))
            .unwrap_or(defaults.invitation_url);
        let allowed_domains =
            DomainAllowList::parse(&get("PROJECT_INVITATION_EMAIL_DOMAIN_WHITELIST").unwrap_or_default())
                .map_err(|e| format!("PROJECT_INVITATION_EMAIL_DOMAIN_WHITELIST: {e}"))?;
        let stack = StackLocation {
            account: get("STACK_ACCOUNT_ID").unwrap_or(defaults.stack.account),
            region: get("AWS_REGION").unwrap_or(defaults.stack.region),
        };
        Ok(Settings {
            stack,
            policy: Policy {
                ttl: duration("INVITATION_TTL", defaults.policy.ttl)?,
                resend_cooldown: duration("INVITATION_RESEND_COOLDOWN", defaults.policy.resend_cooldown)?,
                send_lease: duration("INVITATION_SEND_LEASE", defaults.policy.send_lease)?,
            },
            invitation_url,
            invitation_url_login_hint: get("INVITATION_URL_LOGIN_HINT").is_some_and(|flag| flag == "true"),
            allowed_domains,
            event_retention: duration("EVENT_RETENTION", defaults.event_retention)?,
            quotas: Quotas {
                invitations_per_project_per_day: count(
                    "QUOTA_INVITATIONS_PER_PROJECT_PER_DAY",
                    defaults.quotas.invitations_per_project_per_day,
                )?,
                invitations_per_inviter_per_day: count(
                    "QUOTA_INVITATIONS_PER_INVITER_PER_DAY",
                    defaults.quotas.invitations_per_inviter_per_day,
                )?,
                pending_per_address: count("QUOTA_PENDING_PER_ADDRESS", defaults.quotas.pending_per_address)?,
                projects_per_user: count("QUOTA_PROJECTS_PER_USER", defaults.quotas.projects_per_user)?,
            },
        })
    }
}

/// `90`, `90s`, `15m`, `36h`, `14d`: a plain number is seconds.
pub fn parse_duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let (digits, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let value: i64 = digits.parse().ok()?;
    let seconds = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    Some(Duration::seconds(value.checked_mul(seconds)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn reads_settings_with_defaults() {
        let env = HashMap::from([
            ("INVITATION_TTL", "3d"),
            ("API_BASE_URL", "https://api.example.com/"),
            ("PROJECT_INVITATION_EMAIL_DOMAIN_WHITELIST", "example.com,*.example.org"),
        ]);
        let settings = Settings::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(settings.policy.ttl, Duration::days(3));
        assert_eq!(settings.policy.resend_cooldown, Duration::seconds(60));
        assert_eq!(settings.invitation_url, "https://api.example.com/api/v1/profiles");
        assert!(settings.allowed_domains.permits("a.example.org"));
        assert!(Settings::from_lookup(|k| (k == "INVITATION_TTL").then(|| "soon".to_string())).is_err());
        assert_eq!(parse_duration("90"), Some(Duration::seconds(90)));
        assert_eq!(parse_duration("14d"), Some(Duration::days(14)));
        assert_eq!(parse_duration("5w"), None);
    }
}
