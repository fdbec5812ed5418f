//! Video for browsers, recorded and live: the hub asks the camera's recorder (its HTTP
//! playback) with a replay or live ticket it issues itself, and streams the answer back to the
//! browser, which holds only its session cookie. The domain decides who may see what and audits the ticket
//! ([`crate::store::Hub::recording_source`]); this is transport.

use super::AppState;
use super::extract::*;
use crate::HubError;
use crate::model::*;
use crate::store::Hub;
use crate::store::RecordingSource;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use contract::Right;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// How long the recorder may take to connect, and to send anything at all.
const CONNECT: Duration = Duration::from_secs(5);
const SILENCE: Duration = Duration::from_secs(30);

/// Video answers (recorded or live) one user may be streaming at once: a 2x2 grid. The recorders make
/// few at once (16 each), and one browser must not take them all.
const STREAMS_PER_USER: usize = 4;

/// The video answers each user is streaming now.
#[derive(Debug, Clone, Default)]
pub struct Streaming(Arc<Mutex<HashMap<String, usize>>>);

impl Streaming {
    /// Counts one more answer for `user`, or refuses it if they stream enough already.
    fn start(&self, user: &str) -> Result<Streamed, HubError> {
        let mut counts = self
            .0
            .lock()
            .map_err(|_| HubError::Internal("the stream count is unusable".into()))?;
        let count = counts.entry(user.to_owned()).or_default();
        if *count >= STREAMS_PER_USER {
            return Err(HubError::RateLimited { retry_after_s: 5 });
        }
        *count += 1;
        Ok(Streamed {
            counts: self.clone(),
            user: user.to_owned(),
        })
    }
}

/// One user's answer in flight: counted while it lives.
struct Streamed {
    counts: Streaming,
    user: String,
}

impl Drop for Streamed {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.counts.0.lock()
            && let Some(count) = counts.get_mut(&self.user)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.user);
            }
        }
    }
}

/// One client for every recorder (connections are kept between requests).
fn client() -> Result<&'static reqwest::Client, HubError> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    recorder_client(&CLIENT, SILENCE)
}

/// The client in `slot` (made once): it connects within [`CONNECT`], waits at most `silence`
/// for anything from a recorder, and follows no redirect.
pub(super) fn recorder_client(
    slot: &'static OnceLock<Result<reqwest::Client, String>>,
    silence: Duration,
) -> Result<&'static reqwest::Client, HubError> {
    slot.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(CONNECT)
            .read_timeout(silence)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| HubError::Internal(format!("HTTP client for recorders: {e}")))
}

/// Asks the recorder for `what` (`timeline` or `media`) of the source over `range`; its
/// refusals become the hub's.
async fn ask(
    source: &RecordingSource,
    what: &str,
    range: &RecordingRange,
) -> Result<reqwest::Response, HubError> {
    let mut url = url::Url::parse(&format!("{}/{what}", source.url))
        .map_err(|e| HubError::Internal(format!("the recorder's playback address: {e}")))?;
    {
        let mut query = url.query_pairs_mut();
        for (key, value) in [("from", &range.from), ("to", &range.to)] {
            if let Some(value) = value {
                query.append_pair(key, value);
            }
        }
    }
    let answer = client()?
        .get(url)
        .bearer_auth(&source.ticket)
        .send()
        .await
        .map_err(|e| HubError::Upstream(format!("the camera's recorder cannot be reached: {e}")))?;
    if answer.status().is_success() {
        return Ok(answer);
    }
    let status = answer.status();
    let message = answer
        .json::<ErrorBody>()
        .await
        .map(|body| body.message)
        .unwrap_or_else(|_| format!("the recorder answered {status}"));
    Err(match status.as_u16() {
        400 => HubError::BadRequest(message),
        404 => HubError::NotFound(message),
        _ => HubError::Upstream(format!("the camera's recorder: {message}")),
    })
}

#[utoipa::path(get, path = "/api/v1/sites/{site}/cameras/{camera}/recording/{stream}/timeline",
    tag = "recorders", security(("bearer" = [])),
    params(("site" = String, Path), ("camera" = String, Path), ("stream" = StreamName, Path),
           RecordingRange),
    responses((status = 200, body = RecordingTimeline,
               description = "What the camera's recorder holds of the stream: spans, gaps, locks"),
              (status = 409, body = ErrorBody,
               description = "The camera has no recorder, or its recorder serves no video to browsers"),
              (status = 502, body = ErrorBody, description = "The recorder cannot be reached")))]
pub(super) async fn recording_timeline(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path((site, camera, stream)): Path<(String, String, StreamName)>,
    Query(range): Query<RecordingRange>,
) -> ApiResult<Json<RecordingTimeline>> {
    let source = state
        .hub
        .recording_source(&caller, &site, &camera, stream, StreamMode::Replay)
        .await?;
    let answer = ask(&source, "timeline", &range).await?;
    let timeline = answer.json::<RecordingTimeline>().await.map_err(|e| {
        HubError::Upstream(format!("the recorder's timeline could not be read: {e}"))
    })?;
    Ok(Json(timeline))
}

#[utoipa::path(get, path = "/api/v1/sites/{site}/cameras/{camera}/recording/{stream}/media",
    tag = "recorders", security(("bearer" = [])),
    params(("site" = String, Path), ("camera" = String, Path), ("stream" = StreamName, Path),
           RecordingRange),
    responses((status = 200, content_type = "video/mp4",
               description = "Fragmented MP4 (a fragment a second, never re-encoded) from the key \
                              frame at or before `from`; `X-Watchfloor-Start` is the capture time \
                              of its first frame (RFC 3339), `X-Watchfloor-Codec` its codec (`h264`, \
                              `h265`, `jpeg`). Ask again from where it ended."),
              (status = 409, body = ErrorBody,
               description = "The camera has no recorder, or its recorder serves no video to browsers"),
              (status = 429, body = ErrorBody,
               description = "The caller streams four recordings already"),
              (status = 502, body = ErrorBody,
               description = "The recorder cannot be reached, or is busy")))]
