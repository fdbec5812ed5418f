//! The API's handlers: each authenticates (through [`Auth`]), reads its input and calls one
//! domain method; rights are checked in the domain. Their `#[utoipa::path]` is the document.

use super::AppState;
use super::extract::*;
use crate::HubError;
use crate::ingest;
use crate::model::*;
use crate::store::{Actor, AlarmVerb};
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[utoipa::path(get, path = "/api/v1/health", tag = "system",
    responses((status = 200, description = "The hub is up", body = Health)))]
pub(super) async fn health(State(state): State<AppState>) -> ApiResult<Json<Health>> {
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
              (status = 413, body = ErrorBody, description = "A body over 16 KiB"),
              (status = 429, body = ErrorBody, description = "Too many failed attempts")))]
pub(super) async fn login(
    State(state): State<AppState>,
    peer: Peer,
    SmallBody(login): SmallBody<Login>,
) -> ApiResult<Json<Session>> {
    Ok(Json(
        state
            .hub
            .login(&login.username, &login.password, &peer.0)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/auth/browser-login", tag = "auth", request_body = Login,
    responses((status = 200, body = BrowserSession, description = "Sets the HttpOnly session cookie"),
              (status = 401, body = ErrorBody),
              (status = 413, body = ErrorBody, description = "A body over 16 KiB"),
              (status = 429, body = ErrorBody)))]
pub(super) async fn browser_login(
    State(state): State<AppState>,
    peer: Peer,
    SmallBody(login): SmallBody<Login>,
) -> ApiResult<Response> {
    let session = state
        .hub
        .login(&login.username, &login.password, &peer.0)
        .await?;
    let max_age = chrono::DateTime::parse_from_rfc3339(&session.expires)
        .map(|e| ((e.timestamp_millis() - state.hub.now()) / 1000).max(0))
        .unwrap_or(0);
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}",
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
pub(super) async fn logout(
    State(state): State<AppState>,
    Auth(_, token): Auth,
) -> ApiResult<Response> {
    state.hub.logout(&token).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    let cleared =
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    let value = HeaderValue::from_str(&cleared)
        .map_err(|e| HubError::Internal(format!("session cookie: {e}")))?;
    response.headers_mut().insert(header::SET_COOKIE, value);
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Caller), (status = 401, body = ErrorBody)))]
pub(super) async fn me(Auth(caller, _): Auth) -> Json<Caller> {
    Json(caller)
}

#[utoipa::path(get, path = "/api/v1/rights", tag = "auth",
    responses((status = 200, body = [RightsRow], description = "What each role may do")))]
pub(super) async fn rights() -> Json<Vec<RightsRow>> {
    Json(rights_matrix())
}

#[utoipa::path(get, path = "/api/v1/sites", tag = "sites", security(("bearer" = [])),
    responses((status = 200, body = [SiteSummary])))]
pub(super) async fn list_sites(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
) -> ApiResult<Json<Vec<SiteSummary>>> {
    Ok(Json(state.hub.list_sites(&caller).await?))
}

#[utoipa::path(get, path = "/api/v1/sites/{site}", tag = "sites", security(("bearer" = [])),
    params(("site" = String, Path)),
    responses((status = 200, body = SiteDetail), (status = 404, body = ErrorBody)))]
pub(super) async fn get_site(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(site): Path<String>,
) -> ApiResult<Json<SiteDetail>> {
    Ok(Json(state.hub.site_detail(&caller, &site).await?))
}

