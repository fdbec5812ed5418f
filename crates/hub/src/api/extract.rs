//! What handlers take from a request and how their errors leave: `{code, message}` bodies with
//! the code's status, JSON, query and path rejections as 4xx, and who is calling (bearer token
//! or the browser console's cookie).

use super::AppState;
use crate::HubError;
use crate::model::{Caller, ErrorBody};
use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// A [`HubError`] on its way out.
#[derive(Debug)]
pub struct ApiError(pub HubError);

impl From<HubError> for ApiError {
    fn from(e: HubError) -> Self {
        Self(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.0.code();
        let status =
            StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = match &self.0 {
            // Details of the server's own failures go to its log, not to clients.
            HubError::Database(detail) | HubError::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                "the hub could not complete the request; see its log".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = (status, Json(ErrorBody { code, message })).into_response();
        if let HubError::RateLimited { retry_after_s } = self.0
            && let Ok(value) = HeaderValue::from_str(&retry_after_s.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// JSON bodies whose rejections become `{code, message}` 4xx answers.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| Body(v))
            .map_err(|r| {
                ApiError(match r.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => HubError::PayloadTooLarge(r.body_text()),
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                        HubError::UnsupportedMediaType(r.body_text())
                    }
                    _ => HubError::BadRequest(r.body_text()),
                })
            })
    }
}

/// The largest body a stranger may send before signing in (a sign-in is a name and a
/// password).
pub const SMALL_BODY_BYTES: usize = 16 * 1024;

/// A request's body, read only up to `limit` bytes: one that says it is larger is refused at
/// once (not read while it trickles in), one that grows larger while it arrives as soon as it
/// passes the limit.
pub async fn bounded_body(
    body: axum::body::Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<axum::body::Bytes, HubError> {
    let too_large = || HubError::PayloadTooLarge(format!("the body is larger than {limit} bytes"));
    let said = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if said.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let source = e.into_inner();
        if source.is::<http_body_util::LengthLimitError>() {
            too_large()
        } else {
            HubError::BadRequest(format!("cannot read the body: {source}"))
        }
    })
}

/// JSON bodies of at most [`SMALL_BODY_BYTES`], for requests a stranger can send (sign-in):
/// rejections as [`Body`]'s.
#[derive(Debug)]
pub struct SmallBody<T>(pub T);

impl<S, T> FromRequest<S> for SmallBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes = bounded_body(body, &parts.headers, SMALL_BODY_BYTES).await?;
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        Body::<T>::from_request(req, state)
            .await
            .map(|Body(v)| SmallBody(v))
    }
}

/// Query strings, likewise.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|r| ApiError(HubError::BadRequest(r.body_text())))
    }
}

/// Path parameters, likewise.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|r| ApiError(HubError::BadRequest(r.body_text())))
    }
}

/// The logged-in caller, from `Authorization: Bearer <token>` (the app, scripts) or from the
/// browser console's session cookie.
pub struct Auth(pub Caller, pub String);

/// The token never shows.
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Auth")
            .field(&self.0)
            .field(&"<redacted>")
            .finish()
    }
}

/// The browser console's session cookie: HttpOnly, so scripts never see the token.
/// `__Host-`: the browser keeps it only if it came over HTTPS, for the whole host (`Path=/`)
/// and no other domain, so a sibling host or a plain-HTTP page cannot plant or shadow it.
pub const SESSION_COOKIE: &str = "__Host-watchfloor_session";
/// The header a cookie-authenticated write must carry. A page on another origin cannot add it
/// without a CORS preflight, which only configured origins pass: the guard against CSRF.
pub const CONSOLE_HEADER: &str = "x-watchfloor";

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(|t| t.trim().to_owned())
}

/// Whether the request's `Origin` (when a browser sent one) is the hub itself.
pub(super) fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

/// The session token in the console's cookie, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = match bearer(&parts.headers) {
            Some(token) => token,
            None => {
                let token =
                    session_cookie(&parts.headers).ok_or(ApiError(HubError::Unauthenticated))?;
                let reads = parts.method == Method::GET || parts.method == Method::HEAD;
                if !reads && !parts.headers.contains_key(CONSOLE_HEADER) {
                    return Err(ApiError(HubError::Forbidden(format!(
                        "a write signed in by cookie must carry the `{CONSOLE_HEADER}` header"
                    ))));
                }
                token
            }
        };
        let caller = state.hub.authenticate(&token).await?;
        Ok(Auth(caller, token))
    }
}

/// The client, as the log-in rate limit counts it: its address (the connection's, or the one
/// a trusted proxy names, `crate::edge`), or its IPv6 /64.
#[derive(Debug)]
pub struct Peer(pub String);

impl FromRequestParts<AppState> for Peer {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Peer(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map(|c| crate::auth::client_bucket(state.edge.client(c.0.ip(), &parts.headers)))
                .unwrap_or_else(|| "unknown".into()),
        ))
    }
}