pub(super) async fn recording_media(
    State(state): State<AppState>,
    Auth(caller, token): Auth,
    Path((site, camera, stream)): Path<(String, String, StreamName)>,
    Query(range): Query<RecordingRange>,
) -> ApiResult<Response> {
    let counted = state.streaming.start(&caller.user_id)?;
    let watch = SessionWatch::start(&state, &caller, token, &site);
    let source = state
        .hub
        .recording_source(&caller, &site, &camera, stream, StreamMode::Replay)
        .await?;
    let answer = ask(&source, "media", &range).await?;
    Ok(pass_video(answer, counted, watch))
}

#[utoipa::path(get, path = "/api/v1/sites/{site}/cameras/{camera}/live/{stream}",
    tag = "recorders", security(("bearer" = [])),
    params(("site" = String, Path), ("camera" = String, Path), ("stream" = StreamName, Path)),
    responses((status = 200, content_type = "video/mp4",
               description = "The camera's stream live, from its recorder's one connection: \
                              fragmented MP4 (a fragment a quarter second, never re-encoded) from \
                              the last key frame on, for as long as it is read; \
                              `X-Watchfloor-Codec` its codec. Ask again when it ends."),
              (status = 409, body = ErrorBody,
               description = "The camera has no recorder, or its recorder serves no video to browsers"),
              (status = 429, body = ErrorBody,
               description = "The caller streams four videos already"),
              (status = 502, body = ErrorBody,
               description = "The recorder cannot be reached, is busy, or has no video from the \
                              camera yet")))]
pub(super) async fn live_media(
    State(state): State<AppState>,
    Auth(caller, token): Auth,
    Path((site, camera, stream)): Path<(String, String, StreamName)>,
) -> ApiResult<Response> {
    let counted = state.streaming.start(&caller.user_id)?;
    let watch = SessionWatch::start(&state, &caller, token, &site);
    let source = state
        .hub
        .recording_source(&caller, &site, &camera, stream, StreamMode::Live)
        .await?;
    let answer = ask(&source, "live", &RecordingRange::default()).await?;
    Ok(pass_video(answer, counted, watch))
}

/// How often video passed through re-checks its session even when no change was heard (an
/// expired session, a change made by another process on the database).
const RECHECK_EVERY: Duration = Duration::from_secs(60);

/// Watches the session `token` for video on `site` from the moment it is called: resolves
/// when the session no longer holds (ended, expired, its user disabled) or no longer may view
/// the site, heard as the change commits (`Hub::account_changes`) and re-checked every minute.
/// Called before anything is asked of the recorder, so a change meanwhile is not missed.
struct SessionWatch {
    hub: Arc<Hub>,
    changes: tokio::sync::broadcast::Receiver<String>,
    user: String,
    token: String,
    site: String,
}

impl SessionWatch {
    fn start(state: &AppState, caller: &crate::model::Caller, token: String, site: &str) -> Self {
        Self {
            hub: state.hub.clone(),
            changes: state.hub.account_changes(),
            user: caller.user_id.clone(),
            token,
            site: site.to_owned(),
        }
    }

    /// Whether the session still may view the site; a passing failure (the database) is no
    /// reason to stop, the next check decides.
    async fn holds(&self) -> bool {
        match self.hub.authenticate(&self.token).await {
            Ok(caller) => caller.require(&self.site, Right::View).is_ok(),
            Err(HubError::Unauthenticated | HubError::Forbidden(_) | HubError::NotFound(_)) => {
                false
            }
            Err(_) => true,
        }
    }

    async fn ended(mut self) {
        use tokio::sync::broadcast::error::RecvError;
        // Anything committed between the request's own check and this watch's start.
        if !self.holds().await {
            return;
        }
        let mut recheck = tokio::time::interval(RECHECK_EVERY);
        recheck.tick().await;
        loop {
            tokio::select! {
                changed = self.changes.recv() => match changed {
                    Ok(user) if user != self.user => continue,
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    // The hub is going away, and the answer with it.
                    Err(RecvError::Closed) => return,
                },
                _ = recheck.tick() => {}
            }
            if !self.holds().await {
                return;
            }
        }
    }
}

/// A recorder's video answer passed on to the browser as it comes, with the headers a player
/// reads; `counted` (the user's stream count) lasts as long as the body is being sent. When
/// `watch` says the session ended, the answer is broken off (an error, not a clean end: a
/// player must not take a fragment cut in half for a whole answer).
fn pass_video(answer: reqwest::Response, counted: Streamed, watch: SessionWatch) -> Response {
    use futures_util::StreamExt as _;
    let start = answer.headers().get(MEDIA_START_HEADER).cloned();
    let codec = answer.headers().get(MEDIA_CODEC_HEADER).cloned();
    let state = (
        answer.bytes_stream().boxed(),
        Box::pin(watch.ended()),
        counted,
    );
    let body = futures_util::stream::unfold(Some(state), |state| async move {
        let (mut body, mut ended, counted) = state?;
        tokio::select! {
            biased;
            () = &mut ended => Some((Err(std::io::Error::other("the session ended")), None)),
            chunk = body.next() => chunk.map(|chunk| {
                (chunk.map_err(std::io::Error::other), Some((body, ended, counted)))
            }),
        }
    });
    let mut response = axum::body::Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(start) = start {
        headers.insert(MEDIA_START_HEADER, start);
    }
    if let Some(codec) = codec {
        headers.insert(MEDIA_CODEC_HEADER, codec);
    }
    response
}