#[utoipa::path(put, path = "/api/v1/sites/{site}", tag = "sites", security(("bearer" = [])),
    params(("site" = String, Path)), request_body = SiteImport,
    responses((status = 200, body = SiteDetail), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn put_site(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(site): Path<String>,
    Body(import): Body<SiteImport>,
) -> ApiResult<Json<SiteDetail>> {
    if import.site.get("id").and_then(|v| v.as_str()) != Some(site.as_str()) {
        return Err(HubError::BadRequest("the body's site id must match the path".into()).into());
    }
    Ok(Json(
        state.hub.import_site(Actor::User(&caller), import).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/sites/{site}/floors/{floor}/plan", tag = "sites", security(("bearer" = [])),
    params(("site" = String, Path), ("floor" = String, Path)),
    responses((status = 200, description = "The plan image", content_type = "image/svg+xml"), (status = 404, body = ErrorBody)))]
pub(super) async fn floor_plan(
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
pub(super) async fn get_rules(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(site): Path<String>,
) -> ApiResult<Json<Vec<AlarmRule>>> {
    Ok(Json(state.hub.rules(&caller, &site).await?))
}

#[utoipa::path(put, path = "/api/v1/sites/{site}/rules", tag = "alarms", security(("bearer" = [])),
    params(("site" = String, Path)), request_body = [AlarmRule], responses((status = 200, body = [AlarmRule])))]
pub(super) async fn put_rules(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(site): Path<String>,
    Body(rules): Body<Vec<AlarmRule>>,
) -> ApiResult<Json<Vec<AlarmRule>>> {
    Ok(Json(state.hub.put_rules(&caller, &site, rules).await?))
}

#[utoipa::path(post, path = "/api/v1/sites/{site}/doors/{door}/commands", tag = "doors", security(("bearer" = [])),
    params(("site" = String, Path), ("door" = String, Path)), request_body = DoorCommandRequest,
    responses((status = 200, description = "Sent to the controller"), (status = 502, body = ErrorBody), (status = 409, body = ErrorBody, description = "The site has no door controller, or none paired with an event source to sign for")))]
pub(super) async fn door_command(
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
    responses((status = 200, description = "Sent to the controller"), (status = 502, body = ErrorBody), (status = 409, body = ErrorBody, description = "The site has no door controller, or none paired with an event source to sign for")))]
pub(super) async fn lockdown(
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
pub(super) async fn list_events(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Query(filter): Query<EventFilter>,
) -> ApiResult<Json<Vec<Event>>> {
    Ok(Json(state.hub.list_events(&caller, filter).await?))
}

/// A signed request's raw body (its signature is over these bytes), or why it cannot be read.
fn raw_body(
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Result<axum::body::Bytes, HubError> {
    body.map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => HubError::PayloadTooLarge(r.body_text()),
        _ => HubError::BadRequest(r.body_text()),
    })
}

/// The largest webhook body: a full batch of the largest events.
const MAX_WEBHOOK_BYTES: usize = 16 << 20;

/// A header a signed request must carry; without it the request is refused.
fn signed_header(headers: &HeaderMap, name: &str) -> Result<String, HubError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| HubError::Forbidden(format!("missing {name}")))
}

/// Access-control events from a registered source, signed with its secret.
#[utoipa::path(post, path = "/api/v1/ingest/{source}", tag = "events",
    params(("source" = String, Path),
           ("X-Watchfloor-Timestamp" = String, Header, description = "Unix seconds"),
           ("X-Watchfloor-Signature" = String, Header, description = "sha256=<hex HMAC-SHA256 of `<timestamp>.<body>` with the source's secret>")),
    request_body(content = [IngestEvent], description = "One event or an array of at most 1000"),
    responses((status = 200, body = IngestResult),
              (status = 400, body = ErrorBody, description = "Not events"),
              (status = 403, body = ErrorBody, description = "Unknown source, or a missing or wrong signature"),
              (status = 404, body = ErrorBody, description = "No source in the path (`/api/v1/ingest/`): no such route"),
              (status = 413, body = ErrorBody, description = "Larger than the hub takes")))]
