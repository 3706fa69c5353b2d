//! Requests into domain values: the caller from the JWT authorizer's claims, JSON bodies, path and
//! query parameters. Each id parsed here is also recorded on the request's span.

use super::views::InvitationIdBody;
use crate::domain::page::{InvalidCursor, DEFAULT_LIMIT, MAX_LIMIT};
use crate::domain::{
    Caller, Cursor, DeliveryStatus, Email, EventType, IfMatch, InvitationId, InvitationStatus, PageRequest, ProjectId,
    Role, UserId,
};
use crate::service::{invalid_cursor, AppError, MAX_ROWS};
use crate::store::{EventFilter, InvitationFilter};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde::de::DeserializeOwned;

/// The caller, from the claims API Gateway's JWT authorizer verified.
pub fn caller(request: &Request) -> Result<Caller, AppError> {
    let claims = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => {
            context.authorizer.as_ref().and_then(|a| a.jwt.as_ref()).map(|jwt| &jwt.claims)
        }
        _ => None,
    };
    let claims = claims.ok_or(AppError::Unauthenticated)?;
    let sub = claims.get("sub").ok_or(AppError::Unauthenticated)?;
    Ok(Caller {
        user_id: UserId::parse(sub).map_err(|_| AppError::Unauthenticated)?,
        email: claims.get("email").cloned(),
        email_verified: claims.get("email_verified").is_some_and(|v| v == "true"),
    })
}

/// Cursors this service issues are well under this.
const MAX_CURSOR_LEN: usize = 512;

/// The largest body taken.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The body as `T`: JSON, or a form (`application/x-www-form-urlencoded`, as Django REST framework
/// clients send it, every value a string). A malformed body or a missing, `null` or mistyped
/// field is a 400 naming it.
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, AppError> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(AppError::invalid("body_too_large", None, "The body must be at most 64 KB."));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::invalid("invalid_json", None, "A JSON body is required."));
    }
    // `curl -d '{…}'` labels JSON as a form: a body that opens as a JSON object is JSON.
    let looks_like_json = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let form = !looks_like_json
        && request
            .headers()
            .get(lambda_http::http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| {
                value.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded")
            });
    let result = if form {
        let fields: serde_json::Map<String, serde_json::Value> = form_urlencoded::parse(bytes)
            .map(|(name, value)| (name.into_owned(), serde_json::Value::String(value.into_owned())))
            .collect();
        serde_path_to_error::deserialize(serde_json::Value::Object(fields))
    } else {
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(bytes))
    };
    result.map_err(refusal)
}

/// A body that does not deserialize, as a 400 naming the field at fault.
fn refusal(err: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let message = inner.to_string();
    if let Some(field) = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()) {
        return AppError::invalid("missing_field", Some(field), format!("The field '{field}' is required."));
    }
    match inner.classify() {
        serde_json::error::Category::Data if path != "." => {
            AppError::invalid("invalid_field", Some(&path), format!("The field '{path}' has the wrong type."))
        }
        serde_json::error::Category::Data => AppError::invalid("invalid_json", None, "The body must be a JSON object."),
        _ => AppError::invalid("invalid_json", None, "The body is not valid JSON."),
    }
}

/// The rows of a bulk request, each parsed on its own: a bad row is that row's refusal, not the
/// request's. The body is a JSON array of rows, or `{"invitations": [...]}`; each row is also
/// returned as typed (its `email`), for the results.
#[allow(clippy::type_complexity)]
pub fn bulk_rows<B, T>(request: &Request) -> Result<Vec<(Option<String>, Result<T, AppError>)>, AppError>
where
    B: DeserializeOwned,
    T: TryFrom<B, Error = AppError>,
{
    let body: serde_json::Value = json_body(request)?;
    let rows = match body {
        serde_json::Value::Array(rows) => rows,
        serde_json::Value::Object(mut fields) => match fields.remove("invitations") {
            Some(serde_json::Value::Array(rows)) => rows,
            _ => {
                return Err(AppError::invalid(
                    "missing_field",
                    Some("invitations"),
                    "The field 'invitations' is required (an array of rows).",
                ))
            }
        },
        _ => {
            return Err(AppError::invalid(
                "invalid_json",
                None,
                "The body must be an array of rows or {\"invitations\": [...]}.",
            ))
        }
    };
    if rows.is_empty() || rows.len() > MAX_ROWS {
        let message = format!("Between 1 and {MAX_ROWS} rows are taken.");
        return Err(AppError::invalid("invalid_rows", Some("invitations"), message));
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let email = row.get("email").and_then(|v| v.as_str()).map(str::to_owned);
            let parsed = serde_path_to_error::deserialize::<_, B>(row).map_err(refusal).and_then(T::try_from);
            (email, parsed)
        })
        .collect())
}

