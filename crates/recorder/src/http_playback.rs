//! Recorded video over HTTP, for browsers (through the hub, which holds their session; a browser
//! never holds a ticket): a stream's timeline as JSON, and its media from an instant as
//! fragmented MP4 that a browser's Media Source Extensions play.
//!
//! - `GET /v1/{camera}/{stream}/timeline?from=&to=`: [`contract::RecordingTimeline`].
//! - `GET /v1/{camera}/{stream}/media?from=[&to=]`: `video/mp4`, fragmented (a fragment a
//!   second), remuxed and never re-encoded, from the key frame at or before `from` to `to`
//!   (ten minutes on when left out, at most an hour) or the end of that recording run; the
//!   capture time of its first frame in `X-Watchfloor-Start`, so that a player shows from
//!   `from` on, and its codec in `X-Watchfloor-Codec` (`h264`, `h265`, `jpeg`), so that a
//!   player can say it cannot decode it. A player asks again from where an answer ended.
//! - `GET /v1/{camera}/{stream}/live`: `video/mp4`, fragmented (a fragment a quarter second),
//!   the stream as the recorder receives it, from the last key frame on and for as long as
//!   the client reads (an hour at most); its codec in `X-Watchfloor-Codec`. Opened by a live
//!   ticket (the restream's), and served from the same connection to the camera
//!   ([`LiveFeed`]). A client that falls [`LIVE_STALL`] behind is let go (it asks again, at a
//!   key frame).
//! - `POST /v1/{camera}/{stream}/export?from=&to=&reason=`: the range's signed export (see
//!   [`crate::export`], at most half an hour), every file of its folder as JSON
//!   `[{name, media_type, data}]` (base64): what the hub keeps on an incident. Made in the
//!   ticket's user's name.
//!
//! Each request carries a ticket for that very stream as `Authorization: Bearer` (a replay
//! ticket, a live ticket for `live`); the check and its refusals are the restream's
//! ([`crate::restream`]).

use crate::config::StreamKind;
use crate::index::Segment;
use crate::replay::{Next, Reader, Recorded, capture_ns};
use crate::restream::{Checker, GOP_MAX_BUFFERS, GOP_MAX_BYTES, LiveFeed};
use crate::tickets::{self, Asked};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use contract::{RecordedSpan, RecordingGap, RecordingLock, RecordingTimeline, StreamMode};
use gst::prelude::*;
use media::Codec;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The longest media answer and the longest timeline.
const MAX_MEDIA_US: i64 = 3600 * 1_000_000;
const DEFAULT_MEDIA_US: i64 = 600 * 1_000_000;
const MAX_TIMELINE_US: i64 = 31 * 86_400 * 1_000_000;
/// Chunks of MP4 waiting for a slow client before the muxer waits.
const QUEUED_CHUNKS: usize = 16;
/// Media answers made at once; beyond, 503.
const MAX_ANSWERS: usize = 16;
/// How long a client may take no chunk at all before its answer is given up.
const CLIENT_STALL: Duration = Duration::from_secs(30);
/// The same for a live answer: the camera does not wait, so a client this far behind is let
/// go (its frames queue meanwhile; it asks again and starts on a key frame).
const LIVE_STALL: Duration = Duration::from_secs(3);
/// A live answer's fragments: short, since a fragment is sent once it is whole.
const LIVE_FRAGMENT_MS: u32 = 250;
/// Chunks of a live answer waiting for the client (a fragment is a few).
const LIVE_QUEUED_CHUNKS: usize = 64;
/// A live answer with nothing to send for this long ends (the camera is away, or the muxer
/// failed); the client asks again.
const LIVE_SILENCE: Duration = Duration::from_secs(10);
/// The longest live answer: its ticket was checked when it began, so it is checked again (the
/// client asks anew) at least this often.
const LIVE_LONGEST: Duration = Duration::from_secs(3600);
/// A recorded stream (always connected) whose camera sent nothing for this long is answered
/// 503 rather than with an answer that would stay empty.
const FEED_SILENT: Duration = Duration::from_secs(5);

/// A piece of an answer's MP4, and when the muxer made it.
type Chunk = (std::time::Instant, Vec<u8>);

struct Playback {
    checker: Arc<Checker>,
    streams: BTreeMap<(String, StreamKind), Recorded>,
    /// The streams served live, each from the recorder's one connection.
    feeds: BTreeMap<(String, StreamKind), Arc<LiveFeed>>,
    /// Media answers being made at once: each is a thread and two pipelines.
    answering: Arc<tokio::sync::Semaphore>,
    exporting: Exporting,
}

