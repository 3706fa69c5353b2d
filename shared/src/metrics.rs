//! Metrics for CloudWatch in its Embedded Metric Format: one JSON line on standard output per
//! count, which CloudWatch Logs turns into a metric (no API call, no client). Names are the
//! catalogue below; the only dimension is the service's name, so cardinality stays one.

use std::io::Write;
use time::OffsetDateTime;

/// The metrics' namespace in CloudWatch.
pub const NAMESPACE: &str = "ProjectInvitations";

/// Every metric the functions emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    ProjectsCreated,
    InvitationsCreated,
    InvitationsUpdated,
    InvitationsResent,
    InvitationsRevoked,
    InvitationsAccepted,
    InvitationsDeclined,
    EmailsSent,
    EmailsFailed,
    EmailsBounced,
    EmailsComplained,
    SignupAcceptances,
    SignupHandoffs,
    LostHandoffs,
    QuotaRefusals,
    SlackInvitesSent,
    SlackInvitesFailed,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::ProjectsCreated => "ProjectsCreated",
            Metric::InvitationsCreated => "InvitationsCreated",
            Metric::InvitationsUpdated => "InvitationsUpdated",
            Metric::InvitationsResent => "InvitationsResent",
            Metric::InvitationsRevoked => "InvitationsRevoked",
            Metric::InvitationsAccepted => "InvitationsAccepted",
            Metric::InvitationsDeclined => "InvitationsDeclined",
            Metric::EmailsSent => "EmailsSent",
            Metric::EmailsFailed => "EmailsFailed",
            Metric::EmailsBounced => "EmailsBounced",
            Metric::EmailsComplained => "EmailsComplained",
            Metric::SignupAcceptances => "SignupAcceptances",
            Metric::SignupHandoffs => "SignupHandoffs",
            Metric::LostHandoffs => "LostHandoffs",
            Metric::QuotaRefusals => "QuotaRefusals",
            Metric::SlackInvitesSent => "SlackInvitesSent",
            Metric::SlackInvitesFailed => "SlackInvitesFailed",
        }
    }

    /// What a successful answer of an API route counts, if anything.
    pub fn for_route(route: &str) -> Option<Metric> {
        Some(match route {
            "POST /api/v1/projects" => Metric::ProjectsCreated,
            "POST /api/v1/projects/{pk}/invitations" => Metric::InvitationsCreated,
            "PUT /api/v1/projects/{pk}/invitations" => Metric::InvitationsUpdated,
            "POST /api/v1/projects/{pk}/resend-invitation" => Metric::InvitationsResent,
            "POST /api/v1/projects/{pk}/revoke-invitation" => Metric::InvitationsRevoked,
            "POST /api/v1/projects/{pk}/invitations/{id}/accept" => Metric::InvitationsAccepted,
            "POST /api/v1/projects/{pk}/invitations/{id}/decline" => Metric::InvitationsDeclined,
            _ => return None,
        })
    }
}

/// The EMF line that counts `value` of `metric` at `at`.
pub fn render(metric: Metric, value: u64, at: OffsetDateTime) -> String {
    let name = metric.name();
    serde_json::json!({
        "_aws": {
            "Timestamp": crate::domain::timestamp::to_millis(at),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Service"]],
                "Metrics": [{ "Name": name, "Unit": "Count" }],
            }],
        },
        "Service": "invitations",
        name: value,
    })
    .to_string()
}

/// Counts `value` of `metric` now (nothing for zero).
pub fn count(metric: Metric, value: u64) {
    if value == 0 {
        return;
    }
    let line = render(metric, value, OffsetDateTime::now_utc());
    // A lost metric line must never fail the work it counts.
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_count_is_one_embedded_metric_format_line() {
        let line = render(Metric::LostHandoffs, 2, datetime!(2026-12-01 12:00 UTC));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        let directive = &value["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Metrics"][0]["Name"], "LostHandoffs");
        assert_eq!(directive["Dimensions"], serde_json::json!([["Service"]]));
        assert_eq!((value["LostHandoffs"].as_u64(), value["Service"].as_str()), (Some(2), Some("invitations")));
        assert_eq!(value["_aws"]["Timestamp"], 1_796_126_400_000_i64);
        assert!(!line.contains('\n'));
        assert_eq!(Metric::for_route("POST /api/v1/projects/{pk}/invitations"), Some(Metric::InvitationsCreated));
        assert_eq!(Metric::for_route("GET /api/v1/me/invitations"), None);
    }
}