pub(super) async fn ingest_webhook(
    State(state): State<AppState>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<Json<IngestResult>> {
    // Who sends, and that it signed now, before its body is read: a stranger's 16 MiB goes
    // unread.
    let (site, secret) = ingest::known_source(&state.hub, &source).await?;
    let header_text = |name: &str| signed_header(&headers, name);
    let (timestamp, signature) = (
        header_text(events::TIMESTAMP_HEADER)?,
        header_text(events::SIGNATURE_HEADER)?,
    );
    let expected = ingest::check_signed_headers(&timestamp, &signature, state.hub.now())?;
    let body = bounded_body(body, &headers, MAX_WEBHOOK_BYTES).await?;
    ingest::verify_signature(&secret, &timestamp, &expected, &body)?;
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
pub(super) async fn list_alarms(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Query(filter): Query<AlarmFilter>,
) -> ApiResult<Json<Vec<Alarm>>> {
    Ok(Json(state.hub.list_alarms(&caller, filter).await?))
}

#[utoipa::path(get, path = "/api/v1/alarms/{id}", tag = "alarms", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Alarm), (status = 404, body = ErrorBody)))]
pub(super) async fn get_alarm(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Alarm>> {
    Ok(Json(state.hub.alarm(&caller, &id).await?))
}

pub(super) async fn alarm_verb(
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
pub(super) async fn acknowledge_alarm(
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
pub(super) async fn forward_alarm(
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
pub(super) async fn close_alarm(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
    Body(action): Body<AlarmAction>,
) -> ApiResult<Json<Alarm>> {
    alarm_verb(state, caller, id, AlarmVerb::Close, action).await
}

#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", security(("bearer" = [])),
    params(IncidentFilter), responses((status = 200, body = [Incident])))]
pub(super) async fn list_incidents(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Query(filter): Query<IncidentFilter>,
) -> ApiResult<Json<Vec<Incident>>> {
    Ok(Json(state.hub.list_incidents(&caller, filter).await?))
}

#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", security(("bearer" = [])),
    request_body = NewIncident, responses((status = 200, body = IncidentDetail), (status = 409, body = ErrorBody, description = "The id is taken by another incident")))]
pub(super) async fn create_incident(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Body(new): Body<NewIncident>,
) -> ApiResult<Json<IncidentDetail>> {
    Ok(Json(state.hub.create_incident(&caller, new).await?))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = IncidentDetail), (status = 404, body = ErrorBody)))]
pub(super) async fn get_incident(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<IncidentDetail>> {
    Ok(Json(state.hub.incident(&caller, &id).await?))
}

#[utoipa::path(patch, path = "/api/v1/incidents/{id}", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = IncidentPatch, responses((status = 200, body = IncidentDetail)))]
pub(super) async fn patch_incident(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
    Body(patch): Body<IncidentPatch>,
) -> ApiResult<Json<IncidentDetail>> {
    Ok(Json(state.hub.update_incident(&caller, &id, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/incidents/{id}", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 403, body = ErrorBody)))]
pub(super) async fn delete_incident(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.hub.delete_incident(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/notes", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = NewNote, responses((status = 200, body = IncidentNote), (status = 409, body = ErrorBody, description = "The id is taken by another note")))]
pub(super) async fn add_note(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
    Body(note): Body<NewNote>,
) -> ApiResult<Json<IncidentNote>> {
    Ok(Json(state.hub.add_note(&caller, &id, note).await?))
}

#[utoipa::path(get, path = "/api/v1/attachments/{sha256}", tag = "incidents", security(("bearer" = [])),
    params(("sha256" = String, Path)), responses((status = 200, description = "The attachment's bytes"), (status = 404, body = ErrorBody)))]
pub(super) async fn get_attachment(
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
pub(super) async fn list_audit(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Query(filter): Query<AuditFilter>,
) -> ApiResult<Json<Vec<AuditRecord>>> {
    Ok(Json(state.hub.list_audit(&caller, filter).await?))
}

#[utoipa::path(post, path = "/api/v1/audit/camera-viewed", tag = "audit", security(("bearer" = [])),
    request_body = CameraViewed, responses((status = 204)))]
pub(super) async fn camera_viewed(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Body(viewed): Body<CameraViewed>,
) -> ApiResult<StatusCode> {
    state.hub.camera_viewed(&caller, viewed).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = [User]), (status = 403, body = ErrorBody)))]
pub(super) async fn list_users(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(state.hub.list_users(&caller).await?))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    request_body = NewUser, responses((status = 200, body = User), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "The id or user name is taken")))]
pub(super) async fn create_user(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Body(new): Body<NewUser>,
) -> ApiResult<Json<User>> {
    Ok(Json(
        state.hub.create_user(Actor::User(&caller), new).await?,
    ))
}

#[utoipa::path(put, path = "/api/v1/users/{id}/grants", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = GrantsBody, responses((status = 200, body = User)))]
pub(super) async fn put_grants(
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
pub(super) async fn revoke_sessions(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let ended = state.hub.revoke_sessions(&caller, &id).await?;
    Ok(Json(json!({"revoked": ended})))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = User, description = "Disabled: cannot sign in, sessions ended"),
              (status = 409, body = ErrorBody, description = "One's own account")))]
pub(super) async fn disable_user(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(
        state
            .hub
            .set_disabled(Actor::User(&caller), &id, true)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = User)))]