/// `?dry_run=true`: check, write nothing.
pub fn dry_run_param(request: &Request) -> Result<bool, AppError> {
    match query_param(request, "dry_run") {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(AppError::invalid("invalid_field", Some("dry_run"), "dry_run must be true or false.")),
    }
}

/// A body of type `B`, turned into the domain value `T` it describes.
pub fn parsed_body<B: DeserializeOwned, T: TryFrom<B, Error = AppError>>(request: &Request) -> Result<T, AppError> {
    T::try_from(json_body::<B>(request)?)
}

/// A path parameter; a route without it cannot name anything, so it is not found.
fn path_param<'r>(request: &'r Request, name: &str) -> Result<&'r str, AppError> {
    request.path_parameters_ref().and_then(|params| params.first(name)).ok_or(AppError::NotFound)
}

/// The project `{pk}` a route's path names; an id that cannot be one names nothing.
pub fn project_in_path(request: &Request) -> Result<ProjectId, AppError> {
    let project_id = ProjectId::parse(path_param(request, "pk")?).map_err(|_| AppError::NotFound)?;
    tracing::Span::current().record("project_id", tracing::field::display(&project_id));
    Ok(project_id)
}

/// The project `{pk}` and the member `{user_id}` a route's path names.
pub fn member_in_path(request: &Request) -> Result<(ProjectId, UserId), AppError> {
    let project_id = project_in_path(request)?;
    let user_id = UserId::parse(path_param(request, "user_id")?).map_err(|_| AppError::NotFound)?;
    Ok((project_id, user_id))
}

/// The invitation a route's path names: the project `{pk}` and the invitation `{id}`; a path that
/// cannot name one names nothing in reach.
pub fn invitation_in_path(request: &Request) -> Result<(ProjectId, InvitationId), AppError> {
    let project_id = project_in_path(request)?;
    let id = InvitationId::parse(path_param(request, "id")?).map_err(|_| AppError::NotFound)?;
    tracing::Span::current().record("invitation_id", tracing::field::display(&id));
    Ok((project_id, id))
}

/// The invitation a spec endpoint names in its body: `{"invitation_id": …}`.
pub fn invitation_id_in_body(request: &Request) -> Result<InvitationId, AppError> {
    let body: InvitationIdBody = json_body(request)?;
    parse_invitation_id(&body.invitation_id)
}

/// The `invitation_id` of a body: a malformed one is a 400 naming the field.
pub fn parse_invitation_id(raw: &str) -> Result<InvitationId, AppError> {
    let id = InvitationId::parse(raw).map_err(|_| {
        AppError::invalid("invalid_field", Some("invitation_id"), "invitation_id must be an invitation's id (a UUID).")
    })?;
    tracing::Span::current().record("invitation_id", tracing::field::display(&id));
    Ok(id)
}

pub fn parse_role(raw: &str) -> Result<Role, AppError> {
    raw.parse()
        .map_err(|e: crate::domain::role::UnknownRole| AppError::invalid("invalid_role", Some("role"), e.to_string()))
}

pub fn parse_email(raw: &str) -> Result<Email, AppError> {
    Email::parse(raw).map_err(|e| AppError::invalid("invalid_email", Some("email"), e.to_string()))
}