/// What a signed export needs: the recorder's name and key, and a scratch folder.
#[derive(Debug, Clone)]
pub struct Exporting {
    recorder: String,
    signer: Arc<keys::SigningKey>,
    scratch: std::path::PathBuf,
    /// Exports being made at once (each remuxes and holds its files in memory).
    making: Arc<tokio::sync::Semaphore>,
}

/// Exports made at once; beyond, 503.
const EXPORTS_AT_ONCE: usize = 2;
/// The most video one export answer carries (base64 in JSON makes it a third more).
const MAX_EXPORT_BYTES: u64 = 256 << 20;

impl Exporting {
    /// The recorder `recorder`'s key from `data_dir` (made when missing), exports made in its
    /// `exports/` folder (emptied of what a killed export left).
    pub fn new(recorder: &str, data_dir: &std::path::Path) -> Result<Self, String> {
        let signer = keys::SigningKey::load_or_create(&data_dir.join("signing.key"))
            .map_err(|e| format!("the recorder's signing key: {e}"))?;
        let scratch = data_dir.join("export-scratch");
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch)
                .map_err(|e| format!("cannot empty {}: {e}", scratch.display()))?;
        }
        Ok(Self {
            recorder: recorder.to_owned(),
            signer: Arc::new(signer),
            scratch,
            making: Arc::new(tokio::sync::Semaphore::new(EXPORTS_AT_ONCE)),
        })
    }
}

/// The longest export.
const MAX_EXPORT_US: i64 = contract::MAX_EXPORT_S * 1_000_000;

/// The HTTP playback, serving on a thread of its own; dropping it stops it.
#[derive(Debug)]
pub struct HttpPlayback {
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpPlayback {
    /// Serves `recorded` and `feeds` on `host:port` (port 0 picks one), letting through what
    /// `checker` lets through.
    pub(crate) fn start(
        host: &str,
        port: u16,
        checker: Arc<Checker>,
        recorded: Vec<Recorded>,
        feeds: BTreeMap<(String, StreamKind), Arc<LiveFeed>>,
        exporting: Exporting,
    ) -> Result<Self, String> {
        let listener = std::net::TcpListener::bind((host, port))
            .map_err(|e| format!("cannot serve HTTP on {host}:{port}: {e}"))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("HTTP listener: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("HTTP listener: {e}"))?
            .port();
        let state = Arc::new(Playback {
            checker,
            streams: recorded
                .into_iter()
                .map(|r| ((r.camera.clone(), r.kind), r))
                .collect(),
            feeds,
            answering: Arc::new(tokio::sync::Semaphore::new(MAX_ANSWERS)),
            exporting,
        });
        let app = axum::Router::new()
            .route(
                "/v1/{camera}/{stream}/timeline",
                axum::routing::get(timeline),
            )
            .route("/v1/{camera}/{stream}/media", axum::routing::get(media))
            .route("/v1/{camera}/{stream}/live", axum::routing::get(live))
            .route("/v1/{camera}/{stream}/export", axum::routing::post(export))
            .with_state(state);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("http-playback")
            .enable_all()
            .build()
            .map_err(|e| format!("HTTP runtime: {e}"))?;
        let thread = std::thread::Builder::new()
            .name("http-playback".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        tracing::error!("the HTTP playback cannot listen");
                        return;
                    };
                    // Not a graceful shutdown: an answer may stream for an hour, or to a
                    // client that stopped reading, and the recorder's stop must not wait for it.
                    tokio::select! {
                        served = axum::serve(listener, app) => {
                            if let Err(e) = served {
                                tracing::error!("the HTTP playback stopped: {e}");
                            }
                        }
                        _ = stopped => {}
                    }
                });
                // The connections still open are dropped with the runtime; their muxing
                // threads see their client gone and end.
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(|e| format!("cannot start the HTTP thread: {e}"))?;
        Ok(Self {
            port,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for HttpPlayback {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An error answer, `{code, message}` like the hub's.
struct Refused {
    status: StatusCode,
    code: &'static str,
    message: String,
}

fn refuse(status: StatusCode, code: &'static str, message: impl Into<String>) -> Refused {
    Refused {
        status,
        code,
        message: message.into(),
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            axum::Json(serde_json::json!({"code": self.code, "message": self.message})),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"watchfloor-recorder\""),
            );
        }
        response
    }
}

/// The range a request asks for: `from` and `to` (RFC 3339), either left out as `default`
/// says, `to` after `from` and at most `longest` after it.
fn range(
    query: &BTreeMap<String, String>,
    default: impl FnOnce(Option<i64>, Option<i64>) -> Result<(i64, i64), Refused>,
    longest: i64,
) -> Result<(i64, i64), Refused> {
    let (from, to) = default(instant(query, "from")?, instant(query, "to")?)?;
    if to <= from || to - from > longest {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!(
                "to: after from, and at most {} after it",
                humantime::format_duration(Duration::from_micros(longest as u64))
            ),
        ));
    }
    Ok((from, to))
}

