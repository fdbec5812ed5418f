//! The HTTP edge: routes, the OpenAPI document generated from them, errors as `{code, message}`
//! with a 4xx for anything a client got wrong, bearer authentication, and CORS only for the
//! origins configured.

use crate::HubError;
use crate::ingest::{self, Ingest, IngestEvent, Outcome};
use crate::model::*;
use crate::store::*;
use axum::extract::{FromRequest, FromRequestParts, Request, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    pub ingest: Ingest,
}

/// How errors look on the wire; clients match `code`, people read `message`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

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
        let status = match &self.0 {
            HubError::BadRequest(_) => StatusCode::BAD_REQUEST,
            HubError::Unauthenticated => StatusCode::UNAUTHORIZED,
            HubError::Forbidden(_) => StatusCode::FORBIDDEN,
            HubError::NotFound(_) => StatusCode::NOT_FOUND,
            HubError::Conflict(_) => StatusCode::CONFLICT,
            HubError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            HubError::Upstream(_) => StatusCode::BAD_GATEWAY,
            HubError::Database(_) => StatusCode::SERVICE_UNAVAILABLE,
            HubError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = match &self.0 {
            // Details of the server's own failures go to its log, not to clients.
            HubError::Database(detail) | HubError::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                "the hub could not complete the request; see its log".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = (
            status,
            Json(ErrorBody {
                code: self.0.code().to_owned(),
                message,
            }),
        )
            .into_response();
        if let HubError::RateLimited { retry_after_s } = self.0
            && let Ok(value) = HeaderValue::from_str(&retry_after_s.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

type ApiResult<T> = Result<T, ApiError>;

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
            .map_err(|r| ApiError(HubError::BadRequest(r.body_text())))
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
#[derive(Debug)]
pub struct Auth(pub Caller, pub String);

/// The browser console's session cookie: HttpOnly, so scripts never see the token.
pub const SESSION_COOKIE: &str = "watchfloor_session";
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
fn same_origin(headers: &HeaderMap) -> bool {
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

/// The peer's address, for the log-in rate limit.
#[derive(Debug)]
pub struct Peer(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(Peer(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "unknown".into()),
        ))
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub version: String,
    pub database: String,
    /// The newest change's sequence number.
    pub seq: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Login {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RightsRow {
    pub role: Role,
    pub rights: Vec<Right>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct GrantsBody {
    pub grants: Vec<Grant>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IngestResult {
    pub results: Vec<Outcome>,
}

#[utoipa::path(get, path = "/api/v1/health", tag = "system",
    responses((status = 200, description = "The hub is up", body = Health)))]
async fn health(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    sqlx::query("SELECT 1")
        .execute(state.hub.db.pool())
        .await
        .map_err(HubError::from)?;
    Ok(Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        database: format!("{:?}", state.hub.db.backend()).to_lowercase(),
        seq: state.hub.db.last_change(),
    }))
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Login,
    responses((status = 200, body = Session), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody, description = "Too many failed attempts")))]
async fn login(
    State(state): State<AppState>,
    peer: Peer,
    Body(login): Body<Login>,
) -> ApiResult<Json<Session>> {
    Ok(Json(
        state
            .hub
            .login(&login.username, &login.password, &peer.0)
            .await?,
    ))
}

/// A browser console's sign-in: the session goes into an HttpOnly cookie, never into the body.
#[derive(Debug, Serialize, ToSchema)]
pub struct BrowserSession {
    pub expires: String,
    pub user: Caller,
}

#[utoipa::path(post, path = "/api/v1/auth/browser-login", tag = "auth", request_body = Login,
    responses((status = 200, body = BrowserSession, description = "Sets the HttpOnly session cookie"),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn browser_login(
    State(state): State<AppState>,
    peer: Peer,
    Body(login): Body<Login>,
) -> ApiResult<Response> {
    let session = state
        .hub
        .login(&login.username, &login.password, &peer.0)
        .await?;
    let max_age = chrono::DateTime::parse_from_rfc3339(&session.expires)
        .map(|e| (e.timestamp() - chrono::Utc::now().timestamp()).max(0))
        .unwrap_or(0);
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/api; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}",
        session.token
    );
    let mut response = Json(BrowserSession {
        expires: session.expires,
        user: session.user,
    })
    .into_response();
    let value = HeaderValue::from_str(&cookie)
        .map_err(|e| HubError::Internal(format!("session cookie: {e}")))?;
    response.headers_mut().insert(header::SET_COOKIE, value);
    Ok(response)
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(State(state): State<AppState>, Auth(_, token): Auth) -> ApiResult<Response> {
    state.hub.logout(&token).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "watchfloor_session=; Path=/api; HttpOnly; Secure; SameSite=Strict; Max-Age=0",
        ),
    );
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Caller), (status = 401, body = ErrorBody)))]
async fn me(Auth(caller, _): Auth) -> Json<Caller> {
    Json(caller)
}

