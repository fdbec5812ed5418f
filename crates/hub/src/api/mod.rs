//! The HTTP edge: routes, the OpenAPI document generated from them, errors as `{code, message}`
//! with a 4xx for anything a client got wrong, bearer authentication, and CORS only for the
//! origins configured.

mod doc;
mod exports;
mod extract;
mod handlers;
mod recordings;

pub use extract::{
    ApiError, ApiResult, Auth, Body, CONSOLE_HEADER, Path, Peer, Query, SESSION_COOKIE,
    session_cookie,
};

use crate::HubError;
use crate::ingest::Ingest;
use crate::store::Hub;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use exports::*;
use handlers::*;
use recordings::*;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    pub ingest: Ingest,
    /// Recorded-video answers each user is streaming now (this hub's, not the process's).
    pub streaming: recordings::Streaming,
    /// Whose word the hub takes for a client's address.
    pub edge: Arc<crate::edge::Edge>,
}

/// The API's routes and its OpenAPI document, generated from the same handlers.
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut openapi) = OpenApiRouter::with_openapi(doc::ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(login))
        .routes(routes!(browser_login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(rights))
        .routes(routes!(list_sites))
        .routes(routes!(get_site, put_site))
        .routes(routes!(floor_plan))
        .routes(routes!(get_rules, put_rules))
        .routes(routes!(door_command))
        .routes(routes!(lockdown))
        .routes(routes!(list_events))
        .routes(routes!(ingest_webhook))
        .routes(routes!(list_alarms))
        .routes(routes!(get_alarm))
        .routes(routes!(acknowledge_alarm))
        .routes(routes!(forward_alarm))
        .routes(routes!(close_alarm))
        .routes(routes!(list_incidents, create_incident))
        .routes(routes!(get_incident, patch_incident, delete_incident))
        .routes(routes!(add_note))
        .routes(routes!(get_attachment))
        .routes(routes!(list_audit))
        .routes(routes!(camera_viewed))
        .routes(routes!(list_users, create_user))
        .routes(routes!(put_grants))
        .routes(routes!(revoke_sessions, list_sessions))
        .routes(routes!(end_session))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
        .routes(routes!(reset_password))
        .routes(routes!(change_password))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(create_source))
        .routes(routes!(list_recorders))
        .routes(routes!(put_recorder))
        .routes(routes!(put_camera_recorder))
        .routes(routes!(stream_ticket))
        .routes(routes!(recording_timeline))
        .routes(routes!(recording_media))
        .routes(routes!(live_media))
        .routes(routes!(create_export, list_exports))
        .routes(routes!(check_export))
        .routes(routes!(download_export))
        .routes(routes!(recorder_health))
        .routes(routes!(recorder_sync))
        .routes(routes!(list_locks, create_lock))
        .routes(routes!(release_lock))
        .routes(routes!(list_bookmarks, create_bookmark))
        .routes(routes!(delete_bookmark, link_bookmark))
        .routes(routes!(list_layouts))
        .routes(routes!(put_layout, delete_layout))
        .routes(routes!(changes))
        .split_for_parts();
    doc::declare_errors(&mut openapi);
    (router, openapi)
}

/// The OpenAPI document as JSON.
pub fn openapi_json() -> String {
    routes().1.to_pretty_json().unwrap_or_default()
}

/// Where cross-origin requests may come from; none unless configured.
#[derive(Debug, Clone, Default)]
pub struct Cors {
    pub origins: Vec<String>,
}

async fn cors(State(cors): State<Arc<Cors>>, request: Request, next: Next) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .filter(|o| cors.origins.iter().any(|a| a == o))
        .map(str::to_owned);
    let preflight = request.method() == Method::OPTIONS && origin.is_some();
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    if let Some(origin) = origin
        && let Ok(value) = HeaderValue::from_str(&origin)
    {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE"),
        );
    }
    response
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // Browsers take it only over HTTPS (and ignore it on plain HTTP), so it is always sent:
    // once a browser has reached the hub over TLS, it never falls back to plain HTTP.
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// The whole application: API, OpenAPI document, JSON errors for unknown API routes and
/// methods, and the browser console's files from `console` when one is configured.
pub fn app(state: AppState, cors_config: Cors, console: Option<std::path::PathBuf>) -> Router {
    let (router, openapi) = routes();
    let document = openapi.to_pretty_json().unwrap_or_default();
    let console = console.map(Arc::new);
    router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || async move {
                ([(header::CONTENT_TYPE, "application/json")], document)
            }),
        )
        .fallback(move |method: Method, uri: axum::http::Uri| {
            let console = console.clone();
            async move {
                match console {
                    Some(dir) if !uri.path().starts_with("/api/") => {
                        crate::console::serve(&dir, &method, uri.path()).await
                    }
                    _ => ApiError(HubError::NotFound("no such route".into())).into_response(),
                }
            }
        })
        .method_not_allowed_fallback(|| async { ApiError(HubError::MethodNotAllowed) })
        .layer(axum::extract::DefaultBodyLimit::max(16 << 20))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn_with_state(Arc::new(cors_config), cors))
        .with_state(state)
}
