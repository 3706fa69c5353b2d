//! The invitation email: subject, text and HTML from templates, with every user-provided value
//! escaped and nothing user-provided able to reach a header unsanitized.

use super::OutgoingEmail;
use crate::domain::{Invitation, Role};
use time::OffsetDateTime;

/// What an invitation email says.
#[derive(Debug, Clone)]
pub struct InvitationEmail<'a> {
    pub project_name: &'a str,
    pub inviter: &'a str,
    pub role: Role,
    pub link: &'a str,
    pub expires_at: OffsetDateTime,
}

/// Subject and bodies, with `{project}`, `{inviter}`, `{role}`, `{link}` and `{expires}`
/// placeholders. Configurable through `PROJECT_INVITATION_SUBJECT`, `PROJECT_INVITATION_TEXT`
/// and `PROJECT_INVITATION_HTML`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailTemplates {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Default for EmailTemplates {
    fn default() -> Self {
        Self {
            subject: "{inviter} invited you to {project}".into(),
            text: "Hello,\n\n{inviter} invited you to join the project \"{project}\" as {role}.\n\n\
                   Accept the invitation: {link}\n\n\
                   If you have no account yet, sign up with this email address and the invitation is \
                   accepted for you. The invitation expires on {expires}.\n\n\
                   If you did not expect this email, you can ignore it.\n"
                .into(),
            html: "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">\
                   <p>Hello,</p>\
                   <p>{inviter} invited you to join the project <strong>{project}</strong> as {role}.</p>\
                   <p><a href=\"{link}\">Accept the invitation</a></p>\
                   <p>If you have no account yet, sign up with this email address and the invitation is \
                   accepted for you. The invitation expires on {expires}.</p>\
                   <p style=\"color:#666\">If you did not expect this email, you can ignore it.</p>\
                   </body></html>"
                .into(),
        }
    }
}

impl EmailTemplates {
    /// `PROJECT_INVITATION_SUBJECT`, `PROJECT_INVITATION_TEXT` and `PROJECT_INVITATION_HTML` from
    /// `lookup` (the environment, in a deployment), each defaulting to the built-in template.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let defaults = Self::default();
        let get = |name: &str, default: String| lookup(name).filter(|v| !v.is_empty()).unwrap_or(default);
        Self {
            subject: get("PROJECT_INVITATION_SUBJECT", defaults.subject),
            text: get("PROJECT_INVITATION_TEXT", defaults.text),
            html: get("PROJECT_INVITATION_HTML", defaults.html),
        }
    }

    pub fn compose(&self, content: &InvitationEmail<'_>, invitation: &Invitation) -> OutgoingEmail {
        let expires = content
            .expires_at
            .format(&time::macros::format_description!("[day] [month repr:long] [year], [hour]:[minute] UTC"))
            .unwrap_or_default();
        let values = [
            ("{project}", content.project_name.to_owned()),
            ("{inviter}", content.inviter.to_owned()),
            ("{role}", content.role.to_string()),
            ("{link}", content.link.to_owned()),
            ("{expires}", expires),
        ];
        let fill = |template: &str, escape: fn(&str) -> String| expand(template, &values, escape);
        OutgoingEmail {
            to: invitation.email.clone(),
            subject: single_line(&fill(&self.subject, |v| v.to_owned())),
            text: fill(&self.text, |v| v.to_owned()),
            html: fill(&self.html, |v| html_escape::encode_double_quoted_attribute(v).into_owned()),
            tags: vec![
                ("project_id".into(), invitation.project_id.to_string()),
                ("invitation_id".into(), invitation.id.to_string()),
            ],
        }
    }
}

/// The template with each placeholder replaced by its escaped value, in one pass: a value that
/// holds a placeholder's text (a project named `{link}`) stays that text.
fn expand(template: &str, values: &[(&str, String)], escape: fn(&str) -> String) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        match values.iter().find(|(placeholder, _)| rest.starts_with(placeholder)) {
            Some((placeholder, value)) => {
                out.push_str(&escape(value));
                rest = &rest[placeholder.len()..];
            }
            None => {
                out.push('{');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A header value: control characters (CR and LF above all) become spaces, runs collapse.
pub fn single_line(value: &str) -> String {
    let cleaned: String = value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_expanded_once_and_values_never_re_expand() {
        let values = [("{project}", "{link}".to_owned()), ("{link}", "https://x.example/?a=1&b=2".to_owned())];
        let plain = expand("Join {project}: {link} {unknown}", &values, |v| v.to_owned());
        assert_eq!(plain, "Join {link}: https://x.example/?a=1&b=2 {unknown}");
        let html = expand("<a href=\"{link}\">{project}</a>", &values, |v| {
            html_escape::encode_double_quoted_attribute(v).into_owned()
        });
        assert_eq!(html, "<a href=\"https://x.example/?a=1&amp;b=2\">{link}</a>");
    }
}