#[utoipa::path(get, path = "/api/v1/rights", tag = "auth",
    responses((status = 200, body = [RightsRow], description = "What each role may do")))]
async fn rights() -> Json<Vec<RightsRow>> {
    Json(
        rights_matrix()
            .into_iter()
            .map(|(role, rights)| RightsRow { role, rights })
            .collect(),
    )
}

#[utoipa::path(get, path = "/api/v1/sites", tag = "sites", security(("bearer" = [])),
    responses((status = 200, body = [SiteSummary])))]
async fn list_sites(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
) -> ApiResult<Json<Vec<SiteSummary>>> {
    Ok(Json(state.hub.list_sites(&caller).await?))
}

#[utoipa::path(get, path = "/api/v1/sites/{site}", tag = "sites", security(("bearer" = [])),
    params(("site" = String, Path)),
    responses((status = 200, body = SiteDetail), (status = 404, body = ErrorBody)))]
async fn get_site(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(site): Path<String>,
) -> ApiResult<Json<SiteDetail>> {
    Ok(Json(state.hub.site_detail(&caller, &site).await?))
}

#[utoipa::path(put, path = "/api/v1/sites/{site}", tag = "sites", security(("bearer" = [])),
    params(("site" = String, Path)), request_body = SiteImport,
    responses((status = 200, body = SiteDetail), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn put_site(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(site): Path<String>,
    Body(import): Body<SiteImport>,
) -> ApiResult<Json<SiteDetail>> {
    if import.site.get("id").and_then(|v| v.as_str()) != Some(site.as_str()) {
        return Err(HubError::BadRequest("the body's site id must match the path".into()).into());
    }
    Ok(Json(state.hub.import_site(Some(&caller), import).await?))
}

#[utoipa::path(get, path = "/api/v1/sites/{site}/floors/{floor}/plan", tag = "sites", security(("bearer" = [])),
    params(("site" = String, Path), ("floor" = String, Path)),
    responses((status = 200, description = "The plan image", content_type = "image/svg+xml"), (status = 404, body = ErrorBody)))]
async fn floor_plan(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path((site, floor)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (media_type, bytes) = state.hub.floor_plan(&caller, &site, &floor).await?;
    // SVG can carry script: serve it so a browser never runs it in the hub's origin.
    Ok((
        [
            (header::CONTENT_TYPE, media_type),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; sandbox".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/sites/{site}/rules", tag = "alarms", security(("bearer" = [])),
    params(("site" = String, Path)), responses((status = 200, body = [AlarmRule])))]
async fn get_rules(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(site): Path<String>,
) -> ApiResult<Json<Vec<AlarmRule>>> {
    Ok(Json(state.hub.rules(&caller, &site).await?))
}

#[utoipa::path(put, path = "/api/v1/sites/{site}/rules", tag = "alarms", security(("bearer" = [])),
    params(("site" = String, Path)), request_body = [AlarmRule], responses((status = 200, body = [AlarmRule])))]
async fn put_rules(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(site): Path<String>,
    Body(rules): Body<Vec<AlarmRule>>,
) -> ApiResult<Json<Vec<AlarmRule>>> {
    Ok(Json(state.hub.put_rules(&caller, &site, rules).await?))
}

#[utoipa::path(post, path = "/api/v1/sites/{site}/doors/{door}/commands", tag = "doors", security(("bearer" = [])),
    params(("site" = String, Path), ("door" = String, Path)), request_body = DoorCommandRequest,
    responses((status = 200, description = "Sent to the controller"), (status = 502, body = ErrorBody)))]