/// The stream a request names, once its ticket opens exactly that stream's recording.
fn authorised<'a>(
    playback: &'a Playback,
    headers: &HeaderMap,
    camera: &str,
    stream: &str,
) -> Result<&'a Recorded, Refused> {
    authorised_for(playback, headers, camera, stream, StreamMode::Replay)
        .map(|(recorded, _)| recorded)
}

/// The same for a ticket of `mode`, and who the ticket is for.
fn authorised_for<'a>(
    playback: &'a Playback,
    headers: &HeaderMap,
    camera: &str,
    stream: &str,
    mode: StreamMode,
) -> Result<(&'a Recorded, contract::TicketClaims), Refused> {
    let (kind, claims) = ticket_opens(playback, headers, camera, stream, mode)?;
    playback
        .streams
        .get(&(camera.to_owned(), kind))
        .map(|recorded| (recorded, claims))
        .ok_or_else(|| {
            refuse(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{camera}/{stream} is not recorded here"),
            )
        })
}

/// The stream a request names, once its `Authorization: Bearer` ticket opens exactly that
/// stream in `mode`, and who the ticket is for.
fn ticket_opens(
    playback: &Playback,
    headers: &HeaderMap,
    camera: &str,
    stream: &str,
    mode: StreamMode,
) -> Result<(StreamKind, contract::TicketClaims), Refused> {
    let ticket = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, ticket)| ticket.trim())
        });
    let Some(ticket) = ticket else {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            format!(
                "a {} ticket from the hub, as `Authorization: Bearer`",
                mode.as_str()
            ),
        ));
    };
    let asked = StreamKind::parse(stream)
        .filter(|_| events::is_id(camera))
        .map(|kind| Asked {
            camera: camera.to_owned(),
            kind,
            mode,
        })
        .ok_or_else(|| tickets::Refusal::BadPath(format!("/{camera}/{stream}")));
    let kind = asked.as_ref().map(|a| a.kind).ok();
    match (playback.checker.check(ticket, asked), kind) {
        (Some(claims), Some(kind)) => Ok((kind, claims)),
        _ => Err(refuse(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("the ticket does not open this stream ({})", mode.as_str()),
        )),
    }
}

/// A place among the answers being made, or 503 when they are all taken.
fn answer_permit(playback: &Playback) -> Result<tokio::sync::OwnedSemaphorePermit, Refused> {
    playback.answering.clone().try_acquire_owned().map_err(|_| {
        refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!("{MAX_ANSWERS} answers are being made already; ask again shortly"),
        )
    })
}

/// A query's time, in Unix µs.
fn instant(query: &BTreeMap<String, String>, key: &str) -> Result<Option<i64>, Refused> {
    query
        .get(key)
        .map(|text| {
            chrono::DateTime::parse_from_rfc3339(text)
                .map(|t| t.timestamp_micros())
                .map_err(|e| {
                    refuse(
                        StatusCode::BAD_REQUEST,
                        "bad_request",
                        format!("{key}: an RFC 3339 time ({e})"),
                    )
                })
        })
        .transpose()
}

fn rfc3339(us: i64) -> String {
    crate::report::rfc3339(us).unwrap_or_default()
}

async fn timeline(
    State(playback): State<Arc<Playback>>,
    Path((camera, stream)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let asked = authorised(&playback, &headers, &camera, &stream).and_then(|recorded| {
        let now = crate::recording::now_us();
        let (from, to) = range(
            &query,
            |from, to| {
                let to = to.unwrap_or(now);
                Ok((from.unwrap_or(to - 3600 * 1_000_000), to))
            },
            MAX_TIMELINE_US,
        )?;
        Ok((recorded.clone(), from, to))
    });
    let (recorded, from, to) = match asked {
        Ok(asked) => asked,
        Err(refused) => return refused.into_response(),
    };
    let read = tokio::task::spawn_blocking(move || {
        crate::playback::timeline(&recorded.index, &recorded.camera, recorded.kind, from, to)
    })
    .await;
    match read {
        Ok(Ok(timeline)) => axum::Json(RecordingTimeline {
            spans: timeline
                .spans
                .iter()
                .map(|s| RecordedSpan {
                    from: rfc3339(s.start_us),
                    to: rfc3339(s.end_us),
                    camera_clock: s.clock == crate::index::Clock::Camera,
                })
                .collect(),
            gaps: timeline
                .gaps
                .iter()
                .map(|g| RecordingGap {
                    from: rfc3339(g.start_us),
                    to: rfc3339(g.end_us),
                    reason: g.reason.clone(),
                })
                .collect(),
            locks: timeline
                .locks
                .iter()
                .map(|l| RecordingLock {
                    id: l.id.clone(),
                    from: rfc3339(l.start_us),
                    to: rfc3339(l.end_us),
                    reason: l.reason.clone(),
                })
                .collect(),
        })
        .into_response(),
        Ok(Err(e)) => {
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()).into_response()
        }
        Err(e) => {
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()).into_response()
        }
    }
}

