//! The simulator's control API on loopback: inject camera faults, send door commands, read
//! door states and recent events. JSON in and out; errors are `{code, message}`.
//!
//! - `GET  /api/v1/site`                               the site listing (as `--json` prints)
//! - `POST /api/v1/cameras/{id}/{stop|start|stall|resume|cut}`
//! - `POST /api/v1/cameras/{id}/corrupt?per_mille=N`   corrupt N of every 1000 frames (0: off)
//! - `GET  /api/v1/doors`                              live door states
//! - `POST /api/v1/doors/commands`                     a [`crate::DoorCommand`] as JSON, signed by the
//!   hub when the simulator is paired with one ([`Sim::door_command_from_network`])
//! - `GET  /api/v1/events?limit=N`                     recent door events, oldest first

use crate::{Fault, Sim, SimError};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::Arc;

/// The control API's routes over a running simulator.
pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/api/v1/site", get(site))
        .route("/api/v1/cameras/{id}/{fault}", post(camera_fault))
        .route("/api/v1/doors", get(doors))
        .route("/api/v1/doors/commands", post(door_command))
        .route("/api/v1/events", get(events))
        .with_state(sim)
}

impl IntoResponse for SimError {
    fn into_response(self) -> Response {
        let status = match self {
            SimError::UnknownCamera(_) | SimError::UnknownDoor(_) => StatusCode::NOT_FOUND,
            SimError::BadRequest(_) => StatusCode::BAD_REQUEST,
            SimError::Refused(_) => StatusCode::CONFLICT,
            SimError::Unsigned(_) => StatusCode::UNAUTHORIZED,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let body = serde_json::json!({ "code": self.code(), "message": self.to_string() });
        (status, Json(body)).into_response()
    }
}

async fn site(State(sim): State<Arc<Sim>>) -> impl IntoResponse {
    Json(sim.listing())
}

#[derive(Debug, Deserialize)]
struct CorruptQuery {
    per_mille: Option<u32>,
}

async fn camera_fault(
    State(sim): State<Arc<Sim>>,
    Path((id, fault)): Path<(String, String)>,
    Query(query): Query<CorruptQuery>,
) -> Result<impl IntoResponse, SimError> {
    let fault = match fault.as_str() {
        "stop" => Fault::Stop,
        "start" => Fault::Start,
        "stall" => Fault::Stall,
        "resume" => Fault::Resume,
        "cut" => Fault::Cut,
        "corrupt" => Fault::Corrupt {
            per_mille: query.per_mille.ok_or_else(|| {
                SimError::BadRequest("corrupt needs ?per_mille=N (0 to 1000)".into())
            })?,
        },
        other => {
            return Err(SimError::BadRequest(format!(
                "unknown fault `{other}` (stop, start, stall, resume, cut, corrupt)"
            )));
        }
    };
    Ok(Json(sim.cameras().apply(&id, fault)?))
}

async fn doors(State(sim): State<Arc<Sim>>) -> impl IntoResponse {
    Json(sim.door_status())
}

async fn door_command(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, SimError> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let signed = [
        header(events::TIMESTAMP_HEADER),
        header(events::NONCE_HEADER),
        header(events::SIGNATURE_HEADER),
    ];
    Ok(Json(sim.door_command_from_network(signed, &body)?))
}

#[derive(Debug, Deserialize)]
struct EventsQuery {
    limit: Option<usize>,
}

async fn events(
    State(sim): State<Arc<Sim>>,
    Query(query): Query<EventsQuery>,
) -> impl IntoResponse {
    Json(sim.recent_events(query.limit.unwrap_or(100)))
}