pub(super) async fn enable_user(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(
        state
            .hub
            .set_disabled(Actor::User(&caller), &id, false)
            .await?,
    ))
}

#[utoipa::path(put, path = "/api/v1/users/{id}/password", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = PasswordReset,
    responses((status = 204, description = "Set; every session of the user ended"),
              (status = 413, body = ErrorBody, description = "A body over 16 KiB")))]
pub(super) async fn reset_password(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
    SmallBody(body): SmallBody<PasswordReset>,
) -> ApiResult<StatusCode> {
    state
        .hub
        .reset_password(Actor::User(&caller), &id, &body.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/me/password", tag = "auth", security(("bearer" = [])),
    request_body = PasswordChange,
    responses((status = 204, description = "Changed; the caller's other sessions ended"),
              (status = 403, body = ErrorBody, description = "The current password is wrong"),
              (status = 413, body = ErrorBody, description = "A body over 16 KiB"),
              (status = 429, body = ErrorBody, description = "Too many wrong passwords")))]
pub(super) async fn change_password(
    State(state): State<AppState>,
    Auth(caller, token): Auth,
    peer: Peer,
    SmallBody(body): SmallBody<PasswordChange>,
) -> ApiResult<StatusCode> {
    state
        .hub
        .change_password(&caller, &token, &body.current, &body.password, &peer.0)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/users/{id}/sessions", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = [SessionInfo])))]
pub(super) async fn list_sessions(
    State(state): State<AppState>,
    Auth(caller, token): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<SessionInfo>>> {
    Ok(Json(state.hub.list_sessions(&caller, &token, &id).await?))
}

#[utoipa::path(delete, path = "/api/v1/users/{id}/sessions/{session}", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path), ("session" = String, Path)),
    responses((status = 204, description = "Ended"), (status = 404, body = ErrorBody)))]
pub(super) async fn end_session(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path((id, session)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.hub.end_session(&caller, &id, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/settings", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = Settings)))]
pub(super) async fn get_settings(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
) -> ApiResult<Json<Settings>> {
    // Any logged-in user may read them; only IT may change them.
    let _ = caller;
    Ok(Json(state.hub.settings().await?))
}

#[utoipa::path(put, path = "/api/v1/settings", tag = "settings", security(("bearer" = [])),
    request_body = Settings, responses((status = 200, body = Settings), (status = 403, body = ErrorBody)))]
pub(super) async fn put_settings(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Body(settings): Body<Settings>,
) -> ApiResult<Json<Settings>> {
    Ok(Json(state.hub.put_settings(&caller, settings).await?))
}

#[utoipa::path(post, path = "/api/v1/sources", tag = "events", security(("bearer" = [])),
    request_body = NewSource, responses((status = 200, body = SourceSecret), (status = 409, body = ErrorBody, description = "The id is taken by another source")))]
pub(super) async fn create_source(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Body(new): Body<NewSource>,
) -> ApiResult<Json<SourceSecret>> {
    Ok(Json(
        state.hub.create_source(Actor::User(&caller), new).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/layouts", tag = "layouts", security(("bearer" = [])),
    responses((status = 200, body = [SavedLayout])))]
pub(super) async fn list_layouts(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
) -> ApiResult<Json<Vec<SavedLayout>>> {
    Ok(Json(state.hub.list_layouts(&caller).await?))
}

#[utoipa::path(put, path = "/api/v1/layouts/{id}", tag = "layouts", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = LayoutBody, responses((status = 200, body = SavedLayout), (status = 409, body = ErrorBody, description = "The layout belongs to another user")))]
pub(super) async fn put_layout(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
    Body(body): Body<LayoutBody>,
) -> ApiResult<Json<SavedLayout>> {
    Ok(Json(state.hub.put_layout(&caller, &id, body).await?))
}

#[utoipa::path(delete, path = "/api/v1/layouts/{id}", tag = "layouts", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204, description = "Deleted")))]
pub(super) async fn delete_layout(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.hub.delete_layout(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/sites/{site}/bookmarks", tag = "bookmarks", security(("bearer" = [])),
    params(("site" = String, Path), BookmarkFilter),
    responses((status = 200, body = [Bookmark], description = "Newest instant first")))]
pub(super) async fn list_bookmarks(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(site): Path<String>,
    Query(filter): Query<BookmarkFilter>,
) -> ApiResult<Json<Vec<Bookmark>>> {
    Ok(Json(state.hub.bookmarks(&caller, &site, &filter).await?))
}

#[utoipa::path(post, path = "/api/v1/sites/{site}/bookmarks", tag = "bookmarks", security(("bearer" = [])),
    params(("site" = String, Path)), request_body = NewBookmark,
    responses((status = 200, body = Bookmark,
               description = "Made (or, for the same request again, the one it made)"),
              (status = 409, body = ErrorBody, description = "The id is taken by another bookmark")))]