async fn media(
    State(playback): State<Arc<Playback>>,
    Path((camera, stream)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let asked = authorised(&playback, &headers, &camera, &stream).and_then(|recorded| {
        let (from, to) = range(
            &query,
            |from, to| match from {
                Some(from) => Ok((from, to.unwrap_or(from + DEFAULT_MEDIA_US))),
                None => Err(refuse(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    "from: required",
                )),
            },
            MAX_MEDIA_US,
        )?;
        Ok((recorded.clone(), from, to))
    });
    let (recorded, from, to) = match asked {
        Ok(asked) => asked,
        Err(refused) => return refused.into_response(),
    };
    let permit = match answer_permit(&playback) {
        Ok(permit) => permit,
        Err(refused) => return refused.into_response(),
    };
    let (chunks, body) = tokio::sync::mpsc::channel::<Chunk>(QUEUED_CHUNKS);
    let (started_tx, started) = tokio::sync::oneshot::channel::<Result<(i64, Codec), MediaError>>();
    tokio::task::spawn_blocking(move || {
        mux(&recorded, from, to, started_tx, chunks);
        drop(permit);
    });
    let (first_us, codec) = match started.await {
        Ok(Ok(started)) => started,
        Ok(Err(MediaError::NotRecorded)) => {
            return refuse(
                StatusCode::NOT_FOUND,
                "not_found",
                "nothing is recorded from that instant to the end asked for",
            )
            .into_response();
        }
        Ok(Err(MediaError::Failed(e))) => {
            tracing::warn!(camera, "HTTP playback: {e}");
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal", e).into_response();
        }
        Err(_) => {
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the recording could not be read",
            )
            .into_response();
        }
    };
    let stream = futures_util::stream::unfold(body, |mut body| async move {
        body.recv()
            .await
            .map(|(_, chunk)| (Ok::<_, std::io::Error>(chunk), body))
    });
    video_answer(axum::body::Body::from_stream(stream), codec, Some(first_us))
}

/// A video answer: fragmented MP4 in `body`, never cached, its codec and (recorded) the capture
/// time of its first frame in the headers a player reads.
fn video_answer(body: axum::body::Body, codec: Codec, first_us: Option<i64>) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(Ok(value)) = first_us.map(|us| HeaderValue::from_str(&rfc3339(us))) {
        headers.insert(contract::MEDIA_START_HEADER, value);
    }
    headers.insert(
        contract::MEDIA_CODEC_HEADER,
        HeaderValue::from_static(codec.name()),
    );
    response
}