async fn door_command(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path((site, door)): Path<(String, String)>,
    Body(request): Body<DoorCommandRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    if request.command != "momentary-unlock" {
        return Err(HubError::BadRequest("command must be momentary-unlock".into()).into());
    }
    let command = json!({"command": "momentary-unlock", "door": door});
    Ok(Json(
        state
            .hub
            .door_command(
                &caller,
                &site,
                Some(&door),
                &request.request_id,
                command,
                Right::DoorUnlock,
            )
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/sites/{site}/lockdown", tag = "doors", security(("bearer" = [])),
    params(("site" = String, Path)), request_body = LockdownRequest,
    responses((status = 200, description = "Sent to the controller"), (status = 502, body = ErrorBody)))]
async fn lockdown(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(site): Path<String>,
    Body(request): Body<LockdownRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    let command = json!({"command": "lockdown", "on": request.on});
    Ok(Json(
        state
            .hub
            .door_command(
                &caller,
                &site,
                None,
                &request.request_id,
                command,
                Right::Lockdown,
            )
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events", security(("bearer" = [])),
    params(EventFilter), responses((status = 200, body = [Event])))]
async fn list_events(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Query(filter): Query<EventFilter>,
) -> ApiResult<Json<Vec<Event>>> {
    Ok(Json(state.hub.list_events(&caller, filter).await?))
}

/// Access-control events from a registered source, signed with its secret.
#[utoipa::path(post, path = "/api/v1/ingest/{source}", tag = "events",
    params(("source" = String, Path),
           ("X-Watchfloor-Timestamp" = String, Header, description = "Unix seconds"),
           ("X-Watchfloor-Signature" = String, Header, description = "sha256=<hex HMAC-SHA256 of `<timestamp>.<body>` with the source's secret>")),
    request_body(content = [IngestEvent], description = "One event or an array of at most 1000"),
    responses((status = 200, body = IngestResult), (status = 403, body = ErrorBody)))]
async fn ingest_webhook(
    State(state): State<AppState>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<IngestResult>> {
    let (site, secret) = state.hub.source(&source).await.map_err(|e| match e {
        HubError::NotFound(_) => HubError::Forbidden("unknown source".into()),
        other => other,
    })?;
    let header_text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| HubError::Forbidden(format!("missing {name}")))
    };
    ingest::verify_signature(
        &secret,
        &header_text(events::TIMESTAMP_HEADER)?,
        &header_text(events::SIGNATURE_HEADER)?,
        &body,
        state.hub.now(),
    )?;
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| HubError::BadRequest(format!("not JSON: {e}")))?;
    let batch = ingest::parse_batch(&value, Some(&site))?;
    let results = state
        .ingest
        .submit(&format!("webhook:{source}"), batch)
        .await?;
    Ok(Json(IngestResult { results }))
}

#[utoipa::path(get, path = "/api/v1/alarms", tag = "alarms", security(("bearer" = [])),
    params(AlarmFilter), responses((status = 200, body = [Alarm])))]
async fn list_alarms(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Query(filter): Query<AlarmFilter>,
) -> ApiResult<Json<Vec<Alarm>>> {
    Ok(Json(state.hub.list_alarms(&caller, filter).await?))
}