/// A query parameter; one left empty (`?status=`) is absent.
pub fn query_param<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.query_string_parameters_ref().and_then(|params| params.first(name)).filter(|value| !value.is_empty())
}

/// `?status=1..5`.
pub fn status_param(request: &Request) -> Result<Option<InvitationStatus>, AppError> {
    let Some(raw) = query_param(request, "status") else {
        return Ok(None);
    };
    raw.parse::<u8>()
        .ok()
        .and_then(InvitationStatus::from_code)
        .map(Some)
        .ok_or_else(|| AppError::invalid("invalid_status", Some("status"), "status must be one of 1, 2, 3, 4, 5"))
}

/// Every value of a query parameter, repeated (`?a=1&a=2`) or comma-separated (`?a=1,2`).
pub fn query_values<'r>(request: &'r Request, name: &str) -> Vec<&'r str> {
    let values = request.query_string_parameters_ref().and_then(|params| params.all(name)).unwrap_or_default();
    values.into_iter().flat_map(|value| value.split(',')).map(str::trim).filter(|v| !v.is_empty()).collect()
}

/// `?status=&delivery_status=&email=`: which of a project's invitations to list.
pub fn invitation_filter_params(request: &Request) -> Result<InvitationFilter, AppError> {
    let status = status_param(request)?;
    let mut delivery = Vec::new();
    for raw in query_values(request, "delivery_status") {
        let value = DeliveryStatus::parse(raw).ok_or_else(|| {
            let names: Vec<_> = DeliveryStatus::ALL.iter().map(|d| d.as_str()).collect();
            let message = format!("delivery_status must be one or more of {}", names.join(", "));
            AppError::invalid("invalid_delivery_status", Some("delivery_status"), message)
        })?;
        if !delivery.contains(&value) {
            delivery.push(value);
        }
    }
    let email = query_param(request, "email").map(parse_email).transpose()?.map(|e| e.normalized().to_owned());
    Ok(InvitationFilter { status, delivery, email })
}

/// `?limit=&cursor=`; `valid_key` checks that a cursor's key has the shape its list uses.
pub fn page_params(request: &Request, valid_key: impl Fn(&str) -> bool) -> Result<PageRequest, AppError> {
    let limit = match query_param(request, "limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => raw.parse::<usize>().ok().filter(|l| (1..=MAX_LIMIT).contains(l)).ok_or_else(|| {
            AppError::invalid("invalid_limit", Some("limit"), format!("limit must be between 1 and {MAX_LIMIT}"))
        })?,
    };
    let after = query_param(request, "cursor")
        .map(|raw| if raw.len() <= MAX_CURSOR_LEN { Cursor::decode(raw, valid_key) } else { Err(InvalidCursor) })
        .transpose()
        .map_err(|_| invalid_cursor())?;
    Ok(PageRequest { limit, after })
}

/// `?type=&invitation_id=`: which of a project's events to list.
pub fn event_filter_params(request: &Request) -> Result<EventFilter, AppError> {
    let kind = query_param(request, "type")
        .map(|raw| raw.parse::<EventType>())
        .transpose()
        .map_err(|_| AppError::invalid("invalid_type", Some("type"), "type must be one of the event types"))?;
    let invitation_id = query_param(request, "invitation_id").map(InvitationId::parse).transpose().map_err(|_| {
        AppError::invalid("invalid_field", Some("invitation_id"), "invitation_id must be an invitation's id")
    })?;
    Ok(EventFilter { kind, invitation_id })
}

/// `If-Match`: `*`, or entity tags as [`super::etag`] writes them (`"<version>"`, weak or not); a
/// tag that names no version matches nothing. Absent, any version goes.
pub fn if_match(request: &Request) -> IfMatch {
    let values: Vec<&str> = request
        .headers()
        .get_all(lambda_http::http::header::IF_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .collect();
    if values.is_empty() || values.contains(&"*") {
        return IfMatch::Any;
    }
    let version = |tag: &str| tag.trim_start_matches("W/").trim_matches('"').parse::<u64>().ok();
    IfMatch::Versions(values.into_iter().filter_map(version).collect())
}