async fn live(
    State(playback): State<Arc<Playback>>,
    Path((camera, stream)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let feed = ticket_opens(&playback, &headers, &camera, &stream, StreamMode::Live).and_then(
        |(kind, _)| {
            playback
                .feeds
                .get(&(camera.clone(), kind))
                .cloned()
                .ok_or_else(|| {
                    refuse(
                        StatusCode::NOT_FOUND,
                        "not_found",
                        format!("{camera}/{stream} is not served live here"),
                    )
                })
        },
    );
    let feed = match feed {
        Ok(feed) => feed,
        Err(refused) => return refused.into_response(),
    };
    // An on-demand stream (restreamed, not recorded) connects once watched: its silence says
    // nothing yet.
    let always_connected = playback
        .streams
        .contains_key(&(camera.clone(), feed.kind()));
    let codec = match feed.codec() {
        Some(_) if always_connected && feed.silent_for().is_some_and(|s| s > FEED_SILENT) => None,
        codec => codec,
    };
    let Some(codec) = codec else {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("{camera}/{stream} sends no video now; ask again shortly"),
        )
        .into_response();
    };
    let permit = match answer_permit(&playback) {
        Ok(permit) => permit,
        Err(refused) => return refused.into_response(),
    };
    let (chunks, body) = tokio::sync::mpsc::channel::<Chunk>(LIVE_QUEUED_CHUNKS);
    // Building the pipeline and handing it the cached frames wait on GStreamer and on the
    // feed (which the camera's thread takes too): not on the runtime's threads.
    let started = tokio::task::spawn_blocking(move || {
        let muxer = Muxer::start(codec, chunks, Pace::Live)?;
        feed.watch(&muxer.src);
        Ok::<_, String>(muxer)
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|started| started);
    let muxer = match started {
        Ok(muxer) => muxer,
        Err(e) => {
            tracing::warn!(camera, "HTTP live: {e}");
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal", e).into_response();
        }
    };
    // Dropped with the body: the client went, or its answer ended.
    let (gone, went) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(watch_live(muxer, went, permit));
    // The body holds only the chunks: a client that stops reading holds no pipeline.
    let stream = futures_util::stream::unfold((body, gone), |(mut body, gone)| async move {
        match tokio::time::timeout(LIVE_SILENCE, body.recv()).await {
            Ok(Some((made, _))) if made.elapsed() > LIVE_STALL => {
                tracing::info!("HTTP live: a client fell 3 s behind; let go");
                None
            }
            Ok(Some((_, chunk))) => Some((Ok::<_, std::io::Error>(chunk), (body, gone))),
            Ok(None) => None,
            Err(_) => {
                tracing::info!("HTTP live: nothing to send for 10 s; the answer ends");
                None
            }
        }
    });
    video_answer(axum::body::Body::from_stream(stream), codec, None)
}

/// Runs a live answer's muxing until its body is dropped (the client went, fell behind, or
/// the answer ended), the muxer stops (its client stalled, or it failed), or the answer has
/// run [`LIVE_LONGEST`]; then stops the muxer (the feed lets its viewer go, and the body ends
/// once what is queued is read) and gives back the answer's place.
async fn watch_live(
    muxer: Muxer,
    mut went: tokio::sync::oneshot::Receiver<()>,
    permit: tokio::sync::OwnedSemaphorePermit,
) {
    let began = std::time::Instant::now();
    loop {
        tokio::select! {
            _ = &mut went => break,
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
        if muxer.stopped() || began.elapsed() >= LIVE_LONGEST {
            break;
        }
    }
    // Stopping a pipeline waits for its streaming thread: not on the runtime's.
    let _ = tokio::task::spawn_blocking(move || drop(muxer)).await;
    drop(permit);
}

async fn export(
    State(playback): State<Arc<Playback>>,
    Path((camera, stream)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let asked = authorised_for(&playback, &headers, &camera, &stream, StreamMode::Export).and_then(
        |(recorded, claims)| {
            let (from, to) = range(
                &query,
                |from, to| match (from, to) {
                    (Some(from), Some(to)) => Ok((from, to)),
                    _ => Err(refuse(
                        StatusCode::BAD_REQUEST,
                        "bad_request",
                        "from and to: required",
                    )),
                },
                MAX_EXPORT_US,
            )?;
            let reason = query.get("reason").cloned().unwrap_or_default();
            if reason.trim().is_empty() || reason.len() > 500 {
                return Err(refuse(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    "reason: why the video is exported (at most 500 bytes)",
                ));
            }
            Ok((recorded.clone(), claims.user, from, to, reason))
        },
    );
    let (recorded, user, from_us, to_us, reason) = match asked {
        Ok(asked) => asked,
        Err(refused) => return refused.into_response(),
    };
    let Ok(permit) = playback.exporting.making.clone().try_acquire_owned() else {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!("{EXPORTS_AT_ONCE} exports are being made already; ask again shortly"),
        )
        .into_response();
    };
    let exporting = playback.exporting.clone();
    let made = tokio::task::spawn_blocking(move || {
        let made = export_files(&exporting, &recorded, user, reason, from_us, to_us);
        drop(permit);
        made
    })
    .await;
    match made {
        Ok(Ok(files)) => axum::Json(files).into_response(),
        Ok(Err(Unexported::Failed(crate::export::ExportError::Empty))) => refuse(
            StatusCode::NOT_FOUND,
            "not_found",
            "nothing of that range is recorded",
        )
        .into_response(),
        Ok(Err(Unexported::TooLarge(bytes))) => refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "the range holds {} MiB of video (at most {} MiB an export): export a shorter \
                 range or the sub-stream",
                bytes >> 20,
                MAX_EXPORT_BYTES >> 20
            ),
        )
        .into_response(),
        Ok(Err(Unexported::Failed(e))) => {
            // The reason in the log; the answer says no more than that it failed (no paths).
            tracing::warn!(camera, "export: {e}");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the export could not be made: see the recorder's log",
            )
            .into_response()
        }
        Err(e) => {
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()).into_response()
        }
    }
}

/// Why an export was not answered.
enum Unexported {
    Failed(crate::export::ExportError),
    /// Its video holds this many bytes, more than an answer carries.
    TooLarge(u64),
}