#[utoipa::path(get, path = "/api/v1/alarms/{id}", tag = "alarms", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Alarm), (status = 404, body = ErrorBody)))]
async fn get_alarm(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Alarm>> {
    Ok(Json(state.hub.alarm(&caller, &id).await?))
}

async fn alarm_verb(
    state: AppState,
    caller: Caller,
    id: String,
    verb: AlarmVerb,
    action: AlarmAction,
) -> ApiResult<Json<Alarm>> {
    Ok(Json(
        state.hub.act_on_alarm(&caller, &id, verb, action).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/alarms/{id}/acknowledge", tag = "alarms", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = AlarmAction,
    responses((status = 200, body = Alarm), (status = 409, body = ErrorBody)))]
async fn acknowledge_alarm(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
    Body(action): Body<AlarmAction>,
) -> ApiResult<Json<Alarm>> {
    alarm_verb(state, caller, id, AlarmVerb::Acknowledge, action).await
}

#[utoipa::path(post, path = "/api/v1/alarms/{id}/forward", tag = "alarms", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = AlarmAction,
    responses((status = 200, body = Alarm), (status = 409, body = ErrorBody)))]
async fn forward_alarm(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
    Body(action): Body<AlarmAction>,
) -> ApiResult<Json<Alarm>> {
    alarm_verb(state, caller, id, AlarmVerb::Forward, action).await
}

#[utoipa::path(post, path = "/api/v1/alarms/{id}/close", tag = "alarms", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = AlarmAction,
    responses((status = 200, body = Alarm), (status = 409, body = ErrorBody)))]
async fn close_alarm(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
    Body(action): Body<AlarmAction>,
) -> ApiResult<Json<Alarm>> {
    alarm_verb(state, caller, id, AlarmVerb::Close, action).await
}

#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", security(("bearer" = [])),
    params(IncidentFilter), responses((status = 200, body = [Incident])))]
async fn list_incidents(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Query(filter): Query<IncidentFilter>,
) -> ApiResult<Json<Vec<Incident>>> {
    Ok(Json(state.hub.list_incidents(&caller, filter).await?))
}

#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", security(("bearer" = [])),
    request_body = NewIncident, responses((status = 200, body = IncidentDetail)))]
async fn create_incident(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Body(new): Body<NewIncident>,
) -> ApiResult<Json<IncidentDetail>> {
    Ok(Json(state.hub.create_incident(&caller, new).await?))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = IncidentDetail), (status = 404, body = ErrorBody)))]
async fn get_incident(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<IncidentDetail>> {
    Ok(Json(state.hub.incident(&caller, &id).await?))
}

#[utoipa::path(patch, path = "/api/v1/incidents/{id}", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = IncidentPatch, responses((status = 200, body = IncidentDetail)))]
async fn patch_incident(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
    Body(patch): Body<IncidentPatch>,
) -> ApiResult<Json<IncidentDetail>> {
    Ok(Json(state.hub.update_incident(&caller, &id, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/incidents/{id}", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 403, body = ErrorBody)))]
async fn delete_incident(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.hub.delete_incident(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/notes", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = NewNote, responses((status = 200, body = IncidentNote)))]
async fn add_note(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
    Body(note): Body<NewNote>,
) -> ApiResult<Json<IncidentNote>> {
    Ok(Json(state.hub.add_note(&caller, &id, note).await?))
}

#[utoipa::path(get, path = "/api/v1/attachments/{sha256}", tag = "incidents", security(("bearer" = [])),
    params(("sha256" = String, Path)), responses((status = 200, description = "The attachment's bytes"), (status = 404, body = ErrorBody)))]
async fn get_attachment(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(sha): Path<String>,
) -> ApiResult<Response> {
    let (media_type, bytes) = state.hub.attachment(&caller, &sha).await?;
    Ok((
        [
            (header::CONTENT_TYPE, media_type),
            (header::CONTENT_DISPOSITION, "attachment".to_owned()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])),
    params(AuditFilter), responses((status = 200, body = [AuditRecord])))]
async fn list_audit(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Query(filter): Query<AuditFilter>,
) -> ApiResult<Json<Vec<AuditRecord>>> {
    Ok(Json(state.hub.list_audit(&caller, filter).await?))
}

#[utoipa::path(post, path = "/api/v1/audit/camera-viewed", tag = "audit", security(("bearer" = [])),
    request_body = CameraViewed, responses((status = 204)))]
async fn camera_viewed(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Body(viewed): Body<CameraViewed>,
) -> ApiResult<StatusCode> {
    state.hub.camera_viewed(&caller, viewed).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = [User]), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(state.hub.list_users(&caller).await?))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    request_body = NewUser, responses((status = 200, body = User), (status = 403, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Body(new): Body<NewUser>,
) -> ApiResult<Json<User>> {
    Ok(Json(state.hub.create_user(Some(&caller), new).await?))
}

#[utoipa::path(put, path = "/api/v1/users/{id}/grants", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = GrantsBody, responses((status = 200, body = User)))]
async fn put_grants(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
    Body(body): Body<GrantsBody>,
) -> ApiResult<Json<User>> {
    Ok(Json(
        state.hub.update_grants(&caller, &id, body.grants).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/users/{id}/sessions", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, description = "How many sessions ended")))]
async fn revoke_sessions(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let ended = state.hub.revoke_sessions(&caller, &id).await?;
    Ok(Json(json!({"revoked": ended})))
}

#[utoipa::path(get, path = "/api/v1/settings", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = Settings)))]
async fn get_settings(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
) -> ApiResult<Json<Settings>> {
    // Any logged-in user may read them; only IT may change them.
    let _ = caller;
    Ok(Json(state.hub.settings().await?))
}

#[utoipa::path(put, path = "/api/v1/settings", tag = "settings", security(("bearer" = [])),
    request_body = Settings, responses((status = 200, body = Settings), (status = 403, body = ErrorBody)))]
async fn put_settings(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Body(settings): Body<Settings>,
) -> ApiResult<Json<Settings>> {
    Ok(Json(state.hub.put_settings(&caller, settings).await?))
}

#[utoipa::path(post, path = "/api/v1/sources", tag = "events", security(("bearer" = [])),
    request_body = NewSource, responses((status = 200, body = SourceSecret)))]
async fn create_source(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Body(new): Body<NewSource>,
) -> ApiResult<Json<SourceSecret>> {
    Ok(Json(state.hub.create_source(Some(&caller), new).await?))
}

#[utoipa::path(get, path = "/api/v1/layouts", tag = "layouts", security(("bearer" = [])),
    responses((status = 200, body = [SavedLayout])))]
