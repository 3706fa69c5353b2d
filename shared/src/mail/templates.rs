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
    /// The inviter's own note, plain text.
    pub note: Option<&'a str>,
}

/// Subject and bodies, with `{project}`, `{inviter}`, `{role}`, `{link}`, `{expires}` and `{note}`
/// (the inviter's note as a paragraph of its own, or nothing) placeholders. Configurable through `PROJECT_INVITATION_SUBJECT`, `PROJECT_INVITATION_TEXT`
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
            text: "Hello,\n\n{inviter} invited you to join the project \"{project}\" as {role}.\n\n{note}\
                   Accept the invitation: {link}\n\n\
                   If you have no account yet, sign up with this email address and the invitation is \
                   accepted for you. The invitation expires on {expires}.\n\n\
                   If you did not expect this email, you can ignore it.\n"
                .into(),
            html: "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">\
                   <p>Hello,</p>\
                   <p>{inviter} invited you to join the project <strong>{project}</strong> as {role}.</p>\
                   {note}<p><a href=\"{link}\">Accept the invitation</a></p>\
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
        let escaped = |escape: fn(&str) -> String| -> Vec<(&str, String)> {
            values.iter().map(|(placeholder, value)| (*placeholder, escape(value))).collect()
        };
        let html_escaped = |v: &str| html_escape::encode_double_quoted_attribute(v).into_owned();
        let mut text_values = escaped(|v| v.to_owned());
        let mut html_values = escaped(html_escaped);
        // The note is the inviter's own words: quoted as theirs, escaped, its line breaks kept.
        let (text_note, html_note) = match content.note {
            Some(note) => (
                format!("{} wrote:\n\n{}\n\n", content.inviter, quoted(note)),
                format!(
                    "<p>{} wrote:</p><blockquote style=\"white-space:pre-line;border-left:3px solid #ccc;\
                     margin:0 0 1em;padding-left:12px\">{}</blockquote>",
                    html_escaped(content.inviter),
                    html_escaped(note)
                ),
            ),
            None => (String::new(), String::new()),
        };
        text_values.push(("{note}", text_note));
        html_values.push(("{note}", html_note));
        // A subject is one line and never carries the note.
        let mut subject_values = escaped(|v| v.to_owned());
        subject_values.push(("{note}", String::new()));
        OutgoingEmail {
            to: invitation.email.clone(),
            subject: single_line(&expand(&self.subject, &subject_values)),
            text: expand(&self.text, &text_values),
            html: expand(&self.html, &html_values),
            tags: vec![
                ("project_id".into(), invitation.project_id.to_string()),
                ("invitation_id".into(), invitation.id.to_string()),
            ],
        }
    }
}

/// Each line of a note behind `> `, as plain-text mail quotes.
fn quoted(note: &str) -> String {
    note.lines().map(|line| format!("> {line}")).collect::<Vec<_>>().join("\n")
}

/// The template with each placeholder replaced by its (already escaped) value, in one pass: a
/// value that holds a placeholder's text (a project named `{link}`) stays that text.
fn expand(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        match values.iter().find(|(placeholder, _)| rest.starts_with(placeholder)) {
            Some((placeholder, value)) => {
                out.push_str(value);
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
        let values = [("{project}", "{link}".to_owned()), ("{link}", "https://x.example/?a=1&amp;b=2".to_owned())];
        let plain = expand("Join {project}: {link} {unknown}", &values);
        assert_eq!(plain, "Join {link}: https://x.example/?a=1&amp;b=2 {unknown}");
    }

    #[test]
    fn the_note_is_quoted_as_the_inviters_escaped_in_html_and_absent_when_there_is_none() {
        use crate::domain::{Email, Inviter, NewInvitation, Note, Policy, ProjectId, UserId};
        let mut new = NewInvitation::new(Email::parse("jane@example.com").unwrap(), Role::Editor);
        new.message = Note::parse("See you <b>Monday</b> & bring\nthe {link}").unwrap();
        let inviter = Inviter { user_id: UserId::parse("owner").unwrap(), email: None };
        let now = time::macros::datetime!(2026-12-02 12:00 UTC);
        let invitation = Invitation::new(ProjectId::parse("p1").unwrap(), &new, &inviter, now, &Policy::default());
        let content = InvitationEmail {
            project_name: "Apollo",
            inviter: "ana@example.com",
            role: Role::Editor,
            link: "https://app.example/i",
            expires_at: now,
            note: invitation.message.as_deref(),
        };
        let email = EmailTemplates::default().compose(&content, &invitation);
        assert!(email.text.contains("ana@example.com wrote:\n\n> See you <b>Monday</b> & bring\n> the {link}\n"));
        assert!(email.html.contains("See you &lt;b&gt;Monday&lt;/b&gt; &amp; bring\nthe {link}</blockquote>"));
        assert!(!email.html.contains("<b>Monday"));
        assert!(!email.subject.contains("Monday"));
        let plain = EmailTemplates::default().compose(&InvitationEmail { note: None, ..content }, &invitation);
        assert!(!plain.text.contains("wrote:") && !plain.html.contains("blockquote"));
        assert!(!plain.text.contains("{note}") && !plain.html.contains("{note}"));
    }
}
