//! The OpenAPI document: generated from the handlers' annotations, with the bearer scheme and
//! every error each operation can answer (see [`declare_errors`]).

use crate::model::{ErrorBody, ErrorCode};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Watchfloor hub", description = "The shared operating picture: sites, doors, events, alarms, incidents, users and audit."),
    modifiers(&BearerScheme),
    components(schemas(ErrorBody))
)]
pub(super) struct ApiDoc;

/// Adds to every operation the error answers it can give, each with the `{code, message}`
/// body, so that a client generated from the document can rely on it. What an operation can
/// answer follows from its shape, the way the extractors and the domain refuse:
/// - any operation: `internal` (500) and `database` (503);
/// - one that needs a session: `unauthenticated` (401), `forbidden` (403: the role does not
///   allow it, or a cookie write without the console's header) and `not_found` (404: a site the
///   caller may not see is answered as unknown);
/// - one with path parameters: `bad_request` (400) and `not_found` (404);
/// - one with query parameters: `bad_request` (400);
/// - one with a JSON body: `bad_request` (400), `payload_too_large` (413) and
///   `unsupported_media_type` (415).
///
/// Answers particular to one operation (429, 409, 502) are in its own annotation, and so are
/// all the errors of the operations in [`OWN_ERRORS`]. The hub's tests send each operation these
/// requests and check each answer is declared.
pub fn declare_errors(openapi: &mut utoipa::openapi::OpenApi) {
    for (path, item) in openapi.paths.paths.iter_mut() {
        let own = OWN_ERRORS.contains(&path.as_str());
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            // Every operation can meet a failing hub or database.
            let mut codes = vec![ErrorCode::Internal, ErrorCode::Database];
            if !own {
                codes.extend(shape_errors(path, operation));
            }
            for code in codes {
                operation
                    .responses
                    .responses
                    .entry(code.status().to_string())
                    .or_insert_with(|| error_response(code).into());
            }
        }
    }
}

/// The errors an operation's shape brings (see [`declare_errors`]).
fn shape_errors(path: &str, operation: &utoipa::openapi::path::Operation) -> Vec<ErrorCode> {
    use utoipa::openapi::path::ParameterIn;
    let mut codes = Vec::new();
    if operation.security.is_some() {
        codes.extend([
            ErrorCode::Unauthenticated,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
        ]);
    }
    if path.contains('{') {
        codes.extend([ErrorCode::BadRequest, ErrorCode::NotFound]);
    }
    let parameters = operation.parameters.iter().flatten();
    if parameters
        .into_iter()
        .any(|p| p.parameter_in == ParameterIn::Query)
    {
        codes.push(ErrorCode::BadRequest);
    }
    if operation.request_body.is_some() {
        codes.extend([
            ErrorCode::BadRequest,
            ErrorCode::PayloadTooLarge,
            ErrorCode::UnsupportedMediaType,
        ]);
    }
    codes
}

/// Operations that read their request themselves (the signed webhook reads raw bytes: the
/// signature covers them, whatever their media type; an unknown source is refused, not "not
/// found") and so declare every error in their own annotation.
const OWN_ERRORS: &[&str] = &["/api/v1/ingest/{source}"];

fn error_response(code: ErrorCode) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let name = serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    ResponseBuilder::new()
        .description(format!("`{name}`: see `ErrorBody`"))
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}