pub(super) async fn create_bookmark(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(site): Path<String>,
    Body(new): Body<NewBookmark>,
) -> ApiResult<Json<Bookmark>> {
    Ok(Json(state.hub.create_bookmark(&caller, &site, new).await?))
}

#[utoipa::path(delete, path = "/api/v1/sites/{site}/bookmarks/{id}", tag = "bookmarks", security(("bearer" = [])),
    params(("site" = String, Path), ("id" = String, Path)),
    responses((status = 204, description = "Deleted")))]
pub(super) async fn delete_bookmark(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path((site, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.hub.delete_bookmark(&caller, &site, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(patch, path = "/api/v1/sites/{site}/bookmarks/{id}", tag = "bookmarks", security(("bearer" = [])),
    params(("site" = String, Path), ("id" = String, Path)), request_body = BookmarkLink,
    responses((status = 200, body = Bookmark, description = "Linked to the incident, or unlinked")))]
pub(super) async fn link_bookmark(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path((site, id)): Path<(String, String)>,
    Body(link): Body<BookmarkLink>,
) -> ApiResult<Json<Bookmark>> {
    Ok(Json(
        state.hub.link_bookmark(&caller, &site, &id, link).await?,
    ))
}

/// The live feed; see the `feed` module for the protocol.
#[utoipa::path(get, path = "/api/v1/changes", tag = "feed",
    responses((status = 101, description = "WebSocket: send {\"type\":\"subscribe\",\"token\":..,\"since\":..} first (a browser console's cookie stands in for the token)"),
              (status = 400, body = ErrorBody, description = "Not a WebSocket upgrade")))]
pub(super) async fn changes(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let upgrade = upgrade.map_err(|r| HubError::BadRequest(r.body_text()))?;
    // WebSockets are not bound by CORS: a cookie only counts when the page that opens the feed
    // is the hub's own console (same host and port), never another site's page.
    let cookie = session_cookie(&headers).filter(|_| same_origin(&headers));
    Ok(upgrade
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| crate::feed::serve(state.hub, socket, cookie)))
}

#[utoipa::path(get, path = "/api/v1/sites/{site}/recorders", tag = "recorders", security(("bearer" = [])),
    params(("site" = String, Path)), responses((status = 200, body = [Recorder])))]
pub(super) async fn list_recorders(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(site): Path<String>,
) -> ApiResult<Json<Vec<Recorder>>> {
    Ok(Json(state.hub.recorders(&caller, &site).await?))
}

#[utoipa::path(put, path = "/api/v1/sites/{site}/recorders/{recorder}", tag = "recorders", security(("bearer" = [])),
    params(("site" = String, Path), ("recorder" = String, Path)), request_body = Recorder,
    responses((status = 200, body = Recorder),
              (status = 409, body = ErrorBody, description = "The id is another site's recorder")))]
pub(super) async fn put_recorder(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path((site, recorder)): Path<(String, String)>,
    Body(body): Body<Recorder>,
) -> ApiResult<Json<Recorder>> {
    if body.id != recorder {
        return Err(HubError::BadRequest("the body's id must match the path".into()).into());
    }
    Ok(Json(
        state
            .hub
            .put_recorder(Actor::User(&caller), &site, body)
            .await?,
    ))
}

#[utoipa::path(put, path = "/api/v1/sites/{site}/cameras/{camera}/recorder", tag = "recorders", security(("bearer" = [])),
    params(("site" = String, Path), ("camera" = String, Path)), request_body = CameraRecorder,
    responses((status = 200, body = CameraRecorder)))]
