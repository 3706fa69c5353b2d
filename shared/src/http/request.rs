//! Requests into domain values: the caller from the JWT authorizer's claims, JSON bodies, path and
//! query parameters. Each id parsed here is also recorded on the request's span.

use super::views::InvitationIdBody;
use crate::domain::page::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::domain::{
    Caller, Cursor, Email, EventType, InvitationId, InvitationStatus, PageRequest, ProjectId, Role, UserId,
};
use crate::service::{invalid_cursor, AppError};
use crate::store::EventFilter;
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

/// The JSON body as `T`; a malformed body or a missing or mistyped field is a 400 naming it.
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, AppError> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::invalid("invalid_json", None, "A JSON body is required."));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
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
            serde_json::error::Category::Data => {
                AppError::invalid("invalid_json", None, "The body must be a JSON object.")
            }
            _ => AppError::invalid("invalid_json", None, "The body is not valid JSON."),
        }
    })
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

/// The invitation a route's path names: the project `{pk}` and the invitation `{id}`.
pub fn invitation_in_path(request: &Request) -> Result<(ProjectId, InvitationId), AppError> {
    Ok((project_in_path(request)?, parse_invitation_id(path_param(request, "id")?)?))
}

/// The invitation a spec endpoint names: the project `{pk}` and `{"invitation_id": …}` in the body.
pub fn invitation_in_body(request: &Request) -> Result<(ProjectId, InvitationId), AppError> {
    let project_id = project_in_path(request)?;
    let body: InvitationIdBody = json_body(request)?;
    Ok((project_id, parse_invitation_id(&body.invitation_id)?))
}

/// An id that cannot name anything the caller can reach is simply not found.
pub fn parse_invitation_id(raw: &str) -> Result<InvitationId, AppError> {
    let id = InvitationId::parse(raw).map_err(|_| AppError::NotFound)?;
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

pub fn query_param<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.query_string_parameters_ref().and_then(|params| params.first(name))
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

/// `?limit=&cursor=`; `valid_key` checks that a cursor's key has the shape its list uses.
pub fn page_params(request: &Request, valid_key: impl Fn(&str) -> bool) -> Result<PageRequest, AppError> {
    let limit = match query_param(request, "limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => raw.parse::<usize>().ok().filter(|l| (1..=MAX_LIMIT).contains(l)).ok_or_else(|| {
            AppError::invalid("invalid_limit", Some("limit"), format!("limit must be between 1 and {MAX_LIMIT}"))
        })?,
    };
    let after = query_param(request, "cursor")
        .map(|raw| Cursor::decode(raw, valid_key))
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