async fn list_layouts(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
) -> ApiResult<Json<Vec<SavedLayout>>> {
    Ok(Json(state.hub.list_layouts(&caller).await?))
}

#[utoipa::path(put, path = "/api/v1/layouts/{id}", tag = "layouts", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = LayoutBody, responses((status = 200, body = SavedLayout)))]
async fn put_layout(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
    Body(body): Body<LayoutBody>,
) -> ApiResult<Json<SavedLayout>> {
    Ok(Json(state.hub.put_layout(&caller, &id, body).await?))
}

#[utoipa::path(delete, path = "/api/v1/layouts/{id}", tag = "layouts", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204, description = "Deleted")))]
async fn delete_layout(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.hub.delete_layout(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The live feed; see the `feed` module for the protocol.
#[utoipa::path(get, path = "/api/v1/changes", tag = "feed",
    responses((status = 101, description = "WebSocket: send {\"type\":\"subscribe\",\"token\":..,\"since\":..} first (a browser console's cookie stands in for the token)")))]
async fn changes(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    // WebSockets are not bound by CORS: a cookie only counts when the page that opens the feed
    // is the hub's own console (same host and port), never another site's page.
    let cookie = session_cookie(&headers).filter(|_| same_origin(&headers));
    upgrade
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| crate::feed::serve(state.hub, socket, cookie))
}

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
struct ApiDoc;

/// The API's routes and its OpenAPI document, generated from the same handlers.
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
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
        .routes(routes!(revoke_sessions))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(create_source))
        .routes(routes!(list_layouts))
        .routes(routes!(put_layout, delete_layout))
        .routes(routes!(changes))
        .split_for_parts()
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
        .method_not_allowed_fallback(|| async {
            (
                StatusCode::METHOD_NOT_ALLOWED,
                Json(ErrorBody {
                    code: "method_not_allowed".into(),
                    message: "this route does not take that method".into(),
                }),
            )
        })
        .layer(axum::extract::DefaultBodyLimit::max(16 << 20))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn_with_state(Arc::new(cors_config), cors))
        .with_state(state)
}