pub(super) async fn put_camera_recorder(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path((site, camera)): Path<(String, String)>,
    Body(choice): Body<CameraRecorder>,
) -> ApiResult<Json<CameraRecorder>> {
    Ok(Json(
        state
            .hub
            .set_camera_recorder(Actor::User(&caller), &site, &camera, choice)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/sites/{site}/cameras/{camera}/ticket", tag = "recorders", security(("bearer" = [])),
    params(("site" = String, Path), ("camera" = String, Path)), request_body = TicketRequest,
    responses((status = 200, body = StreamTicket,
               description = "Open `url` with RTSP Basic credentials `user`/`ticket` before `expires`"),
              (status = 409, body = ErrorBody, description = "The camera has no recorder: open it directly")))]
pub(super) async fn stream_ticket(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path((site, camera)): Path<(String, String)>,
    Body(request): Body<TicketRequest>,
) -> ApiResult<Json<StreamTicket>> {
    Ok(Json(
        state
            .hub
            .stream_ticket(&caller, &site, &camera, request)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/sites/{site}/locks", tag = "recorders", security(("bearer" = [])),
    params(("site" = String, Path), LockFilter),
    responses((status = 200, body = [EvidenceLock], description = "Those that hold first, newest first")))]
pub(super) async fn list_locks(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(site): Path<String>,
    Query(filter): Query<LockFilter>,
) -> ApiResult<Json<Vec<EvidenceLock>>> {
    Ok(Json(
        state
            .hub
            .locks(&caller, &site, filter.camera.as_deref())
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/sites/{site}/locks", tag = "recorders", security(("bearer" = [])),
    params(("site" = String, Path)), request_body = NewEvidenceLock,
    responses((status = 200, body = EvidenceLock,
               description = "The camera's recorder keeps the range from its next sync on"),
              (status = 409, body = ErrorBody, description = "Too many locks hold on the site")))]
pub(super) async fn create_lock(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(site): Path<String>,
    Body(new): Body<NewEvidenceLock>,
) -> ApiResult<Json<EvidenceLock>> {
    Ok(Json(
        state
            .hub
            .create_lock(Actor::User(&caller), &site, new)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/sites/{site}/locks/{lock}/release", tag = "recorders", security(("bearer" = [])),
    params(("site" = String, Path), ("lock" = String, Path)),
    responses((status = 200, body = EvidenceLock),
              (status = 409, body = ErrorBody, description = "Already released")))]
pub(super) async fn release_lock(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path((site, lock)): Path<(String, String)>,
) -> ApiResult<Json<EvidenceLock>> {
    Ok(Json(
        state
            .hub
            .release_lock(Actor::User(&caller), &site, &lock)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/sites/{site}/recorders/health", tag = "recorders", security(("bearer" = [])),
    params(("site" = String, Path)), responses((status = 200, body = [RecorderHealth])))]
pub(super) async fn recorder_health(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(site): Path<String>,
) -> ApiResult<Json<Vec<RecorderHealth>>> {
    Ok(Json(state.hub.recorder_health(&caller, &site).await?))
}

/// A recorder's health in, the evidence locks of its site out; signed with its own key.
#[utoipa::path(post, path = "/api/v1/recorders/{recorder}/sync", tag = "recorders",
    params(("recorder" = String, Path),
           ("X-Watchfloor-Timestamp" = String, Header, description = "Unix milliseconds"),
           ("X-Watchfloor-Recorder-Signature" = String, Header, description = "hex Ed25519 signature of `<recorder>.<timestamp>.<body>` with the recorder's key")),
    request_body = RecorderReport,
    responses((status = 200, body = RecorderSync),
              (status = 400, body = ErrorBody, description = "Not a report"),
              (status = 403, body = ErrorBody, description = "Unknown recorder, a wrong signature, a stale time or a replay"),
              (status = 413, body = ErrorBody, description = "Larger than the hub takes")))]
pub(super) async fn recorder_sync(
    State(state): State<AppState>,
    Path(recorder): Path<String>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> ApiResult<Json<RecorderSync>> {
    let body = raw_body(body)?;
    let header_text = |name: &str| signed_header(&headers, name);
    Ok(Json(
        state
            .hub
            .recorder_sync(
                &recorder,
                &header_text(contract::RECORDER_TIMESTAMP_HEADER)?,
                &header_text(contract::RECORDER_SIGNATURE_HEADER)?,
                &body,
            )
            .await?,
    ))
}