/// Makes the export in a scratch folder, reads its files, and removes it.
fn export_files(
    exporting: &Exporting,
    recorded: &Recorded,
    requested_by: String,
    reason: String,
    from_us: i64,
    to_us: i64,
) -> Result<Vec<contract::NewAttachment>, Unexported> {
    use base64::Engine;
    static MADE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = exporting.scratch.join(format!(
        "{}-{}-{}",
        recorded.camera,
        crate::recording::now_us(),
        MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let request = crate::export::ExportRequest {
        streams: vec![(recorded.camera.clone(), recorded.kind)],
        from_us,
        to_us,
        requested_by,
        reason,
    };
    let made = crate::export::export(
        &recorded.index,
        &recorded.video_dir,
        &exporting.recorder,
        &exporting.signer,
        &request,
        &dir,
        crate::recording::now_us(),
    )
    .map_err(Unexported::Failed)
    .and_then(|manifest| {
        let bytes: u64 = manifest.files.iter().map(|f| f.bytes).sum();
        if bytes > MAX_EXPORT_BYTES {
            return Err(Unexported::TooLarge(bytes));
        }
        let io = |what: &std::path::Path, e: std::io::Error| {
            Unexported::Failed(crate::export::ExportError::Io(
                what.display().to_string(),
                e.to_string(),
            ))
        };
        let mut files = Vec::new();
        let entries = std::fs::read_dir(&dir).map_err(|e| io(&dir, e))?;
        for entry in entries {
            let path = entry.map_err(|e| io(&dir, e))?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let data = std::fs::read(&path).map_err(|e| io(&path, e))?;
            files.push(contract::NewAttachment {
                media_type: media_type(&name).to_owned(),
                name,
                data: base64::engine::general_purpose::STANDARD.encode(data),
            });
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(files)
    });
    let _ = std::fs::remove_dir_all(&dir);
    made
}

/// The MIME type of an export's file, by its name.
fn media_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("mp4") => "video/mp4",
        Some("json") => "application/json",
        Some("pem") => "application/x-pem-file",
        Some("txt") => "text/plain",
        Some("sig") => "application/octet-stream",
        _ if name == "SHA256SUMS" => "text/plain",
        _ => "application/octet-stream",
    }
}

enum MediaError {
    NotRecorded,
    Failed(String),
}

/// The segment holding `from` (or the first after it, if it starts before `to`).
fn first_segment(recorded: &Recorded, from: i64, to: i64) -> Result<Segment, MediaError> {
    recorded
        .index
        .segment_at(&recorded.camera, recorded.kind, from)
        .map_err(|e| MediaError::Failed(e.to_string()))?
        .filter(|s| s.start_us < to)
        .ok_or(MediaError::NotRecorded)
}

/// Remuxes `[from, to)` of `recorded` into fragmented MP4 chunks on `chunks`, telling
/// `started` the capture time of the first frame (or why there is none) first. One recording
/// run: the answer ends where the run does.
fn mux(
    recorded: &Recorded,
    from: i64,
    to: i64,
    started: tokio::sync::oneshot::Sender<Result<(i64, Codec), MediaError>>,
    chunks: tokio::sync::mpsc::Sender<Chunk>,
) {
    let first = match first_segment(recorded, from, to) {
        Ok(first) => first,
        Err(e) => {
            let _ = started.send(Err(e));
            return;
        }
    };
    let Some(codec) = Codec::ALL.into_iter().find(|c| c.name() == first.codec) else {
        let _ = started.send(Err(MediaError::Failed(format!(
            "recorded in {}, which cannot be served",
            first.codec
        ))));
        return;
    };
    let offset = gst::ClockTime::from_useconds((from - first.start_us).max(0) as u64);
    let mut window_start_us = first.start_us;
    let mut reader = match Reader::window(recorded, first, offset) {
        Ok(reader) => reader,
        Err(e) => {
            let _ = started.send(Err(MediaError::Failed(e)));
            return;
        }
    };
    let wanted = || !chunks.is_closed();
    // The first frame: the key frame at or before `from`.
    let first = match reader.next(&wanted) {
        Ok(Next::Frame(sample)) => sample,
        Ok(_) => {
            let _ = started.send(Err(MediaError::NotRecorded));
            return;
        }
        Err(e) => {
            let _ = started.send(Err(MediaError::Failed(e)));
            return;
        }
    };
    let Some(first_ns) = capture_ns(window_start_us, &first) else {
        let _ = started.send(Err(MediaError::Failed("a frame without a time".into())));
        return;
    };
    let muxer = match Muxer::start(codec, chunks.clone(), Pace::Recorded) {
        Ok(muxer) => muxer,
        Err(e) => {
            let _ = started.send(Err(MediaError::Failed(e)));
            return;
        }
    };
    if started.send(Ok(((first_ns / 1000) as i64, codec))).is_err() {
        return;
    }
    // Until `to`, the end of the run, an error, or the client goes. Times only go forward
    // (a window's indexed start may differ from where the last one ended by a little).
    let mut next = Some(first);
    let mut last_ns: Option<u64> = None;
    while let Some(sample) = next.take() {
        match capture_ns(window_start_us, &sample) {
            Some(frame_ns) if frame_ns >= i128::from(to) * 1000 => break,
            Some(frame_ns) => {
                let at = u64::try_from(frame_ns - first_ns).unwrap_or(0);
                let at = last_ns.map_or(at, |last| at.max(last + 1_000));
                last_ns = Some(at);
                if !muxer.push(&sample, at) {
                    break;
                }
            }
            None => {}
        }
        next = match reader.next(&wanted) {
            Ok(Next::Frame(sample)) => Some(sample),
            Ok(Next::Abandoned) => None,
            // The run goes on in its next segments, if they are recorded yet.
            Ok(Next::End) => match next_window(recorded, &reader) {
                Some((start_us, opened)) => {
                    window_start_us = start_us;
                    reader = opened;
                    match reader.next(&wanted) {
                        Ok(Next::Frame(sample)) => Some(sample),
                        _ => None,
                    }
                }
                None => None,
            },
            Err(e) => {
                tracing::warn!(camera = recorded.camera, "HTTP playback: {e}");
                None
            }
        };
    }
    muxer.finish();
}

/// A reader on the segments of the same run after `reader`'s, and where they start.
fn next_window(recorded: &Recorded, reader: &Reader) -> Option<(i64, Reader)> {
    let last = reader.segments.last()?;
    let next = recorded.index.rest_of_run(last, 1).ok()?.pop()?;
    let start_us = next.start_us;
    match Reader::window(recorded, next, gst::ClockTime::ZERO) {
        Ok(reader) => Some((start_us, reader)),
        Err(e) => {
            tracing::warn!(camera = recorded.camera, "HTTP playback: {e}");
            None
        }
    }
}

/// Hands `bytes` to the client's answer, waiting while it is full for at most `stall`;
/// whether the client took it (false: gone, or stalled too long).
fn send_chunk(chunks: &tokio::sync::mpsc::Sender<Chunk>, chunk: Chunk, stall: Duration) -> bool {
    let deadline = std::time::Instant::now() + stall;
    let mut chunk = chunk;
    loop {
        match chunks.try_send(chunk) {
            Ok(()) => return true,
            Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) => return false,
            Err(tokio::sync::mpsc::error::TrySendError::Full(back)) => {
                if std::time::Instant::now() >= deadline {
                    tracing::info!(
                        "HTTP playback: a client read nothing for {} s; given up",
                        stall.as_secs()
                    );
                    return false;
                }
                chunk = back;
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// How a muxer is fed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pace {
    /// From the recording, as fast as the client reads: the reader waits for the muxer.
    Recorded,
    /// From the camera as it sends: the camera never waits (frames beyond a couple of groups
    /// are dropped, and a client that stalls is let go).
    Live,
}

/// `appsrc → parser → mp4mux (fragmented, streamable) → appsink`, its output sent as chunks.
struct Muxer {
    pipeline: gst::Pipeline,
    src: gst_app::AppSrc,
    /// Its client took nothing for too long: it sends no more.
    gave_up: Arc<std::sync::atomic::AtomicBool>,
}

impl Muxer {
    fn start(
        codec: Codec,
        chunks: tokio::sync::mpsc::Sender<Chunk>,
        pace: Pace,
    ) -> Result<Self, String> {
        let make = |name: &str| {
            gst::ElementFactory::make(name)
                .build()
                .map_err(|_| format!("the GStreamer element `{name}` is missing"))
        };
        let src = match pace {
            Pace::Recorded => gst_app::AppSrc::builder()
                .format(gst::Format::Time)
                .is_live(false)
                .block(true)
                .max_buffers(QUEUED_CHUNKS as u64)
                .build(),
            // Room for a whole cached group, as the restream's viewers have.
            Pace::Live => gst_app::AppSrc::builder()
                .format(gst::Format::Time)
                .is_live(true)
                .block(false)
                .max_buffers(GOP_MAX_BUFFERS as u64 * 2)
                .max_bytes(GOP_MAX_BYTES as u64 * 2)
                .leaky_type(gst_app::AppLeakyType::Downstream)
                .build(),
        };
        let (fragment_ms, stall) = match pace {
            Pace::Recorded => (1000u32, CLIENT_STALL),
            Pace::Live => (LIVE_FRAGMENT_MS, LIVE_STALL),
        };
        // JPEG needs no parser.
        let parser = codec.parser().map(make).transpose()?;
        let mux = make("mp4mux")?;
        mux.set_property("fragment-duration", fragment_ms);
        mux.set_property("streamable", true);
        let gave_up = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let giving_up = gave_up.clone();
        let sink = gst_app::AppSink::builder()
            .sync(false)
            .callbacks(
                gst_app::AppSinkCallbacks::builder()
                    .new_sample(move |sink| {
                        let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                        let bytes = sample
                            .buffer()
                            .and_then(|b| b.map_readable().ok().map(|m| m.to_vec()))
                            .unwrap_or_default();
                        // Waits for a slow client, a while; a client gone ends the muxing.
                        if send_chunk(&chunks, (std::time::Instant::now(), bytes), stall) {
                            Ok(gst::FlowSuccess::Ok)
                        } else {
                            giving_up.store(true, std::sync::atomic::Ordering::SeqCst);
                            Err(gst::FlowError::Eos)
                        }
                    })
                    .build(),
            )
            .build();
        let pipeline = gst::Pipeline::new();
        let mut chain: Vec<&gst::Element> = vec![src.upcast_ref()];
        chain.extend(parser.as_ref());
        chain.push(&mux);
        chain.push(sink.upcast_ref());
        pipeline.add_many(&chain).map_err(|e| e.to_string())?;
        gst::Element::link_many(&chain).map_err(|e| e.to_string())?;
        let feeder = parser.as_ref().unwrap_or(src.upcast_ref());
        crate::recording::drop_unstamped(feeder, "HTTP playback".into());
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| format!("cannot start muxing: {e}"))?;
        Ok(Self {
            pipeline,
            src,
            gave_up,
        })
    }

    /// Whether it sends no more: its client stalled, or the muxing ended or failed (logged).
    fn stopped(&self) -> bool {
        if self.gave_up.load(std::sync::atomic::Ordering::SeqCst) {
            return true;
        }
        let Some(message) = self
            .pipeline
            .bus()
            .and_then(|bus| bus.pop_filtered(&[gst::MessageType::Eos, gst::MessageType::Error]))
        else {
            return false;
        };
        if let gst::MessageView::Error(e) = message.view() {
            tracing::warn!("HTTP playback: muxing: {}", e.error());
        }
        true
    }

    /// Pushes `sample` at `at_ns` from the answer's start (the decoding time kept as far
    /// before it as it was); whether the muxer took it (its error is logged when not).
    fn push(&self, sample: &gst::Sample, at_ns: u64) -> bool {
        let Some(buffer) = sample.buffer() else {
            return true;
        };
        let reordered = match (buffer.pts(), buffer.dts()) {
            (Some(pts), Some(dts)) => pts.nseconds().saturating_sub(dts.nseconds()),
            _ => 0,
        };
        let mut out = buffer.copy();
        {
            let out = out.make_mut();
            out.set_pts(gst::ClockTime::from_nseconds(at_ns));
            out.set_dts(gst::ClockTime::from_nseconds(
                at_ns.saturating_sub(reordered),
            ));
            out.unset_flags(gst::BufferFlags::DISCONT);
        }
        let caps = sample.caps_owned();
        let out = gst::Sample::builder()
            .buffer(&out)
            .caps_if_some(caps.as_ref())
            .build();
        let taken = self.src.push_sample(&out).is_ok();
        if !taken
            && let Some(bus) = self.pipeline.bus()
            && let Some(message) = bus.pop_filtered(&[gst::MessageType::Error])
            && let gst::MessageView::Error(e) = message.view()
        {
            tracing::warn!("HTTP playback: muxing: {}", e.error());
        }
        taken
    }

    /// Ends the file and waits for the muxer to write its last fragment (a client that
    /// reads nothing for a while gives it up, see [`send_chunk`]).
    fn finish(self) {
        let _ = self.src.end_of_stream();
        if let Some(bus) = self.pipeline.bus() {
            let _ = bus.timed_pop_filtered(
                gst::ClockTime::from_seconds(CLIENT_STALL.as_secs() + 5),
                &[gst::MessageType::Eos, gst::MessageType::Error],
            );
        }
    }
}

impl Drop for Muxer {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// Every element the HTTP playback creates by name.
pub fn created_elements() -> Vec<&'static str> {
    vec![
        "splitmuxsrc",
        "appsrc",
        "h264parse",
        "h265parse",
        "mp4mux",
        "appsink",
    ]
}
